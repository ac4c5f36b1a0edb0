/*
 * progress.h - a one-line progress display on a terminal's stderr.
 */
#ifndef CMD_PROGRESS_H
#define CMD_PROGRESS_H

#include <stddef.h>

#include "alloter.h"

struct progress;

/* Starts redrawing on out's stderr if fd 2 is a terminal; otherwise
 * *out is NULL and nothing is ever drawn.  total is 0 when unknown. */
int progress_start(struct progress **out, alloter_output *o, size_t total);
/* Counts: tasks ended (succeeded or failed), running, failed. */
void progress_update(struct progress *p, size_t done, size_t running,
                     size_t failed);
/* What the next start waits for ("waiting: load 3.2 >= 2"), or "" once
 * tasks start again; NULL p does nothing. */
void progress_waiting(struct progress *p, const char *why);
/* Stops and erases the line. */
void progress_stop(struct progress *p);

#endif
