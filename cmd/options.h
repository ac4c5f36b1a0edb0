/*
 * options.h - the command line, parsed and checked, before anything runs.
 */
#ifndef CMD_OPTIONS_H
#define CMD_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "alloter.h"

/* A field left unset by the command line stays at -1 (or NULL), so that a
 * task file's setting can fill it in. */
/* The largest -j, and task-file limit, taken. */
#define LIMIT_MAX 1000000

struct options {
	int limit;
	int64_t timeout_ms, task_timeout_ms, grace_ms;
	int fail_fast, kill_others, tag;
	int output;           /* an alloter_output_mode, or -1 */
	bool quiet, dry_run, keep_order, progress, shell_always;
	int color;            /* COLOR_AUTO, COLOR_ALWAYS, COLOR_NEVER */
	int ci;               /* CI_AUTO, CI_GITHUB, CI_GITLAB, CI_NONE */
	const char *file;     /* -f: a task file, "-" for stdin */
	const char *joblog;   /* --joblog FILE */
	bool joblog_append;   /* --joblog +FILE, or the file of --resume */
	const char *report;   /* --report FILE */
	const char *results;  /* --results DIR */
	const char *timeline; /* --timeline FILE */
	const char *timeline_from; /* --timeline-from REPORT */
	const char *hosts;    /* -S LIST */
	const char *hosts_file;
	const char *ssh;      /* --ssh CMD */
	bool slurm;           /* --slurm */
	const char *slurm_args; /* --slurm-args ARGS */
	/* Rerun and pacing policies (-1 or NULL: not given): */
	int retries;          /* -r */
	struct alloter_backoff retry_delay;
	bool has_retry_delay;
	struct alloter_halt halt;  /* when == NEVER: not given */
	int64_t delay_ms;
	double load;          /* --load, or -1 */
	int64_t memfree;      /* --memfree bytes, or -1 */
	const char *resume;   /* --resume or --resume-failed FILE */
	bool resume_failed;
	/* --pipe: standard input cut into blocks (blocks.h) */
	bool pipe;
	int64_t block;        /* --block bytes, or -1 */
	const char *recend;   /* --recend, or NULL */
	/* Templates and their arguments (template.h, argsource.h): */
	char **arg_files;     /* -a FILE, in order */
	size_t n_arg_files;
	bool null;            /* -0: records end with NUL, not newline */
	const char *colsep;   /* --colsep REGEX */
	int max_args;         /* -N; 0: not given */
	const char *replace;  /* -I STR; NULL: {} */
	const char *tagstring;
	char **commands;      /* the COMMAND arguments */
	int n_commands;
};

#define OPTIONS_RUN (-1)

enum { COLOR_AUTO, COLOR_ALWAYS, COLOR_NEVER };
/* In the order of --ci's words. */
enum { CI_AUTO, CI_GITHUB, CI_GITLAB, CI_NONE };

/* Parses argv into o.  The options end at the first word that is not one
 * (or after "--"): o->commands then points into argv at that word, so argv
 * must outlive o; options_free(o) follows.  Returns OPTIONS_RUN to go on,
 * or an exit status (0 after --help or --version, 2 after a usage error,
 * already reported). */
int options_parse(struct options *o, int argc, char **argv);
/* Whether any option asks for a template's arguments (-0 aside, which
 * also applies to commands read from standard input). */
bool options_template(const struct options *o);
void options_free(struct options *o);

#endif
