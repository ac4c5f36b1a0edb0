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
 * Usage: measure [-l SECONDS] OUTFILE COMMAND [ARG...]
 * The line is appended to OUTFILE; standard streams are inherited, so the
 * caller redirects them.  With -l, a command still running after SECONDS is
 * sent SIGKILL (its status then reads 137), so a hung tool cannot stall the
 * whole benchmark.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
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

int main(int argc, char **argv)
{
	unsigned limit = 0;
	if (argc > 2 && strcmp(argv[1], "-l") == 0) {
		char *end;
		unsigned long v = strtoul(argv[2], &end, 10);
		if (*end || v == 0 || v > 86400) {
			fputs("measure: -l: want whole seconds\n", stderr);
			return 125;
		}
		limit = (unsigned)v;
		argv += 2;
		argc -= 2;
	}
	if (argc < 3) {
		fputs("usage: measure [-l SECONDS] OUTFILE COMMAND [ARG...]\n",
		      stderr);
		return 125;
	}
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

	siginfo_t si;
	while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) < 0)
		if (errno != EINTR)
			die("waitid", errno);
	double t1 = mono();
	alarm(0);
	child = 0;
	double self = self_cpu(pid);

	int status;
	struct rusage ru;
	while (wait4(pid, &status, 0, &ru) < 0)
		if (errno != EINTR)
			die("wait4", errno);
	double tree = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	              (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);

	fprintf(out, "%.6f %d %.6f %.6f %ld\n", t1 - t0, code, self, tree,
	        ru.ru_maxrss);
	if (fclose(out) != 0)
		die(argv[1], errno);
	return 0;
}
