/*
 * run.h - a run: the tasks (from arguments, standard input or a task file),
 * the settings in force, and what happened to each task.
 */
#ifndef CMD_RUN_H
#define CMD_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "alloter.h"
#include "hosts.h"
#include "lines.h"

/* The settings in force: the command line over the task file over the
 * defaults. */
struct settings {
	int limit;
	int64_t timeout_ms, task_timeout_ms, grace_ms;
	bool fail_fast, kill_others, tag, quiet, keep_order;
	bool color_err;        /* colour failure lines */
	bool direct;           /* exec plain commands without the shell */
	enum alloter_output_mode output;
	const char *shell;     /* NULL: /bin/sh */
};

#define FAILURES_LISTED 50  /* the summary names at most this many */

enum job_state {
	JOB_PENDING = 0,
	JOB_RUNNING,
	JOB_SUCCEEDED,
	JOB_FAILED,
	JOB_SKIPPED,
};

struct job {
	struct alloter_proc proc;
	const char *name;
	char *command;          /* owned when read from stdin */
	char seq_name[24];      /* the name when it is a sequence number */
	char **argv;            /* the words of a plain command, or NULL */
	size_t index;           /* 1-based */
	int attempts, retries;
	enum job_state state;
	/* Where the current attempt runs, when there are hosts: */
	char **pins;            /* the hosts it may use (task file), or NULL */
	struct host *host;
	char **rargv;           /* ssh's command line, or NULL */
	char *payload;          /* what the remote wrapper reads */
	char *tag;              /* "host:name" */
	char *log;              /* ssh's own messages */
	int64_t start_at_ms;    /* monotonic: ssh starts no sooner (pacing) */
	const char *refused;    /* why it fails without running, or NULL */
};

struct run {
	struct settings set;
	alloter_output *out;
	alloter_cancel *root;
	/* Tasks known up front (arguments, a task file): */
	struct job *jobs;
	size_t n_jobs;
	alloter_graph *graph;
	size_t *retry;          /* a ring of job ids to run again */
	size_t retry_cap, retry_head, retry_len;
	size_t running;
	struct hosts *hosts;    /* NULL: everything runs here */
	/* Tasks streamed from standard input: */
	bool streaming;
	struct lines lines;
	int read_err;
	size_t seq;
	/* Where it is told: */
	struct joblog *joblog;
	struct report *report;
	struct progress *progress;
	/* What happened: */
	size_t succeeded, failed, skipped;
	size_t attempts;        /* every attempt that ran, retries included */
	char *failures[FAILURES_LISTED]; /* "'name': cause", the first ones */
	struct alloter_exec_result res;
	int64_t start_ns, end_ns;
};

/* Reports "alloter: MESSAGE" on stderr through the output lock (red for a
 * failure when colour is on), unless standard output has gone. */
__attribute__((format(printf, 3, 4)))
void run_tell(struct run *r, bool failure, const char *fmt, ...);
#define say(r, ...) run_tell(r, false, __VA_ARGS__)
#define say_failure(r, ...) run_tell(r, true, __VA_ARGS__)

/* Sets up jobs for the given commands (argv mode). */
int run_from_argv(struct run *r, char **commands, int n);
/* Sets up streaming from descriptor fd. */
void run_from_stream(struct run *r, int fd);
/* Sets up jobs from a loaded task file (kept by the caller). */
int run_from_taskfile(struct run *r, const struct alloter_taskfile *tf);
/* Prints the tasks, "NAME<tab>COMMAND", in an order they could run, and
 * runs nothing; returns an exit status. */
int run_dry(struct run *r);
/* Runs everything on pool; returns 0 or a negative errno value. */
int run_exec(struct run *r, alloter_pool *pool);
/* Writes the summary line(s) to stderr through the output lock. */
void run_summary(struct run *r);
void run_free(struct run *r);

#endif
