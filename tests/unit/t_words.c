/*
 * t_words.c - alloter_command_words: which commands run without a shell,
 * and the words they are split into.
 */
#include <stdlib.h>

#include "alloter.h"
#include "tap.h"

/* Checks that command is plain and splits into the want words (NULL-ended). */
static void plain(const char *command, const char *const *want)
{
	char **argv = NULL;
	int n = alloter_command_words(command, &argv);
	size_t i = 0;
	bool same = n == 0 && argv;

	while (same && want[i] && argv[i] && strcmp(want[i], argv[i]) == 0)
		i++;
	same = same && !want[i] && !argv[i];
	ok(same, "plain: [%s]", command);
	free(argv);
}

static void needs_shell(const char *command, const char *why)
{
	char **argv = (char **)"not touched", shown[64];
	size_t i;

	/* A control character would break the TAP line. */
	for (i = 0; command[i] && i < sizeof shown - 1; i++)
		shown[i] = (unsigned char)command[i] < 0x20 ? '?' : command[i];
	shown[i] = '\0';
	is_int(alloter_command_words(command, &argv), 0, "shell (%s): [%s]",
	       why, shown);
	ok(argv == NULL, "  and no words are returned");
}

#define W(...) ((const char *const[]){__VA_ARGS__, NULL})

int main(void)
{
	plain("true", W("true"));
	plain("false", W("false"));
	plain("/bin/echo x", W("/bin/echo", "x"));
	plain("  ls \t -l   /tmp  ", W("ls", "-l", "/tmp"));
	plain("env A=1 prog", W("env", "A=1", "prog"));
	plain("gzip -9 --suffix=.z a,b.txt @list %x +y", W("gzip", "-9",
	      "--suffix=.z", "a,b.txt", "@list", "%x", "+y"));
	plain("./run.sh -", W("./run.sh", "-"));
	plain("trueish", W("trueish")); /* a builtin's prefix is no builtin */
	plain("caf\xc3\xa9 \xff", W("caf\xc3\xa9", "\xff"));

	needs_shell("", "no words");
	needs_shell(" \t ", "no words");
	/* Builtins and keywords that differ from (or are not) programs. */
	needs_shell("echo hi", "builtin");
	needs_shell("printf x", "builtin");
	needs_shell("cd /", "builtin");
	needs_shell("exit 3", "builtin");
	needs_shell("kill 1", "builtin");
	needs_shell("test -e x", "builtin");
	needs_shell("[ -e x ]", "builtin");
	needs_shell(". ./env.sh", "builtin");
	needs_shell(": x", "builtin");
	needs_shell("exec ls", "builtin");
	needs_shell("command ls", "builtin");
	needs_shell("export A=1", "builtin");
	needs_shell("ulimit -n 10", "builtin");
	needs_shell("time ls", "keyword");
	needs_shell("! true", "keyword");
	needs_shell("if", "keyword");
	needs_shell("while", "keyword");
	/* An assignment before the command. */
	needs_shell("A=1 prog", "assignment");
	/* Everything the shell would expand or interpret. */
	needs_shell("ls *.c", "glob");
	needs_shell("ls a?", "glob");
	needs_shell("ls [ab]", "glob");
	needs_shell("ls ~", "tilde");
	needs_shell("prog $HOME", "parameter");
	needs_shell("prog `date`", "command substitution");
	needs_shell("prog $(date)", "command substitution");
	needs_shell("prog 'a b'", "quotes");
	needs_shell("prog \"a\"", "quotes");
	needs_shell("prog a\\ b", "backslash");
	needs_shell("prog > f", "redirection");
	needs_shell("prog < f", "redirection");
	needs_shell("prog | q", "pipe");
	needs_shell("prog; q", "list");
	needs_shell("prog & q", "background");
	needs_shell("prog && q", "and-list");
	needs_shell("(prog)", "subshell");
	needs_shell("{ prog; }", "group");
	needs_shell("prog # note", "comment");
	needs_shell("prog\nq", "newline");
	needs_shell("prog\rq", "control character");

	printf("1..%d\n", tap_n);
	return tap_failed != 0;
}
