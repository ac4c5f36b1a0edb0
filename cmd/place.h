/*
 * place.h - placing tasks on hosts (when the run has any).
 */
#ifndef CMD_PLACE_H
#define CMD_PLACE_H

#include "run.h"

/* Whether a task may be taken now: true with no hosts; with hosts, when
 * one has a free slot (in *h) or none is up at all (*h NULL). */
bool place_slot_free(struct run *r, struct host **h);
/* Sets up j to run on h and fills in its task; without hosts, the plain
 * process task; with no host up, a task that fails at once. */
void place_assign(struct run *r, struct job *j, struct host *h,
                  struct alloter_task *task);
/* Ends j's attempt on its host.  Returns ALLOTER_RETRY when ssh itself
 * failed: the host was taken out of rotation and the attempt does not
 * count. */
int place_release(struct run *r, struct job *j);

#endif
