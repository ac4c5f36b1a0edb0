/*
 * resume.h - what an earlier run's job log says was done, for --resume and
 * --resume-failed.
 */
#ifndef CMD_RESUME_H
#define CMD_RESUME_H

#include <stdbool.h>

#include "run.h"

struct resume;

/* Reads the job log at path; one that does not exist is empty.  Returns 0
 * and *out, or an exit status (2), the reason said on stderr. */
int resume_load(struct resume **out, const char *path);
/* Whether j's command is the one the log has for its number, or the log
 * has none. */
bool resume_matches(const struct resume *rs, const struct job *j);
/* Whether j succeeded in the logged run: it is not run again. */
bool resume_done(const struct resume *rs, const struct job *j);
/* Checks the jobs known ahead against the log: 0, or 2 with the first
 * task whose command differs said on stderr. */
int resume_check(const struct resume *rs, const struct run *r);
void resume_free(struct resume *rs);

#endif
