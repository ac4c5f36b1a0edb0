/*
 * exec.c - a batch of tasks on a pool: limit, deadline, fail-fast,
 * kill-others and cancellation.
 *
 * DESIGN.  All the batch's state is under one lock, and whoever holds it
 * drives: the feed's callbacks run under it, one at a time, on whichever
 * thread holds it.  A worker that finishes a task reports the end to the
 * feed itself, asks for the next task and runs it on the spot, so in the
 * steady state a task's end and the next start cost no hand-off between
 * threads at all.  Tasks beyond the first it can start go to the pool; so
 * do all of them while the pool has work queued for want of a thread, which
 * must not be overtaken for ever.
 * The caller's thread is the coordinator: it starts the first tasks, then
 * sleeps in one poll() on an eventfd, the batch's cancellation handle, the
 * feed's wake descriptor and the deadline, so it never spins.  Workers bump
 * the eventfd only when the coordinator has something to do: nothing is
 * running any more (the batch may be over), or the feed asked to wait for
 * its wake descriptor.  Stopping is two steps: "stop starting" (fail-fast,
 * deadline, cancel) and "cancel the running" (kill-others, deadline,
 * cancel: by firing the batch handle, which tasks watch).  Either way the
 * coordinator returns only after every task has come back, so no task
 * outlives the call.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "exec/pool.h"

struct batch;

struct slot {
	struct al_work work; /* first: the pool hands us this pointer */
	struct batch *r;
	struct alloter_task task;
	size_t id;
	struct alloter_outcome o;
	struct slot *next;  /* on the free list */
	struct slot *all;   /* every slot, for freeing */
};

struct batch {
	pthread_mutex_t lock; /* guards all but the constants below */
	const struct alloter_feed *feed;       /* constant */
	const struct alloter_exec_opts *opts;  /* constant */
	alloter_pool *pool;                    /* constant */
	alloter_cancel *cancel;                /* constant */
	int efd;                               /* constant: wakes the
	                                          coordinator */
	struct alloter_exec_result *res;
	struct slot *free_list, *all;
	size_t running;
	int err;
	bool stopping, ended, waiting;
	bool watch_wake; /* while waiting: the feed's wake_fd can end it */
};

static int64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void stop(struct batch *r, int reason)
{
	if (!r->stopping) {
		r->stopping = true;
		r->res->stop_reason = reason;
	}
}

static void run_slot_work(struct al_work *w);

static struct slot *get_slot(struct batch *r)
{
	struct slot *s = r->free_list;

	if (s) {
		r->free_list = s->next;
		return s;
	}
	s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->r = r;
	s->work.fn = run_slot_work;
	s->all = r->all;
	r->all = s;
	return s;
}

/* A task's end, told to the feed and counted; with the lock held. */
static void finish(struct batch *r, struct slot *s)
{
	int verdict = r->feed->done(r->feed->ud, s->id, &s->o);

	r->running--;
	if (s->o.state == ALLOTER_SUCCEEDED) {
		r->res->succeeded++;
	} else if (verdict != ALLOTER_RETRY) {
		r->res->failed++;
		if (r->res->first_failed == SIZE_MAX) {
			r->res->first_failed = s->id;
			r->res->err = s->o.err;
		}
		if (r->opts->fail_fast || r->opts->kill_others)
			stop(r, ALLOTER_CANCEL_FAILURE);
		if (r->opts->kill_others)
			alloter_cancel_fire(r->cancel, ALLOTER_CANCEL_FAILURE);
	}
	s->next = r->free_list;
	r->free_list = s;
	/* An end may make a waiting feed ready (a dependency, a retry). */
	r->waiting = false;
}

/* Starts tasks until the limit, the feed or a stop says otherwise; with the
 * lock held.  With keep, the first task started is not handed to the pool
 * but left in *keep for the calling worker to run.  A task that cannot be
 * handed to the pool (no thread can be started) ends at once as failed,
 * with the negative errno as its err; fail-fast decides, as for any
 * failure, whether the rest still start. */
static void start_tasks(struct batch *r, struct slot **keep)
{
	int limit = r->opts->limit, why = alloter_cancel_reason(r->cancel);

	/* A worker may get here between the handle firing (a deadline, the
	 * parent) and the coordinator's turn: nothing starts after it. */
	if (why)
		stop(r, why);

	while (!r->stopping && !r->ended && !r->waiting && !r->err &&
	       (limit == 0 || r->running < (size_t)limit)) {
		struct alloter_task task;
		size_t id;
		struct slot *s;
		int n = r->feed->next(r->feed->ud, &task, &id);

		if (n == ALLOTER_NEXT_WAIT || n == ALLOTER_NEXT_BUSY) {
			r->waiting = true;
			r->watch_wake = n == ALLOTER_NEXT_WAIT &&
			                r->feed->wake_fd >= 0;
		} else if (n != ALLOTER_NEXT_TASK) {
			/* The end, or an error of the feed's own. */
			if (n < 0 && !r->err)
				r->err = n;
			r->ended = true;
		} else if (!(s = get_slot(r))) {
			r->err = -ENOMEM; /* the task stays unstarted */
			stop(r, ALLOTER_CANCEL_FAILURE);
		} else {
			int err = 0;

			s->task = task;
			s->id = id;
			s->o = (struct alloter_outcome){0};
			r->running++;
			r->res->started++;
			/* Work queued for want of a thread goes first:
			 * this one waits its turn behind it. */
			if (keep && !*keep && !al_pool_queued(r->pool))
				*keep = s;
			else
				err = al_pool_submit(r->pool, &s->work);
			if (err) {
				s->o.state = ALLOTER_FAILED;
				s->o.err = err;
				s->o.start_ns = clock_ns(CLOCK_REALTIME);
				finish(r, s);
			}
		}
	}
}

/* Whether the coordinator must look at the batch: nothing runs (it may be
 * over), or the feed waits for its wake descriptor.  With the lock held. */
static bool coordinator_needed(const struct batch *r)
{
	return r->running == 0 ||
	       (r->waiting && r->watch_wake && !r->stopping);
}

static void wake_coordinator(struct batch *r)
{
	uint64_t one = 1;

	/* The write cannot fail short of counter overflow; see cancel.c. */
	while (write(r->efd, &one, sizeof one) < 0 && errno == EINTR)
		;
}

static void run_task(struct slot *s)
{
	int64_t t0;

	s->o.start_ns = clock_ns(CLOCK_REALTIME);
	t0 = clock_ns(CLOCK_MONOTONIC);
	s->o.err = s->task.fn(s->task.arg, s->r->cancel);
	s->o.duration_ns = clock_ns(CLOCK_MONOTONIC) - t0;
	s->o.state = s->o.err ? ALLOTER_FAILED : ALLOTER_SUCCEEDED;
}

/* A worker runs its task, then the next ones the feed has, for as long as
 * it has them. */
static void run_slot_work(struct al_work *w)
{
	struct slot *s = (struct slot *)w;
	struct batch *r = s->r;

	while (s) {
		struct slot *next = NULL;

		run_task(s);
		pthread_mutex_lock(&r->lock);
		finish(r, s);
		start_tasks(r, &next);
		/* Still under the lock: once it is released without a task
		 * of ours running, the coordinator may end the batch and
		 * free it, so this thread must not touch it after that. */
		if (coordinator_needed(r))
			wake_coordinator(r);
		pthread_mutex_unlock(&r->lock);
		s = next;
	}
}

static void take_wakes(struct batch *r)
{
	uint64_t n;

	while (read(r->efd, &n, sizeof n) < 0 && errno == EINTR)
		;
}

static void coordinate(struct batch *r)
{
	int64_t deadline = 0;

	if (r->opts->timeout_ms > 0)
		deadline = clock_ns(CLOCK_MONOTONIC) +
		           r->opts->timeout_ms * 1000000;
	pthread_mutex_lock(&r->lock);
	for (;;) {
		struct pollfd fds[3];
		nfds_t n = 0;
		int timeout = -1, wake = -1, rc;

		start_tasks(r, NULL);
		if (r->running == 0 &&
		    (r->stopping || r->ended ||
		     (r->waiting && !r->watch_wake)))
			break; /* a waiting feed with nothing to wake it is
			          done: nothing running can unblock it */

		fds[n++] = (struct pollfd){.fd = r->efd, .events = POLLIN};
		if (!r->stopping)
			fds[n++] = (struct pollfd){
				.fd = alloter_cancel_fd(r->cancel),
				.events = POLLIN};
		if (!r->stopping && r->waiting && r->watch_wake) {
			wake = (int)n;
			fds[n++] = (struct pollfd){.fd = r->feed->wake_fd,
			                           .events = POLLIN};
		}
		if (deadline && !alloter_cancel_reason(r->cancel)) {
			int64_t left = deadline - clock_ns(CLOCK_MONOTONIC);

			/* Round up so we never wake a hair early and spin. */
			timeout = left <= 0 ? 0 : (int)((left + 999999) / 1000000);
		}
		pthread_mutex_unlock(&r->lock);
		rc = poll(fds, n, timeout);
		/* Reset the counter before looking: a worker that bumps it
		 * after this read makes the next poll return at once. */
		if (rc > 0 && fds[0].revents)
			take_wakes(r);
		/* The handle needs no batch lock: the deadline cancels the
		 * running tasks even while a callback holds the lock. */
		if (deadline && clock_ns(CLOCK_MONOTONIC) >= deadline)
			alloter_cancel_fire(r->cancel, ALLOTER_CANCEL_TIMEOUT);
		pthread_mutex_lock(&r->lock);
		if (rc < 0 && errno != EINTR) {
			r->err = -errno;
			alloter_cancel_fire(r->cancel, ALLOTER_CANCEL_FAILURE);
			stop(r, ALLOTER_CANCEL_FAILURE);
			continue;
		}
		if (alloter_cancel_reason(r->cancel))
			stop(r, alloter_cancel_reason(r->cancel));
		if (wake >= 0 && fds[wake].revents)
			r->waiting = false;
	}
	pthread_mutex_unlock(&r->lock);
}

int alloter_exec_feed(alloter_pool *pool, const struct alloter_feed *feed,
                      const struct alloter_exec_opts *opts,
                      struct alloter_exec_result *res)
{
	static const struct alloter_exec_opts defaults = ALLOTER_EXEC_OPTS_INIT;
	struct alloter_exec_result scratch;
	struct batch r = {.feed = feed, .opts = opts ? opts : &defaults,
	                .pool = pool};
	int err;

	r.res = res ? res : &scratch;
	*r.res = (struct alloter_exec_result){.first_failed = SIZE_MAX};
	if (!pool || !feed || !feed->next || !feed->done ||
	    r.opts->limit < 0 || r.opts->timeout_ms < 0)
		return -EINVAL;
	if ((err = pthread_mutex_init(&r.lock, NULL)))
		return -err;
	r.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r.efd < 0) {
		err = -errno;
		goto out_lock;
	}
	if ((err = alloter_cancel_new(&r.cancel, r.opts->parent)))
		goto out_efd;

	coordinate(&r);
	err = r.err;

	alloter_cancel_free(r.cancel);
	while (r.all) {
		struct slot *s = r.all;
		r.all = s->all;
		free(s);
	}
out_efd:
	close(r.efd);
out_lock:
	pthread_mutex_destroy(&r.lock);
	return err;
}

/* The array form is a feed over the array. */
struct array_feed {
	const struct alloter_task *tasks;
	size_t n, next;
	struct alloter_outcome *outcomes;
};

static int array_next(void *ud, struct alloter_task *task, size_t *id)
{
	struct array_feed *a = ud;

	if (a->next == a->n)
		return ALLOTER_NEXT_END;
	*id = a->next;
	*task = a->tasks[a->next++];
	return ALLOTER_NEXT_TASK;
}

static int array_done(void *ud, size_t id, const struct alloter_outcome *o)
{
	struct array_feed *a = ud;

	if (a->outcomes)
		a->outcomes[id] = *o;
	return ALLOTER_FINAL;
}

int alloter_exec(alloter_pool *pool, const struct alloter_task *tasks, size_t n,
                 const struct alloter_exec_opts *opts,
                 struct alloter_outcome *outcomes,
                 struct alloter_exec_result *res)
{
	struct array_feed a = {.tasks = tasks, .n = n, .outcomes = outcomes};
	struct alloter_feed feed = {
		.next = array_next, .done = array_done, .wake_fd = -1, .ud = &a};

	if (n && !tasks)
		return -EINVAL;
	for (size_t i = 0; outcomes && i < n; i++)
		outcomes[i] = (struct alloter_outcome){0};
	return alloter_exec_feed(pool, &feed, opts, res);
}
