/*
 * exec.c - a batch of tasks on a pool: limit, deadline, fail-fast,
 * kill-others and cancellation.
 *
 * DESIGN.  The caller's thread is the coordinator: it alone asks the feed
 * for tasks, hands them to the pool, and hears of their ends, so the feed's
 * callbacks need no locking.  Each running task occupies a slot; a worker
 * that finishes a task appends the slot to the done queue under the batch
 * lock and bumps an eventfd.  The coordinator sleeps in one poll() on that
 * eventfd, the batch's cancellation handle, the feed's wake descriptor and
 * the deadline, so it never spins and never misses an event: the eventfd
 * counts, and the handle stays readable once fired.  Stopping is two steps:
 * "stop starting" (fail-fast, deadline, cancel) and "cancel the running"
 * (kill-others, deadline, cancel: by firing the batch handle, which tasks
 * watch).  Either way the coordinator returns only after every slot has come
 * back, so no task outlives the call.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "pool.h"

struct batch;

struct slot {
	struct al_work work; /* first: the pool hands us this pointer */
	struct batch *b;
	struct alloter_task task;
	size_t id;
	struct alloter_outcome o;
	struct slot *next;  /* on the done queue or the free list */
	struct slot *all;   /* every slot, for freeing */
};

struct batch {
	pthread_mutex_t lock;
	struct slot *done_head, *done_tail; /* guarded by lock */
	int efd;
	alloter_cancel *cancel;
	struct slot *free_list, *all;
};

static int64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Hands a finished slot back to the coordinator; any thread may call it. */
static void queue_done(struct batch *b, struct slot *s)
{
	uint64_t one = 1;

	pthread_mutex_lock(&b->lock);
	s->next = NULL;
	if (b->done_tail)
		b->done_tail->next = s;
	else
		b->done_head = s;
	b->done_tail = s;
	/* Still under the lock: once it is released, the coordinator may
	 * take this slot, finish the batch and close the eventfd, so this
	 * thread must not touch the batch after unlocking.  The write cannot
	 * fail short of counter overflow; see cancel.c. */
	while (write(b->efd, &one, sizeof one) < 0 && errno == EINTR)
		;
	pthread_mutex_unlock(&b->lock);
}

static void run_slot(struct al_work *w)
{
	struct slot *s = (struct slot *)w;
	struct batch *b = s->b;
	int64_t t0;

	s->o.start_ns = clock_ns(CLOCK_REALTIME);
	t0 = clock_ns(CLOCK_MONOTONIC);
	s->o.err = s->task.fn(s->task.arg, b->cancel);
	s->o.duration_ns = clock_ns(CLOCK_MONOTONIC) - t0;
	s->o.state = s->o.err ? ALLOTER_FAILED : ALLOTER_SUCCEEDED;

	queue_done(b, s);
}

static struct slot *get_slot(struct batch *b)
{
	struct slot *s = b->free_list;

	if (s) {
		b->free_list = s->next;
		return s;
	}
	s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->b = b;
	s->work.run = run_slot;
	s->all = b->all;
	b->all = s;
	return s;
}

/* Takes the whole done queue at once, in completion order. */
static struct slot *take_done(struct batch *b)
{
	struct slot *s;
	uint64_t n;

	/* Reset the counter first: a slot queued after this read bumps it
	 * again, so it cannot be missed. */
	while (read(b->efd, &n, sizeof n) < 0 && errno == EINTR)
		;
	pthread_mutex_lock(&b->lock);
	s = b->done_head;
	b->done_head = b->done_tail = NULL;
	pthread_mutex_unlock(&b->lock);
	return s;
}

struct run {
	const struct alloter_feed *feed;
	const struct alloter_exec_opts *opts;
	struct alloter_exec_result *res;
	struct batch b;
	size_t running;
	bool stopping, ended, waiting;
};

static void stop(struct run *r, int reason)
{
	if (!r->stopping) {
		r->stopping = true;
		r->res->stop_reason = reason;
	}
}

/* Starts tasks until the limit, the feed or a stop says otherwise.  A task
 * that cannot be handed to the pool (no thread can be started) ends at once
 * as failed, with the negative errno as its err, through the same done
 * queue as every other; fail-fast decides, as for any failure, whether the
 * rest still start. */
static int start_tasks(struct run *r, alloter_pool *pool)
{
	int limit = r->opts->limit;

	while (!r->stopping && !r->ended && !r->waiting &&
	       (limit == 0 || r->running < (size_t)limit)) {
		struct alloter_task task;
		size_t id;
		struct slot *s;
		int n = r->feed->next(r->feed->ud, &task, &id);

		if (n == ALLOTER_NEXT_WAIT) {
			r->waiting = true;
		} else if (n != ALLOTER_NEXT_TASK) {
			r->ended = true;
		} else if (!(s = get_slot(&r->b))) {
			return -ENOMEM; /* the task stays unstarted */
		} else {
			int err;

			s->task = task;
			s->id = id;
			s->o = (struct alloter_outcome){0};
			r->running++;
			r->res->started++;
			err = al_pool_submit(pool, &s->work);
			if (err) {
				s->o.state = ALLOTER_FAILED;
				s->o.err = err;
				s->o.start_ns = clock_ns(CLOCK_REALTIME);
				queue_done(&r->b, s);
			}
		}
	}
	return 0;
}

static void finish_tasks(struct run *r)
{
	struct slot *s = take_done(&r->b);

	while (s) {
		struct slot *next = s->next;
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
				alloter_cancel_fire(r->b.cancel,
				                    ALLOTER_CANCEL_FAILURE);
		}
		s->next = r->b.free_list;
		r->b.free_list = s;
		s = next;
	}
	/* An end may make a waiting feed ready (a dependency, a retry). */
	r->waiting = false;
}

static int coordinate(struct run *r, alloter_pool *pool)
{
	int64_t deadline = 0;
	int err = 0;

	if (r->opts->timeout_ms > 0)
		deadline = clock_ns(CLOCK_MONOTONIC) +
		           r->opts->timeout_ms * 1000000;
	for (;;) {
		struct pollfd fds[3];
		nfds_t n = 0;
		int timeout = -1, wake = -1;

		if (!err)
			err = start_tasks(r, pool);
		if (err)
			stop(r, ALLOTER_CANCEL_FAILURE);
		if (r->running == 0 &&
		    (r->stopping || r->ended ||
		     (r->waiting && r->feed->wake_fd < 0)))
			break; /* a waiting feed with nothing to wake it is
			          done: nothing running can unblock it */

		fds[n++] = (struct pollfd){.fd = r->b.efd, .events = POLLIN};
		if (!r->stopping)
			fds[n++] = (struct pollfd){
				.fd = alloter_cancel_fd(r->b.cancel),
				.events = POLLIN};
		if (!r->stopping && r->waiting && r->feed->wake_fd >= 0) {
			wake = (int)n;
			fds[n++] = (struct pollfd){.fd = r->feed->wake_fd,
			                           .events = POLLIN};
		}
		if (deadline && !alloter_cancel_reason(r->b.cancel)) {
			int64_t left = deadline - clock_ns(CLOCK_MONOTONIC);

			/* Round up so we never wake a hair early and spin. */
			timeout = left <= 0 ? 0 : (int)((left + 999999) / 1000000);
		}
		if (poll(fds, n, timeout) < 0 && errno != EINTR) {
			err = -errno;
			alloter_cancel_fire(r->b.cancel, ALLOTER_CANCEL_FAILURE);
			stop(r, ALLOTER_CANCEL_FAILURE);
			continue;
		}
		if (deadline && clock_ns(CLOCK_MONOTONIC) >= deadline)
			alloter_cancel_fire(r->b.cancel, ALLOTER_CANCEL_TIMEOUT);
		if (alloter_cancel_reason(r->b.cancel))
			stop(r, alloter_cancel_reason(r->b.cancel));
		finish_tasks(r);
		if (wake >= 0 && fds[wake].revents)
			r->waiting = false;
	}
	return err;
}

int alloter_exec_feed(alloter_pool *pool, const struct alloter_feed *feed,
                      const struct alloter_exec_opts *opts,
                      struct alloter_exec_result *res)
{
	static const struct alloter_exec_opts defaults = ALLOTER_EXEC_OPTS_INIT;
	struct alloter_exec_result scratch;
	struct run r = {.feed = feed, .opts = opts ? opts : &defaults};
	int err;

	r.res = res ? res : &scratch;
	*r.res = (struct alloter_exec_result){.first_failed = SIZE_MAX};
	if (!pool || !feed || !feed->next || !feed->done ||
	    r.opts->limit < 0 || r.opts->timeout_ms < 0)
		return -EINVAL;
	if ((err = pthread_mutex_init(&r.b.lock, NULL)))
		return -err;
	r.b.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r.b.efd < 0) {
		err = -errno;
		goto out_lock;
	}
	if ((err = alloter_cancel_new(&r.b.cancel, r.opts->parent)))
		goto out_efd;

	err = coordinate(&r, pool);

	alloter_cancel_free(r.b.cancel);
	while (r.b.all) {
		struct slot *s = r.b.all;
		r.b.all = s->all;
		free(s);
	}
out_efd:
	close(r.b.efd);
out_lock:
	pthread_mutex_destroy(&r.b.lock);
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
