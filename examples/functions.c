/*
 * functions.c - the library without the command: three C functions run
 * concurrently, at most two at a time, under a one-second deadline.  The
 * slow one notices the deadline through its cancellation handle.
 *
 *   cc functions.c $(pkg-config --cflags --libs alloter)
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <alloter.h>

/* Waits ms milliseconds, or until the batch is cancelled. */
static int work(void *arg, alloter_cancel *cancel)
{
	struct pollfd p = {.fd = alloter_cancel_fd(cancel), .events = POLLIN};
	int ms = (int)(intptr_t)arg;

	if (poll(&p, 1, ms) > 0)
		return -ECANCELED; /* the library's convention: 0 or -errno */
	return 0;
}

int main(void)
{
	struct alloter_task tasks[] = {
		{work, (void *)(intptr_t)100},
		{work, (void *)(intptr_t)200},
		{work, (void *)(intptr_t)60000}, /* too slow for the deadline */
	};
	struct alloter_outcome out[3];
	struct alloter_exec_opts opts = ALLOTER_EXEC_OPTS_INIT;
	struct alloter_exec_result res = ALLOTER_EXEC_RESULT_INIT;
	alloter_pool *pool = NULL; /* NULL until made: free(NULL) is safe */
	int err;

	opts.limit = 2;
	opts.timeout_ms = 1000;
	if ((err = alloter_pool_new(&pool, 0))) {
		fprintf(stderr, "functions: cannot make a pool: %s\n",
		        strerror(-err));
		return 1;
	}
	if ((err = alloter_exec(pool, tasks, 3, &opts, out, &res))) {
		fprintf(stderr, "functions: cannot run the batch: %s\n",
		        strerror(-err));
		alloter_pool_free(pool);
		return 1;
	}
	/* CANCELLED: it returned after the batch's handle fired (here, the
	 * deadline), which is not a failure of its own. */
	for (int i = 0; i < 3; i++)
		printf("task %d: %s\n", i + 1,
		       out[i].state == ALLOTER_SUCCEEDED ? "succeeded"
		       : out[i].state == ALLOTER_CANCELLED ? "cancelled"
		       : out[i].state == ALLOTER_NOT_RUN   ? "not run"
		                                           : "failed");
	printf("timed out: %s\n",
	       res.stop_reason == ALLOTER_CANCEL_TIMEOUT ? "yes" : "no");
	alloter_pool_free(pool);
	return 0;
}
