/*
 * cmdwords.c - the shell's words: deciding that a command needs none, and
 * quoting a value as one word for it.  Spawning /bin/sh
 * costs a second exec per task; a command of plain words means the same
 * thing to the shell as to execvp, so it can skip it.  The test is
 * deliberately conservative: anything the shell would interpret sends the
 * command to the shell.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "alloter.h"

/* Keywords, and builtins of dash and bash that behave differently from
 * (or do not exist as) a program of the same name.  true and false are
 * missing on purpose: /bin/true is exactly the builtin. */
static const char *const shell_words[] = {
	"!", ".", ":", "[", "[[", "]]", "alias", "bg", "break", "builtin",
	"case", "cd", "chdir", "command", "continue", "declare", "do", "done",
	"echo", "elif", "else", "esac", "eval", "exec", "exit", "export", "fc",
	"fg", "fi", "for", "function", "getopts", "hash", "if", "in", "jobs",
	"kill", "let", "local", "printf", "pwd", "read", "readonly", "return",
	"select", "set", "shift", "source", "test", "then", "time", "times",
	"trap", "type", "typeset", "ulimit", "umask", "unalias", "unset",
	"until", "wait", "while",
};

static bool special(unsigned char c)
{
	return c < 0x20 || c == 0x7f || strchr("'\"`$*?[]<>;|&()\\~#{}", c);
}

static bool shell_word(const char *w, size_t n)
{
	for (size_t i = 0; i < sizeof shell_words / sizeof *shell_words; i++)
		if (strlen(shell_words[i]) == n &&
		    memcmp(shell_words[i], w, n) == 0)
			return true;
	return false;
}

int alloter_command_words(const char *command, char ***argv)
{
	size_t len = strlen(command), words = 0, first = 0, k = 0;
	const char *s, *start = NULL;
	char **v, *out;

	*argv = NULL;
	for (s = command; *s; s++) {
		if (*s == ' ' || *s == '\t')
			continue;
		if (special((unsigned char)*s))
			return 0; /* *argv stays NULL: the shell's */
		if (s == command || s[-1] == ' ' || s[-1] == '\t') {
			if (words++ == 0)
				start = s;
		}
		if (words == 1)
			first = (size_t)(s - start) + 1;
	}
	if (words == 0 || memchr(start, '=', first) ||
	    shell_word(start, first))
		return 0; /* the shell's */
	/* One block: the pointers, then the words, NUL-separated. */
	v = malloc((words + 1) * sizeof *v + len + 1);
	if (!v)
		return -ENOMEM;
	out = (char *)(v + words + 1);
	for (s = command; *s;) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			break;
		v[k++] = out;
		while (*s && *s != ' ' && *s != '\t')
			*out++ = *s++;
		*out++ = '\0';
	}
	v[k] = NULL;
	*argv = v;
	return 0;
}

/* Bytes the shell takes as they are anywhere in a word. */
static bool plain_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (c && strchr("_@%+:,./-", c));
}

int alloter_shell_quote(const char *s, size_t n, char **out)
{
	size_t len = 2, i;
	bool plain = n > 0;
	char *p;

	for (i = 0; i < n; i++) {
		plain &= plain_byte((unsigned char)s[i]);
		len += s[i] == '\'' ? 4 : 1;
	}
	if (plain)
		len = n;
	if (!(p = *out = malloc(len + 1)))
		return -ENOMEM;
	if (plain) {
		memcpy(p, s, n);
		p[n] = '\0';
		return 0;
	}
	/* Single quotes keep every byte but the single quote itself: end
	 * the quotes, an escaped quote, quote again. */
	*p++ = '\'';
	for (i = 0; i < n; i++) {
		if (s[i] == '\'') {
			memcpy(p, "'\\''", 4);
			p += 4;
		} else {
			*p++ = s[i];
		}
	}
	*p++ = '\'';
	*p = '\0';
	return 0;
}
