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

struct signals {
	pthread_t thread;
	int sfd, stop_fd;
	bool watch_stdout;
	alloter_cancel *root;
	atomic_int first;
};

/* The interrupts, and SIGCHLD: orphans of the tasks come to alloter, a
 * child subreaper, and are reaped as they die. */
static void interrupt_set(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGCHLD);
}

int signals_block(void)
{
	sigset_t set;
	struct sigaction sa = {.sa_handler = SIG_IGN};

	interrupt_set(&set);
	if (sigaction(SIGPIPE, &sa, NULL) < 0)
		return -errno;
	return -pthread_sigmask(SIG_BLOCK, &set, NULL);
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
	bool watch_stdout = s->watch_stdout;

	for (;;) {
		struct pollfd fds[3] = {
			{.fd = s->sfd, .events = POLLIN},
			{.fd = s->stop_fd, .events = POLLIN},
			{.fd = watch_stdout ? 1 : -1, .events = 0},
		};
		struct signalfd_siginfo si;

		if (poll(fds, 3, -1) < 0) {
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
		    read(s->sfd, &si, sizeof si) == (ssize_t)sizeof si) {
			if (si.ssi_signo == SIGCHLD)
				alloter_proc_reap_orphans();
			else
				take(s, (int)si.ssi_signo);
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
	s->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (s->stop_fd < 0) {
		err = -errno;
		goto fail_sfd;
	}
	if ((err = -pthread_create(&s->thread, NULL, watch, s)))
		goto fail_stop;
	*out = s;
	return 0;

fail_stop:
	close(s->stop_fd);
fail_sfd:
	close(s->sfd);
fail:
	free(s);
	return err;
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
	close(s->sfd);
	free(s);
	return first;
}
