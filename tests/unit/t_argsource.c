/*
 * t_argsource.c - input sources: the cartesian product (first source
 * outermost), linked sources (up to the shortest, as GNU parallel 20221122
 * takes them), -N, --colsep, files and NUL-separated records, and the
 * errors that stop a run before it starts.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "argsource.h"
#include "tap.h"

/* Runs the words through the sources; the tasks' arguments come back as
 * "a,b;c,d;" (values of a task joined by ',', tasks ended by ';'). */
static int tasks(char **words, int n, char *const *files, size_t n_files,
                 char delim, size_t max_args, const char *colsep,
                 char *out, size_t len)
{
	struct args a;
	char msg[256], **v;
	size_t nv, used = 0;
	bool nul;
	int n_tpl, err;

	out[0] = '\0';
	if ((err = args_parse(&a, words, n, &n_tpl, files, n_files, msg,
	                      sizeof msg)))
		goto out;
	a.delim = delim;
	a.max_args = max_args;
	if (colsep) {
		regcomp(&a.colsep, colsep, REG_EXTENDED);
		a.has_colsep = true;
	}
	if ((err = args_open(&a, msg, sizeof msg)))
		goto out;
	while ((err = args_next(&a, &v, &nv, &nul)) == 0) {
		for (size_t k = 0; k < nv; k++)
			used += (size_t)snprintf(out + used, len - used, "%s%s",
			                         k ? "," : "", v[k]);
		used += (size_t)snprintf(out + used, len - used, ";");
	}
	if (err == -ENODATA)
		err = 0;
out:
	if (err)
		printf("# %s\n", msg); /* the reason, beside the TAP line */
	args_free(&a);
	return err;
}

#define W(...) (char *[]){__VA_ARGS__}, (int)(sizeof((char *[]){__VA_ARGS__}) / sizeof(char *))

static void products(void)
{
	char out[512];

	tasks(W("echo", ":::", "a", "b", ":::", "1", "2"), NULL, 0, '\n', 1,
	      NULL, out, sizeof out);
	is_str(out, "a,1;a,2;b,1;b,2;", "two sources: the cartesian product, "
	       "the first outermost");
	tasks(W(":::", "a", "b", "c", ":::+", "1", "2"), NULL, 0, '\n', 1,
	      NULL, out, sizeof out);
	is_str(out, "a,1;b,2;", ":::+ links to the source before it, up to "
	       "the shorter");
	tasks(W(":::", "x", "y", ":::", "a", "b", ":::+", "1", "2"), NULL, 0,
	      '\n', 1, NULL, out, sizeof out);
	is_str(out, "x,a,1;x,b,2;y,a,1;y,b,2;", "a linked pair is one axis of "
	       "the product");
	tasks(W(":::", "a", "b", ":::", "1", "2", ":::", "x", "y"), NULL, 0, '\n',
	      1, NULL, out, sizeof out);
	is_str(out, "a,1,x;a,1,y;a,2,x;a,2,y;b,1,x;b,1,y;b,2,x;b,2,y;",
	       "three sources: the last turns fastest");
	tasks(W(":::", "a", "b", "c", "d", "e"), NULL, 0, '\n', 2, NULL, out,
	      sizeof out);
	is_str(out, "a,b;c,d;e;", "-N 2: two arguments a task, the last one "
	       "short");
	tasks(W(":::", "a", ":::"), NULL, 0, '\n', 1, NULL, out, sizeof out);
	is_str(out, "", "an empty source: no task at all");
	tasks(W(":::", "a,b", "c"), NULL, 0, '\n', 1, ",", out, sizeof out);
	is_str(out, "a,b;c;", "--colsep splits each argument into columns");
	tasks(W(":::", "a::b:", "c"), NULL, 0, '\n', 1, ":+", out, sizeof out);
	is_str(out, "a,b,;c;", "--colsep takes an extended regex, and a "
	       "trailing separator leaves an empty column");
	tasks(W(":::", "abc"), NULL, 0, '\n', 1, "x*", out, sizeof out);
	is_str(out, "abc;", "a --colsep that matches the empty string splits "
	       "nothing there");
}

static void files(void)
{
	char path[] = "/tmp/t_argsource.XXXXXX", out[512];
	int fd = mkstemp(path);
	char *file[] = {path};

	ok(write(fd, "l1\nl 2\n\nlast", 12) == 12, "a file of lines");
	close(fd);
	tasks(W("cmd", "::::", path), NULL, 0, '\n', 1, NULL, out, sizeof out);
	is_str(out, "l1;l 2;;last;", ":::: FILE: one argument a line, an "
	       "empty line too, and a last line without a newline");
	tasks(W("cmd"), file, 1, '\n', 1, NULL, out, sizeof out);
	is_str(out, "l1;l 2;;last;", "-a FILE reads the same");
	tasks(W("cmd", ":::", "x", "y"), file, 1, '\n', 1, NULL, out,
	      sizeof out);
	is_str(out, "l1,x;l1,y;l 2,x;l 2,y;,x;,y;last,x;last,y;",
	       "-a sources come before ::: ones, and a streamed file is the "
	       "outer axis");
	tasks(W(":::", "x", "y", "::::", path), NULL, 0, '\n', 1, NULL, out,
	      sizeof out);
	is_str(out, "x,l1;x,l 2;x,;x,last;y,l1;y,l 2;y,;y,last;",
	       "a file as an inner axis is read whole");
	fd = open(path, O_WRONLY | O_TRUNC);
	ok(write(fd, "a b\0c\nd\0", 8) == 8, "a file of NUL-separated records");
	close(fd);
	tasks(W("::::", path), NULL, 0, '\0', 1, NULL, out, sizeof out);
	is_str(out, "a b;c\nd;", "-0: records end at NUL, newlines are kept");
	unlink(path);
	is_int(tasks(W("::::", path), NULL, 0, '\n', 1, NULL, out, sizeof out),
	       -ENOENT, "a file that cannot be opened fails before any task");
}

static void errors(void)
{
	struct args a;
	char msg[256];
	int n;

	is_int(args_parse(&a, W(":::+", "a"), &n, NULL, 0, msg, sizeof msg),
	       -EINVAL, ":::+ with no source before it is refused");
	ok(strstr(msg, "no input source before it"), "and says why: %s", msg);
	args_free(&a);
	is_int(args_parse(&a, W("cmd", "::::"), &n, NULL, 0, msg, sizeof msg),
	       -EINVAL, ":::: without a file is refused");
	args_free(&a);
	is_int(args_parse(&a, W("echo", "{}", ":::", "a"), &n, NULL, 0, msg,
	                  sizeof msg),
	       0, "the words before the first source are the template's");
	is_int(n, 2, "two of them");
	is_int(args_width(&a), 1, "one source: {1} at most");
	args_free(&a);
}

int main(void)
{
	products();
	files();
	errors();
	printf("1..%d\n", tap_n);
	return tap_failed != 0;
}
