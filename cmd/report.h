/*
 * report.h - the JSON report of a run: every task's fate, then the run's.
 */
#ifndef CMD_REPORT_H
#define CMD_REPORT_H

#include "run.h"

struct report;

/* Starts the report in a temporary file beside path; the file appears
 * under path, whole, only at report_close.  Returns 0 or -errno. */
int report_open(struct report **out, const char *path);
/* Adds a task that ran (with its last attempt's result). */
void report_ran(struct report *rep, const struct job *j);
/* Adds a task that never ran; why is "dependency" (with the task it
 * needed), "fail_fast", "timeout" or "interrupted". */
void report_skipped(struct report *rep, const struct job *j, const char *why,
                    const char *needs);
/* Writes the run's part and puts the file in place; returns 0 or -errno. */
int report_close(struct report *rep, const struct run *r, int exit_status);

#endif
