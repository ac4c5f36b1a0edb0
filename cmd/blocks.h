/*
 * blocks.h - --pipe: standard input cut into blocks of about a size, each
 * ending at a record's end, read only when poll() says it will not block,
 * and only as fast as tasks take the blocks.
 */
#ifndef CMD_BLOCKS_H
#define CMD_BLOCKS_H

#include <stdbool.h>
#include <stddef.h>

struct blocks {
	int fd;
	size_t size;          /* --block */
	const char *recend;   /* --recend: what ends a record */
	size_t recend_len;
	char *buf;
	size_t len, cap;
	bool eof;
};

void blocks_init(struct blocks *b, int fd, size_t size, const char *recend,
                 size_t recend_len);
/* Returns 0 with the next block in *data (malloc'd, the caller's) of *len
 * bytes: at least size bytes where the input has them, cut after the last
 * record end within size (or, for a record longer than size, after its
 * own end); the input's last bytes end the last block whatever they end
 * with.  -EAGAIN when no whole block is there yet (poll fd, then call
 * again); -ENODATA at the end; another negative errno value on an error. */
int blocks_next(struct blocks *b, char **data, size_t *len);
void blocks_free(struct blocks *b);

#endif
