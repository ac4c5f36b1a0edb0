/*
 * linereader.c - a line reader that reads only when poll() says it will not
 * block, so standard input need not be put in non-blocking mode (which
 * would change it for every process sharing it).  The buffer holds one
 * line at most plus one read, so memory follows the longest line, not the
 * input.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "linereader.h"

#define READ_SIZE 65536

void lines_init(struct lines *l, int fd, char delim)
{
	*l = (struct lines){.fd = fd, .delim = delim};
}

void lines_free(struct lines *l)
{
	free(l->buf);
	l->buf = NULL;
}

/* Makes room for a read: moves the partial line to the front, then grows
 * the buffer if it is still too full. */
static int make_room(struct lines *l)
{
	if (l->start > 0) {
		memmove(l->buf, l->buf + l->start, l->end - l->start);
		l->end -= l->start;
		l->scan -= l->start;
		l->start = 0;
	}
	if (l->cap - l->end < READ_SIZE / 2) {
		size_t cap = l->cap ? l->cap * 2 : READ_SIZE;
		char *p = realloc(l->buf, cap + 1); /* +1: room for a NUL */

		if (!p)
			return -ENOMEM;
		l->buf = p;
		l->cap = cap;
	}
	return 0;
}

ssize_t read_ready(int fd, char *buf, size_t len)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	ssize_t n = poll(&p, 1, 0);

	if (n == 0 || (n < 0 && errno == EINTR))
		return -EAGAIN;
	if (n < 0)
		return -errno;
	n = read(fd, buf, len);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return -EAGAIN;
	return n < 0 ? -errno : n;
}

int lines_next(struct lines *l, char **line, size_t *len)
{
	for (;;) {
		char *nl = l->end > l->scan
		                   ? memchr(l->buf + l->scan, l->delim,
		                            l->end - l->scan)
		                   : NULL;
		ssize_t n;
		int err;

		if (nl) {
			*nl = '\0';
			*line = l->buf + l->start;
			*len = (size_t)(nl - *line);
			l->start = l->scan = (size_t)(nl - l->buf) + 1;
			return 0;
		}
		l->scan = l->end;
		if (l->eof) {
			if (l->start == l->end)
				return -ENODATA;
			l->buf[l->end] = '\0'; /* cap + 1 bytes exist */
			*line = l->buf + l->start;
			*len = l->end - l->start;
			l->start = l->scan = l->end;
			return 0;
		}
		if ((err = make_room(l)))
			return err;
		if ((n = read_ready(l->fd, l->buf + l->end, l->cap - l->end)) < 0)
			return (int)n;
		if (n == 0)
			l->eof = true;
		l->end += (size_t)n;
	}
}
