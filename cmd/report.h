/*
 * report.h - the JSON report of a run: every task's fate, then the run's.
 */
#ifndef CMD_REPORT_H
#define CMD_REPORT_H

#include "run.h"
#include "verdict.h"

struct report;

/* Starts the report at path as outfile_open does (o for alloter's own
 * streams): a regular file appears under path, whole, only at
 * report_close.  Returns 0 or -errno (-EINTR with *sig: a signal came
 * while waiting for a FIFO's reader). */
int report_open(struct report **out, const char *path, alloter_output *o,
                int *sig);
/* Adds a task that ran: the verdict of its last attempt, its number. */
void report_ran(struct report *rep, const struct job *j,
                const struct verdict *v, int attempts);
/* Adds a task that never ran; why is "dependency" (with the task it
 * needed), "fail_fast", "timeout" or "interrupted".  A job that was
 * tried (and is waiting to be tried again) counts its attempts. */
void report_skipped(struct report *rep, const struct job *j, const char *why,
                    const char *needs);
/* Removes the temporary file without touching its stream, which another
 * thread may be stuck writing; for a run that leaves at once. */
void report_abandon(struct report *rep);
/* Writes the run's part (its counts from r->tally) and puts the file in
 * place (outfile_close); returns 0 or -errno: then nothing is left under
 * its name. */
int report_close(struct report *rep, const struct run *r, int exit_status);
/* Closes a report of a run that never started, leaving nothing. */
void report_discard(struct report *rep);

#endif
