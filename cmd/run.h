/*
 * run.h - the parts of one run that every file of the command shares: the
 * settings in force, the job model, and the run itself.
 *
 * A job is what the user asked for: made once (from an argument, a line of
 * standard input or a task-file entry) and read-only after that, but for
 * its standing in the run (state, attempts), which feed.c alone keeps.
 * Each try at running a job is an attempt (attempt.h), built fresh from the
 * job and its placement and thrown away once reported.
 */
#ifndef CMD_RUN_H
#define CMD_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "alloter.h"
#include "argsource.h"
#include "blocks.h"
#include "hosts.h"
#include "linereader.h"
#include "slurm.h"
#include "template.h"

/* The settings in force: the command line over the task file over the
 * defaults. */
struct settings {
	int limit;
	int64_t timeout_ms, task_timeout_ms, grace_ms;
	bool fail_fast, kill_others, tag, quiet, keep_order;
	bool color_err;        /* colour failure lines */
	int ci;                /* CI_GITHUB, CI_GITLAB or CI_NONE (options.h) */
	bool direct;           /* exec plain commands without the shell */
	enum alloter_output_mode output;
	const char *shell;     /* NULL: /bin/sh */
	/* Rerun and pacing policies (pacing.h): */
	int retries;           /* -r over every task's own; -1: theirs */
	struct alloter_backoff retry_delay; /* --retry-delay, if given: */
	bool retry_delay_given;
	struct alloter_halt halt; /* beyond what fail_fast and kill_others
	                             ask; when NEVER: none */
	int64_t delay_ms;
	double load_max;       /* 0: not watched */
	int64_t memfree;       /* bytes; 0: not watched */
};

/* Why alloter cancels tasks itself; interrupts are ALLOTER_CANCEL_USER plus
 * the signal's number (signals.h). */
#define CANCEL_HALT (ALLOTER_CANCEL_USER + 128)   /* --halt now */
#define CANCEL_MEMORY (ALLOTER_CANCEL_USER + 129) /* --memfree took it back */
static inline bool cancel_is_signal(int reason)
{
	return reason > ALLOTER_CANCEL_USER && reason < CANCEL_HALT;
}

enum job_state {
	JOB_PENDING = 0,
	JOB_RUNNING,
	JOB_SUCCEEDED,
	JOB_FAILED,
	JOB_SKIPPED,
};

struct job {
	/* The description, fixed once the job is made: */
	size_t index;           /* 1-based sequence number */
	const char *name;       /* given, or seq_name */
	char seq_name[24];
	const char *command;
	char *own_command;      /* the command's storage when streamed */
	char **words;           /* argv for a direct exec, or NULL: the shell
	                           (also when env sets PATH, which the shell
	                           would search) */
	char *const *env;       /* extra NAME=value entries, or NULL */
	const char *cwd;
	int64_t timeout_ms;     /* 0: none */
	int retries;
	const struct alloter_backoff *retry_delay;
	char **pins;            /* the hosts it may use (task file), or NULL */
	const char *refused;    /* why it must not run at all, or NULL */
	bool streamed;          /* made from a line; freed once reported */
	char **args;            /* a template's arguments, NULL-ended (one
	                           block), or NULL */
	size_t n_args;
	char *tag;              /* the output's tag, or NULL: the name */
	char *stdin_data;       /* --pipe: its block, for its stdin */
	size_t stdin_len;
	const struct alloter_slurm_request *slurm; /* its own (task file), or NULL */
	int moves;              /* node failures that moved it (--slurm) */
	/* Its standing in the run, kept by feed.c under the batch lock: */
	enum job_state state;
	int attempts;           /* attempts started and counted */
	int taken_back;         /* by --memfree */
	bool done_earlier;      /* --resume: skipped, it succeeded before */
	int64_t not_before_ms;  /* a retry's back-off: no start before */
	struct job *skip_next;  /* the others a failure skipped, in a chain
	                           from the failed attempt (attempt.h) */
};

#define FAILURES_LISTED 50  /* the summary names at most this many */

/* What happened, counted from the verdicts as they are made (feed.c), so
 * the counts are whole even when the writing of them is not. */
struct tally {
	size_t succeeded, failed, skipped;
	size_t terminated;      /* stopped by kill-others, the deadline or an
	                           interrupt: not failed of their own */
	size_t attempts;        /* every attempt that ran, retries included */
	size_t done_earlier;    /* of the skipped: --resume found them done */
	char *failures[FAILURES_LISTED]; /* "'name': cause" or "N (command):
	                                    cause", the first ones */
	char *failed_names[FAILURES_LISTED]; /* their names alone, for --ci */
};

struct reporter;
struct pacing;
struct resume;
struct joblog;
struct report;
struct progress;
struct timeline;

struct run {
	struct settings set;
	alloter_output *out;
	alloter_cancel *root;
	struct hosts *hosts;    /* NULL: everything runs here */
	struct slurm *slurm;    /* --slurm, or NULL */
	const struct alloter_slurm_request *slurm_top; /* the task file's, or NULL */
	/* Jobs known up front (arguments, a task file): */
	struct job *jobs;
	size_t n_jobs;
	alloter_graph *graph;
	/* Jobs streamed from standard input, or made from a template: */
	bool streaming;
	struct lines lines;
	bool templated;
	bool piped;             /* --pipe: jobs of one command, a block each */
	struct blocks blocks;
	char *pipe_command;
	struct template tpl, tag_tpl;
	struct args args;
	int read_err;
	size_t seq;
	/* The slots in use, for {%} and ALLOTER_TASK_SLOT (feed.c): */
	uint64_t *slots;
	size_t slot_words;
	/* The feed's own (feed.c), under the batch lock: */
	struct job **ring;      /* jobs to run again, in order */
	size_t ring_cap, ring_head, ring_len;
	size_t running;         /* attempts under way */
	struct tally tally;
	struct pacing *pacing;
	struct resume *resume;  /* --resume's log, or NULL */
	const char *results;    /* --results DIR, or NULL */
	bool halted;            /* --halt was met: start nothing new */
	uint64_t rng;           /* the retries' jitter (feed.c) */
	size_t total;           /* how many tasks, when known ahead; 0: not */
	/* Where it is told (reporter.c does every write): */
	struct reporter *reporter;
	struct joblog *joblog;
	struct report *report;
	struct timeline *timeline;
	struct progress *progress;
	struct alloter_exec_result res;
	int64_t start_ns, end_ns;
};

/* Sets up jobs for the given commands (argv mode).  Returns 0 or a
 * negative errno value. */
int run_from_argv(struct run *r, char **commands, int n);
/* Sets up streaming of commands from descriptor fd, one per record (lines,
 * or NUL-separated). */
void run_from_stream(struct run *r, int fd, char delim);
/* Sets up jobs made from r->tpl (compiled), r->tag_tpl (compiled when the
 * output is tagged) and r->args (opened). */
void run_from_template(struct run *r);
/* Sets up --pipe: command (owned by r now) over the blocks of fd. */
void run_from_pipe(struct run *r, int fd, char *command, size_t size,
                   const char *recend, size_t recend_len);
/* Sets up jobs from a loaded task file (kept by the caller).  Returns 0 or
 * a negative errno value. */
int run_from_taskfile(struct run *r, const struct alloter_taskfile *tf);
/* The next streamed job: 0 and *j; -EAGAIN when the input has no whole
 * record yet (poll run_wake_fd); -ENOENT at the end, or after a read
 * error (r->read_err). */
int run_stream_next(struct run *r, struct job **j);
/* What to poll for more streamed jobs, or -1. */
int run_wake_fd(const struct run *r);
/* A job's command for an attempt in slot (of a template that uses {%}):
 * 0 with *command and *words (NULL: the shell) malloc'd, or -ENOMEM. */
int run_slot_command(const struct run *r, const struct job *j,
                     unsigned slot, char **command, char ***words);
/* Frees a streamed job. */
void run_free_job(struct job *j);
/* Whether a line of standard input is blank or a # comment: no job. */
bool run_blank_line(const char *s);
/* Prints the jobs, "NAME<tab>COMMAND", in an order they could run, and
 * runs nothing; returns an exit status. */
int run_dry(struct run *r);
void run_free(struct run *r);

#endif
