/*
 * results.h - --results DIR: each task's stdout, stderr and exit status in
 * DIR/SEQ/stdout, stderr and exit, and a template task's arguments in
 * DIR/SEQ/args, written on the worker while the task runs.
 */
#ifndef CMD_RESULTS_H
#define CMD_RESULTS_H

#include "run.h"

/* Makes dir (and its parents) if it is not there; returns 0, or 2 with the
 * reason said on stderr. */
int results_prepare(const char *dir);
/* Makes DIR/SEQ and opens its stdout and stderr for j's attempt (each
 * attempt starts them anew), and writes its args; fd[] gets the two
 * descriptors.  Returns 0 or a negative errno value. */
int results_open(const char *dir, const struct job *j, int fd[2]);
/* Writes the exit file from res and closes fd[]; returns 0 or a negative
 * errno value. */
int results_close(const char *dir, const struct job *j, int fd[2],
                  const struct alloter_proc_result *res);

#endif
