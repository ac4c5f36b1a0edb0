/*
 * placement.h - which host runs a job, when the run has hosts: free slots,
 * pins from the task file, pacing of ssh starts, and hosts leaving the
 * rotation.  Called by the feed, under the batch lock; no I/O.
 */
#ifndef CMD_PLACEMENT_H
#define CMD_PLACEMENT_H

#include "run.h"
#include "verdict.h"

/* Whether job j (NULL: any job) may start now: true with no hosts; with
 * hosts, when one it may use has a free slot (in *h) or none it may use is
 * up at all (*h NULL: it will fail). */
bool placement_slot_free(struct run *r, const struct job *j, struct host **h);
/* Whether a host: or hosts: entry of a task file names host h. */
bool placement_host_matches(const struct host *h, const char *pin);
/* Takes a slot of h (NULL: none to take) for an attempt; returns the
 * monotonic time in ms before which its ssh must not start (0: any
 * time). */
int64_t placement_take(struct run *r, struct host *h);
/* Gives back the slot of an attempt on h with verdict v.  Returns true
 * when that took h out of the rotation (for the reporter to say). */
bool placement_release(struct host *h, const struct verdict *v);

#endif
