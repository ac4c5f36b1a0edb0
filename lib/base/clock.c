/*
 * clock.c - the clocks every part of the library reads, and saturating
 * duration arithmetic: a timeout given as INT64_MAX ms must mean "never",
 * not wrap into the past.
 */
#include <limits.h>
#include <time.h>

#include "base/clock.h"

static int64_t read_ns(clockid_t id)
{
	struct timespec ts;

	/* Cannot fail for these two clocks with a valid pointer. */
	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t al_mono_ns(void)
{
	return read_ns(CLOCK_MONOTONIC);
}

int64_t al_wall_ns(void)
{
	return read_ns(CLOCK_REALTIME);
}

int64_t al_ms_to_ns(int64_t ms)
{
	return ms > INT64_MAX / 1000000 ? INT64_MAX : ms * 1000000;
}

int64_t al_add_sat(int64_t a, int64_t b)
{
	return a > INT64_MAX - b ? INT64_MAX : a + b;
}

int64_t al_deadline_ns(int64_t ms)
{
	return al_add_sat(al_mono_ns(), al_ms_to_ns(ms));
}

int al_poll_ms(int64_t left_ns)
{
	int64_t ms;

	if (left_ns <= 0)
		return 0;
	ms = left_ns / 1000000 + (left_ns % 1000000 != 0);
	return ms > INT_MAX ? INT_MAX : (int)ms;
}
