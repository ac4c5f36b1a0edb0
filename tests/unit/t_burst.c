/*
 * t_burst.c - an array's short tasks, which the executor takes several at
 * a time: each still obeys fail-fast, cancellation and the deadline before
 * it starts, has its own start and duration, and a task that ends its
 * thread loses none of the tasks taken with it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "alloter.h"
#include "clock.h"
#include "tap.h"

#define N 4000
#define MID 2000

static atomic_int ran;
static alloter_cancel *parent;
static int64_t spin_until_ms;

/* arg: what task MID does; the others only count themselves. */
enum at_mid { MID_FAILS, MID_CANCELS, MID_OUTLIVES_DEADLINE };

static int counted(void *arg, alloter_cancel *c)
{
	intptr_t id = (intptr_t)arg >> 2;
	enum at_mid what = (enum at_mid)((intptr_t)arg & 3);

	(void)c;
	atomic_fetch_add(&ran, 1);
	if (id != MID)
		return 0;
	switch (what) {
	case MID_FAILS:
		return -EIO;
	case MID_CANCELS:
		alloter_cancel_fire(parent, ALLOTER_CANCEL_CALLER);
		return 0;
	case MID_OUTLIVES_DEADLINE:
		while (now_ms() < spin_until_ms)
			;
		return 0;
	}
	return 0;
}

static struct alloter_task tasks[N];
static struct alloter_outcome out[N];

static void fill(enum at_mid what)
{
	for (intptr_t i = 0; i < N; i++)
		tasks[i] = (struct alloter_task){counted,
		                                 (void *)(i << 2 | what)};
	atomic_store(&ran, 0);
}

/* Whether tasks from..N-1 all ended unstarted for `why`. */
static bool unstarted_from(size_t from, int why)
{
	for (size_t i = from; i < N; i++)
		if (out[i].state != ALLOTER_NOT_RUN || out[i].reason != why)
			return false;
	return true;
}

static bool succeeded_before(size_t to)
{
	for (size_t i = 0; i < to; i++)
		if (out[i].state != ALLOTER_SUCCEEDED)
			return false;
	return true;
}

/* One at a time (limit 1), so that what ran is exact. */
static void test_stops(alloter_pool *pool)
{
	struct alloter_exec_opts opts = {.limit = 1, .fail_fast = true};
	struct alloter_exec_result res;

	fill(MID_FAILS);
	alloter_exec(pool, tasks, N, &opts, out, &res);
	is_int(atomic_load(&ran), MID + 1, "fail-fast: no short task starts "
	       "after the failure, not even one taken with it");
	is_int(res.started, MID + 1, "and the started count says so");
	ok(succeeded_before(MID) && out[MID].state == ALLOTER_FAILED &&
	   unstarted_from(MID + 1, ALLOTER_CANCEL_FAILURE),
	   "the rest end unstarted, for the failure");

	alloter_cancel_new(&parent, NULL);
	opts = (struct alloter_exec_opts){.limit = 1, .parent = parent};
	fill(MID_CANCELS);
	alloter_exec(pool, tasks, N, &opts, out, &res);
	is_int(atomic_load(&ran), MID + 1, "a cancel fired by a short task "
	       "starts no task after it");
	ok(succeeded_before(MID + 1) &&
	   unstarted_from(MID + 1, ALLOTER_CANCEL_CALLER),
	   "the rest end unstarted, for the parent's reason");
	ok(!res.ok, "and the batch did not succeed");
	alloter_cancel_free(parent);

	opts = (struct alloter_exec_opts){.limit = 1, .timeout_ms = 300};
	fill(MID_OUTLIVES_DEADLINE);
	spin_until_ms = now_ms() + 500;
	alloter_exec(pool, tasks, N, &opts, out, &res);
	is_int(atomic_load(&ran), MID + 1, "no short task starts after the "
	       "deadline");
	ok(unstarted_from(MID + 1, ALLOTER_CANCEL_TIMEOUT),
	   "the rest end unstarted, for the timeout");
}

static void test_times(alloter_pool *pool)
{
	struct alloter_exec_opts opts = {.limit = 1};
	struct alloter_exec_result res;
	bool ordered = true;

	fill(MID_OUTLIVES_DEADLINE);
	spin_until_ms = 0;
	alloter_exec(pool, tasks, N, &opts, out, &res);
	ok(res.ok && res.succeeded == N, "%d short tasks succeed", N);
	for (size_t i = 1; i < N; i++)
		if (out[i].start_ns < out[i - 1].start_ns +
		                      out[i - 1].duration_ns ||
		    out[i].duration_ns < 0)
			ordered = false;
	ok(ordered, "one at a time, each starts when or after the one before "
	   "ended, with its own duration");
}

/* The first pool thread to run its 200th task ends that thread. */
static _Thread_local int on_pool_thread_runs;
static _Thread_local bool is_caller;
static atomic_bool exited;

static int exits_once(void *arg, alloter_cancel *c)
{
	bool no = false;

	(void)arg, (void)c;
	atomic_fetch_add(&ran, 1);
	if (!is_caller && ++on_pool_thread_runs == 200 &&
	    atomic_compare_exchange_strong(&exited, &no, true))
		pthread_exit(NULL);
	return 0;
}

static void test_thread_exit(void)
{
	static struct alloter_task many[100000];
	static struct alloter_outcome outs[100000];
	struct alloter_exec_opts opts = {.limit = 2};
	struct alloter_exec_result res;
	alloter_pool *pool;
	size_t failed = 0, other = 0;
	const size_t n = sizeof many / sizeof *many;

	is_caller = true;
	for (size_t i = 0; i < n; i++)
		many[i] = (struct alloter_task){exits_once, NULL};
	atomic_store(&ran, 0);
	alloter_pool_new(&pool, 0);
	alloter_exec(pool, many, n, &opts, outs, &res);
	for (size_t i = 0; i < n; i++) {
		if (outs[i].state == ALLOTER_FAILED &&
		    outs[i].err == -EOWNERDEAD)
			failed++;
		else if (outs[i].state != ALLOTER_SUCCEEDED)
			other++;
	}
	ok(atomic_load(&exited), "a pool thread's task ended its thread");
	is_int(failed, 1, "that task failed with -EOWNERDEAD");
	is_int(other, 0, "every task taken with it still ran and succeeded");
	is_int(atomic_load(&ran), n, "each exactly once");
	is_int(res.started, n, "and was counted as started");
	alloter_pool_free(pool);
}

int main(void)
{
	alloter_pool *pool;

	alarm(120); /* a hang is a failure */
	alloter_pool_new(&pool, 2);
	test_stops(pool);
	test_times(pool);
	alloter_pool_free(pool);
	test_thread_exit();
	return tap_done();
}
