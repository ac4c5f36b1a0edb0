/*
 * run.c - the tasks of one run as process tasks on the executor: the feeds
 * for known tasks (a dependency graph, with retries) and for streamed
 * ones, the reports of each failure as it happens, and the summary.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "joblog.h"
#include "progress.h"
#include "place.h"
#include "report.h"
#include "run.h"
#include "signals.h"

static int64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Reports to stderr under the output lock, unless stdout has gone: then
 * alloter leaves quietly.  A failure is red when colour is on. */
void run_tell(struct run *r, bool failure, const char *fmt, ...)
{
	bool red = failure && r->set.color_err;
	char buf[4096];
	va_list ap;
	int n;

	if (alloter_output_broken(r->out) ||
	    alloter_cancel_reason(r->root) == SIGNAL_REASON(SIGPIPE))
		return;
	n = snprintf(buf, sizeof buf, "alloter: %s", red ? "\033[31m" : "");
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof buf - (size_t)n - 8, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof buf - 8)
		n = (int)sizeof buf - 8;
	n += snprintf(buf + n, sizeof buf - (size_t)n, "%s\n",
	              red ? "\033[0m" : "");
	alloter_output_write(r->out, 2, buf, (size_t)n);
}


static void describe(const struct job *j, char *buf, size_t len)
{
	const struct alloter_proc_result *res = &j->proc.result;

	if (j->refused) {
		snprintf(buf, len, "%s", j->refused);
		return;
	}
	if (res->status == ALLOTER_PROC_TERMINATED &&
	    res->cancel_reason > ALLOTER_CANCEL_USER) {
		const char *sig = sigabbrev_np(res->cancel_reason -
		                               ALLOTER_CANCEL_USER);
		snprintf(buf, len, "terminated: alloter was interrupted by "
		         "SIG%s", sig ? sig : "?");
		return;
	}
	alloter_proc_describe(&j->proc, buf, len);
}

static void job_init(struct run *r, struct job *j, size_t index,
                     const char *name, const char *command)
{
	j->index = index;
	if (name) {
		j->name = name;
	} else {
		snprintf(j->seq_name, sizeof j->seq_name, "%zu", index);
		j->name = j->seq_name;
	}
	j->proc.command = command;
	/* A command of plain words needs no shell: run it directly. */
	if (r->set.direct &&
	    alloter_command_words(command, &j->argv) == 1)
		j->proc.argv = j->argv;
	j->proc.shell = r->set.shell;
	j->proc.name = j->name;
	j->proc.index = index;
	j->proc.timeout_ms = r->set.task_timeout_ms;
	j->proc.grace_ms = r->set.grace_ms;
	j->proc.output = r->out;
}

static bool retryable(const struct job *j)
{
	/* Being terminated from outside (kill-others, the overall deadline,
	 * an interrupt) is not the task's failure: running it again would
	 * defy the stop. */
	return j->attempts <= j->retries &&
	       j->proc.result.status != ALLOTER_PROC_TERMINATED;
}

/* ---- hosts ---- */

/* Job ids waiting to run again (a retry, a move to another host, or a
 * task set aside until its host has a free slot), in a ring. */
static int ring_room(struct run *r)
{
	size_t cap = r->retry_cap ? r->retry_cap * 2 : 16;
	size_t *v;

	if (r->retry_len < r->retry_cap)
		return 0;
	v = malloc(cap * sizeof *v);
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < r->retry_len; i++)
		v[i] = r->retry[(r->retry_head + i) % r->retry_cap];
	free(r->retry);
	r->retry = v;
	r->retry_cap = cap;
	r->retry_head = 0;
	return 0;
}

static int requeue(struct run *r, size_t id)
{
	int err = ring_room(r);

	if (!err)
		r->retry[(r->retry_head + r->retry_len++) % r->retry_cap] = id;
	return err;
}

/* Puts id first in line. */
static int requeue_front(struct run *r, size_t id)
{
	int err = ring_room(r);

	if (!err) {
		r->retry_head = (r->retry_head + r->retry_cap - 1) %
		                r->retry_cap;
		r->retry[r->retry_head] = id;
		r->retry_len++;
	}
	return err;
}

static bool dequeue(struct run *r, size_t *id)
{
	if (!r->retry_len)
		return false;
	*id = r->retry[r->retry_head];
	r->retry_head = (r->retry_head + 1) % r->retry_cap;
	r->retry_len--;
	return true;
}

static void note_progress(struct run *r)
{
	progress_update(r->progress, r->succeeded + r->failed, r->running,
	                r->failed);
}

static void note_failure(struct run *r, const struct job *j, const char *cause)
{
	size_t k = r->failed - 1;

	if (k < FAILURES_LISTED &&
	    asprintf(&r->failures[k], "'%s': %s", j->name, cause) < 0)
		r->failures[k] = NULL;
}

/* What to do when a job's attempt ends, for either feed; returns the
 * verdict. */
static int job_done(struct run *r, struct job *j,
                    const struct alloter_outcome *o)
{
	char cause[256];
	int verdict = ALLOTER_FINAL;

	r->running--;
	if (o->state == ALLOTER_FAILED && o->err < 0) /* never started */
		j->proc.result = (struct alloter_proc_result){
			.status = ALLOTER_PROC_SPAWN_FAILED, .err = -o->err,
			.start_ns = o->start_ns};
	if (j->host && place_release(r, j) == ALLOTER_RETRY)
		return ALLOTER_RETRY; /* it goes to another host */
	if (!j->refused) { /* a refused task never ran: no attempt */
		joblog_attempt(r->joblog, j);
		r->attempts++;
	}
	if (o->state == ALLOTER_SUCCEEDED) {
		j->state = JOB_SUCCEEDED;
		r->succeeded++;
	} else {
		describe(j, cause, sizeof cause);
		if (retryable(j)) {
			say_failure(r, "task '%s': %s (attempt %d of %d; "
			            "retrying)", j->name, cause, j->attempts,
			            j->retries + 1);
			verdict = ALLOTER_RETRY;
		} else {
			j->state = JOB_FAILED;
			r->failed++;
			say_failure(r, "task '%s': %s", j->name, cause);
			note_failure(r, j, cause);
		}
	}
	if (verdict == ALLOTER_FINAL) {
		report_ran(r->report, j);
		alloter_output_release(r->out, j->index);
	}
	note_progress(r);
	return verdict;
}

/* A job that never ran: why, for the report. */
static void job_skipped(struct run *r, struct job *j)
{
	size_t by = alloter_graph_skipped_by(r->graph, (size_t)(j - r->jobs));
	int stop = r->res.stop_reason;

	if (by != SIZE_MAX)
		report_skipped(r->report, j, "dependency", r->jobs[by].name);
	else
		report_skipped(r->report, j,
		               stop == ALLOTER_CANCEL_TIMEOUT ? "timeout"
		               : stop > ALLOTER_CANCEL_USER  ? "interrupted"
		                                             : "fail_fast",
		               NULL);
	alloter_output_release(r->out, j->index);
}

/* ---- tasks known up front ---- */

/* With hosts, a task pinned to busy hosts waits aside while later tasks
 * take the free slots; this many at most per call. */
#define PARKED_MAX 64

/* The next task that can start now, in retry-then-graph order, or
 * SIZE_MAX; *n_park tasks were set aside in park[]. */
static size_t take_next(struct run *r, struct host **h, size_t *park,
                        size_t *n_park, int *why)
{
	size_t k;

	for (;;) {
		if (!place_slot_free(r, NULL, h)) {
			*why = ALLOTER_NEXT_WAIT;
			return SIZE_MAX;
		}
		if (!dequeue(r, &k)) {
			int n = alloter_graph_next(r->graph, &k);

			/* While a task runs, it may yet come back. */
			*why = n == 0 || (n < 0 && (r->running > 0 || *n_park))
			               ? ALLOTER_NEXT_WAIT : ALLOTER_NEXT_END;
			if (n != 1)
				return SIZE_MAX;
		}
		if (place_slot_free(r, &r->jobs[k], h))
			return k;
		park[(*n_park)++] = k;
		if (*n_park == PARKED_MAX) {
			*why = ALLOTER_NEXT_WAIT;
			return SIZE_MAX;
		}
	}
}

static int list_next(void *ud, struct alloter_task *task, size_t *id)
{
	struct run *r = ud;
	size_t park[PARKED_MAX], n_park = 0, k;
	struct host *h;
	struct job *j;
	int why = ALLOTER_NEXT_TASK;

	k = take_next(r, &h, park, &n_park, &why);
	/* The parked go back to the front, in their order.  Without memory
	 * for that, a parked task is failed rather than lost. */
	while (n_park > 0) {
		size_t p = park[--n_park];

		if (requeue_front(r, p)) {
			r->jobs[p].state = JOB_FAILED;
			r->failed++;
			alloter_graph_done(r->graph, p, false);
		}
	}
	if (k == SIZE_MAX)
		return why;
	j = &r->jobs[k];
	r->running++;
	j->attempts++;
	j->state = JOB_RUNNING;
	place_assign(r, j, h, task);
	note_progress(r);
	*id = k;
	return ALLOTER_NEXT_TASK;
}

static int list_done(void *ud, size_t id, const struct alloter_outcome *o)
{
	struct run *r = ud;
	struct job *j = &r->jobs[id];
	int verdict = job_done(r, j, o);

	if (verdict == ALLOTER_RETRY) {
		if (requeue(r, id) == 0)
			return verdict;
		/* No memory to queue it: it stays failed. */
		j->state = JOB_FAILED;
		r->failed++;
		verdict = ALLOTER_FINAL;
	}
	alloter_graph_done(r->graph, id, j->state == JOB_SUCCEEDED);
	if (j->state == JOB_FAILED) {
		/* Report the tasks this failure cut off, once each. */
		for (size_t k = 0; k < r->n_jobs; k++) {
			if (r->jobs[k].state == JOB_PENDING &&
			    alloter_graph_skipped_by(r->graph, k) == id) {
				r->jobs[k].state = JOB_SKIPPED;
				say(r, "task '%s': skipped: it needs '%s', "
				    "which failed", r->jobs[k].name, j->name);
				job_skipped(r, &r->jobs[k]);
			}
		}
	}
	return verdict;
}

int run_from_argv(struct run *r, char **commands, int n)
{
	int err;

	r->jobs = calloc((size_t)n + 1, sizeof *r->jobs);
	if (!r->jobs)
		return -ENOMEM;
	r->n_jobs = (size_t)n;
	for (int i = 0; i < n; i++)
		job_init(r, &r->jobs[i], (size_t)i + 1, NULL, commands[i]);
	if ((err = alloter_graph_new(&r->graph, r->n_jobs)))
		return err;
	return 0;
}

int run_from_taskfile(struct run *r, const struct alloter_taskfile *tf)
{
	int err;

	r->jobs = calloc(tf->n_tasks + 1, sizeof *r->jobs);
	if (!r->jobs)
		return -ENOMEM;
	r->n_jobs = tf->n_tasks;
	if ((err = alloter_graph_new(&r->graph, r->n_jobs)))
		return err;
	for (size_t i = 0; i < tf->n_tasks; i++) {
		const struct alloter_taskdef *d = &tf->tasks[i];
		struct job *j = &r->jobs[i];

		job_init(r, j, i + 1, d->name, d->run);
		j->retries = d->retries;
		j->pins = d->hosts;
		j->proc.env = d->env;
		/* The shell would search the task's own PATH. */
		for (char **e = d->env; e && *e && j->proc.argv; e++)
			if (strncmp(*e, "PATH=", 5) == 0)
				j->proc.argv = NULL;
		j->proc.cwd = d->cwd;
		if (d->timeout_ms >= 0)
			j->proc.timeout_ms = d->timeout_ms;
		for (size_t k = 0; k < d->n_needs; k++)
			if ((err = alloter_graph_need(r->graph, i, d->needs[k])))
				return err;
	}
	return 0;
}

/* ---- tasks streamed from standard input ---- */

static bool blank_or_comment(const char *s)
{
	s += strspn(s, " \t\r");
	return *s == '\0' || *s == '#';
}

static int stream_next(void *ud, struct alloter_task *task, size_t *id)
{
	struct run *r = ud;
	struct host *h;
	struct job *j;
	char *line;
	size_t again, len;
	int n;

	/* Every slot taken: only a task's end can change that, however
	 * many lines stdin holds. */
	if (!place_slot_free(r, NULL, &h))
		return ALLOTER_NEXT_BUSY;
	if (dequeue(r, &again)) {
		j = (struct job *)(uintptr_t)again;
		j->attempts++;
		r->running++;
		place_assign(r, j, h, task);
		*id = again;
		return ALLOTER_NEXT_TASK;
	}
	while ((n = lines_next(&r->lines, &line, &len)) == 1 &&
	       blank_or_comment(line))
		;
	if (n == LINES_AGAIN)
		return ALLOTER_NEXT_WAIT;
	if (n < 0) {
		if (n != LINES_END)
			r->read_err = n;
		return ALLOTER_NEXT_END;
	}
	j = calloc(1, sizeof *j);
	if (!j || !(j->command = strdup(line))) {
		free(j);
		r->read_err = -ENOMEM;
		return ALLOTER_NEXT_END;
	}
	job_init(r, j, ++r->seq, NULL, j->command);
	j->attempts = 1;
	r->running++;
	place_assign(r, j, h, task);
	/* The shell would see the command cut at the NUL: run none of it. */
	if (memchr(line, '\0', len))
		place_refuse(j, "the command holds a NUL byte; not run", task);
	note_progress(r);
	*id = (size_t)(uintptr_t)j;
	return ALLOTER_NEXT_TASK;
}

static void free_streamed(struct job *j)
{
	free(j->argv);
	free(j->command);
	free(j);
}

static int stream_done(void *ud, size_t id, const struct alloter_outcome *o)
{
	struct job *j = (struct job *)(uintptr_t)id;

	if (job_done(ud, j, o) == ALLOTER_RETRY && requeue(ud, id) == 0)
		return ALLOTER_RETRY;
	/* Nothing keeps a finished streamed task: memory stays flat. */
	free_streamed(j);
	return ALLOTER_FINAL;
}

void run_from_stream(struct run *r, int fd)
{
	r->streaming = true;
	lines_init(&r->lines, fd);
}

int run_dry(struct run *r)
{
	struct alloter_task t;
	size_t id;
	int n, status = 0;

	if (!r->streaming) {
		while (alloter_graph_next(r->graph, &id) == 1) {
			printf("%s\t%s\n", r->jobs[id].name,
			       r->jobs[id].proc.command);
			alloter_graph_done(r->graph, id, true);
		}
	}
	while (r->streaming &&
	       (n = stream_next(r, &t, &id)) != ALLOTER_NEXT_END) {
		struct pollfd p = {.fd = r->lines.fd, .events = POLLIN};
		struct job *j = (struct job *)(uintptr_t)id;

		if (n == ALLOTER_NEXT_WAIT) {
			/* What is listed shows before the wait for more. */
			fflush(stdout);
			poll(&p, 1, -1);
			continue;
		}
		if (j->refused) {
			fprintf(stderr, "alloter: task '%s': %s\n", j->name,
			        j->refused);
			status = 2;
		} else {
			printf("%s\t%s\n", j->name, j->command);
		}
		free_streamed(j);
	}
	if (r->read_err) {
		fprintf(stderr, "alloter: standard input: %s\n",
		        strerror(-r->read_err));
		return 2;
	}
	return fflush(stdout) == 0 ? status : 1;
}

int run_exec(struct run *r, alloter_pool *pool)
{
	struct alloter_exec_opts eo = {
		.limit = r->set.limit,
		.timeout_ms = r->set.timeout_ms,
		.fail_fast = r->set.fail_fast,
		.kill_others = r->set.kill_others,
		.parent = r->root,
	};
	struct alloter_feed feed = {
		.next = r->streaming ? stream_next : list_next,
		.done = r->streaming ? stream_done : list_done,
		.wake_fd = r->streaming ? r->lines.fd : -1,
		.ud = r,
	};
	int err;

	r->start_ns = realtime_ns();
	err = alloter_exec_feed(pool, &feed, &eo, &r->res);
	r->end_ns = realtime_ns();
	if (!r->streaming) {
		r->skipped = r->n_jobs - r->succeeded - r->failed;
		for (size_t k = 0; k < r->n_jobs; k++)
			if (r->jobs[k].state == JOB_PENDING)
				job_skipped(r, &r->jobs[k]);
	}
	/* Blocks still held for keep-order go out before the summary. */
	alloter_output_flush(r->out);
	if (!err && r->read_err) {
		say(r, "standard input: %s", strerror(-r->read_err));
		err = r->read_err;
	}
	return err;
}

void run_summary(struct run *r)
{
	double secs = (double)(r->end_ns - r->start_ns) / 1e9;
	size_t total = r->succeeded + r->failed + r->skipped;
	char tries[48] = "";

	if (r->set.quiet)
		return;
	/* Retries show as more attempts than tasks that ran. */
	if (r->attempts > r->succeeded + r->failed)
		snprintf(tries, sizeof tries, " (%zu attempts)", r->attempts);
	say(r, "%zu task%s: %zu succeeded, %zu failed, %zu skipped%s in %.2fs",
	    total, total == 1 ? "" : "s", r->succeeded, r->failed,
	    r->skipped, tries, secs);
	for (size_t k = 0; k < r->failed && k < FAILURES_LISTED; k++)
		if (r->failures[k])
			say_failure(r, "failed: %s", r->failures[k]);
	if (r->failed > FAILURES_LISTED)
		say_failure(r, "failed: and %zu more",
		            r->failed - FAILURES_LISTED);
}

void run_free(struct run *r)
{
	for (size_t k = 0; k < FAILURES_LISTED; k++)
		free(r->failures[k]);
	for (size_t k = 0; k < r->n_jobs; k++)
		free(r->jobs[k].argv);
	free(r->jobs);
	free(r->retry);
	alloter_graph_free(r->graph);
	lines_free(&r->lines);
}
