/*
 * feed.h - the executor's one feed over a run's jobs, whether they are
 * known up front (arguments, a task file: a dependency graph) or streamed
 * from standard input.
 */
#ifndef CMD_FEED_H
#define CMD_FEED_H

#include "run.h"

/* Runs every job on pool; verdicts go to r->reporter as they are made.
 * Returns 0 or a negative errno value (the executor's, or the input's). */
int feed_run(struct run *r, alloter_pool *pool);

#endif
