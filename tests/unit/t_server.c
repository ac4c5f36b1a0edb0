/*
 * t_server.c - the library as a server uses it: queued tasks that obey a
 * stop, nested exec on one pool, deadlines that saturate and that live on
 * handles, pool options (stack, signal mask), pthread_exit in a task, the
 * cancelled state, res.ok, and the group API.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alloter.h"
#include "clock.h"
#include "tap.h"

/* Sleeps ms, or less if cancelled; returns 0, or -ECANCELED. */
static int nap(alloter_cancel *c, int ms)
{
	struct pollfd p = {.fd = alloter_cancel_fd(c), .events = POLLIN};

	return poll(&p, 1, ms) > 0 ? -ECANCELED : 0;
}

static atomic_int ran, running, peak;

static void reset(void)
{
	atomic_store(&ran, 0);
	atomic_store(&running, 0);
	atomic_store(&peak, 0);
}

/* arg: ms to nap; negative: fail with -EIO after -ms. */
static int napper(void *arg, alloter_cancel *c)
{
	intptr_t ms = (intptr_t)arg;
	int now = atomic_fetch_add(&running, 1) + 1, seen = atomic_load(&peak);
	int r;

	atomic_fetch_add(&ran, 1);
	while (now > seen && !atomic_compare_exchange_weak(&peak, &seen, now))
		;
	r = nap(c, (int)(ms < 0 ? -ms : ms));
	atomic_fetch_sub(&running, 1);
	return r ? r : ms < 0 ? -EIO : 0;
}

/* Naps without watching the handle, and notes whether it started after
 * the deadline held in *arg (monotonic ms). */
static atomic_int late;
static int deaf(void *arg, alloter_cancel *c)
{
	(void)c;
	if (now_ms() >= *(int64_t *)arg)
		atomic_fetch_add(&late, 1);
	atomic_fetch_add(&ran, 1);
	usleep(100 * 1000);
	return 0;
}

/* A one-task feed with a wake descriptor, so the calling thread does not
 * help: the task runs on a pool thread. */
struct one_feed {
	struct alloter_task task;
	struct alloter_outcome o;
	bool given;
};

static int one_next(void *ud, struct alloter_task *task, size_t *id)
{
	struct one_feed *f = ud;

	if (f->given)
		return ALLOTER_NEXT_END;
	f->given = true;
	*task = f->task;
	*id = 0;
	return ALLOTER_NEXT_TASK;
}

static int one_done(void *ud, size_t id, const struct alloter_outcome *o)
{
	(void)id;
	((struct one_feed *)ud)->o = *o;
	return ALLOTER_FINAL;
}

static int never_fd[2];

static struct alloter_outcome on_pool(alloter_pool *pool, alloter_fn fn,
                                      void *arg)
{
	struct one_feed f = {.task = {fn, arg}};
	struct alloter_feed feed = {.next = one_next, .done = one_done,
	                            .wake_fd = never_fd[0], .ud = &f};

	alloter_exec_feed(pool, &feed, NULL, NULL);
	return f.o;
}

static int big_stack(void *arg, alloter_cancel *c)
{
	volatile char buf[600 * 1024];

	(void)c;
	memset((char *)buf, 1, sizeof buf);
	return buf[(size_t)(uintptr_t)arg % sizeof buf] == 1 ? 0 : 1;
}

static int huge_stack(void *arg, alloter_cancel *c)
{
	volatile char buf[3 * 1024 * 1024];

	(void)c;
	memset((char *)buf, 1, sizeof buf);
	return buf[(size_t)(uintptr_t)arg % sizeof buf] == 1 ? 0 : 1;
}

/* Returns 0 when the thread's mask has SIGUSR1 blocked and SIGUSR2 not. */
static int mask_check(void *arg, alloter_cancel *c)
{
	sigset_t set;

	(void)arg, (void)c;
	pthread_sigmask(SIG_BLOCK, NULL, &set);
	return sigismember(&set, SIGUSR1) == 1 && sigismember(&set, SIGUSR2) == 0
	               ? 0 : 1;
}

struct mask_run {
	alloter_pool *pool;
	struct alloter_outcome o;
};

static void *other_mask_thread(void *arg)
{
	struct mask_run *m = arg;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_SETMASK, &set, NULL);
	m->o = on_pool(m->pool, mask_check, NULL);
	return NULL;
}

static int exits_thread(void *arg, alloter_cancel *c)
{
	(void)arg, (void)c;
	pthread_exit(NULL);
}

/* An outer task that runs an inner batch of three on the same pool. */
static alloter_pool *shared;
static atomic_int inner_ok;

static int nested(void *arg, alloter_cancel *c)
{
	struct alloter_task t[3];
	struct alloter_exec_result res;
	struct alloter_exec_opts opts = {.limit = 3, .timeout_ms = 5000,
	                                 .parent = c};

	(void)arg;
	for (int i = 0; i < 3; i++)
		t[i] = (struct alloter_task){napper, (void *)(intptr_t)20};
	if (alloter_exec(shared, t, 3, &opts, NULL, &res) == 0 && res.ok &&
	    res.succeeded == 3)
		atomic_fetch_add(&inner_ok, 1);
	return 0;
}

/* The same through a feed with a wake descriptor, which does not help
 * unless its tasks are stuck behind busy threads. */
struct three_feed {
	int given;
};

static int three_next(void *ud, struct alloter_task *task, size_t *id)
{
	struct three_feed *f = ud;

	if (f->given == 3)
		return ALLOTER_NEXT_END;
	*task = (struct alloter_task){napper, (void *)(intptr_t)20};
	*id = (size_t)f->given++;
	return ALLOTER_NEXT_TASK;
}

static int three_done(void *ud, size_t id, const struct alloter_outcome *o)
{
	(void)ud, (void)id, (void)o;
	return ALLOTER_FINAL;
}

static int nested_feed(void *arg, alloter_cancel *c)
{
	struct three_feed f = {0};
	struct alloter_feed feed = {.next = three_next, .done = three_done,
	                            .wake_fd = never_fd[0], .ud = &f};
	struct alloter_exec_result res;
	struct alloter_exec_opts opts = {.limit = 3, .parent = c};

	(void)arg;
	if (alloter_exec_feed(shared, &feed, &opts, &res) == 0 &&
	    res.succeeded == 3)
		atomic_fetch_add(&inner_ok, 1);
	return 0;
}

struct busy {
	alloter_pool *pool;
	int ms;
};

/* Keeps a one-thread pool's thread busy for b->ms: two tasks at limit 2,
 * one on this thread, one on the pool's. */
static void *keep_busy(void *arg)
{
	struct busy *b = arg;
	struct alloter_task t[2] = {{napper, (void *)(intptr_t)b->ms},
	                            {napper, (void *)(intptr_t)b->ms}};
	struct alloter_exec_opts opts = {.limit = 2};

	alloter_exec(b->pool, t, 2, &opts, NULL, NULL);
	return NULL;
}

static void test_queued(void)
{
	alloter_pool *two, *one;
	struct alloter_task t[10];
	struct alloter_outcome o[10];
	struct alloter_exec_result res;
	struct alloter_exec_opts opts = {.limit = 10, .fail_fast = true};
	int not_run = 0;

	/* 1. A 2-thread pool, limit 10, fail-fast: the failure stops what
	 * still waits in the queue. */
	ok(alloter_pool_new(&two, 2) == 0, "a two-thread pool");
	reset();
	t[0] = (struct alloter_task){napper, (void *)(intptr_t)-30};
	for (int i = 1; i < 10; i++)
		t[i] = (struct alloter_task){napper, (void *)(intptr_t)200};
	alloter_exec(two, t, 10, &opts, o, &res);
	for (int i = 1; i < 10; i++)
		not_run += o[i].state == ALLOTER_NOT_RUN &&
		           o[i].reason == ALLOTER_CANCEL_FAILURE;
	ok(atomic_load(&ran) <= 3, "fail-fast: queued tasks do not run after "
	   "the failure (%d ran)", atomic_load(&ran));
	ok(not_run >= 7, "they are NOT_RUN, stopped by the failure (%d)",
	   not_run);
	is_int(res.started, atomic_load(&ran), "only tasks that ran count as "
	       "started");
	ok(!res.ok && res.failed == 1 && res.first_failed == 0,
	   "the batch failed, on task 0");
	alloter_pool_free(two);

	/* A 1-thread pool busy with another batch for 1.5 s: a 200 ms
	 * deadline still holds, and nothing starts after it. */
	{
		pthread_t th;
		struct busy b;
		int64_t deadline, t0;
		struct alloter_task d[3];

		ok(alloter_pool_new(&one, 1) == 0, "a one-thread pool");
		b = (struct busy){one, 1500};
		pthread_create(&th, NULL, keep_busy, &b);
		usleep(100 * 1000);
		reset();
		atomic_store(&late, 0);
		t0 = now_ms();
		deadline = t0 + 200;
		for (int i = 0; i < 3; i++)
			d[i] = (struct alloter_task){deaf, &deadline};
		opts = (struct alloter_exec_opts){.limit = 3,
		                                  .timeout_ms = 200};
		alloter_exec(one, d, 3, &opts, o, &res);
		ok(now_ms() - t0 < 1000, "the deadline holds while the pool "
		   "is busy elsewhere (%lld ms)", (long long)(now_ms() - t0));
		is_int(atomic_load(&late), 0, "no task starts after the deadline");
		is_int(res.stop_reason, ALLOTER_CANCEL_TIMEOUT, "the deadline "
		       "is why");
		ok(o[2].state == ALLOTER_NOT_RUN &&
		   o[2].reason == ALLOTER_CANCEL_TIMEOUT,
		   "a task left in the queue is NOT_RUN by the timeout");
		pthread_join(th, NULL);
		alloter_pool_free(one);
	}
}

static void test_nested(void)
{
	for (unsigned threads = 1; threads <= 2; threads++) {
		struct alloter_task t[2] = {{nested, NULL}, {nested, NULL}};
		struct alloter_exec_opts opts = {.limit = 2};
		struct alloter_exec_result res;
		int64_t t0 = now_ms();

		alloter_pool_new(&shared, threads);
		atomic_store(&inner_ok, 0);
		alloter_exec(shared, t, 2, &opts, NULL, &res);
		ok(atomic_load(&inner_ok) == 2 && res.ok, "exec nested in a "
		   "task on a %u-thread pool runs (%d of 2, %lld ms)", threads,
		   atomic_load(&inner_ok), (long long)(now_ms() - t0));
		atomic_store(&inner_ok, 0);
		t[0].fn = t[1].fn = nested_feed;
		alloter_exec(shared, t, 2, &opts, NULL, &res);
		ok(atomic_load(&inner_ok) == 2, "and so does a nested feed "
		   "with a wake descriptor (%d of 2)", atomic_load(&inner_ok));
		alloter_pool_free(shared);
	}
}

static void test_saturation(alloter_pool *pool)
{
	struct alloter_task t[2] = {{napper, (void *)(intptr_t)30},
	                            {napper, (void *)(intptr_t)30}};
	struct alloter_exec_result res;
	struct alloter_exec_opts opts = {.limit = 2, .timeout_ms = INT64_MAX};
	alloter_cancel *c;

	alloter_exec(pool, t, 2, &opts, NULL, &res);
	ok(res.ok && res.stop_reason == 0, "timeout_ms INT64_MAX never times "
	   "out");
	opts.timeout_ms = INT64_MAX / 1000;
	alloter_exec(pool, t, 2, &opts, NULL, &res);
	ok(res.ok, "nor does one whose nanoseconds overflow");
	ok(alloter_cancel_new_timeout(&c, NULL, INT64_MAX) == 0 &&
	   nap(c, 50) == 0 && alloter_cancel_reason(c) == 0,
	   "a handle with an INT64_MAX deadline does not fire");
	alloter_cancel_free(c);
	is_int(alloter_cancel_new_timeout(&c, NULL, -1), -EINVAL,
	       "a negative deadline is an error");
}

static void test_deadline_handle(alloter_pool *pool)
{
	alloter_cancel *req, *child, *gone;
	struct alloter_task t[3];
	struct alloter_outcome o[3];
	struct alloter_exec_result res;
	struct alloter_exec_opts opts = {.limit = 3};
	int64_t t0 = now_ms(), left;

	ok(alloter_cancel_new_timeout(&req, NULL, 300) == 0,
	   "a handle with a 300 ms deadline");
	left = alloter_cancel_remaining_ms(req);
	ok(left > 0 && left <= 300, "it has about 300 ms left (%lld)",
	   (long long)left);
	alloter_cancel_new(&child, req);
	ok(alloter_cancel_remaining_ms(child) > 0, "a child sees the parent's "
	   "deadline");
	is_int(alloter_cancel_remaining_ms(NULL), -1, "NULL has none");
	/* One freed before its time must never be fired (ASan). */
	alloter_cancel_new_timeout(&gone, NULL, 100);
	alloter_cancel_free(gone);

	for (int i = 0; i < 3; i++)
		t[i] = (struct alloter_task){napper, (void *)(intptr_t)5000};
	opts.parent = req;
	alloter_exec(pool, t, 3, &opts, o, &res);
	ok(now_ms() - t0 >= 250 && now_ms() - t0 < 2000,
	   "a batch under the handle ends at its deadline (%lld ms)",
	   (long long)(now_ms() - t0));
	is_int(res.stop_reason, ALLOTER_CANCEL_TIMEOUT, "stopped by the "
	       "timeout");
	ok(alloter_cancel_reason(child) == ALLOTER_CANCEL_TIMEOUT &&
	   nap(child, 0) == -ECANCELED, "the child fired with it");
	is_int(alloter_cancel_remaining_ms(req), 0, "nothing left");
	ok(o[0].state == ALLOTER_CANCELLED && o[0].err == -ECANCELED &&
	   o[0].reason == ALLOTER_CANCEL_TIMEOUT,
	   "the tasks are CANCELLED (not FAILED), with what they returned "
	   "and why");
	ok(res.failed == 0 && res.cancelled == 3 && res.err == 0 &&
	   res.first_failed == SIZE_MAX && !res.ok,
	   "no task failed, three were cancelled, and the batch is not ok");
	alloter_cancel_free(child);
	alloter_cancel_free(req);
}

static void test_states(alloter_pool *pool)
{
	struct alloter_task t[4];
	struct alloter_outcome o[4];
	struct alloter_exec_result res;
	struct alloter_exec_opts opts = {.limit = 4, .kill_others = true};

	for (int i = 0; i < 4; i++)
		t[i] = (struct alloter_task){napper, (void *)(intptr_t)5000};
	t[1].arg = (void *)(intptr_t)-30;
	alloter_exec(pool, t, 4, &opts, o, &res);
	ok(o[1].state == ALLOTER_FAILED && o[1].err == -EIO,
	   "the failing task is FAILED with its error");
	ok(o[0].state == ALLOTER_CANCELLED &&
	   o[0].reason == ALLOTER_CANCEL_FAILURE && o[0].err == -ECANCELED,
	   "the others are CANCELLED by the failure");
	ok(res.failed == 1 && res.cancelled == 3 && res.err == -EIO &&
	   res.first_failed == 1 && !res.ok, "the summary keeps them apart");

	for (int i = 0; i < 4; i++)
		t[i] = (struct alloter_task){napper, (void *)(intptr_t)1};
	alloter_exec(pool, t, 4, &opts, o, &res);
	ok(res.ok, "res.ok says a batch succeeded");
	ok(o[0].state == ALLOTER_SUCCEEDED && o[3].state == ALLOTER_SUCCEEDED,
	   "a batch after one whose handle fired gets a handle that has "
	   "not (its descriptors are reused, read back to 0)");
	res.ok = false;
	ok(alloter_exec(pool, t, 0, &opts, o, &res) == 0 && res.ok,
	   "an empty batch succeeds");
}

static void test_pool_options(void)
{
	alloter_pool *pool;
	struct alloter_pool_opts po = ALLOTER_POOL_OPTS_INIT;
	struct alloter_outcome o;
	sigset_t set, old;

	ok(alloter_pool_new(&pool, 0) == 0, "a default pool");
	o = on_pool(pool, big_stack, NULL);
	ok(o.state == ALLOTER_SUCCEEDED, "a task with a 600 KiB local array "
	   "runs on a pool thread");
	alloter_pool_free(pool);

	po.stack_size = 1;
	is_int(alloter_pool_new_opts(&pool, &po), -EINVAL,
	       "a stack below PTHREAD_STACK_MIN is refused");
	po.stack_size = 6 * 1024 * 1024;
	ok(alloter_pool_new_opts(&pool, &po) == 0, "a pool with 6 MiB stacks");
	o = on_pool(pool, huge_stack, NULL);
	ok(o.state == ALLOTER_SUCCEEDED, "takes a 3 MiB local array");
	alloter_pool_free(pool);

	/* Made with SIGUSR1 blocked; first used from a thread with only
	 * SIGUSR2 blocked. */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	ok(alloter_pool_new(&pool, 0) == 0, "a pool made with SIGUSR1 "
	   "blocked");
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	{
		struct mask_run m = {.pool = pool};
		pthread_t th;

		pthread_create(&th, NULL, other_mask_thread, &m);
		pthread_join(th, NULL);
		ok(m.o.state == ALLOTER_SUCCEEDED, "its threads have the "
		   "creator's mask, not the mask of the thread whose exec "
		   "started them");
	}
	o = on_pool(pool, exits_thread, NULL);
	ok(o.state == ALLOTER_FAILED && o.err == -EOWNERDEAD,
	   "a task that calls pthread_exit fails with -EOWNERDEAD");
	o = on_pool(pool, big_stack, NULL);
	ok(o.state == ALLOTER_SUCCEEDED, "and the pool goes on");
	alloter_pool_free(pool);
}

static int go_fail(void *arg, alloter_cancel *c)
{
	(void)arg, (void)c;
	return -EPERM;
}

static void test_group(alloter_pool *pool)
{
	alloter_group *g;
	struct alloter_exec_result res;
	struct alloter_exec_opts opts = {.limit = 2};
	struct alloter_outcome o[3];
	int64_t t0;
	int err, refused = 0;

	reset();
	ok(alloter_group_new(&g, pool, &opts) == 0, "a group, limit 2");
	for (int i = 0; i < 6; i++)
		alloter_group_go(g, napper, (void *)(intptr_t)30);
	ok(alloter_group_go_outcome(g, napper, (void *)(intptr_t)1, &o[0]) == 0,
	   "go with an outcome");
	is_int(alloter_group_wait(g, &res), 0, "wait");
	ok(res.ok && res.succeeded == 7, "every task ran and succeeded");
	is_int(atomic_load(&peak), 2, "never more than the limit at once");
	ok(o[0].state == ALLOTER_SUCCEEDED, "the outcome came back");
	is_int(alloter_group_go(g, napper, NULL), -EINVAL, "no go after wait");
	alloter_group_free(g);

	/* try_go does not block. */
	alloter_group_new(&g, pool, &opts);
	alloter_group_go(g, napper, (void *)(intptr_t)300);
	alloter_group_go(g, napper, (void *)(intptr_t)300);
	t0 = now_ms();
	err = alloter_group_try_go(g, napper, NULL);
	ok(err == -EAGAIN && now_ms() - t0 < 100, "try_go says -EAGAIN at the "
	   "limit, at once");
	alloter_group_free(g);

	/* Fail-fast: a failure makes later go calls refuse. */
	opts = (struct alloter_exec_opts){.limit = 1, .fail_fast = true};
	alloter_group_new(&g, pool, &opts);
	alloter_group_go(g, go_fail, NULL);
	for (int i = 0; i < 5; i++)
		refused += alloter_group_go(g, napper, NULL) == -ECANCELED;
	alloter_group_wait(g, &res);
	ok(refused == 5, "fail-fast: go after the failure is refused (%d)",
	   refused);
	ok(res.err == -EPERM && res.first_failed == 0 && !res.ok,
	   "the first error is kept");
	alloter_group_free(g);

	/* Kill-others and a deadline counted from creation. */
	opts = (struct alloter_exec_opts){.kill_others = true};
	alloter_group_new(&g, pool, &opts);
	alloter_group_go_outcome(g, napper, (void *)(intptr_t)5000, &o[0]);
	alloter_group_go_outcome(g, napper, (void *)(intptr_t)-50, &o[1]);
	t0 = now_ms();
	alloter_group_wait(g, &res);
	ok(now_ms() - t0 < 2000 && o[0].state == ALLOTER_CANCELLED &&
	   o[1].state == ALLOTER_FAILED, "kill-others cancels the rest");
	alloter_group_free(g);

	opts = (struct alloter_exec_opts){.timeout_ms = 200};
	alloter_group_new(&g, pool, &opts);
	t0 = now_ms();
	for (int i = 0; i < 3; i++)
		alloter_group_go_outcome(g, napper, (void *)(intptr_t)5000,
		                         &o[i]);
	alloter_group_wait(g, &res);
	ok(now_ms() - t0 < 2000 && res.stop_reason == ALLOTER_CANCEL_TIMEOUT &&
	   o[2].state == ALLOTER_CANCELLED, "the group's deadline holds");
	is_int(alloter_group_go(g, napper, NULL), -EINVAL, "and it is over");
	alloter_group_free(g);
	alloter_group_free(NULL);
}

int main(void)
{
	alloter_pool *pool;

	alarm(120); /* a deadlock is a failure, not a hang */
	if (pipe(never_fd) < 0)
		return 1;
	test_queued();
	test_nested();
	alloter_pool_new(&pool, 0);
	test_saturation(pool);
	test_deadline_handle(pool);
	test_states(pool);
	test_group(pool);
	alloter_pool_free(pool);
	test_pool_options();
	return tap_done();
}
