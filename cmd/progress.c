/*
 * progress.c - the progress line: done/running/failed/total, elapsed time
 * and, when the total is known, an estimate of the time left.  A thread
 * redraws it four times a second as the output's status line, which any
 * other output erases first, so it never runs into a task's output.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"

#define REDRAW_NS 250000000L

struct progress {
	alloter_output *o;
	size_t total;
	atomic_size_t done, running, failed;
	struct timespec t0;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t stop_cond;
	bool stop;
	char waiting[96];  /* what the next start waits for, under lock */
};

static double since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) +
	       (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static void draw(struct progress *p)
{
	size_t done = atomic_load(&p->done), running = atomic_load(&p->running);
	double el = since(&p->t0);
	char line[256];
	int n;

	n = snprintf(line, sizeof line, "alloter: %zu", done);
	if (p->total)
		n += snprintf(line + n, sizeof line - (size_t)n, "/%zu", p->total);
	n += snprintf(line + n, sizeof line - (size_t)n,
	              " done, %zu running, %zu failed, %d:%02d elapsed", running,
	              atomic_load(&p->failed), (int)el / 60, (int)el % 60);
	if (p->total && done > 0 && done < p->total) {
		int eta = (int)(el / (double)done * (double)(p->total - done));
		n += snprintf(line + n, sizeof line - (size_t)n,
		              ", about %d:%02d left", eta / 60, eta % 60);
	}
	pthread_mutex_lock(&p->lock);
	if (p->waiting[0] && n < (int)sizeof line)
		snprintf(line + n, sizeof line - (size_t)n, "; %s", p->waiting);
	pthread_mutex_unlock(&p->lock);
	alloter_output_status(p->o, line);
}

static void *loop(void *arg)
{
	struct progress *p = arg;
	struct timespec at;

	pthread_mutex_lock(&p->lock);
	while (!p->stop) {
		pthread_mutex_unlock(&p->lock);
		draw(p);
		pthread_mutex_lock(&p->lock);
		clock_gettime(CLOCK_REALTIME, &at);
		at.tv_nsec += REDRAW_NS;
		if (at.tv_nsec >= 1000000000L) {
			at.tv_sec++;
			at.tv_nsec -= 1000000000L;
		}
		while (!p->stop &&
		       pthread_cond_timedwait(&p->stop_cond, &p->lock, &at) == 0)
			;
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int progress_start(struct progress **out, alloter_output *o, size_t total)
{
	struct progress *p;
	int err;

	*out = NULL;
	if (!isatty(2))
		return 0;
	p = calloc(1, sizeof *p);
	if (!p)
		return -ENOMEM;
	p->o = o;
	p->total = total;
	clock_gettime(CLOCK_MONOTONIC, &p->t0);
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->stop_cond, NULL);
	if ((err = pthread_create(&p->thread, NULL, loop, p))) {
		pthread_cond_destroy(&p->stop_cond);
		pthread_mutex_destroy(&p->lock);
		free(p);
		return -err;
	}
	*out = p;
	return 0;
}

void progress_update(struct progress *p, size_t done, size_t running,
                     size_t failed)
{
	if (!p)
		return;
	atomic_store(&p->done, done);
	atomic_store(&p->running, running);
	atomic_store(&p->failed, failed);
}

void progress_stop(struct progress *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_signal(&p->stop_cond);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->thread, NULL);
	alloter_output_status(p->o, NULL);
	pthread_cond_destroy(&p->stop_cond);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

void progress_waiting(struct progress *p, const char *why)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	snprintf(p->waiting, sizeof p->waiting, "%s", why);
	pthread_mutex_unlock(&p->lock);
}
