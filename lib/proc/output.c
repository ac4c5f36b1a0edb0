/*
 * output.c - the shared destination of process tasks' output, and the one
 * thread that writes it.
 *
 * DESIGN.  Tasks never write to the output's descriptors themselves: a
 * reader that does not read would then hold up the task's end, its
 * deadline and, through it, the whole batch.  Instead everything to write
 * (a finished group block, whole lines, a caller's message, the status
 * line) becomes an item on one queue, and the output's writer thread
 * writes the items in queue order.  The queue's lock is never held during
 * I/O.  Group mode holds a task's output (a small buffer, then an
 * unlinked file) and queues it as one block per stream when the task
 * ends; line mode queues whole lines, tagged, as they come, and a task
 * whose lines wait unwritten past QUEUE_MAX is not read from until they
 * go out, so memory stays bounded and the task's pipe pushes back.  With
 * keep-order, blocks wait (in the writer's own list, sorted by index)
 * until every earlier index is released.  A reader that goes away (EPIPE)
 * turns the output "broken": later writes are dropped and the caller is
 * told once.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include "proc/output.h"

/* Group mode keeps a task's output in memory up to HOLD_BYTES, then moves
 * what follows into pipes of its own ("banks") with splice, which hands
 * the task's pages over without copying them and hands them on to the
 * output the same way when the block is written: a file would cost a copy
 * in, and page cache to fill and free.  Pipe memory is the user's and
 * capped by the kernel (fs.pipe-user-pages-soft, 64 MiB by default), and
 * each bank holds a descriptor: an output has at most BANKS of them, fewer
 * under a tight descriptor limit (one bank per BANK_FDS_PER allowed), and a
 * bank the kernel will not grow to BANK_PIPE is refused; the rest of such
 * a block spills to a file.  So memory stays bounded whatever tasks print.
 *
 * A bank keeps its room in the spool folder as if it had spilled: bank k
 * has the k-th BANK_PIPE of one file per output, reserved (fallocate,
 * nothing written) by the first bank in that slot and kept for the next,
 * since giving it back and taking it again costs more than the splice
 * saves.  So TMPDIR bounds what is held as before, and a full one, or
 * ulimit -f, loses a block as it did. */
#define HOLD_BYTES (64 * 1024)
#define BANK_PIPE (1 << 20)
#define BANKS 32
#define BANK_FDS_PER 32
/* A bank's slots hold a page each, however little is in it: a pipe that
 * holds less than this is copied into the bank, which packs its pages,
 * rather than moved. */
#define BANK_MOVE_MIN (16 * 1024)
#define LINE_MAX_HOLD (1 << 20)   /* line: a longer line goes out in parts */
#define STAGE_BYTES (64 * 1024)
#define QUEUE_MAX (8 << 20)       /* line: bytes queued before tasks wait */
#define SPARE_MIN (40 * 1024)     /* line data items from this size ... */
#define SPARE_BYTES (72 * 1024)   /* ... to this one (a read) are made this big */
/* ... and kept for reuse, as many as fill the queue: a writer slower than
 * the tasks (a file, a slow reader) keeps the queue near QUEUE_MAX, and
 * with fewer spares most reads got fresh memory, a page fault per page
 * (W3 line mode to a file: 0.77 s with 16 spares, 0.53 s with 128, the
 * floor 0.44 s).  Memory stays within the queue's bound, now also after a
 * burst, until the output is freed. */
#define SPARES (QUEUE_MAX / SPARE_BYTES + 1)

struct al_bank {
	int r, w;                 /* w: -1 once the bank is full */
	size_t used;
	unsigned slot;            /* its bit in banks, its room in room_fd */
};

/* One attempt's output, both streams. */
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

enum item_kind {
	ITEM_BYTES,    /* data, ready to write to stream */
	ITEM_BLOCK,    /* a finished group block */
	ITEM_RELEASE,  /* keep-order: index is final */
	ITEM_STATUS,   /* the status line (len 0: erase it) */
	ITEM_FLUSH,    /* keep-order: write everything held */
};

struct item {
	struct item *next;
	size_t cap;               /* room for data */
	enum item_kind kind;
	int stream;
	size_t index;
	struct block *block;
	size_t len;
	char data[];
};

struct alloter_output {
	struct alloter_output_opts opts;
	char tmpdir[4096];
	pthread_mutex_t lock;     /* the queue; never held during I/O */
	pthread_cond_t more;      /* items were queued, or stopping */
	pthread_cond_t written;   /* the writer finished a batch of items */
	struct item *head, *tail; /* under lock */
	uint64_t queued, done;    /* items ever queued, written; under lock */
	size_t queued_bytes;      /* line data waiting; under lock */
	bool stopping;            /* under lock */
	bool started;             /* the writer thread runs; under lock */
	bool inline_writes;       /* no writer thread could be started: the
	                             queuing thread writes, under lock */
	pthread_t writer;
	pthread_mutex_t spare_lock;
	struct item *spare;       /* items to reuse, under spare_lock */
	size_t spares;
	atomic_bool broken;
	atomic_int err;           /* the first failed write, but EPIPE */
	atomic_uint banks;        /* the banks in use, a bit each */
	atomic_uint roomed;       /* the slots with their room reserved */
	unsigned banks_max;
	atomic_int room_fd;       /* the banks' room in the spool, or -1 */
	/* The writer thread's own: */
	char stage[STAGE_BYTES];  /* tagged lines gather here */
	size_t staged;
	bool status_shown;        /* a status line is on err_fd */
	struct held *hhead, *htail; /* keep-order, by index */
	size_t next_index;        /* the index to write next */
	int pool_fd;              /* held blocks' spilled output, or -1 */
	off_t pool_end;
};

static void *writer(void *arg);
static void write_item(alloter_output *o, struct item *it);
static int spill_file(const alloter_output *o);
static int write_fully(int fd, const char *data, size_t n);

int alloter_output_new(alloter_output **out,
                       const struct alloter_output_opts *opts)
{
	alloter_output *o;
	const char *dir;
	struct rlimit rl;
	int err;

	if (opts->mode > ALLOTER_OUTPUT_NONE)
		return -EINVAL;
	o = calloc(1, sizeof *o);
	if (!o)
		return -ENOMEM;
	o->opts = *opts;
	o->pool_fd = -1;
	o->room_fd = -1;
	o->banks_max = BANKS;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur / BANK_FDS_PER < BANKS)
		o->banks_max = (unsigned)(rl.rlim_cur / BANK_FDS_PER);
	/* Zero is the default, so a zeroed struct never sends task output
	 * to standard input. */
	if (!o->opts.out_fd)
		o->opts.out_fd = 1;
	if (!o->opts.err_fd)
		o->opts.err_fd = 2;
	dir = opts->tmpdir ? opts->tmpdir : getenv("TMPDIR");
	if (!dir || !*dir)
		dir = "/tmp";
	if (strlen(dir) >= sizeof o->tmpdir) {
		err = -ENAMETOOLONG;
		goto fail;
	}
	strcpy(o->tmpdir, dir);
	o->opts.tmpdir = o->tmpdir;
	o->next_index = 1;
	if ((err = -pthread_mutex_init(&o->lock, NULL)))
		goto fail;
	if ((err = -pthread_cond_init(&o->more, NULL)))
		goto fail_lock;
	if ((err = -pthread_cond_init(&o->written, NULL)))
		goto fail_more;
	if ((err = -pthread_mutex_init(&o->spare_lock, NULL)))
		goto fail_written;
	*out = o;
	return 0;

fail_written:
	pthread_cond_destroy(&o->written);
fail_more:
	pthread_cond_destroy(&o->more);
fail_lock:
	pthread_mutex_destroy(&o->lock);
fail:
	free(o);
	return err;
}

enum alloter_output_mode alloter_output_mode(const alloter_output *o)
{
	return o->opts.mode;
}

bool alloter_output_broken(const alloter_output *o)
{
	return atomic_load(&o->broken);
}

int alloter_output_error(const alloter_output *o)
{
	return atomic_load(&o->err);
}

/* ---- the queue ---- */

/* Line data comes a read at a time: items of that size are kept for
 * reuse, since fresh memory costs a page fault per page, which is more
 * than the copy into it. */
static struct item *item_new(alloter_output *o, enum item_kind kind,
                             size_t len)
{
	struct item *it = NULL;
	size_t cap = len;

	if (len >= SPARE_MIN && len <= SPARE_BYTES) {
		cap = SPARE_BYTES;
		pthread_mutex_lock(&o->spare_lock);
		if ((it = o->spare)) {
			o->spare = it->next;
			o->spares--;
		}
		pthread_mutex_unlock(&o->spare_lock);
	}
	if (!it && !(it = malloc(sizeof *it + cap)))
		return NULL;
	*it = (struct item){.kind = kind, .len = len, .cap = cap};
	return it;
}

static void item_free(alloter_output *o, struct item *it)
{
	if (it->cap == SPARE_BYTES) {
		pthread_mutex_lock(&o->spare_lock);
		if (o->spares < SPARES) {
			it->next = o->spare;
			o->spare = it;
			o->spares++;
			it = NULL;
		}
		pthread_mutex_unlock(&o->spare_lock);
	}
	free(it);
}

/* Queues it; returns its sequence number, for a wait. */
static uint64_t enqueue(alloter_output *o, struct item *it)
{
	uint64_t seq;

	it->next = NULL;
	pthread_mutex_lock(&o->lock);
	/* The writer starts with the first item.  Without a thread to spare
	 * (ulimit -u), tasks write their output themselves, one at a time
	 * under the lock: a slow reader then holds tasks up, but the run
	 * still runs. */
	if (!o->started && !o->inline_writes) {
		if (pthread_create(&o->writer, NULL, writer, o) == 0)
			o->started = true;
		else
			o->inline_writes = true;
	}
	if (o->inline_writes) {
		write_item(o, it);
		item_free(o, it);
		seq = o->done = ++o->queued;
		pthread_mutex_unlock(&o->lock);
		return seq;
	}
	if (o->tail)
		o->tail->next = it;
	else
		o->head = it;
	o->tail = it;
	if (it->kind == ITEM_BYTES)
		o->queued_bytes += it->len;
	seq = ++o->queued;
	pthread_cond_signal(&o->more);
	pthread_mutex_unlock(&o->lock);
	return seq;
}

/* Waits until the writer has written item seq and all before it. */
static void wait_written(alloter_output *o, uint64_t seq)
{
	pthread_mutex_lock(&o->lock);
	while (o->done < seq)
		pthread_cond_wait(&o->written, &o->lock);
	pthread_mutex_unlock(&o->lock);
}

static int queue_bytes(alloter_output *o, int stream, const void *buf,
                       size_t len)
{
	struct item *it = item_new(o, ITEM_BYTES, len);

	if (!it)
		return -ENOMEM;
	it->stream = stream;
	memcpy(it->data, buf, len);
	enqueue(o, it);
	return 0;
}

int alloter_output_status(alloter_output *o, const char *line)
{
	size_t len = line ? strlen(line) : 0;
	struct item *it = item_new(o, ITEM_STATUS, len);

	if (!it)
		return -ENOMEM;
	memcpy(it->data, line ? line : "", len);
	enqueue(o, it);
	return 0;
}

int alloter_output_write(alloter_output *o, int stream, const void *buf,
                         size_t len)
{
	return len ? queue_bytes(o, stream == 2 ? 2 : 1, buf, len) : 0;
}

int alloter_output_release(alloter_output *o, size_t index)
{
	struct item *it;

	if (!o->opts.keep_order && !o->opts.hold)
		return 0;
	if (!(it = item_new(o, ITEM_RELEASE, 0)))
		return -ENOMEM;
	it->index = index;
	enqueue(o, it);
	return 0;
}

int alloter_output_flush(alloter_output *o)
{
	struct item *it = item_new(o, ITEM_FLUSH, 0);

	if (!it)
		return -ENOMEM;
	wait_written(o, enqueue(o, it));
	return 0;
}

void alloter_output_free(alloter_output *o)
{
	if (!o)
		return;
	alloter_output_flush(o);
	pthread_mutex_lock(&o->lock);
	o->stopping = true;
	pthread_cond_signal(&o->more);
	pthread_mutex_unlock(&o->lock);
	if (o->started)
		pthread_join(o->writer, NULL);
	pthread_cond_destroy(&o->written);
	pthread_cond_destroy(&o->more);
	pthread_mutex_destroy(&o->lock);
	while (o->spare) {
		struct item *it = o->spare;

		o->spare = it->next;
		free(it);
	}
	pthread_mutex_destroy(&o->spare_lock);
	if (o->pool_fd >= 0)
		close(o->pool_fd);
	if (o->room_fd >= 0)
		close(o->room_fd);
	free(o);
}

/* ---- the writer's side ---- */

int al_output_fd(const alloter_output *o, int stream)
{
	return stream == 2 ? o->opts.err_fd : o->opts.out_fd;
}

/* Notes a failed write: EPIPE turns the output broken (and says so once);
 * anything else is kept as the output's first error.  Returns err. */
static int failed(alloter_output *o, int err)
{
	int none = 0;

	if (err == -EPIPE) {
		if (!atomic_exchange(&o->broken, true) && o->opts.broken)
			alloter_cancel_fire(o->opts.broken,
			                    ALLOTER_CANCEL_CALLER);
	} else {
		atomic_compare_exchange_strong(&o->err, &none, err);
	}
	return err;
}

/* Writes all of buf, riding out EINTR, short writes and a non-blocking
 * descriptor. */
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
				return failed(o, -errno);
		} else if (errno != EINTR) {
			return failed(o, -errno);
		}
	}
	return 0;
}

/* Erases the status line before anything else lands on the screen. */
static int write_all(alloter_output *o, int fd, const char *buf, size_t n)
{
	if (o->status_shown && n > 0) {
		o->status_shown = false;
		raw_write(o, o->opts.err_fd, "\r\033[K", 4);
	}
	return raw_write(o, fd, buf, n);
}

static int flush_stage(alloter_output *o, int fd)
{
	int err = write_all(o, fd, o->stage, o->staged);

	o->staged = 0;
	return err;
}

/* Writes data to fd, each line prefixed with the sink's tag if it has one;
 * *bol says whether data starts a line and is updated for the next call.
 * The caller flushes the stage at the end. */
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

/* Moves len bytes of src to fd in the kernel, when nothing has to be
 * added to the lines: from a pipe (at NULL) with splice, else from a file
 * at *at with sendfile.  Returns 0 (also when src ends early), a negative
 * errno value, or 1 when fd takes neither and the caller must copy. */
static int send_kernel(alloter_output *o, int fd, int src, off_t *at,
                       off_t len)
{
	off_t left = len;

	while (left > 0) {
		ssize_t n = at ? sendfile(fd, src, at, (size_t)left)
		               : splice(src, NULL, fd, NULL, (size_t)left, 0);

		if (n > 0) {
			left -= n;
		} else if (n == 0) {
			return 0;
		} else if (errno == EINTR) {
			continue;
		} else if (errno == EAGAIN) { /* fd is non-blocking */
			struct pollfd p = {.fd = fd, .events = POLLOUT};
			if (poll(&p, 1, -1) < 0 && errno != EINTR)
				return failed(o, -errno);
		} else if ((errno == EINVAL || errno == ENOSYS) && left == len) {
			return 1; /* a terminal, say */
		} else {
			return failed(o, -errno);
		}
	}
	return 0;
}

/* Writes len bytes of src to fd: a pipe when at < 0, else a file from at.
 * In the kernel when nothing is added to the lines, else through user
 * space, tagging them; *bol as for emit. */
static int send_out(alloter_output *o, int fd, const struct al_sink *s,
                    int src, off_t at, off_t len, bool *bol)
{
	bool pipe = at < 0;
	int err = 1;
	char buf[65536];

	if (!s->prefix && !atomic_load(&o->broken))
		err = send_kernel(o, fd, src, pipe ? NULL : &at, len);
	if (err != 1)
		return err;
	err = 0;
	while (!err && len > 0) {
		size_t want = len > (off_t)sizeof buf ? sizeof buf : (size_t)len;
		ssize_t r = pipe ? read(src, buf, want) : pread(src, buf, want, at);

		if (r == 0)
			break;
		if (r < 0 && errno == EINTR)
			continue;
		err = r < 0 ? -errno : emit(o, fd, s, buf, (size_t)r, bol);
		if (r > 0) {
			at += pipe ? 0 : r;
			len -= r;
		}
	}
	return err ? err : flush_stage(o, fd);
}

/* Writes one sink's held output: its buffer, its banks, its spill. */
static int write_held(struct al_sink *s)
{
	alloter_output *o = s->o;
	int fd = al_output_fd(o, s->stream), err;
	bool bol = !s->mid_line;

	err = emit(o, fd, s, s->buf, s->len, &bol);
	if (!err)
		err = flush_stage(o, fd);
	for (size_t i = 0; i < s->nbank && !err; i++)
		err = send_out(o, fd, s, s->bank[i].r, -1,
		               (off_t)s->bank[i].used, &bol);
	if (!err && s->pooled)
		err = send_out(o, fd, s, o->pool_fd, s->pool_off, s->pool_len,
		               &bol);
	else if (!err && s->spilling)
		err = send_out(o, fd, s, s->spill_fd, 0, s->spilled, &bol);
	/* A tagged block whose last line has no newline gets one, so the
	 * next block's first tag starts a line of its own. */
	if (!err && s->prefix && !bol && s->bytes > 0)
		err = write_all(o, fd, "\n", 1);
	o->staged = 0;
	return err;
}

/* Keep-order may hold many finished blocks: their spill files move into
 * one shared file, so held output keeps no spill descriptor of its own
 * and the descriptors stay with the running tasks.  If the move fails,
 * the block keeps its own file.  Banks stay: BANKS bounds them. */
static void pool_spill(alloter_output *o, struct al_sink *s)
{
	off_t in = 0, out, size = s->spilled;

	if (!s->spilling)
		return;
	if (o->pool_fd < 0 && (o->pool_fd = spill_file(o)) < 0) {
		o->pool_fd = -1;
		return;
	}
	out = o->pool_end;
	while (in < size) {
		ssize_t n = copy_file_range(s->spill_fd, &in, o->pool_fd, &out,
		                            (size_t)(size - in), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			char buf[65536];
			ssize_t r = pread(s->spill_fd, buf, sizeof buf, in);

			/* Only this thread writes the pool. */
			if (r <= 0 || lseek(o->pool_fd, out, SEEK_SET) < 0 ||
			    write_fully(o->pool_fd, buf, (size_t)r))
				return; /* it stays in its own file */
			in += r;
			out += r;
		}
	}
	s->pooled = true;
	s->spilling = false;
	s->pool_off = o->pool_end;
	s->pool_len = s->spilled;
	o->pool_end += s->spilled;
	close(s->spill_fd);
	s->spill_fd = -1;
}

static void close_w(struct al_bank *b)
{
	if (b->w >= 0)
		close(b->w);
	b->w = -1;
}

/* Closes bank b and gives its slot back. */
static void bank_close(alloter_output *o, struct al_bank *b)
{
	close_w(b);
	close(b->r);
	atomic_fetch_and(&o->banks, ~(1u << b->slot));
}

static void release(struct al_sink *s)
{
	for (size_t i = 0; i < s->nbank; i++)
		bank_close(s->o, &s->bank[i]);
	free(s->bank);
	s->bank = NULL;
	s->nbank = 0;
	free(s->buf);
	free(s->prefix);
	s->buf = s->prefix = NULL;
	s->len = s->cap = 0;
	if (s->spill_fd >= 0)
		close(s->spill_fd);
	s->spill_fd = -1;
	s->spilling = false;
	s->spilled = 0;
	/* Written out: its place in the pool is given back to the disk. */
	if (s->pooled && s->pool_len > 0)
		fallocate(s->o->pool_fd, FALLOC_FL_PUNCH_HOLE |
		          FALLOC_FL_KEEP_SIZE, s->pool_off, s->pool_len);
	s->pooled = false;
}

static void write_block(struct block *b)
{
	write_held(&b->out);
	write_held(&b->err);
	release(&b->out);
	release(&b->err);
	free(b);
}

/* The held entry for index, made if need be.  New indices mostly come
 * last, so the search starts at the tail. */
static struct held *held_at(alloter_output *o, size_t index)
{
	struct held *h = o->htail, *n;

	while (h && h->index > index)
		h = h->prev;
	if (h && h->index == index)
		return h;
	n = calloc(1, sizeof *n);
	if (!n)
		return NULL;
	n->index = index;
	n->prev = h;
	n->next = h ? h->next : o->hhead;
	if (n->next)
		n->next->prev = n;
	else
		o->htail = n;
	if (h)
		h->next = n;
	else
		o->hhead = n;
	return n;
}

/* Writes and frees entry h. */
static void write_entry(alloter_output *o, struct held *h)
{
	if (h->prev)
		h->prev->next = h->next;
	else
		o->hhead = h->next;
	if (h->next)
		h->next->prev = h->prev;
	else
		o->htail = h->prev;
	while (h->first) {
		struct block *b = h->first;

		h->first = b->next;
		write_block(b);
	}
	if (h->index >= o->next_index)
		o->next_index = h->index + 1;
	free(h);
}

/* Writes every final entry that is next in line. */
static void write_ready(alloter_output *o)
{
	while (o->hhead && o->hhead->final &&
	       o->hhead->index <= o->next_index)
		write_entry(o, o->hhead);
}

/* Keep-order: a block waits for its index's turn.  Without memory for
 * that, it goes out now: out of order, but not lost. */
static void hold_block(alloter_output *o, struct block *b)
{
	struct held *h = !o->opts.keep_order || b->out.index >= o->next_index
	                         ? held_at(o, b->out.index) : NULL;

	if (!h) {
		write_block(b);
		return;
	}
	pool_spill(o, &b->out);
	pool_spill(o, &b->err);
	if (h->last)
		h->last->next = b;
	else
		h->first = b;
	h->last = b;
}

static void mark_final(alloter_output *o, size_t index)
{
	struct held *h;

	/* An index already written out needs nothing more. */
	if (o->opts.keep_order && index < o->next_index)
		return;
	h = held_at(o, index);
	if (!h) {
		failed(o, -ENOMEM);
		return;
	}
	h->final = true;
	if (o->opts.keep_order)
		write_ready(o);
	else
		write_entry(o, h); /* hold alone: out at once */
}

static void write_status(alloter_output *o, const struct item *it)
{
	int err = raw_write(o, o->opts.err_fd, "\r", 1);

	if (!err && it->len)
		err = raw_write(o, o->opts.err_fd, it->data, it->len);
	if (!err)
		raw_write(o, o->opts.err_fd, "\033[K", 3);
	o->status_shown = it->len != 0;
}

static void write_item(alloter_output *o, struct item *it)
{
	switch (it->kind) {
	case ITEM_BYTES:
		write_all(o, al_output_fd(o, it->stream), it->data, it->len);
		break;
	case ITEM_BLOCK:
		if (o->opts.keep_order || o->opts.hold)
			hold_block(o, it->block);
		else
			write_block(it->block);
		break;
	case ITEM_RELEASE:
		mark_final(o, it->index);
		break;
	case ITEM_STATUS:
		write_status(o, it);
		break;
	case ITEM_FLUSH:
		while (o->hhead)
			write_entry(o, o->hhead);
		break;
	}
}

static void *writer(void *arg)
{
	alloter_output *o = arg;

	pthread_mutex_lock(&o->lock);
	for (;;) {
		struct item *it;
		uint64_t n = 0;
		size_t bytes = 0;

		while (!o->head && !o->stopping)
			pthread_cond_wait(&o->more, &o->lock);
		if (!o->head)
			break;
		it = o->head;
		o->head = o->tail = NULL;
		pthread_mutex_unlock(&o->lock);
		while (it) {
			struct item *next = it->next;

			if (it->kind == ITEM_BYTES)
				bytes += it->len;
			write_item(o, it);
			item_free(o, it);
			n++;
			it = next;
		}
		pthread_mutex_lock(&o->lock);
		o->done += n;
		o->queued_bytes -= bytes;
		pthread_cond_broadcast(&o->written);
	}
	pthread_mutex_unlock(&o->lock);
	return NULL;
}

/* ---- the tasks' side: sinks ---- */

int al_sink_init(struct al_sink *s, alloter_output *o, int stream,
                 const char *name, size_t index)
{
	*s = (struct al_sink){.o = o, .stream = stream, .index = index,
	                      .spill_fd = -1};
	return al_sink_retag(s, name);
}

int al_sink_retag(struct al_sink *s, const char *name)
{
	alloter_output *o = s->o;
	char *prefix;
	bool color;
	int n;

	if (!o || !o->opts.tag || o->opts.mode == ALLOTER_OUTPUT_RAW)
		return 0;
	/* Six colours, by index, so neighbours differ. */
	color = s->stream == 2 ? o->opts.color_err : o->opts.color_out;
	n = color ? asprintf(&prefix, "\033[3%zum%s\033[0m\t",
	                     1 + s->index % 6, name)
	          : asprintf(&prefix, "%s\t", name);
	if (n < 0)
		return -ENOMEM;
	free(s->prefix);
	s->prefix = prefix;
	s->prefix_len = (size_t)n;
	return 0;
}

bool al_sink_backlogged(const struct al_sink *s)
{
	alloter_output *o = s->o;
	bool full;

	if (!o || (o->opts.mode != ALLOTER_OUTPUT_LINE &&
	           o->opts.mode != ALLOTER_OUTPUT_RAW))
		return false;
	pthread_mutex_lock(&o->lock);
	full = o->queued_bytes > QUEUE_MAX;
	pthread_mutex_unlock(&o->lock);
	return full;
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

/* Writes all of data to a file (a spill or a copy); 0 or -errno. */
static int write_fully(int fd, const char *data, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, data, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		data += w;
		n -= (size_t)w;
	}
	return 0;
}

/* From here on, the rest of the block goes to a spill file. */
static int spill_start(struct al_sink *s)
{
	if ((s->spill_fd = spill_file(s->o)) < 0) {
		int err = s->spill_fd;

		s->spill_fd = -1;
		return err;
	}
	s->spilling = true;
	return 0;
}

static int spill(struct al_sink *s, const char *data, size_t n)
{
	int err = s->spilling ? 0 : spill_start(s);

	if (!err && !(err = write_fully(s->spill_fd, data, n)))
		s->spilled += (off_t)n;
	return err;
}

/* Moves what pipe_fd holds to the spill file; returns as
 * al_sink_splice. */
static ssize_t spill_splice(struct al_sink *s, int pipe_fd)
{
	ssize_t n = splice(pipe_fd, NULL, s->spill_fd, NULL, 1 << 20,
	                   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);

	if (n > 0) {
		s->bytes += (uint64_t)n;
		s->spilled += n;
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

/* The output's file for the banks' room, made if need be, or -errno. */
static int room_fd(alloter_output *o)
{
	int fd = atomic_load(&o->room_fd), none = -1;

	if (fd >= 0)
		return fd;
	if ((fd = spill_file(o)) < 0)
		return fd;
	if (!atomic_compare_exchange_strong(&o->room_fd, &none, fd)) {
		close(fd); /* another thread's came first */
		return none;
	}
	return fd;
}

/* A free slot, taken, or -1. */
static int slot_take(alloter_output *o)
{
	unsigned used = atomic_load(&o->banks), k;

	do {
		for (k = 0; k < o->banks_max && used & (1u << k); k++)
			;
		if (k == o->banks_max)
			return -1;
	} while (!atomic_compare_exchange_weak(&o->banks, &used,
	                                       used | (1u << k)));
	return (int)k;
}

/* A new bank after s's others: 0; 1 when it is refused (the output has
 * all the banks it may, or the kernel would not give the pipe room
 * enough); or a negative errno when the spool has no room for it. */
static int bank_open(struct al_sink *s)
{
	alloter_output *o = s->o;
	struct al_bank *b;
	int fd[2] = {-1, -1}, slot = slot_take(o), room, err = 1;

	if (slot < 0)
		return 1;
	if (!(b = realloc(s->bank, (s->nbank + 1) * sizeof *b)))
		goto refused;
	s->bank = b;
	if (pipe2(fd, O_CLOEXEC | O_NONBLOCK) < 0)
		goto refused;
	if (fcntl(fd[1], F_SETPIPE_SZ, BANK_PIPE) < BANK_PIPE)
		goto refused;
	err = 0;
	if (!(atomic_load(&o->roomed) & (1u << slot)) &&
	    (err = room = room_fd(o)) >= 0) {
		while ((err = fallocate(room, 0, (off_t)slot * BANK_PIPE,
		                        BANK_PIPE)) && errno == EINTR)
			;
		if (err)
			err = errno == EOPNOTSUPP ? 1 : -errno;
		else
			atomic_fetch_or(&o->roomed, 1u << slot);
	}
	if (err)
		goto refused;
	if (s->nbank)
		close_w(&s->bank[s->nbank - 1]);
	s->bank[s->nbank++] = (struct al_bank){.r = fd[0], .w = fd[1],
	                                       .slot = (unsigned)slot};
	return 0;
refused:
	if (fd[0] >= 0) {
		close(fd[0]);
		close(fd[1]);
	}
	atomic_fetch_and(&o->banks, ~(1u << slot));
	return err;
}

/* The last bank, if it takes more; else a new one, or NULL with *err as
 * bank_open's. */
static struct al_bank *bank_last(struct al_sink *s, int *err)
{
	struct al_bank *b = s->nbank ? &s->bank[s->nbank - 1] : NULL;

	if (b && b->used >= BANK_PIPE)
		close_w(b);
	if ((!b || b->w < 0) && (*err = bank_open(s)))
		return NULL;
	return &s->bank[s->nbank - 1];
}

/* Appends data to the banks; what they refuse spills.  0 or -errno. */
static int bank_write(struct al_sink *s, const char *data, size_t n)
{
	struct al_bank *b;
	int err = 0;

	while (n > 0 && (b = bank_last(s, &err))) {
		ssize_t w = write(b->w, data, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno != EAGAIN)
			return -errno;
		if (w <= 0) { /* full, short of BANK_PIPE: see BANK_MOVE_MIN */
			close_w(b);
			continue;
		}
		b->used += (size_t)w;
		data += w;
		n -= (size_t)w;
	}
	if (n == 0)
		return 0;
	return err < 0 ? err : spill(s, data, n);
}

/* Moves what pipe_fd holds into the banks, or once they are refused to
 * the spill file; returns as al_sink_splice. */
static ssize_t bank_splice(struct al_sink *s, int pipe_fd)
{
	char small[BANK_MOVE_MIN];
	struct al_bank *b;
	int queued, err = 0;
	ssize_t n;

	if (ioctl(pipe_fd, FIONREAD, &queued) < 0)
		queued = BANK_MOVE_MIN;
	/* Nothing queued is an empty pipe or its end: the splice says
	 * which. */
	if (queued > 0 && queued < BANK_MOVE_MIN) {
		n = read(pipe_fd, small, (size_t)queued);
		if (n <= 0)
			return n < 0 ? -errno : 0;
		s->bytes += (uint64_t)n;
		if ((err = bank_write(s, small, (size_t)n)))
			s->err = err;
		return err ? err : n;
	}
	while ((b = bank_last(s, &err))) {
		n = splice(pipe_fd, NULL, b->w, NULL, BANK_PIPE - b->used,
		           SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n > 0) {
			b->used += (size_t)n;
			s->bytes += (uint64_t)n;
			return n;
		}
		if (n == 0 || errno != EAGAIN || queued == 0) {
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				s->err = -errno;
			return n < 0 ? -errno : 0;
		}
		close_w(b); /* full, short of BANK_PIPE */
	}
	if (err > 0)
		err = spill_start(s);
	if (err < 0) {
		s->err = err;
		return err;
	}
	return spill_splice(s, pipe_fd);
}

/* Group: whether the block outgrew its buffer, so that what follows goes
 * to the banks (only a sink that can splice lets the buffer outgrow). */
static bool banking(const struct al_sink *s)
{
	return s->len > HOLD_BYTES;
}

/* Whether the pipe's output may go straight to the sink's banks or
 * spill file: nothing has to see it on the way. */
static bool splice_ok(const struct al_sink *s)
{
	return s->o->opts.mode == ALLOTER_OUTPUT_GROUP && !s->err &&
	       s->copy_fd <= 0 && !s->tail;
}

static int feed_group(struct al_sink *s, const char *data, size_t n)
{
	int err;

	/* The read that outgrows the buffer still goes in it; what follows
	 * goes to the banks (al_sink_splice). */
	if (!banking(s) && !s->spilling &&
	    (s->len + n <= HOLD_BYTES || splice_ok(s))) {
		if ((err = reserve(s, n)))
			return err;
		memcpy(s->buf + s->len, data, n);
		s->len += n;
		return 0;
	}
	if (banking(s) && !s->spilling)
		return bank_write(s, data, n);
	return spill(s, data, n);
}

/* Queues a and then b (the sink's partial line, then new data), tagged
 * line by line; *bol says whether they start a line and is updated. */
static int queue_tagged(struct al_sink *s, const char *a, size_t na,
                        const char *b, size_t nb, bool *bol)
{
	size_t lines = *bol, len = na + nb, at = 0;
	const char *part[2] = {a, b};
	size_t plen[2] = {na, nb};
	struct item *it;

	if (len == 0)
		return 0;
	for (int p = 0; p < 2 && s->prefix; p++)
		for (const char *d = part[p], *end = d + plen[p];
		     plen[p] && (d = memchr(d, '\n', (size_t)(end - d)));
		     d++)
			lines++;
	it = item_new(s->o, ITEM_BYTES,
	              len + (s->prefix ? lines * s->prefix_len : 0));
	if (!it)
		return -ENOMEM;
	it->stream = s->stream;
	for (int p = 0; p < 2; p++) {
		const char *d = part[p], *end = d + plen[p];

		/* Line by line with a tag; all at once without one. */
		while (d < end) {
			size_t left = (size_t)(end - d);
			const char *nl = s->prefix ? memchr(d, '\n', left) : NULL;
			size_t take = nl ? (size_t)(nl - d) + 1 : left;

			if (*bol && s->prefix) {
				memcpy(it->data + at, s->prefix, s->prefix_len);
				at += s->prefix_len;
			}
			memcpy(it->data + at, d, take);
			at += take;
			d += take;
			*bol = d[-1] == '\n';
		}
	}
	it->len = at;
	enqueue(s->o, it);
	return 0;
}

static int feed_line(struct al_sink *s, const char *data, size_t n)
{
	const char *last = memrchr(data, '\n', n);
	size_t whole = last ? (size_t)(last - data) + 1 : 0;
	int err = 0;

	if (whole || s->len + n > LINE_MAX_HOLD) {
		bool bol = !s->mid_line;

		if (!last) /* a line too long to hold: out it goes, in parts */
			whole = n;
		err = queue_tagged(s, s->buf, s->len, data, whole, &bol);
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

/* The last bytes of what is fed: the old tail's end, then data's. */
static void keep_tail(struct al_sink *s, const char *data, size_t n)
{
	size_t keep;

	if (n >= ALLOTER_ERR_TAIL) {
		memcpy(s->tail, data + n - ALLOTER_ERR_TAIL, ALLOTER_ERR_TAIL);
		s->tail_len = ALLOTER_ERR_TAIL;
		return;
	}
	keep = s->tail_len + n > ALLOTER_ERR_TAIL ? ALLOTER_ERR_TAIL - n
	                                           : s->tail_len;
	memmove(s->tail, s->tail + s->tail_len - keep, keep);
	memcpy(s->tail + keep, data, n);
	s->tail_len = keep + n;
}

int al_sink_feed(struct al_sink *s, const char *data, size_t n)
{
	bool bol = true;
	int err = 0;

	s->bytes += n;
	if (s->err)
		return s->err; /* already lost: keep counting, drop the rest */
	if (s->tail)
		keep_tail(s, data, n);
	/* The copy first, whole: it is what the caller keeps. */
	if (s->copy_fd > 0 && (err = write_fully(s->copy_fd, data, n))) {
		s->err = err;
		return err;
	}
	switch (s->o->opts.mode) {
	case ALLOTER_OUTPUT_GROUP:
		err = feed_group(s, data, n);
		break;
	case ALLOTER_OUTPUT_LINE:
		err = feed_line(s, data, n);
		break;
	case ALLOTER_OUTPUT_RAW: /* read only for its copy: on at once */
		err = queue_tagged(s, NULL, 0, data, n, &bol);
		break;
	case ALLOTER_OUTPUT_NONE:
		break;
	}
	if (err)
		s->err = err;
	return err;
}

ssize_t al_sink_splice(struct al_sink *s, int pipe_fd)
{
	if (!splice_ok(s))
		return -ENOTSUP;
	if (s->spilling)
		return spill_splice(s, pipe_fd);
	return banking(s) ? bank_splice(s, pipe_fd) : -ENOTSUP;
}

/* Line mode: a last line without a newline ends with one when tagged, so
 * the next task's tag starts a line of its own. */
static int finish_line(struct al_sink *s)
{
	bool bol = !s->mid_line;
	int err = 0;

	if (s->len || s->mid_line)
		err = queue_tagged(s, s->buf, s->len,
		                   s->prefix ? "\n" : "", s->prefix ? 1 : 0,
		                   &bol);
	release(s);
	return err;
}

int al_sink_finish(struct al_sink *out, struct al_sink *err)
{
	alloter_output *o = out->o;
	int e1 = out->err ? out->err : err->err;
	struct block *b;
	struct item *it;

	if (o->opts.mode == ALLOTER_OUTPUT_NONE) {
		release(out);
		release(err);
		return e1;
	}
	if (o->opts.mode != ALLOTER_OUTPUT_GROUP) {
		int e2 = finish_line(out), e3 = finish_line(err);

		return e1 ? e1 : e2 ? e2 : e3;
	}
	/* A block that could not be kept whole is lost: none of it goes
	 * out, so no reader mistakes a part for the whole.  An empty one
	 * would only cost the writer a wake-up. */
	if (e1 || (out->bytes == 0 && err->bytes == 0)) {
		release(out);
		release(err);
		return e1;
	}
	b = malloc(sizeof *b);
	it = item_new(o, ITEM_BLOCK, 0);
	if (!b || !it) {
		free(b);
		free(it);
		release(out);
		release(err);
		return -ENOMEM;
	}
	/* The block owns the buffers, banks and files now; a bank that
	 * was not filled is not written to any more. */
	b->out = *out;
	b->err = *err;
	b->next = NULL;
	for (int i = 0; i < 2; i++) {
		struct al_sink *s = i ? &b->err : &b->out;

		for (size_t k = 0; k < s->nbank; k++)
			close_w(&s->bank[k]);
	}
	out->buf = err->buf = out->prefix = err->prefix = NULL;
	out->spill_fd = err->spill_fd = -1;
	out->bank = err->bank = NULL;
	out->nbank = err->nbank = 0;
	it->block = b;
	enqueue(o, it);
	return 0;
}
