/*
 * leaders.h - the pids of running process tasks, so that orphans handed to
 * a subreaper can be reaped without ever stealing a task's own status.
 */
#ifndef AL_REAP_H
#define AL_REAP_H

#include <sys/types.h>

/* Brackets a spawn: no orphan sweep runs between the two calls, and
 * al_spawn_end registers pid (if > 0) as a task leader. */
void al_spawn_begin(void);
void al_spawn_end(pid_t pid);
/* waitpid(pid, WNOHANG) for a registered leader, unregistering it once
 * reaped.  Returns what waitpid returned. */
pid_t al_reap_leader(pid_t pid, int *status);

#endif
