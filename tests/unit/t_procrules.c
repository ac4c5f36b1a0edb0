/*
 * t_procrules.c - process tasks' rules: one rule for a program that cannot
 * be started, stdin data delivered then EOF (and the separate hold flag),
 * NULL handle and result, a saturated deadline, and a task's end that does
 * not wait for zombies of its group.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alloter.h"
#include "clock.h"
#include "tap.h"

/* Runs p with descriptor 2 sent to a file; returns what was written to it
 * (static). */
static const char *stderr_of(const struct alloter_proc *p,
                             struct alloter_proc_result *r, int *ret)
{
	static char buf[256];
	char path[] = "/tmp/t_procrules.XXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	ssize_t n;

	unlink(path);
	dup2(fd, 2);
	*ret = alloter_proc_run(p, NULL, r);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, buf, sizeof buf - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	close(fd);
	return buf;
}

static void test_not_found(void)
{
	char *argv[] = {"no-such-program-t_procrules", "x", NULL};
	struct alloter_proc p = {.argv = argv};
	struct alloter_proc_result r;
	const char *said;
	int ret;

	said = stderr_of(&p, &r, &ret);
	ok(r.status == ALLOTER_PROC_SPAWN_FAILED && r.err == -ENOENT &&
	   ret == -ENOENT, "a program that is not found is SPAWN_FAILED, "
	   "-ENOENT, as a bad cwd is");
	is_str(said, "", "and the library prints nothing");

	p = (struct alloter_proc){.command = "true", .cwd = "/no/such/dir"};
	ok(alloter_proc_run(&p, NULL, &r) == -ENOENT &&
	   r.status == ALLOTER_PROC_SPAWN_FAILED && r.err == -ENOENT,
	   "a bad cwd: the same rule, a negative errno");
	p = (struct alloter_proc){.command = "true", .shell = "/no/shell"};
	ok(alloter_proc_run(&p, NULL, &r) == -ENOENT && r.err == -ENOENT,
	   "a bad shell: the same");

	p = (struct alloter_proc){.argv = argv, .shell_status = true};
	said = stderr_of(&p, &r, &ret);
	ok(ret == 0 && r.status == ALLOTER_PROC_EXITED && r.exit_code == 127,
	   "with shell_status it ends as under a shell: exit status 127");
	ok(strstr(said, "no-such-program-t_procrules: not found") != NULL,
	   "and the shell's message is the task's stderr (%s)", said);
}

static void test_stdin(void)
{
	struct alloter_proc p = {.command = "test \"$(cat)\" = hello",
	                         .stdin_data = "hello", .stdin_len = 5,
	                         .timeout_ms = 5000};
	struct alloter_proc_result r;
	int64_t t0;

	alloter_proc_run(&p, NULL, &r);
	ok(r.status == ALLOTER_PROC_EXITED && r.exit_code == 0,
	   "stdin_data without stdin_pipe is delivered, then EOF");
	p.stdin_pipe = true;
	alloter_proc_run(&p, NULL, &r);
	ok(r.status == ALLOTER_PROC_EXITED && r.exit_code == 0,
	   "with stdin_pipe too: cat sees EOF");
	p = (struct alloter_proc){.command = "wc -c >/dev/null",
	                          .stdin_pipe = true, .timeout_ms = 5000};
	alloter_proc_run(&p, NULL, &r);
	ok(r.status == ALLOTER_PROC_EXITED && r.exit_code == 0,
	   "an empty stdin_pipe is EOF at once");
	p = (struct alloter_proc){.command = "cat >/dev/null",
	                          .stdin_data = "x", .stdin_len = 1,
	                          .stdin_hold = true, .timeout_ms = 300,
	                          .grace_ms = 100};
	t0 = now_ms();
	alloter_proc_run(&p, NULL, &r);
	ok(r.status == ALLOTER_PROC_TIMED_OUT && now_ms() - t0 >= 250,
	   "stdin_hold keeps it open until the task ends");
}

static void test_null_and_saturation(void)
{
	struct alloter_proc p = {.command = "exit 4"};
	struct alloter_proc_call call = {.proc = &p};

	is_int(alloter_proc_run(&p, NULL, NULL), 0, "a NULL handle and a "
	       "NULL result are allowed");
	is_int(alloter_proc_task(&call, NULL), 1, "a process task without a "
	       "handle");
	is_int(call.result.exit_code, 4, "keeps its result");
	is_int(alloter_proc_run(NULL, NULL, NULL), -EINVAL, "a NULL "
	       "description is -EINVAL");
	p = (struct alloter_proc){0};
	is_int(alloter_proc_run(&p, NULL, NULL), -EINVAL, "and one with "
	       "nothing to run");

	p = (struct alloter_proc){.command = "sleep 0.1",
	                          .timeout_ms = INT64_MAX,
	                          .grace_ms = INT64_MAX};
	alloter_proc_run(&p, NULL, &call.result);
	ok(call.result.status == ALLOTER_PROC_EXITED &&
	   call.result.exit_code == 0, "timeout_ms INT64_MAX never times out");
}

/* A member of the task's group whose parent is alive, outside the group,
 * and never reaps it: its zombie stays in the group as long as the test
 * wants, as orphans' zombies do under an init that reaps slowly. */
static void test_zombies(void)
{
	char file[] = "/tmp/t_procrules.pid.XXXXXX";
	char cmd[128];
	int fd = mkstemp(file);
	pid_t holder;
	struct alloter_proc p = {.command = cmd, .grace_ms = 300};
	struct alloter_proc_result r;
	int64_t t0;

	close(fd);
	snprintf(cmd, sizeof cmd, "echo $$ > %s; sleep 0.5", file);
	holder = fork();
	if (holder == 0) {
		/* Async-signal-safe calls only from here. */
		if (fork() == 0) {
			char buf[32];
			pid_t g = 0;

			for (int i = 0; i < 2000 && g <= 0; i++) {
				int f = open(file, O_RDONLY | O_CLOEXEC);
				ssize_t n = f >= 0 ? read(f, buf, sizeof buf - 1) : 0;

				if (f >= 0)
					close(f);
				g = 0;
				for (ssize_t k = 0; k < n && buf[k] >= '0' &&
				                    buf[k] <= '9'; k++)
					g = g * 10 + (buf[k] - '0');
				if (g <= 0)
					usleep(1000);
			}
			if (g > 0 && setpgid(0, g) == 0)
				pause(); /* until the task's end kills us */
			_exit(1);
		}
		for (;;)
			pause(); /* never reaps its child */
	}
	t0 = now_ms();
	alloter_proc_run(&p, NULL, &r);
	ok(r.status == ALLOTER_PROC_EXITED && r.exit_code == 0, "the task "
	   "exits 0");
	ok(now_ms() - t0 < 1200, "its end does not wait for a zombie left in "
	   "its group (%lld ms)", (long long)(now_ms() - t0));
	kill(holder, SIGKILL);
	waitpid(holder, NULL, 0);
	unlink(file);
}

int main(void)
{
	alarm(120);
	test_not_found();
	test_stdin();
	test_null_and_saturation();
	test_zombies();
	return tap_done();
}
