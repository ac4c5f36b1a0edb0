/*
 * input.c - where the jobs come from: a task file, commands given as
 * arguments, a template over its input sources, or commands on standard
 * input.  The rule that chooses is here, and every check of a template
 * that can fail before anything runs.
 */
#include <errno.h>
#include <poll.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "input.h"

static int bad(const char *msg)
{
	fprintf(stderr, "alloter: %s\nTry 'alloter --help' for more "
	        "information.\n", msg);
	return 2;
}

static int no_memory(void)
{
	fprintf(stderr, "alloter: %s\n", strerror(ENOMEM));
	return 2;
}

/* The template's words, joined by spaces as GNU parallel joins them. */
static char *join(char **words, int n)
{
	size_t len = 1;
	char *s, *p;

	for (int i = 0; i < n; i++)
		len += strlen(words[i]) + 1;
	if (!(s = p = malloc(len)))
		return NULL;
	*p = '\0';
	for (int i = 0; i < n; i++)
		p = stpcpy(stpcpy(p, i ? " " : ""), words[i]);
	return s;
}

static bool has_source(const struct options *o)
{
	for (int i = 0; i < o->n_commands; i++)
		if (args_is_marker(o->commands[i]))
			return true;
	return o->n_arg_files > 0;
}

/* The template and its sources; returns 0 or an exit status. */
static int set_up_template(struct run *r, const struct options *o)
{
	const char *replace = o->replace ? o->replace : "{}";
	struct args *a = &r->args;
	char msg[512], *text;
	int n_words, err;
	size_t width;

	err = args_parse(a, o->commands, o->n_commands, &n_words, o->arg_files,
	                 o->n_arg_files, msg, sizeof msg);
	if (err == -EINVAL)
		return bad(msg);
	if (err || (!a->n_src && args_stdin(a)))
		return no_memory();
	a->delim = o->null ? '\0' : '\n';
	a->max_args = o->max_args ? (size_t)o->max_args : 1;
	if (o->colsep) {
		if ((err = regcomp(&a->colsep, o->colsep, REG_EXTENDED))) {
			char why[256];

			regerror(err, &a->colsep, why, sizeof why);
			snprintf(msg, sizeof msg, "--colsep '%s': %s", o->colsep,
			         why);
			return bad(msg);
		}
		a->has_colsep = true;
	}
	if (!(text = join(o->commands, n_words)))
		return no_memory();
	err = template_compile(&r->tpl, text, replace, true);
	free(text);
	if (!err && r->set.tag)
		err = template_compile(&r->tag_tpl,
		                       o->tagstring ? o->tagstring : replace,
		                       replace, false);
	if (err)
		return no_memory();
	width = args_width(a);
	if (width && r->tpl.max_pos > width) {
		snprintf(msg, sizeof msg, "{%u}: a task has only %zu "
		         "argument%s (%zu input source%s%s)", r->tpl.max_pos,
		         width, width == 1 ? "" : "s", a->n_src,
		         a->n_src == 1 ? "" : "s",
		         a->max_args > 1 ? " times -N" : "");
		return bad(msg);
	}
	if (args_open(a, msg, sizeof msg)) {
		fprintf(stderr, "alloter: %s\n", msg);
		return 2;
	}
	run_from_template(r);
	return 0;
}

/* Whether standard input is a pipe or a regular file with data waiting:
 * given commands never read it, which someone piping arguments in would
 * not expect. */
static bool input_waiting(void)
{
	struct pollfd p = {.fd = 0, .events = POLLIN};
	struct stat st;
	off_t at;

	if (fstat(0, &st) < 0)
		return false;
	if (S_ISREG(st.st_mode))
		return (at = lseek(0, 0, SEEK_CUR)) >= 0 && st.st_size > at;
	return S_ISFIFO(st.st_mode) && poll(&p, 1, 0) == 1 &&
	       (p.revents & POLLIN);
}

/* --pipe: the words are one command, fed the blocks of stdin. */
static int set_up_pipe(struct run *r, const struct options *o)
{
	static const char nul[1] = {'\0'};
	char *command;

	if (has_source(o))
		return bad("--pipe: no input source (:::, ::::, -a) with it: "
		           "its input is standard input");
	if (!(command = join(o->commands, o->n_commands)))
		return no_memory();
	run_from_pipe(r, 0, command, o->block > 0 ? (size_t)o->block : 1 << 20,
	              o->recend ? o->recend : o->null ? nul : "\n",
	              o->recend ? strlen(o->recend) : 1);
	return 0;
}

int input_set_up(struct run *r, const struct options *o,
                 const struct alloter_taskfile *tf)
{
	const char *replace = o->replace ? o->replace : "{}";
	bool templated = has_source(o) || options_template(o) ||
	                 (o->null && o->n_commands);
	int err;

	if (o->pipe)
		return set_up_pipe(r, o);
	for (int i = 0; !templated && i < o->n_commands; i++)
		templated = template_has_replacement(o->commands[i], replace);
	if (tf)
		err = run_from_taskfile(r, tf);
	else if (templated)
		return set_up_template(r, o);
	else if (o->n_commands) {
		err = run_from_argv(r, o->commands, o->n_commands);
		if (!o->quiet && input_waiting())
			fprintf(stderr, "alloter: standard input is not read when "
			        "commands are given; to run a command once per "
			        "input line, write {} where the line goes: "
			        "alloter echo {}\n");
	}
	else
		return run_from_stream(r, 0, o->null ? '\0' : '\n'), 0;
	if (err) {
		fprintf(stderr, "alloter: cannot start: %s\n", strerror(-err));
		return 2;
	}
	return 0;
}

size_t input_total(const struct run *r)
{
	size_t total = 0;

	if (r->templated)
		return args_total(&r->args, &total) == 0 ? total : 0;
	return r->n_jobs;
}

void input_none(const struct run *r)
{
	if (r->templated && r->seq == 0 && !r->read_err && !r->set.quiet)
		fprintf(stderr, "alloter: no arguments (%s is empty); nothing "
		        "to run\n", args_empty_source(&r->args));
}
