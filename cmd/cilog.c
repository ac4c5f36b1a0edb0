/*
 * cilog.c - markers for CI logs.  The output holds each task's block until
 * the reporter has written the marker that opens it (alloter_output_opts
 * .hold), so a fold says how its task ended and wraps exactly its output.
 * A failed task is not folded: its output is what the reader looks for.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cilog.h"
#include "options.h"
#include "reporter.h"

static void put(struct run *r, const char *s, size_t n)
{
	alloter_output_write(r->out, 1, s, n);
}

/* GitHub's workflow commands take %, CR and LF escaped in their data, and
 * : and , too in a property (the title). */
static void gh_escaped(FILE *f, const char *s, bool property)
{
	for (; *s; s++) {
		if (*s == '%' || *s == '\r' || *s == '\n' ||
		    (property && (*s == ':' || *s == ',')))
			fprintf(f, "%%%02X", (unsigned char)*s);
		else
			putc(*s, f);
	}
}

/* A GitLab section's name: the task's, in letters, digits, _ . and -
 * (anything else becomes _). */
static void gl_section(FILE *f, const struct job *j)
{
	for (const char *s = j->name; *s; s++)
		putc((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		             (*s >= '0' && *s <= '9') || strchr("_.-", *s)
		             ? *s : '_', f);
}

/* How it ended, in words: "exit status 0", or the failure's cause. */
static const char *how(const struct verdict *v)
{
	return v->kind == VERDICT_SUCCEEDED ? "exit status 0" : v->cause;
}

static void emit(struct run *r, const struct job *j, const struct verdict *v,
                 bool before)
{
	bool ok = v->kind == VERDICT_SUCCEEDED;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	/* Only group mode has a block to fold; a failure is annotated
	 * whatever the mode. */
	if (r->set.output != ALLOTER_OUTPUT_GROUP &&
	    !(r->set.ci == CI_GITHUB && before && !ok))
		return;
	if (!(f = open_memstream(&buf, &len)))
		return;
	if (r->set.ci == CI_GITHUB && before && ok) {
		fputs("::group::", f);
		gh_escaped(f, j->name, false);
		fprintf(f, " (%s)\n", how(v));
	} else if (r->set.ci == CI_GITHUB && before) {
		fputs("::error title=alloter: ", f);
		gh_escaped(f, j->name, true);
		fputs("::", f);
		gh_escaped(f, how(v), false);
		fputc('\n', f);
	} else if (r->set.ci == CI_GITHUB && ok) {
		fputs("::endgroup::\n", f);
	} else if (r->set.ci == CI_GITLAB && before) {
		fprintf(f, "\033[0Ksection_start:%lld:", (long long)time(NULL));
		gl_section(f, j);
		fprintf(f, "[collapsed=%s]\r\033[0K%s (%s)\n",
		        ok ? "true" : "false", j->name, how(v));
	} else if (r->set.ci == CI_GITLAB) {
		fprintf(f, "\033[0Ksection_end:%lld:", (long long)time(NULL));
		gl_section(f, j);
		fputs("\r\033[0K\n", f);
	}
	if (fclose(f) == 0 && len)
		put(r, buf, len);
	free(buf);
}

void cilog_before(struct run *r, const struct job *j, const struct verdict *v)
{
	if (r->set.ci != CI_NONE)
		emit(r, j, v, true);
}

void cilog_after(struct run *r, const struct job *j, const struct verdict *v)
{
	if (r->set.ci != CI_NONE)
		emit(r, j, v, false);
}

void cilog_failed(struct run *r)
{
	const struct tally *t = &r->tally;
	char line[1024];
	size_t n = 0;

	if (r->set.ci == CI_NONE || !t->failed)
		return;
	for (size_t k = 0; k < t->failed && k < FAILURES_LISTED && n < sizeof line; k++)
		if (t->failed_names[k])
			n += (size_t)snprintf(line + n, sizeof line - n, "%s%s",
			                      n ? ", " : "", t->failed_names[k]);
	if (t->failed > FAILURES_LISTED && n < sizeof line)
		snprintf(line + n, sizeof line - n, " and %zu more",
		         t->failed - FAILURES_LISTED);
	reporter_say(r, true, "failed tasks: %s", line);
}
