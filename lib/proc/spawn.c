/*
 * spawn.c - starting a child as posix_spawn does, minus the calls it makes
 * in the parent that a task runner pays for on every task: glibc 2.36 maps
 * and unmaps a stack for each child (the unmap is a cross-CPU TLB flush in
 * a threaded program), asks getrlimit once per file action, and gives no
 * pidfd, which costs a pidfd_open after.  Here the child is a
 * clone(CLONE_VM | CLONE_VFORK | CLONE_PIDFD) on a stack of our own, which
 * the vfork keeps to itself until the child has exec'd or given up.  The
 * stacks are shared by every thread, each taken for one spawn: a thread
 * that then waits for its task for hours keeps none of the child's pages
 * on its own stack, which with thousands of tasks running is most of the
 * memory each costs.
 *
 * The child shares our memory and runs while our signals are blocked:
 * - it makes raw system calls only, never a libc function that keeps state
 *   (a sanitizer's interceptor for sigaction, say, would change the
 *   parent's tables), and is not instrumented;
 * - it puts every disposition back to its default before it unblocks
 *   anything, so none of our handlers can run in it;
 * - it reports a failure in memory we share (err) and exits 127; we reap
 *   it then (reap.c), so a failed spawn leaves no child behind.
 * The PATH search is prepared in the parent (the candidates, in order), so
 * the child only tries them.
 *
 * A clone copies the parent's descriptor table, all of it, one reference
 * per open descriptor, and the exec then closes the copies one by one: with
 * thousands of tasks running, each holding a pidfd and two pipes of ours,
 * that was half a millisecond a spawn (10,000 descriptors open, 2.1 ms a
 * spawn with none).  So the descriptors of ours that outlive a spawn are
 * kept at AL_SPAWN_HIGH and above (al_spawn_lift), the child shares our
 * table (CLONE_FILES) and, as its first act, takes a copy of only the part
 * below AL_SPAWN_HIGH (close_range with CLOSE_RANGE_UNSHARE, Linux 5.9:
 * at most that many entries, and on recent kernels only up to the last
 * descriptor open there).  Until then it changes no descriptor: the table
 * is every thread's.  Every spawn closes the descriptors from
 * AL_SPAWN_HIGH up in the child, shared table or not, so what a task
 * inherits is the same on every path.
 *
 * Under valgrind, which runs a CLONE_VM clone as a fork, a failed exec is
 * an exit status of 127 without its errno, as with glibc's posix_spawn
 * there; valgrind stops a program whose clone shares the descriptor table
 * without being a thread, so there the table is copied.  Under TSan, which
 * takes the clone for a fork and then resets, in the child, the state it
 * keeps for our threads, every spawn goes through glibc's posix_spawn
 * instead.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "proc/reap.h"
#include "proc/spawn.h"

/* What the child runs on: its own frame and the system calls' wrappers,
 * a few hundred bytes; the rest is margin.  Only what it touches is ever
 * backed by memory. */
#define CHILD_STACK 8192
/* glibc's default when PATH is unset (confstr _CS_PATH). */
#define DEFAULT_PATH "/bin:/usr/bin"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define NOT_INSTRUMENTED __attribute__((no_sanitize("address", "thread", \
                                                    "undefined")))
#else
#define NOT_INSTRUMENTED __attribute__((no_sanitize("undefined")))
#endif

struct shared {
	const struct al_spawn *s;
	char *const *paths;  /* execve these in turn; NULL-terminated */
	bool share;          /* the child shares our descriptor table */
	volatile int *pidfd; /* where the clone puts the child's pidfd */
	volatile int err;    /* the child's errno when it did not exec */
	volatile bool no_unshare; /* close_range could not unshare it */
};

/* Cleared when the kernel refuses CLONE_PIDFD (before Linux 5.2). */
static atomic_bool with_pidfd = true;
/* Whether a child may share our descriptor table: cleared under valgrind
 * and when the kernel cannot unshare it (before Linux 5.9). */
static atomic_bool with_files = true;
static pthread_once_t files_once = PTHREAD_ONCE_INIT;

static void check_valgrind(void)
{
	const char *preload = getenv("LD_PRELOAD");

	if (preload && strstr(preload, "/vgpreload_core"))
		atomic_store(&with_files, false);
}

/* A child's stack, free for the next spawn.  There are as many as spawns
 * ever ran at once, kept for the process's life. */
struct child_stack {
	struct child_stack *next;
	alignas(16) char room[CHILD_STACK];
};
static pthread_mutex_t stacks_lock = PTHREAD_MUTEX_INITIALIZER;
static struct child_stack *stacks;

/* Zeroes are SIG_DFL with no flags and an empty mask in the kernel's
 * sigaction, whatever its layout on this architecture, and an empty set
 * for rt_sigprocmask; longer than either. */
static const unsigned long zeroes[8];

NOT_INSTRUMENTED static int child(void *arg)
{
	struct shared *sh = arg;
	const struct al_spawn *s = sh->s;
	bool eacces = false;
	int err;

	/* First: until this, the descriptor table is every thread's.  The
	 * copy then has the pidfd the clone made for us: the exec would
	 * close it, but under a tight limit it is the one /dev/null needs. */
	if (sh->share) {
		if (syscall(SYS_close_range, AL_SPAWN_HIGH, ~0U,
		            CLOSE_RANGE_UNSHARE) < 0) {
			sh->no_unshare = errno == ENOSYS || errno == EINVAL;
			goto fail;
		}
		if (*sh->pidfd >= 0)
			syscall(SYS_close, *sh->pidfd);
	}
	for (int sig = 1; sig < _NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			syscall(SYS_rt_sigaction, sig, zeroes, NULL, _NSIG / 8);
	if (syscall(SYS_setpgid, 0, 0) < 0)
		goto fail;
	for (int fd = 0; fd < 3; fd++) {
		int from = s->fd[fd];

		if (from == AL_SPAWN_KEEP)
			continue;
		if (from == AL_SPAWN_NULL) {
			from = (int)syscall(SYS_openat, AT_FDCWD, "/dev/null",
			                    (fd ? O_WRONLY : O_RDONLY) |
			                    O_CLOEXEC);
			if (from < 0)
				goto fail;
		}
		/* dup3 refuses a descriptor onto itself: there, only the
		 * close-on-exec flag must go. */
		if (from == fd ? syscall(SYS_fcntl, fd, F_SETFD, 0) < 0
		               : syscall(SYS_dup3, from, fd, 0) < 0)
			goto fail;
	}
	/* A copy of the whole table: the high part goes only now, as one
	 * of the three may have come from there.  Before Linux 5.9 there
	 * is no close_range, and what is not close-on-exec stays. */
	if (!sh->share)
		syscall(SYS_close_range, AL_SPAWN_HIGH, ~0U, 0);
	if (s->cwd && syscall(SYS_chdir, s->cwd) < 0)
		goto fail;
	if (syscall(SYS_rt_sigprocmask, SIG_SETMASK, zeroes, NULL,
	            _NSIG / 8) < 0)
		goto fail;
	/* As execvp: on to the next folder unless the file is there but
	 * will not run; a file found but not allowed is what is said if
	 * none runs. */
	err = ENOENT;
	for (size_t i = 0; sh->paths[i]; i++) {
		syscall(SYS_execve, sh->paths[i], s->argv, s->envp);
		if ((err = errno) == EACCES)
			eacces = true;
		else if (err != ENOENT && err != ENOTDIR && err != ESTALE &&
		         err != ENODEV && err != ETIMEDOUT)
			goto out;
	}
	if (eacces)
		err = EACCES;
	goto out;
fail:
	err = errno;
out:
	sh->err = err;
	syscall(SYS_exit_group, 127);
	return 127;
}

/* Clones the child with our signals blocked; returns the pid, or -1 with errno
 * set. */
static pid_t start(struct shared *sh, bool pidfd, int *fd)
{
	struct child_stack *st;
	sigset_t all, old;
	pid_t pid;
	int err;

	pthread_mutex_lock(&stacks_lock);
	if ((st = stacks))
		stacks = st->next;
	pthread_mutex_unlock(&stacks_lock);
	if (!st && !(st = malloc(sizeof *st)))
		return -1; /* errno is ENOMEM */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	/* The stack grows down on every architecture this runs on. */
	sh->pidfd = fd;
	pid = clone(child, st->room + sizeof st->room,
	            CLONE_VM | CLONE_VFORK | (pidfd ? CLONE_PIDFD : 0) |
	            (sh->share ? CLONE_FILES : 0) | SIGCHLD, sh, fd);
	err = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_mutex_lock(&stacks_lock);
	st->next = stacks;
	stacks = st;
	pthread_mutex_unlock(&stacks_lock);
	errno = err;
	return pid;
}

/* The candidates for s->file, in the order execvp tries them: *out is
 * one, which is one[] (no allocation) for a file that is not looked for,
 * else one allocation to free.  Returns 0 or ENOMEM. */
static int candidates(const struct al_spawn *s, char *one[2], char ***out)
{
	const char *path = getenv("PATH");
	size_t len = strlen(s->file), n = 1, room;
	char **v, *at;

	if (!s->search || strchr(s->file, '/') || !*s->file) {
		one[0] = (char *)s->file;
		one[1] = NULL;
		*out = one;
		return 0;
	}
	if (!path)
		path = DEFAULT_PATH;
	for (const char *p = path; *p; p++)
		n += *p == ':';
	/* Each folder, a '/', the name and its NUL. */
	room = (n + 1) * sizeof *v + strlen(path) + n * (len + 2);
	if (!(v = malloc(room)))
		return ENOMEM;
	at = (char *)(v + n + 1);
	for (size_t i = 0; i < n; i++) {
		const char *end = strchrnul(path, ':');
		size_t dir = (size_t)(end - path);

		v[i] = at;
		/* An empty folder is the working one, as for execvp. */
		memcpy(at, path, dir);
		at += dir;
		if (dir)
			*at++ = '/';
		memcpy(at, s->file, len + 1);
		at += len + 1;
		path = *end ? end + 1 : end;
	}
	v[n] = NULL;
	*out = v;
	return 0;
}

#ifdef __SANITIZE_THREAD__
/* The same child through glibc, for TSan; see the top. */
static int glibc_spawn(const struct al_spawn *s, pid_t *pid, int *pidfd)
{
	posix_spawnattr_t attr;
	posix_spawn_file_actions_t fa;
	sigset_t set;
	int err;

	if ((err = posix_spawnattr_init(&attr)))
		return err;
	if ((err = posix_spawn_file_actions_init(&fa)))
		goto out_attr;
	sigemptyset(&set);
	if ((err = posix_spawnattr_setsigmask(&attr, &set)))
		goto out;
	sigfillset(&set);
	sigdelset(&set, SIGKILL);
	sigdelset(&set, SIGSTOP);
	/* glibc's spawn leaves its own two internal signals (32 and 33)
	 * ignored in the child unless they are in this set, and sigaddset
	 * refuses them: set their bits directly, so the task starts with
	 * every disposition at its default. */
	for (int sig = 32; sig < SIGRTMIN; sig++)
		set.__val[(sig - 1) / (8 * sizeof set.__val[0])] |=
			1UL << ((sig - 1) % (8 * sizeof set.__val[0]));
	if ((err = posix_spawnattr_setsigdefault(&attr, &set)) ||
	    (err = posix_spawnattr_setpgroup(&attr, 0)) ||
	    (err = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP |
	                                          POSIX_SPAWN_SETSIGMASK |
	                                          POSIX_SPAWN_SETSIGDEF)))
		goto out;
	for (int fd = 0; fd < 3 && !err; fd++) {
		if (s->fd[fd] == AL_SPAWN_NULL)
			err = posix_spawn_file_actions_addopen(
				&fa, fd, "/dev/null", fd ? O_WRONLY : O_RDONLY, 0);
		else if (s->fd[fd] != AL_SPAWN_KEEP)
			err = posix_spawn_file_actions_adddup2(&fa, s->fd[fd],
			                                       fd);
	}
	if (!err)
		err = posix_spawn_file_actions_addclosefrom_np(&fa,
		                                               AL_SPAWN_HIGH);
	if (!err && s->cwd)
		err = posix_spawn_file_actions_addchdir_np(&fa, s->cwd);
	if (!err)
		err = (s->search ? posix_spawnp : posix_spawn)(
			pid, s->file, &fa, &attr, s->argv, s->envp);
	if (!err)
		*pidfd = al_spawn_lift(pidfd_open(*pid, 0));
out:
	posix_spawn_file_actions_destroy(&fa);
out_attr:
	posix_spawnattr_destroy(&attr);
	return err;
}
#endif

/* A child that did not exec: its pidfd closed, and reaped. */
static void discard(pid_t p, int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
	al_reap_unborn(p);
}

int al_spawn(const struct al_spawn *s, pid_t *pid, int *pidfd)
{
	struct shared sh = {.s = s};
	char *one[2], **paths;
	int fd = -1, err;
	bool with;
	pid_t p;

#ifdef __SANITIZE_THREAD__
	return glibc_spawn(s, pid, pidfd);
#endif
	if ((err = candidates(s, one, &paths)))
		return err;
	sh.paths = paths;
	pthread_once(&files_once, check_valgrind);
	sh.share = atomic_load_explicit(&with_files, memory_order_relaxed);
	for (int i = 0; i < 3; i++)
		sh.share &= s->fd[i] < AL_SPAWN_HIGH;
	with = atomic_load_explicit(&with_pidfd, memory_order_relaxed);
	for (;;) {
		p = start(&sh, with, &fd);
		err = p < 0 ? errno : sh.err;
		if (p < 0 && err == EINVAL && with) {
			atomic_store_explicit(&with_pidfd, false,
			                      memory_order_relaxed);
			with = false;
		} else if (p >= 0 && sh.no_unshare) {
			atomic_store_explicit(&with_files, false,
			                      memory_order_relaxed);
			sh.share = sh.no_unshare = false;
			sh.err = 0;
			discard(p, &fd);
		} else {
			break;
		}
	}
	if (paths != one)
		free(paths);
	if (p >= 0 && err)
		discard(p, &fd);
	if (err)
		return err;
	*pid = p;
	*pidfd = al_spawn_lift(with ? fd : pidfd_open(p, 0));
	return 0;
}

int al_spawn_lift(int fd)
{
	int high;

	if (fd < 0 || fd >= AL_SPAWN_HIGH)
		return fd;
	high = fcntl(fd, F_DUPFD_CLOEXEC, AL_SPAWN_HIGH);
	if (high < 0)
		return fd;
	close(fd);
	return high;
}
