/*
 * attempt.h - one try at running a job: a process description built fresh
 * from the job and where it runs (here, or on a host through ssh), the
 * task that runs it, and its verdict once it has ended.  An attempt is
 * owned by whoever holds it last (the feed, then the reporter), which
 * frees it; nothing of it is reused for the next try.
 */
#ifndef CMD_ATTEMPT_H
#define CMD_ATTEMPT_H

#include "run.h"
#include "verdict.h"

struct attempt {
	struct job *job;
	struct host *host;        /* NULL when the run has no hosts */
	int number;               /* 1 for the first try */
	unsigned slot;            /* {%}, ALLOTER_TASK_SLOT; 0: none */
	const char *command;      /* the job's, or own_command */
	char *own_command;        /* made for its slot ({%}) */
	char **own_words;
	char **env;               /* the job's, and ALLOTER_TASK_SLOT */
	struct pacing *pacing;    /* --memfree may take it back, or NULL */
	const char *results;      /* --results DIR, or NULL */
	struct alloter_proc proc; /* what runs: the job, or ssh */
	struct alloter_proc_call call;
	const char *refused;      /* fails without running, or NULL */
	int setup_err;            /* could not be set up: fails at once */
	/* A remote attempt's own: */
	char **rargv;             /* ssh's command line */
	char *payload;            /* what the remote wrapper reads */
	char *tag;                /* "host:name" */
	char *log;                /* ssh's own messages */
	int64_t start_at_ms;      /* monotonic: ssh starts no sooner */
	const struct slurm *slurm; /* a Slurm attempt's: */
	struct slurm_step step;
	char *slurm_env;
	bool transport_failed;    /* ssh itself failed, saying why: */
	char transport_why[256];
	/* Once it has ended: */
	struct alloter_outcome outcome;
	struct verdict verdict;
	bool took_host_down;      /* its failure took its host out */
	struct job *skipped;      /* the jobs its failure skipped, chained
	                             through job->skip_next */
	struct attempt *next;     /* the reporter's queue */
};

/* Builds attempt number of job j on host h (NULL: here, or, when the run
 * has hosts, nowhere: it then fails as "no host can run it"), in slot (0:
 * none).  Returns NULL without memory for the attempt itself; any other
 * failure to set it up is kept in it and fails it. */
struct attempt *attempt_new(const struct run *r, struct job *j,
                            struct host *h, int number, unsigned slot);
/* The executor's task for a. */
struct alloter_task attempt_task(struct attempt *a);
/* The raw result of a's process (for one that never started: all zero). */
const struct alloter_proc_result *attempt_result(const struct attempt *a);
void attempt_free(struct attempt *a);

#endif
