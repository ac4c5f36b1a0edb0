/*
 * resume.c - --resume and --resume-failed: an earlier run's job log, ours
 * or GNU parallel's (the same nine columns), read before the run.  A task
 * is known by its sequence number and its command, and the last line of
 * its number decides: a task that succeeded then is not run again.  A log
 * whose commands are not this run's is refused rather than guessed at.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resume.h"

struct resume {
	char *path;
	size_t n;              /* numbers 1..n-1 have a slot */
	unsigned char *state;  /* LOG_NONE, LOG_SUCCEEDED, LOG_FAILED */
	char **command;        /* the last line's, as the log has it */
	size_t *line;          /* where it is */
};

enum { LOG_NONE, LOG_SUCCEEDED, LOG_FAILED };

static const char header[] = "Seq\tHost\tStarttime\tJobRuntime\tSend\t"
                             "Receive\tExitval\tSignal\tCommand";

void resume_free(struct resume *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->n; i++)
		free(rs->command[i]);
	free(rs->command);
	free(rs->state);
	free(rs->line);
	free(rs->path);
	free(rs);
}

static int grow(struct resume *rs, size_t seq)
{
	size_t n = rs->n ? rs->n : 64;
	unsigned char *st;
	char **cmd;
	size_t *line;

	while (n <= seq)
		n *= 2;
	st = realloc(rs->state, n);
	if (st)
		rs->state = st;
	cmd = realloc(rs->command, n * sizeof *cmd);
	if (cmd)
		rs->command = cmd;
	line = realloc(rs->line, n * sizeof *line);
	if (line)
		rs->line = line;
	if (!st || !cmd || !line)
		return -ENOMEM;
	memset(st + rs->n, LOG_NONE, n - rs->n);
	memset(cmd + rs->n, 0, (n - rs->n) * sizeof *cmd);
	memset(line + rs->n, 0, (n - rs->n) * sizeof *line);
	rs->n = n;
	return 0;
}

/* A whole number field of the line at *p, ended by a tab. */
static bool field(char **p, long long *v)
{
	char *end;

	errno = 0;
	*v = strtoll(*p, &end, 10);
	if (errno || end == *p || *end != '\t')
		return false;
	*p = end + 1;
	return true;
}

/* A field that is skipped: anything up to the next tab. */
static bool skip(char **p)
{
	char *tab = strchr(*p, '\t');

	if (!tab)
		return false;
	*p = tab + 1;
	return true;
}

/* One line: Seq Host Starttime JobRuntime Send Receive Exitval Signal
 * Command. */
static int take_line(struct resume *rs, char *s, size_t no)
{
	long long seq, exitval, sig, x;
	char *p = s;

	if (!field(&p, &seq) || seq < 1 || !skip(&p) || !skip(&p) ||
	    !skip(&p) || !field(&p, &x) || !field(&p, &x) ||
	    !field(&p, &exitval) || !field(&p, &sig))
		return -EINVAL;
	if (grow(rs, (size_t)seq))
		return -ENOMEM;
	free(rs->command[seq]);
	if (!(rs->command[seq] = strdup(p)))
		return -ENOMEM;
	rs->state[seq] = exitval == 0 && sig == 0 ? LOG_SUCCEEDED : LOG_FAILED;
	rs->line[seq] = no;
	return 0;
}

int resume_load(struct resume **out, const char *path)
{
	struct resume *rs = calloc(1, sizeof *rs);
	char *buf = NULL;
	size_t cap = 0, no = 0;
	ssize_t len;
	FILE *f;
	int err = 0;

	*out = NULL;
	if (!rs || !(rs->path = strdup(path))) {
		free(rs);
		fprintf(stderr, "alloter: %s\n", strerror(ENOMEM));
		return 2;
	}
	/* A log that is not there yet is an empty one: nothing ran. */
	if (!(f = fopen(path, "re"))) {
		if (errno == ENOENT) {
			*out = rs;
			return 0;
		}
		fprintf(stderr, "alloter: --resume '%s': %s\n", path,
		        strerror(errno));
		resume_free(rs);
		return 2;
	}
	while (!err && (len = getline(&buf, &cap, f)) >= 0) {
		no++;
		if (len && buf[len - 1] == '\n')
			buf[--len] = '\0';
		if (len && buf[len - 1] == '\r')
			buf[--len] = '\0';
		if (no == 1 && strcmp(buf, header) == 0)
			continue;
		if (no == 1 || (err = take_line(rs, buf, no)) == -EINVAL) {
			fprintf(stderr, "alloter: --resume '%s': line %zu is not "
			        "a job log's (want %s%s)\n", path, no,
			        no == 1 ? "the header: " : "the nine columns of ",
			        no == 1 ? header : "GNU parallel's job log");
			err = -EINVAL;
		} else if (err) {
			fprintf(stderr, "alloter: %s\n", strerror(-err));
		}
	}
	if (!err && ferror(f)) {
		fprintf(stderr, "alloter: --resume '%s': %s\n", path,
		        strerror(errno));
		err = -EIO;
	}
	free(buf);
	fclose(f);
	if (err) {
		resume_free(rs);
		return 2;
	}
	*out = rs;
	return 0;
}

/* Whether command is the one logged: the job log writes a tab, newline or
 * carriage return of a command as a space. */
static bool same_command(const char *logged, const char *command)
{
	for (; *command; command++, logged++) {
		char c = *command == '\t' || *command == '\n' ||
		                 *command == '\r'
		                 ? ' '
		                 : *command;

		if (*logged != c)
			return false;
	}
	return *logged == '\0';
}

bool resume_matches(const struct resume *rs, const struct job *j)
{
	return j->index >= rs->n || !rs->command[j->index] ||
	       same_command(rs->command[j->index], j->command);
}

bool resume_done(const struct resume *rs, const struct job *j)
{
	return j->index < rs->n && rs->state[j->index] == LOG_SUCCEEDED &&
	       resume_matches(rs, j);
}

int resume_check(const struct resume *rs, const struct run *r)
{
	for (size_t k = 0; k < r->n_jobs; k++) {
		const struct job *j = &r->jobs[k];

		if (resume_matches(rs, j))
			continue;
		fprintf(stderr, "alloter: --resume '%s': task %zu is '%s' here "
		        "but '%s' in the log (line %zu): the log is another "
		        "run's\n", rs->path, j->index, j->command,
		        rs->command[j->index], rs->line[j->index]);
		return 2;
	}
	return 0;
}
