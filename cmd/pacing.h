/*
 * pacing.h - what holds a task's start back: --delay between starts, a
 * retry's back-off, --load and --memfree; the one descriptor the executor
 * waits on for input and for that time to come; and the memory watch that
 * takes the youngest task back when memory runs short.
 */
#ifndef CMD_PACING_H
#define CMD_PACING_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "alloter.h"

/* A running attempt the memory watch may take back. */
struct pacing_entry {
	alloter_cancel *cancel;
	int64_t started_ms;
	struct pacing_entry *prev, *next;
};

struct pacing {
	int epfd, tfd;            /* -1 when nothing is timed */
	int input_fd;             /* what wakes the feed for input, or -1 */
	int64_t armed_ms;         /* the timer's time, 0: disarmed */
	int64_t delay_ms, next_start_ms;
	double load_max;          /* 0: not watched */
	int64_t memfree;          /* bytes, 0: not watched */
	const char *loadavg_path, *meminfo_path;
	/* The watch thread's readings, for the feed under the batch lock: */
	_Atomic int64_t load_x100, mem_avail;
	bool watching;
	pthread_t thread;
	int stop_fd;
	pthread_mutex_t lock;     /* the running list */
	struct pacing_entry *running;
	char why[96];             /* what a start waits for, for --progress */
};

/* Sets p up; timed says whether any start may wait for time (a delay, a
 * retry's back-off, the load or memory); a run without one keeps its input
 * descriptor as the feed's and costs nothing more.  Returns 0 or a
 * negative errno value. */
int pacing_init(struct pacing *p, int input_fd, bool timed, int64_t delay_ms,
                double load_max, int64_t memfree);
/* Starts the thread that reads the load average and free memory, when
 * they are watched.  Returns 0 or a negative errno value. */
int pacing_start(struct pacing *p);
void pacing_free(struct pacing *p);
/* The feed's wake descriptor. */
int pacing_fd(const struct pacing *p);
/* Under the batch lock: whether a task may start at now_ms; if not, the
 * timer is armed for when to ask again, and p->why says what it waits
 * for. */
bool pacing_may_start(struct pacing *p, int64_t now_ms);
/* Under the batch lock: a task started at now_ms. */
void pacing_started(struct pacing *p, int64_t now_ms);
/* Under the batch lock: wake the feed at at_ms (a retry's back-off). */
void pacing_wake_at(struct pacing *p, int64_t at_ms);
/* Under the batch lock: takes a timer expiry, so the descriptor is quiet
 * until the timer is armed again. */
void pacing_drain(struct pacing *p);
/* On the worker: cancel may be taken back for memory while e is listed. */
void pacing_enter(struct pacing *p, struct pacing_entry *e,
                  alloter_cancel *cancel);
void pacing_leave(struct pacing *p, struct pacing_entry *e);

#endif
