/*
 * t_exec.c - the executor's contract: limits, deadlines, fail-fast,
 * kill-others, parent cancellation, pool reuse, and outcomes.
 */
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "alloter.h"
#include "clock.h"
#include "tap.h"

static atomic_int running, peak;

/* Sleeps ms, or less if cancelled; returns 0, or ECANCELED. */
static int nap(alloter_cancel *c, int ms)
{
	struct pollfd p = {.fd = alloter_cancel_fd(c), .events = POLLIN};

	return poll(&p, 1, ms) > 0 ? ECANCELED : 0;
}

/* arg: milliseconds to sleep; a negative value fails after -ms. */
static int sleeper(void *arg, alloter_cancel *c)
{
	intptr_t ms = (intptr_t)arg;
	int now = atomic_fetch_add(&running, 1) + 1, seen = atomic_load(&peak);
	int r;

	while (now > seen && !atomic_compare_exchange_weak(&peak, &seen, now))
		;
	r = nap(c, (int)(ms < 0 ? -ms : ms));
	atomic_fetch_sub(&running, 1);
	if (r)
		return r;
	return ms < 0 ? 7 : 0;
}

/* Waits until arg tasks are running at once (up to 10 s): succeeds only
 * if they all were, which no limit below arg allows. */
static int gather(void *arg, alloter_cancel *c)
{
	int want = (int)(intptr_t)arg, ms = 0;

	atomic_fetch_add(&running, 1);
	while (atomic_load(&running) < want && ms < 10000 && !nap(c, 5))
		ms += 5;
	return atomic_load(&running) >= want ? 0 : 1;
}

static void reset(void)
{
	atomic_store(&running, 0);
	atomic_store(&peak, 0);
}

static void fill(struct alloter_task *t, size_t n, intptr_t ms)
{
	for (size_t i = 0; i < n; i++)
		t[i] = (struct alloter_task){sleeper, (void *)ms};
}

/* Records the order in which tasks start.  A task is taken under the
 * batch's lock and records itself just after: the nap must be longer than
 * a loaded machine may keep a thread from running in between (5 ms was
 * not, 3 times in 30 runs beside a mutant run). */
static atomic_int started_n;
static int started[64];

static int record(void *arg, alloter_cancel *c)
{
	started[atomic_fetch_add(&started_n, 1)] = (int)(intptr_t)arg;
	return nap(c, 25);
}

/* A feed of one 300 ms task that then says "busy" until it ends, with a
 * wake_fd that is always readable: the executor must not watch it. */
struct busy_feed {
	int nexts, given;
};

static int busy_next(void *ud, struct alloter_task *task, size_t *id)
{
	struct busy_feed *f = ud;

	f->nexts++;
	if (f->given == 2)
		return ALLOTER_NEXT_END;
	if (f->given == 1 && atomic_load(&running) > 0)
		return ALLOTER_NEXT_BUSY;
	*task = (struct alloter_task){sleeper, (void *)(intptr_t)(f->given ? 1 : 300)};
	*id = (size_t)f->given++;
	return ALLOTER_NEXT_TASK;
}

static int busy_done(void *ud, size_t id, const struct alloter_outcome *o)
{
	(void)ud, (void)id, (void)o;
	return ALLOTER_FINAL;
}

/* A feed of two tasks, 100 ms and 5 s; the first one's done() blocks for
 * 1.5 s, holding the batch. */
struct slow_feed {
	int given;
	int64_t long_ms;
};

static int slow_next(void *ud, struct alloter_task *task, size_t *id)
{
	struct slow_feed *f = ud;

	if (f->given == 2)
		return ALLOTER_NEXT_END;
	*task = (struct alloter_task){sleeper,
	                              (void *)(intptr_t)(f->given ? 5000 : 100)};
	*id = (size_t)f->given++;
	return ALLOTER_NEXT_TASK;
}

static int slow_done(void *ud, size_t id, const struct alloter_outcome *o)
{
	struct slow_feed *f = ud;

	if (id == 0)
		usleep(1500 * 1000);
	else
		f->long_ms = o->duration_ns / 1000000;
	return ALLOTER_FINAL;
}

int main(void)
{
	alloter_pool *pool;
	alloter_cancel *parent;
	struct alloter_task t[40];
	struct alloter_outcome o[40];
	struct alloter_exec_result res;
	struct alloter_exec_opts opts = ALLOTER_EXEC_OPTS_INIT;
	int64_t t0;

	alarm(60); /* a hang is a failure, and a quick one */
	ok(alloter_pool_new(&pool, 0) == 0, "a pool is made");

	reset();
	fill(t, 12, 30);
	opts.limit = 3;
	ok(alloter_exec(pool, t, 12, &opts, o, &res) == 0, "a batch runs");
	is_int(atomic_load(&peak), 3, "the limit is reached and never passed");
	is_int(res.succeeded, 12, "every task succeeded");
	is_int(res.first_failed, SIZE_MAX, "no failure is reported");
	ok(o[11].state == ALLOTER_SUCCEEDED && o[11].duration_ns > 0,
	   "outcomes are kept");

	reset();
	for (int i = 0; i < 20; i++)
		t[i] = (struct alloter_task){gather, (void *)(intptr_t)20};
	opts.limit = 0;
	alloter_exec(pool, t, 20, &opts, o, &res);
	is_int(res.succeeded, 20, "limit 0 runs everything at once");

	opts.limit = -1;
	is_int(alloter_exec(pool, t, 2, &opts, o, &res), -EINVAL,
	       "a negative limit is an error, not a hang");

	/* The deadline counts from each call, not from the pool's birth. */
	fill(t, 4, 5000);
	opts = (struct alloter_exec_opts){.limit = 2, .timeout_ms = 100};
	t0 = now_ms();
	alloter_exec(pool, t, 4, &opts, o, &res);
	ok(now_ms() - t0 < 2000, "the deadline ends the batch early");
	is_int(res.stop_reason, ALLOTER_CANCEL_TIMEOUT, "the timeout is why");
	is_int(res.started, 2, "nothing starts after the deadline");
	ok(o[0].state == ALLOTER_CANCELLED && o[0].err == ECANCELED &&
	   o[0].reason == ALLOTER_CANCEL_TIMEOUT,
	   "running tasks saw the cancellation");
	is_int(o[3].state, ALLOTER_NOT_RUN, "unstarted tasks are marked so");
	usleep(200000);
	fill(t, 2, 10);
	alloter_exec(pool, t, 2, &opts, o, &res);
	is_int(res.succeeded, 2, "a later call on the same pool gets its own "
	       "deadline");

	/* Fail-fast: the failure is first in time; running ones finish. */
	fill(t, 6, 200);
	t[1].arg = (void *)(intptr_t)-20;
	opts = (struct alloter_exec_opts){.limit = 2, .fail_fast = true};
	alloter_exec(pool, t, 6, &opts, o, &res);
	is_int(res.first_failed, 1, "fail-fast reports the failed task");
	is_int(res.err, 7, "and its error");
	is_int(o[0].state, ALLOTER_SUCCEEDED, "running tasks finish");
	is_int(res.started, 2, "no task starts after the failure");

	/* Kill-others cancels the running ones. */
	fill(t, 4, 5000);
	t[2].arg = (void *)(intptr_t)-50;
	opts = (struct alloter_exec_opts){.limit = 4, .kill_others = true};
	t0 = now_ms();
	alloter_exec(pool, t, 4, &opts, o, &res);
	ok(now_ms() - t0 < 2000, "kill-others ends the batch at once");
	is_int(res.first_failed, 2, "the first failure is reported");
	ok(o[0].err == ECANCELED && o[3].err == ECANCELED,
	   "the others were cancelled");

	/* Several failures: the first in time wins. */
	fill(t, 3, 10);
	t[0].arg = (void *)(intptr_t)-300;
	t[2].arg = (void *)(intptr_t)-30;
	opts = (struct alloter_exec_opts){.limit = 3};
	alloter_exec(pool, t, 3, &opts, o, &res);
	is_int(res.first_failed, 2, "the earliest failure is reported");
	is_int(res.failed, 2, "every failure is counted");

	/* A parent handle cancels the batch promptly. */
	ok(alloter_cancel_new(&parent, NULL) == 0, "a parent handle is made");
	fill(t, 3, 5000);
	opts = (struct alloter_exec_opts){.limit = 3, .parent = parent};
	alloter_cancel_fire(parent, ALLOTER_CANCEL_USER + 1);
	t0 = now_ms();
	alloter_exec(pool, t, 3, &opts, o, &res);
	ok(now_ms() - t0 < 1000, "a fired parent makes exec return promptly");
	is_int(res.stop_reason, ALLOTER_CANCEL_USER + 1,
	       "the parent's reason is kept");
	alloter_cancel_free(parent);

	/* Reuse: many batches, one pool. */
	fill(t, 8, 1);
	opts = (struct alloter_exec_opts){.limit = 4};
	int all = 1;
	for (int i = 0; i < 200; i++) {
		alloter_exec(pool, t, 8, &opts, o, &res);
		all &= res.succeeded == 8;
	}
	ok(all, "a pool serves 200 batches");

	/* "Busy" waits for a task's end, not for wake_fd. */
	{
		struct busy_feed bf = {0};
		int fds[2];

		reset();
		ok(pipe(fds) == 0 && write(fds[1], "x", 1) == 1,
		   "a wake_fd that is always readable");
		struct alloter_feed feed = {.next = busy_next,
		                            .done = busy_done,
		                            .wake_fd = fds[0], .ud = &bf};
		opts = (struct alloter_exec_opts){.limit = 2};
		alloter_exec_feed(pool, &feed, &opts, &res);
		is_int(res.succeeded, 2, "a busy feed's tasks all run");
		ok(bf.nexts < 20, "busy: next() is asked again only after an "
		   "end (%d calls)", bf.nexts);
		close(fds[0]);
		close(fds[1]);
	}

	/* The deadline cancels the running even while a callback that
	 * blocks holds the batch. */
	{
		struct slow_feed sf = {0};
		struct alloter_feed feed = {.next = slow_next,
		                            .done = slow_done,
		                            .wake_fd = -1, .ud = &sf};

		reset();
		opts = (struct alloter_exec_opts){.limit = 2,
		                                  .timeout_ms = 300};
		alloter_exec_feed(pool, &feed, &opts, &res);
		ok(sf.long_ms > 0 && sf.long_ms < 1200,
		   "a blocking callback does not hold off the deadline "
		   "(the long task ran %lld ms)", (long long)sf.long_ms);
	}

	alloter_pool_free(pool);
	alloter_pool_free(NULL);

	/* Tasks queued for want of a thread are not overtaken by the tasks
	 * a busy worker starts itself. */
	{
		alloter_pool *one;
		int in_order = 1;

		ok(alloter_pool_new(&one, 1) == 0, "a one-thread pool");
		for (size_t i = 0; i < 20; i++)
			t[i] = (struct alloter_task){record, (void *)(intptr_t)i};
		opts = (struct alloter_exec_opts){.limit = 2};
		alloter_exec(one, t, 20, &opts, o, &res);
		is_int(res.succeeded, 20, "all 20 ran on one thread");
		for (int i = 0; i < 20; i++)
			in_order &= started[i] == i;
		ok(in_order, "they started in order (task 1 is not left to "
		   "the end)");
		alloter_pool_free(one);
	}
	return tap_done();
}
