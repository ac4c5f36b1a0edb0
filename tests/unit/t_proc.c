/*
 * t_proc.c - process tasks: how a wait status becomes an outcome and a
 * sentence, deadlines, cancellation, environment and captured output.
 */
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "alloter.h"
#include "tap.h"

static alloter_cancel *cancel;

static struct alloter_proc *run(const char *cmd, int64_t timeout_ms)
{
	static struct alloter_proc p;

	p = (struct alloter_proc){.command = cmd, .name = "t", .index = 1,
	                          .timeout_ms = timeout_ms, .grace_ms = 300};
	alloter_proc_run(&p, cancel);
	return &p;
}

static const char *said(const struct alloter_proc *p)
{
	static char buf[128];

	return alloter_proc_describe(p, buf, sizeof buf);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(void)
{
	struct alloter_proc *p;
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
	p = run("exit 3", 0);
	is_int(p->result.exit_code, 3, "the exit status is kept");
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
		p = &(struct alloter_proc){.command = "kill -SEGV $$",
		                           .cwd = dir};
		alloter_proc_run(p, cancel);
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
		int reaped = 0;

		prctl(PR_SET_CHILD_SUBREAPER, 1);
		alloter_cancel_new(&cancel, NULL);
		alloter_proc_run(&q, cancel);
		for (int i = 0; i < 100 && !reaped; i++) {
			usleep(20000);
			reaped = alloter_proc_reap_orphans(NULL);
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
		char buf[32] = {0};

		unlink(path);
		alloter_cancel_new(&cancel, NULL);
		alloter_output_new(&out, &oo);
		q.output = out;
		alloter_proc_run(&q, cancel);
		is_int(q.result.out_bytes, 588895, "every byte is counted");
		lseek(fd, 0, SEEK_SET);
		ok(read(fd, buf, 8) == 8 && strncmp(buf, "n\t1\nn\t2\n", 8) == 0,
		   "lines are tagged");
		is_int(lseek(fd, 0, SEEK_END), 588895 + 2 * 100000 + 4,
		       "the spilled block arrives whole, tags and stderr too");
		alloter_output_free(out);
		alloter_cancel_free(cancel);
		close(fd);
	}
	return tap_done();
}
