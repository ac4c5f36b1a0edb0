/*
 * cilog.h - CI-native logs (--ci): each task's block folded (GitHub's
 * ::group::, GitLab's sections), failures left open and annotated, and the
 * failed tasks' names on the log's last line.
 */
#ifndef CMD_CILOG_H
#define CMD_CILOG_H

#include "run.h"
#include "verdict.h"

/* Written just before a task's held block is released, and just after. */
void cilog_before(struct run *r, const struct job *j, const struct verdict *v);
void cilog_after(struct run *r, const struct job *j, const struct verdict *v);
/* The last line of the log: the failed tasks' names. */
void cilog_failed(struct run *r);

#endif
