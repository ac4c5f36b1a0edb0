/*
 * reaper.c - cleaning up after tasks that left their process group (a
 * double fork, setsid).  As a child subreaper, alloter inherits such
 * processes when their parents die; when a run is cut short they are found
 * through /proc/PID/task/TID/children, walked down from alloter itself, and
 * terminated like a task's group.  A process found in one walk could in
 * theory exit and have its pid reused before the signal lands; the walk is
 * repeated until nothing is left, and each round takes milliseconds.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "reaper.h"

#define MAX_FOUND 4096

int reaper_start(void)
{
	return prctl(PR_SET_CHILD_SUBREAPER, 1) < 0 ? -errno : 0;
}

void reaper_collect(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
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
	while ((e = readdir(d)) && *n < MAX_FOUND) {
		char file[400];
		FILE *f;
		int child;

		if (e->d_name[0] == '.')
			continue;
		snprintf(file, sizeof file, "%s/%s/children", path, e->d_name);
		f = fopen(file, "re");
		if (!f)
			continue;
		while (*n < MAX_FOUND && fscanf(f, "%d", &child) == 1)
			found[(*n)++] = child;
		fclose(f);
	}
	closedir(d);
}

/* Every descendant of alloter, breadth first; returns the count. */
static size_t descendants(pid_t *found)
{
	size_t n = 0;

	children_of(getpid(), found, &n);
	for (size_t i = 0; i < n; i++)
		children_of(found[i], found, &n);
	return n;
}

/* A zombie needs no signal, only reaping. */
static int signal_all(int sig)
{
	static pid_t found[MAX_FOUND];
	size_t n = descendants(found);
	int hit = 0;

	for (size_t i = 0; i < n; i++)
		if (kill(found[i], sig) == 0)
			hit++;
	if (sig == SIGTERM)
		for (size_t i = 0; i < n; i++)
			kill(found[i], SIGCONT);
	return hit;
}

static bool any_alive(void)
{
	static pid_t found[MAX_FOUND];
	size_t n;

	reaper_collect();
	n = descendants(found);
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

int reaper_sweep(int64_t grace_ms)
{
	struct timespec pause = {0, 10 * 1000000};
	int hit;

	reaper_collect();
	hit = signal_all(SIGTERM);
	if (!hit)
		return 0;
	for (int64_t waited = 0; waited < grace_ms && any_alive(); waited += 10)
		nanosleep(&pause, NULL);
	/* A process stuck in the kernel (state D) may outlive SIGKILL for a
	 * while; do not wait for it forever. */
	for (int tries = 0; tries < 200 && any_alive(); tries++) {
		signal_all(SIGKILL);
		nanosleep(&pause, NULL);
	}
	reaper_collect();
	return hit;
}
