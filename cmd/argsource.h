/*
 * argsource.h - where a template's arguments come from: lists (:::),
 * files (::::, -a), standard input; their cartesian product, linked
 * sources (:::+) taken side by side, several arguments per task (-N), and
 * columns (--colsep).  The first source is read as the tasks start, so
 * memory does not grow with the arguments already run.
 */
#ifndef CMD_ARGSOURCE_H
#define CMD_ARGSOURCE_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

#include "linereader.h"

struct arg_source {
	const char *what;     /* for messages: ":::", or the file's name */
	bool linked;          /* :::+ or ::::+: side by side with the one
	                         before it */
	bool is_file;
	const char *path;     /* is_file: "-" for standard input */
	char **v;             /* the values, when held in memory */
	size_t n, cap;
	bool streamed;        /* the first source, read as the run goes */
	struct lines lines;
};

struct args {
	struct arg_source *src;
	size_t n_src;
	char delim;           /* between the records of a file: '\n' or NUL */
	size_t max_args;      /* -N: records per task */
	bool has_colsep;
	regex_t colsep;
	/* The iteration, over groups of linked sources: */
	size_t n_groups;
	size_t *first;        /* group g holds sources first[g]..first[g+1]-1 */
	size_t *len;          /* group g's length (its shortest source) */
	size_t *idx;          /* where each group is */
	char *rec0;           /* the current record of a streamed first
	                         source */
	bool rec0_nul;        /* it held a NUL */
	bool started, done;
	/* The task being put together, and what args_next hands out: */
	char **out;
	size_t n_out, cap_out, records;
	bool nul;
};

/* Splits the command words into the template's (*n_template of them, the
 * words before the first source) and the sources after them; files given
 * with -a (n_files of them) come first.  Returns 0, -ENOMEM, or -EINVAL
 * with msg filled in. */
int args_parse(struct args *a, char **words, int n, int *n_template,
               char *const *files, size_t n_files, char *msg, size_t len);
/* Whether w begins a source: :::, :::+, :::: or ::::+. */
bool args_is_marker(const char *w);
/* A source on standard input alone (a template with no source given). */
int args_stdin(struct args *a);
/* Opens the files and reads every source but the first into memory.
 * Returns 0, or -errno with msg saying which file. */
int args_open(struct args *a, char *msg, size_t len);
/* The descriptor to poll when args_next says -EAGAIN, or -1. */
int args_fd(const struct args *a);
/* The arguments of the next task: 0 with *v (valid until the next call)
 * and *n, and *nul set if one held a NUL byte; -EAGAIN when the first
 * source has no whole record yet; -ENODATA at the end; or another negative
 * errno value. */
int args_next(struct args *a, char ***v, size_t *n, bool *nul);
/* How many tasks there will be, when that is known without reading the
 * first source: 0 and *total, or -1. */
int args_total(const struct args *a, size_t *total);
/* How many values a task has at most (for {N}), or 0 with --colsep, whose
 * column count varies. */
size_t args_width(const struct args *a);
/* The source that left no task to run, for the message that says so. */
const char *args_empty_source(const struct args *a);
void args_free(struct args *a);

#endif
