/*
 * output.c - the shared destination of process tasks' output.  Group mode
 * holds a task's output (a small buffer, then an unlinked file) and writes
 * it as one block per stream; line mode writes whole lines as they come.
 * Every write to the real descriptors happens under one lock, so two tasks'
 * output never mixes.  With keep-order, finished blocks wait in a list
 * sorted by task index until every earlier index is released.  A reader
 * that goes away (EPIPE) turns the output "broken": later writes are
 * dropped and the caller is told once.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include "proc/output.h"

/* Group mode keeps a task's output in memory up to HOLD_BYTES, then spills
 * the rest to a file, so memory stays bounded whatever tasks print. */
#define HOLD_BYTES (64 * 1024)
#define LINE_MAX_HOLD (1 << 20)   /* line: a longer line goes out in parts */
#define STAGE_BYTES (64 * 1024)

/* One attempt's output, held for keep-order. */
struct block {
	struct al_sink out, err;
	struct block *next;
};

/* A task's held blocks; final once the caller released its index. */
struct held {
	size_t index;
	bool final;
	struct block *first, *last;
	struct held *prev, *next;
};

struct alloter_output {
	struct alloter_output_opts opts;
	char tmpdir[4096];
	pthread_mutex_t lock;
	atomic_bool broken;
	char stage[STAGE_BYTES]; /* tagged lines gather here; under lock */
	size_t staged;
	bool status_shown;        /* a status line is on err_fd; under lock */
	struct held *head, *tail; /* keep-order, by index; under lock */
	size_t next_index;        /* the index to write next */
};

int alloter_output_new(alloter_output **out,
                       const struct alloter_output_opts *opts)
{
	alloter_output *o;
	const char *dir;
	int err;

	if (opts->mode > ALLOTER_OUTPUT_RAW)
		return -EINVAL;
	o = calloc(1, sizeof *o);
	if (!o)
		return -ENOMEM;
	o->opts = *opts;
	dir = opts->tmpdir ? opts->tmpdir : getenv("TMPDIR");
	if (!dir || !*dir)
		dir = "/tmp";
	if (strlen(dir) >= sizeof o->tmpdir) {
		free(o);
		return -ENAMETOOLONG;
	}
	strcpy(o->tmpdir, dir);
	o->opts.tmpdir = o->tmpdir;
	o->next_index = 1;
	if ((err = pthread_mutex_init(&o->lock, NULL))) {
		free(o);
		return -err;
	}
	*out = o;
	return 0;
}

void alloter_output_free(alloter_output *o)
{
	if (!o)
		return;
	alloter_output_flush(o);
	pthread_mutex_destroy(&o->lock);
	free(o);
}

enum alloter_output_mode alloter_output_mode(const alloter_output *o)
{
	return o->opts.mode;
}

bool alloter_output_broken(const alloter_output *o)
{
	return atomic_load(&o->broken);
}

static int raw_write(alloter_output *o, int fd, const char *buf, size_t n);

/* Writes all of buf, riding out EINTR, short writes and a non-blocking
 * descriptor.  Called with the lock held. */
static int write_all(alloter_output *o, int fd, const char *buf, size_t n)
{
	/* Erase the status line before anything else lands on the screen. */
	if (o->status_shown && n > 0) {
		o->status_shown = false;
		raw_write(o, o->opts.err_fd, "\r\033[K", 4);
	}
	return raw_write(o, fd, buf, n);
}

static int raw_write(alloter_output *o, int fd, const char *buf, size_t n)
{
	if (atomic_load(&o->broken))
		return -EPIPE;
	while (n > 0) {
		ssize_t w = write(fd, buf, n);

		if (w >= 0) {
			buf += w;
			n -= (size_t)w;
		} else if (errno == EAGAIN) {
			struct pollfd p = {.fd = fd, .events = POLLOUT};
			if (poll(&p, 1, -1) < 0 && errno != EINTR)
				return -errno;
		} else if (errno == EPIPE) {
			atomic_store(&o->broken, true);
			if (o->opts.broken)
				alloter_cancel_fire(o->opts.broken,
				                    ALLOTER_CANCEL_CALLER);
			return -EPIPE;
		} else if (errno != EINTR) {
			return -errno;
		}
	}
	return 0;
}

static int flush_stage(alloter_output *o, int fd)
{
	int err = write_all(o, fd, o->stage, o->staged);

	o->staged = 0;
	return err;
}

/* Writes data to fd, each line prefixed with the sink's tag if it has one;
 * *bol says whether data starts a line and is updated for the next call.
 * Called with the lock held; the caller flushes the stage at the end. */
static int emit(alloter_output *o, int fd, const struct al_sink *s,
                const char *data, size_t n, bool *bol)
{
	int err = 0;

	if (!s->prefix)
		return write_all(o, fd, data, n);
	while (n > 0 && !err) {
		const char *nl;
		size_t take;

		if (*bol) {
			if (o->staged + s->prefix_len > STAGE_BYTES)
				err = flush_stage(o, fd);
			if (s->prefix_len > STAGE_BYTES) {
				err = err ? err : write_all(o, fd, s->prefix,
				                            s->prefix_len);
			} else {
				memcpy(o->stage + o->staged, s->prefix,
				       s->prefix_len);
				o->staged += s->prefix_len;
			}
			*bol = false;
		}
		nl = memchr(data, '\n', n);
		take = nl ? (size_t)(nl - data) + 1 : n;
		if (o->staged + take > STAGE_BYTES && !err)
			err = flush_stage(o, fd);
		if (take > STAGE_BYTES) {
			err = err ? err : write_all(o, fd, data, take);
		} else {
			memcpy(o->stage + o->staged, data, take);
			o->staged += take;
		}
		*bol = nl != NULL;
		data += take;
		n -= take;
	}
	return err;
}

static int fd_of(const alloter_output *o, int stream)
{
	return stream == 2 ? o->opts.err_fd : o->opts.out_fd;
}

int alloter_output_status(alloter_output *o, const char *line)
{
	int err;

	pthread_mutex_lock(&o->lock);
	err = raw_write(o, o->opts.err_fd, "\r", 1);
	if (!err && line)
		err = raw_write(o, o->opts.err_fd, line, strlen(line));
	if (!err)
		err = raw_write(o, o->opts.err_fd, "\033[K", 3);
	o->status_shown = line != NULL;
	pthread_mutex_unlock(&o->lock);
	return err;
}

int alloter_output_write(alloter_output *o, int stream, const void *buf,
                         size_t len)
{
	int err;

	pthread_mutex_lock(&o->lock);
	err = write_all(o, fd_of(o, stream), buf, len);
	pthread_mutex_unlock(&o->lock);
	return err;
}

int al_sink_init(struct al_sink *s, alloter_output *o, int stream,
                 const char *name, size_t index)
{
	bool color;
	int n;

	*s = (struct al_sink){.o = o, .stream = stream, .index = index,
	                      .spill_fd = -1};
	if (!o || !o->opts.tag || o->opts.mode == ALLOTER_OUTPUT_RAW)
		return 0;
	/* Six colours, by index, so neighbours differ. */
	color = stream == 2 ? o->opts.color_err : o->opts.color_out;
	n = color ? asprintf(&s->prefix, "\033[3%zum%s\033[0m\t",
	                     1 + index % 6, name)
	          : asprintf(&s->prefix, "%s\t", name);
	if (n < 0) {
		s->prefix = NULL;
		return -ENOMEM;
	}
	s->prefix_len = (size_t)n;
	return 0;
}

static int reserve(struct al_sink *s, size_t more)
{
	size_t cap = s->cap ? s->cap : 4096;
	char *p;

	if (s->len + more <= s->cap)
		return 0;
	while (cap < s->len + more)
		cap *= 2;
	p = realloc(s->buf, cap);
	if (!p)
		return -ENOMEM;
	s->buf = p;
	s->cap = cap;
	return 0;
}

/* An unnamed file in tmpdir; a file system without O_TMPFILE gets a named
 * one that is unlinked at once.  Either way nothing is left behind. */
static int spill_file(const alloter_output *o)
{
	char path[sizeof o->tmpdir + 32];
	int fd = open(o->tmpdir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR &&
	                errno != EINVAL))
		return fd >= 0 ? fd : -errno;
	snprintf(path, sizeof path, "%s/alloter.XXXXXX", o->tmpdir);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	unlink(path);
	return fd;
}

static int spill(struct al_sink *s, const char *data, size_t n)
{
	while (n > 0) {
		ssize_t w = write(s->spill_fd, data, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		data += w;
		n -= (size_t)w;
	}
	return 0;
}

static int feed_group(struct al_sink *s, const char *data, size_t n)
{
	int err;

	if (s->spill_fd < 0 && s->len + n <= HOLD_BYTES) {
		if ((err = reserve(s, n)))
			return err;
		memcpy(s->buf + s->len, data, n);
		s->len += n;
		return 0;
	}
	if (s->spill_fd < 0) {
		s->spill_fd = spill_file(s->o);
		if (s->spill_fd < 0)
			return s->spill_fd;
	}
	return spill(s, data, n);
}

static int feed_line(struct al_sink *s, const char *data, size_t n)
{
	alloter_output *o = s->o;
	const char *last = memrchr(data, '\n', n);
	size_t whole = last ? (size_t)(last - data) + 1 : 0;
	int err = 0;

	if (whole || s->len + n > LINE_MAX_HOLD) {
		int fd = fd_of(o, s->stream);
		bool bol = !s->mid_line;

		if (!last) /* a line too long to hold: out it goes, in parts */
			whole = n;
		pthread_mutex_lock(&o->lock);
		err = emit(o, fd, s, s->buf, s->len, &bol);
		if (!err)
			err = emit(o, fd, s, data, whole, &bol);
		if (!err)
			err = flush_stage(o, fd);
		pthread_mutex_unlock(&o->lock);
		/* The rest of a line sent in parts gets no second tag. */
		s->mid_line = !bol;
		s->len = 0;
		data += whole;
		n -= whole;
	}
	if (n > 0 && !err && !(err = reserve(s, n))) {
		memcpy(s->buf + s->len, data, n);
		s->len += n;
	}
	return err;
}

int al_sink_feed(struct al_sink *s, const char *data, size_t n)
{
	int err;

	s->bytes += n;
	if (s->err)
		return s->err; /* already lost: keep counting, drop the rest */
	if (s->o->opts.mode == ALLOTER_OUTPUT_GROUP)
		err = feed_group(s, data, n);
	else
		err = feed_line(s, data, n);
	if (err)
		s->err = err;
	return err;
}

/* Copies the spill file to fd in the kernel (sendfile), when nothing has
 * to be added to the lines; returns 0, a negative errno value, or 1 when
 * sendfile cannot serve this pair of files and the caller must copy. */
static int send_spill(alloter_output *o, int fd, int spill_fd)
{
	off_t off = 0;

	for (;;) {
		ssize_t n = sendfile(fd, spill_fd, &off, 1 << 30);

		if (n > 0)
			continue;
		if (n == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {
			struct pollfd p = {.fd = fd, .events = POLLOUT};
			if (poll(&p, 1, -1) < 0 && errno != EINTR)
				return -errno;
			continue;
		}
		if ((errno == EINVAL || errno == ENOSYS) && off == 0)
			return 1;
		if (errno == EPIPE)
			return write_all(o, fd, "", 1); /* marks it broken */
		return -errno;
	}
}

/* Writes one sink's held output; called with the lock held. */
static int write_held(struct al_sink *s)
{
	alloter_output *o = s->o;
	int fd = fd_of(o, s->stream), err;
	bool bol = !s->mid_line;
	char buf[65536];
	ssize_t r;

	err = emit(o, fd, s, s->buf, s->len, &bol);
	if (!err)
		err = flush_stage(o, fd);
	if (s->spill_fd >= 0 && !err && !s->prefix &&
	    !atomic_load(&o->broken))
		err = send_spill(o, fd, s->spill_fd);
	else if (s->spill_fd >= 0 && !err)
		err = 1;
	if (err == 1) { /* copy it, tagging lines on the way */
		err = lseek(s->spill_fd, 0, SEEK_SET) < 0 ? -errno : 0;
		while (!err && (r = read(s->spill_fd, buf, sizeof buf)) != 0) {
			if (r < 0 && errno == EINTR)
				continue;
			err = r < 0 ? -errno : emit(o, fd, s, buf, (size_t)r,
			                            &bol);
		}
		if (!err)
			err = flush_stage(o, fd);
	}
	o->staged = 0;
	return err;
}

ssize_t al_sink_splice(struct al_sink *s, int pipe_fd)
{
	ssize_t n;

	if (s->o->opts.mode != ALLOTER_OUTPUT_GROUP || s->spill_fd < 0 ||
	    s->err)
		return -ENOTSUP;
	n = splice(pipe_fd, NULL, s->spill_fd, NULL, 1 << 20,
	           SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	if (n > 0) {
		s->bytes += (uint64_t)n;
		return n;
	}
	if (n == 0)
		return 0;
	if (errno == EINVAL) /* a file system that takes no splice */
		return -ENOTSUP;
	if (errno != EAGAIN && errno != EINTR)
		s->err = -errno; /* e.g. ENOSPC: the output is lost */
	return -errno;
}

static void release(struct al_sink *s)
{
	free(s->buf);
	free(s->prefix);
	s->buf = s->prefix = NULL;
	s->len = s->cap = 0;
	if (s->spill_fd >= 0)
		close(s->spill_fd);
	s->spill_fd = -1;
}

/* The held entry for index, made if need be; called with the lock held.
 * New indices mostly come last, so the search starts at the tail. */
static struct held *held_at(alloter_output *o, size_t index)
{
	struct held *h = o->tail, *n;

	while (h && h->index > index)
		h = h->prev;
	if (h && h->index == index)
		return h;
	n = calloc(1, sizeof *n);
	if (!n)
		return NULL;
	n->index = index;
	n->prev = h;
	n->next = h ? h->next : o->head;
	if (n->next)
		n->next->prev = n;
	else
		o->tail = n;
	if (h)
		h->next = n;
	else
		o->head = n;
	return n;
}

/* Writes and frees the head entry; called with the lock held. */
static int write_head(alloter_output *o)
{
	struct held *h = o->head;
	int err = 0;

	o->head = h->next;
	if (o->head)
		o->head->prev = NULL;
	else
		o->tail = NULL;
	while (h->first) {
		struct block *b = h->first;
		int e1 = write_held(&b->out), e2 = write_held(&b->err);

		err = err ? err : e1 ? e1 : e2;
		h->first = b->next;
		release(&b->out);
		release(&b->err);
		free(b);
	}
	if (h->index >= o->next_index)
		o->next_index = h->index + 1;
	free(h);
	return err;
}

/* Writes every final entry that is next in line; lock held. */
static int write_ready(alloter_output *o)
{
	int err = 0, e;

	while (o->head && o->head->final && o->head->index <= o->next_index)
		if ((e = write_head(o)) && !err)
			err = e;
	return err;
}

/* Keep-order: moves the sinks' contents into a held block. */
static int hold(struct al_sink *out, struct al_sink *err)
{
	alloter_output *o = out->o;
	struct block *b = malloc(sizeof *b);
	struct held *h;

	if (!b)
		return -ENOMEM;
	b->out = *out;
	b->err = *err;
	b->next = NULL;
	pthread_mutex_lock(&o->lock);
	h = held_at(o, out->index);
	if (h) {
		if (h->last)
			h->last->next = b;
		else
			h->first = b;
		h->last = b;
	}
	pthread_mutex_unlock(&o->lock);
	if (!h) {
		free(b);
		return -ENOMEM;
	}
	/* The block owns the buffers and files now. */
	out->buf = err->buf = out->prefix = err->prefix = NULL;
	out->spill_fd = err->spill_fd = -1;
	return out->err ? out->err : err->err;
}

int al_sink_finish(struct al_sink *out, struct al_sink *err)
{
	alloter_output *o = out->o;
	int e1, e2;

	if (o->opts.keep_order && o->opts.mode == ALLOTER_OUTPUT_GROUP) {
		e1 = hold(out, err);
		release(out);
		release(err);
		return e1;
	}
	pthread_mutex_lock(&o->lock);
	e1 = write_held(out);
	e2 = write_held(err);
	pthread_mutex_unlock(&o->lock);
	release(out);
	release(err);
	if (out->err)
		return out->err;
	if (err->err)
		return err->err;
	return e1 ? e1 : e2;
}

int alloter_output_release(alloter_output *o, size_t index)
{
	struct held *h;
	int err = 0;

	if (!o->opts.keep_order)
		return 0;
	pthread_mutex_lock(&o->lock);
	/* An index already written out needs nothing more. */
	if (index >= o->next_index) {
		h = held_at(o, index);
		if (h) {
			h->final = true;
			err = write_ready(o);
		} else {
			err = -ENOMEM;
		}
	}
	pthread_mutex_unlock(&o->lock);
	return err;
}

int alloter_output_flush(alloter_output *o)
{
	int err = 0, e;

	pthread_mutex_lock(&o->lock);
	while (o->head)
		if ((e = write_head(o)) && !err)
			err = e;
	pthread_mutex_unlock(&o->lock);
	return err;
}
