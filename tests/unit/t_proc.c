/*
 * t_proc.c - process tasks: how a wait status becomes an outcome and a
 * sentence, deadlines, cancellation, environment and captured output.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "alloter.h"
#include "clock.h"
#include "tap.h"

static alloter_cancel *cancel;

/* A description and what came of running it. */
struct ran {
	struct alloter_proc p;
	struct alloter_proc_result result;
	int ret;
};

static struct ran *run(const char *cmd, int64_t timeout_ms)
{
	static struct ran r;

	r.p = (struct alloter_proc){.command = cmd, .name = "t", .index = 1,
	                            .timeout_ms = timeout_ms, .grace_ms = 300};
	r.ret = alloter_proc_run(&r.p, cancel, &r.result);
	return &r;
}

static const char *said(const struct ran *r)
{
	static char buf[128];

	return alloter_proc_describe(&r->p, &r->result, buf, sizeof buf);
}

/* Runs q with an output of mode (lines tagged if tag) whose stdout and
 * stderr are one temporary file, and reads back what reached it into buf,
 * NUL-ended.  Returns the bytes read, or -1. */
static ssize_t output_of(struct alloter_proc *q, enum alloter_output_mode mode,
                         bool tag, char *buf, size_t len)
{
	char path[] = "/tmp/t_proc.XXXXXX";
	int fd = mkstemp(path);
	alloter_output *out;
	struct alloter_output_opts oo = {.mode = mode, .out_fd = fd,
	                                 .err_fd = fd, .tag = tag};
	ssize_t n = -1;

	buf[0] = '\0';
	if (fd < 0)
		return -1;
	unlink(path);
	if (alloter_output_new(&out, &oo) == 0) {
		q->output = out;
		alloter_proc_run(q, NULL, NULL);
		alloter_output_flush(out);
		alloter_output_free(out);
		q->output = NULL; /* q may run again */
		if (lseek(fd, 0, SEEK_SET) == 0 &&
		    (n = read(fd, buf, len - 1)) >= 0)
			buf[n] = '\0';
	}
	close(fd);
	return n;
}

#define DEPTH_STACK (1u << 20)

/* The sanitizers' frames are another size: stack depth is not looked at
 * under them, but the code that measures it is still compiled. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED true
#else
#define SANITIZED false
#endif

static void *run_on_fresh(void *arg)
{
	alloter_proc_run(arg, NULL, NULL);
	return NULL;
}

/* How far down its stack a thread that runs q touches: the thread gets
 * a fresh stack, and mincore says which of its pages came into use.  A
 * thread per running task keeps those pages for as long as it lives.
 * Returns 0 when it could not tell. */
static size_t stack_depth(struct alloter_proc *q)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), n = DEPTH_STACK / page, i;
	unsigned char *vec = malloc(n);
	void *mem = mmap(NULL, DEPTH_STACK, PROT_READ | PROT_WRITE,
	                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	pthread_attr_t attr;
	pthread_t t;
	bool done = false;

	if (vec && mem != MAP_FAILED && pthread_attr_init(&attr) == 0) {
		done = pthread_attr_setstack(&attr, mem, DEPTH_STACK) == 0 &&
		       pthread_create(&t, &attr, run_on_fresh, q) == 0 &&
		       pthread_join(t, NULL) == 0 &&
		       mincore(mem, DEPTH_STACK, vec) == 0;
		pthread_attr_destroy(&attr);
	}
	for (i = 0; done && i < n && !(vec[i] & 1); i++)
		;
	if (mem != MAP_FAILED)
		munmap(mem, DEPTH_STACK);
	free(vec);
	return done ? (n - i) * page : 0;
}

/* A kernel without close_range (before Linux 5.9), for the thread that
 * calls this and its children: seccomp makes the call fail with ENOSYS.
 * Returns whether it could. */
static bool without_close_range(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		         offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_close_range, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = sizeof f / sizeof f[0], .filter = f};

	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
	       prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0;
}

/* Runs a task that prints a line, in group mode, on a thread of its own
 * that has no close_range; *(char **)arg gets what reached the output. */
static void *run_old_kernel(void *arg)
{
	static char buf[64];
	struct alloter_proc q = {.command = "echo old kernel", .name = "o"};

	buf[0] = '\0';
	if (without_close_range())
		output_of(&q, ALLOTER_OUTPUT_GROUP, false, buf, sizeof buf);
	*(char **)arg = buf;
	return NULL;
}

/* Late tags for the test below: a place found, or none. */
static const char *late_place(void *arg)
{
	++*(int *)arg;
	return "n1:late";
}

static const char *no_place(void *arg)
{
	++*(int *)arg;
	return NULL;
}

int main(void)
{
	struct ran *p;
	struct rlimit core;
	int64_t t0;

	/* No core files from the crash tests, but keep the hard limit so
	 * the core-dump test can raise it again. */
	getrlimit(RLIMIT_CORE, &core);
	core.rlim_cur = 0;
	setrlimit(RLIMIT_CORE, &core);
	alloter_cancel_new(&cancel, NULL);

	p = run("exit 0", 0);
	ok(p->result.status == ALLOTER_PROC_EXITED && p->result.exit_code == 0,
	   "exit 0 is success");
	is_int(p->ret, 0, "a command that ran returns 0");
	p = run("exit 3", 0);
	is_int(p->result.exit_code, 3, "the exit status is kept");
	is_int(p->ret, 0, "whatever its exit status");
	is_str(said(p), "exit status 3", "and told");
	p = run("kill -SEGV $$", 0);
	is_int(p->result.signo, SIGSEGV, "a crash keeps its signal");
	is_str(said(p), "killed by SIGSEGV", "and is told by name");
	p = run("kill -ABRT $$", 0);
	is_str(said(p), "killed by SIGABRT", "SIGABRT too");
	{
		/* A core dump, where the kernel writes it to the task's
		 * folder (core_pattern "core"); elsewhere only the flag's
		 * absence is checked. */
		struct rlimit unl = {core.rlim_max, core.rlim_max};
		char dir[] = "/tmp/t_proc_core.XXXXXX", pat[64] = "";
		int fd = open("/proc/sys/kernel/core_pattern", O_RDONLY);

		if (fd >= 0 && read(fd, pat, sizeof pat - 1) < 0)
			pat[0] = '\0';
		if (fd >= 0)
			close(fd);
		mkdtemp(dir);
		setrlimit(RLIMIT_CORE, &unl);
		p->p = (struct alloter_proc){.command = "kill -SEGV $$",
		                             .cwd = dir};
		alloter_proc_run(&p->p, cancel, &p->result);
		if (strcmp(pat, "core\n") == 0) {
			ok(p->result.core_dumped, "a core dump is noticed");
			is_str(said(p), "killed by SIGSEGV (core dumped)",
			       "and told");
		} else {
			ok(1, "# SKIP core_pattern is not 'core'");
			ok(1, "# SKIP core_pattern is not 'core'");
		}
		setrlimit(RLIMIT_CORE, &core);
		char f[64];
		snprintf(f, sizeof f, "%s/core", dir);
		unlink(f);
		rmdir(dir);
	}
	p = run("exec /no/such/program", 0);
	is_int(p->result.exit_code, 127, "a missing program is exit 127");
	{
		struct alloter_proc q = {.command = "true", .cwd = "/no/such"};
		struct alloter_proc_result r;

		is_int(alloter_proc_run(&q, cancel, &r), -ENOENT,
		       "a command that cannot start returns its -errno");
		ok(r.status == ALLOTER_PROC_SPAWN_FAILED && r.err == -ENOENT,
		   "and its result says so, with the same negative value");
		is_str(alloter_proc_describe(&q, &r, (char[64]){0}, 64),
		       "cannot start: No such file or directory", "in words");
	}
	{
		/* One description, run twice: it is only read. */
		struct alloter_proc q = {.command = "exit 4"};
		struct alloter_proc_result r1, r2;

		alloter_proc_run(&q, NULL, &r1);
		alloter_proc_run(&q, NULL, &r2);
		ok(r1.exit_code == 4 && r2.exit_code == 4,
		   "a description runs again, with no handle at all");
	}
	{
		/* A leader that leaves its own group: kill(-pgid) finds no
		 * one, so the deadline reaches it through its pid. */
		t0 = now_ms();
		p = run("exec perl -e 'setpgrp(0, getpgrp(getppid())); "
		        "sleep 30'", 300);
		ok(now_ms() - t0 < 5000,
		   "a leader that left its group still meets its deadline");
		is_int(p->result.status, ALLOTER_PROC_TIMED_OUT, "as timed out");
	}

	t0 = now_ms();
	p = run("sleep 10", 200);
	ok(now_ms() - t0 < 3000, "a task deadline ends the task");
	is_int(p->result.status, ALLOTER_PROC_TIMED_OUT, "as timed out");
	is_str(said(p), "timed out after 200ms", "and says after how long");

	t0 = now_ms();
	p = run("trap '' TERM; sleep 10; sleep 10", 200);
	ok(now_ms() - t0 < 3000, "SIGKILL follows a SIGTERM that is ignored");

	p = run("test \"$ALLOTER_TASK_INDEX/$ALLOTER_TASK_NAME\" = 1/t", 0);
	is_int(p->result.exit_code, 0, "the task sees its index and name");
	{
		struct alloter_proc q = {
			.command = "test \"$ALLOTER_TASK_INDEX/"
			           "$ALLOTER_TASK_SLOT/$ALLOTER_TASK_NAME\" "
			           "= 18446744073709551615/10/a=b",
			.name = "a=b", .index = SIZE_MAX, .slot = 10};
		struct alloter_proc_result r;

		alloter_proc_run(&q, NULL, &r);
		is_int(r.exit_code, 0, "the largest index, a slot with a "
		       "zero, a name with an =");
		q.command = "test \"$ALLOTER_TASK_INDEX/"
		            "${ALLOTER_TASK_SLOT-unset}/$ALLOTER_TASK_NAME\" "
		            "= 0/unset/";
		q.name = NULL;
		q.index = q.slot = 0;
		alloter_proc_run(&q, NULL, &r);
		is_int(r.exit_code, 0, "index 0, no slot, no name");
	}
	p = run("read x", 0);
	is_int(p->result.exit_code, 1, "stdin is /dev/null");
	p = run("test \"$(grep SigBlk /proc/self/status | tr -d '\\t')\" = "
	        "SigBlk:0000000000000000", 0);
	is_int(p->result.exit_code, 0, "the signal mask is empty");

	alloter_cancel_fire(cancel, ALLOTER_CANCEL_FAILURE);
	t0 = now_ms();
	p = run("sleep 10", 0);
	ok(now_ms() - t0 < 3000, "a fired handle terminates the task");
	is_str(said(p), "terminated: another task failed", "and says why");
	alloter_cancel_free(cancel);

	/* A subreaper inherits the task's orphan; the sweep reaps it, and
	 * leaves a running task's own leader alone. */
	{
		/* The pause lets setsid run before the leader exits. */
		struct alloter_proc q = {.command = "setsid sleep 0.3 & sleep 0.1"};
		struct alloter_proc_result r;
		int reaped = 0;

		is_int(alloter_reaper_sweep(NULL), -EPERM,
		       "the sweep is off until the program opts in");
		is_int(alloter_reaper_start(), 0, "the program opts in");
		alloter_cancel_new(&cancel, NULL);
		alloter_proc_run(&q, cancel, &r);
		for (int i = 0; i < 100 && !reaped; i++) {
			usleep(20000);
			reaped = alloter_reaper_sweep(NULL);
		}
		is_int(reaped, 1, "an orphan of a task is reaped by the sweep");
		alloter_cancel_free(cancel);
		prctl(PR_SET_CHILD_SUBREAPER, 0);
	}

	/* Captured output in group mode: bytes counted, block written. */
	{
		char path[] = "/tmp/t_proc.XXXXXX";
		int fd = mkstemp(path);
		alloter_output *out;
		struct alloter_output_opts oo = {.mode = ALLOTER_OUTPUT_GROUP,
		                                 .out_fd = fd, .err_fd = fd,
		                                 .tag = true};
		struct alloter_proc q = {.command = "seq 1 100000; echo e >&2",
		                         .name = "n"};
		struct alloter_proc_result r;
		char buf[32] = {0};

		unlink(path);
		alloter_cancel_new(&cancel, NULL);
		alloter_output_new(&out, &oo);
		q.output = out;
		alloter_proc_run(&q, cancel, &r);
		is_int(r.out_bytes, 588895, "every byte is counted");
		alloter_output_flush(out);
		lseek(fd, 0, SEEK_SET);
		ok(read(fd, buf, 8) == 8 && strncmp(buf, "n\t1\nn\t2\n", 8) == 0,
		   "lines are tagged");
		is_int(lseek(fd, 0, SEEK_END), 588895 + 2 * 100000 + 4,
		       "the spilled block arrives whole, tags and stderr too");
		alloter_output_free(out);
		alloter_cancel_free(cancel);
		close(fd);
	}

	/* A late tag replaces the tag before any line is tagged, and is
	 * asked for once; a late tag of NULL keeps the tag there was. */
	for (int late = 0; late < 2; late++) {
		int asked = 0;
		struct alloter_proc q = {.command = "echo a; sleep 0.05; echo b",
		                         .tag = "early",
		                         .late_tag = late ? late_place : no_place,
		                         .late_tag_arg = &asked};
		char buf[64];

		ok(output_of(&q, ALLOTER_OUTPUT_LINE, true, buf, sizeof buf) > 0,
		   "the tagged lines are there");
		is_str(buf, late ? "n1:late\ta\nn1:late\tb\n"
		                 : "early\ta\nearly\tb\n",
		       late ? "every line has the late tag"
		            : "a NULL late tag keeps the tag");
		is_int(asked, 1, "the late tag is asked for once");
	}

	/* The end of stderr is kept when asked for, across reads, in raw
	 * mode too (read and passed on), and only then. */
	{
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
		alloter_output *out;
		struct alloter_output_opts oo = {.mode = ALLOTER_OUTPUT_RAW,
		                                 .out_fd = null, .err_fd = null};
		struct alloter_proc q = {
			.command = "head -c 100000 /dev/zero | tr '\\0' x >&2; "
			           "sleep 0.05; printf 'the end\\n' >&2",
			.keep_err_tail = true};
		struct alloter_proc_result r;

		alloter_output_new(&out, &oo);
		q.output = out;
		alloter_proc_run(&q, NULL, &r);
		is_int((int)r.err_tail_len, ALLOTER_ERR_TAIL, "a full tail is kept");
		ok(r.err_tail_len == ALLOTER_ERR_TAIL &&
		   memcmp(r.err_tail + ALLOTER_ERR_TAIL - 8, "the end\n", 8) == 0 &&
		   r.err_tail[0] == 'x', "it is the end of stderr, the last write last");
		is_int((int)r.err_bytes, 100008, "every byte was read");
		q.command = "echo ab >&2";
		alloter_proc_run(&q, NULL, &r);
		ok(r.err_tail_len == 3 && memcmp(r.err_tail, "ab\n", 3) == 0,
		   "a short stderr is kept whole");
		q.keep_err_tail = false;
		alloter_proc_run(&q, NULL, &r);
		is_int((int)r.err_tail_len, 0, "no tail unless asked for");
		alloter_output_free(out);
		close(null);
	}

	/* Raw output: the task writes to the output's descriptors itself. */
	{
		struct alloter_proc q = {.command = "echo out; echo err >&2"};
		char buf[16];

		ok(output_of(&q, ALLOTER_OUTPUT_RAW, false, buf, sizeof buf) == 8 &&
		   strcmp(buf, "out\nerr\n") == 0,
		   "raw output goes to out_fd and err_fd");
	}
	/* The command is looked for along PATH as execvp does: past a file
	 * there that may not be run, to one that may; a file found but not
	 * allowed is what is said when none runs; an empty entry is the
	 * task's own folder. */
	{
		char dir[] = "/tmp/t_proc_path.XXXXXX", a[64], b[64], path[160];
		char *argv[] = {"t_proc_prog", NULL}, buf[16];
		const char *old = getenv("PATH");
		char *keep = old ? strdup(old) : NULL;
		struct alloter_proc q = {.argv = argv};
		struct alloter_proc_result r;
		FILE *f;

		mkdtemp(dir);
		snprintf(a, sizeof a, "%s/a", dir);
		snprintf(b, sizeof b, "%s/b", dir);
		mkdir(a, 0700);
		mkdir(b, 0700);
		snprintf(path, sizeof path, "%s/t_proc_prog", a);
		if ((f = fopen(path, "w"))) {
			fputs("#!/bin/sh\necho a\n", f);
			fclose(f);
		}
		chmod(path, 0600);
		snprintf(path, sizeof path, "%s/t_proc_prog", b);
		if ((f = fopen(path, "w"))) {
			fputs("#!/bin/sh\necho b\n", f);
			fclose(f);
		}
		chmod(path, 0700);
		snprintf(path, sizeof path, "/nonexistent:%s:%s", a, b);
		setenv("PATH", path, 1);
		ok(output_of(&q, ALLOTER_OUTPUT_RAW, false, buf, sizeof buf) == 2 &&
		   strcmp(buf, "b\n") == 0,
		   "PATH: a file that may not be run is passed over");
		snprintf(path, sizeof path, "%s:/nonexistent", a);
		setenv("PATH", path, 1);
		is_int(alloter_proc_run(&q, NULL, &r), -EACCES,
		       "PATH: one found but not allowed is EACCES");
		is_int(r.status, ALLOTER_PROC_SPAWN_FAILED, "and no spawn");
		setenv("PATH", "/nonexistent", 1);
		is_int(alloter_proc_run(&q, NULL, &r), -ENOENT,
		       "PATH: none found is ENOENT");
		setenv("PATH", "/nonexistent:", 1);
		q.cwd = b;
		ok(output_of(&q, ALLOTER_OUTPUT_RAW, false, buf, sizeof buf) == 2 &&
		   strcmp(buf, "b\n") == 0,
		   "PATH: an empty entry is the task's folder");
		if (keep)
			setenv("PATH", keep, 1);
		else
			unsetenv("PATH");
		free(keep);
		snprintf(path, sizeof path, "rm -rf %s", dir);
		ok(system(path) == 0, "the test's folder is removed");
	}

	/* The task starts with no signal ignored or blocked, whatever
	 * ours are. */
	{
		char *argv[] = {"grep", "-E", "^Sig(Blk|Ign)",
		                "/proc/self/status", NULL};
		struct alloter_proc q = {.argv = argv};
		struct sigaction ign = {.sa_handler = SIG_IGN}, was;
		sigset_t usr2, mask;
		char buf[128];

		sigemptyset(&usr2);
		sigaddset(&usr2, SIGUSR2);
		sigaction(SIGUSR1, &ign, &was);
		sigprocmask(SIG_BLOCK, &usr2, &mask);
		output_of(&q, ALLOTER_OUTPUT_RAW, false, buf, sizeof buf);
		is_str(buf, "SigBlk:\t0000000000000000\n"
		            "SigIgn:\t0000000000000000\n",
		       "no signal blocked or ignored in the task");
		sigprocmask(SIG_SETMASK, &mask, NULL);
		sigaction(SIGUSR1, &was, NULL);
	}
	/* Descriptors: a task inherits ours below 256 that are not
	 * close-on-exec, none from 256 up; the pidfd and pipes we hold
	 * for a running task are up there, so that a spawn copies only
	 * the table below. */
	{
		char buf[256];
		int low = open("/dev/null", O_RDONLY), high = -1;
		struct alloter_proc q = {
			.command = "for f in 200 300; do "
			           "[ -e /proc/self/fd/$f ] && echo $f; done"};

		if (low >= 0 && dup2(low, 200) == 200 && dup2(low, 300) == 300)
			high = 300;
		output_of(&q, ALLOTER_OUTPUT_GROUP, false, buf, sizeof buf);
		ok(high == 300 && strcmp(buf, "200\n") == 0,
		   "a task inherits descriptor 200, not 300 (it saw: %s)", buf);
		close(200);
		close(300);

		/* The task names our descriptors on its stdout pipe and
		 * our pidfds: each 256 or more. */
		q.command = "me=$(readlink /proc/$$/fd/1); n=0; "
		            "for f in /proc/$PPID/fd/*; do "
		            "l=$(readlink $f); case $l in "
		            "\"$me\"|'anon_inode:[pidfd]') n=$((n+1)); "
		            "[ ${f##*/} -ge 256 ] || echo low ${f##*/};; "
		            "esac; done; echo $n";
		output_of(&q, ALLOTER_OUTPUT_GROUP, false, buf, sizeof buf);
		ok(strcmp(buf, "2\n") == 0,
		   "a running task's pipe and pidfd are ours at 256 and "
		   "up (%s)", buf);

		/* Raw output onto a descriptor up there: the child cannot
		 * share our table then, and copies it whole; 300 itself is
		 * still not the task's. */
		char path[] = "/tmp/t_proc.XXXXXX";
		int fd = mkstemp(path);
		alloter_output *out = NULL;
		struct alloter_output_opts oo = {
			.mode = ALLOTER_OUTPUT_RAW, .out_fd = 300,
			.err_fd = 300};
		ssize_t n = -1;

		unlink(path);
		buf[0] = '\0';
		if (fd >= 0 && dup2(fd, 300) == 300 &&
		    alloter_output_new(&out, &oo) == 0) {
			q = (struct alloter_proc){
				.command = "echo up there; "
				           "[ -e /proc/self/fd/300 ] && echo 300",
				.output = out};
			alloter_proc_run(&q, NULL, NULL);
			alloter_output_flush(out);
			alloter_output_free(out);
			if (lseek(fd, 0, SEEK_SET) == 0 &&
			    (n = read(fd, buf, sizeof buf - 1)) >= 0)
				buf[n] = '\0';
		}
		is_str(buf, "up there\n",
		       "raw output onto descriptor 300 reaches it, and the "
		       "task has no descriptor 300");
		close(300);
		if (fd >= 0)
			close(fd);
		if (low >= 0)
			close(low);
	}

	/* A task that writes a line or nothing keeps its thread's stack
	 * shallow: no 64 KiB read buffer, no printf on its way. */
	for (int m = 0; !SANITIZED && m < 3; m++) {
		static const enum alloter_output_mode mode[] = {
			ALLOTER_OUTPUT_GROUP, ALLOTER_OUTPUT_LINE,
			ALLOTER_OUTPUT_RAW};
		int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
		struct alloter_output_opts oo = {.mode = mode[m], .out_fd = fd,
		                                 .err_fd = fd, .tag = m == 1};
		alloter_output *out = NULL;

		if (alloter_output_new(&out, &oo) == 0) {
			struct alloter_proc q = {.command = "echo a line",
			                         .name = "d", .output = out};
			struct alloter_proc quiet = {
				.command = "true", .name = "d", .output = out};
			size_t said = stack_depth(&q);
			size_t none = stack_depth(&quiet);

			ok(said > 0 && said <= 16384,
			   "mode %d: a task that writes a line touches %zu "
			   "bytes of its thread's stack (at most 16 KiB)", m,
			   said);
			ok(none > 0 && none <= 16384,
			   "mode %d: a quiet one, %zu bytes", m, none);
			alloter_output_free(out);
		}
		close(fd);
	}
	/* Last, as it leaves every later spawn copying the whole table: a
	 * kernel that cannot unshare it is found out by the first spawn,
	 * which is tried again without sharing. */
	{
		pthread_t t;
		char *got = NULL;

		if (pthread_create(&t, NULL, run_old_kernel, &got) == 0)
			pthread_join(t, NULL);
		is_str(got ? got : "", "old kernel\n",
		       "without close_range, a task still runs and its output "
		       "arrives");
	}
	return tap_done();
}
