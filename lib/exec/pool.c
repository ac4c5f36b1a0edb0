/*
 * pool.c - worker threads on a mutex and condition-variable queue of
 * batches that asked for a thread.  Threads start lazily, when a batch asks
 * and none is idle, and then stay for the next batch, so a long-lived
 * program can keep one pool and pay for thread creation once.  Every thread
 * is made with the signal mask that the thread calling alloter_pool_new had
 * then, and the stack size the pool was given.  A thread out of work
 * watches the queue a while before it sleeps, and one on its way back from
 * a batch says so, so that a batch started soon after wakes no sleeping
 * thread.  The pool also keeps spare
 * eventfd pairs for the batches' cancellation handles, so that a batch
 * costs no descriptor system call unless it is cancelled.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/spin.h"
#include "exec/pool.h"

/* How long a watching thread lets work wait before it takes it (spin()). */
#define GRACE_NS 5000

/* Spare eventfd pairs kept: as many as batches that commonly run at once
 * on one pool; more are closed when given back. */
#define SPARE_FDS 16

struct alloter_pool {
	pthread_mutex_t lock;
	pthread_cond_t work;    /* signalled when work is queued or on stop */
	struct al_work *head, *tail;
	pthread_t *ids;         /* every thread started, to join at the end */
	unsigned max, threads, live, idle, ids_cap;
	atomic_uint pending;    /* queued work; written under the lock, read
	                           without it by al_pool_queued_beyond and a
	                           spinning thread */
	unsigned spinning;      /* threads looking at the queue without the
	                           lock before they sleep: 0 or 1 */
	atomic_uint returning;  /* threads that said they are on their way
	                           back from work (al_pool_returning) */
	atomic_bool stopping;
	pthread_attr_t attr;
	int spare[SPARE_FDS][2];
	unsigned spares;
};

static int grow(alloter_pool *p);

/* Whether this thread said al_pool_returning in the work it runs. */
static _Thread_local bool said_returning;

/* Threads awake that will look at the queue before they sleep: the
 * spinning one and those on their way back; with the lock held. */
static unsigned watching(const alloter_pool *p)
{
	return p->spinning +
	       atomic_load_explicit(&p->returning, memory_order_relaxed);
}

/* Those, and the sleeping ones: every thread that needs no new one
 * started for work queued now; with the lock held. */
static unsigned coming(const alloter_pool *p)
{
	return p->idle + watching(p);
}

/* A task ended its thread (pthread_exit): the thread leaves the pool, and
 * another takes its place if work waits for one. */
static void worker_gone(void *arg)
{
	alloter_pool *p = arg;

	pthread_mutex_lock(&p->lock);
	p->live--;
	if (p->pending > coming(p) && !p->stopping)
		grow(p);
	pthread_mutex_unlock(&p->lock);
}

static void unlink_work(alloter_pool *p, struct al_work *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		p->head = w->next;
	if (w->next)
		w->next->prev = w->prev;
	else
		p->tail = w->prev;
	w->next = w->prev = NULL;
	w->queued = false;
	atomic_store_explicit(&p->pending, p->pending - 1,
	                      memory_order_relaxed);
}

/* A thread out of work watches the queue for a while before it sleeps
 * (see spin.h), without the lock, which it holds when called and when it
 * returns; one at a time, so an idle pool burns one thread's time at most.
 * Work queued meanwhile is taken under the lock after, so none is missed,
 * and needs no wake-up.  But not at once: a batch of trivial tasks asks
 * for a thread as it starts and is over a microsecond or two later, and a
 * thread that comes at once only shares its lock and makes it wait for the
 * thread to leave.  Work still asked for after GRACE_NS is taken (waking a
 * sleeping thread takes longer); work taken back meanwhile is not, and the
 * thread watches on. */
struct watch {
	const alloter_pool *p;
	int64_t seen; /* when work was first seen queued; 0: none is */
};

static bool worth_taking(void *arg)
{
	struct watch *w = arg;

	if (atomic_load_explicit(&w->p->stopping, memory_order_relaxed))
		return true;
	if (!atomic_load_explicit(&w->p->pending, memory_order_relaxed)) {
		w->seen = 0;
		return false;
	}
	if (!w->seen)
		w->seen = al_mono_ns();
	return al_mono_ns() - w->seen >= GRACE_NS;
}

static void spin(alloter_pool *p)
{
	struct watch w = {.p = p};

	p->spinning++;
	pthread_mutex_unlock(&p->lock);
	al_spin(worth_taking, &w);
	pthread_mutex_lock(&p->lock);
	p->spinning--;
}

static void *worker(void *arg)
{
	alloter_pool *p = arg;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct al_work *w;

		if (!p->head && !p->stopping && !p->spinning)
			spin(p);
		while (!p->head && !p->stopping) {
			p->idle++;
			pthread_cond_wait(&p->work, &p->lock);
			p->idle--;
		}
		if (!p->head)
			break;
		w = p->head;
		unlink_work(p, w);
		w->taken++;
		pthread_mutex_unlock(&p->lock);
		pthread_cleanup_push(worker_gone, p);
		w->fn(w);
		pthread_cleanup_pop(0);
		pthread_mutex_lock(&p->lock);
		if (said_returning) {
			said_returning = false;
			atomic_fetch_sub_explicit(&p->returning, 1,
			                          memory_order_relaxed);
		}
	}
	p->live--;
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int alloter_pool_new_opts(alloter_pool **out,
                          const struct alloter_pool_opts *opts)
{
	static const struct alloter_pool_opts defaults = ALLOTER_POOL_OPTS_INIT;
	alloter_pool *p;
	pthread_mutexattr_t ma;
	sigset_t mask;
	int err;

	if (!opts)
		opts = &defaults;
	if (opts->stack_size && opts->stack_size < (size_t)PTHREAD_STACK_MIN)
		return -EINVAL;
	if (!(p = calloc(1, sizeof *p)))
		return -ENOMEM;
	p->max = opts->max_threads;
	if ((err = pthread_attr_init(&p->attr)))
		goto fail;
	if ((err = pthread_sigmask(SIG_BLOCK, NULL, &mask)) ||
	    (err = pthread_attr_setsigmask_np(&p->attr, &mask)))
		goto fail_attr;
	if (opts->stack_size &&
	    (err = pthread_attr_setstacksize(&p->attr, opts->stack_size)))
		goto fail_attr;
	/* Held briefly, and wanted at once by a spinning thread that saw
	 * work queued under it: spinning a little before sleeping saves that
	 * thread a futex round trip. */
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ADAPTIVE_NP);
	err = pthread_mutex_init(&p->lock, &ma);
	pthread_mutexattr_destroy(&ma);
	if (err)
		goto fail_attr;
	if ((err = pthread_cond_init(&p->work, NULL)))
		goto fail_lock;
	*out = p;
	return 0;

fail_lock:
	pthread_mutex_destroy(&p->lock);
fail_attr:
	pthread_attr_destroy(&p->attr);
fail:
	free(p);
	return -err;
}

int alloter_pool_new(alloter_pool **out, unsigned max_threads)
{
	struct alloter_pool_opts opts = {.max_threads = max_threads};

	return alloter_pool_new_opts(out, &opts);
}

static void close_pair(const int fds[2])
{
	close(fds[0]);
	close(fds[1]);
}

void alloter_pool_free(alloter_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	/* Joined, not detached: when this returns, no thread of the pool
	 * is still running, not even on its way out. */
	for (unsigned i = 0; i < p->threads; i++)
		pthread_join(p->ids[i], NULL);
	while (p->spares)
		close_pair(p->spare[--p->spares]);
	free(p->ids);
	pthread_cond_destroy(&p->work);
	pthread_mutex_destroy(&p->lock);
	pthread_attr_destroy(&p->attr);
	free(p);
}

/* Starts one more thread; with the lock held.  Returns 0 or a positive
 * errno value. */
static int grow(alloter_pool *p)
{
	int err;

	if (p->threads == p->ids_cap) {
		unsigned cap = p->ids_cap ? p->ids_cap * 2 : 16;
		pthread_t *ids = realloc(p->ids, cap * sizeof *ids);

		if (!ids)
			return ENOMEM;
		p->ids = ids;
		p->ids_cap = cap;
	}
	err = pthread_create(&p->ids[p->threads], &p->attr, worker, p);
	if (!err) {
		p->threads++;
		p->live++;
	}
	return err;
}

int al_pool_ask(alloter_pool *p, struct al_work *w)
{
	int err = 0;

	pthread_mutex_lock(&p->lock);
	if (w->queued)
		goto out;
	w->next = NULL;
	w->prev = p->tail;
	if (p->tail)
		p->tail->next = w;
	else
		p->head = w;
	p->tail = w;
	w->queued = true;
	atomic_store_explicit(&p->pending, p->pending + 1,
	                      memory_order_relaxed);
	if (p->pending > coming(p) && (p->max == 0 || p->live < p->max)) {
		err = grow(p);
		if (err && p->live > 0)
			err = 0; /* out of threads: it waits for a busy one */
		else if (err)
			unlink_work(p, w); /* no thread will ever take it */
	}
	/* Only a sleeping thread needs the futex wake; a busy one looks at
	 * the queue before it sleeps, and a spinning or returning one is
	 * about to. */
	if (!err && p->idle && p->pending > watching(p))
		pthread_cond_signal(&p->work);
out:
	pthread_mutex_unlock(&p->lock);
	return -err;
}

unsigned al_pool_unask(alloter_pool *p, struct al_work *w)
{
	unsigned taken;

	pthread_mutex_lock(&p->lock);
	if (w->queued)
		unlink_work(p, w);
	taken = w->taken;
	pthread_mutex_unlock(&p->lock);
	return taken;
}

bool al_pool_stuck(alloter_pool *p)
{
	bool stuck;

	pthread_mutex_lock(&p->lock);
	stuck = coming(p) < p->pending && p->max && p->live >= p->max;
	pthread_mutex_unlock(&p->lock);
	return stuck;
}

void al_pool_returning(alloter_pool *p)
{
	said_returning = true;
	atomic_fetch_add_explicit(&p->returning, 1, memory_order_relaxed);
}

/* A hint, asked once per task a pool thread runs: no lock, so that the
 * threads of a busy batch do not meet on the pool's lock as well. */
bool al_pool_queued_beyond(alloter_pool *p, unsigned mine)
{
	return atomic_load_explicit(&p->pending, memory_order_relaxed) > mine;
}

int al_pool_take_fds(alloter_pool *p, int fds[2])
{
	bool spare;

	pthread_mutex_lock(&p->lock);
	if ((spare = p->spares > 0)) {
		p->spares--;
		fds[0] = p->spare[p->spares][0];
		fds[1] = p->spare[p->spares][1];
	}
	pthread_mutex_unlock(&p->lock);
	if (spare)
		return 0;
	if ((fds[0] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
		return -errno;
	if ((fds[1] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		int err = -errno;

		close(fds[0]);
		return err;
	}
	return 0;
}

void al_pool_give_fds(alloter_pool *p, const int fds[2])
{
	bool kept;

	pthread_mutex_lock(&p->lock);
	if ((kept = p->spares < SPARE_FDS)) {
		p->spare[p->spares][0] = fds[0];
		p->spare[p->spares][1] = fds[1];
		p->spares++;
	}
	pthread_mutex_unlock(&p->lock);
	if (!kept)
		close_pair(fds);
}
