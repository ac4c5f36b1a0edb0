/*
 * place.h - placing tasks on hosts (when the run has any).
 */
#ifndef CMD_PLACE_H
#define CMD_PLACE_H

#include "run.h"

/* Whether task j (NULL: any task) may start now: true with no hosts; with
 * hosts, when one it may use has a free slot (in *h) or none it may use is
 * up at all (*h NULL: it will fail). */
bool place_slot_free(struct run *r, const struct job *j, struct host **h);
/* Whether a host: or hosts: entry of a task file names host h. */
bool place_host_matches(const struct host *h, const char *pin);
/* Sets up j to run on h and fills in its task; without hosts, the plain
 * process task; with no host up, a task that fails at once. */
void place_assign(struct run *r, struct job *j, struct host *h,
                  struct alloter_task *task);
/* Makes j's task one that fails at once without running, for why. */
void place_refuse(struct job *j, const char *why, struct alloter_task *task);
/* Ends j's attempt on its host.  Returns ALLOTER_RETRY when ssh itself
 * failed: the host was taken out of rotation and the attempt does not
 * count. */
int place_release(struct run *r, struct job *j);

#endif
