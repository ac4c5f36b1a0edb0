/*
 * t_stdin.c - a process task's stdin data of any size: delivered whole as
 * the task reads it, then EOF; dropped without harm when the task stops
 * reading early, with no SIGPIPE left for the caller.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloter.h"
#include "tap.h"

#define BIG (8u << 20)

static void test_big_data(void)
{
	char *data = malloc(BIG), out[64] = "";
	char path[] = "/tmp/t_stdin.XXXXXX";
	int fd = mkstemp(path);
	struct alloter_proc p = {.command = "wc -c", .stdin_data = data,
	                         .stdin_len = BIG, .timeout_ms = 30000};
	struct alloter_proc_result r;
	alloter_output *o;
	struct alloter_output_opts oo = {.mode = ALLOTER_OUTPUT_GROUP,
	                                 .out_fd = fd, .err_fd = 2};

	memset(data, 'x', BIG);
	alloter_output_new(&o, &oo);
	p.output = o;
	is_int(alloter_proc_run(&p, NULL, &r), 0, "8 MiB of stdin: it runs");
	alloter_output_free(o);
	pread(fd, out, sizeof out - 1, 0);
	ok(r.status == ALLOTER_PROC_EXITED && r.exit_code == 0,
	   "and ends well");
	is_int(strtol(out, NULL, 10), BIG, "wc saw every byte, then EOF");
	close(fd);
	unlink(path);
	free(data);
}

static void test_reader_leaves(void)
{
	char *data = malloc(BIG);
	struct alloter_proc p = {.command = "head -c 10 >/dev/null",
	                         .stdin_data = data, .stdin_len = BIG,
	                         .timeout_ms = 30000};
	struct alloter_proc_result r;
	sigset_t block, pending;

	memset(data, 'y', BIG);
	sigemptyset(&block);
	sigaddset(&block, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &block, NULL);
	is_int(alloter_proc_run(&p, NULL, &r), 0,
	       "a task that reads 10 bytes of 8 MiB: it runs");
	ok(r.status == ALLOTER_PROC_EXITED && r.exit_code == 0,
	   "and ends well, the rest dropped");
	sigpending(&pending);
	ok(!sigismember(&pending, SIGPIPE), "no SIGPIPE is left pending");
	free(data);
}

int main(void)
{
	test_big_data();
	test_reader_leaves();
	printf("1..%d\n", tap_n);
	return tap_failed != 0;
}
