/*
 * output.h - how a process task hands its stdout and stderr to the shared
 * output: one sink per stream, fed with what the pipe gives, finished when
 * the task ends.
 */
#ifndef AL_OUTPUT_H
#define AL_OUTPUT_H

#include <sys/types.h>

#include "alloter.h"

struct al_bank;

struct al_sink {
	alloter_output *o;
	int stream;          /* 1 or 2 */
	size_t index;        /* the task's, for keep-order */
	char *prefix;        /* the tag ("name\t", maybe coloured), or NULL */
	size_t prefix_len;
	char *buf;           /* group: the head of the block; line: a partial
	                        line */
	size_t len, cap;
	struct al_bank *bank; /* group: pipes holding what follows buf, in
	                        order, before anything spilled */
	size_t nbank;        /* (used once buf outgrows 64 KiB) */
	bool spilling;       /* group: past the banks, the block goes to a
	                        file, */
	int spill_fd;        /* this one, or -1, */
	off_t spilled;       /* this many bytes so far */
	bool pooled;         /* keep-order: the rest moved to the output's
	                        shared pool file, at pool_off, pool_len bytes */
	off_t pool_off, pool_len;
	bool mid_line;       /* line: part of a line already went out */
	int copy_fd;         /* also written here as it comes; 0: none */
	char *tail;          /* the last bytes fed (ALLOTER_ERR_TAIL of room,
	                        the caller's) are kept here; NULL: not kept */
	size_t tail_len;
	uint64_t bytes;      /* everything fed */
	int err;             /* the first error keeping output (-errno) */
};

/* The descriptor stream (1 or 2) goes to. */
int al_output_fd(const alloter_output *o, int stream);
/* Returns 0 or -ENOMEM (the tag could not be made). */
int al_sink_init(struct al_sink *s, alloter_output *o, int stream,
                 const char *name, size_t index);
/* Makes the tag name instead, before anything was fed.  Returns 0 or
 * -ENOMEM (the old tag is kept). */
int al_sink_retag(struct al_sink *s, const char *name);
/* Whether line output waits unwritten past the output's bound: then the
 * task is not read from (its pipe pushes back) until it goes out. */
bool al_sink_backlogged(const struct al_sink *s);
/* Takes n bytes the task wrote.  Group mode keeps them (in bank pipes
 * past a small buffer, then in an unlinked file); line mode writes every
 * complete line and keeps the rest.  Returns 0 or the sink's error. */
int al_sink_feed(struct al_sink *s, const char *data, size_t n);
/* Group mode, once a block outgrows its buffer: moves what the pipe holds
 * into the sink's bank pipes, or once those are refused into its spill
 * file, without copying through user space.  Returns the bytes moved, 0
 * at end of file, -EAGAIN when the pipe is empty, -ENOTSUP when this sink
 * cannot take it (read and feed instead), or another negative errno (the
 * output is then lost, and the sink says so). */
ssize_t al_sink_splice(struct al_sink *s, int pipe_fd);
/* Hands what is left to the output's writer: group mode both blocks,
 * stdout's then stderr's, as one item (none of it if either sink lost
 * output); line mode the partial lines.  Never waits for a write.
 * Releases the sinks' memory and files.  Returns 0 or the sinks' first
 * error. */
int al_sink_finish(struct al_sink *out, struct al_sink *err);

#endif
