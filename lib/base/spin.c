/*
 * spin.c - watching a flag before sleeping on it (see spin.h).
 */
#include <sched.h>

#include "base/clock.h"
#include "base/spin.h"

#define SPIN_NS 50000

bool al_spin(bool (*done)(void *arg), void *arg)
{
	int64_t until = al_mono_ns() + SPIN_NS;
	bool yes;

	while (!(yes = done(arg)) && al_mono_ns() < until)
		sched_yield();
	return yes;
}
