/*
 * verdict.c - turning an attempt's raw result into its verdict: the one
 * place that knows that a remote shell reports a death by signal N as
 * 128 + N, that ssh's own failure is not the task's, that being terminated
 * from outside is not retried, what Slurm's word on a job means, and how
 * each outcome is said in words.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "attempt.h"
#include "signals.h"

/* Why being terminated from outside happened, in words: an interrupt is
 * named by its signal; the rest as the library says it. */
static void describe(const struct attempt *a,
                     const struct alloter_proc_result *res, char *buf,
                     size_t len)
{
	if (res->status == ALLOTER_PROC_TERMINATED &&
	    res->cancel_reason == CANCEL_HALT) {
		snprintf(buf, len, "terminated: the --halt policy was met");
		return;
	}
	if (res->status == ALLOTER_PROC_TERMINATED &&
	    res->cancel_reason == CANCEL_MEMORY) {
		snprintf(buf, len, "terminated: free memory fell below half of "
		         "--memfree");
		return;
	}
	if (res->status == ALLOTER_PROC_TERMINATED &&
	    cancel_is_signal(res->cancel_reason)) {
		const char *sig = sigabbrev_np(res->cancel_reason -
		                               ALLOTER_CANCEL_USER);
		snprintf(buf, len, "terminated: alloter was interrupted by "
		         "SIG%s", sig ? sig : "?");
		return;
	}
	alloter_proc_describe(&a->proc, res, buf, len);
}

static const char *status_word(const struct alloter_proc_result *res)
{
	switch (res->status) {
	case ALLOTER_PROC_EXITED:
		return res->exit_code ? "failed" : "succeeded";
	case ALLOTER_PROC_SIGNALED:
		return "crashed";
	case ALLOTER_PROC_TIMED_OUT:
		return "timed_out";
	case ALLOTER_PROC_TERMINATED:
		return "terminated";
	default:
		return "failed";
	}
}

/* What a remote attempt's result says of the task there. */
static void as_remote(struct alloter_proc_result *res)
{
	if (res->status == ALLOTER_PROC_EXITED && res->exit_code > 128 &&
	    sigabbrev_np(res->exit_code - 128)) {
		/* The remote shell reports a death by signal N as 128 + N;
		 * say it as a crash, as for a local task. */
		res->status = ALLOTER_PROC_SIGNALED;
		res->signo = res->exit_code - 128;
		res->exit_code = 0;
	} else if (res->status == ALLOTER_PROC_TIMED_OUT ||
	           res->status == ALLOTER_PROC_TERMINATED) {
		/* What ended here was ssh (255); what the task got there was
		 * the watchdog's SIGTERM, which is what a local task shows. */
		res->exit_code = 0;
		res->signo = SIGTERM;
	}
}

/* A Slurm attempt: where it ran, a node failure that moves it, and the
 * outcomes that srun's status alone does not tell.  Returns whether the
 * verdict is made. */
static bool slurm_where(struct verdict *v, const struct attempt *a)
{
	const struct slurm_step *st = &a->step;

	if (!st->launched)
		return false;
	v->host = st->node;
	v->slurm_job = st->job;
	v->slurm_step = st->step;
	if (strcmp(st->state, "NODE_FAIL") != 0 ||
	    a->job->moves >= VERDICT_MOVES_MAX)
		return false;
	snprintf(v->moved_why, sizeof v->moved_why, "node failure on %s",
	         st->node);
	v->kind = VERDICT_MOVED;
	v->counted = false;
	return true;
}

static void slurm_cause(struct verdict *v, const struct attempt *a,
                        const struct alloter_proc_result *res)
{
	const char *state = a->step.state;

	if (!a->step.launched && res->status == ALLOTER_PROC_EXITED) {
		/* srun never got resources: its message says why. */
		v->counted = false;
		v->has_exit = false;
		snprintf(v->cause, sizeof v->cause, "srun could not start it: "
		         "%s", a->step.why[0] ? a->step.why : "no reason given");
		snprintf(v->error, sizeof v->error, "srun: exit status %d",
		         res->exit_code);
	} else if (strcmp(state, "TIMEOUT") == 0) {
		v->status = "timed_out";
		snprintf(v->cause, sizeof v->cause, "timed out: Slurm's time "
		         "limit");
	} else if (strcmp(state, "OUT_OF_MEMORY") == 0) {
		snprintf(v->cause, sizeof v->cause, "out of memory (Slurm's "
		         "OOM kill)");
	} else if (strcmp(state, "CANCELLED") == 0) {
		snprintf(v->cause, sizeof v->cause, "cancelled through Slurm");
	} else if (strcmp(state, "NODE_FAIL") == 0) {
		snprintf(v->cause, sizeof v->cause, "node failure on %s, %d "
		         "times", a->step.node, a->job->moves + 1);
	} else if (state[0] && strcmp(state, "COMPLETED") != 0 &&
	           strcmp(state, "FAILED") != 0) {
		snprintf(v->cause, sizeof v->cause, "Slurm ended it: %s",
		         state);
	}
}

void verdict_make(struct verdict *v, const struct attempt *a,
                  const struct alloter_outcome *o)
{
	struct alloter_proc_result res = *attempt_result(a);
	bool ok = o->state == ALLOTER_SUCCEEDED;

	*v = (struct verdict){.host = a->host ? a->host->name : ":",
	                      .command = a->command,
	                      .error = "", .counted = true};
	if (o->state == ALLOTER_FAILED && o->err < 0 && !a->refused) {
		/* It never started: the pool had no thread, or the attempt
		 * could not be set up. */
		res = (struct alloter_proc_result){
			.status = ALLOTER_PROC_SPAWN_FAILED, .err = o->err,
			.start_ns = o->start_ns};
	}
	if (o->state == ALLOTER_NOT_RUN)
		/* A stop took it back from the pool's queue unstarted: as
		 * if terminated at once, as paced_task says it. */
		res = (struct alloter_proc_result){
			.status = ALLOTER_PROC_TERMINATED,
			.cancel_reason = o->reason};
	if (a->slurm && slurm_where(v, a))
		return;
	if (a->host && !a->host->local) {
		if (a->transport_failed) {
			snprintf(v->moved_why, sizeof v->moved_why, "%s",
			         a->transport_why);
			v->kind = VERDICT_MOVED;
			v->counted = false;
			return;
		}
		as_remote(&res);
	}
	if (a->slurm)
		as_remote(&res); /* srun says a signal N as 128 + N, too */
	v->start_ns = res.start_ns;
	v->duration_ns = res.duration_ns;
	v->output_unread = res.output_unread;
	v->cpu_user_us = res.cpu_user_us;
	v->cpu_sys_us = res.cpu_sys_us;
	v->max_rss_kb = res.max_rss_kb;
	v->bytes = res.out_bytes + res.err_bytes;
	v->signo = res.signo;
	v->core_dumped = res.core_dumped;
	v->exit_code = res.exit_code;
	/* As GNU parallel logs a job it could not start. */
	v->log_exitval = res.status == ALLOTER_PROC_SPAWN_FAILED
	                         ? -1 : res.exit_code;
	v->has_exit = !v->signo && res.status != ALLOTER_PROC_SPAWN_FAILED;
	v->status = status_word(&res);
	if (a->refused) {
		/* It never ran: no attempt, no exit status. */
		v->counted = false;
		v->has_exit = false;
		v->status = "failed";
		snprintf(v->cause, sizeof v->cause, "%s", a->refused);
		snprintf(v->error, sizeof v->error, "%s", a->refused);
	} else {
		if (res.status == ALLOTER_PROC_SPAWN_FAILED ||
		    res.status == ALLOTER_PROC_LOST_OUTPUT)
			snprintf(v->error, sizeof v->error, "%s",
			         strerror(-res.err));
		if (!ok)
			describe(a, &res, v->cause, sizeof v->cause);
		/* Taken back for memory (--memfree): say how much it had. */
		if (!ok && res.status == ALLOTER_PROC_TERMINATED &&
		    res.cancel_reason == CANCEL_MEMORY && res.max_rss_kb > 0) {
			size_t n = strlen(v->cause);

			snprintf(v->cause + n, sizeof v->cause - n,
			         " (peak memory %lld MiB)",
			         (long long)(res.max_rss_kb / 1024));
		}
		if (!ok && a->slurm)
			slurm_cause(v, a, &res);
	}
	if (ok)
		v->kind = VERDICT_SUCCEEDED;
	/* Taken back for memory: queued again, a bounded number of times
	 * (its retries, at least once), without counting as its failure. */
	else if (res.status == ALLOTER_PROC_TERMINATED &&
	         res.cancel_reason == CANCEL_MEMORY &&
	         a->job->taken_back < (a->job->retries > 0 ? a->job->retries
	                                                   : 1)) {
		v->kind = VERDICT_RETRY;
		v->taken_back = true;
	}
	/* Being terminated from outside (kill-others, the overall deadline,
	 * an interrupt) is not the task's failure: running it again would
	 * defy the stop. */
	else if (a->number <= a->job->retries &&
	         res.status != ALLOTER_PROC_TERMINATED)
		v->kind = VERDICT_RETRY;
	else
		v->kind = VERDICT_FAILED;
}
