/*
 * alloter.h - run tasks concurrently on a reusable thread pool, with a
 * concurrency limit, an overall deadline, fail-fast, kill-others and a
 * cancellation handle; process tasks and a YAML task-file loader on top.
 *
 * Conventions: functions return 0 or a negative errno value.  Objects that own
 * a thread, a lock or a file descriptor are opaque, made by *_new and released
 * by *_free (and *_free(NULL) does nothing).  Plain data structs have an _INIT
 * macro; a zeroed field means "the default".  The library never exits and
 * never prints: it reports through return values and the caller's callbacks.
 */
#ifndef ALLOTER_H
#define ALLOTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ALLOTER_VERSION "0.1.0"

/* ------------------------------------------------------------------------
 * Cancellation handle: the analogue of Go's ctx.Done().
 *
 * A handle is fired at most once, with a reason; the first reason wins.
 * Firing a handle fires every handle made with it as parent, with the same
 * reason.  Once fired, alloter_cancel_fd() stays readable (level-triggered),
 * so a task can poll it beside its own descriptors.  "Hurry" is a second,
 * stronger request (the second Ctrl-C): process tasks then skip the grace
 * period and send SIGKILL at once.  All functions are thread-safe; none is
 * async-signal-safe.
 */
typedef struct alloter_cancel alloter_cancel;

enum alloter_cancel_reason {
	ALLOTER_CANCEL_NONE = 0,
	ALLOTER_CANCEL_FAILURE = 1, /* another task failed (kill-others) */
	ALLOTER_CANCEL_TIMEOUT = 2, /* the overall deadline passed */
	ALLOTER_CANCEL_CALLER = 3,  /* the caller asked; callers may use any
	                               value >= ALLOTER_CANCEL_USER as well */
	ALLOTER_CANCEL_USER = 256,
};

/* Makes a handle, linked to parent unless parent is NULL; a handle made from
 * a fired parent starts fired.  The caller frees it with alloter_cancel_free
 * before freeing the parent. */
int alloter_cancel_new(alloter_cancel **out, alloter_cancel *parent);
void alloter_cancel_free(alloter_cancel *c);
/* Fires c and its descendants with reason (> 0); later calls do nothing. */
void alloter_cancel_fire(alloter_cancel *c, int reason);
/* The reason c was fired with, or 0 if it was not. */
int alloter_cancel_reason(const alloter_cancel *c);
/* A descriptor that turns readable when c fires; owned by c. */
int alloter_cancel_fd(const alloter_cancel *c);
/* Fires c (with reason if not yet fired) and marks it, and its descendants,
 * hurried. */
void alloter_cancel_hurry(alloter_cancel *c, int reason);
bool alloter_cancel_hurried(const alloter_cancel *c);
/* A descriptor that turns readable when c is hurried; owned by c. */
int alloter_cancel_hurry_fd(const alloter_cancel *c);

/* ------------------------------------------------------------------------
 * Worker pool: threads that run many batches, one after another or at once.
 * max_threads bounds the threads (0: grow on demand without bound).  Threads
 * start lazily and stay for the next batch.  alloter_pool_free must not be
 * called while an alloter_exec on the pool is running.
 */
typedef struct alloter_pool alloter_pool;

int alloter_pool_new(alloter_pool **out, unsigned max_threads);
void alloter_pool_free(alloter_pool *p);

/* ------------------------------------------------------------------------
 * Executor: a batch of function tasks on a pool.
 *
 * A task returns 0 on success and anything else on failure; it should watch
 * its cancellation handle and return soon after it fires.  alloter_exec
 * returns only after every task it started has returned.
 */
typedef int (*alloter_fn)(void *arg, alloter_cancel *cancel);

struct alloter_task {
	alloter_fn fn;
	void *arg;
};

enum alloter_state {
	ALLOTER_NOT_RUN = 0, /* never started (fail-fast, timeout, cancel) */
	ALLOTER_SUCCEEDED,
	ALLOTER_FAILED,
};

struct alloter_outcome {
	enum alloter_state state;
	int err;             /* what the task returned; a negative errno
	                        when it could not be started at all */
	int64_t start_ns;    /* wall-clock start, ns since the Unix epoch */
	int64_t duration_ns; /* monotonic run time */
};

struct alloter_exec_opts {
	int limit;          /* tasks at once; 0 = no limit; negative = -EINVAL */
	int64_t timeout_ms; /* deadline from the call; 0 = none */
	bool fail_fast;     /* after a failure, start nothing new */
	bool kill_others;   /* ... and cancel running tasks (implies fail_fast) */
	alloter_cancel *parent; /* firing it cancels the batch; may be NULL */
};
#define ALLOTER_EXEC_OPTS_INIT {0}

struct alloter_exec_result {
	int err;             /* the first failure in time: its err, else 0 */
	size_t first_failed; /* its index (feed: its id); SIZE_MAX if none */
	int stop_reason;     /* why starting stopped early: an
	                        alloter_cancel_reason, or 0 if it did not */
	size_t started, succeeded, failed;
};

/* Runs n tasks.  outcomes (n entries, or NULL) receives each task's outcome;
 * res (or NULL) the summary.  Returns 0 when the batch ran (whatever the
 * tasks did: see res), or a negative errno value when it could not. */
int alloter_exec(alloter_pool *pool, const struct alloter_task *tasks, size_t n,
                 const struct alloter_exec_opts *opts,
                 struct alloter_outcome *outcomes,
                 struct alloter_exec_result *res);

/* A source of tasks for batches whose tasks are not all known up front
 * (streamed input, dependency graphs, retries).  The callbacks run one at
 * a time, under the batch's lock, on the thread that called
 * alloter_exec_feed or on a pool thread that just finished a task (which
 * then runs the next task itself, with no hand-off).  So they need no
 * locking of their own, but successive calls may come from different
 * threads (no thread-local state; pool threads have the signal mask of the
 * thread that created the pool), they should not block for long (other
 * tasks' ends wait for the lock), and they must not call alloter_exec*
 * nor wait for the pool's work.  On a pool with fewer threads than limit,
 * tasks beyond its threads wait in its queue, count against limit, and
 * start first when a thread comes free. */
enum alloter_next {
	ALLOTER_NEXT_END = -1,  /* no task will ever come again */
	ALLOTER_NEXT_WAIT = 0,  /* none now: ask after a task ends or wake_fd
	                           turns readable */
	ALLOTER_NEXT_TASK = 1,  /* *task and *id are filled in */
	ALLOTER_NEXT_BUSY = 2,  /* none until a task ends, whatever wake_fd
	                           says (e.g. every slot is taken) */
};
enum alloter_verdict {
	ALLOTER_FINAL = 0, /* take the outcome as it is */
	ALLOTER_RETRY = 1, /* the source will offer this task again: a failure
	                      does not count, nor trigger fail-fast */
};
struct alloter_feed {
	int (*next)(void *ud, struct alloter_task *task, size_t *id);
	int (*done)(void *ud, size_t id, const struct alloter_outcome *o);
	int wake_fd; /* -1 if none */
	void *ud;
};

int alloter_exec_feed(alloter_pool *pool, const struct alloter_feed *feed,
                      const struct alloter_exec_opts *opts,
                      struct alloter_exec_result *res);

/* ------------------------------------------------------------------------
 * Output: where process tasks' stdout and stderr go.
 *
 * GROUP: each task's output is held (in memory, then in an unlinked file in
 * tmpdir) and written as one block per stream when the task ends.  LINE:
 * whole lines as they come.  RAW: tasks inherit the descriptors.  Blocks and
 * lines are written under one lock, so two tasks never mix.  When a write
 * fails with EPIPE the output turns "broken", drops what follows, and fires
 * the broken handle.
 */
typedef struct alloter_output alloter_output;

enum alloter_output_mode {
	ALLOTER_OUTPUT_GROUP = 0,
	ALLOTER_OUTPUT_LINE,
	ALLOTER_OUTPUT_RAW,
};

struct alloter_output_opts {
	enum alloter_output_mode mode;
	int out_fd, err_fd;      /* borrowed, not closed */
	bool tag;                /* prefix lines with "name\t" */
	bool color_out, color_err; /* colour the tags on that stream */
	bool keep_order;         /* group: blocks in index order; see below */
	const char *tmpdir;      /* NULL: $TMPDIR, else /tmp */
	alloter_cancel *broken;  /* fired with ALLOTER_CANCEL_CALLER on EPIPE */
};

int alloter_output_new(alloter_output **out,
                       const struct alloter_output_opts *opts);
void alloter_output_free(alloter_output *o);
enum alloter_output_mode alloter_output_mode(const alloter_output *o);
bool alloter_output_broken(const alloter_output *o);
/* With keep_order, a task's blocks (every attempt's) are held until the
 * caller says its index is final; blocks then go out in index order (1, 2,
 * ...).  An index that will never run is released the same way.  Returns 0
 * or the first write error. */
int alloter_output_release(alloter_output *o, size_t index);
/* Writes every block still held, in index order, whatever was released. */
int alloter_output_flush(alloter_output *o);
/* Shows line (no newline) as a status line on err_fd, redrawn in place;
 * NULL erases it.  Any other write through this output erases it first, so
 * the status never runs into a task's output or a message; the caller
 * redraws it from time to time.  Returns 0 or a negative errno value. */
int alloter_output_status(alloter_output *o, const char *line);
/* Writes buf to stream 1 (out_fd) or 2 (err_fd) under the output lock, so
 * the caller's own messages never land inside a task's block.  Returns 0 or
 * a negative errno value. */
int alloter_output_write(alloter_output *o, int stream, const void *buf,
                         size_t len);

/* ------------------------------------------------------------------------
 * Process tasks: one shell command in its own process group.
 */
enum alloter_proc_status {
	ALLOTER_PROC_EXITED = 0,  /* exit_code holds the status */
	ALLOTER_PROC_SIGNALED,    /* signo, core_dumped */
	ALLOTER_PROC_TIMED_OUT,   /* its own deadline passed; terminated */
	ALLOTER_PROC_TERMINATED,  /* cancelled: cancel_reason says why */
	ALLOTER_PROC_SPAWN_FAILED,/* err holds the errno */
	ALLOTER_PROC_LOST_OUTPUT, /* ran, but its output could not be kept (err) */
};

struct alloter_proc_result {
	enum alloter_proc_status status;
	int exit_code;     /* exit_code, signo, core_dumped: from the wait */
	int signo;         /* status, whatever the status above says */
	bool core_dumped;
	int cancel_reason;
	int err;
	pid_t pid;
	int64_t start_ns, duration_ns;
	uint64_t out_bytes, err_bytes;
};

struct alloter_proc {
	const char *command;      /* run as SHELL -c COMMAND */
	const char *shell;        /* NULL: /bin/sh */
	char *const *argv;        /* if set, exec argv[0] via PATH, no shell */
	char *const *env;         /* extra NAME=value entries, NULL-ended; may be
	                             NULL */
	const char *cwd;          /* NULL: alloter's */
	const char *name;         /* ALLOTER_TASK_NAME and the tag */
	size_t index;             /* ALLOTER_TASK_INDEX (1-based) */
	int64_t timeout_ms;       /* 0: none */
	int64_t grace_ms;         /* SIGTERM to SIGKILL; 0: 2000 */
	alloter_output *output;   /* NULL: inherit stdout and stderr */
	bool stdin_pipe;          /* stdin: a pipe that gets stdin_data, then
	                             is held open until the task ends, so the
	                             task sees EOF if we die; else /dev/null */
	const char *stdin_data;   /* at most 60 KiB (-E2BIG), or NULL */
	size_t stdin_len;
	struct alloter_proc_result result; /* filled in by alloter_proc_run */
};

/* Runs p to its end, terminating its process group (SIGTERM and SIGCONT,
 * then SIGKILL after the grace period) when its deadline passes or cancel
 * fires; once the main process has exited, whatever it left in its group is
 * terminated the same way.  Returns 0 if it exited with status 0, else 1
 * (see p->result). */
int alloter_proc_run(struct alloter_proc *p, alloter_cancel *cancel);
/* The same, as an alloter_fn: arg is a struct alloter_proc *. */
int alloter_proc_task(void *arg, alloter_cancel *cancel);
/* Reaps children that are not the leaders of running process tasks: the
 * orphans a child subreaper (prctl PR_SET_CHILD_SUBREAPER) inherits.  Call
 * it after SIGCHLD; it never takes a task's own status.  Returns how many it
 * reaped.  It stops at the first zombie that is a leader, which its worker
 * is about to reap; then *more (if more is not NULL) is set: sweep again
 * soon, or orphans behind it may wait for the next SIGCHLD. */
int alloter_proc_reap_orphans(bool *more);
/* Puts the cause of a result in words ("exit status 3", "killed by SIGSEGV
 * (core dumped)", "timed out after 2s") into buf; returns buf. */
char *alloter_proc_describe(const struct alloter_proc *p, char *buf,
                            size_t len);

/* Splits a command into words when it is made only of plain words, so it
 * can be run without a shell with the same effect: no quotes, $, `, globs,
 * redirections, ;|&()<>, backslashes, ~, #, {} or control characters, no
 * '=' in the first word, and a first word that is not a shell keyword or a
 * builtin whose behaviour differs from the program of that name.  Returns
 * 1 and *argv (one malloc'd block: free(*argv) frees all), 0 when the
 * command needs the shell, or -ENOMEM. */
int alloter_command_words(const char *command, char ***argv);

/* ------------------------------------------------------------------------
 * Durations: "1m30s", "500ms", "0.5" (seconds), "2h".
 */
/* Parses s into milliseconds; returns 0, -EINVAL or -ERANGE. */
int alloter_duration_parse(const char *s, int64_t *ms);
/* Writes ms as the shortest exact duration ("1m30s", "250ms"); returns buf. */
char *alloter_duration_format(int64_t ms, char *buf, size_t len);

/* ------------------------------------------------------------------------
 * Dependency graph: which task may start next.
 *
 * Nodes are 0..n-1.  next() yields ready nodes in index order; a node is
 * ready when every node it needs has succeeded.  When a node fails for good,
 * every node that needs it, directly or not, is marked skipped.
 */
typedef struct alloter_graph alloter_graph;

int alloter_graph_new(alloter_graph **out, size_t n);
void alloter_graph_free(alloter_graph *g);
/* node needs dep.  Returns -EINVAL for an index out of range. */
int alloter_graph_need(alloter_graph *g, size_t node, size_t dep);
/* Checks for a cycle; if there is one, returns -ELOOP and stores up to max
 * nodes on it, in order, in cycle (with their count in *len). */
int alloter_graph_check(alloter_graph *g, size_t *cycle, size_t max,
                        size_t *len);
/* 1 and *node when a node is ready, 0 when none is ready now, -1 when every
 * node has been handed out or skipped. */
int alloter_graph_next(alloter_graph *g, size_t *node);
/* Records that node ended; a failure skips its dependents. */
void alloter_graph_done(alloter_graph *g, size_t node, bool ok);
/* Returns the node whose failure skipped node, or SIZE_MAX. */
size_t alloter_graph_skipped_by(const alloter_graph *g, size_t node);

/* ------------------------------------------------------------------------
 * Task files: YAML to plain task descriptions.  The loader knows nothing
 * about running them.
 */
struct alloter_diag {
	char file[256];
	int line, col;   /* 1-based; 0 when not tied to a place */
	char msg[512];
};

struct alloter_taskdef {
	char *name;        /* given, or the 1-based sequence number */
	char *run;
	size_t *needs;     /* indices into tasks */
	size_t n_needs;
	int64_t timeout_ms;/* -1: not set */
	int retries;       /* 0: none */
	char **env;        /* NAME=value, NULL-ended; file-level env first */
	char *cwd;         /* resolved against the file's folder; NULL: none */
	char **hosts;      /* host: or hosts: the hosts it may run on, as
	                      written; NULL-ended, or NULL for any */
	int line, col;     /* where the task is defined */
};

/* A top-level setting that the file did not give stays at -1 (or NULL). */
struct alloter_taskfile {
	int limit;
	int64_t timeout_ms, task_timeout_ms, grace_ms;
	int fail_fast, kill_others, tag; /* -1, 0 or 1 */
	int output;                      /* -1 or an alloter_output_mode */
	char *shell;
	char **hosts;                    /* hosts: entries, NULL-ended; or NULL */
	struct alloter_taskdef *tasks;
	size_t n_tasks;
};

/* Loads path ("-" for standard input).  On error returns a negative errno
 * value (-EINVAL for bad content) and fills diag.  *out is the caller's, to
 * free with alloter_taskfile_free. */
int alloter_taskfile_load(const char *path, struct alloter_taskfile **out,
                          struct alloter_diag *diag);
/* The same from memory; name is used in diagnostics and dir to resolve cwd
 * (NULL: the current folder). */
int alloter_taskfile_parse(const char *buf, size_t len, const char *name,
                           const char *dir, struct alloter_taskfile **out,
                           struct alloter_diag *diag);
void alloter_taskfile_free(struct alloter_taskfile *tf);

#ifdef __cplusplus
}
#endif

#endif
