/*
 * reap.c - the one place that waits for children: a process task's leader,
 * the members of its group that became our children, and, for a program
 * that opted in as a child subreaper, the orphans its tasks left behind.
 *
 * Races, and how they are closed:
 * - A leader is waited for by pid, by the one thread that runs its task,
 *   never with waitpid(-1), so no other waiter can take its status; the
 *   pid cannot be reused while the leader is unreaped.
 * - Members of a task's group are reaped with waitpid(-pgid): that touches
 *   only children in that group, which are the task's (an orphan of the
 *   task lands here only when we are a subreaper).
 * - The opt-in sweep reaps children that are not leaders.  It cannot use
 *   waitpid(-1), which could take a leader's status from its task.  So
 *   leaders are registered: a spawn holds a read lock from before
 *   posix_spawn until the new pid is in the table, and the sweep holds the
 *   write lock, so it never sees a leader that is not yet registered.  The
 *   sweep peeks at each zombie (WNOWAIT) and reaps it only if it is not
 *   registered; a task reaps its leader before it unregisters it, so the
 *   sweep sees a leader as a registered zombie, which it leaves alone, or
 *   not at all.
 * - The table's room is reserved before the spawn, so registering cannot
 *   fail after it: a spawn without room fails with ENOMEM, that task alone,
 *   and no failure turns the sweep off for the rest of the run.
 * - The descendant walk (/proc/PID/task/TID/children) may find a process
 *   that exits and whose pid is reused before the signal lands; the walk is
 *   repeated until nothing is left, and each round takes milliseconds.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alloter.h"
#include "proc/reap.h"

#define TREE_MAX 4096        /* descendants one walk looks at */
#define SWEEP_PAUSE_MS 10

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_rwlock_t spawning;
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t *reg;
static size_t reg_n, reg_cap, reg_reserved;
static atomic_bool subreaper;

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

int al_spawn_begin(void)
{
	int err = 0;

	pthread_once(&once, init);
	pthread_mutex_lock(&reg_lock);
	if (reg_n + reg_reserved == reg_cap) {
		size_t cap = reg_cap ? reg_cap * 2 : 64;
		pid_t *v = realloc(reg, cap * sizeof *v);

		if (v) {
			reg = v;
			reg_cap = cap;
		} else {
			err = -ENOMEM;
		}
	}
	if (!err)
		reg_reserved++;
	pthread_mutex_unlock(&reg_lock);
	if (!err)
		pthread_rwlock_rdlock(&spawning);
	return err;
}

void al_spawn_end(pid_t pid)
{
	pthread_mutex_lock(&reg_lock);
	reg_reserved--;
	if (pid > 0)
		reg[reg_n++] = pid; /* the room was reserved */
	pthread_mutex_unlock(&reg_lock);
	pthread_rwlock_unlock(&spawning);
}

void al_spawn_settle(void)
{
	pthread_once(&once, init);
	pthread_rwlock_wrlock(&spawning);
	pthread_rwlock_unlock(&spawning);
}

static bool registered(pid_t pid)
{
	for (size_t i = 0; i < reg_n; i++)
		if (reg[i] == pid)
			return true;
	return false;
}

void al_rusage_add(struct rusage *a, const struct rusage *b)
{
	timeradd(&a->ru_utime, &b->ru_utime, &a->ru_utime);
	timeradd(&a->ru_stime, &b->ru_stime, &a->ru_stime);
	if (b->ru_maxrss > a->ru_maxrss)
		a->ru_maxrss = b->ru_maxrss;
}

void al_reap_unborn(pid_t pid)
{
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

int al_reap_leader(pid_t pid, int *status, struct rusage *ru)
{
	struct rusage own = {0};
	pid_t r;

	do
		r = wait4(pid, status, WNOHANG, &own);
	while (r < 0 && errno == EINTR);
	if (r > 0)
		al_rusage_add(ru, &own);
	if (r == 0)
		return -EAGAIN;
	if (r < 0 && errno != ECHILD)
		return -errno;
	/* Someone else took it (a waitpid(-1) in the program): the status
	 * is lost; call it a failure rather than wait for ever. */
	if (r < 0)
		*status = 255 << 8;
	pthread_mutex_lock(&reg_lock);
	for (size_t i = 0; i < reg_n; i++)
		if (reg[i] == pid) {
			reg[i] = reg[--reg_n];
			break;
		}
	pthread_mutex_unlock(&reg_lock);
	return 0;
}

void al_reap_group(pid_t pgid, struct rusage *ru)
{
	for (;;) {
		struct rusage own = {0};
		pid_t r = wait4(-pgid, NULL, WNOHANG, &own);

		if (r > 0)
			al_rusage_add(ru, &own);
		else if (!(r < 0 && errno == EINTR))
			return;
	}
}

/* Appends the children of pid (every thread's) to found[]. */
static void children_of(pid_t pid, pid_t *found, size_t *n)
{
	char path[64];
	DIR *d;
	struct dirent *e;

	snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return;
	while ((e = readdir(d)) && *n < TREE_MAX) {
		char file[400];
		FILE *f;
		int child;

		if (e->d_name[0] == '.')
			continue;
		snprintf(file, sizeof file, "%s/%s/children", path, e->d_name);
		f = fopen(file, "re");
		if (!f)
			continue;
		while (*n < TREE_MAX && fscanf(f, "%d", &child) == 1)
			found[(*n)++] = child;
		fclose(f);
	}
	closedir(d);
}

/* Every descendant of root, breadth first, into found (TREE_MAX slots);
 * returns the count. */
static size_t descendants(pid_t root, pid_t *found)
{
	size_t n = 0;

	children_of(root, found, &n);
	for (size_t i = 0; i < n; i++)
		children_of(found[i], found, &n);
	return n;
}

int al_signal_descendants(pid_t root, int sig)
{
	pid_t *found = malloc(TREE_MAX * sizeof *found);
	size_t n;
	int hit = 0;

	if (!found)
		return -ENOMEM;
	n = descendants(root, found);
	for (size_t i = 0; i < n; i++)
		if (kill(found[i], sig) == 0)
			hit++;
	/* A stopped process cannot act on SIGTERM until it is continued. */
	if (sig == SIGTERM)
		for (size_t i = 0; i < n; i++)
			kill(found[i], SIGCONT);
	free(found);
	return hit;
}

int alloter_reaper_start(void)
{
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		return -errno;
	atomic_store(&subreaper, true);
	return 0;
}

int alloter_reaper_sweep(bool *more)
{
	int n = 0;
	bool stuck = false;

	if (more)
		*more = false;
	if (!atomic_load(&subreaper))
		return -EPERM;
	pthread_once(&once, init);
	pthread_rwlock_wrlock(&spawning);
	pthread_mutex_lock(&reg_lock);
	for (;;) {
		siginfo_t si = {0};

		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 ||
		    si.si_pid == 0)
			break;
		if (registered(si.si_pid)) {
			stuck = true; /* a leader: its task will reap it */
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

/* Whether a descendant of ours is still alive (not a zombie). */
static bool any_alive(pid_t *found)
{
	size_t n;

	alloter_reaper_sweep(NULL);
	n = descendants(getpid(), found);
	for (size_t i = 0; i < n; i++) {
		char path[64], state = 0;
		FILE *f;

		snprintf(path, sizeof path, "/proc/%d/stat", (int)found[i]);
		f = fopen(path, "re");
		if (!f)
			continue;
		/* The state follows the ")" that ends the command name. */
		if (fscanf(f, "%*d (%*[^)]) %c", &state) != 1)
			state = 0;
		fclose(f);
		if (state && state != 'Z')
			return true;
	}
	return false;
}

int alloter_reaper_terminate(int64_t grace_ms, const alloter_cancel *hurry)
{
	struct timespec pause = {0, SWEEP_PAUSE_MS * 1000000};
	pid_t *found;
	int hit;

	if (!atomic_load(&subreaper))
		return -EPERM;
	found = malloc(TREE_MAX * sizeof *found);
	if (!found)
		return -ENOMEM;
	alloter_reaper_sweep(NULL);
	hit = al_signal_descendants(getpid(), SIGTERM);
	if (hit <= 0)
		goto out;
	for (int64_t waited = 0; waited < grace_ms && any_alive(found) &&
	                         !(hurry && alloter_cancel_hurried(hurry));
	     waited += SWEEP_PAUSE_MS)
		nanosleep(&pause, NULL);
	/* A process stuck in the kernel (state D) may outlive SIGKILL for a
	 * while; do not wait for it forever. */
	for (int tries = 0; tries < 200 && any_alive(found); tries++) {
		al_signal_descendants(getpid(), SIGKILL);
		nanosleep(&pause, NULL);
	}
	alloter_reaper_sweep(NULL);
out:
	free(found);
	return hit;
}

bool al_group_alive(pid_t pgid)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	bool alive = false;

	if (!d)
		return true; /* cannot tell: the caller keeps waiting */
	while (!alive && (e = readdir(d))) {
		char path[300], line[512], state, *end;
		int pgrp;
		FILE *f;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
		if (!(f = fopen(path, "re")))
			continue; /* gone meanwhile */
		/* pid (comm) state ppid pgrp: comm may hold anything, ')'
		 * included, but the last ')' ends it. */
		if (fgets(line, sizeof line, f) &&
		    (end = strrchr(line, ')')) &&
		    sscanf(end + 1, " %c %*d %d", &state, &pgrp) == 2 &&
		    pgrp == pgid && state != 'Z' && state != 'X')
			alive = true;
		fclose(f);
	}
	closedir(d);
	return alive;
}
