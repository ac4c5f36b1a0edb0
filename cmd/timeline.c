/*
 * timeline.c - the data of --timeline and the page around it.  Attempts
 * are written as JSON to an unlinked temporary file as they end, so memory
 * does not grow with a long streamed run; at the end the page
 * (timeline.html, built in as timeline_page) is written with them inside,
 * where its marker comment stands.  --timeline-from puts a report there
 * instead: the page's script reads either.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attempt.h"
#include "json.h"
#include "reporter.h"
#include "timeline.h"

extern const char timeline_page[];

#define MARKER "<!-- alloter-data -->"
#define REPORT_MAX (512L << 20)

struct timeline {
	int fd;                 /* the page, written at the end */
	FILE *data;             /* the attempts, comma-separated objects */
	size_t n;
	const struct alloter_taskfile *tf;
};

static int open_page(const char *path, bool truncate)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC |
	              (truncate ? O_TRUNC : 0), 0666);

	return fd < 0 ? -errno : fd;
}

int timeline_open(struct timeline **out, const char *path,
                  const struct alloter_taskfile *tf)
{
	struct timeline *tl = calloc(1, sizeof *tl);
	const char *dir = getenv("TMPDIR");
	char *tmp = NULL;
	int fd, err;

	if (!tl)
		return -ENOMEM;
	tl->tf = tf;
	/* Not truncated yet: an earlier page stays whole until this one is
	 * written. */
	if ((tl->fd = open_page(path, false)) < 0) {
		err = tl->fd;
		free(tl);
		return err;
	}
	if (asprintf(&tmp, "%s/alloter-timeline.XXXXXX",
	             dir && *dir ? dir : "/tmp") < 0) {
		err = -ENOMEM;
		goto fail;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		err = -errno;
		goto fail;
	}
	unlink(tmp);
	if (!(tl->data = fdopen(fd, "w+"))) {
		err = -errno;
		close(fd);
		goto fail;
	}
	free(tmp);
	*out = tl;
	return 0;
fail:
	free(tmp);
	close(tl->fd);
	free(tl);
	return err;
}

void timeline_attempt(struct timeline *tl, const struct attempt *a)
{
	const struct verdict *v = &a->verdict;
	const struct job *j = a->job;
	FILE *f;

	if (!tl)
		return;
	f = tl->data;
	fprintf(f, "%s{\"i\": %zu, \"n\": ", tl->n++ ? ",\n" : "", j->index);
	json_str_html(f, j->name);
	fputs(", \"c\": ", f);
	json_str_html(f, v->command ? v->command : j->command);
	fprintf(f, ", \"s\": \"%s\", \"k\": %d, \"h\": ",
	        v->kind == VERDICT_RETRY ? "retried" : v->status, a->number);
	json_str_html(f, v->host);
	fprintf(f, ", \"slot\": %u, \"t0\": %.3f, \"d\": %lld, \"why\": ",
	        a->slot, (double)v->start_ns / 1e9,
	        (long long)(v->duration_ns / 1000000));
	json_str_html(f, v->cause[0] ? v->cause : NULL);
	/* A task file's job i is its task i - 1. */
	if (tl->tf && j->index >= 1 && j->index <= tl->tf->n_tasks) {
		const struct alloter_taskdef *d = &tl->tf->tasks[j->index - 1];

		fputs(", \"needs\": [", f);
		for (size_t k = 0; k < d->n_needs; k++)
			fprintf(f, "%s%zu", k ? ", " : "", d->needs[k] + 1);
		fputs("]", f);
	}
	fputs("}", f);
}

/* Writes the page with data(out, arg) where the marker is. */
static int write_page(int fd, void (*data)(FILE *, void *), void *arg)
{
	const char *mark = strstr(timeline_page, MARKER);
	FILE *out = fdopen(fd, "w");
	int err = 0;

	if (!out) {
		err = -errno;
		close(fd);
		return err;
	}
	fwrite(timeline_page, 1, (size_t)(mark - timeline_page), out);
	fputs("<script type=\"application/json\" id=\"alloter-data\">", out);
	data(out, arg);
	fputs("</script>", out);
	fputs(mark + strlen(MARKER), out);
	if (fflush(out) == EOF)
		err = -errno;
	if (fclose(out) == EOF && !err)
		err = -errno;
	return err;
}

struct run_data {
	struct timeline *tl;
	const struct run *r;
	int exit_status;
};

static void put_run(FILE *out, void *arg)
{
	struct run_data *d = arg;
	char summary[256], buf[65536];
	size_t n;

	reporter_summary_text(d->r, summary, sizeof summary);
	fputs("{\"source\": \"run\", \"summary\": ", out);
	json_str_html(out, summary);
	fprintf(out, ", \"start\": %.3f, \"wall_ms\": %lld, \"exit_status\": "
	        "%d, \"attempts\": [\n", (double)d->r->start_ns / 1e9,
	        (long long)((d->r->end_ns - d->r->start_ns) / 1000000),
	        d->exit_status);
	rewind(d->tl->data);
	while ((n = fread(buf, 1, sizeof buf, d->tl->data)) > 0)
		fwrite(buf, 1, n, out);
	fputs("\n]}", out);
}

int timeline_close(struct timeline *tl, const struct run *r, int exit_status)
{
	struct run_data d = {tl, r, exit_status};
	int err = 0;

	if (!tl)
		return 0;
	if (fflush(tl->data) == EOF || ferror(tl->data))
		err = -EIO;
	else if (ftruncate(tl->fd, 0) < 0 && errno != EINVAL)
		err = -errno; /* (EINVAL: not a regular file, such as a pipe) */
	if (err)
		close(tl->fd);
	else
		err = write_page(tl->fd, put_run, &d);
	fclose(tl->data);
	free(tl);
	return err;
}

struct report_data {
	const char *text;
	size_t len;
};

/* The report as it is, but for '<', which in valid JSON stands only in
 * strings, where \u003c means the same: no "</script>" can end it. */
static void put_report(FILE *out, void *arg)
{
	const struct report_data *d = arg;

	for (size_t i = 0; i < d->len; i++) {
		if (d->text[i] == '<')
			fputs("\\u003c", out);
		else
			putc(d->text[i], out);
	}
}

int timeline_from_report(const char *report, const char *path)
{
	struct report_data d = {0};
	char *text = NULL;
	size_t cap = 0, got;
	FILE *in = fopen(report, "re");
	int fd, err = 0;

	if (!in)
		return -errno;
	do {
		char *t;

		if (cap >= REPORT_MAX) {
			err = -EFBIG;
			break;
		}
		if (!(t = realloc(text, cap + 65536))) {
			err = -ENOMEM;
			break;
		}
		text = t;
		got = fread(text + cap, 1, 65536, in);
		cap += got;
	} while (got == 65536);
	if (!err && ferror(in))
		err = -EIO;
	fclose(in);
	d.text = text;
	d.len = cap;
	/* The page's script says what is wrong with a bad report; what is
	 * not even a JSON object is refused here. */
	while (!err && d.len && (*d.text == ' ' || *d.text == '\t' ||
	                         *d.text == '\r' || *d.text == '\n'))
		d.text++, d.len--;
	if (!err && (!d.len || *d.text != '{'))
		err = -EINVAL;
	if (!err && (fd = open_page(path, true)) < 0)
		err = fd;
	if (!err)
		err = write_page(fd, put_report, &d);
	free(text);
	return err;
}
