/*
 * attempt.c - building an attempt from a job and its placement, and the
 * tasks that run it: the process itself, ssh paced on its host, srun, or
 * one that fails at once without running anything.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attempt.h"
#include "clock.h"
#include "pacing.h"
#include "remote.h"
#include "results.h"

/* The tag "where:name" of an attempt that runs elsewhere, in a->tag. */
static int where_tag(struct attempt *a, const char *where)
{
	if (asprintf(&a->tag, "%s:%s", where,
	             a->job->tag ? a->job->tag : a->job->name) < 0) {
		a->tag = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* The tag of a step whose node Slurm chose: its prolog has said which by
 * the time the task's first output is read. */
static const char *slurm_late_tag(void *arg)
{
	struct attempt *a = arg;
	const char *node = slurm_step_node(&a->step);

	return node && !where_tag(a, node) ? a->tag : NULL;
}

/* The ssh side: the wrapper on ssh's command line, the command and its
 * environment as the payload on its stdin, ssh's own messages in a file. */
static int set_up_remote(const struct run *r, struct attempt *a)
{
	const struct job *j = a->job;
	int err;

	if ((err = remote_log_path(&a->log)))
		return err;
	a->rargv = remote_argv(r->hosts, a->host, a->log, NULL);
	a->payload = remote_payload(a->command, r->set.shell, j->env,
	                            j->index, a->slot, j->name, &a->proc.stdin_len);
	if (!a->rargv || !a->payload || where_tag(a, a->host->name))
		return -ENOMEM;
	a->proc.tag = a->tag;
	a->proc.argv = a->rargv;
	a->proc.stdin_hold = true;
	a->proc.stdin_data = a->payload;
	a->proc.name = j->name;
	return 0;
}

/* srun, which takes the environment along to the task; the tag names the
 * node: the allocation's one, known before Slurm places the step, or the
 * one Slurm chose, once it has. */
static int set_up_slurm(const struct run *r, struct attempt *a)
{
	const struct job *j = a->job;

	a->rargv = slurm_argv(r->slurm, r->slurm_top, j->slurm, j->name,
	                      j->timeout_ms, r->set.shell ? r->set.shell
	                                                  : "/bin/sh",
	                      a->command);
	if (!a->rargv)
		return -ENOMEM;
	a->proc.argv = a->rargv;
	a->proc.keep_err_tail = r->slurm->steps;
	if (!r->set.tag)
		return 0;
	if (r->slurm->node[0]) {
		if (where_tag(a, r->slurm->node))
			return -ENOMEM;
		a->proc.tag = a->tag;
	} else {
		a->proc.late_tag = slurm_late_tag;
		a->proc.late_tag_arg = a;
	}
	return 0;
}

/* The job's environment and extra, srun's entry (ALLOTER_TASK_SLOT and
 * the others of alloter come from the library). */
static int own_env(struct attempt *a, char *const *env, char *extra)
{
	size_t n = 0, k;

	while (env && env[n])
		n++;
	if (!(a->env = malloc((n + 2) * sizeof *a->env)))
		return -ENOMEM;
	for (k = 0; k < n; k++)
		a->env[k] = env[k];
	a->env[k++] = extra;
	a->env[k] = NULL;
	return 0;
}

struct attempt *attempt_new(const struct run *r, struct job *j,
                            struct host *h, int number, unsigned slot)
{
	struct attempt *a = calloc(1, sizeof *a);
	char **words = j->words;

	if (!a)
		return NULL;
	a->job = j;
	a->host = h;
	a->number = number;
	a->slot = slot;
	a->command = j->command;
	if (slot && r->templated && r->tpl.uses_slot) {
		if ((a->setup_err = run_slot_command(r, j, slot, &a->own_command,
		                                     &a->own_words)))
			return a;
		a->command = a->own_command;
		words = a->own_words;
	}
	if ((a->slurm = r->slurm) &&
	    (a->setup_err = slurm_step_init(r->slurm, &a->step,
	                                    &a->slurm_env)))
		return a;
	if (a->slurm_env &&
	    (a->setup_err = own_env(a, j->env, a->slurm_env)))
		return a;
	a->proc = (struct alloter_proc){
		.command = a->command,
		.shell = r->set.shell,
		.argv = words,
		.env = a->env ? a->env : j->env,
		.cwd = j->cwd,
		.name = j->name,
		.tag = j->tag,
		.stdin_data = j->stdin_data,
		.stdin_len = j->stdin_len,
		.index = j->index,
		.slot = slot,
		.timeout_ms = j->timeout_ms,
		.grace_ms = r->set.grace_ms,
		.output = r->out,
		.shell_status = true,
	};
	a->call.proc = &a->proc;
	if (r->pacing->memfree > 0)
		a->pacing = r->pacing;
	a->results = r->results;
	if (j->refused)
		a->refused = j->refused;
	else if (r->hosts && !h)
		a->refused = "no host can run it";
	else if (h && !h->local)
		a->setup_err = set_up_remote(r, a);
	else if (r->slurm)
		a->setup_err = set_up_slurm(r, a);
	return a;
}

/* Fails at once without running anything. */
static int failing_task(void *arg, alloter_cancel *cancel)
{
	struct attempt *a = arg;

	(void)cancel;
	return a->setup_err ? a->setup_err : 1;
}

/* A remote attempt: ssh starts at its paced time, not before.  The wait is
 * the task's own, on a worker, so the scheduler never sleeps for it; a
 * cancel during the wait ends the attempt without starting ssh. */
static int paced_task(void *arg, alloter_cancel *cancel)
{
	struct attempt *a = arg;
	int64_t left;
	int ret;

	while ((left = a->start_at_ms - clock_mono_ms()) > 0) {
		struct pollfd pf = {.fd = alloter_cancel_fd(cancel),
		                    .events = POLLIN};

		if (poll(&pf, 1, (int)left) > 0) {
			a->call.result = (struct alloter_proc_result){
				.status = ALLOTER_PROC_TERMINATED,
				.cancel_reason = alloter_cancel_reason(cancel)};
			return 1;
		}
	}
	ret = alloter_proc_task(&a->call, cancel);
	/* Read here, on the worker, so the verdict reads no file under
	 * the executor's lock. */
	a->transport_failed = remote_transport_failed(&a->call.result, a->log,
	                                              a->transport_why,
	                                              sizeof a->transport_why);
	return ret;
}

/* A Slurm attempt: srun, then what Slurm says of it, read here on the
 * worker.  A job that Slurm ended (a node failure, its time limit) after
 * srun said 0 did not succeed. */
static int slurm_task(void *arg, alloter_cancel *cancel)
{
	struct attempt *a = arg;
	int ret = alloter_proc_task(&a->call, cancel);

	slurm_step_end(a->slurm, &a->step, &a->call.result, a->rargv);
	if (ret == 0 && a->step.state[0] &&
	    strcmp(a->step.state, "COMPLETED") != 0)
		ret = 1;
	return ret;
}

static int run_attempt(struct attempt *a, alloter_cancel *cancel)
{
	return a->host && !a->host->local ? paced_task(a, cancel)
	       : a->slurm ? slurm_task(a, cancel)
	                  : alloter_proc_task(&a->call, cancel);
}

/* An attempt with more around it: its --results files, made here on the
 * worker, and a cancel handle of its own, under the executor's, that the
 * memory watch may fire while it is listed (--memfree). */
static int wrapped_task(void *arg, alloter_cancel *cancel)
{
	struct attempt *a = arg;
	struct pacing_entry e;
	alloter_cancel *own = NULL;
	int ret, err;

	if (a->results &&
	    (err = results_open(a->results, a->job, a->proc.copy_fd)))
		return err;
	if (a->pacing && (err = alloter_cancel_new(&own, cancel))) {
		ret = err;
		goto out;
	}
	if (own)
		pacing_enter(a->pacing, &e, own);
	ret = run_attempt(a, own ? own : cancel);
	if (own) {
		pacing_leave(a->pacing, &e);
		alloter_cancel_free(own);
	}
out:
	if (a->results && (err = results_close(a->results, a->job,
	                                       a->proc.copy_fd,
	                                       &a->call.result)) && !ret)
		ret = err;
	return ret;
}

struct alloter_task attempt_task(struct attempt *a)
{
	if (a->refused || a->setup_err)
		return (struct alloter_task){failing_task, a};
	if (a->pacing || a->results)
		return (struct alloter_task){wrapped_task, a};
	if (a->host && !a->host->local)
		return (struct alloter_task){paced_task, a};
	if (a->slurm)
		return (struct alloter_task){slurm_task, a};
	return (struct alloter_task){alloter_proc_task, &a->call};
}

const struct alloter_proc_result *attempt_result(const struct attempt *a)
{
	return &a->call.result;
}

void attempt_free(struct attempt *a)
{
	if (!a)
		return;
	if (a->log)
		unlink(a->log);
	free(a->log);
	slurm_step_free(&a->step);
	free(a->slurm_env);
	free(a->own_command);
	free(a->own_words);
	free(a->env);
	free(a->rargv);
	free(a->payload);
	free(a->tag);
	free(a);
}
