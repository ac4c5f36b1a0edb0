/*
 * input.h - choosing where a run's jobs come from, and checking it all
 * before anything runs.
 */
#ifndef CMD_INPUT_H
#define CMD_INPUT_H

#include "options.h"
#include "run.h"

/* Sets r up for the task file tf (or NULL), or for what the command words
 * and options ask: commands, a template over input sources, or commands
 * on standard input.  Returns 0, or an exit status (already reported). */
int input_set_up(struct run *r, const struct options *o,
                 const struct alloter_taskfile *tf);
/* How many tasks there will be, or 0 when that is not known. */
size_t input_total(const struct run *r);
/* Says, unless -q, that a template's sources held no arguments at all. */
void input_none(const struct run *r);

#endif
