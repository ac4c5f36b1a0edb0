/*
 * cancel.c - the cancellation handle: a reason, a "hurry" flag and two
 * eventfds that turn readable when they are set, so a task can wait for
 * cancellation in the same poll() as its own descriptors.  Handles form a
 * tree; firing one fires its subtree, the way Go's contexts propagate.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "alloter.h"

struct alloter_cancel {
	atomic_int reason;
	atomic_bool hurried;
	int fd, hurry_fd;
	alloter_cancel *parent;
	alloter_cancel *child, *sibling; /* guarded by tree_lock */
};

/* One lock for every tree: handles are few (one per run and batch) and
 * firing is rare, so contention does not matter, and one lock makes the
 * walk over a subtree safe against concurrent new and free. */
static pthread_mutex_t tree_lock = PTHREAD_MUTEX_INITIALIZER;

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

int alloter_cancel_new(alloter_cancel **out, alloter_cancel *parent)
{
	alloter_cancel *c = calloc(1, sizeof *c);
	int err;

	if (!c)
		return -ENOMEM;
	c->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->fd < 0)
		goto fail;
	c->hurry_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->hurry_fd < 0)
		goto fail_fd;
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

fail_fd:
	err = errno;
	close(c->fd);
	errno = err;
fail:
	err = -errno;
	free(c);
	return err;
}

void alloter_cancel_free(alloter_cancel *c)
{
	if (!c)
		return;
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
	close(c->fd);
	close(c->hurry_fd);
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
