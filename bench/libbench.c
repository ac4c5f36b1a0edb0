/*
 * libbench.c - the library's cost in the server case: one exec of 0 tasks,
 * of 10 trivial tasks at limit 2 and 16 on a reused pool, against a plain
 * mutex+condvar pool written here, and 100,000 trivial tasks in one exec.
 * Each figure is the median of ROUNDS rounds; the voluntary context
 * switches per exec (getrusage, the whole process) show the hand-offs, and
 * the share of the tasks that ran on the thread that called exec (or
 * queued the plain pool's batch) shows where the work went.
 *
 *   build/bench/libbench [rounds]      (make bench runs it)
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "alloter.h"

#define SMALL 10
#define BIG 100000

static atomic_long hits, caller_hits;
static _Thread_local bool on_caller;

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static long vcsw(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_nvcsw;
}

static int trivial(void *arg, alloter_cancel *c)
{
	(void)arg, (void)c;
	atomic_fetch_add_explicit(&hits, 1, memory_order_relaxed);
	if (on_caller)
		atomic_fetch_add_explicit(&caller_hits, 1,
		                          memory_order_relaxed);
	return 0;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

struct figure {
	double per;   /* ns per unit, median */
	double csw;   /* voluntary context switches per unit, median round */
	double mine;  /* % of the tasks run on the calling thread, all rounds */
};

/* ---------------------------------------------------------------- plain
 * The comparison: `threads` workers on one mutex and two condition
 * variables; a batch queues its tasks, wakes the workers and waits for a
 * count.  No limit beyond the threads, no deadline, no outcomes. */
struct plain {
	pthread_mutex_t lock;
	pthread_cond_t work, done;
	int queued, left, threads;
	bool stop;
	pthread_t *ids;
};

static void *plain_worker(void *arg)
{
	struct plain *p = arg;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!p->queued && !p->stop)
			pthread_cond_wait(&p->work, &p->lock);
		if (p->stop)
			break;
		p->queued--;
		pthread_mutex_unlock(&p->lock);
		trivial(NULL, NULL);
		pthread_mutex_lock(&p->lock);
		if (--p->left == 0)
			pthread_cond_signal(&p->done);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static void plain_start(struct plain *p, int threads)
{
	*p = (struct plain){.threads = threads};
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	p->ids = calloc((size_t)threads, sizeof *p->ids);
	for (int i = 0; i < threads; i++)
		pthread_create(&p->ids[i], NULL, plain_worker, p);
}

static void plain_batch(struct plain *p, int n)
{
	pthread_mutex_lock(&p->lock);
	p->queued += n;
	p->left += n;
	if (n == 1)
		pthread_cond_signal(&p->work);
	else
		pthread_cond_broadcast(&p->work);
	while (p->left)
		pthread_cond_wait(&p->done, &p->lock);
	pthread_mutex_unlock(&p->lock);
}

static void plain_stop(struct plain *p)
{
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	for (int i = 0; i < p->threads; i++)
		pthread_join(p->ids[i], NULL);
	free(p->ids);
}

/* ---------------------------------------------------------------- runs */
enum what { EXEC, PLAIN };

static struct figure measure(int rounds, long reps, enum what w,
                             alloter_pool *pool, struct plain *pl,
                             const struct alloter_task *tasks, size_t n,
                             int limit, double unit_div)
{
	double per[64], csw[64];
	struct alloter_exec_opts opts = {.limit = limit};
	struct alloter_exec_result res;
	long h0 = atomic_load(&hits), m0 = atomic_load(&caller_hits), h;

	for (int r = 0; r < rounds; r++) {
		long c0 = vcsw();
		int64_t t0 = now_ns();

		for (long i = 0; i < reps; i++) {
			if (w == PLAIN) {
				plain_batch(pl, (int)n);
			} else if (alloter_exec(pool, tasks, n, &opts, NULL,
			                        &res) || !res.ok) {
				fprintf(stderr, "libbench: a batch failed\n");
				exit(1);
			}
		}
		per[r] = (double)(now_ns() - t0) / (double)reps / unit_div;
		csw[r] = (double)(vcsw() - c0) / (double)reps;
	}
	qsort(per, (size_t)rounds, sizeof *per, cmp);
	qsort(csw, (size_t)rounds, sizeof *csw, cmp);
	h = atomic_load(&hits) - h0;
	return (struct figure){per[rounds / 2], csw[rounds / 2],
	                       h ? 100.0 * (double)(atomic_load(&caller_hits) -
	                                            m0) / (double)h : 0};
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 7;
	static struct alloter_task tasks[BIG];
	alloter_pool *pool;
	struct figure f;

	if (rounds < 1 || rounds > 64)
		rounds = 7;
	on_caller = true;
	for (size_t i = 0; i < BIG; i++)
		tasks[i] = (struct alloter_task){trivial, NULL};
	if (alloter_pool_new(&pool, 0)) {
		fprintf(stderr, "libbench: cannot make a pool\n");
		return 1;
	}
	/* Warm up: the pool's threads start on first use. */
	measure(1, 1000, EXEC, pool, NULL, tasks, SMALL, 16, 1);

	printf("| case | liballoter | voluntary switches | on the caller | plain mutex+condvar pool | its switches |\n");
	printf("|---|--:|--:|--:|--:|--:|\n");
	f = measure(rounds, 200000, EXEC, pool, NULL, tasks, 0, 2, 1000);
	printf("| exec of 0 tasks, µs per exec | %.3f | %.2f | – | – | – |\n",
	       f.per, f.csw);
	for (int limit = 2; limit <= 16; limit *= 8) {
		struct plain pl;
		struct figure g;

		f = measure(rounds, 20000, EXEC, pool, NULL, tasks, SMALL,
		            limit, 1000);
		plain_start(&pl, limit);
		measure(1, 1000, PLAIN, NULL, &pl, NULL, SMALL, 0, 1);
		g = measure(rounds, 20000, PLAIN, NULL, &pl, NULL, SMALL, 0,
		            1000);
		plain_stop(&pl);
		printf("| exec of %d trivial tasks at limit %d, µs per exec | "
		       "%.2f | %.2f | %.0f%% | %.2f (%d threads) | %.2f |\n",
		       SMALL, limit, f.per, f.csw, f.mine, g.per, limit, g.csw);
	}
	{
		struct plain pl;
		struct figure g;

		f = measure(rounds, 1, EXEC, pool, NULL, tasks, BIG, 2, BIG);
		plain_start(&pl, 2);
		g = measure(rounds, 1, PLAIN, NULL, &pl, NULL, BIG, 0, BIG);
		plain_stop(&pl);
		printf("| %d trivial tasks in one exec at limit 2, ns per task "
		       "| %.1f | %.0f per exec | %.0f%% | %.1f (2 threads) | "
		       "%.0f per batch |\n", BIG, f.per, f.csw, f.mine, g.per,
		       g.csw);
	}
	alloter_pool_free(pool);
	return 0;
}
