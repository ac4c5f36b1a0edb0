/*
 * spawn.h - starting one child, for proc.c: in a process group of its own,
 * with every signal at its default and none blocked, its descriptors 0-2
 * set as asked, in a working folder, with a pidfd when the kernel gives one.
 */
#ifndef AL_SPAWN_H
#define AL_SPAWN_H

#include <stdbool.h>
#include <sys/types.h>

/* Descriptors from here up are the library's own that outlive a spawn
 * (a running task's pidfd and pipes).  A child is given none of them, nor
 * any other of ours up here, and a spawn costs a copy of the table below
 * this only: see spawn.c. */
#define AL_SPAWN_HIGH 256

#define AL_SPAWN_KEEP (-1) /* the descriptor stays as it is in ours */
#define AL_SPAWN_NULL (-2) /* opened onto /dev/null */

struct al_spawn {
	const char *file;    /* a path; with search, a name without a '/'
	                        is looked for in PATH as execvp does */
	bool search;
	char *const *argv;
	char *const *envp;
	int fd[3];           /* what the child's 0, 1, 2 become: one of ours,
	                        to dup2 there (done in that order, so 1 for
	                        2 is the child's new stdout), or
	                        AL_SPAWN_KEEP/AL_SPAWN_NULL */
	const char *cwd;     /* or NULL */
};

/* Starts the child; call it between al_spawn_begin and al_spawn_end.
 * Returns 0 with *pid and *pidfd (-1 when the kernel has none to give), or
 * a positive errno value: the child did not exec, and it is reaped. */
int al_spawn(const struct al_spawn *s, pid_t *pid, int *pidfd);

/* Moves fd, ours, to AL_SPAWN_HIGH or above (close-on-exec) and returns
 * where it is now: fd itself if it is negative, already there, or cannot be
 * moved (no room under the descriptor limit), which only makes spawns
 * dearer. */
int al_spawn_lift(int fd);

#endif
