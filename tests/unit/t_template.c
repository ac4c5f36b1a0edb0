/*
 * t_template.c - command templates: which strings are replaced, the path
 * operations (against GNU parallel 20221122's results), quoting checked by
 * /bin/sh itself, and direct argv that agrees with what the shell makes of
 * the quoted command.
 */
#include <stdio.h>
#include <stdlib.h>

#include "tap.h"
#include "template.h"

static char *expand(const char *text, const char *replace, char **v,
                    size_t n, bool quote)
{
	struct template t;
	struct tpl_args a = {v, n, 7, 3};
	char *out = NULL;

	if (template_compile(&t, text, replace, true) == 0)
		template_command(&t, &a, quote, &out);
	template_free(&t);
	return out;
}

static void is_expansion(const char *text, const char *arg, const char *want)
{
	char *v[] = {(char *)arg, NULL};
	char *got = expand(text, "{}", v, 1, false);

	is_str(got, want, "[%s] of [%s] is [%s]", text, arg, want);
	free(got);
}

static void replacement_strings(void)
{
	static const struct {
		const char *text;
		bool yes;
	} cases[] = {
		{"{}", true},       {"a{.}b", true},   {"{/}", true},
		{"{//}", true},     {"{/.}", true},    {"{#}", true},
		{"{%}", true},      {"{1}", true},     {"{12/.}", true},
		{"{3//}", true},    {"{0}", false},    {"{foo}", false},
		{"${x}", false},    {"{ }", false},    {"{1..3}", false},
		{"{ echo; }", false}, {"awk '{print $1}'", false},
		{"{01}", false},    {"{-1}", false},   {"", false},
	};

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
		ok(template_has_replacement(cases[i].text, "{}") == cases[i].yes,
		   "[%s] %s a replacement string", cases[i].text,
		   cases[i].yes ? "holds" : "does not hold");
	ok(!template_has_replacement("echo {}", "XX"),
	   "with -I XX, {} is plain text");
	ok(template_has_replacement("echo aXXb", "XX"),
	   "with -I XX, XX is replaced anywhere");
	ok(template_has_replacement("echo {.}", "XX"),
	   "with -I XX, {.} is still replaced");
}

/* Each row: the argument, then {}, {.}, {/}, {//}, {/.} as GNU parallel
 * 20221122 gives them, but for the rows marked: a name that begins with
 * '.' has no extension here (GNU parallel empties .bashrc). */
static void path_operations(void)
{
	static const char *const rows[][6] = {
		{".bashrc", ".bashrc", ".bashrc", ".bashrc", ".", ".bashrc"},
		{"a.tar.gz", "a.tar.gz", "a.tar", "a.tar.gz", ".", "a.tar"},
		{"dir.d/file", "dir.d/file", "dir.d/file", "file", "dir.d",
		 "file"},
		{"file.", "file.", "file", "file.", ".", "file"},
		{"a/b/", "a/b/", "a/b/", "", "a", ""},
		{"/", "/", "/", "", "/", ""},
		{"", "", "", "", ".", ""},
		{"a/.x", "a/.x", "a/.x", ".x", "a", ".x"},
		{"./a", "./a", "./a", "a", ".", "a"},
		{"../a.b", "../a.b", "../a", "a.b", "..", "a"},
		{"a//b", "a//b", "a//b", "b", "a", "b"},
		{"//a", "//a", "//a", "a", "/", "a"},
		{"/a.b", "/a.b", "/a", "a.b", "/", "a"},
		{"a b.c/d e.f", "a b.c/d e.f", "a b.c/d e", "d e.f", "a b.c",
		 "d e"},
		{"..", "..", ".", "..", ".", "."},
		{"...", "...", "..", "...", ".", ".."},
	};
	static const char *const ops[] = {"{}", "{.}", "{/}", "{//}", "{/.}"};
	char text[16];

	for (size_t r = 0; r < sizeof rows / sizeof *rows; r++)
		for (size_t k = 0; k < 5; k++)
			is_expansion(ops[k], rows[r][0], rows[r][k + 1]);
	for (size_t k = 0; k < 5; k++) {
		snprintf(text, sizeof text, "{2%s", ops[k] + 1);
		{
			char *v[] = {"x", "d/e.f", NULL};
			char *got = expand(text, "{}", v, 2, false);
			static const char *const want[] = {"d/e.f", "d/e", "e.f",
			                                   "d", "e"};

			is_str(got, want[k], "%s takes the second argument",
			       text);
			free(got);
		}
	}
}

static void sequence_slot_and_positions(void)
{
	char *v[] = {"a", "b", "c", NULL}, *got;

	got = expand("x {#} {%} {3}{1} {4}.", "{}", v, 3, true);
	is_str(got, "x 7 3 ca ''.", "{#}, {%%}, {N}; a missing {N} is empty");
	free(got);
	got = expand("echo", "{}", v, 3, true);
	is_str(got, "echo a b c", "no replacement string: {} is appended");
	free(got);
	got = expand("echo XX {}", "XX", v, 1, true);
	is_str(got, "echo a {}", "-I XX: XX is the argument, {} is text");
	free(got);
	got = expand("", "{}", (char *[]){"make lint", "-j2", NULL}, 2, true);
	is_str(got, "make lint -j2", "an empty template runs the arguments "
	       "as a command, unquoted");
	free(got);
}

/* What /bin/sh makes of the words of command: NUL-separated. */
static size_t shell_words(const char *command, char *out, size_t len)
{
	char *script;
	FILE *p;
	size_t n;

	if (asprintf(&script, "set -- %s; printf '%%s\\0' \"$@\"", command) < 0)
		return 0;
	p = popen(script, "r");
	free(script);
	if (!p)
		return 0;
	n = fread(out, 1, len, p);
	pclose(p);
	return n;
}

/* The hostile values: every one must reach the command as itself. */
static const char *const hostile[] = {
	"a b", "it's", "\"q\"", "$HOME", "`id`", "$(id)", "*", "?", "[a]",
	"a;b", "a|b", "a&b", ">x", "<x", "a\nb", "\ttab", "-rf", "--", "~",
	"#c", "x=1", "\\", "'", "''", "", " ", "\xff\xfe", "{}", "!", "%s",
};

static void quoting(void)
{
	struct template t;
	char buf[4096], *cmd, **argv;

	for (size_t i = 0; i < sizeof hostile / sizeof *hostile; i++) {
		char *v[] = {(char *)hostile[i], (char *)hostile[i], NULL};
		struct tpl_args a = {v, 1, 1, 1};
		size_t n, k, off = 0;
		bool same;

		template_compile(&t, "cmd -x {} y{1}z", "{}", true);
		ok(t.direct, "a template of plain words runs without a shell");
		template_command(&t, &a, true, &cmd);
		template_argv(&t, &a, &argv);
		n = shell_words(cmd + 4, buf, sizeof buf);
		/* The shell's words, one by one, against argv[1..]. */
		same = true;
		for (k = 1; argv[k]; k++) {
			size_t wl = strlen(argv[k]);

			same &= off + wl < n && memcmp(buf + off, argv[k], wl) == 0
			        && buf[off + wl] == '\0';
			off += wl + 1;
		}
		same &= off == n && k == 4;
		ok(same, "value %zu: the shell's words of the quoted command "
		   "are the direct argv", i);
		ok(strcmp(argv[2], hostile[i]) == 0,
		   "value %zu reaches the command as one word, byte for byte",
		   i);
		free(cmd);
		free(argv);
		template_free(&t);
	}
}

static void direct_or_shell(void)
{
	static const struct {
		const char *text;
		bool direct;
	} cases[] = {
		{"gzip -9 {}", true},       {"/bin/true {}", true},
		{"convert {} {.}.jpg", true}, {"{} --version", false},
		{"echo {}", false},         {"cat {} | wc -l", false},
		{"x=1 cmd {}", false},      {"cmd \"{}\"", false},
		{"cmd {}; true", false},    {"cmd a{}b", true},
	};
	struct template t;

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		template_compile(&t, cases[i].text, "{}", true);
		ok(t.direct == cases[i].direct, "[%s] runs %s", cases[i].text,
		   cases[i].direct ? "directly" : "through the shell");
		template_free(&t);
	}
}

static void several_values(void)
{
	struct template t;
	char *v[] = {"a b", "c", NULL}, **argv, *cmd;
	struct tpl_args a = {v, 2, 1, 1};

	template_compile(&t, "cmd x{}y", "{}", true);
	template_command(&t, &a, true, &cmd);
	is_str(cmd, "cmd x'a b' cy", "{} of several arguments: each quoted, "
	       "separated by a space");
	template_argv(&t, &a, &argv);
	ok(argv[0] && argv[1] && argv[2] && !argv[3] &&
	   strcmp(argv[1], "xa b") == 0 && strcmp(argv[2], "cy") == 0,
	   "and as argv, the same words the shell makes");
	free(cmd);
	free(argv);
	template_free(&t);
}

int main(void)
{
	replacement_strings();
	path_operations();
	sequence_slot_and_positions();
	quoting();
	direct_or_shell();
	several_values();
	printf("1..%d\n", tap_n);
	return tap_failed != 0;
}
