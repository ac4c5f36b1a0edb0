/*
 * report.c - the JSON report.  Tasks are written as they end, so memory
 * does not grow with a long streamed run; the run's own part comes last
 * (JSON objects are unordered); a regular file is written aside and
 * renamed into place (outfile.h), so a reader never sees half a report.
 * Strings go through json.h, so the result is valid whatever bytes a name
 * or command holds.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "outfile.h"
#include "report.h"

struct report {
	struct outfile *of;
	FILE *f;
	size_t n;
};

int report_open(struct report **out, const char *path, alloter_output *o,
                int *sig)
{
	struct report *rep = calloc(1, sizeof *rep);
	int err;

	if (!rep)
		return -ENOMEM;
	if ((err = outfile_open(&rep->of, path, false, o, sig))) {
		free(rep);
		return err;
	}
	rep->f = rep->of->f;
	fputs("{\n\"format\": 1,\n\"tasks\": [", rep->f);
	*out = rep;
	return 0;
}

/* Each entry goes out whole: on alloter's own stdout, between the tasks'
 * blocks rather than inside one. */
static void entry_done(struct report *rep)
{
	if (fflush(rep->f) == EOF)
		outfile_failed(rep->of);
}

static void task_head(struct report *rep, const struct job *j,
                      const char *status, int attempts, const char *host)
{
	FILE *f = rep->f;

	fputs(rep->n++ ? ",\n  {" : "\n  {", f);
	fputs("\"name\": ", f);
	json_str(f, j->name);
	fprintf(f, ", \"index\": %zu, \"command\": ", j->index);
	json_str(f, j->command);
	if (j->args) {
		fputs(", \"args\": [", f);
		for (size_t k = 0; k < j->n_args; k++) {
			fputs(k ? ", " : "", f);
			json_str(f, j->args[k]);
		}
		fputs("]", f);
	}
	fprintf(f, ", \"status\": \"%s\", \"attempts\": %d, \"host\": ",
	        status, attempts);
	json_str(f, host);
}

void report_ran(struct report *rep, const struct job *j,
                const struct verdict *v, int attempts)
{
	const char *sig;

	if (!rep)
		return;
	task_head(rep, j, v->status, attempts, v->host);
	if (v->error[0]) {
		fputs(", \"error\": ", rep->f);
		json_str(rep->f, v->error);
	}
	if (v->has_exit) {
		fprintf(rep->f, ", \"exit_code\": %d, \"signal\": null",
		        v->exit_code);
	} else if (v->signo) {
		sig = sigabbrev_np(v->signo);
		fprintf(rep->f, ", \"exit_code\": null, \"signal\": \"SIG%s\"",
		        sig ? sig : "UNKNOWN");
	} else {
		/* It never ran: there is no exit status to give. */
		fputs(", \"exit_code\": null, \"signal\": null", rep->f);
	}
	fprintf(rep->f, ", \"core_dumped\": %s, \"start\": %.3f, "
	        "\"duration_ms\": %lld, \"cpu_user_s\": %.3f, "
	        "\"cpu_sys_s\": %.3f, \"max_rss_kb\": %lld",
	        v->core_dumped ? "true" : "false", (double)v->start_ns / 1e9,
	        (long long)(v->duration_ns / 1000000),
	        (double)v->cpu_user_us / 1e6, (double)v->cpu_sys_us / 1e6,
	        (long long)v->max_rss_kb);
	if (v->slurm_job) {
		fputs(", \"slurm_job_id\": ", rep->f);
		json_str(rep->f, v->slurm_job);
		fputs(", \"slurm_step_id\": ", rep->f);
		json_str(rep->f, v->slurm_step);
		fputs(", \"node\": ", rep->f);
		json_str(rep->f, v->host);
	}
	fputs("}", rep->f);
	entry_done(rep);
}

void report_skipped(struct report *rep, const struct job *j, const char *why,
                    const char *needs)
{
	if (!rep)
		return;
	task_head(rep, j, "skipped", j->attempts, ":");
	fprintf(rep->f, ", \"skip_reason\": \"%s\"", why);
	if (needs) {
		fputs(", \"needs\": ", rep->f);
		json_str(rep->f, needs);
	}
	fputs("}", rep->f);
	entry_done(rep);
}

static const char *output_name(enum alloter_output_mode m)
{
	return m == ALLOTER_OUTPUT_LINE   ? "line"
	       : m == ALLOTER_OUTPUT_RAW  ? "raw"
	       : m == ALLOTER_OUTPUT_NONE ? "none"
	                                  : "group";
}

void report_abandon(struct report *rep)
{
	if (rep)
		outfile_abandon(rep->of);
}

int report_close(struct report *rep, const struct run *r, int exit_status)
{
	const struct settings *s = &r->set;
	const struct tally *t = &r->tally;
	FILE *f;
	int err;

	if (!rep)
		return 0;
	f = rep->f;
	fprintf(f, "\n],\n\"run\": {\"start\": %.3f, \"wall_ms\": %lld, "
	        "\"exit_status\": %d, \"tasks\": %zu, \"succeeded\": %zu, "
	        "\"failed\": %zu, \"terminated\": %zu, \"skipped\": %zu, "
	        "\"attempts\": %zu, ",
	        (double)r->start_ns / 1e9,
	        (long long)((r->end_ns - r->start_ns) / 1000000), exit_status,
	        t->succeeded + t->failed + t->terminated + t->skipped,
	        t->succeeded, t->failed, t->terminated, t->skipped, t->attempts);
	fprintf(f, "\"options\": {\"limit\": %d, \"timeout_ms\": %lld, "
	        "\"task_timeout_ms\": %lld, \"grace_ms\": %lld, "
	        "\"fail_fast\": %s, \"kill_others\": %s, \"output\": \"%s\", "
	        "\"tag\": %s, \"keep_order\": %s, \"shell\": ",
	        s->limit, (long long)s->timeout_ms,
	        (long long)s->task_timeout_ms, (long long)s->grace_ms,
	        s->fail_fast ? "true" : "false",
	        s->kill_others ? "true" : "false", output_name(s->output),
	        s->tag ? "true" : "false", s->keep_order ? "true" : "false");
	json_str(f, s->shell ? s->shell : "/bin/sh");
	fputs("}}\n}\n", f);
	err = outfile_close(rep->of, true);
	free(rep);
	return err;
}

void report_discard(struct report *rep)
{
	if (!rep)
		return;
	outfile_close(rep->of, false);
	free(rep);
}
