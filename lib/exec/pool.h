/*
 * pool.h - the worker pool's internal interface: intrusive work items, so
 * that submitting work allocates nothing, and that a batch can take back
 * work no thread has taken yet.
 */
#ifndef AL_POOL_H
#define AL_POOL_H

#include "alloter.h"

struct al_work {
	void (*fn)(struct al_work *w);
	struct al_work *next, *prev; /* the pool's, while queued */
};

/* Queues w to run on a pool thread, starting a thread if none is idle and
 * the pool may grow.  w must stay valid until w->fn returns or
 * al_pool_withdraw takes it back.  Returns 0, or a negative errno when no
 * thread exists nor can be started. */
int al_pool_submit(alloter_pool *p, struct al_work *w);
/* Takes w back if no thread has taken it yet: then returns true, and w->fn
 * will not be called.  With only_stuck, only if no thread of the pool can
 * take it soon (none idle and the pool cannot grow). */
bool al_pool_withdraw(alloter_pool *p, struct al_work *w, bool only_stuck);
/* Whether work waits in the queue for a thread (a hint: it may change
 * at once). */
bool al_pool_queued(alloter_pool *p);

#endif
