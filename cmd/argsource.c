/*
 * argsource.c - a template's arguments.  Sources are taken as GNU parallel
 * takes them: each source (or each group of sources linked with :::+,
 * taken side by side up to the shortest) is one axis of a cartesian
 * product whose first axis is the outermost.  Only the first source can
 * be endless; it is read record by record as tasks start, and every other
 * source is read whole before the run, since each of its values is used
 * once per record of the first.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "argsource.h"

enum marker { NOT_MARKER, LIST, LIST_LINKED, FILES, FILES_LINKED };

static enum marker marker(const char *w)
{
	if (strcmp(w, ":::") == 0)
		return LIST;
	if (strcmp(w, ":::+") == 0)
		return LIST_LINKED;
	if (strcmp(w, "::::") == 0)
		return FILES;
	if (strcmp(w, "::::+") == 0)
		return FILES_LINKED;
	return NOT_MARKER;
}

bool args_is_marker(const char *w)
{
	return marker(w) != NOT_MARKER;
}

static struct arg_source *add_source(struct args *a, const char *what)
{
	struct arg_source *v = realloc(a->src, (a->n_src + 1) * sizeof *v);

	if (!v)
		return NULL;
	a->src = v;
	v += a->n_src++;
	*v = (struct arg_source){.what = what};
	return v;
}

static struct arg_source *add_file(struct args *a, const char *path)
{
	struct arg_source *s = add_source(a, path);

	if (s) {
		s->is_file = true;
		s->path = path;
		if (strcmp(path, "-") == 0)
			s->what = "standard input";
	}
	return s;
}

int args_parse(struct args *a, char **words, int n, int *n_template,
               char *const *files, size_t n_files, char *msg, size_t len)
{
	struct arg_source *s;
	int i = 0;

	*a = (struct args){.delim = '\n', .max_args = 1};
	for (size_t k = 0; k < n_files; k++)
		if (!add_file(a, files[k]))
			return -ENOMEM;
	while (i < n && !marker(words[i]))
		i++;
	*n_template = i;
	while (i < n) {
		enum marker m = marker(words[i]);
		const char *name = words[i++];
		int start = i;

		while (i < n && !marker(words[i]))
			i++;
		if ((m == LIST_LINKED || m == FILES_LINKED) && a->n_src == 0) {
			snprintf(msg, len, "'%s': there is no input source "
			         "before it to link to", name);
			return -EINVAL;
		}
		if ((m == FILES || m == FILES_LINKED) && i == start) {
			snprintf(msg, len, "'%s': no file name after it", name);
			return -EINVAL;
		}
		if (m == LIST || m == LIST_LINKED) {
			if (!(s = add_source(a, ":::")))
				return -ENOMEM;
			s->linked = m == LIST_LINKED;
			/* The words themselves: argv outlives the run. */
			s->v = words + start;
			s->n = (size_t)(i - start);
			continue;
		}
		for (int k = start; k < i; k++) {
			if (!(s = add_file(a, words[k])))
				return -ENOMEM;
			s->linked = m == FILES_LINKED;
		}
	}
	return 0;
}

int args_stdin(struct args *a)
{
	return add_file(a, "-") ? 0 : -ENOMEM;
}

/* Waits for the first source's input: an error ends the wait too. */
static void wait_input(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	while (poll(&p, 1, -1) < 0 && errno == EINTR)
		;
}

/* Reads a whole file source into memory. */
static int load(struct arg_source *s, char *msg, size_t len)
{
	char *line;
	size_t n;
	int err;

	while ((err = lines_next(&s->lines, &line, &n)) != -ENODATA) {
		if (err == -EAGAIN) {
			wait_input(s->lines.fd);
			continue;
		}
		if (err < 0)
			goto fail;
		if (memchr(line, '\0', n)) {
			snprintf(msg, len, "%s: record %zu holds a NUL byte "
			         "(-0 takes NUL-separated records)", s->what,
			         s->n + 1);
			return -EINVAL;
		}
		if (s->n == s->cap) {
			size_t cap = s->cap ? s->cap * 2 : 16;
			char **v = realloc(s->v, cap * sizeof *v);

			if (!v)
				return -ENOMEM;
			s->v = v;
			s->cap = cap;
		}
		if (!(s->v[s->n] = strdup(line)))
			return -ENOMEM;
		s->n++;
	}
	return 0;
fail:
	snprintf(msg, len, "%s: %s", s->what, strerror(-err));
	return err;
}

int args_open(struct args *a, char *msg, size_t len)
{
	size_t g = 0;
	int err;

	a->first = calloc(a->n_src + 1, sizeof *a->first);
	a->len = calloc(a->n_src + 1, sizeof *a->len);
	a->idx = calloc(a->n_src + 1, sizeof *a->idx);
	if (!a->first || !a->len || !a->idx)
		return -ENOMEM;
	for (size_t k = 0; k < a->n_src; k++)
		if (k == 0 || !a->src[k].linked)
			a->first[g++] = k;
	a->n_groups = g;
	a->first[g] = a->n_src;
	for (size_t k = 0; k < a->n_src; k++) {
		struct arg_source *s = &a->src[k];
		int fd = 0;

		if (!s->is_file)
			continue;
		if (strcmp(s->path, "-") != 0 &&
		    (fd = open(s->path, O_RDONLY | O_CLOEXEC)) < 0) {
			snprintf(msg, len, "%s: %s", s->path, strerror(errno));
			return -errno;
		}
		lines_init(&s->lines, fd, a->delim);
		/* The first source, alone on its axis, streams. */
		s->streamed = k == 0 && a->first[1] == 1;
		if (!s->streamed && (err = load(s, msg, len)))
			return err;
	}
	for (g = 0; g < a->n_groups; g++) {
		a->len[g] = SIZE_MAX;
		for (size_t k = a->first[g]; k < a->first[g + 1]; k++)
			if (!a->src[k].streamed && a->src[k].n < a->len[g])
				a->len[g] = a->src[k].n;
		if (a->len[g] == 0)
			a->done = true; /* an empty axis: no tasks at all */
	}
	return 0;
}

int args_fd(const struct args *a)
{
	return a->n_src && a->src[0].streamed ? a->src[0].lines.fd : -1;
}

/* Adds one value to the task being put together. */
static int push(struct args *a, const char *s, size_t n)
{
	if (a->n_out == a->cap_out) {
		size_t cap = a->cap_out ? a->cap_out * 2 : 8;
		char **v = realloc(a->out, (cap + 1) * sizeof *v);

		if (!v)
			return -ENOMEM;
		a->out = v;
		a->cap_out = cap;
	}
	if (!(a->out[a->n_out] = strndup(s, n)))
		return -ENOMEM;
	a->out[++a->n_out] = NULL;
	return 0;
}

/* Adds a value, split into its columns with --colsep.  A separator that
 * matches the empty string splits nothing there. */
static int push_columns(struct args *a, const char *s)
{
	const char *field = s, *p = s;
	regmatch_t m;
	int err;

	while (a->has_colsep && *p &&
	       regexec(&a->colsep, p, 1, &m, p == s ? 0 : REG_NOTBOL) == 0) {
		if (m.rm_so == m.rm_eo) {
			if (!p[m.rm_so])
				break;
			p += m.rm_so + 1;
			continue;
		}
		if ((err = push(a, field, (size_t)(p + m.rm_so - field))))
			return err;
		field = p = p + m.rm_eo;
	}
	return push(a, field, strlen(field));
}

/* Takes the next record of the streamed first source. */
static int next_record(struct args *a)
{
	char *line;
	size_t n;
	int err = lines_next(&a->src[0].lines, &line, &n);

	if (err)
		return err;
	free(a->rec0);
	if (!(a->rec0 = malloc(n + 1)))
		return -ENOMEM;
	memcpy(a->rec0, line, n + 1);
	a->rec0_nul = memchr(line, '\0', n) != NULL;
	return 0;
}

/* Adds the next combination of the sources to the task. */
static int next_tuple(struct args *a)
{
	int err;

	if (a->done)
		return -ENODATA;
	if (a->src[0].streamed && !a->started) {
		if ((err = next_record(a)) == -ENODATA)
			a->done = true;
		if (err)
			return err;
	}
	a->started = true;
	for (size_t g = 0; g < a->n_groups; g++)
		for (size_t k = a->first[g]; k < a->first[g + 1]; k++) {
			const struct arg_source *s = &a->src[k];

			a->nul |= s->streamed && a->rec0_nul;
			if ((err = push_columns(a, s->streamed
			                                   ? a->rec0
			                                   : s->v[a->idx[g]])))
				return err;
		}
	a->records++;
	/* The last axis turns fastest. */
	for (size_t g = a->n_groups; g-- > 1;) {
		if (++a->idx[g] < a->len[g])
			return 0;
		a->idx[g] = 0;
	}
	if (a->src[0].streamed)
		a->started = false; /* the next record, when it is asked for */
	else if (++a->idx[0] >= a->len[0])
		a->done = true;
	return 0;
}

int args_next(struct args *a, char ***v, size_t *n, bool *nul)
{
	int err = 0;

	/* What was handed out last time is done with. */
	if (a->records == a->max_args) {
		for (size_t k = 0; k < a->n_out; k++)
			free(a->out[k]);
		a->n_out = a->records = 0;
		a->nul = false;
	}
	while (a->records < a->max_args && !(err = next_tuple(a)))
		;
	if (err == -EAGAIN || (err && err != -ENODATA))
		return err;
	if (a->records == 0)
		return -ENODATA;
	/* A short last task: its missing arguments are empty. */
	a->records = a->max_args;
	*v = a->out;
	*n = a->n_out;
	*nul = a->nul;
	return 0;
}

/* The records of a regular file, counted without keeping them (its
 * offset is left alone); -1 when it is not one, or cannot be read. */
static long long count_records(int fd, char delim)
{
	char buf[65536];
	long long n = 0;
	struct stat st;
	off_t at = 0;
	ssize_t r;
	char last = delim;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return -1;
	while ((r = pread(fd, buf, sizeof buf, at)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		for (ssize_t i = 0; i < r; i++)
			n += buf[i] == delim;
		last = buf[r - 1];
		at += r;
	}
	return n + (last != delim); /* a last record without its end */
}

int args_total(const struct args *a, size_t *total)
{
	size_t t = 1;
	long long first;

	if (a->n_src && a->src[0].streamed) {
		/* A file, unlike a pipe, can be counted ahead. */
		if ((first = count_records(a->src[0].lines.fd, a->delim)) < 0)
			return -1;
		t = (size_t)first;
	}
	for (size_t g = a->n_src && a->src[0].streamed; g < a->n_groups; g++) {
		if (a->len[g] && t > SIZE_MAX / a->len[g])
			return -1;
		t *= a->len[g];
	}
	*total = (t + a->max_args - 1) / a->max_args;
	return 0;
}

size_t args_width(const struct args *a)
{
	return a->has_colsep ? 0 : a->n_src * a->max_args;
}

const char *args_empty_source(const struct args *a)
{
	for (size_t k = 0; k < a->n_src; k++)
		if (!a->src[k].streamed && a->src[k].n == 0)
			return a->src[k].what;
	return a->n_src ? a->src[0].what : "the input";
}

void args_free(struct args *a)
{
	for (size_t k = 0; k < a->n_src; k++) {
		struct arg_source *s = &a->src[k];

		if (s->is_file) {
			for (size_t i = 0; i < s->n; i++)
				free(s->v[i]);
			free(s->v);
			if (s->lines.fd > 0)
				close(s->lines.fd);
			lines_free(&s->lines);
		}
	}
	for (size_t k = 0; k < a->n_out; k++)
		free(a->out[k]);
	free(a->out);
	free(a->src);
	free(a->first);
	free(a->len);
	free(a->idx);
	free(a->rec0);
	if (a->has_colsep)
		regfree(&a->colsep);
	*a = (struct args){0};
}
