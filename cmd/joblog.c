/*
 * joblog.c - GNU parallel's job log: Seq Host Starttime JobRuntime Send
 * Receive Exitval Signal Command, tab-separated, a line per attempt,
 * flushed as each attempt ends, so the log can be read during the run and
 * a crashed run still leaves its lines; one that met a failed write is
 * removed (outfile.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "joblog.h"
#include "outfile.h"

struct joblog {
	struct outfile *of;
};

int joblog_open(struct joblog **out, const char *path, bool append,
                alloter_output *o, int *sig)
{
	struct joblog *l = calloc(1, sizeof *l);
	struct stat st;
	int err;

	if (!l)
		return -ENOMEM;
	err = append ? outfile_open_append(&l->of, path, o, sig)
	             : outfile_open(&l->of, path, true, o, sig);
	if (err) {
		free(l);
		return err;
	}
	/* A log appended to has its header already. */
	if (!append || fstat(fileno(l->of->f), &st) < 0 ||
	    !S_ISREG(st.st_mode) || st.st_size == 0)
		fputs("Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\t"
		      "Exitval\tSignal\tCommand\n", l->of->f);
	if (fflush(l->of->f) == EOF)
		outfile_failed(l->of);
	*out = l;
	return 0;
}

void joblog_attempt(struct joblog *l, const struct job *j,
                    const struct verdict *v)
{
	FILE *f;

	if (!l)
		return;
	f = l->of->f;
	fprintf(f, "%zu\t%s\t%.3f\t%.3f\t0\t%llu\t%d\t%d\t", j->index,
	        v->host, (double)v->start_ns / 1e9,
	        (double)v->duration_ns / 1e9, (unsigned long long)v->bytes,
	        v->log_exitval, v->signo);
	/* A tab or newline inside the command would break the columns. */
	for (const char *c = v->command; *c; c++)
		putc(*c == '\t' || *c == '\n' || *c == '\r' ? ' ' : *c, f);
	putc('\n', f);
	if (fflush(f) == EOF)
		outfile_failed(l->of);
}

int joblog_close(struct joblog *l, bool keep)
{
	int err;

	if (!l)
		return 0;
	err = outfile_close(l->of, keep);
	free(l);
	return err;
}
