/*
 * pacing.c - holding starts back, and taking tasks back for memory.  The
 * feed decides under the batch lock, so it reads nothing there: a thread
 * of its own samples /proc/loadavg and /proc/meminfo four times a second
 * (paths that ALLOTER_TEST_LOADAVG and ALLOTER_TEST_MEMINFO replace, for
 * the tests only).  A start that must wait arms a timerfd; the executor
 * waits on an epoll set of that timer and the input, so a wait for time
 * holds no slot and blocks neither the deadline nor the signals.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "clock.h"
#include "pacing.h"
#include "run.h"

#define SAMPLE_MS 250

int pacing_init(struct pacing *p, int input_fd, bool timed, int64_t delay_ms,
                double load_max, int64_t memfree)
{
	struct epoll_event ev = {.events = EPOLLIN};
	const char *s;

	*p = (struct pacing){.epfd = -1, .tfd = -1, .stop_fd = -1,
	                     .input_fd = input_fd, .delay_ms = delay_ms,
	                     .load_max = load_max, .memfree = memfree,
	                     .loadavg_path = "/proc/loadavg",
	                     .meminfo_path = "/proc/meminfo"};
	if ((s = getenv("ALLOTER_TEST_LOADAVG")) && *s)
		p->loadavg_path = s;
	if ((s = getenv("ALLOTER_TEST_MEMINFO")) && *s)
		p->meminfo_path = s;
	atomic_init(&p->load_x100, 0);
	atomic_init(&p->mem_avail, INT64_MAX);
	if ((errno = pthread_mutex_init(&p->lock, NULL)))
		return -errno;
	if (!timed)
		return 0;
	if ((p->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    (p->tfd = timerfd_create(CLOCK_MONOTONIC,
	                             TFD_NONBLOCK | TFD_CLOEXEC)) < 0)
		return -errno;
	ev.data.fd = p->tfd;
	if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, p->tfd, &ev) < 0)
		return -errno;
	/* A regular file cannot be polled this way, but it is always
	 * readable: the feed never waits on it. */
	ev.data.fd = input_fd;
	if (input_fd >= 0 && epoll_ctl(p->epfd, EPOLL_CTL_ADD, input_fd, &ev) < 0 &&
	    errno != EPERM)
		return -errno;
	return 0;
}

int pacing_fd(const struct pacing *p)
{
	return p->epfd >= 0 ? p->epfd : p->input_fd;
}

/* Reads the 1-minute load average and MemAvailable. */
static void sample(struct pacing *p)
{
	char buf[4096];
	double load;
	long long kb;
	FILE *f;

	if (p->load_max > 0 && (f = fopen(p->loadavg_path, "re"))) {
		if (fscanf(f, "%lf", &load) == 1)
			atomic_store(&p->load_x100, (int64_t)(load * 100));
		fclose(f);
	}
	if (p->memfree > 0 && (f = fopen(p->meminfo_path, "re"))) {
		while (fgets(buf, sizeof buf, f))
			if (sscanf(buf, "MemAvailable: %lld kB", &kb) == 1)
				atomic_store(&p->mem_avail, (int64_t)kb * 1024);
		fclose(f);
	}
}

/* Below half of --memfree, the youngest running task is taken back: it
 * is terminated and queued again (feed.c), so the others can finish. */
static void reclaim(struct pacing *p)
{
	struct pacing_entry *young = NULL;

	if (p->memfree <= 0 || atomic_load(&p->mem_avail) >= p->memfree / 2)
		return;
	pthread_mutex_lock(&p->lock);
	for (struct pacing_entry *e = p->running; e; e = e->next)
		if (!young || e->started_ms > young->started_ms)
			young = e;
	if (young && !alloter_cancel_reason(young->cancel))
		alloter_cancel_fire(young->cancel, CANCEL_MEMORY);
	pthread_mutex_unlock(&p->lock);
}

static void *watch(void *arg)
{
	struct pacing *p = arg;
	struct pollfd pf = {.fd = p->stop_fd, .events = POLLIN};

	for (;;) {
		sample(p);
		reclaim(p);
		if (poll(&pf, 1, SAMPLE_MS) > 0)
			return NULL;
	}
}

int pacing_start(struct pacing *p)
{
	int err;

	if (p->load_max <= 0 && p->memfree <= 0)
		return 0;
	sample(p); /* the first starts see a reading */
	if ((p->stop_fd = eventfd(0, EFD_CLOEXEC)) < 0)
		return -errno;
	if ((err = pthread_create(&p->thread, NULL, watch, p)))
		return -err;
	p->watching = true;
	return 0;
}

void pacing_free(struct pacing *p)
{
	uint64_t one = 1;

	if (p->watching) {
		while (write(p->stop_fd, &one, sizeof one) < 0 && errno == EINTR)
			;
		pthread_join(p->thread, NULL);
	}
	if (p->stop_fd >= 0)
		close(p->stop_fd);
	if (p->tfd >= 0)
		close(p->tfd);
	if (p->epfd >= 0)
		close(p->epfd);
	pthread_mutex_destroy(&p->lock);
}

void pacing_wake_at(struct pacing *p, int64_t at_ms)
{
	struct itimerspec its = {0};

	if (p->tfd < 0 || (p->armed_ms && p->armed_ms <= at_ms))
		return;
	if (at_ms < 1)
		at_ms = 1; /* 0 would disarm it */
	its.it_value.tv_sec = at_ms / 1000;
	its.it_value.tv_nsec = (at_ms % 1000) * 1000000;
	if (timerfd_settime(p->tfd, TFD_TIMER_ABSTIME, &its, NULL) == 0)
		p->armed_ms = at_ms;
}

void pacing_drain(struct pacing *p)
{
	uint64_t n;

	if (p->armed_ms && read(p->tfd, &n, sizeof n) == sizeof n)
		p->armed_ms = 0;
}

bool pacing_may_start(struct pacing *p, int64_t now_ms)
{
	int64_t load = atomic_load(&p->load_x100);
	int64_t mem = atomic_load(&p->mem_avail);

	if (p->delay_ms > 0 && now_ms < p->next_start_ms) {
		snprintf(p->why, sizeof p->why, "waiting: --delay");
		pacing_wake_at(p, p->next_start_ms);
		return false;
	}
	if (p->load_max > 0 && (double)load / 100 >= p->load_max) {
		snprintf(p->why, sizeof p->why, "waiting: load %.1f \u2265 %g",
		         (double)load / 100, p->load_max);
		pacing_wake_at(p, now_ms + SAMPLE_MS);
		return false;
	}
	if (p->memfree > 0 && mem < p->memfree) {
		snprintf(p->why, sizeof p->why, "waiting: memory %lldM free < "
		         "%lldM", (long long)(mem >> 20),
		         (long long)(p->memfree >> 20));
		pacing_wake_at(p, now_ms + SAMPLE_MS);
		return false;
	}
	return true;
}

void pacing_started(struct pacing *p, int64_t now_ms)
{
	if (p->delay_ms > 0)
		p->next_start_ms = now_ms + p->delay_ms;
}

void pacing_enter(struct pacing *p, struct pacing_entry *e,
                  alloter_cancel *cancel)
{
	*e = (struct pacing_entry){.cancel = cancel,
	                           .started_ms = clock_mono_ms()};
	pthread_mutex_lock(&p->lock);
	e->next = p->running;
	if (p->running)
		p->running->prev = e;
	p->running = e;
	pthread_mutex_unlock(&p->lock);
}

void pacing_leave(struct pacing *p, struct pacing_entry *e)
{
	pthread_mutex_lock(&p->lock);
	if (e->prev)
		e->prev->next = e->next;
	else
		p->running = e->next;
	if (e->next)
		e->next->prev = e->prev;
	pthread_mutex_unlock(&p->lock);
}
