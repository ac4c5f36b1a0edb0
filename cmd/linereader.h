/*
 * linereader.h - commands read one per line from a descriptor without ever
 * blocking, so the executor can wait for input and for tasks in one poll().
 */
#ifndef CMD_LINEREADER_H
#define CMD_LINEREADER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct lines {
	int fd;
	char delim;           /* what ends a line: '\n', or NUL for -0 */
	char *buf;
	size_t start, scan, end, cap;
	bool eof;
};

void lines_init(struct lines *l, int fd, char delim);
/* Returns 0 and *line (NUL-terminated, valid until the next call; *len
 * bytes, which may hold a NUL of the input's own); -EAGAIN when no whole
 * line is there yet (poll fd, then call again); -ENODATA at the end of the
 * input; or another negative errno value on a read error.  A last line
 * without a newline still counts. */
int lines_next(struct lines *l, char **line, size_t *len);
void lines_free(struct lines *l);
/* One read of what fd holds now, never blocking: the bytes read, 0 at the
 * end, -EAGAIN when there is nothing yet, or another negative errno. */
ssize_t read_ready(int fd, char *buf, size_t len);

#endif
