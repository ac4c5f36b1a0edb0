/*
 * exec.c - a batch of tasks on a pool: limit, deadline, fail-fast,
 * kill-others and cancellation, as an array, a feed or a group.
 *
 * DESIGN.  All the batch's state is under one lock, and whoever holds it
 * drives: the feed's callbacks run under it, one at a time, on whichever
 * thread holds it.  A thread that finishes a task reports the end to the
 * feed itself, asks for the next task and runs it on the spot, so in the
 * steady state a task's end and the next start cost no hand-off between
 * threads at all.  Tasks beyond the first a thread can start go to the
 * pool; a pool thread may keep one only while the pool has no work queued
 * for want of a thread, which must not be overtaken for ever.
 * The caller's thread is the coordinator.  Unless the feed has a wake
 * descriptor to watch, it helps: it runs the first task itself, and takes
 * back from the pool's queue any task of its batch that no pool thread has
 * taken yet, and runs it.  So small batches cost no hand-off, and an exec
 * called from a task on a pool with no free thread still makes progress.
 * With nothing to run, it sleeps in one poll() on an eventfd, the batch's
 * cancellation handle and the feed's wake descriptor, so it never spins.
 * Threads bump the eventfd only when the coordinator has something to do:
 * nothing runs any more (the batch may be over), the feed asked to wait
 * for its wake descriptor, or a stop left tasks in the pool's queue.
 * The deadline is the batch handle's own (the timer thread in cancel.c
 * fires it), so it holds whatever the coordinator, a callback or the pool
 * is doing.  Stopping is two steps: "stop starting" (fail-fast, deadline,
 * cancel), which also takes queued tasks back unstarted and makes a pool
 * thread that takes one late leave it unstarted, and "cancel the running"
 * (kill-others, deadline, cancel: by firing the batch handle, which tasks
 * watch).  Either way the coordinator returns only after every task has
 * come back, so no task outlives the call.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "base/clock.h"
#include "exec/pool.h"

/* How often a coordinator that may not help looks whether its queued
 * tasks are stuck behind busy threads (a nested exec). */
#define STUCK_POLL_MS 10

struct batch;

struct slot {
	struct al_work work; /* first: the pool hands us this pointer */
	struct batch *r;
	struct alloter_task task;
	size_t id;
	struct alloter_outcome o;
	struct alloter_outcome *out; /* where the outcome goes, or NULL */
	bool queued;                 /* handed to the pool, not taken yet */
	struct slot *qnext, *qprev;  /* the batch's queued slots, oldest
	                                first */
	struct slot *next;  /* on the free list */
	struct slot *all;   /* every slot, for freeing */
};

struct batch {
	pthread_mutex_t lock; /* guards all but the constants below */
	pthread_cond_t room;  /* a group's go() waits here for the limit */
	const struct alloter_feed *feed;       /* constant */
	struct alloter_exec_opts opts;         /* constant */
	alloter_pool *pool;                    /* constant */
	alloter_cancel *cancel;                /* constant */
	int efd;                               /* constant: wakes the
	                                          coordinator */
	bool helps;                            /* constant: the coordinator
	                                          runs tasks */
	int64_t wall_minus_mono;               /* constant: to date starts
	                                          with one clock read */
	int64_t deadline;                      /* constant: monotonic ns;
	                                          0 = none */
	struct alloter_exec_result *res;
	struct slot *free_list, *all;
	struct slot *qhead, *qtail;
	size_t running;   /* slots out: queued or running */
	size_t withdrawn; /* handed out but never started */
	size_t seq;       /* a group's next id */
	unsigned go_waiting;
	int err;
	bool sleeping; /* the coordinator is in poll(): write the efd */
	bool poked;    /* else: it must look before it sleeps */
	bool stopping, ended, waiting, closed;
	bool watch_wake; /* while waiting: the feed's wake_fd can end it */
};

static void stop(struct batch *r, int reason)
{
	if (!r->stopping) {
		r->stopping = true;
		r->res->stop_reason = reason;
		if (r->go_waiting)
			pthread_cond_broadcast(&r->room);
	}
}

static void run_slot_work(struct al_work *w);

/* Why the batch must stop starting tasks, or 0; with the lock held.  The
 * timer thread fires the handle at the deadline, but a start a hair after
 * it must not slip through before it does. */
static int stop_reason(struct batch *r)
{
	int why = alloter_cancel_reason(r->cancel);

	if (!why && r->deadline && al_mono_ns() >= r->deadline) {
		alloter_cancel_fire(r->cancel, ALLOTER_CANCEL_TIMEOUT);
		why = alloter_cancel_reason(r->cancel);
	}
	return why;
}

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

/* A task's end (or its withdrawal), told to the feed and counted; with the
 * lock held. */
static void finish(struct batch *r, struct slot *s)
{
	int verdict = r->feed->done(r->feed->ud, s->id, &s->o);

	if (s->out)
		*s->out = s->o;
	r->running--;
	if (s->o.state == ALLOTER_SUCCEEDED) {
		r->res->succeeded++;
	} else if (s->o.state == ALLOTER_NOT_RUN) {
		r->withdrawn++;
	} else if (verdict == ALLOTER_RETRY) {
		/* the source offers it again: not counted */
	} else if (s->o.state == ALLOTER_CANCELLED) {
		r->res->cancelled++;
	} else {
		r->res->failed++;
		if (r->res->first_failed == SIZE_MAX) {
			r->res->first_failed = s->id;
			r->res->err = s->o.err;
		}
		if (r->opts.fail_fast || r->opts.kill_others)
			stop(r, ALLOTER_CANCEL_FAILURE);
		if (r->opts.kill_others)
			alloter_cancel_fire(r->cancel, ALLOTER_CANCEL_FAILURE);
	}
	s->next = r->free_list;
	r->free_list = s;
	/* An end may make a waiting feed ready (a dependency, a retry). */
	r->waiting = false;
	if (r->go_waiting)
		pthread_cond_signal(&r->room);
}

/* Ends s unstarted, because the batch stopped while it was queued. */
static void withdraw(struct batch *r, struct slot *s)
{
	s->o = (struct alloter_outcome){.state = ALLOTER_NOT_RUN,
	                                .reason = r->res->stop_reason};
	finish(r, s);
}

static void unqueue(struct batch *r, struct slot *s)
{
	if (s->qprev)
		s->qprev->qnext = s->qnext;
	else
		r->qhead = s->qnext;
	if (s->qnext)
		s->qnext->qprev = s->qprev;
	else
		r->qtail = s->qprev;
	s->queued = false;
}

/* Whether s, about to run, still may: the batch may have stopped since
 * it was queued.  Counts it as started, or ends it unstarted; with the
 * lock held. */
static bool claim(struct batch *r, struct slot *s)
{
	int why = stop_reason(r);

	if (why)
		stop(r, why);
	if (r->stopping) {
		withdraw(r, s);
		return false;
	}
	r->res->started++;
	return true;
}

/* Hands s to the pool; with the lock held.  A task that cannot be handed
 * to the pool (no thread can be started) ends at once as failed, with the
 * negative errno as its err; fail-fast decides, as for any failure,
 * whether the rest still start. */
static void submit(struct batch *r, struct slot *s)
{
	int err;

	s->queued = true;
	s->qnext = NULL;
	s->qprev = r->qtail;
	if (r->qtail)
		r->qtail->qnext = s;
	else
		r->qhead = s;
	r->qtail = s;
	if ((err = al_pool_submit(r->pool, &s->work))) {
		unqueue(r, s);
		r->res->started++;
		s->o.state = ALLOTER_FAILED;
		s->o.err = err;
		s->o.start_ns = al_wall_ns();
		finish(r, s);
	}
}

/* Starts tasks until the limit, the feed or a stop says otherwise; with the
 * lock held.  With keep, the first task started is not handed to the pool
 * but left in *keep for the calling thread to run; with fair as well, only
 * while no work waits in the pool's queue. */
static void start_tasks(struct batch *r, struct slot **keep, bool fair)
{
	int limit = r->opts.limit, why = stop_reason(r);

	/* A thread may get here between the handle firing (a deadline, the
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
			s->task = task;
			s->id = id;
			s->out = NULL;
			s->o = (struct alloter_outcome){0};
			r->running++;
			if (keep && !*keep &&
			    !(fair && al_pool_queued(r->pool))) {
				*keep = s;
				r->res->started++;
			} else {
				submit(r, s);
			}
		}
	}
}

/* Whether the coordinator must look at the batch: nothing runs (it may be
 * over), the feed waits for its wake descriptor, or a stop left tasks in
 * the pool's queue to take back.  With the lock held. */
static bool coordinator_needed(const struct batch *r)
{
	return r->running == 0 ||
	       (r->waiting && r->watch_wake && !r->stopping) ||
	       (r->stopping && r->qhead);
}

/* With the lock held. */
static void wake_coordinator(struct batch *r)
{
	uint64_t one = 1;

	/* Busy running a task of its own: it looks before it sleeps, and a
	 * flag is cheaper than a system call. */
	if (!r->sleeping) {
		r->poked = true;
		return;
	}
	/* The write cannot fail short of counter overflow; see cancel.c. */
	while (write(r->efd, &one, sizeof one) < 0 && errno == EINTR)
		;
}


/* A task ended its thread with pthread_exit: the unwinding runs this, on
 * a pool thread, and the task fails; the pool replaces the thread. */
static void task_exited(void *arg)
{
	struct slot *s = arg;
	struct batch *r = s->r;

	s->o.state = ALLOTER_FAILED;
	s->o.err = -EOWNERDEAD;
	pthread_mutex_lock(&r->lock);
	finish(r, s);
	start_tasks(r, NULL, false);
	if (coordinator_needed(r))
		wake_coordinator(r);
	pthread_mutex_unlock(&r->lock);
}

static void run_task(struct slot *s)
{
	int64_t t0;
	int err, why;

	t0 = al_mono_ns();
	s->o.start_ns = t0 + s->r->wall_minus_mono;
	pthread_cleanup_push(task_exited, s);
	err = s->task.fn(s->task.arg, s->r->cancel);
	pthread_cleanup_pop(0);
	s->o.duration_ns = al_mono_ns() - t0;
	s->o.err = err;
	if (!err)
		s->o.state = ALLOTER_SUCCEEDED;
	else if ((why = alloter_cancel_reason(s->r->cancel))) {
		s->o.state = ALLOTER_CANCELLED;
		s->o.reason = why;
	} else {
		s->o.state = ALLOTER_FAILED;
	}
}

/* Runs s, then the next tasks the feed has, for as long as it has them.
 * A pool thread wakes the coordinator when it must look; the coordinator
 * itself (coord) comes back with the lock held. */
static void run_chain(struct slot *s, bool coord)
{
	struct batch *r = s->r;

	for (;;) {
		struct slot *next = NULL;

		run_task(s);
		pthread_mutex_lock(&r->lock);
		finish(r, s);
		start_tasks(r, &next, !coord);
		if (!next && coord)
			return;
		/* Still under the lock: once it is released without a task
		 * of ours running, the coordinator may end the batch and
		 * free it, so this thread must not touch it after that. */
		if (!next && coordinator_needed(r))
			wake_coordinator(r);
		pthread_mutex_unlock(&r->lock);
		if (!next)
			return;
		s = next;
	}
}

static void run_slot_work(struct al_work *w)
{
	struct slot *s = (struct slot *)w;
	struct batch *r = s->r;
	bool run;

	pthread_mutex_lock(&r->lock);
	unqueue(r, s);
	run = claim(r, s);
	if (!run && coordinator_needed(r))
		wake_coordinator(r);
	pthread_mutex_unlock(&r->lock);
	if (run)
		run_chain(s, false);
}

/* Takes back the oldest of the batch's tasks that no pool thread has taken
 * yet, to run it on this thread; with only_stuck, only one that no thread
 * can take soon.  Returns it, claimed, or NULL.  With the lock held. */
static struct slot *take_back(struct batch *r, bool only_stuck)
{
	for (struct slot *s = r->qhead; s; s = s->qnext) {
		if (!al_pool_withdraw(r->pool, &s->work, only_stuck)) {
			if (only_stuck)
				return NULL;
			continue; /* a thread has it, and waits for the lock */
		}
		unqueue(r, s);
		if (claim(r, s))
			return s;
		return NULL;
	}
	return NULL;
}

/* After a stop: takes back every queued task and ends it unstarted. */
static void withdraw_queued(struct batch *r)
{
	struct slot *s = r->qhead;

	while (s) {
		struct slot *next = s->qnext;

		if (al_pool_withdraw(r->pool, &s->work, false)) {
			unqueue(r, s);
			withdraw(r, s);
		}
		s = next;
	}
}

static void take_wakes(struct batch *r)
{
	uint64_t n;

	while (read(r->efd, &n, sizeof n) < 0 && errno == EINTR)
		;
}

/* Runs the batch to its end; with the lock held. */
static void coordinate(struct batch *r)
{
	for (;;) {
		struct pollfd fds[3];
		struct slot *mine = NULL;
		nfds_t n = 0;
		int wake = -1, timeout, rc;

		start_tasks(r, r->helps ? &mine : NULL, false);
		if (r->stopping)
			withdraw_queued(r);
		else if (!mine && r->qhead)
			mine = take_back(r, !r->helps);
		if (mine) {
			pthread_mutex_unlock(&r->lock);
			run_chain(mine, true);
			continue;
		}
		if (r->running == 0 &&
		    (r->stopping || r->ended ||
		     (r->waiting && !r->watch_wake)))
			break; /* a waiting feed with nothing to wake it is
			          done: nothing running can unblock it */

		/* Poked while it ran a task or a callback: look again.
		 * Pokes happen under the lock, so none is missed. */
		if (r->poked) {
			r->poked = false;
			continue;
		}
		r->sleeping = true;
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
		timeout = r->qhead && !r->helps ? STUCK_POLL_MS : -1;
		pthread_mutex_unlock(&r->lock);
		rc = poll(fds, n, timeout);
		/* Reset the counter before looking: a thread that bumps it
		 * after this read makes the next poll return at once. */
		if (rc > 0 && fds[0].revents)
			take_wakes(r);
		pthread_mutex_lock(&r->lock);
		r->sleeping = false;
		r->poked = false;
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
}

static int check_opts(const struct alloter_exec_opts *opts)
{
	return opts->limit < 0 || opts->timeout_ms < 0 ? -EINVAL : 0;
}

/* Sets up a batch; the deadline counts from here.  Returns 0 or a
 * negative errno value. */
static int batch_init(struct batch *r, alloter_pool *pool,
                      const struct alloter_feed *feed,
                      const struct alloter_exec_opts *opts,
                      struct alloter_exec_result *res)
{
	pthread_mutexattr_t ma;
	int err;

	*r = (struct batch){.feed = feed, .opts = *opts, .pool = pool,
	                    .res = res, .helps = feed->wake_fd < 0,
	                    .wall_minus_mono = al_wall_ns() - al_mono_ns()};
	*res = (struct alloter_exec_result)ALLOTER_EXEC_RESULT_INIT;
	/* The lock is held briefly but often, by threads that end tasks at
	 * once: spinning a little before sleeping saves a futex round trip
	 * per contended end. */
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ADAPTIVE_NP);
	err = pthread_mutex_init(&r->lock, &ma);
	pthread_mutexattr_destroy(&ma);
	if (err)
		return -err;
	if ((err = pthread_cond_init(&r->room, NULL))) {
		err = -err;
		goto out_lock;
	}
	r->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->efd < 0) {
		err = -errno;
		goto out_cond;
	}
	if ((err = alloter_cancel_new_timeout(&r->cancel, opts->parent,
	                                      opts->timeout_ms)))
		goto out_efd;
	if (opts->timeout_ms > 0 &&
	    (r->deadline = al_deadline_ns(opts->timeout_ms)) == INT64_MAX)
		r->deadline = 0; /* never */
	return 0;

out_efd:
	close(r->efd);
out_cond:
	pthread_cond_destroy(&r->room);
out_lock:
	pthread_mutex_destroy(&r->lock);
	return err;
}

/* Ends a batch after coordinate(): the summary, then the resources.
 * Returns the batch's error. */
static int batch_end(struct batch *r)
{
	struct alloter_exec_result *res = r->res;

	res->ok = !r->err && res->failed == 0 && res->cancelled == 0 &&
	          r->withdrawn == 0 && !r->stopping && r->ended;
	alloter_cancel_free(r->cancel);
	while (r->all) {
		struct slot *s = r->all;
		r->all = s->all;
		free(s);
	}
	close(r->efd);
	pthread_cond_destroy(&r->room);
	pthread_mutex_destroy(&r->lock);
	return r->err;
}

int alloter_exec_feed(alloter_pool *pool, const struct alloter_feed *feed,
                      const struct alloter_exec_opts *opts,
                      struct alloter_exec_result *res)
{
	static const struct alloter_exec_opts defaults = ALLOTER_EXEC_OPTS_INIT;
	struct alloter_exec_result scratch;
	struct batch r;
	int err;

	if (!res)
		res = &scratch;
	*res = (struct alloter_exec_result)ALLOTER_EXEC_RESULT_INIT;
	if (!opts)
		opts = &defaults;
	if (!pool || !feed || !feed->next || !feed->done || check_opts(opts))
		return -EINVAL;
	if ((err = batch_init(&r, pool, feed, opts, res)))
		return err;
	pthread_mutex_lock(&r.lock);
	coordinate(&r);
	pthread_mutex_unlock(&r.lock);
	return batch_end(&r);
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
	int err;

	if (n && !tasks)
		return -EINVAL;
	for (size_t i = 0; outcomes && i < n; i++)
		outcomes[i] = (struct alloter_outcome){0};
	/* Nothing to run: nothing to set up either. */
	if (n == 0 && pool && (!opts || !check_opts(opts))) {
		if (res)
			*res = (struct alloter_exec_result){
				.first_failed = SIZE_MAX, .ok = true};
		return 0;
	}
	err = alloter_exec_feed(pool, &feed, opts, res);
	/* Every task handed out ran and succeeded, and the array is done
	 * even if a late stop kept next() from saying so. */
	if (res && !err && res->succeeded == n)
		res->ok = true;
	return err;
}

/* ------------------------------------------------------------------------
 * The group: a batch whose tasks come from go() calls.  Its feed never
 * offers a task: go() starts them itself, under the lock, as start_tasks
 * would; wait() closes the feed and coordinates what is left.
 */
struct alloter_group {
	struct batch r;
	struct alloter_feed feed;
	struct alloter_exec_result res;
	bool waited;
};

static int group_next(void *ud, struct alloter_task *task, size_t *id)
{
	struct alloter_group *g = ud;

	(void)task, (void)id;
	return g->r.closed ? ALLOTER_NEXT_END : ALLOTER_NEXT_BUSY;
}

static int group_done(void *ud, size_t id, const struct alloter_outcome *o)
{
	(void)ud, (void)id, (void)o;
	return ALLOTER_FINAL;
}

int alloter_group_new(alloter_group **out, alloter_pool *pool,
                      const struct alloter_exec_opts *opts)
{
	static const struct alloter_exec_opts defaults = ALLOTER_EXEC_OPTS_INIT;
	alloter_group *g;
	int err;

	if (!opts)
		opts = &defaults;
	if (!pool || check_opts(opts))
		return -EINVAL;
	if (!(g = calloc(1, sizeof *g)))
		return -ENOMEM;
	g->feed = (struct alloter_feed){.next = group_next, .done = group_done,
	                                .wake_fd = -1, .ud = g};
	if ((err = batch_init(&g->r, pool, &g->feed, opts, &g->res))) {
		free(g);
		return err;
	}
	*out = g;
	return 0;
}

static int group_go(alloter_group *g, alloter_fn fn, void *arg,
                    struct alloter_outcome *out, bool block)
{
	struct batch *r = &g->r;
	struct slot *s;
	int err = 0;

	if (!fn)
		return -EINVAL;
	pthread_mutex_lock(&r->lock);
	for (;;) {
		int why = stop_reason(r);

		if (why)
			stop(r, why);
		if (r->closed) {
			err = -EINVAL;
			goto out;
		}
		if (r->stopping) {
			err = -ECANCELED;
			goto out;
		}
		if (r->opts.limit == 0 || r->running < (size_t)r->opts.limit)
			break;
		if (!block) {
			err = -EAGAIN;
			goto out;
		}
		/* Full: help with a task of ours that no thread took, so
		 * that go() from a task on a busy pool still progresses. */
		if ((s = take_back(r, false))) {
			pthread_mutex_unlock(&r->lock);
			run_chain(s, true);
			continue;
		}
		r->go_waiting++;
		pthread_cond_wait(&r->room, &r->lock);
		r->go_waiting--;
	}
	if (!(s = get_slot(r))) {
		err = -ENOMEM;
		goto out;
	}
	s->task = (struct alloter_task){fn, arg};
	s->id = r->seq++;
	s->o = (struct alloter_outcome){0};
	s->out = out;
	if (out)
		*out = s->o;
	r->running++;
	submit(r, s);
out:
	pthread_mutex_unlock(&r->lock);
	return err;
}

int alloter_group_go(alloter_group *g, alloter_fn fn, void *arg)
{
	return group_go(g, fn, arg, NULL, true);
}

int alloter_group_try_go(alloter_group *g, alloter_fn fn, void *arg)
{
	return group_go(g, fn, arg, NULL, false);
}

int alloter_group_go_outcome(alloter_group *g, alloter_fn fn, void *arg,
                             struct alloter_outcome *out)
{
	return group_go(g, fn, arg, out, true);
}

int alloter_group_wait(alloter_group *g, struct alloter_exec_result *res)
{
	struct batch *r = &g->r;

	pthread_mutex_lock(&r->lock);
	if (!g->waited) {
		r->closed = true;
		r->waiting = false;
		coordinate(r);
		g->waited = true;
		g->res.ok = !r->err && !r->stopping &&
		            g->res.succeeded == r->seq && r->withdrawn == 0;
	}
	if (res)
		*res = g->res;
	pthread_mutex_unlock(&r->lock);
	return r->err;
}

void alloter_group_free(alloter_group *g)
{
	if (!g)
		return;
	alloter_group_wait(g, NULL);
	batch_end(&g->r);
	free(g);
}
