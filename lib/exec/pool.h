/*
 * pool.h - the worker pool's internal interface.  A batch does not queue
 * its tasks in the pool: it asks the pool for a thread, and the thread
 * that comes takes the batch's tasks itself, one after another, for as
 * long as the batch has some.  So asking allocates nothing, and a task is
 * handed out only when a thread is there to run it.
 */
#ifndef AL_POOL_H
#define AL_POOL_H

#include "alloter.h"

struct al_work {
	void (*fn)(struct al_work *w);
	struct al_work *next, *prev; /* the pool's, while queued */
	unsigned taken;              /* threads handed w so far (pool's
	                                lock) */
	bool queued;                 /* (pool's lock) */
};

/* Asks for one thread to call w->fn(w), unless one was asked for and has
 * not come yet: w is queued, and the next idle thread (or a new one, if
 * the pool may grow) takes it.  w must stay valid until al_pool_unask has
 * returned and every thread it counts has returned from w->fn.  Returns 0,
 * or a negative errno when the pool has no thread and cannot start one. */
int al_pool_ask(alloter_pool *p, struct al_work *w);
/* Takes w out of the queue, so no thread comes for it any more, and
 * returns how many threads were ever handed it (each calls w->fn once). */
unsigned al_pool_unask(alloter_pool *p, struct al_work *w);
/* Said by a w->fn on a pool thread just before it lets anyone see that it
 * is done with w (after which it returns at once): work asked for
 * meanwhile then waits for this thread instead of waking another. */
void al_pool_returning(alloter_pool *p);
/* Whether work asked for may wait long: no thread is idle and the pool
 * may not grow. */
bool al_pool_stuck(alloter_pool *p);
/* Whether more than `mine` pieces of work wait in the queue for a thread
 * (a hint, read without the lock: it may change at once). */
bool al_pool_queued_beyond(alloter_pool *p, unsigned mine);
/* A pair of fresh eventfds (counter 0) for a batch's cancellation handle,
 * from the pool's spares when it has some.  Returns 0 or a negative errno. */
int al_pool_take_fds(alloter_pool *p, int fds[2]);
/* Gives back a pair taken with al_pool_take_fds, counters at 0 again. */
void al_pool_give_fds(alloter_pool *p, const int fds[2]);

#endif
