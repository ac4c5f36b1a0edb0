/*
 * feed.c - the one feed: which job runs next (jobs to run again first,
 * then the graph or the next line of input), on which host, and what each
 * verdict changes (a retry, a move to another host, the jobs a failure
 * skips, the counts).  Its callbacks run under the executor's lock: they
 * only decide, count and hand verdicts to the reporter, and never write,
 * so no reader of alloter's output can hold up the run.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attempt.h"
#include "clock.h"
#include "feed.h"
#include "options.h"
#include "pacing.h"
#include "placement.h"
#include "progress.h"
#include "reporter.h"
#include "resume.h"

/* With hosts, a job pinned to busy hosts waits aside while later jobs
 * take the free slots; this many at most per call. */
#define PARKED_MAX 64

/* Jobs to run again wait in a ring.  Its room is reserved before a job
 * starts (every job that could come back has its place), so putting one
 * back when its attempt ends never fails. */
static int ring_reserve(struct run *r, size_t n)
{
	size_t cap = r->ring_cap ? r->ring_cap : 16;
	struct job **v;

	if (n <= r->ring_cap)
		return 0;
	while (cap < n)
		cap *= 2;
	v = malloc(cap * sizeof *v);
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < r->ring_len; i++)
		v[i] = r->ring[(r->ring_head + i) % r->ring_cap];
	free(r->ring);
	r->ring = v;
	r->ring_cap = cap;
	r->ring_head = 0;
	return 0;
}

static void ring_push(struct run *r, struct job *j)
{
	r->ring[(r->ring_head + r->ring_len++) % r->ring_cap] = j;
}

static void ring_push_front(struct run *r, struct job *j)
{
	r->ring_head = (r->ring_head + r->ring_cap - 1) % r->ring_cap;
	r->ring[r->ring_head] = j;
	r->ring_len++;
}

static struct job *ring_pop(struct run *r)
{
	struct job *j;

	if (!r->ring_len)
		return NULL;
	j = r->ring[r->ring_head];
	r->ring_head = (r->ring_head + 1) % r->ring_cap;
	r->ring_len--;
	return j;
}

/* --resume: a job that succeeded in the logged run is skipped, and those
 * that need it go on; one whose command is not the log's for its number
 * (found only now, streamed) fails without running.  Returns whether j
 * was taken out. */
static bool take_done_earlier(struct run *r, struct job *j)
{
	if (!resume_matches(r->resume, j)) {
		j->refused = "its command is not the one the --resume log has "
		             "for its number";
		return false;
	}
	if (!resume_done(r->resume, j))
		return false;
	r->tally.skipped++;
	r->tally.done_earlier++;
	if (j->streamed) {
		run_free_job(j);
	} else {
		j->state = JOB_SKIPPED;
		j->done_earlier = true;
		alloter_graph_done(r->graph, (size_t)(j - r->jobs), true);
	}
	return true;
}

/* A new job from the source: 0 and *j; -EAGAIN when input may bring one
 * (wake_fd); -EBUSY when only a task's end can; -ENOENT when none will
 * ever come. */
static int source_take(struct run *r, struct job **j)
{
	size_t k;
	int n;

	for (;;) {
		*j = NULL;
		if (r->streaming) {
			n = run_stream_next(r, j);
		} else if ((n = alloter_graph_next(r->graph, &k)) == 0) {
			*j = &r->jobs[k];
		} else {
			return n == -EAGAIN ? -EBUSY : n;
		}
		if (n || !r->resume || !take_done_earlier(r, *j))
			return n;
	}
}

/* The lowest free slot, from 1: {%} and ALLOTER_TASK_SLOT.  Without a
 * limit there are as many as ever ran at once.  Returns 0 without memory
 * (the attempt then runs with no slot of its own). */
static unsigned slot_take(struct run *r)
{
	size_t w = 0;
	uint64_t *v;

	while (w < r->slot_words && r->slots[w] == UINT64_MAX)
		w++;
	if (w == r->slot_words) {
		if (!(v = realloc(r->slots, (w + 1) * sizeof *v)))
			return 0;
		r->slots = v;
		r->slots[r->slot_words++] = 0;
	}
	for (unsigned b = 0; b < 64; b++)
		if (!(r->slots[w] & (UINT64_C(1) << b))) {
			r->slots[w] |= UINT64_C(1) << b;
			return (unsigned)(w * 64 + b + 1);
		}
	return 0; /* not reached: the word has a free bit */
}

static void slot_give(struct run *r, unsigned slot)
{
	if (slot)
		r->slots[(slot - 1) / 64] &= ~(UINT64_C(1) << ((slot - 1) % 64));
}

static void note_progress(struct run *r)
{
	progress_update(r->progress, r->tally.succeeded + r->tally.failed,
	                r->running, r->tally.failed);
}

/* The next job that can start now, from the ring, then the source; or
 * NULL with *why.  Jobs whose hosts are all busy, or whose retry waits
 * for its back-off, are set aside, and go back to the front of the ring
 * in their order; the timer wakes the feed for the first back-off. */
static struct job *take_next(struct run *r, struct host **h, int *why)
{
	struct job *park[PARKED_MAX], *j = NULL;
	size_t n_park = 0;
	int64_t now = 0, wake = 0;

	if (!placement_slot_free(r, NULL, h)) {
		*why = ALLOTER_NEXT_BUSY;
		return NULL;
	}
	for (;;) {
		if (!(j = ring_pop(r))) {
			int n = source_take(r, &j);

			if (n == -EAGAIN)
				*why = ALLOTER_NEXT_WAIT;
			else if (n == -ENOENT && !r->running && !n_park)
				*why = ALLOTER_NEXT_END;
			else if (n)
				*why = ALLOTER_NEXT_BUSY;
			if (n)
				break;
		}
		if (j->not_before_ms && !now)
			now = clock_mono_ms();
		if (j->not_before_ms > now) {
			if (!wake || j->not_before_ms < wake)
				wake = j->not_before_ms;
		} else if (placement_slot_free(r, j, h)) {
			break;
		}
		park[n_park++] = j;
		j = NULL;
		if (n_park == PARKED_MAX) {
			*why = ALLOTER_NEXT_BUSY;
			break;
		}
	}
	if (!j && wake) {
		pacing_wake_at(r->pacing, wake);
		*why = ALLOTER_NEXT_WAIT;
	}
	while (n_park > 0)
		ring_push_front(r, park[--n_park]);
	return j;
}

static int feed_next(void *ud, struct alloter_task *task, size_t *id)
{
	struct run *r = ud;
	struct attempt *a;
	struct host *h;
	struct job *j;
	int why = ALLOTER_NEXT_TASK, err;

	pacing_drain(r->pacing);
	if (r->halted)
		return r->running ? ALLOTER_NEXT_BUSY : ALLOTER_NEXT_END;
	/* Every job that is running or waiting may come back, and so may
	 * the one about to start. */
	if ((err = ring_reserve(r, r->streaming ? r->running + r->ring_len + 1
	                                        : r->n_jobs)))
		return err;
	if (!(j = take_next(r, &h, &why)))
		return why;
	/* --delay, --load, --memfree: the job waits at the front, holding
	 * no slot, until the timer says to ask again. */
	if (!pacing_may_start(r->pacing, clock_mono_ms())) {
		ring_push_front(r, j);
		progress_waiting(r->progress, r->pacing->why);
		return ALLOTER_NEXT_WAIT;
	}
	if (r->pacing->why[0]) {
		r->pacing->why[0] = '\0';
		progress_waiting(r->progress, "");
	}
	if (!(a = attempt_new(r, j, h, j->attempts + 1, slot_take(r)))) {
		ring_push_front(r, j);
		return -ENOMEM;
	}
	a->start_at_ms = placement_take(r, h);
	pacing_started(r->pacing, clock_mono_ms());
	j->attempts++;
	j->state = JOB_RUNNING;
	r->running++;
	note_progress(r);
	*task = attempt_task(a);
	*id = (size_t)(uintptr_t)a;
	return ALLOTER_NEXT_TASK;
}

/* The summary's name for a job: its own name, or, for one that has none
 * (an argument, a line, a template's), its number and its command on one
 * line, abridged. */
static int summary_name(const struct job *j, const char *cause, char **out)
{
	char cmd[64];
	size_t n = 0;

	if (j->name != j->seq_name)
		return asprintf(out, "'%s': %s", j->name, cause);
	for (const char *c = j->command; *c && n < sizeof cmd - 1; c++)
		cmd[n++] = *c == '\n' || *c == '\t' || *c == '\r' ? ' ' : *c;
	if (n == sizeof cmd - 1 && j->command[n])
		memcpy(cmd + n - 3, "...", 3);
	cmd[n] = '\0';
	return asprintf(out, "%s (%s): %s", j->name, cmd, cause);
}

static void note_failure(struct run *r, const struct attempt *a)
{
	size_t k = r->tally.failed - 1;

	if (k < FAILURES_LISTED &&
	    summary_name(a->job, a->verdict.cause, &r->tally.failures[k]) < 0)
		r->tally.failures[k] = NULL;
	if (k < FAILURES_LISTED && r->set.ci != CI_NONE)
		r->tally.failed_names[k] = strdup(a->job->name);
}

/* A job that failed for good skips the jobs that need it, once each;
 * they are chained on the attempt for the reporter. */
static void skip_dependents(struct run *r, struct attempt *a)
{
	size_t failed = (size_t)(a->job - r->jobs);
	struct job **tail = &a->skipped;

	alloter_graph_done(r->graph, failed, false);
	for (size_t k = 0; k < r->n_jobs; k++) {
		struct job *s = &r->jobs[k];

		if (s->state == JOB_PENDING &&
		    alloter_graph_skipped_by(r->graph, k) == failed) {
			s->state = JOB_SKIPPED;
			r->tally.skipped++;
			*tail = s;
			tail = &s->skip_next;
		}
	}
}

/* A retry's wait, --retry-delay with its jitter; the job waits in the
 * ring, holding no slot. */
static void back_off(struct run *r, struct job *j, int number)
{
	double jitter;

	if (!j->retry_delay || j->retry_delay->delay_ms <= 0)
		return;
	/* xorshift: a fair spread of the retries is all that is asked. */
	r->rng ^= r->rng << 13;
	r->rng ^= r->rng >> 7;
	r->rng ^= r->rng << 17;
	jitter = (double)(r->rng % 2001) / 1000 - 1;
	j->not_before_ms = clock_mono_ms() +
	                   alloter_backoff_ms(j->retry_delay, number, jitter);
}

/* --halt: once met, nothing new starts; with now, the running tasks are
 * terminated too.  A percentage counts against the tasks known: all of
 * them, or, streamed, those read so far. */
static void check_halt(struct run *r)
{
	const struct alloter_halt *h = &r->set.halt;
	size_t total = r->total ? r->total : r->streaming ? r->seq : r->n_jobs;

	if (r->halted || h->when == ALLOTER_HALT_NEVER ||
	    !alloter_halt_reached(h, r->tally.failed, r->tally.succeeded,
	                          total))
		return;
	r->halted = true;
	if (h->when == ALLOTER_HALT_NOW)
		alloter_cancel_fire(r->root, CANCEL_HALT);
}

static int feed_done(void *ud, size_t id, const struct alloter_outcome *o)
{
	struct run *r = ud;
	struct attempt *a = (struct attempt *)(uintptr_t)id;
	struct verdict *v = &a->verdict;
	struct job *j = a->job;
	int ret = ALLOTER_FINAL;

	a->outcome = *o;
	r->running--;
	slot_give(r, a->slot);
	verdict_make(v, a, o);
	a->took_host_down = placement_release(a->host, v);
	r->tally.attempts += v->counted;
	switch (v->kind) {
	case VERDICT_MOVED:
		j->attempts--; /* it did not count */
		j->moves += a->slurm != NULL;
		/* fall through */
	case VERDICT_RETRY:
		if (v->taken_back) {
			j->taken_back++;
			j->attempts--; /* not the task's failure */
		} else if (v->kind == VERDICT_RETRY) {
			back_off(r, j, a->number);
		}
		j->state = JOB_PENDING;
		ring_push(r, j);
		ret = ALLOTER_RETRY;
		break;
	case VERDICT_SUCCEEDED:
		j->state = JOB_SUCCEEDED;
		r->tally.succeeded++;
		if (!r->streaming)
			alloter_graph_done(r->graph, (size_t)(j - r->jobs),
			                   true);
		break;
	case VERDICT_FAILED:
		j->state = JOB_FAILED;
		/* Stopped by alloter, it did not fail of its own. */
		if (strcmp(v->status, "terminated") == 0) {
			r->tally.terminated++;
		} else {
			r->tally.failed++;
			note_failure(r, a);
		}
		if (!r->streaming)
			skip_dependents(r, a);
		break;
	}
	check_halt(r);
	note_progress(r);
	reporter_post(r->reporter, a);
	return ret;
}

int feed_run(struct run *r, alloter_pool *pool)
{
	struct alloter_exec_opts eo = {
		.limit = r->set.limit,
		.timeout_ms = r->set.timeout_ms,
		.fail_fast = r->set.fail_fast,
		.kill_others = r->set.kill_others,
		.parent = r->root,
	};
	struct alloter_feed feed = {
		.next = feed_next,
		.done = feed_done,
		.wake_fd = pacing_fd(r->pacing),
		.ud = r,
	};
	int err;

	r->start_ns = clock_wall_ns();
	err = alloter_exec_feed(pool, &feed, &eo, &r->res);
	r->end_ns = clock_wall_ns();
	/* What never started is skipped: by a stop (fail-fast, the
	 * deadline, an interrupt), since dependency skips are counted as
	 * they happen. */
	for (size_t k = 0; k < r->n_jobs; k++)
		if (r->jobs[k].state == JOB_PENDING) {
			r->jobs[k].state = JOB_SKIPPED;
			r->tally.skipped++;
		}
	if (!err && r->read_err)
		err = r->read_err;
	return err;
}
