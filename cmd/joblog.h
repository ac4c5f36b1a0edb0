/*
 * joblog.h - one tab-separated line per task attempt, in GNU parallel's
 * job-log format, so the tools that read those read ours.
 */
#ifndef CMD_JOBLOG_H
#define CMD_JOBLOG_H

#include "run.h"
#include "verdict.h"

struct joblog;

/* Creates path (truncating it) and writes the header; returns 0 or a
 * negative errno value. */
int joblog_open(struct joblog **out, const char *path);
/* Appends the line for an attempt of j that ran, with verdict v, at once. */
void joblog_attempt(struct joblog *l, const struct job *j,
                    const struct verdict *v);
/* Returns 0, or a negative errno value if any write failed. */
int joblog_close(struct joblog *l);

#endif
