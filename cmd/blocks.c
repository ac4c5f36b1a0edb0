/*
 * blocks.c - cutting standard input into blocks for --pipe.  At most one
 * block and one read are held, so memory follows --block, not the input;
 * a block goes out only when a task can take it, so a slow task holds the
 * producer back through the pipe instead of alloter's memory growing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blocks.h"
#include "linereader.h"

#define READ_SIZE 65536

void blocks_init(struct blocks *b, int fd, size_t size, const char *recend,
                 size_t recend_len)
{
	*b = (struct blocks){.fd = fd, .size = size, .recend = recend,
	                     .recend_len = recend_len};
}

void blocks_free(struct blocks *b)
{
	free(b->buf);
	b->buf = NULL;
}

/* The end of the last record end in buf[0..n), or 0 if there is none. */
static size_t last_end(const struct blocks *b, size_t n)
{
	for (size_t i = n; i >= b->recend_len && i > 0; i--)
		if (memcmp(b->buf + i - b->recend_len, b->recend,
		           b->recend_len) == 0)
			return i;
	return 0;
}

/* The end of the first record end at or after from, or 0. */
static size_t first_end(const struct blocks *b, size_t from)
{
	size_t at = from >= b->recend_len ? from - b->recend_len + 1 : 0;
	const char *p = at < b->len
	                        ? memmem(b->buf + at, b->len - at, b->recend,
	                                 b->recend_len)
	                        : NULL;

	return p ? (size_t)(p - b->buf) + b->recend_len : 0;
}

/* One read, if it will not block; 0, -EAGAIN or -errno. */
static int read_more(struct blocks *b)
{
	ssize_t n;

	if (b->cap - b->len < READ_SIZE) {
		size_t cap = b->cap ? b->cap * 2 : b->size + READ_SIZE;
		char *q = realloc(b->buf, cap);

		if (!q)
			return -ENOMEM;
		b->buf = q;
		b->cap = cap;
	}
	if ((n = read_ready(b->fd, b->buf + b->len, b->cap - b->len)) < 0)
		return (int)n;
	if (n == 0)
		b->eof = true;
	b->len += (size_t)n;
	return 0;
}

int blocks_next(struct blocks *b, char **data, size_t *len)
{
	size_t cut = 0;
	int err;

	for (;;) {
		if (b->len >= b->size &&
		    (cut = last_end(b, b->size)) == 0)
			cut = first_end(b, b->size);
		if (cut || b->eof)
			break;
		if ((err = read_more(b)))
			return err;
	}
	if (!cut)
		cut = b->len; /* the end of the input ends the last block */
	if (cut == 0)
		return -ENODATA;
	if (!(*data = malloc(cut)))
		return -ENOMEM;
	memcpy(*data, b->buf, cut);
	*len = cut;
	memmove(b->buf, b->buf + cut, b->len - cut);
	b->len -= cut;
	return 0;
}
