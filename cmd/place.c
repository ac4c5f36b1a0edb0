/*
 * place.c - which host a task runs on, and setting a task up to run there:
 * locally as it is, or through ssh with its wrapper, payload and log.  A
 * host whose ssh fails leaves the rotation and the task moves on.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "place.h"
#include "remote.h"

/* Connections a host may turn away in a row before it counts as down. */
#define THROTTLED_MAX 20

/* Whether pin names host h: its entry as given, its [user@]host, or the
 * bare host name. */
bool place_host_matches(const struct host *h, const char *pin)
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
		if (place_host_matches(h, *p))
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

/* Fails a task at once, without running anything. */
static int refused_task(void *arg, alloter_cancel *cancel)
{
	(void)arg;
	(void)cancel;
	return 1;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A remote attempt: ssh starts at its paced time, not before.  The wait is
 * the task's own, on a worker, so the scheduler never sleeps for it; a
 * cancel during the wait ends the attempt without starting ssh. */
static int paced_task(void *arg, alloter_cancel *cancel)
{
	struct job *j = arg;
	int64_t left;

	while ((left = j->start_at_ms - now_ms()) > 0) {
		struct pollfd pf = {.fd = alloter_cancel_fd(cancel),
		                    .events = POLLIN};

		if (poll(&pf, 1, (int)left) > 0) {
			j->proc.result = (struct alloter_proc_result){
				.status = ALLOTER_PROC_TERMINATED,
				.cancel_reason = alloter_cancel_reason(cancel)};
			return 1;
		}
	}
	return alloter_proc_run(&j->proc, cancel);
}

/* Sets the job up to run on h: locally as it is, or through ssh.  Starts
 * on one host are paced, so sshd's MaxStartups (10 unauthenticated
 * connections) is never reached. */
static int place(struct run *r, struct job *j, struct host *h)
{
	int64_t now;
	int err;

	j->host = h;
	h->running++;
	if (h->local)
		return 0;
	now = now_ms();
	j->start_at_ms = h->last_start_ms + REMOTE_PACE_MS > now
	                         ? h->last_start_ms + REMOTE_PACE_MS : now;
	h->last_start_ms = j->start_at_ms;
	if ((err = remote_log_path(&j->log)))
		return err;
	j->rargv = remote_argv(r->hosts, h, j->log, NULL);
	j->payload = remote_payload(j->proc.command, r->set.shell, j->proc.env,
	                            j->index, j->name, &j->proc.stdin_len);
	if (asprintf(&j->tag, "%s:%s", h->name, j->name) < 0)
		j->tag = NULL;
	if (!j->rargv || !j->payload || !j->tag)
		return -ENOMEM;
	j->proc.argv = j->rargv;
	j->proc.stdin_pipe = true;
	j->proc.stdin_data = j->payload;
	j->proc.name = j->tag;
	return 0;
}

/* Undoes place() when an attempt ends.  Returns ALLOTER_RETRY when ssh
 * itself failed: the host leaves the rotation (said once) and the task
 * goes to another host, the attempt uncounted. */
int place_release(struct run *r, struct job *j)
{
	struct alloter_proc_result *res = &j->proc.result;
	struct host *h = j->host;
	char why[512];
	int verdict = ALLOTER_FINAL;

	h->running--;
	if (h->local)
		return verdict;
	if (remote_transport_failed(&j->proc, j->log, why, sizeof why)) {
		/* sshd turns connections away while too many are still
		 * logging in (MaxStartups): that host is up, only busy, so
		 * the task waits its turn again; anything else, or a host
		 * that keeps doing it, leaves the rotation. */
		if (!strstr(why, "kex_exchange_identification") ||
		    ++h->throttled > THROTTLED_MAX) {
			if (!h->down)
				say_failure(r, "host '%s': taken out of "
				            "rotation: %s", h->name, why);
			h->down = true;
		}
		j->attempts--;
		verdict = ALLOTER_RETRY;
	} else if (res->status == ALLOTER_PROC_EXITED && res->exit_code > 128 &&
	           sigabbrev_np(res->exit_code - 128)) {
		/* The remote shell reports a death by signal N as 128 + N;
		 * say it as a crash, as for a local task. */
		res->status = ALLOTER_PROC_SIGNALED;
		res->signo = res->exit_code - 128;
		res->exit_code = 0;
	} else if (res->status == ALLOTER_PROC_TIMED_OUT ||
	           res->status == ALLOTER_PROC_TERMINATED) {
		/* What ended here was ssh (255); what the task got there was
		 * the watchdog's SIGTERM, which is what a local task shows. */
		res->exit_code = 0;
		res->signo = SIGTERM;
	}
	if (verdict == ALLOTER_FINAL)
		h->throttled = 0;
	if (j->log)
		unlink(j->log);
	free(j->log);
	j->log = NULL;
	free(j->rargv);
	free(j->payload);
	free(j->tag);
	j->rargv = NULL;
	j->payload = j->tag = NULL;
	j->proc.argv = j->argv;
	j->proc.stdin_pipe = false;
	j->proc.stdin_data = NULL;
	j->proc.stdin_len = 0;
	j->proc.name = j->name;
	return verdict;
}

/* Chooses where the job runs and fills in its task; with no host up, the
 * task fails at once. */
void place_refuse(struct job *j, const char *why, struct alloter_task *task)
{
	j->refused = why;
	*task = (struct alloter_task){refused_task, NULL};
}

void place_assign(struct run *r, struct job *j, struct host *h,
                  struct alloter_task *task)
{
	int err;

	*task = (struct alloter_task){alloter_proc_task, &j->proc};
	if (!r->hosts)
		return;
	if (!h) {
		place_refuse(j, "no host can run it", task);
		return;
	}
	if ((err = place(r, j, h))) {
		j->proc.result = (struct alloter_proc_result){
			.status = ALLOTER_PROC_SPAWN_FAILED, .err = -err};
		*task = (struct alloter_task){refused_task, NULL};
	} else if (!h->local) {
		*task = (struct alloter_task){paced_task, j};
	}
}

/* When there are hosts, a task is taken only when one has a free slot. */
bool place_slot_free(struct run *r, const struct job *j, struct host **h)
{
	bool none;

	*h = NULL;
	if (!r->hosts)
		return true;
	*h = free_host(r, j, &none);
	return *h || none;
}
