/*
 * lines.h - commands read one per line from a descriptor without ever
 * blocking, so the executor can wait for input and for tasks in one poll().
 */
#ifndef CMD_LINES_H
#define CMD_LINES_H

#include <stdbool.h>
#include <stddef.h>

struct lines {
	int fd;
	char *buf;
	size_t start, scan, end, cap;
	bool eof;
};

#define LINES_AGAIN 0   /* no complete line yet: poll fd, then call again */
#define LINES_END (-1)  /* end of input */

void lines_init(struct lines *l, int fd);
/* Returns 1 and *line (NUL-terminated, valid until the next call; *len
 * bytes, which may hold a NUL of the input's own), LINES_AGAIN, LINES_END,
 * or a negative errno value below -1 on a read error.  A last line without
 * a newline still counts. */
int lines_next(struct lines *l, char **line, size_t *len);
void lines_free(struct lines *l);

#endif
