/*
 * proc.c - one command as a task: spawned (spawn.c) in a process
 * group of its own, waited for in one poll() together with its output pipes,
 * its deadline and the cancellation handle, and terminated as a group.
 *
 * Races, and how they are closed:
 * - The pid cannot be reused while the child is unreaped, and only this
 *   thread reaps it (waitpid on its own pid, never -1), so its pidfd and
 *   kill(-pid) after spawn cannot hit a stranger.  A spawn returns only
 *   after the child has exec'd or failed, so by then the child already
 *   leads its own group.
 * - Once the leader is reaped, its pid stays reserved for as long as the
 *   group it named has members, so kill(-pid) still reaches only them; when
 *   the group is empty kill() says ESRCH and we stop.  A zombie still counts
 *   as a member until its parent reaps it; orphans are reaped by init, or by
 *   us if the program made itself a child subreaper (the alloter command
 *   does), which is why we then reap the group's members ourselves.
 * - A leader may leave its own group (setpgid, setsid) while it runs; then
 *   kill(-pid) says ESRCH although the leader lives.  Termination then
 *   falls back to the leader itself, through its pidfd, and to its
 *   descendants as /proc shows them.  Waiting for such a leader is waiting
 *   on its pidfd, never a loop with a zero timeout.
 * - reap.c does every wait; this file only decides when.
 * - A descendant that escaped the group (setsid) may hold the pipes open
 *   forever, so the end of a task is the end of its group, not EOF: after
 *   that we take what the pipes hold without blocking and close them.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "proc/output.h"
#include "proc/reap.h"
#include "proc/spawn.h"

extern char **environ;

#define DEFAULT_GRACE_MS 2000
#define GIVE_UP_MS 1000     /* after SIGKILL, how long to wait for the group */
#define GROUP_POLL_MS 10    /* how often to look at a leaderless group */
#define SPAWN_TRIES 6       /* EAGAIN from fork: back off and try again */
#define PIPE_BYTES (1 << 20)
#define DEFAULT_PIPE_BYTES (64 * 1024) /* Linux's, unless changed */
#define DRAIN_BYTES (1 << 20)
#define LAST_WRITER_MS 500  /* the end: how long a pipe's last writer has */

struct child {
	const struct alloter_proc *p;
	struct alloter_proc_result *r;
	alloter_cancel *cancel;
	pid_t pid;
	int pidfd;
	int pipe[2];            /* read ends of stdout, stderr; -1 when shut */
	int stdin_w;            /* our end of a stdin pipe, or -1 */
	size_t stdin_off;       /* how much of stdin_data went in so far */
	struct al_sink sink[2];
	bool capture, reaped, terminating, killed;
	bool placed;            /* the late tag was asked for */
	bool grown[2];          /* the pipe has been made bigger */
	bool big[2];            /* the pipe filled a small read (drain) */
	int status;
	struct rusage ru;       /* the leader's and its group's, as reaped */
	enum alloter_proc_status why; /* when terminating */
	int64_t deadline, kill_at, give_up_at; /* monotonic ms; 0 = none */
};

static int64_t now_ms(void)
{
	return al_mono_ns() / 1000000;
}

static bool same_name(const char *a, const char *b)
{
	while (*a && *a != '=' && *a == *b)
		a++, b++;
	return (*a == '=' || !*a) && (*b == '=' || !*b);
}

/* Writes NAME=value for a number at at; returns the end of the string,
 * past its NUL.  By hand, not with a printf: this runs once per task, on
 * the task's thread, whose stack keeps every page a printf touches. */
static char *put_number(char *at, const char *name, size_t v)
{
	char digits[24], *d = digits + sizeof digits;
	size_t n = strlen(name);

	memcpy(at, name, n);
	at += n;
	do
		*--d = (char)('0' + v % 10);
	while (v /= 10);
	n = (size_t)(digits + sizeof digits - d);
	memcpy(at, d, n);
	at[n] = '\0';
	return at + n + 1;
}

#define INDEX_VAR "ALLOTER_TASK_INDEX="
#define NAME_VAR "ALLOTER_TASK_NAME="
#define SLOT_VAR "ALLOTER_TASK_SLOT="

/* The task's environment: ours, then its extra entries (a later one wins
 * over an earlier one of the same name), then ALLOTER_TASK_INDEX,
 * ALLOTER_TASK_NAME and, in a slot, ALLOTER_TASK_SLOT.  One allocation:
 * the pointer array, then the three new strings; the other strings are
 * shared. */
static char **make_env(const struct alloter_proc *p)
{
	const char *name = p->name ? p->name : "";
	size_t ne = 0, nx = 0, k = 0, nlen = strlen(name);
	char **env, *at;

	while (environ[ne])
		ne++;
	while (p->env && p->env[nx])
		nx++;
	/* Each number in at most 20 digits and its NUL. */
	env = malloc((ne + nx + 4) * sizeof *env + sizeof INDEX_VAR + 20 +
	             sizeof NAME_VAR + nlen + sizeof SLOT_VAR + 20);
	if (!env)
		return NULL;
	at = (char *)(env + ne + nx + 4);
	env[k++] = at;
	at = put_number(at, INDEX_VAR, p->index);
	env[k++] = at;
	memcpy(at, NAME_VAR, sizeof NAME_VAR - 1);
	memcpy(at + sizeof NAME_VAR - 1, name, nlen + 1);
	at += sizeof NAME_VAR + nlen;
	if (p->slot) {
		env[k++] = at;
		put_number(at, SLOT_VAR, p->slot);
	}
	/* The extra entries: a later one wins, and none replaces ours. */
	for (size_t i = nx; i-- > 0;) {
		size_t j = 0;
		while (j < k && !same_name(env[j], p->env[i]))
			j++;
		if (j == k)
			env[k++] = p->env[i];
	}
	/* Our entries override alloter's own; alloter's are compared only
	 * with those few, not with each other, so the cost per task stays
	 * linear in the size of the environment. */
	for (size_t i = 0, set = k; i < ne; i++) {
		size_t j = 0;
		while (j < set && !same_name(env[j], environ[i]))
			j++;
		if (j == set)
			env[k++] = environ[i];
	}
	env[k] = NULL;
	return env;
}

/* What the child's descriptors 0-2 become: stdin from /dev/null or our
 * pipe, stdout and stderr to the pipes when capturing; raw output not read
 * inherits the output's descriptors, which need not be ours, and none goes
 * to /dev/null. */
static void child_fds(const struct child *c, const int *wr, int *fd)
{
	fd[0] = wr[2] >= 0 ? wr[2] : AL_SPAWN_NULL;
	fd[1] = fd[2] = AL_SPAWN_KEEP;
	if (c->capture) {
		fd[1] = wr[0];
		fd[2] = wr[1];
	} else if (c->p->output) {
		const alloter_output *o = c->p->output;
		enum alloter_output_mode mode = alloter_output_mode(o);

		if (mode == ALLOTER_OUTPUT_NONE) {
			fd[1] = AL_SPAWN_NULL;
			fd[2] = 1; /* the same /dev/null */
		}
		for (int i = 1; i <= 2 && mode == ALLOTER_OUTPUT_RAW; i++)
			if (al_output_fd(o, i) != i)
				fd[i] = al_output_fd(o, i);
	}
}

/* A write to a pipe whose reader left raises SIGPIPE for the writing
 * thread; where it is blocked (as alloter blocks it), it would stay
 * pending: take it, so it is not mistaken later for a closed stdout. */
static void take_sigpipe(void)
{
	struct timespec zero = {0, 0};
	sigset_t pipe_set, pending;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	if (sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE))
		while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
			;
}

/* Puts as much of stdin_data into the task's stdin as the pipe takes now;
 * once all is in (or the task closed its stdin), our end is closed, so the
 * task sees EOF, unless stdin_hold keeps it open until the task ends. */
static void feed_stdin(struct child *c)
{
	const struct alloter_proc *p = c->p;

	while (c->stdin_off < p->stdin_len) {
		ssize_t n = write(c->stdin_w, p->stdin_data + c->stdin_off,
		                  p->stdin_len - c->stdin_off);

		if (n > 0) {
			c->stdin_off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return; /* the rest when the pipe has room */
		if (n < 0 && errno == EPIPE)
			take_sigpipe();
		c->stdin_off = p->stdin_len; /* the task will read no more */
	}
	if (!p->stdin_hold) {
		close(c->stdin_w);
		c->stdin_w = -1;
	}
}

/* Spawns the child; returns 0 or a positive errno value. */
static int spawn(struct child *c)
{
	const struct alloter_proc *p = c->p;
	const char *shell = p->shell ? p->shell : "/bin/sh";
	char *sh_argv[] = {(char *)shell, "-c", (char *)p->command, NULL};
	/* The child's ends: stdout, stderr, stdin. */
	int wr[3] = {-1, -1, -1}, err, tries = 0;
	struct al_spawn sp, sh;
	char **env;

	if (c->capture) {
		for (int i = 0; i < 2; i++) {
			int fds[2];
			if (pipe2(fds, O_CLOEXEC) < 0) {
				err = errno;
				goto out_pipes;
			}
			c->pipe[i] = al_spawn_lift(fds[0]);
			wr[i] = fds[1];
			/* Only our end: the child's stays blocking. */
			if (fcntl(c->pipe[i], F_SETFL, O_NONBLOCK) < 0) {
				err = errno;
				goto out_pipes;
			}
		}
	}
	if (p->stdin_pipe || p->stdin_hold || p->stdin_data || p->stdin_len) {
		int fds[2];
		if (pipe2(fds, O_CLOEXEC) < 0) {
			err = errno;
			goto out_pipes;
		}
		wr[2] = fds[0];
		c->stdin_w = al_spawn_lift(fds[1]);
		/* Our end never blocks: what does not fit in the pipe now
		 * goes in as the task reads (feed_stdin). */
		if (fcntl(c->stdin_w, F_SETFL, O_NONBLOCK) < 0) {
			err = errno;
			goto out_pipes;
		}
		feed_stdin(c);
	}
	env = make_env(p);
	if (!env) {
		err = ENOMEM;
		goto out_pipes;
	}
	/* The command, and the shell for a script the kernel will not
	 * run. */
	sh = (struct al_spawn){.file = shell, .argv = sh_argv, .envp = env,
	                       .cwd = p->cwd};
	child_fds(c, wr, sh.fd);
	sp = sh;
	if (p->argv) {
		sp.file = p->argv[0];
		sp.search = true;
		sp.argv = p->argv;
	}
	if ((err = -al_spawn_begin()))
		goto out_env;
	for (;;) {
		err = al_spawn(&sp, &c->pid, &c->pidfd);
		/* A file without #! that the kernel will not run is a shell
		 * script to execvp and to sh alike: hand it to the shell. */
		if (err == ENOEXEC && p->argv && p->command)
			err = al_spawn(&sh, &c->pid, &c->pidfd);
		/* EAGAIN: out of processes for now (ulimit -u).  Back off
		 * 50 ms, 100 ms, ... unless cancelled meanwhile. */
		if (err != EAGAIN || ++tries == SPAWN_TRIES)
			break;
		struct pollfd pf = {.fd = alloter_cancel_fd(c->cancel),
		                    .events = POLLIN};
		if (poll(&pf, 1, 50 << (tries - 1)) > 0)
			break;
	}
	al_spawn_end(err ? 0 : c->pid);
out_env:
	free(env);
out_pipes:
	for (int i = 0; i < 3; i++)
		if (wr[i] >= 0)
			close(wr[i]);
	return err;
}

static void signal_group(struct child *c, int sig)
{
	/* ESRCH means the group is gone, or that a live leader left it. */
	if (kill(-c->pid, sig) == 0 || errno != ESRCH || c->reaped)
		return;
	if (c->pidfd < 0 || pidfd_send_signal(c->pidfd, sig, NULL, 0) < 0)
		kill(c->pid, sig); /* unreaped: the pid is still its own */
	al_signal_descendants(c->pid, sig);
}

static void terminate(struct child *c, enum alloter_proc_status why)
{
	int64_t grace = c->p->grace_ms > 0 ? c->p->grace_ms : DEFAULT_GRACE_MS;

	c->terminating = true;
	c->why = why;
	c->kill_at = al_add_sat(now_ms(), grace);
	if (alloter_cancel_hurried(c->cancel)) {
		c->kill_at = now_ms();
		return; /* the loop sends SIGKILL on its next turn */
	}
	signal_group(c, SIGTERM);
	/* A stopped process cannot act on SIGTERM until it is continued. */
	signal_group(c, SIGCONT);
}

static void kill_now(struct child *c)
{
	signal_group(c, SIGKILL);
	c->killed = true;
	c->give_up_at = now_ms() + GIVE_UP_MS;
}

/* Reads from a task's pipe go through a buffer on the stack: SMALL_READ
 * bytes until a read fills that, then 64 KiB.  A thread per running task
 * keeps every stack page it ever touched, and most tasks write a few lines
 * or nothing: for them the reads stay within the pages the thread already
 * uses. */
#define SMALL_READ 512

static ssize_t read_through(struct al_sink *s, int fd, char *buf, size_t len)
{
	ssize_t n = read(fd, buf, len);

	if (n > 0)
		al_sink_feed(s, buf, (size_t)n);
	return n;
}

/* Not inlined into drain(): the compiler spills registers at the bottom of
 * a frame, and one that holds this buffer is 64 KiB deep. */
__attribute__((noinline)) static ssize_t read_big(struct al_sink *s, int fd)
{
	char buf[65536];

	return read_through(s, fd, buf, sizeof buf);
}

/* Takes what one pipe holds: with all set, until it is empty; else up to
 * DRAIN_BYTES, so that a task that never stops writing cannot keep us from
 * its deadline and the cancellation handle. */
static void drain(struct child *c, int i, bool all)
{
	size_t taken = 0;
	bool waited = false;

	if (c->p->late_tag && c->capture && !c->placed) {
		const char *tag = c->p->late_tag(c->p->late_tag_arg);

		c->placed = true;
		/* Out of memory for it keeps the tag there was. */
		for (int k = 0; k < 2 && tag; k++)
			al_sink_retag(&c->sink[k], tag);
	}
	while (c->pipe[i] >= 0) {
		/* Lines nobody has written out yet: let the pipe fill, and
		 * the task wait, rather than memory grow. */
		if (!all && al_sink_backlogged(&c->sink[i]))
			return;
		/* Big group output goes from the pipe to its spill file in
		 * the kernel; the rest through buf. */
		ssize_t n = al_sink_splice(&c->sink[i], c->pipe[i]);

		if (n == -ENOTSUP || (n < 0 && n != -EAGAIN && n != -EINTR)) {
			char small[SMALL_READ];

			if (c->big[i]) {
				n = read_big(&c->sink[i], c->pipe[i]);
			} else {
				n = read_through(&c->sink[i], c->pipe[i], small,
				                 sizeof small);
				c->big[i] = n == (ssize_t)sizeof small;
			}
		} else if (n < 0) {
			errno = (int)-n;
			n = -1;
		}
		if (n > 0) {
			taken += (size_t)n;
			/* A task that fills a default pipe (64 KiB) gets a
			 * bigger one: it writes on while we are busy, and
			 * wakes us far less often.  Most tasks never need it
			 * and are spared the system calls.  It is a wish:
			 * past the system's pipe limits it is refused, and
			 * the default size works as well. */
			if (taken >= DEFAULT_PIPE_BYTES && !c->grown[i]) {
				c->grown[i] = true;
				fcntl(c->pipe[i], F_SETPIPE_SZ, PIPE_BYTES);
			}
			if (!all && taken >= DRAIN_BYTES)
				return;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && errno == EAGAIN) {
			struct pollfd pf = {.fd = c->pipe[i], .events = POLLIN};

			/* At the end, a writer still there is a process the task
			 * left outside its group: what it writes from now on is
			 * not read.  A moment's grace first: another task's
			 * child, between its fork and its exec, may hold a copy
			 * of the write end. */
			if (all && !waited) {
				waited = true;
				if (poll(&pf, 1, LAST_WRITER_MS) > 0)
					continue;
			}
			if (all)
				c->r->output_unread = true;
			return;
		} else { /* EOF or a read error: nothing more comes */
			close(c->pipe[i]);
			c->pipe[i] = -1;
		}
	}
}

static int min_timeout(int t, int64_t at, int64_t now)
{
	int64_t left;

	if (!at)
		return t;
	left = at > now ? at - now : 0;
	if (left > INT_MAX)
		left = INT_MAX;
	return (t < 0 || left < t) ? (int)left : t;
}

static void reap(struct child *c)
{
	if (al_reap_leader(c->pid, &c->status, &c->ru) == 0)
		c->reaped = true;
}

/* Whether the leader's group has no member left, not even a zombie. */
static bool group_gone(const struct child *c)
{
	return kill(-c->pid, 0) < 0 && errno == ESRCH;
}

/* Waits for the leader, then for the rest of its group; see the top. */
static void supervise(struct child *c)
{
	for (;;) {
		struct pollfd fds[6];
		int ip[2] = {-1, -1}, icancel = -1, ihurry = -1, ipid = -1;
		int iin = -1;
		int timeout = -1;
		nfds_t n = 0;
		int64_t now = now_ms();

		if (!c->reaped && !c->terminating && c->deadline &&
		    now >= c->deadline)
			terminate(c, ALLOTER_PROC_TIMED_OUT);
		if (c->terminating && !c->killed && now >= c->kill_at)
			kill_now(c);
		if (c->reaped) {
			/* An empty group has no zombie to reap either, and
			 * most groups end with their leader; as zombies,
			 * orphans of the group that came to us would still
			 * count as members. */
			if (group_gone(c))
				return;
			al_reap_group(c->pid, &c->ru);
			if (group_gone(c))
				return;
			/* Zombies count as members until init reaps them,
			 * which may take seconds: only the living matter. */
			if (!al_group_alive(c->pid))
				return;
			if (!c->terminating) /* left-overs of a finished task */
				terminate(c, ALLOTER_PROC_EXITED);
			if (c->killed && now >= c->give_up_at)
				return;
			timeout = GROUP_POLL_MS;
		}

		if (!c->reaped) {
			ipid = (int)n;
			fds[n++] = (struct pollfd){.fd = c->pidfd,
			                           .events = POLLIN};
			if (c->pidfd < 0) /* no pidfd: look every few ms */
				timeout = GROUP_POLL_MS;
		}
		for (int i = 0; i < 2; i++) {
			if (c->pipe[i] < 0)
				continue;
			if (al_sink_backlogged(&c->sink[i])) {
				timeout = min_timeout(timeout,
				                      now + GROUP_POLL_MS, now);
				continue;
			}
			ip[i] = (int)n;
			fds[n++] = (struct pollfd){.fd = c->pipe[i],
			                           .events = POLLIN};
		}
		if (c->stdin_w >= 0 && c->stdin_off < c->p->stdin_len &&
		    !c->reaped) {
			iin = (int)n;
			fds[n++] = (struct pollfd){.fd = c->stdin_w,
			                           .events = POLLOUT};
		}
		if (!c->terminating) {
			icancel = (int)n;
			fds[n++] = (struct pollfd){
				.fd = alloter_cancel_fd(c->cancel),
				.events = POLLIN};
			timeout = min_timeout(timeout, c->deadline, now);
		} else if (!c->killed) {
			ihurry = (int)n;
			fds[n++] = (struct pollfd){
				.fd = alloter_cancel_hurry_fd(c->cancel),
				.events = POLLIN};
			timeout = min_timeout(timeout, c->kill_at, now);
		} else if (c->reaped) {
			timeout = min_timeout(timeout, c->give_up_at, now);
		} /* else: killed, the leader's pidfd says when it is gone */

		if (poll(fds, n, timeout) < 0) {
			if (errno == EINTR)
				continue;
			/* Cannot wait: make sure the group dies, then go. */
			if (!c->killed)
				kill_now(c);
			while (!c->reaped) {
				struct timespec ts = {0, GROUP_POLL_MS * 1000000};
				nanosleep(&ts, NULL);
				reap(c);
			}
			return;
		}
		/* The deadline is looked at again before the task's end is
		 * taken: a task that ended past it while we could not run
		 * (stopped by SIGSTOP, say) timed out all the same. */
		if (!c->reaped && !c->terminating && c->deadline &&
		    now_ms() >= c->deadline)
			terminate(c, ALLOTER_PROC_TIMED_OUT);
		for (int i = 0; i < 2; i++)
			if (ip[i] >= 0 && fds[ip[i]].revents)
				drain(c, i, false);
		if (iin >= 0 && fds[iin].revents)
			feed_stdin(c);
		if (ipid >= 0 && (c->pidfd < 0 || fds[ipid].revents))
			reap(c);
		if (icancel >= 0 && fds[icancel].revents && !c->reaped)
			terminate(c, ALLOTER_PROC_TERMINATED);
		if (ihurry >= 0 && fds[ihurry].revents)
			c->kill_at = now; /* SIGKILL on the next turn */
	}
}

/* When a direct exec fails, the shell would have exited 127 (not found)
 * or 126 (found, not runnable); with shell_status, keep that meaning, and
 * say so on the task's stderr as the shell would.  0: not such a
 * failure. */
static int not_run_status(int err)
{
	return err == ENOENT || err == ENOTDIR ? 127
	       : err == EACCES || err == EPERM || err == EISDIR ||
	                 err == ENOEXEC ? 126
	       : 0;
}

/* Not inlined: its message buffer would deepen the frame every task runs
 * in, for a failure few have. */
__attribute__((noinline)) static void tell_not_run(struct child *c, int err)
{
	char msg[512];
	int n = snprintf(msg, sizeof msg, "alloter: %s: %s\n", c->p->argv[0],
	                 err == ENOENT ? "not found" : strerror(err));

	if (n >= (int)sizeof msg)
		n = (int)sizeof msg - 1;
	if (c->capture)
		al_sink_feed(&c->sink[1], msg, (size_t)n);
	else if (c->p->output)
		alloter_output_write(c->p->output, 2, msg, (size_t)n);
	else if (write(2, msg, (size_t)n) < 0)
		return; /* nowhere left to say it */
}

static void set_result(struct child *c, int out_err)
{
	struct alloter_proc_result *r = c->r;

	r->out_bytes = c->sink[0].bytes;
	r->err_bytes = c->sink[1].bytes;
	r->err_tail_len = c->sink[1].tail_len;
	r->cpu_user_us = (int64_t)c->ru.ru_utime.tv_sec * 1000000 +
	                 c->ru.ru_utime.tv_usec;
	r->cpu_sys_us = (int64_t)c->ru.ru_stime.tv_sec * 1000000 +
	                c->ru.ru_stime.tv_usec;
	r->max_rss_kb = c->ru.ru_maxrss;
	/* The wait status is kept whatever the verdict, so a timed-out task
	 * still shows the signal that ended it. */
	if (WIFSIGNALED(c->status)) {
		r->status = ALLOTER_PROC_SIGNALED;
		r->signo = WTERMSIG(c->status);
		r->core_dumped = WCOREDUMP(c->status);
	} else {
		r->status = ALLOTER_PROC_EXITED;
		r->exit_code = WEXITSTATUS(c->status);
	}
	if (c->terminating && c->why != ALLOTER_PROC_EXITED) {
		r->status = c->why;
		r->cancel_reason = alloter_cancel_reason(c->cancel);
	}
	/* Output we could not keep fails the task, unless it failed already
	 * for a reason of its own; a reader that left (EPIPE) is not the
	 * task's fault and shows in alloter_output_broken() instead. */
	if (out_err && out_err != -EPIPE && r->status == ALLOTER_PROC_EXITED &&
	    r->exit_code == 0) {
		r->status = ALLOTER_PROC_LOST_OUTPUT;
		r->err = out_err;
	}
}

/* alloter_proc_run with somewhere to put the result. */
static int run(const struct alloter_proc *p, alloter_cancel *cancel,
               struct alloter_proc_result *r)
{
	struct child c = {.p = p, .r = r, .cancel = cancel, .pidfd = -1,
	                  .pipe = {-1, -1}, .stdin_w = -1};
	int64_t t0 = now_ms(), out_err = 0;
	int err = 0;

	*r = (struct alloter_proc_result){0};
	r->start_ns = al_wall_ns();
	/* Raw output is inherited and discarded output goes to /dev/null,
	 * unless it is also copied: then it is read like the rest. */
	c.capture = p->output &&
	            ((alloter_output_mode(p->output) != ALLOTER_OUTPUT_RAW &&
	              alloter_output_mode(p->output) != ALLOTER_OUTPUT_NONE) ||
	             p->copy_fd[0] > 0 || p->copy_fd[1] > 0 ||
	             p->keep_err_tail);
	for (int i = 0; i < 2 && !err; i++) {
		err = -al_sink_init(&c.sink[i], p->output, i + 1,
		                    p->tag ? p->tag : p->name ? p->name : "",
		                    p->index);
		c.sink[i].copy_fd = p->copy_fd[i];
	}
	/* Kept straight in the result: no room of our own per task. */
	if (p->keep_err_tail)
		c.sink[1].tail = r->err_tail;
	if (p->timeout_ms > 0)
		c.deadline = al_add_sat(t0, p->timeout_ms);

	if (!err)
		err = spawn(&c);
	if (err && p->argv && p->shell_status && not_run_status(err)) {
		tell_not_run(&c, err);
		c.status = not_run_status(err) << 8; /* as a wait status */
		err = 0;
	} else if (err) {
		r->status = ALLOTER_PROC_SPAWN_FAILED;
		r->err = -err;
	} else {
		r->pid = c.pid;
		supervise(&c);
		if (c.pidfd >= 0)
			close(c.pidfd);
		/* A spawn under way in another thread holds a copy of our
		 * pipes' write ends until its child execs: let those finish,
		 * so that a writer still there at the end is really one the
		 * task left outside its group. */
		if (c.capture)
			al_spawn_settle();
	}
	for (int i = 0; i < 2; i++)
		drain(&c, i, true);
	for (int i = 0; i < 2; i++)
		if (c.pipe[i] >= 0)
			close(c.pipe[i]);
	if (c.stdin_w >= 0)
		close(c.stdin_w);
	if (c.capture)
		out_err = al_sink_finish(&c.sink[0], &c.sink[1]);
	if (!err)
		set_result(&c, (int)out_err);
	r->duration_ns = (now_ms() - t0) * 1000000;
	return -err;
}

/* Not inlined into alloter_proc_run: the result nobody asked for stays out
 * of the frame of every task that has a place for its own. */
__attribute__((noinline)) static int run_unseen(const struct alloter_proc *p,
                                                alloter_cancel *cancel)
{
	struct alloter_proc_result scratch;

	return run(p, cancel, &scratch);
}

int alloter_proc_run(const struct alloter_proc *p, alloter_cancel *cancel,
                     struct alloter_proc_result *r)
{
	if (!p || (!p->command && !(p->argv && p->argv[0])))
		return -EINVAL;
	return r ? run(p, cancel, r) : run_unseen(p, cancel);
}

int alloter_proc_task(void *arg, alloter_cancel *cancel)
{
	struct alloter_proc_call *call = arg;
	const struct alloter_proc_result *r = &call->result;
	int err = alloter_proc_run(call->proc, cancel, &call->result);

	if (err)
		return err;
	return r->status == ALLOTER_PROC_EXITED && r->exit_code == 0 ? 0 : 1;
}

char *alloter_proc_describe(const struct alloter_proc *p,
                            const struct alloter_proc_result *r, char *buf,
                            size_t len)
{
	const char *abbrev;
	char d[32];

	switch (r->status) {
	case ALLOTER_PROC_EXITED:
		/* A shell reports a command that died of signal N as 128 + N;
		 * say so, since that is almost always a crash behind sh -c. */
		abbrev = !p->argv && r->exit_code > 128 && r->exit_code < 160
		                 ? sigabbrev_np(r->exit_code - 128) : NULL;
		if (abbrev)
			snprintf(buf, len, "exit status %d (the shell reports "
			         "SIG%s)", r->exit_code, abbrev);
		else
			snprintf(buf, len, "exit status %d", r->exit_code);
		break;
	case ALLOTER_PROC_SIGNALED:
		abbrev = sigabbrev_np(r->signo);
		if (abbrev)
			snprintf(buf, len, "killed by SIG%s%s", abbrev,
			         r->core_dumped ? " (core dumped)" : "");
		else
			snprintf(buf, len, "killed by signal %d%s", r->signo,
			         r->core_dumped ? " (core dumped)" : "");
		break;
	case ALLOTER_PROC_TIMED_OUT:
		snprintf(buf, len, "timed out after %s",
		         alloter_duration_format(p->timeout_ms, d, sizeof d));
		break;
	case ALLOTER_PROC_TERMINATED:
		snprintf(buf, len, "terminated: %s",
		         r->cancel_reason == ALLOTER_CANCEL_FAILURE
		                 ? "another task failed"
		         : r->cancel_reason == ALLOTER_CANCEL_TIMEOUT
		                 ? "the overall timeout passed"
		                 : "the run was cancelled");
		break;
	case ALLOTER_PROC_SPAWN_FAILED:
		snprintf(buf, len, "cannot start: %s", strerror(-r->err));
		break;
	case ALLOTER_PROC_LOST_OUTPUT:
		snprintf(buf, len, "output lost: %s", strerror(-r->err));
		break;
	}
	return buf;
}
