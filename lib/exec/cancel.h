/*
 * cancel.h - the cancellation handle's internal interface: a batch's handle
 * lives on an eventfd pair that the pool lends, so that making one costs
 * no system call.
 */
#ifndef AL_CANCEL_H
#define AL_CANCEL_H

#include "alloter.h"

/* As alloter_cancel_new_timeout (timeout_ms >= 0), on the eventfd pair
 * fds (counters at 0), which the handle then uses but does not own.
 * Returns 0 or a negative errno value. */
int al_cancel_new_on(alloter_cancel **out, alloter_cancel *parent,
                     int64_t timeout_ms, const int fds[2]);
/* Frees a handle made by al_cancel_new_on, and puts its pair, counters
 * back at 0, in fds. */
void al_cancel_release(alloter_cancel *c, int fds[2]);

#endif
