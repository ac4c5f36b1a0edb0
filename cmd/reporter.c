/*
 * reporter.c - the reporter thread.  Verdicts arrive in a queue (a mutex
 * held for a pointer swap, never during I/O) and are written in the order
 * they were made: the job log's line, the failure line, the report's
 * entry, the release of blocks held for --keep-order.  The caller waits
 * for the last of it under the run's own clock and interrupts, so output
 * nobody reads cannot keep alloter from ending.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "attempt.h"
#include "cilog.h"
#include "clock.h"
#include "joblog.h"
#include "options.h"
#include "report.h"
#include "reporter.h"
#include "signals.h"
#include "timeline.h"

#define GATHER_NS 2000000 /* see loop() */

struct reporter {
	struct run *r;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t more;
	struct attempt *head, *tail; /* under lock */
	size_t queued;               /* under lock: posted, not yet done */
	bool ending;                 /* under lock */
	bool waiting;                /* under lock: the thread needs a signal */
	bool inline_reports;         /* no thread could be started: the
	                                poster reports, as the feed did */
	int done_fd;                 /* readable once everything is out */
};

static int format(char *buf, size_t cap, bool red, const char *fmt,
                  va_list ap)
{
	int n = snprintf(buf, cap, "alloter: %s", red ? "\033[31m" : "");

	n += vsnprintf(buf + n, cap - (size_t)n - 8, fmt, ap);
	if (n > (int)cap - 8)
		n = (int)cap - 8;
	n += snprintf(buf + n, cap - (size_t)n, "%s\n", red ? "\033[0m" : "");
	return n;
}

/* Whether alloter leaves quietly: its stdout has gone. */
static bool gone(const struct run *r)
{
	return alloter_output_broken(r->out) ||
	       alloter_cancel_reason(r->root) == SIGNAL_REASON(SIGPIPE);
}

/* Through the output lock; or, now, straight to descriptor 2 without the
 * lock, which a stalled writer may hold, and without waiting more than a
 * moment for room. */
static void vsay(struct run *r, bool now, bool failure, const char *fmt,
                 va_list ap)
{
	struct pollfd p = {.fd = 2, .events = POLLOUT};
	char buf[4096];
	int n;

	if (gone(r))
		return;
	n = format(buf, sizeof buf, failure && r->set.color_err, fmt, ap);
	if (!now) {
		alloter_output_write(r->out, 2, buf, (size_t)n);
		return;
	}
	/* A pipe that polls writable has a page free: a line that fits
	 * in it goes out without blocking. */
	if (n > 4000)
		n = 4000;
	if (poll(&p, 1, 100) == 1 && (p.revents & POLLOUT) &&
	    write(2, buf, (size_t)n) < 0)
		return; /* nowhere left to say it */
}

void reporter_say(struct run *r, bool failure, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(r, false, failure, fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 4, 5)))
static void say(struct run *r, bool now, bool failure, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(r, now, failure, fmt, ap);
	va_end(ap);
}

/* What it writes, silent() below must know of. */
static void report_attempt(struct run *r, struct attempt *a)
{
	const struct verdict *v = &a->verdict;
	struct job *j = a->job;

	if (v->counted) {
		joblog_attempt(r->joblog, j, v);
		timeline_attempt(r->timeline, a);
	}
	if (v->output_unread)
		reporter_say(r, false, "task '%s': output after its end was not "
		             "read: a process it started outside its process "
		             "group still holds its output open", j->name);
	switch (v->kind) {
	case VERDICT_MOVED:
		if (a->took_host_down)
			reporter_say(r, true, "host '%s': taken out of "
			             "rotation: %s", a->host->name,
			             v->moved_why);
		else if (a->slurm)
			reporter_say(r, true, "task '%s': %s; run again, not "
			             "counted as an attempt", j->name,
			             v->moved_why);
		return;
	case VERDICT_RETRY:
		if (v->taken_back)
			reporter_say(r, true, "task '%s': %s; queued again",
			             j->name, v->cause);
		else
			reporter_say(r, true, "task '%s': %s (attempt %d of %d; "
			             "retrying)", j->name, v->cause, a->number,
			             j->retries + 1);
		return;
	case VERDICT_FAILED:
		reporter_say(r, true, "task '%s': %s", j->name, v->cause);
		/* fall through */
	case VERDICT_SUCCEEDED:
		report_ran(r->report, j, v, a->number);
		cilog_before(r, j, v);
		alloter_output_release(r->out, j->index);
		cilog_after(r, j, v);
		break;
	}
	/* The jobs its failure cut off, after its own line. */
	for (struct job *s = a->skipped; s; s = s->skip_next) {
		reporter_say(r, false, "task '%s': skipped: it needs '%s', "
		             "which failed", s->name, j->name);
		report_skipped(r->report, s, "dependency", j->name);
		alloter_output_release(r->out, s->index);
	}
}

/* The jobs that never started for a stop; dependency skips were said
 * with the failure that caused them. */
static void report_leftovers(struct run *r)
{
	int stop = r->res.stop_reason;
	/* No stop at all: the executor itself could not go on, which the
	 * caller says; it is no fail-fast. */
	const char *why = r->halted                        ? "halt"
	                  : stop == ALLOTER_CANCEL_TIMEOUT   ? "timeout"
	                  : stop == ALLOTER_CANCEL_FAILURE ? "fail_fast"
	                  : stop >= ALLOTER_CANCEL_CALLER  ? "interrupted"
	                                                   : "not_started";

	for (size_t k = 0; k < r->n_jobs; k++) {
		struct job *j = &r->jobs[k];

		if (j->state != JOB_SKIPPED ||
		    alloter_graph_skipped_by(r->graph, k) != SIZE_MAX)
			continue;
		report_skipped(r->report, j, j->done_earlier ? "done_earlier"
		                                             : why, NULL);
		alloter_output_release(r->out, j->index);
	}
}

/* Reports a and frees it, and its job once final, when streamed. */
static void report_one(struct run *r, struct attempt *a)
{
	bool final = a->verdict.kind == VERDICT_SUCCEEDED ||
	             a->verdict.kind == VERDICT_FAILED;

	report_attempt(r, a);
	if (final && a->job->streamed)
		run_free_job(a->job);
	attempt_free(a);
}

static void finish(struct reporter *rep)
{
	uint64_t one = 1;

	report_leftovers(rep->r);
	/* Blocks still held for keep-order go out before the summary. */
	alloter_output_flush(rep->r->out);
	while (write(rep->done_fd, &one, sizeof one) < 0 && errno == EINTR)
		;
}

static void *loop(void *arg)
{
	struct reporter *rep = arg;
	struct run *r = rep->r;

	pthread_mutex_lock(&rep->lock);
	for (;;) {
		struct attempt *a;

		while (!rep->head && !rep->ending) {
			rep->waiting = true;
			pthread_cond_wait(&rep->more, &rep->lock);
			rep->waiting = false;
		}
		if (!rep->head)
			break;
		a = rep->head;
		rep->head = NULL;
		rep->tail = NULL;
		pthread_mutex_unlock(&rep->lock);
		while (a) {
			struct attempt *next = a->next;

			report_one(r, a);
			pthread_mutex_lock(&rep->lock);
			rep->queued--;
			pthread_mutex_unlock(&rep->lock);
			a = next;
		}
		/* Verdicts of short tasks come every few hundred µs: a moment's
		 * pause lets them gather, so that posting one costs no wake-up
		 * and the thread runs once per batch, not once per task. */
		nanosleep(&(struct timespec){0, GATHER_NS}, NULL);
		pthread_mutex_lock(&rep->lock);
	}
	pthread_mutex_unlock(&rep->lock);
	finish(rep);
	return NULL;
}

int reporter_start(struct reporter **out, struct run *r)
{
	struct reporter *rep = calloc(1, sizeof *rep);
	int err;

	if (!rep)
		return -ENOMEM;
	rep->r = r;
	rep->done_fd = eventfd(0, EFD_CLOEXEC);
	if (rep->done_fd < 0) {
		err = -errno;
		goto fail;
	}
	if ((err = -pthread_mutex_init(&rep->lock, NULL)))
		goto fail_fd;
	if ((err = -pthread_cond_init(&rep->more, NULL)))
		goto fail_lock;
	/* Without a thread to spare (ulimit -u), the run still runs: the
	 * feed reports as it goes, and its writes are the output's. */
	if (pthread_create(&rep->thread, NULL, loop, rep))
		rep->inline_reports = true;
	*out = rep;
	return 0;

fail_lock:
	pthread_mutex_destroy(&rep->lock);
fail_fd:
	close(rep->done_fd);
fail:
	free(rep);
	return err;
}

/* Whether reporting a writes nothing at all: a success that no log,
 * report, timeline or held output is told of. */
static bool silent(const struct run *r, const struct attempt *a)
{
	return a->verdict.kind == VERDICT_SUCCEEDED &&
	       !a->verdict.output_unread && !a->skipped && !r->joblog &&
	       !r->report && !r->timeline && r->set.ci == CI_NONE &&
	       !r->set.keep_order;
}

void reporter_post(struct reporter *rep, struct attempt *a)
{
	a->next = NULL;
	/* Without I/O, it is done here: the thread is not woken for it. */
	if (rep->inline_reports || silent(rep->r, a)) {
		report_one(rep->r, a);
		return;
	}
	pthread_mutex_lock(&rep->lock);
	if (rep->tail)
		rep->tail->next = a;
	else
		rep->head = a;
	rep->tail = a;
	rep->queued++;
	if (rep->waiting)
		pthread_cond_signal(&rep->more);
	pthread_mutex_unlock(&rep->lock);
}

/* What is left once the deadline has passed or an interrupt came: a
 * moment for a reader that reads, not a wait for one that does not. */
#define LAST_WRITES_MS 100

int reporter_end(struct reporter *rep, alloter_cancel *give_up,
                 int64_t deadline_ms)
{
	int64_t until = deadline_ms;
	bool last = false;

	if (rep->inline_reports) {
		finish(rep);
		return 0;
	}
	pthread_mutex_lock(&rep->lock);
	rep->ending = true;
	pthread_cond_signal(&rep->more);
	pthread_mutex_unlock(&rep->lock);
	for (;;) {
		int64_t now = clock_mono_ms();
		struct pollfd p[2] = {{.fd = rep->done_fd, .events = POLLIN}};
		int n;

		if (!last && (alloter_cancel_reason(give_up) ||
		              (until && now >= until))) {
			last = true;
			until = now + LAST_WRITES_MS;
		}
		/* In the last moment only a second interrupt (hurry) can
		 * shorten it further. */
		p[1] = (struct pollfd){
			.fd = last ? alloter_cancel_hurry_fd(give_up)
			           : alloter_cancel_fd(give_up),
			.events = POLLIN};
		n = poll(p, 2, until ? (int)(until > now ? until - now : 0) : -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n > 0 && p[0].revents) {
			pthread_join(rep->thread, NULL);
			return 0;
		}
		/* An interrupt or the deadline start the last moment; its
		 * end, a second interrupt or a failing poll give the writes
		 * left up. */
		if (!last && n >= 0)
			continue;
		return -ETIMEDOUT;
	}
}

void reporter_summary_text(const struct run *r, char *buf, size_t len)
{
	const struct tally *t = &r->tally;
	double secs = (double)(r->end_ns - r->start_ns) / 1e9;
	size_t total = t->succeeded + t->failed + t->terminated + t->skipped;
	char tries[48] = "", stopped[48] = "", earlier[48] = "";

	/* Retries show as more attempts than tasks that ran. */
	if (t->attempts > t->succeeded + t->failed + t->terminated)
		snprintf(tries, sizeof tries, " (%zu attempts)", t->attempts);
	if (t->terminated)
		snprintf(stopped, sizeof stopped, ", %zu terminated",
		         t->terminated);
	if (t->done_earlier)
		snprintf(earlier, sizeof earlier, " (%zu done earlier)",
		         t->done_earlier);
	snprintf(buf, len, "%zu task%s: %zu succeeded, %zu failed%s, %zu "
	         "skipped%s%s in %.2fs", total, total == 1 ? "" : "s",
	         t->succeeded, t->failed, stopped, t->skipped, earlier, tries,
	         secs);
}

void reporter_summary(struct run *r, bool abandoned)
{
	const struct tally *t = &r->tally;
	char line[256];

	if (abandoned) {
		size_t left;

		pthread_mutex_lock(&r->reporter->lock);
		left = r->reporter->queued;
		pthread_mutex_unlock(&r->reporter->lock);
		say(r, true, true, "output not delivered: standard output or "
		    "error was not being read (%zu task%s not reported)",
		    left, left == 1 ? "" : "s");
	}
	if (r->set.quiet)
		return;
	reporter_summary_text(r, line, sizeof line);
	say(r, abandoned, false, "%s", line);
	for (size_t k = 0; k < t->failed && k < FAILURES_LISTED; k++)
		if (t->failures[k])
			say(r, abandoned, true, "failed: %s", t->failures[k]);
	if (t->failed > FAILURES_LISTED)
		say(r, abandoned, true, "failed: and %zu more",
		    t->failed - FAILURES_LISTED);
	if (!abandoned)
		cilog_failed(r);
}

void reporter_free(struct reporter *rep)
{
	if (!rep)
		return;
	pthread_cond_destroy(&rep->more);
	pthread_mutex_destroy(&rep->lock);
	close(rep->done_fd);
	free(rep);
}
