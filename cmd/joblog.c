/*
 * joblog.c - GNU parallel's job log: Seq Host Starttime JobRuntime Send
 * Receive Exitval Signal Command, tab-separated, a line per attempt,
 * flushed as each attempt ends so a crashed run still leaves its log.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "joblog.h"

struct joblog {
	FILE *f;
	int err;
};

int joblog_open(struct joblog **out, const char *path)
{
	struct joblog *l = calloc(1, sizeof *l);

	if (!l)
		return -ENOMEM;
	/* "/dev/stderr" may be a file that stderr shares with others:
	 * opening it anew would truncate it and write from offset 0, so use
	 * the descriptor itself. */
	if (strcmp(path, "/dev/stderr") == 0 || strcmp(path, "/dev/fd/2") == 0) {
		int fd = fcntl(2, F_DUPFD_CLOEXEC, 3);
		l->f = fd < 0 ? NULL : fdopen(fd, "a");
		if (fd >= 0 && !l->f)
			close(fd);
	} else {
		l->f = fopen(path, "we");
	}
	if (!l->f) {
		int err = -errno;
		free(l);
		return err;
	}
	fputs("Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\t"
	      "Signal\tCommand\n", l->f);
	if (fflush(l->f) == EOF)
		l->err = -errno;
	*out = l;
	return 0;
}

void joblog_attempt(struct joblog *l, const struct job *j,
                    const struct verdict *v)
{
	if (!l)
		return;
	fprintf(l->f, "%zu\t%s\t%.3f\t%.3f\t0\t%llu\t%d\t%d\t", j->index,
	        v->host, (double)v->start_ns / 1e9,
	        (double)v->duration_ns / 1e9, (unsigned long long)v->bytes,
	        v->log_exitval, v->signo);
	/* A tab or newline inside the command would break the columns. */
	for (const char *c = v->command; *c; c++)
		putc(*c == '\t' || *c == '\n' || *c == '\r' ? ' ' : *c, l->f);
	putc('\n', l->f);
	if (fflush(l->f) == EOF && !l->err)
		l->err = -errno;
}

int joblog_close(struct joblog *l)
{
	int err;

	if (!l)
		return 0;
	err = l->err;
	if (fclose(l->f) == EOF && !err)
		err = -errno;
	free(l);
	return err;
}
