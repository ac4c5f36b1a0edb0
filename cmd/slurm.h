/*
 * slurm.h - running tasks through Slurm's srun: as job steps inside an
 * allocation, or each as a job of its own from outside one, and asking
 * Slurm how one ended and to cancel what alloter stops.
 */
#ifndef CMD_SLURM_H
#define CMD_SLURM_H

#include <stdbool.h>
#include <stdint.h>

#include "alloter.h"

struct slurm {
	bool steps;           /* inside an allocation: each task a step */
	const char *exact;    /* the option that keeps steps apart */
	char node[128];       /* the allocation's one node, or "" */
	char **words;         /* --slurm-args, split, NULL-ended */
	char *dir;            /* private folder: the prolog, the ids files */
	char *prolog;
};

/* What Slurm said of one attempt. */
struct slurm_step {
	char *ids;            /* the file srun's prolog fills in */
	char job[32], step[32], node[128];
	bool launched;        /* the prolog ran: srun got its resources */
	char state[32];       /* how the controller says it ended, or "" */
	char why[208];        /* srun's error, when it could not start it */
};

/* Gets s ready: finds srun, checks that the controller answers, splits
 * args (--slurm-args, may be NULL) and writes the prolog.  Returns 0, or
 * -1 with a message in err. */
int slurm_open(struct slurm *s, const char *args, char *err, size_t len);
/* The default -j: inside an allocation (SLURM_JOB_ID) its tasks
 * (SLURM_NTASKS), else 64 jobs. */
int slurm_default_limit(void);
/* srun's command line for one attempt: the run's request (top), the
 * task's own (own, may be NULL), timeout_ms as --time, then shell -c
 * command.  One malloc'd block, or NULL. */
char **slurm_argv(const struct slurm *s, const struct alloter_slurm_request *top,
                  const struct alloter_slurm_request *own, const char *name,
                  int64_t timeout_ms, const char *shell, const char *command);
/* Makes st's ids file; its NAME=value for srun's environment goes to
 * *env (malloc'd).  Returns 0 or a negative errno value. */
int slurm_step_init(const struct slurm *s, struct slurm_step *st, char **env);
/* The node srun's prolog says the step runs on, or NULL while it has not
 * said (the string is st's). */
const char *slurm_step_node(struct slurm_step *st);
/* Once srun (argv, from slurm_argv) has ended with res: reads what the
 * prolog wrote, cancels through Slurm what alloter stopped, and asks how
 * a failure ended, or why srun could not start it. */
void slurm_step_end(const struct slurm *s, struct slurm_step *st,
                    const struct alloter_proc_result *res, char *const *argv);
void slurm_step_free(struct slurm_step *st);
void slurm_close(struct slurm *s);

#endif
