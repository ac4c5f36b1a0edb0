/*
 * run.c - the tasks of one run as process tasks on the executor: the feeds
 * for known tasks (a dependency graph, with retries) and for streamed
 * ones, the reports of each failure as it happens, and the summary.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "run.h"
#include "signals.h"

static int64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Reports to stderr under the output lock, unless stdout has gone: then
 * alloter leaves quietly. */
static void say(struct run *r, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	int n;

	if (alloter_output_broken(r->out) ||
	    alloter_cancel_reason(r->root) == SIGNAL_REASON(SIGPIPE))
		return;
	n = snprintf(buf, sizeof buf, "alloter: ");
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof buf - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof buf - 2)
		n = (int)sizeof buf - 2;
	buf[n++] = '\n';
	alloter_output_write(r->out, 2, buf, (size_t)n);
}

static void describe(const struct job *j, char *buf, size_t len)
{
	const struct alloter_proc_result *res = &j->proc.result;

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

/* What to do when a job ends, for either feed; returns the verdict. */
static int job_done(struct run *r, struct job *j,
                    const struct alloter_outcome *o)
{
	char cause[256];

	if (o->state == ALLOTER_SUCCEEDED) {
		j->state = JOB_SUCCEEDED;
		r->succeeded++;
		return ALLOTER_FINAL;
	}
	describe(j, cause, sizeof cause);
	if (retryable(j)) {
		say(r, "task '%s': %s (attempt %d of %d; retrying)", j->name,
		    cause, j->attempts, j->retries + 1);
		return ALLOTER_RETRY;
	}
	j->state = JOB_FAILED;
	r->failed++;
	say(r, "task '%s': %s", j->name, cause);
	return ALLOTER_FINAL;
}

/* ---- tasks known up front ---- */

static int list_next(void *ud, struct alloter_task *task, size_t *id)
{
	struct run *r = ud;
	struct job *j;
	size_t k;

	if (r->retry_head != r->retry_tail) {
		k = r->retry[r->retry_head++ % r->n_jobs];
	} else {
		int n = alloter_graph_next(r->graph, &k);

		/* While a task runs, it may yet come back for a retry. */
		if (n == 0 || (n < 0 && r->running > 0))
			return ALLOTER_NEXT_WAIT;
		if (n < 0)
			return ALLOTER_NEXT_END;
	}
	j = &r->jobs[k];
	r->running++;
	j->attempts++;
	j->state = JOB_RUNNING;
	*task = (struct alloter_task){alloter_proc_task, &j->proc};
	*id = k;
	return ALLOTER_NEXT_TASK;
}

static int list_done(void *ud, size_t id, const struct alloter_outcome *o)
{
	struct run *r = ud;
	struct job *j = &r->jobs[id];
	int verdict = job_done(r, j, o);

	r->running--;
	if (verdict == ALLOTER_RETRY) {
		r->retry[r->retry_tail++ % r->n_jobs] = id;
		return verdict;
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
			}
		}
	}
	return verdict;
}

int run_from_argv(struct run *r, char **commands, int n)
{
	int err;

	r->jobs = calloc((size_t)n + 1, sizeof *r->jobs);
	r->retry = calloc((size_t)n + 1, sizeof *r->retry);
	if (!r->jobs || !r->retry)
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
	r->retry = calloc(tf->n_tasks + 1, sizeof *r->retry);
	if (!r->jobs || !r->retry)
		return -ENOMEM;
	r->n_jobs = tf->n_tasks;
	if ((err = alloter_graph_new(&r->graph, r->n_jobs)))
		return err;
	for (size_t i = 0; i < tf->n_tasks; i++) {
		const struct alloter_taskdef *d = &tf->tasks[i];
		struct job *j = &r->jobs[i];

		job_init(r, j, i + 1, d->name, d->run);
		j->retries = d->retries;
		j->proc.env = d->env;
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
	struct job *j;
	char *line;
	int n;

	while ((n = lines_next(&r->lines, &line)) == 1 &&
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
	*task = (struct alloter_task){alloter_proc_task, &j->proc};
	*id = (size_t)(uintptr_t)j;
	return ALLOTER_NEXT_TASK;
}

static int stream_done(void *ud, size_t id, const struct alloter_outcome *o)
{
	struct job *j = (struct job *)(uintptr_t)id;

	job_done(ud, j, o);
	/* Nothing keeps a finished streamed task: memory stays flat. */
	free(j->command);
	free(j);
	return ALLOTER_FINAL;
}

void run_from_stream(struct run *r, int fd)
{
	r->streaming = true;
	lines_init(&r->lines, fd);
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
	if (!r->streaming)
		r->skipped = r->n_jobs - r->succeeded - r->failed;
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

	if (r->set.quiet)
		return;
	say(r, "%zu task%s: %zu succeeded, %zu failed, %zu skipped in %.2fs",
	    total, total == 1 ? "" : "s", r->succeeded, r->failed,
	    r->skipped, secs);
}

void run_free(struct run *r)
{
	free(r->jobs);
	free(r->retry);
	alloter_graph_free(r->graph);
	lines_free(&r->lines);
}
