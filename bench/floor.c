/*
 * floor.c - the spawn floor for the benchmark: the least a parallel command
 * runner must do.  It reads commands one per line on standard input, keeps at
 * most P of them alive with posix_spawn and waitpid, and does nothing else:
 * no output handling, no threads, no bookkeeping beyond a table of pids.
 *
 * Usage: floor [-P N] [-d] [-t SECONDS] [-k] [-T [-p]] [-B]
 *   -P N   at most N children at once (default 1); 0: no limit (not with -t,
 *          -k or -T)
 *   -d     direct exec: split each line on blanks and posix_spawnp the words,
 *          instead of running "/bin/sh -c LINE"
 *   -t S   at S seconds after the start, SIGKILL every running child's
 *          process group, start nothing more and exit
 *   -k     when a child fails, SIGKILL every other child's process group,
 *          start nothing more and exit
 *   -T     one thread per slot, each spawning and then waiting for its own
 *          child (not with -t or -k).  posix_spawn returns only once the
 *          child has exec'd, so one thread spawns one child at a time; P
 *          threads overlap those waits the way a threaded runner does.
 *   -p     with -T: each child's standard output is a pipe, which its
 *          slot's thread splices on to standard output until it ends:
 *          the least a runner that captures output pays for every byte
 *          (output is not held, so children's bytes may mix).
 *   -B     an empty line is a barrier: every child started before it ends
 *          before the next line is read.  A graph of tasks in levels, each
 *          level needing the one before, runs correctly as its levels in
 *          order, one barrier between two (not with -T).
 *
 * Each child gets standard input from /dev/null (so it cannot eat the command
 * list), its own process group (so the whole tree can be killed), and
 * inherits standard output and standard error.  Exit status: 0 if every
 * command ran and exited 0, 1 if one failed or was killed, 2 on usage or
 * system errors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static pid_t *slots;  /* running children, for -t and -k; 0: a free slot */
static long nslots;
static long running;

static _Noreturn void die(const char *what, int err)
{
	fprintf(stderr, "floor: %s: %s\n", what, strerror(err));
	exit(2);
}

static _Noreturn void usage(void)
{
	fputs("usage: floor [-P N] [-d] [-t SECONDS] [-k] [-T [-p]] [-B] "
	      "< COMMANDS\n", stderr);
	exit(2);
}

static void on_chld(int sig)
{
	(void)sig;
}

/* Kills every running child's process group.  Each child leads its own
 * group (POSIX_SPAWN_SETPGROUP with pgroup 0), so -pid names it even if the
 * child itself already exited: grandchildren still die.  ESRCH is fine. */
static void kill_all(void)
{
	for (long i = 0; i < nslots; i++)
		if (slots[i] > 0)
			kill(-slots[i], SIGKILL);
}

/* Splits line on blanks in place into a NULL-ended argv; returns argc. */
static int split(char *line, char **argv, int max)
{
	int argc = 0;
	char *save = NULL;
	for (char *w = strtok_r(line, " \t", &save); w && argc < max - 1;
	     w = strtok_r(NULL, " \t", &save))
		argv[argc++] = w;
	argv[argc] = NULL;
	return argc;
}

/* Starts line; returns false (having said why) if it could not, which
 * counts as a failed command, as it would in a shell. */
static bool spawn(char *line, bool direct, const posix_spawnattr_t *attr,
                  const posix_spawn_file_actions_t *fa)
{
	char *argv[256];
	pid_t pid;
	int err;

	if (direct) {
		if (split(line, argv, 256) == 0)
			return true;
		err = posix_spawnp(&pid, argv[0], fa, attr, argv, environ);
	} else {
		argv[0] = "sh";
		argv[1] = "-c";
		argv[2] = line;
		argv[3] = NULL;
		err = posix_spawn(&pid, "/bin/sh", fa, attr, argv, environ);
	}
	if (err != 0) {
		fprintf(stderr, "floor: %s: %s\n", argv[0], strerror(err));
		return false;
	}
	running++;
	for (long i = 0; i < nslots; i++) {
		if (slots[i] == 0) {
			slots[i] = pid;
			return true;
		}
	}
	/* Without -t and -k there is no table: nothing needs the pids, and a
	 * search of thousands of slots per spawn would be more than the
	 * least a runner must do. */
	if (nslots > 0)
		die("slot table", EOVERFLOW); /* unreachable: running < nslots */
	return true;
}

/* Records that pid ended with status; returns true if it failed. */
static bool reaped(pid_t pid, int status)
{
	running--;
	for (long i = 0; i < nslots; i++) {
		if (slots[i] == pid) {
			slots[i] = 0;
			break;
		}
	}
	return !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

struct shared {
	pthread_mutex_t lock; /* guards stdin */
	bool direct;
	int capture;          /* -p: the /dev/null for stdin, else -1 */
	const posix_spawnattr_t *attr;
	const posix_spawn_file_actions_t *fa;
	bool failed; /* under lock */
};

/* -p: the file actions for one child, whose stdout is w. */
static void capture_actions(posix_spawn_file_actions_t *fa, int devnull,
                            int w)
{
	int err;

	if ((err = posix_spawn_file_actions_init(fa)) != 0 ||
	    (err = posix_spawn_file_actions_adddup2(fa, devnull, 0)) != 0 ||
	    (err = posix_spawn_file_actions_adddup2(fa, w, 1)) != 0)
		die("posix_spawn_file_actions", err);
}

/* -p: passes what the pipe r carries on to stdout until its end. */
static void pass_on(int r)
{
	char buf[65536];
	ssize_t n;

	for (;;) {
		n = splice(r, NULL, 1, NULL, 1 << 20, 0);
		if (n < 0 && errno == EINVAL) { /* stdout takes no splice */
			if ((n = read(r, buf, sizeof buf)) > 0 &&
			    write(1, buf, (size_t)n) != n)
				die("stdout", errno);
		}
		if (n == 0)
			return;
		if (n < 0 && errno != EINTR)
			die("splice", errno);
	}
}

/* -T: one slot.  Reads a line under the lock, runs it, waits for it. */
static void *slot_thread(void *arg)
{
	struct shared *sh = arg;
	char *line = NULL, *argv[256];
	size_t cap = 0;
	int err;

	for (;;) {
		if ((err = pthread_mutex_lock(&sh->lock)) != 0)
			die("pthread_mutex_lock", err);
		ssize_t len = getline(&line, &cap, stdin);
		if (len < 0 && ferror(stdin))
			die("stdin", errno);
		pthread_mutex_unlock(&sh->lock);
		if (len < 0)
			break;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		pid_t pid;
		int pfd[2] = {-1, -1};
		posix_spawn_file_actions_t cfa;
		const posix_spawn_file_actions_t *fa = sh->fa;

		if (sh->capture >= 0) {
			if (pipe2(pfd, O_CLOEXEC) < 0)
				die("pipe2", errno);
			capture_actions(&cfa, sh->capture, pfd[1]);
			fa = &cfa;
		}
		if (sh->direct) {
			if (split(line, argv, 256) == 0)
				argv[0] = NULL;
			err = argv[0] ? posix_spawnp(&pid, argv[0], fa, sh->attr,
			                             argv, environ)
			              : ENOENT;
		} else {
			argv[0] = "sh";
			argv[1] = "-c";
			argv[2] = line;
			argv[3] = NULL;
			err = posix_spawn(&pid, "/bin/sh", fa, sh->attr, argv,
			                  environ);
		}
		if (sh->capture >= 0) {
			posix_spawn_file_actions_destroy(&cfa);
			close(pfd[1]);
			if (err == 0)
				pass_on(pfd[0]);
			close(pfd[0]);
		}
		if (sh->direct && !argv[0])
			continue;
		int status = 0;
		if (err != 0) {
			fprintf(stderr, "floor: %s: %s\n", argv[0], strerror(err));
			status = 127 << 8;
		} else {
			while (waitpid(pid, &status, 0) < 0)
				if (errno != EINTR)
					die("waitpid", errno);
		}
		if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
			pthread_mutex_lock(&sh->lock);
			sh->failed = true;
			pthread_mutex_unlock(&sh->lock);
		}
	}
	free(line);
	return NULL;
}

/* -T: runs everything on par threads; returns true if a command failed. */
static bool run_threads(long par, bool direct, int capture,
                        const posix_spawnattr_t *attr,
                        const posix_spawn_file_actions_t *fa)
{
	struct shared sh = {.direct = direct, .capture = capture,
	                    .attr = attr, .fa = fa};
	pthread_t *t = calloc((size_t)par, sizeof *t);
	int err;

	if (!t)
		die("calloc", errno);
	if ((err = pthread_mutex_init(&sh.lock, NULL)) != 0)
		die("pthread_mutex_init", err);
	for (long i = 0; i < par; i++)
		if ((err = pthread_create(&t[i], NULL, slot_thread, &sh)) != 0)
			die("pthread_create", err);
	for (long i = 0; i < par; i++)
		if ((err = pthread_join(t[i], NULL)) != 0)
			die("pthread_join", err);
	pthread_mutex_destroy(&sh.lock);
	free(t);
	return sh.failed;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Waits for one child and returns its pid (status in *status), or 0 when the
 * deadline (if any: deadline > 0) passed first. */
static pid_t wait_one(int *status, double deadline, const sigset_t *chld)
{
	for (;;) {
		pid_t pid = waitpid(-1, status, deadline > 0 ? WNOHANG : 0);
		if (pid > 0)
			return pid;
		if (pid < 0 && errno != EINTR)
			die("waitpid", errno);
		if (pid < 0)
			continue;
		/* WNOHANG and nothing yet.  SIGCHLD is blocked, so one that
		 * arrived since the waitpid stays pending and wakes us at once. */
		double left = deadline - now();
		if (left <= 0)
			return 0;
		struct timespec ts = {
			.tv_sec = (time_t)left,
			.tv_nsec = (long)((left - (double)(time_t)left) * 1e9),
		};
		if (sigtimedwait(chld, NULL, &ts) < 0 && errno != EAGAIN &&
		    errno != EINTR)
			die("sigtimedwait", errno);
	}
}

int main(int argc, char **argv)
{
	long par = 1;
	bool direct = false, kill_on_fail = false, threads = false,
	     barriers = false, capture = false;
	double timeout = 0;
	int opt, err;
	char *end;

	while ((opt = getopt(argc, argv, "P:dt:kTBp")) != -1) {
		switch (opt) {
		case 'P':
			errno = 0;
			par = strtol(optarg, &end, 10);
			if (errno || *end || par < 0 || par > 65536)
				usage();
			break;
		case 'd':
			direct = true;
			break;
		case 't':
			errno = 0;
			timeout = strtod(optarg, &end);
			if (errno || *end || !(timeout > 0))
				usage();
			break;
		case 'k':
			kill_on_fail = true;
			break;
		case 'T':
			threads = true;
			break;
		case 'B':
			barriers = true;
			break;
		case 'p':
			capture = true;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || (threads && (timeout > 0 || kill_on_fail || barriers)) ||
	    (capture && !threads) ||
	    (par == 0 && (timeout > 0 || kill_on_fail || threads)))
		usage();

	double deadline = timeout > 0 ? now() + timeout : 0;
	if (timeout > 0 || kill_on_fail) {
		nslots = par;
		slots = calloc((size_t)par, sizeof *slots);
		if (!slots)
			die("calloc", errno);
	}

	posix_spawnattr_t attr;
	posix_spawn_file_actions_t fa;
	short flags = POSIX_SPAWN_SETPGROUP;
	sigset_t chld, none;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigemptyset(&none);

	if ((err = posix_spawnattr_init(&attr)) != 0)
		die("posix_spawnattr_init", err);
	if ((err = posix_spawnattr_setpgroup(&attr, 0)) != 0)
		die("posix_spawnattr_setpgroup", err);
	if (deadline > 0) {
		/* A handler, not SIG_DFL, so a blocked SIGCHLD surely stays
		 * pending for sigtimedwait; the children get an empty mask. */
		struct sigaction sa = {.sa_handler = on_chld};
		if (sigaction(SIGCHLD, &sa, NULL) < 0)
			die("sigaction", errno);
		if ((err = sigprocmask(SIG_BLOCK, &chld, NULL)) < 0)
			die("sigprocmask", errno);
		if ((err = posix_spawnattr_setsigmask(&attr, &none)) != 0)
			die("posix_spawnattr_setsigmask", err);
		flags |= POSIX_SPAWN_SETSIGMASK;
	}
	if ((err = posix_spawnattr_setflags(&attr, flags)) != 0)
		die("posix_spawnattr_setflags", err);

	int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (devnull < 0)
		die("/dev/null", errno);
	if ((err = posix_spawn_file_actions_init(&fa)) != 0)
		die("posix_spawn_file_actions_init", err);
	if ((err = posix_spawn_file_actions_adddup2(&fa, devnull, 0)) != 0)
		die("posix_spawn_file_actions_adddup2", err);

	if (threads) {
		bool any = run_threads(par, direct, capture ? devnull : -1,
		                       &attr, &fa);
		posix_spawn_file_actions_destroy(&fa);
		posix_spawnattr_destroy(&attr);
		return any ? 1 : 0;
	}

	char *line = NULL;
	size_t cap = 0;
	bool eof = false, stop = false, failed = false, barrier = false;
	for (;;) {
		while (!eof && !stop && !barrier && (par == 0 || running < par)) {
			ssize_t len = getline(&line, &cap, stdin);
			if (len < 0) {
				if (ferror(stdin))
					die("stdin", errno);
				eof = true;
				break;
			}
			if (len > 0 && line[len - 1] == '\n')
				line[--len] = '\0';
			if (len == 0 && barriers)
				barrier = true;
			if (len > 0 && !spawn(line, direct, &attr, &fa)) {
				failed = true;
				if (kill_on_fail) {
					kill_all();
					stop = true;
				}
			}
		}
		if (running == 0) {
			if (barrier && !stop) {
				barrier = false;
				continue;
			}
			break;
		}
		int status;
		pid_t pid = wait_one(&status, stop ? 0 : deadline, &chld);
		if (pid == 0) {
			/* Deadline: kill everything, then reap without one. */
			kill_all();
			stop = failed = true;
			continue;
		}
		if (reaped(pid, status)) {
			failed = true;
			if (kill_on_fail && !stop) {
				kill_all();
				stop = true;
			}
		}
	}
	free(line);
	free(slots);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	return failed ? 1 : 0;
}
