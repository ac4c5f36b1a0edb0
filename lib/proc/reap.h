/*
 * reap.h - waiting for children, for proc.c: the leader registry that lets
 * the opt-in sweep tell leaders from orphans, and the waits themselves.
 */
#ifndef AL_REAP_H
#define AL_REAP_H

#include <stdbool.h>
#include <sys/resource.h>
#include <sys/types.h>

/* Around each spawn: begin reserves the leader's place in the registry and
 * takes the spawn lock (0, or -ENOMEM: do not spawn); end registers pid (or
 * nothing, for pid <= 0: the spawn failed) and releases the lock. */
int al_spawn_begin(void);
void al_spawn_end(pid_t pid);
/* Waits until no spawn is under way: every child spawned so far has
 * exec'd, so descriptors it had only as copies (close-on-exec) are gone. */
void al_spawn_settle(void);
/* Waits for a child that a spawn started but that never exec'd (it is
 * ending or has ended), while the spawn still holds the lock; see
 * spawn.c. */
void al_reap_unborn(pid_t pid);
/* Reaps the leader pid if it has ended, without blocking, and unregisters
 * it.  Returns 0 with *status and its resource use (with that of the
 * children it waited for) added to *ru, -EAGAIN while it runs, or another
 * negative errno value.  A leader someone else reaped counts as ended,
 * with status 255. */
int al_reap_leader(pid_t pid, int *status, struct rusage *ru);
/* Reaps members of group pgid that have ended and are our children,
 * adding their resource use to *ru. */
void al_reap_group(pid_t pgid, struct rusage *ru);
/* Adds b's CPU times to a's, and keeps the larger peak RSS. */
void al_rusage_add(struct rusage *a, const struct rusage *b);
/* Whether group pgid has a member that is not a zombie, as /proc shows
 * (true when /proc cannot be read). */
bool al_group_alive(pid_t pgid);
/* Sends sig to every descendant of root (SIGCONT after SIGTERM).  Returns
 * how many it reached, or -ENOMEM. */
int al_signal_descendants(pid_t root, int sig);

#endif
