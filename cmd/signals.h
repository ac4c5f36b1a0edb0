/*
 * signals.h - SIGINT, SIGTERM and SIGHUP, and a closed standard output, all
 * taken in one thread and turned into cancellation.
 */
#ifndef CMD_SIGNALS_H
#define CMD_SIGNALS_H

#include <stdbool.h>

#include "alloter.h"

/* The reason the root handle is fired with for signal sig. */
#define SIGNAL_REASON(sig) (ALLOTER_CANCEL_USER + (sig))

struct signals;

/* Blocks the three signals in the calling thread (and so in every thread
 * started after) and ignores SIGPIPE and SIGXFSZ in alloter itself.  Call
 * before any thread starts. */
int signals_block(void);
/* Before signals_start: waits up to ms milliseconds for one of the three
 * (blocked) signals and takes it.  Returns the signal, or 0. */
int signals_wait(int ms);
/* Gives them back their default effect, for a run that starts nothing. */
int signals_unblock(void);
/* Starts the thread: the first signal fires root, a second one hurries it
 * (SIGKILL at once); standard output closing fires root with SIGPIPE. */
int signals_start(struct signals **out, alloter_cancel *root);
/* Returns the first signal taken so far (SIGPIPE for a closed stdout), or
 * 0; the thread goes on taking them. */
int signals_first(struct signals *s);
/* Stops the thread; returns the first signal taken (SIGPIPE for a closed
 * stdout), or 0. */
int signals_stop(struct signals *s);

#endif
