/*
 * placement.c - choosing the host a job runs on: the allowed host with the
 * most free slots, ssh starts paced per host, and a host whose ssh fails
 * taken out of the rotation.
 */
#include <string.h>

#include "clock.h"
#include "placement.h"
#include "remote.h"

/* Connections a host may turn away in a row before it counts as down. */
#define THROTTLED_MAX 20

bool placement_host_matches(const struct host *h, const char *pin)
{
	const char *at = strchr(h->dest, '@');

	return strcmp(pin, h->name) == 0 || strcmp(pin, h->dest) == 0 ||
	       (at && strcmp(pin, at + 1) == 0);
}

static bool allowed(const struct job *j, const struct host *h)
{
	if (!j || !j->pins)
		return true;
	for (char **p = j->pins; *p; p++)
		if (placement_host_matches(h, *p))
			return true;
	return false;
}

/* The allowed host with the most free slots, or NULL; *none says that no
 * allowed host is up at all. */
static struct host *free_host(struct run *r, const struct job *j, bool *none)
{
	struct host *best = NULL;

	*none = true;
	for (size_t i = 0; i < r->hosts->n; i++) {
		struct host *h = &r->hosts->v[i];

		if (h->down || !allowed(j, h))
			continue;
		*none = false;
		if (h->running < h->slots &&
		    (!best || h->slots - h->running > best->slots - best->running))
			best = h;
	}
	return best;
}

bool placement_slot_free(struct run *r, const struct job *j, struct host **h)
{
	bool none;

	*h = NULL;
	if (!r->hosts)
		return true;
	*h = free_host(r, j, &none);
	return *h || none;
}

/* Starts on one host are paced, so sshd's MaxStartups (10 unauthenticated
 * connections) is never reached. */
int64_t placement_take(struct run *r, struct host *h)
{
	int64_t now;

	(void)r;
	if (!h)
		return 0;
	h->running++;
	if (h->local)
		return 0;
	now = clock_mono_ms();
	h->last_start_ms = h->last_start_ms + REMOTE_PACE_MS > now
	                           ? h->last_start_ms + REMOTE_PACE_MS : now;
	return h->last_start_ms;
}

bool placement_release(struct host *h, const struct verdict *v)
{
	if (!h)
		return false;
	h->running--;
	if (v->kind != VERDICT_MOVED) {
		h->throttled = 0;
		return false;
	}
	/* sshd turns connections away while too many are still logging in
	 * (MaxStartups): that host is up, only busy, so the job waits its
	 * turn again; anything else, or a host that keeps doing it, leaves
	 * the rotation. */
	if (strstr(v->moved_why, "kex_exchange_identification") &&
	    ++h->throttled <= THROTTLED_MAX)
		return false;
	if (h->down)
		return false;
	h->down = true;
	return true;
}
