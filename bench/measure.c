/*
 * measure.c - times one command for the benchmark and prints one line:
 *   wall_s status self_cpu_s tree_cpu_s maxrss_kb
 * wall_s is CLOCK_MONOTONIC from just before the spawn to the child's exit.
 * self_cpu_s is the child's own user+system time, all its threads included and
 * its children excluded: read from its CPU-time clock (clock_getcpuclockid,
 * nanoseconds) while the child is a zombie, after waitid(WNOWAIT) and before
 * it is reaped; if that clock cannot be read, from /proc/PID/stat
 * (utime+stime, in clock ticks).  tree_cpu_s is user+system of the
 * child and every descendant it waited for (wait4's rusage); maxrss_kb is
 * wait4's ru_maxrss: the largest peak RSS of any single process in that tree.
 *
 * Usage: measure [-l SECONDS] [-c] OUTFILE COMMAND [ARG...]
 * The line is appended to OUTFILE; standard streams are inherited, so the
 * caller redirects them.  With -l, a command still running after SECONDS is
 * sent SIGKILL (its status then reads 137), so a hung tool cannot stall the
 * whole benchmark.
 *
 * With -c, a second thread follows the command's children through the
 * kernel's process events connector (root only) and the line gets three more
 * fields:
 *   peak_children quiet_s quiet_cpu_s
 * peak_children is the most children the command had alive (started and not
 * yet exited) at one moment; quiet_s is the longest time in which it had that
 * many and none started or exited, and quiet_cpu_s the command's own CPU
 * time over that stretch.  When every task of a run is alive at once, that
 * stretch is the phase in which they all sleep.  Counting through events
 * rather than by reading /proc costs the command nothing: a scan of
 * /proc/PID/task/TID/children over a runner with 2,000 threads takes 20-35 ms.
 * If the connector cannot be used, the three fields read "-1 0 0".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static volatile sig_atomic_t child;

static void on_alarm(int sig)
{
	(void)sig;
	if (child > 0)
		kill((pid_t)child, SIGKILL);
}

static _Noreturn void die(const char *what, int err)
{
	fprintf(stderr, "measure: %s: %s\n", what, strerror(err));
	exit(125);
}

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* utime+stime of a not yet reaped pid, in seconds, or -1. */
static double self_cpu(pid_t pid)
{
	clockid_t clk;
	struct timespec ts;
	if (clock_getcpuclockid(pid, &clk) == 0 && clock_gettime(clk, &ts) == 0)
		return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;

	char path[64], buf[4096];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* Field 2 (comm) may hold blanks and parentheses: skip to its end. */
	char *p = strrchr(buf, ')');
	if (!p)
		return -1;
	unsigned long long ut, st;
	/* After ')': 3 state ... 14 utime 15 stime. */
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
	           &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* A socket that receives every process event of the machine, or -1.  It
 * must listen before the spawn, so that no child's fork is missed. */
static int cn_open(void)
{
	int fd = socket(PF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_CONNECTOR);
	if (fd < 0)
		return -1;
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC};
	/* Thousands of forks and exits come in bursts: a deep buffer, so
	 * none is dropped while the reader is behind. */
	int size = 64 << 20;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
	struct __attribute__((aligned(NLMSG_ALIGNTO))) {
		struct nlmsghdr nl;
		struct __attribute__((packed)) {
			struct cn_msg cn;
			enum proc_cn_mcast_op op;
		} body;
	} msg = {
		.nl = {.nlmsg_len = sizeof msg, .nlmsg_type = NLMSG_DONE,
		       .nlmsg_pid = (__u32)getpid()},
		.body = {.cn = {.id = {.idx = CN_IDX_PROC, .val = CN_VAL_PROC},
		                .len = sizeof(enum proc_cn_mcast_op)},
		         .op = PROC_CN_MCAST_LISTEN},
	};
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    send(fd, &msg, sizeof msg, 0) != (ssize_t)sizeof msg) {
		close(fd);
		return -1;
	}
	return fd;
}

struct counter {
	int fd;
	pid_t pid;
	atomic_bool stop; /* the command was seen to exit: drain and end */
	bool lost;        /* the socket overflowed: the figures are wrong */
	long alive, peak;
	double quiet_s, quiet_cpu;
	double last_t, last_cpu; /* at the last child event */
};

/* Counts one event; returns true at the command's own exit. */
static bool on_event(struct counter *c, const struct proc_event *ev)
{
	int d = 0;
	if (ev->what == PROC_EVENT_FORK && ev->event_data.fork.parent_tgid == c->pid &&
	    ev->event_data.fork.child_pid == ev->event_data.fork.child_tgid)
		d = 1; /* a new process, not one more thread of the command */
	else if (ev->what == PROC_EVENT_EXIT &&
	         ev->event_data.exit.process_pid == ev->event_data.exit.process_tgid) {
		if (ev->event_data.exit.process_pid == c->pid)
			return true;
		if (ev->event_data.exit.parent_tgid == c->pid)
			d = -1;
	}
	if (d == 0)
		return false;
	double t = (double)ev->timestamp_ns / 1e9, cpu = self_cpu(c->pid);
	if (c->alive == c->peak && c->peak > 0 && t - c->last_t > c->quiet_s) {
		c->quiet_s = t - c->last_t;
		c->quiet_cpu = cpu - c->last_cpu;
	}
	c->alive += d;
	if (c->alive > c->peak) {
		c->peak = c->alive;
		c->quiet_s = c->quiet_cpu = 0; /* a stretch below the peak */
	}
	c->last_t = t, c->last_cpu = cpu;
	return false;
}

static void *count(void *arg)
{
	struct counter *c = arg;
	static char buf[1 << 16] __attribute__((aligned(NLMSG_ALIGNTO)));
	for (;;) {
		bool last = atomic_load(&c->stop);
		struct pollfd p = {.fd = c->fd, .events = POLLIN};
		int r = poll(&p, 1, last ? 0 : 100);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (last || r < 0)
				return NULL;
			continue;
		}
		ssize_t n = recv(c->fd, buf, sizeof buf, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			c->lost = true; /* ENOBUFS: events were dropped */
			return NULL;
		}
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n);
		     h = NLMSG_NEXT(h, n)) {
			const struct cn_msg *cn = NLMSG_DATA(h);
			if (cn->id.idx != CN_IDX_PROC || cn->id.val != CN_VAL_PROC)
				continue;
			if (on_event(c, (const struct proc_event *)cn->data))
				return NULL;
		}
	}
}

int main(int argc, char **argv)
{
	unsigned limit = 0;
	bool children = false;
	for (;;) {
		if (argc > 2 && strcmp(argv[1], "-l") == 0) {
			char *end;
			unsigned long v = strtoul(argv[2], &end, 10);
			if (*end || v == 0 || v > 86400) {
				fputs("measure: -l: want whole seconds\n", stderr);
				return 125;
			}
			limit = (unsigned)v;
			argv++;
			argc--;
		} else if (argc > 1 && strcmp(argv[1], "-c") == 0) {
			children = true;
		} else {
			break;
		}
		argv++;
		argc--;
	}
	if (argc < 3) {
		fputs("usage: measure [-l SECONDS] [-c] OUTFILE COMMAND [ARG...]\n",
		      stderr);
		return 125;
	}
	struct counter cnt = {.fd = children ? cn_open() : -1, .peak = -1};
	if (children && cnt.fd < 0)
		fprintf(stderr, "measure: -c: the process events connector: %s\n",
		        strerror(errno));
	FILE *out = fopen(argv[1], "ae");
	if (!out)
		die(argv[1], errno);

	pid_t pid;
	double t0 = mono();
	int err = posix_spawnp(&pid, argv[2], NULL, NULL, argv + 2, environ);
	if (err != 0)
		die(argv[2], err);
	if (limit) {
		/* No SA_RESTART: the handler kills the child, waitid goes on. */
		struct sigaction sa = {.sa_handler = on_alarm};
		child = pid;
		if (sigaction(SIGALRM, &sa, NULL) < 0)
			die("sigaction", errno);
		alarm(limit);
	}
	pthread_t ct;
	if (cnt.fd >= 0) {
		cnt.pid = pid;
		cnt.peak = 0;
		if ((err = pthread_create(&ct, NULL, count, &cnt)) != 0)
			die("pthread_create", err);
	}

	siginfo_t si;
	while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) < 0)
		if (errno != EINTR)
			die("waitid", errno);
	double t1 = mono();
	alarm(0);
	child = 0;
	double self = self_cpu(pid);
	if (cnt.fd >= 0) {
		/* Its exit event is queued by now, behind its children's. */
		atomic_store(&cnt.stop, true);
		if ((err = pthread_join(ct, NULL)) != 0)
			die("pthread_join", err);
		close(cnt.fd);
		if (cnt.lost) {
			fputs("measure: -c: events were lost\n", stderr);
			cnt.peak = -1;
		}
	}

	int status;
	struct rusage ru;
	while (wait4(pid, &status, 0, &ru) < 0)
		if (errno != EINTR)
			die("wait4", errno);
	double tree = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	              (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);

	fprintf(out, "%.6f %d %.6f %.6f %ld", t1 - t0, code, self, tree,
	        ru.ru_maxrss);
	if (children)
		fprintf(out, " %ld %.6f %.6f", cnt.peak, cnt.peak < 0 ? 0 : cnt.quiet_s,
		        cnt.peak < 0 ? 0 : cnt.quiet_cpu);
	fputc('\n', out);
	if (fclose(out) != 0)
		die(argv[1], errno);
	return 0;
}
