/*
 * pool.h - the worker pool's internal interface: intrusive work items, so
 * that submitting work allocates nothing.
 */
#ifndef AL_POOL_H
#define AL_POOL_H

#include "alloter.h"

struct al_work {
	void (*fn)(struct al_work *w);
	struct al_work *next; /* the pool's, while queued */
};

/* Queues w to run on a pool thread, starting a thread if none is idle and
 * the pool may grow.  w must stay valid until w->fn returns.  Returns 0, or
 * a negative errno when no thread exists nor can be started. */
int al_pool_submit(alloter_pool *p, struct al_work *w);
/* Whether work waits in the queue for a thread. */
bool al_pool_queued(alloter_pool *p);

#endif
