/*
 * clock.h - monotonic and wall clocks in nanoseconds, and duration
 * arithmetic that saturates instead of overflowing, so "INT64_MAX ms" means
 * "never" everywhere.
 */
#ifndef AL_CLOCK_H
#define AL_CLOCK_H

#include <stdint.h>

int64_t al_mono_ns(void);
int64_t al_wall_ns(void);
/* ms milliseconds in nanoseconds, INT64_MAX when that does not fit. */
int64_t al_ms_to_ns(int64_t ms);
/* a + b for b >= 0, INT64_MAX when that does not fit. */
int64_t al_add_sat(int64_t a, int64_t b);
/* The monotonic time ms milliseconds from now (INT64_MAX: never). */
int64_t al_deadline_ns(int64_t ms);
/* Nanoseconds left until a deadline, as a poll() timeout in whole
 * milliseconds rounded up and capped at INT_MAX (never negative). */
int al_poll_ms(int64_t left_ns);

#endif
