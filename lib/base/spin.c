/*
 * spin.c - watching a flag before sleeping on it (see spin.h).
 */
#include <sched.h>

#include "base/clock.h"
#include "base/spin.h"

bool al_spin(bool (*done)(const void *arg), const void *arg)
{
	int64_t until = al_mono_ns() + AL_SPIN_NS;
	bool yes;

	while (!(yes = done(arg)) && al_mono_ns() < until)
		sched_yield();
	return yes;
}
