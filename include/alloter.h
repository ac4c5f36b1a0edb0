/*
 * alloter.h - run tasks concurrently on a reusable thread pool, with a
 * concurrency limit, an overall deadline, fail-fast, kill-others and a
 * cancellation handle; process tasks and a YAML task-file loader on top.
 *
 * CONVENTIONS, true of every function below:
 * - A function returning int returns 0 on success or a negative errno value
 *   on failure.  The few that return something else (a count, a reason, an
 *   enum) say so in their own comment, and still use a negative errno value
 *   for failure.  Every "err" field in a struct holds 0 or a negative errno
 *   value: errors have one sign throughout.
 * - Objects that own a thread, a lock or a file descriptor are opaque, made
 *   by *_new and released by *_free; *_free(NULL) does nothing.
 * - Plain data structs (options, descriptions, results) are visible and
 *   have an _INIT macro.  A zeroed field means its default, and the
 *   defaults are safe: a zeroed options struct asks for nothing surprising.
 * - Pointers handed in are borrowed: the library never frees what the
 *   caller made, and keeps no pointer past the call unless the comment says
 *   so.  What the library hands out is the caller's to release as stated.
 * - The library never exits, never prints, and never installs a signal
 *   handler.  It reports through return values and the caller's callbacks.
 * - Every descriptor the library opens is close-on-exec.  A process task
 *   inherits the caller's descriptors 3-255 that are not close-on-exec,
 *   and none from 256 up: there the library keeps what it holds for each
 *   running task (pipes, a pidfd), so that a spawn copies only the table
 *   below (Linux 5.9 and later; before, every descriptor that is not
 *   close-on-exec is inherited).
 *
 * THREADS: each section says which calls may be made from several threads
 * at once.  None is async-signal-safe.
 *
 * LINKING: the shared library (liballoter.so.0) exports only alloter_*
 * names; the static one (liballoter.a) has the same API.  pkg-config
 * --cflags --libs alloter gives the flags for either (--static for the
 * static one, which also needs libyaml).
 *
 * PROCESS-WIDE EFFECTS (the library's only global state):
 * - Process tasks register their leaders' pids in one table for the whole
 *   process, so that the opt-in reaper below can tell them from orphans.
 * - alloter_reaper_start() makes the process a child subreaper (a prctl
 *   that lasts for the process's life) and lets the reaper wait for
 *   children that the library did not start.  Without that call the
 *   library waits only for processes it started and their process groups.
 * - Process tasks are spawned with the default signal mask and
 *   dispositions, whatever the caller's threads have.
 * - The first handle with a deadline (alloter_cancel_new_timeout, or a
 *   batch with timeout_ms) starts one timer thread for the process, which
 *   fires such handles at their time.  It takes no signal (all blocked),
 *   runs none of the caller's code, and lasts for the process's life.
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

/* The library is built with -fvisibility=hidden; what this header declares
 * is its whole exported interface. */
#if defined(__GNUC__) && __GNUC__ >= 4
#pragma GCC visibility push(default)
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
 * period and send SIGKILL at once.  A handle may have a deadline of its own
 * (the analogue of context.WithTimeout): it then fires by itself with
 * ALLOTER_CANCEL_TIMEOUT, and so do its descendants, which lets a request's
 * deadline be handed down to several batches (as their parent) and process
 * tasks (as their cancel handle).  All functions are thread-safe; none is
 * async-signal-safe.  A handle is the caller's from *_new to *_free; free
 * it only once nothing uses it (no batch, task or thread), and free
 * children before their parent.
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
 * before freeing the parent.  Returns 0 or -ENOMEM, -EMFILE, ... */
int alloter_cancel_new(alloter_cancel **out, alloter_cancel *parent);
/* The same, with a deadline timeout_ms from now: at that time the handle
 * fires by itself with ALLOTER_CANCEL_TIMEOUT (unless it fired already).
 * timeout_ms 0 means no deadline (as alloter_cancel_new), INT64_MAX never;
 * negative is -EINVAL.  Returns 0, -EINVAL, -ENOMEM, -EMFILE, -EAGAIN (the
 * timer thread could not start), ... */
int alloter_cancel_new_timeout(alloter_cancel **out, alloter_cancel *parent,
                               int64_t timeout_ms);
/* Returns the milliseconds left until the soonest deadline of c and its
 * ancestors (rounded up; 0 once it passed), or -1 when none has one (or c
 * is NULL).  A count, not an error. */
int64_t alloter_cancel_remaining_ms(const alloter_cancel *c);
/* Releases c and its descriptors; its children stay, unlinked (they no
 * longer fire with it).  NULL does nothing. */
void alloter_cancel_free(alloter_cancel *c);
/* Fires c and its descendants with reason (> 0; 0 or less means
 * ALLOTER_CANCEL_CALLER); later calls do nothing. */
void alloter_cancel_fire(alloter_cancel *c, int reason);
/* Returns the reason c was fired with (> 0), or 0 if it was not.  A NULL
 * handle is one that never fires. */
int alloter_cancel_reason(const alloter_cancel *c);
/* Returns a descriptor that turns readable when c fires, owned by c; -1 for
 * a NULL handle (poll() ignores it). */
int alloter_cancel_fd(const alloter_cancel *c);
/* Fires c (with reason if not yet fired) and marks it, and its descendants,
 * hurried. */
void alloter_cancel_hurry(alloter_cancel *c, int reason);
/* Returns whether c was hurried; false for NULL. */
bool alloter_cancel_hurried(const alloter_cancel *c);
/* Returns a descriptor that turns readable when c is hurried, owned by c;
 * -1 for NULL. */
int alloter_cancel_hurry_fd(const alloter_cancel *c);

/* ------------------------------------------------------------------------
 * Worker pool: threads that run many batches, one after another or at once.
 * max_threads bounds the threads (0: grow on demand without bound).  Threads
 * start lazily and stay for the next batch.  Several threads may run
 * batches on one pool at once (alloter_exec*, alloter_group_* are
 * thread-safe on a shared pool).  Every pool thread starts with the signal
 * mask that the thread calling alloter_pool_new* had at that call, whatever
 * thread's batch later makes the pool start it; its stack is stack_size
 * bytes (0: the system's default for new threads, as pthread_create
 * gives; see ulimit -s).  A task's large local arrays need a pool made
 * with enough.  A pool thread that runs out of work, and a batch that
 * waits for pool threads to leave it at its end, first watch for up to
 * 50 µs (yielding the processor meanwhile) before they sleep, one pool
 * thread at a time: a program that starts batches back to back then pays
 * no wake-up of a sleeping thread, at the cost of that much processor time
 * after the last batch of a spell.  The watching thread takes work only
 * once it has waited 5 µs, so that a batch of trivial tasks, over sooner,
 * runs on its caller alone.  The pool also keeps up to 16 spare
 * eventfd pairs, lent to its batches' cancellation handles so that a batch
 * opens no descriptor;
 * alloter_pool_free closes them.  alloter_pool_free must not be called
 * while a batch on the pool is running (an exec, an unfreed group); it
 * joins every thread.
 */
typedef struct alloter_pool alloter_pool;

struct alloter_pool_opts {
	unsigned max_threads; /* 0: grow on demand without bound */
	size_t stack_size;    /* bytes; 0: the system's default; below
	                         PTHREAD_STACK_MIN: -EINVAL */
};
#define ALLOTER_POOL_OPTS_INIT {0}

/* Returns 0 and *out (the caller's, to free with alloter_pool_free), or
 * -ENOMEM, -EINVAL. */
int alloter_pool_new(alloter_pool **out, unsigned max_threads);
/* The same with options (NULL: the defaults). */
int alloter_pool_new_opts(alloter_pool **out,
                          const struct alloter_pool_opts *opts);
/* Joins every thread and releases the pool; NULL does nothing. */
void alloter_pool_free(alloter_pool *p);

/* ------------------------------------------------------------------------
 * Executor: a batch of function tasks on a pool.
 *
 * A task (an alloter_fn) returns 0 on success and any other value on
 * failure; that value is kept as the outcome's err, so a task that follows
 * the library's convention returns a negative errno value.  It should watch
 * its cancellation handle and return soon after it fires.  alloter_exec
 * returns only after every task it started has returned.
 *
 * WHERE TASKS RUN: on the pool's threads, and on the thread that called
 * alloter_exec (or alloter_group_wait, or a blocked alloter_group_go).  No
 * task of an array or a feed waits in a queue for a thread (a group's wait
 * in the group until the limit allows): a thread in the batch takes the next
 * task only when it is about to run it (so a stop, the deadline or the
 * limit is checked at that moment), and the calling thread is one of them.
 * An array's tasks that end in under 2 µs are taken several at a time (up
 * to 16, twice as many each time while they stay that short, one again
 * after a longer one), and each is still checked before it starts; so
 * threads do not take turns at the batch's lock for every trivial task, at
 * the cost that a long task after a run of short ones may hold up to 15
 * others behind it.  Each outcome still has its own start and duration.
 * Whenever a thread takes a task and the limit leaves room, the batch asks
 * the pool for one more thread, one at a time.  So a small batch of short
 * tasks mostly runs on the calling thread, at the cost of one wake-up of a
 * pool thread, and exec called from inside a task, on the same pool, works
 * even when the pool has no free thread (max_threads 1): the nested batch
 * runs on the calling task's thread.  (A feed with a wake_fd is coordinated
 * without running tasks, so its wake_fd is watched always, except when the
 * pool has no thread to give, when the caller runs them itself.)  A pool
 * that cannot start a thread at all is not a task failure: the calling
 * thread runs the tasks.  A task must therefore not rely on thread-local
 * state or on which thread's signal mask it runs with.
 *
 * NO PANIC RECOVERY: C has none.  A function task that crashes (SIGSEGV,
 * abort) takes the whole process down with it.  For isolation, run the
 * work as a process task (alloter_proc_task below), which turns a crash
 * into an outcome ("killed by SIGSEGV").  A task must not end its thread
 * with pthread_exit (nor be cancelled with pthread_cancel): on a pool
 * thread this is detected, the task FAILS with err -EOWNERDEAD and the pool
 * replaces the thread; on the calling thread it abandons the exec call,
 * which is undefined behaviour.
 */
typedef int (*alloter_fn)(void *arg, alloter_cancel *cancel);

struct alloter_task {
	alloter_fn fn;
	void *arg;
};

enum alloter_state {
	ALLOTER_NOT_RUN = 0,   /* never started (fail-fast, timeout, cancel):
	                          reason says why */
	ALLOTER_SUCCEEDED = 1, /* returned 0 */
	ALLOTER_FAILED = 2,    /* returned non-zero (err) before the batch's
	                          handle fired; or could not be started */
	ALLOTER_CANCELLED = 3, /* returned non-zero (err) after the batch's
	                          handle fired (kill-others, the deadline, the
	                          parent): reason says why */
};

struct alloter_outcome {
	enum alloter_state state;
	int err;             /* what the task returned (FAILED, CANCELLED);
	                        -EOWNERDEAD (FAILED) when it ended its
	                        thread with pthread_exit */
	int64_t start_ns;    /* wall-clock start, ns since the Unix epoch
	                        (the batch's start plus monotonic time, so
	                        starts keep their order across clock steps) */
	int64_t duration_ns; /* monotonic run time */
	int reason;          /* NOT_RUN, CANCELLED: the alloter_cancel_reason
	                        that stopped it (an array's tasks never
	                        started get the batch's stop_reason); else
	                        0 */
};

struct alloter_exec_opts {
	int limit;          /* tasks at once; 0 = no limit; negative = -EINVAL */
	int64_t timeout_ms; /* deadline from the call (a group: from its
	                       creation); 0 = none; INT64_MAX = never;
	                       negative = -EINVAL */
	bool fail_fast;     /* after a failure, start nothing new */
	bool kill_others;   /* ... and cancel running tasks (implies fail_fast) */
	alloter_cancel *parent; /* firing it cancels the batch; may be NULL */
};
#define ALLOTER_EXEC_OPTS_INIT {0}
#define ALLOTER_EXEC_RESULT_INIT {.first_failed = SIZE_MAX}

struct alloter_exec_result {
	int err;             /* the first FAILED task in time: its outcome's
	                        err, else 0 (cancelled tasks are not failures:
	                        see stop_reason) */
	size_t first_failed; /* its index (feed: its id; group: the order of
	                        its go call, from 0); SIZE_MAX if none */
	int stop_reason;     /* why starting stopped early: an
	                        alloter_cancel_reason, or 0 if it did not */
	size_t started;      /* tasks that began to run */
	size_t succeeded, failed, cancelled; /* by final state */
	bool ok;             /* THE test for "the batch succeeded": every
	                        task ran and succeeded, nothing stopped it */
};

/* Runs n tasks.  outcomes (n entries, or NULL) receives each task's outcome;
 * res (or NULL) the summary.  Returns 0 when the batch ran (whatever the
 * tasks did: test res->ok), or a negative errno value when it could not
 * (-EINVAL for bad options, -ENOMEM, ...).  Any thread may call it, on the
 * same pool as other threads, and a task may call it (see WHERE TASKS
 * RUN); the arrays are only borrowed, and must stay valid until it
 * returns.  n == 0 returns at once, with res->ok set. */
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
 * nor wait for the pool's work.  next() is called only when a thread is
 * there to run the task at once, and not after the batch stopped
 * (fail-fast, deadline, cancel), so every task it hands out starts; done()
 * is called exactly once for every task next() handed out. */
/* next() returns one of these (or a negative errno value, which ends the
 * batch as ALLOTER_NEXT_END does, with that error as exec's return). */
enum alloter_next {
	ALLOTER_NEXT_WAIT = 0,  /* none now: ask after a task ends or wake_fd
	                           turns readable */
	ALLOTER_NEXT_TASK = 1,  /* *task and *id are filled in */
	ALLOTER_NEXT_BUSY = 2,  /* none until a task ends, whatever wake_fd
	                           says (e.g. every slot is taken) */
	ALLOTER_NEXT_END = 3,   /* no task will ever come again */
};
/* done() returns one of these. */
enum alloter_verdict {
	ALLOTER_FINAL = 0, /* take the outcome as it is */
	ALLOTER_RETRY = 1, /* the source will offer this task again: a failure
	                      does not count, nor trigger fail-fast */
};
struct alloter_feed {
	int (*next)(void *ud, struct alloter_task *task, size_t *id);
	int (*done)(void *ud, size_t id, const struct alloter_outcome *o);
	int wake_fd; /* -1 if none (descriptor 0 is a real descriptor: start
	                from ALLOTER_FEED_INIT) */
	void *ud;
};
#define ALLOTER_FEED_INIT {.wake_fd = -1}

/* Runs the feed's tasks.  Returns as alloter_exec does. */
int alloter_exec_feed(alloter_pool *pool, const struct alloter_feed *feed,
                      const struct alloter_exec_opts *opts,
                      struct alloter_exec_result *res);

/* ------------------------------------------------------------------------
 * Group: the incremental form, after Go's errgroup.Group with SetLimit.
 *
 *   alloter_group_new(&g, pool, &opts);   the deadline counts from here
 *   alloter_group_go(g, fetch, &a);       blocks while opts.limit run
 *   alloter_group_go(g, fetch, &b);
 *   alloter_group_wait(g, &res);          every task has returned
 *   alloter_group_free(g);
 *
 * The semantics are exec's: limit, deadline, fail-fast, kill-others, the
 * parent handle, first error, every outcome (go_outcome), and res->ok.  A
 * task gets the group's handle, which fires on kill-others, the deadline
 * and the parent.  All functions may be called from several threads at
 * once (and from the group's own tasks), except alloter_group_free.
 */
typedef struct alloter_group alloter_group;

/* Makes a group on pool (borrowed: it must outlive the group); opts is
 * copied (NULL: the defaults).  Returns 0 and *out (the caller's, to free
 * with alloter_group_free), or -EINVAL, -ENOMEM, -EMFILE. */
int alloter_group_new(alloter_group **out, alloter_pool *pool,
                      const struct alloter_exec_opts *opts);
/* Starts fn(arg, handle).  While opts.limit tasks run it blocks (helping:
 * it may run a queued task of the group on this thread) until one ends.
 * Returns 0 once the task is handed in (a thread of the group takes it
 * as soon as the limit allows); -ECANCELED, without
 * starting it, once the group stopped (fail-fast after a failure,
 * kill-others, the deadline, the parent); -EINVAL after wait or for a NULL
 * fn; -ENOMEM.  arg is borrowed until the task returns. */
int alloter_group_go(alloter_group *g, alloter_fn fn, void *arg);
/* The same, but never blocks: -EAGAIN while the limit is reached. */
int alloter_group_try_go(alloter_group *g, alloter_fn fn, void *arg);
/* As alloter_group_go, and *out (borrowed; it must stay valid until wait
 * returns) receives the task's outcome when it ends; NOT_RUN until then. */
int alloter_group_go_outcome(alloter_group *g, alloter_fn fn, void *arg,
                             struct alloter_outcome *out);
/* Waits until every task started has returned (queued tasks it may run on
 * this thread, or, after a stop, end unstarted), then fills res (NULL: not
 * wanted).  Later go calls fail with -EINVAL; later waits return the same.
 * Returns 0, or the negative errno value that kept the group from running
 * (res->err holds the first task error: test res->ok). */
int alloter_group_wait(alloter_group *g, struct alloter_exec_result *res);
/* Waits as alloter_group_wait if not yet done, then releases the group;
 * NULL does nothing. */
void alloter_group_free(alloter_group *g);

/* ------------------------------------------------------------------------
 * Output: where process tasks' stdout and stderr go.
 *
 * GROUP: each task's output is held (64 KiB in memory, then up to 32 MiB
 * per output in pipes, moved there by splice, then in an unlinked file in
 * tmpdir, where the pipes' share has its room reserved) and written as one
 * block per stream when the task ends.  LINE:
 * whole lines as they come.  RAW: tasks inherit out_fd and err_fd as their
 * stdout and stderr.
 *
 * An output owns one writer thread, the only thread that writes to its
 * descriptors: blocks, lines, the caller's messages and the status line
 * are queued and written in the order they were queued, so two tasks
 * never mix, and no task, nor any caller but alloter_output_flush, ever
 * waits for a reader to read.  Line output queued past 8 MiB makes tasks
 * wait (their pipes fill) until it is written.  A tagged block or task
 * whose last line has no newline gets one.  When a write fails with EPIPE
 * the output turns "broken", drops what follows, and fires the broken
 * handle; any other failed write is kept (alloter_output_error) and that
 * output is dropped.
 */
typedef struct alloter_output alloter_output;

enum alloter_output_mode {
	ALLOTER_OUTPUT_GROUP = 0,
	ALLOTER_OUTPUT_LINE,
	ALLOTER_OUTPUT_RAW,
	ALLOTER_OUTPUT_NONE,      /* the tasks' streams are discarded (their
	                             copies, copy_fd, are still written) */
};

struct alloter_output_opts {
	enum alloter_output_mode mode;
	int out_fd, err_fd;      /* borrowed, not closed; 0 means the default,
	                            1 and 2 (dup descriptor 0 to write there) */
	bool tag;                /* prefix lines with "name\t" */
	bool color_out, color_err; /* colour the tags on that stream */
	bool keep_order;         /* group: blocks in index order; see below */
	bool hold;               /* group: a task's blocks wait for its
	                            release, then go out at once (what the
	                            caller writes just before the release
	                            comes first: a header) */
	const char *tmpdir;      /* NULL: $TMPDIR, else /tmp */
	alloter_cancel *broken;  /* fired with ALLOTER_CANCEL_CALLER on EPIPE */
};
#define ALLOTER_OUTPUT_OPTS_INIT {.out_fd = 1, .err_fd = 2}

/* Every function on an output may be called from any thread at once: the
 * output has one lock, under which every write to its descriptors happens.
 * Free it only once no process task uses it. */
/* Returns 0 and *out, -EINVAL for an unknown mode, -ENAMETOOLONG, -ENOMEM. */
int alloter_output_new(alloter_output **out,
                       const struct alloter_output_opts *opts);
/* Writes what is queued, stops the writer thread and releases the output;
 * the descriptors it was given stay open (they are the caller's).  NULL
 * does nothing. */
void alloter_output_free(alloter_output *o);
/* Returns the mode it was made with. */
enum alloter_output_mode alloter_output_mode(const alloter_output *o);
/* Returns whether a write met EPIPE (the reader left). */
bool alloter_output_broken(const alloter_output *o);
/* Returns the first write that failed otherwise (a negative errno value:
 * -EFBIG, -ENOSPC, -EIO, ...), or 0: that output was lost. */
int alloter_output_error(const alloter_output *o);
/* With keep_order or hold, a task's blocks (every attempt's) are held until
 * the caller says its index is final; with keep_order, blocks then go out
 * in index order (1, 2, ...), with hold alone at once.  An index that will
 * never run is released the same way.  Returns 0 or -ENOMEM; it does not
 * wait for the writes. */
int alloter_output_release(alloter_output *o, size_t index);
/* Writes every block still held, in index order, whatever was released,
 * and waits until everything queued before the call is written: the one
 * call that waits for the reader.  Returns 0 or -ENOMEM. */
int alloter_output_flush(alloter_output *o);
/* Shows line (no newline) as a status line on err_fd, redrawn in place;
 * NULL erases it.  Any other write through this output erases it first, so
 * the status never runs into a task's output or a message; the caller
 * redraws it from time to time.  Returns 0 or -ENOMEM (it is queued). */
int alloter_output_status(alloter_output *o, const char *line);
/* Queues buf for stream 1 (out_fd) or 2 (err_fd), so the caller's own
 * messages never land inside a task's block.  Returns 0 or -ENOMEM. */
int alloter_output_write(alloter_output *o, int stream, const void *buf,
                         size_t len);

/* ------------------------------------------------------------------------
 * Process tasks: one command in its own process group.
 *
 * A struct alloter_proc describes what to run; it is only read, so one
 * description may be run many times, from several threads at once.  What
 * happened comes back in a struct alloter_proc_result of the caller's.
 */
enum alloter_proc_status {
	ALLOTER_PROC_EXITED = 0,  /* exit_code holds the status */
	ALLOTER_PROC_SIGNALED,    /* signo, core_dumped */
	ALLOTER_PROC_TIMED_OUT,   /* its own deadline passed; terminated */
	ALLOTER_PROC_TERMINATED,  /* cancelled: cancel_reason says why */
	ALLOTER_PROC_SPAWN_FAILED,/* err holds the errno */
	ALLOTER_PROC_LOST_OUTPUT, /* ran, but its output could not be kept (err) */
};

/* How much of the end of a task's stderr its result keeps. */
#define ALLOTER_ERR_TAIL 256

struct alloter_proc_result {
	enum alloter_proc_status status;
	int exit_code;     /* exit_code, signo, core_dumped: from the wait */
	int signo;         /* status, whatever the status above says */
	bool core_dumped;
	int cancel_reason;
	int err;           /* SPAWN_FAILED, LOST_OUTPUT: a negative errno */
	pid_t pid;
	int64_t start_ns, duration_ns;
	uint64_t out_bytes, err_bytes;
	int64_t cpu_user_us, cpu_sys_us; /* CPU used by the task and the members
	                        of its group that were reaped with it */
	int64_t max_rss_kb;  /* the largest peak resident set among them */
	bool output_unread;  /* a process the task left outside its group
	                        still held its stdout or stderr open at its
	                        end: what it writes after that is not read */
	/* With keep_err_tail: the last bytes (at most ALLOTER_ERR_TAIL) the
	 * task wrote to stderr, not NUL-ended. */
	size_t err_tail_len;
	char err_tail[ALLOTER_ERR_TAIL];
};

struct alloter_proc {
	const char *command;      /* run as SHELL -c COMMAND */
	const char *shell;        /* NULL: /bin/sh */
	char *const *argv;        /* if set, exec argv[0] via PATH, no shell */
	char *const *env;         /* extra NAME=value entries, NULL-ended; may be
	                             NULL */
	const char *cwd;          /* NULL: alloter's */
	const char *name;         /* ALLOTER_TASK_NAME, and the tag unless
	                             tag is set */
	const char *tag;          /* the output's tag; NULL: name */
	/* For a task whose place is known only once it runs (a Slurm step's
	 * node): called once, on the calling thread, when the task's first
	 * output (or its end) is read and before any of it is tagged; the
	 * string it returns (alive until the run returns) is the tag from
	 * then on, NULL keeps tag.  NULL: tag is the tag. */
	const char *(*late_tag)(void *late_tag_arg);
	void *late_tag_arg;
	int copy_fd[2];           /* stdout ([0]) and stderr ([1]) are also
	                             written here as they come (kept open by
	                             the caller); 0: no copy.  Raw output is
	                             then read and passed on, not inherited */
	bool keep_err_tail;       /* keep the end of stderr in the result, for
	                             a caller that reads a wrapper's last
	                             words (srun's); raw output is then read
	                             and passed on, as with copy_fd */
	size_t index;             /* ALLOTER_TASK_INDEX (1-based) */
	size_t slot;              /* ALLOTER_TASK_SLOT; 0: not set */
	int64_t timeout_ms;       /* 0: none */
	int64_t grace_ms;         /* SIGTERM to SIGKILL; 0: 2000 */
	alloter_output *output;   /* NULL: inherit stdout and stderr */
	/* stdin is /dev/null, unless one of the three below asks for a pipe.
	 * Data given is data delivered, then EOF: the pipe gets stdin_data
	 * and our end is closed at once, so tr, cat or wc end. */
	bool stdin_pipe;          /* a pipe even without data (EOF at once) */
	const char *stdin_data;   /* stdin_len bytes, or NULL: they go in as
	                             the task reads them; if it closes its
	                             stdin first, the rest is dropped (a
	                             SIGPIPE this raises in the calling
	                             thread, where blocked, is taken) */
	size_t stdin_len;
	bool stdin_hold;          /* hold the pipe (after the data) open until
	                             the task ends: the task sees EOF only if
	                             we die first, a watchdog for wrappers */
	bool shell_status;        /* with argv: a program that is not found, or
	                             cannot be run, ends EXITED 127 or 126 as
	                             under a shell, and the library writes the
	                             shell's message ("alloter: NAME: not
	                             found") to the task's stderr (its output,
	                             or descriptor 2), the one thing it ever
	                             writes, on request; without it, it ends
	                             SPAWN_FAILED like any spawn failure */
};
#define ALLOTER_PROC_INIT {0}

/* Runs p to its end, terminating its process group (SIGTERM and SIGCONT,
 * then SIGKILL after the grace period) when its deadline passes or cancel
 * (NULL: none; a handle with a deadline of its own works too) fires; once
 * the main process has exited, whatever it left in its group is terminated
 * the same way, and the task ends when no living member is left (zombies
 * waiting for init to reap them do not count).  *res (NULL: not wanted) is
 * filled in either way.  Returns 0 when the command ran, whatever its exit
 * status (see res), or the negative errno value that kept it from starting
 * (res->status is then ALLOTER_PROC_SPAWN_FAILED, res->err the same value):
 * ONE RULE for a program not found (-ENOENT), not runnable (-EACCES,
 * -ENOEXEC), a bad cwd or shell, -E2BIG stdin, -EAGAIN for processes, ...;
 * -EINVAL for a NULL p or one with neither command nor argv.  (Only
 * shell_status makes a direct exec's failure look as under a shell.)  p
 * and its strings are only read, and only during the call; thread-safe. */
int alloter_proc_run(const struct alloter_proc *p, alloter_cancel *cancel,
                     struct alloter_proc_result *res);

/* A process task on the executor: arg is a struct alloter_proc_call, whose
 * result the call fills in.  As an alloter_fn it returns 0 when the command
 * exited with status 0, 1 when it ran and failed in any way (see result),
 * or the negative errno value that kept it from starting. */
struct alloter_proc_call {
	const struct alloter_proc *proc;
	struct alloter_proc_result result;
};
int alloter_proc_task(void *arg, alloter_cancel *cancel);

/* Puts the cause of a result of p in words ("exit status 3", "killed by
 * SIGSEGV (core dumped)", "timed out after 2s") into buf, cut to len;
 * returns buf. */
char *alloter_proc_describe(const struct alloter_proc *p,
                            const struct alloter_proc_result *res, char *buf,
                            size_t len);

/* Splits a command into words when it is made only of plain words, so it
 * can be run without a shell with the same effect: no quotes, $, `, globs,
 * redirections, ;|&()<>, backslashes, ~, #, {} or control characters, no
 * '=' in the first word, and a first word that is not a shell keyword or a
 * builtin whose behaviour differs from the program of that name.  Returns
 * 0 with *argv the words (one malloc'd block: free(*argv) frees all), 0
 * with *argv NULL when the command needs the shell, or -ENOMEM. */
int alloter_command_words(const char *command, char ***argv);

/* Quotes s (n bytes) as one word for /bin/sh: as it is when it is made only
 * of letters, digits and _@%+:,./- (and not empty), else in single quotes,
 * each single quote of its own written as '\''.  '=', '~' and '#' are
 * quoted, so the word is never an assignment, a home folder or a comment.
 * Returns 0 with *out malloc'd, or -ENOMEM. */
int alloter_shell_quote(const char *s, size_t n, char **out);

/* ------------------------------------------------------------------------
 * Reaping beyond the library's own children: opt-in, for programs that own
 * their process (the alloter command is one).
 *
 * By default the library waits only for the leaders of the process tasks
 * it started (by pid) and for members of their process groups that have
 * become its children (waitpid on the group), never for a child the program
 * started itself.  A program that wants the orphans of its tasks, those
 * that left their group (a double fork, setsid), calls alloter_reaper_start:
 * the process becomes a child subreaper, so those orphans become its
 * children, and the calls below may wait for any child that is not a
 * running task's leader.  The program must then not reap its own children
 * with waitpid(-1) behind the library's back, nor need their statuses.
 * The calls are thread-safe.
 */
/* Returns 0, or a negative errno value from prctl. */
int alloter_reaper_start(void);
/* Reaps every child that has ended and is not a running task's leader.
 * Returns how many it reaped (>= 0), or -EPERM before alloter_reaper_start.
 * It stops at a zombie that is a leader, which its task is about to reap:
 * then *more (if not NULL) is set, and another sweep soon finds what is
 * behind it.  Call it after SIGCHLD. */
int alloter_reaper_sweep(bool *more);
/* Terminates every process still descended from this one (SIGTERM and
 * SIGCONT, then SIGKILL after grace_ms, or as soon as hurry, if not NULL,
 * is hurried), found through /proc, and reaps them.  Call it only while
 * no process task is running.  Returns how many processes it signalled
 * (>= 0), or -EPERM before alloter_reaper_start. */
int alloter_reaper_terminate(int64_t grace_ms, const alloter_cancel *hurry);

/* ------------------------------------------------------------------------
 * Durations: "1m30s", "500ms", "0.5" (seconds), "2h".
 */
/* Durations are pure functions, safe from any thread. */
/* Parses s into milliseconds; returns 0, -EINVAL or -ERANGE. */
int alloter_duration_parse(const char *s, int64_t *ms);
/* Writes ms as the shortest exact duration ("1m30s", "250ms"); returns buf. */
char *alloter_duration_format(int64_t ms, char *buf, size_t len);

/* ------------------------------------------------------------------------
 * Run policies as people write them; pure functions, safe from any thread.
 */
/* The wait before a retry: delay_ms, times factor for each retry after
 * the first, at most max_ms (0: no cap). */
struct alloter_backoff {
	int64_t delay_ms;
	double factor;     /* 1: a fixed delay */
	int64_t max_ms;
};
#define ALLOTER_BACKOFF_INIT {0, 1.0, 0}
/* Parses "DUR[,FACTOR[,MAX]]" ("2s", "1s,2", "1s,2,30s"); a factor below 1
 * or above 1000 is -ERANGE.  Returns 0, -EINVAL or -ERANGE. */
int alloter_backoff_parse(const char *s, struct alloter_backoff *b);
/* The wait in ms before retry n (1 for the first), with jitter in [-1, 1]
 * taking off or adding up to 10 %.  Returns the wait (>= 0). */
int64_t alloter_backoff_ms(const struct alloter_backoff *b, int n,
                           double jitter);

/* When to stop a run early, GNU parallel's --halt: after count (or
 * percent of the total) tasks failed, succeeded or were done; SOON starts
 * nothing new, NOW also terminates what runs. */
enum alloter_halt_when { ALLOTER_HALT_NEVER, ALLOTER_HALT_SOON, ALLOTER_HALT_NOW };
enum alloter_halt_why { ALLOTER_HALT_FAIL, ALLOTER_HALT_SUCCESS, ALLOTER_HALT_DONE };
struct alloter_halt {
	enum alloter_halt_when when;
	enum alloter_halt_why why;
	int64_t count;     /* N, or 0 when percent is given */
	int percent;       /* 1..100, or 0 */
};
/* Parses "WHEN,WHY=N" or "WHEN,WHY=N%" (WHEN soon or now; WHY fail,
 * success or done; N from 1, a percentage at most 100).  Returns 0,
 * -EINVAL or -ERANGE. */
int alloter_halt_parse(const char *s, struct alloter_halt *h);
/* Whether h is met by these counts, out of total tasks (for a percentage;
 * 0: not known, which a percentage never meets).  Returns true or false. */
bool alloter_halt_reached(const struct alloter_halt *h, size_t failed,
                          size_t succeeded, size_t total);
/* Parses a size, "512M", "2G", "100K", "1.5T" (powers of 1024; a bare
 * number is bytes; a trailing B is allowed).  Returns 0, -EINVAL, -ERANGE. */
int alloter_size_parse(const char *s, int64_t *bytes);
/* Parses a load average bound, "4" or "150%" (of the online CPUs), above 0.
 * Returns 0, -EINVAL or -ERANGE. */
int alloter_load_parse(const char *s, double *max);

/* ------------------------------------------------------------------------
 * Dependency graph: which task may start next.
 *
 * Nodes are 0..n-1.  next() yields ready nodes in index order; a node is
 * ready when every node it needs has succeeded.  When a node fails for good,
 * every node that needs it, directly or not, is marked skipped.
 */
typedef struct alloter_graph alloter_graph;

/* A graph is not thread-safe: one thread at a time (the feed's lock). */
/* Returns 0 and *out, or -ENOMEM. */
int alloter_graph_new(alloter_graph **out, size_t n);
/* Releases g; NULL does nothing. */
void alloter_graph_free(alloter_graph *g);
/* node needs dep.  Returns 0, -EINVAL for an index out of range, -EBUSY
 * once next() has been called, or -ENOMEM. */
int alloter_graph_need(alloter_graph *g, size_t node, size_t dep);
/* Checks for a cycle; if there is one, returns -ELOOP and stores up to max
 * nodes on it, in order, in cycle (with their count in *len). */
int alloter_graph_check(alloter_graph *g, size_t *cycle, size_t max,
                        size_t *len);
/* Returns 0 and *node when a node is ready, -EAGAIN when none is ready now
 * (one handed out has yet to end), -ENOENT when every node has been handed
 * out or skipped. */
int alloter_graph_next(alloter_graph *g, size_t *node);
/* Records that node ended; a failure skips its dependents. */
void alloter_graph_done(alloter_graph *g, size_t node, bool ok);
/* Returns the node whose failure skipped node, or SIZE_MAX (a node index,
 * not an error). */
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
#define ALLOTER_DIAG_INIT {{0}, 0, 0, {0}}

/* A task file's slurm: mapping, at the top level or a task's own. */
struct alloter_slurm_request {
	char *partition, *mem, *gpus; /* NULL: not given */
	int cpus;                     /* 0: not given */
	int64_t time_ms;              /* 0: not given */
	char **args;                  /* srun options, NULL-ended, or NULL */
};

struct alloter_taskdef {
	char *name;        /* given, or the 1-based sequence number */
	char *run;
	size_t *needs;     /* indices into tasks */
	size_t n_needs;
	int64_t timeout_ms;/* -1: not set */
	int retries;       /* 0: none */
	bool has_retries;  /* retries: given, over the top-level one */
	char **env;        /* NAME=value, NULL-ended; file-level env first */
	char *cwd;         /* resolved against the file's folder; NULL: none */
	char **hosts;      /* host: or hosts: the hosts it may run on, as
	                      written; NULL-ended, or NULL for any */
	struct alloter_backoff retry_delay; /* retry_delay:, if has_... */
	bool has_retry_delay;
	struct alloter_slurm_request slurm; /* its slurm: mapping, if has_... */
	bool has_slurm;
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
	/* Rerun and pacing policies; -1 (or has_... false): not given. */
	int retries;                     /* for tasks without their own */
	struct alloter_backoff retry_delay;
	bool has_retry_delay;
	struct alloter_halt halt;        /* when NEVER: not given */
	int64_t delay_ms;
	double load;
	int64_t memfree;
	int slurm;                       /* slurm: -1 not given, 0 false, 1 true
	                                    or a mapping (in slurm_request) */
	struct alloter_slurm_request slurm_request;
	struct alloter_taskdef *tasks;
	size_t n_tasks;
};

/* The loader keeps no state between calls: safe from any thread.  A
 * loaded struct alloter_taskfile is plain data, the caller's. */
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
/* Releases tf and every string and array in it; NULL does nothing. */
void alloter_taskfile_free(struct alloter_taskfile *tf);

#if defined(__GNUC__) && __GNUC__ >= 4
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif

#endif
