/*
 * joblog.h - one tab-separated line per task attempt, in GNU parallel's
 * job-log format, so the tools that read those read ours.
 */
#ifndef CMD_JOBLOG_H
#define CMD_JOBLOG_H

#include "run.h"
#include "verdict.h"

struct joblog;

/* Opens path as outfile_open does, live (o for alloter's own streams), or
 * appended to (append: it keeps its lines), and writes the header unless
 * the file has lines already; returns 0 or a negative errno value (-EINTR
 * with *sig: a signal came while waiting for a FIFO's reader). */
int joblog_open(struct joblog **out, const char *path, bool append,
                alloter_output *o, int *sig);
/* Appends the line for an attempt of j that ran, with verdict v, at once. */
void joblog_attempt(struct joblog *l, const struct job *j,
                    const struct verdict *v);
/* Closes the log, removing it (a regular file) unless keep is set; returns
 * 0, or a negative errno value if any write failed: the log is then
 * removed too. */
int joblog_close(struct joblog *l, bool keep);

#endif
