/*
 * leaders.c - which of our children are task leaders.
 *
 * A program that makes itself a child subreaper inherits the orphans of its
 * tasks, and must reap them or they stay zombies (and keep their task's
 * group alive).  It cannot use waitpid(-1): that could take a leader's
 * status from the worker waiting for it.  So leaders are registered here,
 * and the sweep peeks at each zombie (WNOWAIT) and reaps only those that are
 * not leaders.  Spawns hold a read lock from before posix_spawn until the
 * new pid is registered; the sweep takes the write lock, so it never sees a
 * leader that is not yet registered.  A worker reaps its leader before it
 * unregisters it, so the sweep never mistakes a leader for an orphan.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "alloter.h"
#include "proc/reap.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_rwlock_t spawning;
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t *reg;
static size_t reg_n, reg_cap;
static int reg_err; /* a leader could not be registered: sweep nothing */

static void init(void)
{
	pthread_rwlockattr_t a;

	/* Spawns overlap all the time; without writer preference a sweep
	 * could wait for ever. */
	pthread_rwlockattr_init(&a);
	pthread_rwlockattr_setkind_np(&a,
		PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&spawning, &a);
	pthread_rwlockattr_destroy(&a);
}

void al_spawn_begin(void)
{
	pthread_once(&once, init);
	pthread_rwlock_rdlock(&spawning);
}

void al_spawn_end(pid_t pid)
{
	if (pid > 0) {
		pthread_mutex_lock(&reg_lock);
		if (reg_n == reg_cap) {
			size_t cap = reg_cap ? reg_cap * 2 : 64;
			pid_t *v = realloc(reg, cap * sizeof *v);

			if (v) {
				reg = v;
				reg_cap = cap;
			}
		}
		if (reg_n < reg_cap)
			reg[reg_n++] = pid;
		else
			reg_err++;
		pthread_mutex_unlock(&reg_lock);
	}
	pthread_rwlock_unlock(&spawning);
}

static bool registered(pid_t pid)
{
	for (size_t i = 0; i < reg_n; i++)
		if (reg[i] == pid)
			return true;
	return false;
}

pid_t al_reap_leader(pid_t pid, int *status)
{
	pid_t r;

	/* Reaped first, unregistered after: a sweep holds the registry
	 * lock throughout, so it sees this pid either as a registered
	 * zombie, which it leaves alone, or not at all. */
	do
		r = waitpid(pid, status, WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r == pid || (r < 0 && errno == ECHILD)) {
		pthread_mutex_lock(&reg_lock);
		for (size_t i = 0; i < reg_n; i++)
			if (reg[i] == pid) {
				reg[i] = reg[--reg_n];
				break;
			}
		pthread_mutex_unlock(&reg_lock);
	}
	return r;
}

int alloter_proc_reap_orphans(bool *more)
{
	int n = 0;
	bool stuck = false;

	pthread_once(&once, init);
	pthread_rwlock_wrlock(&spawning);
	pthread_mutex_lock(&reg_lock);
	while (!reg_err) {
		siginfo_t si = {0};

		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 ||
		    si.si_pid == 0)
			break;
		if (registered(si.si_pid)) {
			stuck = true; /* a leader: its worker will reap it */
			break;
		}
		if (waitpid(si.si_pid, NULL, WNOHANG) == si.si_pid)
			n++;
	}
	pthread_mutex_unlock(&reg_lock);
	pthread_rwlock_unlock(&spawning);
	if (more)
		*more = stuck;
	return n;
}
