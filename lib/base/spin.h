/*
 * spin.h - looking at a flag for a while before sleeping on it.  Waking a
 * sleeping thread is a futex call and, on a virtual machine, often an
 * interrupt to an idle processor: several microseconds for the thread that
 * wakes it, every time.  A thread that expects the flag to change soon (a
 * pool thread between batches, a batch waiting for a pool thread to leave)
 * watches it first, and sleeps only if it did not change in time.
 */
#ifndef AL_SPIN_H
#define AL_SPIN_H

#include <stdbool.h>

/* Asks done(arg) until it says true, for up to 50 µs, yielding the
 * processor between asks (rather than pausing: the thread it waits for may
 * be waiting for this processor); returns its last answer.  A program that
 * starts a batch again and again (a server's requests, a loop of small
 * execs) finds a thread still watching and pays no wake-up; one that does
 * not loses this much processor time per idle spell. */
bool al_spin(bool (*done)(void *arg), void *arg);

#endif
