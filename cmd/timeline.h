/*
 * timeline.h - --timeline FILE: a self-contained HTML page with a Gantt
 * chart of every attempt of the run (cmd/timeline.html draws it), and
 * --timeline-from: the same page for a report written earlier.
 */
#ifndef CMD_TIMELINE_H
#define CMD_TIMELINE_H

#include "alloter.h"

struct attempt;
struct run;
struct timeline;

/* Opens path for the page (created now, so a bad path is reported before
 * anything runs, and written at timeline_close) and a temporary file for
 * the attempts.  tf, when the jobs come from a task file, gives the needs
 * of each for the critical path; it must outlive the timeline.  Returns 0
 * or -errno. */
int timeline_open(struct timeline **out, const char *path,
                  const struct alloter_taskfile *tf);
/* Adds an attempt that ran (a verdict that counts). */
void timeline_attempt(struct timeline *tl, const struct attempt *a);
/* Writes the page with the run's summary and frees tl (NULL: nothing to
 * do).  Returns 0 or -errno. */
int timeline_close(struct timeline *tl, const struct run *r,
                   int exit_status);
/* Writes the page for the report in the file report to path.  Returns 0,
 * -EINVAL when the report is not a JSON object, or -errno. */
int timeline_from_report(const char *report, const char *path);

#endif
