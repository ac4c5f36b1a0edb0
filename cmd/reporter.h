/*
 * reporter.h - the one thread that writes what a run says: failure lines,
 * the job log, the report, blocks held for --keep-order, and at the end
 * the summary.  The feed hands it verdicts under the executor's lock and
 * goes on at once; a slow or stalled reader of alloter's output holds up
 * only this thread, never a task's start, the deadline or a signal.
 */
#ifndef CMD_REPORTER_H
#define CMD_REPORTER_H

#include <stdarg.h>

#include "run.h"

struct attempt;

/* Starts the reporter of r.  Returns 0 or a negative errno value. */
int reporter_start(struct reporter **out, struct run *r);
/* Hands over an ended attempt, its verdict made; the reporter frees it
 * (and its job, once final, when streamed).  No I/O: safe under the
 * executor's lock. */
void reporter_post(struct reporter *rep, struct attempt *a);
/* Once the executor has returned: the jobs that never started are
 * reported, then everything still to write is written.  Waits for that
 * until it is done, give_up (a cancellation handle: an interrupt) fires,
 * or the monotonic time deadline_ms (0: none) passes.  Returns 0 when
 * everything was written, or -ETIMEDOUT when the wait was given up: the
 * reporter is then stuck on a write, and the caller must write nothing
 * more through it and leave without waiting for it. */
int reporter_end(struct reporter *rep, alloter_cancel *give_up,
                 int64_t deadline_ms);
/* Writes "alloter: MESSAGE" on stderr through the output lock (red for a
 * failure when colour is on), unless standard output has gone.  For the
 * reporter's own thread, and for the caller before the run starts or after
 * reporter_end returned 0. */
__attribute__((format(printf, 3, 4)))
void reporter_say(struct run *r, bool failure, const char *fmt, ...);
/* The summary line, without "alloter: ": "N tasks: N succeeded, ...". */
void reporter_summary_text(const struct run *r, char *buf, size_t len);
/* Writes the summary line(s): through the output lock normally; after an
 * abandoned reporter_end, straight to descriptor 2 without waiting on a
 * stalled reader. */
void reporter_summary(struct run *r, bool abandoned);
/* Frees the reporter after reporter_end returned 0. */
void reporter_free(struct reporter *rep);

#endif
