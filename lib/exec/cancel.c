/*
 * cancel.c - the cancellation handle: a reason, a "hurry" flag and two
 * eventfds that turn readable when they are set, so a task can wait for
 * cancellation in the same poll() as its own descriptors.  Handles form a
 * tree; firing one fires its subtree, the way Go's contexts propagate.
 * A handle may carry a deadline: one timer thread for the whole process,
 * started with the first such handle, fires each at its time, so a deadline
 * holds whatever the threads that watch the handle are doing.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "base/clock.h"
#include "exec/cancel.h"

struct alloter_cancel {
	atomic_int reason;
	atomic_bool hurried;
	int fd, hurry_fd;
	alloter_cancel *parent;
	alloter_cancel *child, *sibling; /* guarded by tree_lock */
	int64_t deadline;                /* monotonic ns; 0: none */
	alloter_cancel *timer_next;      /* guarded by timer_lock */
	bool timed;                      /* on the timer list (timer_lock) */
};

/* One lock for every tree: handles are few (one per run and batch) and
 * firing is rare, so contention does not matter, and one lock makes the
 * walk over a subtree safe against concurrent new and free. */
static pthread_mutex_t tree_lock = PTHREAD_MUTEX_INITIALIZER;

/* Handles with a deadline, soonest first, and the thread that fires them.
 * Lock order: timer_lock, then tree_lock (the thread fires under it, so a
 * handle being freed waits until its firing is over). */
static pthread_mutex_t timer_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t timer_cond;
static alloter_cancel *timers;
static bool timer_started;

static void fire_locked(alloter_cancel *c, int reason, bool hurry);

static void poke(int fd)
{
	uint64_t one = 1;

	/* An eventfd write fails only on counter overflow, which one write
	 * per handle cannot reach; EINTR cannot happen on a non-blocking
	 * 8-byte write, but retry for form's sake. */
	while (write(fd, &one, sizeof one) < 0 && errno == EINTR)
		;
}

/* Called with tree_lock held. */
static void fire_locked(alloter_cancel *c, int reason, bool hurry)
{
	int none = ALLOTER_CANCEL_NONE;

	if (atomic_compare_exchange_strong(&c->reason, &none, reason))
		poke(c->fd);
	if (hurry && !atomic_exchange(&c->hurried, true))
		poke(c->hurry_fd);
	for (alloter_cancel *k = c->child; k; k = k->sibling)
		fire_locked(k, atomic_load(&c->reason), hurry);
}

/* Makes a handle on the eventfd pair fds (fresh, counters at 0). */
static int make(alloter_cancel **out, alloter_cancel *parent, const int fds[2])
{
	alloter_cancel *c = calloc(1, sizeof *c);

	if (!c)
		return -ENOMEM;
	c->fd = fds[0];
	c->hurry_fd = fds[1];
	if (parent) {
		pthread_mutex_lock(&tree_lock);
		c->parent = parent;
		c->sibling = parent->child;
		parent->child = c;
		if (atomic_load(&parent->reason))
			fire_locked(c, atomic_load(&parent->reason),
			            atomic_load(&parent->hurried));
		pthread_mutex_unlock(&tree_lock);
	}
	*out = c;
	return 0;
}

int alloter_cancel_new(alloter_cancel **out, alloter_cancel *parent)
{
	int fds[2], err;

	if ((fds[0] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
		return -errno;
	if ((fds[1] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		err = -errno;
		goto fail;
	}
	if (!(err = make(out, parent, fds)))
		return 0;
	close(fds[1]);
fail:
	close(fds[0]);
	return err;
}

/* Takes c off the timer list and out of its tree: then nothing fires it
 * any more.  Its memory and descriptors are the caller's. */
static void unlink_handle(alloter_cancel *c)
{
	if (c->deadline) {
		pthread_mutex_lock(&timer_lock);
		if (c->timed) {
			alloter_cancel **p = &timers;
			while (*p != c)
				p = &(*p)->timer_next;
			*p = c->timer_next;
		}
		pthread_mutex_unlock(&timer_lock);
	}
	pthread_mutex_lock(&tree_lock);
	if (c->parent) {
		alloter_cancel **p = &c->parent->child;
		while (*p != c)
			p = &(*p)->sibling;
		*p = c->sibling;
	}
	/* Orphan any children left: they keep working on their own. */
	for (alloter_cancel *k = c->child; k; k = k->sibling)
		k->parent = NULL;
	pthread_mutex_unlock(&tree_lock);
}

void alloter_cancel_free(alloter_cancel *c)
{
	if (!c)
		return;
	unlink_handle(c);
	close(c->fd);
	close(c->hurry_fd);
	free(c);
}

static void drain(int fd)
{
	uint64_t n;

	while (read(fd, &n, sizeof n) < 0 && errno == EINTR)
		;
}

void al_cancel_release(alloter_cancel *c, int fds[2])
{
	/* Unlinked, it fires no more.  Its counters were bumped once each
	 * at most, when it fired and when it was hurried: read them back to
	 * 0 for the next handle. */
	unlink_handle(c);
	if (atomic_load(&c->reason))
		drain(c->fd);
	if (atomic_load(&c->hurried))
		drain(c->hurry_fd);
	fds[0] = c->fd;
	fds[1] = c->hurry_fd;
	free(c);
}

static void fire(alloter_cancel *c, int reason, bool hurry)
{
	if (reason <= 0)
		reason = ALLOTER_CANCEL_CALLER;
	pthread_mutex_lock(&tree_lock);
	fire_locked(c, reason, hurry);
	pthread_mutex_unlock(&tree_lock);
}

static void *timer_main(void *unused)
{
	(void)unused;
	pthread_mutex_lock(&timer_lock);
	for (;;) {
		alloter_cancel *c = timers;
		struct timespec at;

		if (!c) {
			pthread_cond_wait(&timer_cond, &timer_lock);
			continue;
		}
		if (c->deadline <= al_mono_ns()) {
			timers = c->timer_next;
			c->timed = false;
			pthread_mutex_lock(&tree_lock);
			fire_locked(c, ALLOTER_CANCEL_TIMEOUT, false);
			pthread_mutex_unlock(&tree_lock);
			continue;
		}
		at.tv_sec = c->deadline / 1000000000;
		at.tv_nsec = c->deadline % 1000000000;
		pthread_cond_timedwait(&timer_cond, &timer_lock, &at);
	}
	return NULL;
}

/* Starts the timer thread once; with timer_lock held.  It runs no code of
 * the caller's and takes no signal. */
static int start_timer(void)
{
	pthread_condattr_t ca;
	pthread_attr_t ta;
	pthread_t id;
	sigset_t all;
	int err;

	if (timer_started)
		return 0;
	if ((err = pthread_condattr_init(&ca)))
		return -err;
	err = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (!err)
		err = pthread_cond_init(&timer_cond, &ca);
	pthread_condattr_destroy(&ca);
	if (err)
		return -err;
	if ((err = pthread_attr_init(&ta)))
		goto fail_cond;
	sigfillset(&all);
	err = pthread_attr_setsigmask_np(&ta, &all);
	if (!err)
		err = pthread_attr_setdetachstate(&ta, PTHREAD_CREATE_DETACHED);
	if (!err)
		err = pthread_create(&id, &ta, timer_main, NULL);
	pthread_attr_destroy(&ta);
	if (err)
		goto fail_cond;
	timer_started = true;
	return 0;
fail_cond:
	pthread_cond_destroy(&timer_cond);
	return -err;
}

/* Gives c a deadline timeout_ms from now (none for 0 or too far to
 * count), starting the timer thread if need be. */
static int set_deadline(alloter_cancel *c, int64_t timeout_ms)
{
	alloter_cancel **p;
	int err;

	if (timeout_ms == 0 ||
	    (c->deadline = al_deadline_ns(timeout_ms)) == INT64_MAX) {
		c->deadline = 0; /* none, or never */
		return 0;
	}
	pthread_mutex_lock(&timer_lock);
	if ((err = start_timer())) {
		pthread_mutex_unlock(&timer_lock);
		c->deadline = 0;
		return err;
	}
	for (p = &timers; *p && (*p)->deadline <= c->deadline;
	     p = &(*p)->timer_next)
		;
	c->timer_next = *p;
	*p = c;
	c->timed = true;
	if (timers == c)
		pthread_cond_signal(&timer_cond);
	pthread_mutex_unlock(&timer_lock);
	return 0;
}

int alloter_cancel_new_timeout(alloter_cancel **out, alloter_cancel *parent,
                               int64_t timeout_ms)
{
	alloter_cancel *c;
	int err;

	if (timeout_ms < 0)
		return -EINVAL;
	if ((err = alloter_cancel_new(&c, parent)))
		return err;
	if ((err = set_deadline(c, timeout_ms))) {
		alloter_cancel_free(c);
		return err;
	}
	*out = c;
	return 0;
}

int al_cancel_new_on(alloter_cancel **out, alloter_cancel *parent,
                     int64_t timeout_ms, const int fds[2])
{
	alloter_cancel *c;
	int err;

	if ((err = make(&c, parent, fds)))
		return err;
	if ((err = set_deadline(c, timeout_ms))) {
		int back[2];

		al_cancel_release(c, back);
		return err;
	}
	*out = c;
	return 0;
}

int64_t alloter_cancel_remaining_ms(const alloter_cancel *c)
{
	int64_t soonest = 0, now;

	pthread_mutex_lock(&tree_lock);
	for (; c; c = c->parent)
		if (c->deadline && (!soonest || c->deadline < soonest))
			soonest = c->deadline;
	pthread_mutex_unlock(&tree_lock);
	if (!soonest)
		return -1;
	now = al_mono_ns();
	return soonest <= now ? 0 : (soonest - now + 999999) / 1000000;
}

void alloter_cancel_fire(alloter_cancel *c, int reason)
{
	fire(c, reason, false);
}

void alloter_cancel_hurry(alloter_cancel *c, int reason)
{
	fire(c, reason, true);
}

/* A NULL handle is one that never fires: tasks run without a handle of
 * their own poll a -1 descriptor, which poll() ignores. */
int alloter_cancel_reason(const alloter_cancel *c)
{
	return c ? atomic_load(&c->reason) : 0;
}

bool alloter_cancel_hurried(const alloter_cancel *c)
{
	return c && atomic_load(&c->hurried);
}

int alloter_cancel_fd(const alloter_cancel *c)
{
	return c ? c->fd : -1;
}

int alloter_cancel_hurry_fd(const alloter_cancel *c)
{
	return c ? c->hurry_fd : -1;
}
