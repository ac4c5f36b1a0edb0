/*
 * pool.c - worker threads on a mutex and condition-variable queue.  Threads
 * start lazily, when work arrives and none is idle, and then stay for the
 * next batch, so a long-lived program can keep one pool and pay for thread
 * creation once.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>

#include "exec/pool.h"

/* Workers run process tasks whose buffers live on the heap, so a small
 * stack is plenty; it keeps a pool of a thousand threads cheap. */
#define STACK_SIZE (512 * 1024)

struct alloter_pool {
	pthread_mutex_t lock;
	pthread_cond_t work;    /* signalled when work is queued or on stop */
	struct al_work *head, *tail;
	pthread_t *ids;         /* every thread started, to join at the end */
	unsigned max, threads, idle, pending, ids_cap;
	bool stopping;
	pthread_attr_t attr;
};

static void *worker(void *arg)
{
	alloter_pool *p = arg;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct al_work *w;

		while (!p->head && !p->stopping) {
			p->idle++;
			pthread_cond_wait(&p->work, &p->lock);
			p->idle--;
		}
		if (!p->head)
			break;
		w = p->head;
		p->head = w->next;
		if (!p->head)
			p->tail = NULL;
		p->pending--;
		pthread_mutex_unlock(&p->lock);
		w->fn(w);
		pthread_mutex_lock(&p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int alloter_pool_new(alloter_pool **out, unsigned max_threads)
{
	alloter_pool *p = calloc(1, sizeof *p);
	int err;

	if (!p)
		return -ENOMEM;
	p->max = max_threads;
	if ((err = pthread_attr_init(&p->attr)))
		goto fail;
	/* A failure here leaves the default stack size, which also works. */
	pthread_attr_setstacksize(&p->attr, STACK_SIZE > PTHREAD_STACK_MIN ?
	                                    STACK_SIZE : PTHREAD_STACK_MIN);
	if ((err = pthread_mutex_init(&p->lock, NULL)))
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
	free(p->ids);
	pthread_cond_destroy(&p->work);
	pthread_mutex_destroy(&p->lock);
	pthread_attr_destroy(&p->attr);
	free(p);
}

/* Makes room for one more thread id; called with the lock held. */
static int grow_ids(alloter_pool *p)
{
	unsigned cap = p->ids_cap ? p->ids_cap * 2 : 16;
	pthread_t *ids;

	if (p->threads < p->ids_cap)
		return 0;
	ids = realloc(p->ids, cap * sizeof *ids);
	if (!ids)
		return ENOMEM;
	p->ids = ids;
	p->ids_cap = cap;
	return 0;
}

int al_pool_submit(alloter_pool *p, struct al_work *w)
{
	int err = 0;

	w->next = NULL;
	pthread_mutex_lock(&p->lock);
	if (p->tail)
		p->tail->next = w;
	else
		p->head = w;
	p->tail = w;
	p->pending++;
	if (p->pending > p->idle && (p->max == 0 || p->threads < p->max)) {
		err = grow_ids(p);
		if (!err)
			err = pthread_create(&p->ids[p->threads], &p->attr,
			                     worker, p);
		if (err == 0) {
			p->threads++;
		} else if (p->threads > 0) {
			/* Out of threads: the work waits for a busy one. */
			err = 0;
		} else {
			/* With no thread, nothing else can be queued. */
			p->head = p->tail = NULL;
			p->pending--;
		}
	}
	if (err == 0)
		pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->lock);
	return -err;
}

bool al_pool_queued(alloter_pool *p)
{
	bool queued;

	pthread_mutex_lock(&p->lock);
	queued = p->head != NULL;
	pthread_mutex_unlock(&p->lock);
	return queued;
}
