/*
 * exec.c - a batch of tasks on a pool: limit, deadline, fail-fast,
 * kill-others and cancellation, as an array, a feed or a group.
 *
 * DESIGN.  All the batch's state is under one lock, and whoever holds it
 * drives: the feed's callbacks run under it, one at a time, on whichever
 * thread holds it.  Tasks are not queued anywhere: a thread in the batch
 * (a participant) takes the next task from the feed only when it is about
 * to run it, runs it, reports its end to the feed and takes the next, all
 * in one hold of the lock per task, so a task's end and the next start
 * cost no hand-off between threads.  An array's short tasks are taken in
 * bursts, one hold for several (see BURST_SHORT_NS).  Whether a task may
 * still start (a stop, the deadline, the limit) is decided at that moment,
 * so nothing handed out is ever left waiting for a thread.
 * The caller's thread is the coordinator.  Unless the feed has a wake
 * descriptor to watch, it is a participant: a small batch of short tasks
 * runs on it whole, and exec called from a task on a pool with no free
 * thread still progresses.  Whenever a participant takes a task and the
 * limit leaves room for one more, the batch asks the pool for one thread
 * (one at a time: a thread that comes and takes a task asks for the next),
 * so a burst of short tasks costs one wake-up, long tasks soon get every
 * thread the limit allows, and a thread that comes too late finds nothing
 * and leaves.  A coordinator with nothing to run sleeps on a condition
 * variable; one that watches a wake descriptor sleeps in one poll() on an
 * eventfd, the batch's handle and that descriptor, and runs tasks itself
 * only when the pool has no thread to give.  Participants wake it only
 * when it must look: nothing runs (the batch may be over), or the feed
 * asked to wait for its wake descriptor.  At the end it takes its request
 * back from the pool and waits for every thread the pool sent to leave.
 * The deadline is the batch handle's own (the timer thread in cancel.c
 * fires it), so it holds whatever the coordinator, a callback or the pool
 * is doing.  Stopping is two steps: "stop starting" (fail-fast, deadline,
 * cancel), seen by the next participant that looks, which also ends a
 * group's tasks that wait for a thread unstarted, and "cancel the running"
 * (kill-others, deadline, cancel: by firing the batch handle, which tasks
 * watch).  Either way the coordinator returns only after every task has
 * come back, so no task outlives the call.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/spin.h"
#include "exec/cancel.h"
#include "exec/pool.h"

/* How often a coordinator that may not help looks whether the thread it
 * asked for is stuck behind busy threads (a nested exec). */
#define STUCK_POLL_MS 10

/* An array's tasks that end faster than this are taken several at a time,
 * up to BURST_MAX in one hold of the lock: for such a task, taking the
 * lock and telling its end cost more than running it, and two threads
 * that take turns at the lock for every task are slower than one.  The
 * burst doubles while its tasks stay short and is back to one as soon as
 * one is not, so a long task holds at most BURST_MAX - 1 short ones behind
 * it; and each task of a burst is looked at before it starts, as a single
 * one is when taken (stop, cancel, deadline, an earlier failure). */
#define BURST_SHORT_NS 2000
#define BURST_MAX 16

struct batch;

/* A task handed to a participant, or, for a group, waiting in its queue. */
struct job {
	struct alloter_task task;
	size_t id;
	struct alloter_outcome o;
	struct alloter_outcome *out; /* a group's: where the outcome goes */
};

/* A group's task on the heap while it waits in the group's queue. */
struct queued {
	struct job job;
	struct queued *next; /* in the queue or on the free list */
};

/* What a participant runs between two holds of the lock: one task, or a
 * burst of an array's short ones; on the participant's stack. */
struct slot {
	struct batch *r;
	bool helper;   /* run by a pool thread */
	unsigned n;    /* jobs taken */
	unsigned ran;  /* of them, started (they run in order) */
	struct job job[BURST_MAX];
};

struct batch {
	pthread_mutex_t lock; /* guards all but the constants below */
	pthread_cond_t room;  /* a group's go() waits here for the limit */
	pthread_cond_t wake;  /* the coordinator sleeps here, unless it
	                         polls */
	struct al_work work;  /* the pool's thread calls help() with it */
	const struct alloter_feed *feed;       /* constant */
	size_t (*left)(void *ud);              /* constant: how many tasks
	                                          next() still has, when it
	                                          can tell; NULL: ask it */
	struct alloter_exec_opts opts;         /* constant */
	alloter_pool *pool;                    /* constant */
	alloter_cancel *cancel;                /* constant */
	int fds[2];                            /* constant: the handle's,
	                                          lent by the pool */
	int efd;                               /* constant: wakes a polling
	                                          coordinator; -1 if it
	                                          helps */
	int64_t wall_minus_mono;               /* constant: to date starts
	                                          with one clock read */
	int64_t deadline;                      /* constant: monotonic ns;
	                                          0 = none */
	struct alloter_exec_result *res;
	struct queued *qhead, *qtail; /* a group's tasks, not started yet */
	struct queued *free_list;     /* a group's spare entries */
	size_t queued;    /* in the queue */
	size_t running;   /* started, not ended */
	size_t withdrawn; /* handed in or out but never started */
	size_t seq;       /* a group's next id */
	unsigned go_waiting;
	atomic_uint gone; /* pool threads that came and left (written under
	                     the lock, watched without it at the end) */
	int err;
	bool asking;   /* a pool thread was asked for and has not come */
	bool alone;    /* the pool has no thread to give at all */
	bool over;     /* the coordinator waits for the pool's threads to
	                  leave: ask for none */
	bool sleeping; /* the coordinator sleeps: wake it */
	bool poked;    /* else: it must look before it sleeps */
	bool stopping, ended, waiting, closed;
	atomic_bool halt; /* stopping, for a burst's look without the lock */
	unsigned burst;   /* jobs an array's participant takes at once; 0:
	                     one always (a feed may not be told of a task
	                     handed out and never started) */
	bool watch_wake; /* while waiting: the feed's wake_fd can end it */
};

static void stop(struct batch *r, int reason)
{
	if (!r->stopping) {
		r->stopping = true;
		atomic_store_explicit(&r->halt, true, memory_order_relaxed);
		r->res->stop_reason = reason;
		if (r->go_waiting)
			pthread_cond_broadcast(&r->room);
	}
}

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

/* A task's end (or its withdrawal), told to the feed and counted; with the
 * lock held. */
static void finish(struct batch *r, struct job *s)
{
	int verdict = r->feed->done(r->feed->ud, s->id, &s->o);

	if (s->out)
		*s->out = s->o;
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
	/* An end may make a waiting feed ready (a dependency, a retry). */
	r->waiting = false;
	if (r->go_waiting)
		pthread_cond_signal(&r->room);
}

/* With the lock held. */
static void wake_coordinator(struct batch *r)
{
	uint64_t one = 1;

	/* Busy running a task of its own: it looks before it sleeps, and a
	 * flag is cheaper than a system call. */
	if (!r->sleeping) {
		r->poked = true;
	} else if (r->efd < 0 || r->over) {
		pthread_cond_signal(&r->wake);
	} else {
		/* The write cannot fail short of counter overflow; see
		 * cancel.c. */
		while (write(r->efd, &one, sizeof one) < 0 && errno == EINTR)
			;
	}
}

/* Whether the coordinator must look at the batch: nothing runs (it may be
 * over), the feed waits for its wake descriptor, or it waits for the
 * pool's threads to leave.  With the lock held. */
static bool coordinator_needed(const struct batch *r)
{
	return r->running == 0 || r->over ||
	       (r->waiting && r->watch_wake && !r->stopping);
}

/* Asks the pool for one more thread if the batch has a task that may
 * start now and none was asked for yet; with the lock held.  While an
 * array's tasks run short (in bursts), only for a whole burst's worth:
 * fewer go to the threads already in the batch sooner than a woken one
 * could come for them. */
static void ask(struct batch *r)
{
	int limit = r->opts.limit;

	if (r->asking || r->over || r->alone || r->stopping ||
	    (limit && r->running >= (size_t)limit))
		return;
	if (!r->qhead && (r->ended || r->waiting || r->err ||
	                  (r->left && r->left(r->feed->ud) <
	                                      (r->burst > 1 ? BURST_MAX : 1))))
		return;
	/* Under the batch's lock, which the pool's threads never hold
	 * while they wait for the pool's. */
	if (al_pool_ask(r->pool, &r->work) == 0)
		r->asking = true;
	else
		r->alone = true; /* the participants run everything */
}

/* Ends a group's queued tasks unstarted, after a stop; with the lock
 * held. */
static void withdraw_queued(struct batch *r)
{
	while (r->qhead) {
		struct queued *q = r->qhead;

		r->qhead = q->next;
		r->queued--;
		q->job.o = (struct alloter_outcome){
			.state = ALLOTER_NOT_RUN, .reason = r->res->stop_reason};
		finish(r, &q->job);
		q->next = r->free_list;
		r->free_list = q;
	}
	r->qtail = NULL;
}

/* Hands the calling thread the next task to run, or a burst of them, in
 * *s, or returns false: the batch stopped, is at its limit, or has none
 * now.  Counts the first as started.  With the lock held. */
static bool take(struct batch *r, struct slot *s)
{
	struct alloter_task task;
	size_t id;
	unsigned want = r->burst ? r->burst : 1;
	int n, why = stop_reason(r), limit = r->opts.limit;
	bool full = limit && r->running >= (size_t)limit;

	if (why)
		stop(r, why);
	if (r->stopping) {
		withdraw_queued(r);
		return false;
	}
	s->n = s->ran = 0;
	/* A group's were admitted under the limit when they were queued; an
	 * array's were given back by a burst and wait for room like any. */
	if (r->qhead && !(r->burst && full)) {
		struct queued *q = r->qhead;

		if (!(r->qhead = q->next))
			r->qtail = NULL;
		r->queued--;
		s->job[s->n++] = q->job;
		q->next = r->free_list;
		r->free_list = q;
	} else {
		if (r->ended || r->waiting || r->err || full)
			return false;
		while (s->n < want) {
			n = r->feed->next(r->feed->ud, &task, &id);
			if (n == ALLOTER_NEXT_WAIT || n == ALLOTER_NEXT_BUSY) {
				r->waiting = true;
				r->watch_wake = n == ALLOTER_NEXT_WAIT &&
				                r->feed->wake_fd >= 0;
				break;
			}
			if (n != ALLOTER_NEXT_TASK) {
				/* The end, or an error of the feed's own. */
				if (n < 0 && !r->err)
					r->err = n;
				r->ended = true;
				break;
			}
			s->job[s->n++] = (struct job){.task = task, .id = id};
		}
		if (s->n == 0)
			return false;
	}
	for (unsigned i = 0; i < s->n; i++)
		s->job[i].o = (struct alloter_outcome){0};
	r->running++;
	r->res->started++;
	ask(r);
	return true;
}

/* Ends what s ran of its jobs, and the rest unstarted; with the lock
 * held.  The next burst is longer if every job ran short. */
static void settle(struct batch *r, struct slot *s)
{
	bool short_ones = s->ran == s->n;
	int why;

	for (unsigned i = 0; i < s->ran; i++) {
		finish(r, &s->job[i]);
		short_ones &= s->job[i].o.duration_ns < BURST_SHORT_NS;
	}
	if (s->ran > 1)
		r->res->started += s->ran - 1;
	if (s->ran < s->n) {
		/* It stopped for a reason the batch has not taken up yet
		 * if it was the deadline: take it up now. */
		if ((why = stop_reason(r)))
			stop(r, why);
		for (unsigned i = s->ran; i < s->n; i++) {
			s->job[i].o = (struct alloter_outcome){
				.state = ALLOTER_NOT_RUN,
				.reason = r->res->stop_reason};
			finish(r, &s->job[i]);
		}
	}
	if (r->burst)
		r->burst = !short_ones ? 1
		           : r->burst < BURST_MAX ? r->burst * 2 : BURST_MAX;
	r->running--;
}

/* Puts the jobs of s after those it ran back at the head of the queue,
 * in order, for another participant; with the lock held.  One that cannot
 * be kept ends unstarted. */
static void give_back(struct batch *r, struct slot *s)
{
	while (s->n > s->ran) {
		struct queued *q = malloc(sizeof *q);

		if (!q)
			break;
		s->n--;
		*q = (struct queued){.job = s->job[s->n], .next = r->qhead};
		if (!r->qhead)
			r->qtail = q;
		r->qhead = q;
		r->queued++;
	}
}

/* A task ended its thread with pthread_exit: the unwinding runs this, on
 * a pool thread, and the task fails; the thread leaves the batch, and the
 * pool replaces it.  The rest of its burst is given back, to run. */
static void task_exited(void *arg)
{
	struct slot *s = arg;
	struct batch *r = s->r;

	s->job[s->ran].o.state = ALLOTER_FAILED;
	s->job[s->ran].o.err = -EOWNERDEAD;
	s->ran++;
	pthread_mutex_lock(&r->lock);
	give_back(r, s);
	settle(r, s);
	if (s->helper)
		r->gone++;
	ask(r);
	if (coordinator_needed(r))
		wake_coordinator(r);
	pthread_mutex_unlock(&r->lock);
}

/* Whether a burst must start no more of its jobs: the batch stops or is
 * cancelled, its deadline is past at `now`, or the job before failed in a
 * batch that stops on failure (which the lock will tell the others). */
static bool halted(struct batch *r, const struct job *before, int64_t now)
{
	return atomic_load_explicit(&r->halt, memory_order_relaxed) ||
	       alloter_cancel_reason(r->cancel) ||
	       (r->deadline && now >= r->deadline) ||
	       (before->o.state != ALLOTER_SUCCEEDED &&
	        (r->opts.fail_fast || r->opts.kill_others));
}

/* Runs s, taken with take(), and ends it: called with the lock held,
 * which it releases while the jobs run.  A job's end is read once and is
 * also the next one's start. */
static void run(struct batch *r, struct slot *s)
{
	int64_t t;
	int err, why;

	pthread_mutex_unlock(&r->lock);
	t = al_mono_ns();
	pthread_cleanup_push(task_exited, s);
	for (; s->ran < s->n; s->ran++) {
		struct job *j = &s->job[s->ran];
		int64_t end;

		if (s->ran && halted(r, j - 1, t))
			break;
		j->o.start_ns = t + r->wall_minus_mono;
		err = j->task.fn(j->task.arg, r->cancel);
		end = al_mono_ns();
		j->o.duration_ns = end - t;
		t = end;
		j->o.err = err;
		if (!err)
			j->o.state = ALLOTER_SUCCEEDED;
		else if ((why = alloter_cancel_reason(r->cancel))) {
			j->o.state = ALLOTER_CANCELLED;
			j->o.reason = why;
		} else {
			j->o.state = ALLOTER_FAILED;
		}
	}
	pthread_cleanup_pop(0);
	pthread_mutex_lock(&r->lock);
	settle(r, s);
}

/* A pool thread in the batch: it runs tasks for as long as the batch has
 * some for it, then leaves.  So that batches share the pool, it also
 * leaves after a task when other work waits for a thread, and asks again
 * behind it. */
static void help(struct al_work *w)
{
	struct batch *r = (struct batch *)((char *)w -
	                                   offsetof(struct batch, work));
	struct slot s;

	/* Not zeroed whole: take() fills what a run reads, and a thread
	 * per running process task touches no more stack than it uses. */
	s.r = r;
	s.helper = true;

	pthread_mutex_lock(&r->lock);
	r->asking = false;
	while (take(r, &s)) {
		run(r, &s);
		if (al_pool_queued_beyond(r->pool, r->asking)) {
			ask(r);
			break;
		}
	}
	al_pool_returning(r->pool);
	r->gone++;
	/* Still under the lock: once it is released, the coordinator may
	 * end the batch and free it, so this thread must not touch it. */
	if (coordinator_needed(r))
		wake_coordinator(r);
	pthread_mutex_unlock(&r->lock);
}

/* The calling thread runs the batch's tasks while it has some for it;
 * with the lock held. */
static void participate(struct batch *r)
{
	struct slot s;

	s.r = r; /* take() fills the rest (see help()) */
	s.helper = false;

	while (take(r, &s))
		run(r, &s);
}

static void take_wakes(struct batch *r)
{
	uint64_t n;

	while (read(r->efd, &n, sizeof n) < 0 && errno == EINTR)
		;
}

/* Sleeps in poll() until a participant, the batch's handle or the feed's
 * wake descriptor has something for a coordinator that does not help;
 * with the lock held, released while it sleeps. */
static void poll_wakes(struct batch *r)
{
	struct pollfd fds[3];
	nfds_t n = 0;
	int wake = -1, timeout, rc;

	r->sleeping = true;
	fds[n++] = (struct pollfd){.fd = r->efd, .events = POLLIN};
	if (!r->stopping)
		fds[n++] = (struct pollfd){.fd = alloter_cancel_fd(r->cancel),
		                           .events = POLLIN};
	if (!r->stopping && r->waiting && r->watch_wake) {
		wake = (int)n;
		fds[n++] = (struct pollfd){.fd = r->feed->wake_fd,
		                           .events = POLLIN};
	}
	timeout = r->asking ? STUCK_POLL_MS : -1;
	pthread_mutex_unlock(&r->lock);
	rc = poll(fds, n, timeout);
	/* Reset the counter before looking: a thread that bumps it after
	 * this read makes the next poll return at once. */
	if (rc > 0 && fds[0].revents)
		take_wakes(r);
	pthread_mutex_lock(&r->lock);
	r->sleeping = false;
	r->poked = false;
	if (rc < 0 && errno != EINTR) {
		r->err = -errno;
		alloter_cancel_fire(r->cancel, ALLOTER_CANCEL_FAILURE);
		stop(r, ALLOTER_CANCEL_FAILURE);
		return;
	}
	if (alloter_cancel_reason(r->cancel))
		stop(r, alloter_cancel_reason(r->cancel));
	if (wake >= 0 && fds[wake].revents)
		r->waiting = false;
}

/* The end of a batch: the pool threads that came, and whether all left. */
struct leaving {
	const struct batch *r;
	unsigned taken;
};

static bool all_gone(void *arg)
{
	const struct leaving *l = arg;

	return atomic_load_explicit(&l->r->gone, memory_order_relaxed) >=
	       l->taken;
}

/* Runs the batch to its end, then waits for the pool's threads to leave
 * it; with the lock held. */
static void coordinate(struct batch *r)
{
	unsigned taken;

	for (;;) {
		if (r->efd < 0) {
			participate(r);
		} else {
			/* A participant asks for the pool's threads, but the
			 * first must be asked for here; and with the pool at
			 * its end (nested exec), run the tasks here. */
			ask(r);
			if (r->alone || (r->asking && al_pool_stuck(r->pool)))
				participate(r);
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
		if (r->efd >= 0) {
			poll_wakes(r);
			continue;
		}
		r->sleeping = true;
		pthread_cond_wait(&r->wake, &r->lock);
		r->sleeping = r->poked = false;
	}
	/* No thread comes any more once the request is taken back; those
	 * that came leave at once, finding nothing to take. */
	r->over = true;
	taken = al_pool_unask(r->pool, &r->work);
	r->asking = false;
	if (r->gone < taken) {
		/* A thread that came is most likely on its way out: watch
		 * for it a while rather than sleep and be woken (spin.h). */
		struct leaving l = {r, taken};

		pthread_mutex_unlock(&r->lock);
		al_spin(all_gone, &l);
		pthread_mutex_lock(&r->lock);
	}
	while (r->gone < taken) {
		r->sleeping = true;
		pthread_cond_wait(&r->wake, &r->lock);
		r->sleeping = false;
	}
	r->over = false;
}

static int check_opts(const struct alloter_exec_opts *opts)
{
	return opts->limit < 0 || opts->timeout_ms < 0 ? -EINVAL : 0;
}

/* Sets up a batch; the deadline counts from here.  Returns 0 or a
 * negative errno value. */
static int batch_init(struct batch *r, alloter_pool *pool,
                      const struct alloter_feed *feed,
                      size_t (*left)(void *),
                      const struct alloter_exec_opts *opts,
                      struct alloter_exec_result *res)
{
	pthread_mutexattr_t ma;
	int err;

	*r = (struct batch){.feed = feed, .left = left, .opts = *opts,
	                    .pool = pool, .res = res, .efd = -1,
	                    .wall_minus_mono = al_wall_ns() - al_mono_ns()};
	r->work.fn = help;
	/* The array's own feed (the one that counts what is left) takes
	 * NOT_RUN ends of tasks it handed out, which a burst cut short has. */
	r->burst = left ? 1 : 0;
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
	if ((err = pthread_cond_init(&r->wake, NULL))) {
		err = -err;
		goto out_room;
	}
	/* Only a coordinator that watches a wake descriptor polls. */
	if (feed->wake_fd >= 0 &&
	    (r->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		err = -errno;
		goto out_wake;
	}
	if ((err = al_pool_take_fds(pool, r->fds)))
		goto out_efd;
	if ((err = al_cancel_new_on(&r->cancel, opts->parent, opts->timeout_ms,
	                            r->fds)))
		goto out_fds;
	if (opts->timeout_ms > 0 &&
	    (r->deadline = al_deadline_ns(opts->timeout_ms)) == INT64_MAX)
		r->deadline = 0; /* never */
	return 0;

out_fds:
	al_pool_give_fds(pool, r->fds);
out_efd:
	if (r->efd >= 0)
		close(r->efd);
out_wake:
	pthread_cond_destroy(&r->wake);
out_room:
	pthread_cond_destroy(&r->room);
out_lock:
	pthread_mutex_destroy(&r->lock);
	return err;
}

/* Releases a batch's resources after coordinate(); returns the batch's
 * error.  Whether it went well is the caller's to say: a feed and a group
 * count their ends differently. */
static int batch_end(struct batch *r)
{
	al_cancel_release(r->cancel, r->fds);
	al_pool_give_fds(r->pool, r->fds);
	while (r->free_list) {
		struct queued *q = r->free_list;
		r->free_list = q->next;
		free(q);
	}
	if (r->efd >= 0)
		close(r->efd);
	pthread_cond_destroy(&r->wake);
	pthread_cond_destroy(&r->room);
	pthread_mutex_destroy(&r->lock);
	return r->err;
}

static int run_feed(alloter_pool *pool, const struct alloter_feed *feed,
                    size_t (*left)(void *),
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
	if ((err = batch_init(&r, pool, feed, left, opts, res)))
		return err;
	pthread_mutex_lock(&r.lock);
	coordinate(&r);
	res->ok = !r.err && res->failed == 0 && res->cancelled == 0 &&
	          r.withdrawn == 0 && !r.stopping && r.ended;
	pthread_mutex_unlock(&r.lock);
	return batch_end(&r);
}

int alloter_exec_feed(alloter_pool *pool, const struct alloter_feed *feed,
                      const struct alloter_exec_opts *opts,
                      struct alloter_exec_result *res)
{
	return run_feed(pool, feed, NULL, opts, res);
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

/* So that the last tasks handed out ask the pool for no thread. */
static size_t array_left(void *ud)
{
	struct array_feed *a = ud;

	return a->n - a->next;
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
	struct alloter_exec_result scratch;
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
	if (!res)
		res = &scratch;
	err = run_feed(pool, &feed, array_left, opts, res);
	/* Every task handed out ran and succeeded, and the array is done
	 * even if a late stop kept next() from saying so. */
	if (!err && res->succeeded == n)
		res->ok = true;
	/* The tasks a stop kept from being handed out say why. */
	for (size_t i = a.next; outcomes && i < n; i++)
		outcomes[i].reason = res->stop_reason;
	return err;
}

/* ------------------------------------------------------------------------
 * The group: a batch whose tasks come from go() calls into its queue,
 * where participants take them; its feed never offers one.  wait() closes
 * the feed and coordinates what is left.
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
	if ((err = batch_init(&g->r, pool, &g->feed, NULL, opts, &g->res))) {
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
	struct queued *q;
	struct slot mine = {.r = r};
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
		if (r->opts.limit == 0 ||
		    r->running + r->queued < (size_t)r->opts.limit)
			break;
		if (!block) {
			err = -EAGAIN;
			goto out;
		}
		/* Full: run a task of ours that no thread took yet, so that
		 * go() from a task on a busy pool still progresses. */
		if (r->qhead && take(r, &mine)) {
			run(r, &mine);
			continue;
		}
		r->go_waiting++;
		pthread_cond_wait(&r->room, &r->lock);
		r->go_waiting--;
	}
	if ((q = r->free_list)) {
		r->free_list = q->next;
	} else if (!(q = malloc(sizeof *q))) {
		err = -ENOMEM;
		goto out;
	}
	*q = (struct queued){.job = {.task = {fn, arg}, .id = r->seq++,
	                             .out = out}};
	if (out)
		*out = q->job.o;
	if (r->qtail)
		r->qtail->next = q;
	else
		r->qhead = q;
	r->qtail = q;
	r->queued++;
	ask(r);
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
