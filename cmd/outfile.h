/*
 * outfile.h - where --report and --joblog write.  A regular file, or a
 * path that does not exist yet, is written as a temporary file next to it
 * and renamed over it only once complete; anything else (a device, a FIFO,
 * a socket, also through a symlink) is written to directly, and alloter's
 * own standard output or error, however named, through the output's lock.
 * A live file (the job log, read while the run goes on) is written under
 * its own name instead, and removed if a write to it fails.
 */
#ifndef CMD_OUTFILE_H
#define CMD_OUTFILE_H

#include <stdbool.h>
#include <stdio.h>

#include "alloter.h"

struct outfile {
	FILE *f;            /* what to write with */
	char *path;         /* where a temporary file is renamed to */
	char *tmp;          /* the temporary file, or NULL: written directly */
	bool live;          /* write a regular file under its own name */
	bool live_file;     /* and this is one */
	bool append;        /* a live file written at its end, never removed:
	                       what it held before is not ours to lose */
	int err;            /* the first failed write (-errno), or 0 */
};

/* Opens path for writing, never blocking: a FIFO without a reader is
 * waited for, while an interrupt (blocked, not yet taken by the signal
 * thread) ends the wait.  Writes through o when path is descriptor 1's or
 * 2's file.  A regular file is truncated and written in place when live
 * is set.  Returns 0 and *out; -EISDIR for a directory; -EINTR with *sig
 * set when a signal came first; another negative errno value. */
int outfile_open(struct outfile **out, const char *path, bool live,
                 alloter_output *o, int *sig);
/* The same for a live file that is appended to (--joblog +FILE, --resume):
 * a regular file keeps what it holds, and is never removed. */
int outfile_open_append(struct outfile **out, const char *path,
                        alloter_output *o, int *sig);
/* Whether paths a and b name the same file, existing (by device and
 * inode; a character device such as a terminal or /dev/null may be
 * shared) or not yet (by the resolved path).  Ask before opening. */
bool outfile_same(const char *a, const char *b);
/* Notes a failed write (errno), the first one only. */
void outfile_failed(struct outfile *of);
/* Flushes, and renames a temporary file into place when keep is set and
 * no write failed (else it is removed, and so is a live file after a
 * failed write or when keep is not set); frees of.  Returns 0 or the
 * first error. */
int outfile_close(struct outfile *of, bool keep);
/* Removes the temporary file, leaving everything else alone: for a run
 * that leaves without waiting for a stuck writer.  Async-signal-safe. */
void outfile_abandon(struct outfile *of);

#endif
