/*
 * verdict.h - what an ended attempt means, decided once.  The summary, the
 * failure lines, the job log and the report all read the verdict, never
 * the raw result.
 */
#ifndef CMD_VERDICT_H
#define CMD_VERDICT_H

#include <stdbool.h>
#include <stdint.h>

/* Node failures that may move one task before it fails (--slurm). */
#define VERDICT_MOVES_MAX 3

struct attempt;
struct alloter_outcome;

enum verdict_kind {
	VERDICT_SUCCEEDED,
	VERDICT_FAILED,       /* final */
	VERDICT_RETRY,        /* failed; the job runs again */
	VERDICT_MOVED,        /* ssh itself failed, or a Slurm node: the job
	                         goes to another host or node, and the
	                         attempt does not count */
};

struct verdict {
	enum verdict_kind kind;
	bool counted;         /* an attempt that ran: a job-log line, and one
	                         more in the attempts count */
	const char *status;   /* the report's: succeeded, failed, crashed,
	                         timed_out, terminated */
	char cause[256];      /* in words ("exit status 3"), for failures */
	char error[160];      /* the report's "error" ("" for none) */
	bool has_exit;        /* exit_code is real (else the report's null) */
	int exit_code;
	int signo;            /* what ended it, 0 for none */
	bool core_dumped;
	int log_exitval;      /* the job log's Exitval (-1: never started) */
	int64_t start_ns, duration_ns;
	int64_t cpu_user_us, cpu_sys_us, max_rss_kb; /* what it used */
	uint64_t bytes;       /* output, both streams */
	const char *host;     /* the host's or Slurm node's name, ":" for
	                         here */
	const char *slurm_job, *slurm_step; /* Slurm's ids, or NULL */
	const char *command;  /* what ran (the attempt's own with {%}) */
	char moved_why[256];  /* MOVED: what ssh said */
	bool taken_back;      /* RETRY: --memfree took it back; not a failure */
	bool output_unread;   /* a process it left held its output open: what
	                         that writes later is not read */
};

/* Decides a's verdict from its raw result and the executor's outcome o;
 * the job's retries and a's number decide between RETRY and FAILED. */
void verdict_make(struct verdict *v, const struct attempt *a,
                  const struct alloter_outcome *o);

#endif
