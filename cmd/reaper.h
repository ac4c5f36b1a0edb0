/*
 * reaper.h - the descendants that escaped their task's process group.
 */
#ifndef CMD_REAPER_H
#define CMD_REAPER_H

#include <stdint.h>

/* Makes alloter a child subreaper, so orphaned descendants become its
 * children instead of init's.  Returns 0 or a negative errno value. */
int reaper_start(void);
/* Terminates every process still descended from alloter (SIGTERM and
 * SIGCONT, then SIGKILL after grace_ms) and reaps its children.  Call only
 * once no task is running.  Returns how many processes were signalled. */
int reaper_sweep(int64_t grace_ms);
/* Reaps children that have already ended, without waiting. */
void reaper_collect(void);

#endif
