/*
 * signals.c - the one thread that takes signals.  The signals are blocked
 * everywhere and read from a signalfd, so no handler runs in an arbitrary
 * thread; process tasks get the default mask and dispositions back at
 * spawn.  The same poll() watches standard output: a pipe whose reader has
 * gone reports POLLERR, so `alloter ... | head -1` stops promptly even when
 * the tasks print nothing more.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "signals.h"

/* Orphans are reaped in sweeps at most this often: every task's end also
 * raises SIGCHLD, and a sweep per task would wake this thread, and stall
 * spawns on the registry lock, once per task for nothing. */
#define SWEEP_EVERY_MS 100

struct signals {
	pthread_t thread;
	int sfd, chld_fd, stop_fd;
	bool watch_stdout;
	alloter_cancel *root;
	atomic_int first;
};

/* The interrupts; and SIGCHLD, read from a descriptor of its own: orphans
 * of the tasks come to alloter, a child subreaper, and are reaped soon
 * after they die. */
static void interrupt_set(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
}

/* Blocks or unblocks every signal this thread takes. */
static int mask(int how)
{
	sigset_t set;

	interrupt_set(&set);
	sigaddset(&set, SIGCHLD);
	return -pthread_sigmask(how, &set, NULL);
}

int signals_block(void)
{
	struct sigaction sa = {.sa_handler = SIG_IGN};

	/* A write past ulimit -f then fails with EFBIG, which is reported,
	 * instead of killing alloter with its tasks left running.  Tasks get
	 * the default back at spawn. */
	if (sigaction(SIGPIPE, &sa, NULL) < 0 ||
	    sigaction(SIGXFSZ, &sa, NULL) < 0)
		return -errno;
	return mask(SIG_BLOCK);
}

int signals_wait(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000,
	                      .tv_nsec = (long)(ms % 1000) * 1000000};
	sigset_t set;
	int sig;

	interrupt_set(&set);
	sig = sigtimedwait(&set, NULL, &ts);
	return sig > 0 ? sig : 0;
}

int signals_unblock(void)
{
	return mask(SIG_UNBLOCK);
}

static void take(struct signals *s, int sig)
{
	int none = 0;

	if (atomic_compare_exchange_strong(&s->first, &none, sig))
		alloter_cancel_fire(s->root, SIGNAL_REASON(sig));
	else if (sig != SIGPIPE)
		alloter_cancel_hurry(s->root, SIGNAL_REASON(sig));
}

static void *watch(void *arg)
{
	struct signals *s = arg;
	bool watch_stdout = s->watch_stdout, sweep_due = false;

	for (;;) {
		/* After a SIGCHLD the sweep waits a little, and its descriptor
		 * leaves the poll meanwhile: the ends of many tasks cost one
		 * wake-up and one sweep. */
		struct pollfd fds[4] = {
			{.fd = s->sfd, .events = POLLIN},
			{.fd = s->stop_fd, .events = POLLIN},
			{.fd = watch_stdout ? 1 : -1, .events = 0},
			{.fd = sweep_due ? -1 : s->chld_fd, .events = POLLIN},
		};
		struct signalfd_siginfo si;
		int n = poll(fds, 4, sweep_due ? SWEEP_EVERY_MS : -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			break; /* cannot happen with valid fds; do not spin */
		}
		if (fds[1].revents)
			break;
		if (fds[2].revents & (POLLERR | POLLHUP)) {
			watch_stdout = false;
			take(s, SIGPIPE);
		}
		if (fds[0].revents &&
		    read(s->sfd, &si, sizeof si) == (ssize_t)sizeof si)
			take(s, (int)si.ssi_signo);
		if (fds[3].revents) {
			sweep_due = true;
		} else if (sweep_due && n == 0) {
			/* Take the pending SIGCHLD before the sweep, so one
			 * that comes during it wakes us again. */
			while (read(s->chld_fd, &si, sizeof si) < 0 &&
			       errno == EINTR)
				;
			/* Stopped at a task's leader: look again later. */
			alloter_reaper_sweep(&sweep_due);
		}
	}
	return NULL;
}

int signals_start(struct signals **out, alloter_cancel *root)
{
	struct signals *s = calloc(1, sizeof *s);
	struct stat st;
	sigset_t set;
	int err;

	if (!s)
		return -ENOMEM;
	s->root = root;
	/* Only a pipe or socket reports its reader leaving. */
	s->watch_stdout = fstat(1, &st) == 0 &&
	                  (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
	interrupt_set(&set);
	s->sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (s->sfd < 0) {
		err = -errno;
		goto fail;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	s->chld_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (s->chld_fd < 0) {
		err = -errno;
		goto fail_sfd;
	}
	s->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (s->stop_fd < 0) {
		err = -errno;
		goto fail_chld;
	}
	if ((err = -pthread_create(&s->thread, NULL, watch, s)))
		goto fail_stop;
	*out = s;
	return 0;

fail_stop:
	close(s->stop_fd);
fail_chld:
	close(s->chld_fd);
fail_sfd:
	close(s->sfd);
fail:
	free(s);
	return err;
}

int signals_first(struct signals *s)
{
	return atomic_load(&s->first);
}

int signals_stop(struct signals *s)
{
	uint64_t one = 1;
	int first;

	while (write(s->stop_fd, &one, sizeof one) < 0 && errno == EINTR)
		;
	pthread_join(s->thread, NULL);
	first = atomic_load(&s->first);
	close(s->stop_fd);
	close(s->chld_fd);
	close(s->sfd);
	free(s);
	return first;
}
