/*
 * outfile.c - opening and finishing the files --report and --joblog write.
 * Only a regular file or a new path is replaced (by renaming a complete
 * temporary file over it): renaming over /dev/null or a FIFO would put a
 * regular file in its place.  Everything else is written where it is.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outfile.h"
#include "signals.h"

/* How often a FIFO without a reader is tried again, and after how many
 * tries alloter says what it is waiting for. */
#define FIFO_RETRY_MS 50
#define FIFO_SAY_AFTER 20

struct stream_cookie {
	alloter_output *o;
	int stream;
};

/* Alloter's own stdout or stderr: queued behind the tasks' blocks and
 * lines, so nothing is written over or into them. */
static ssize_t stream_write(void *arg, const char *buf, size_t n)
{
	struct stream_cookie *c = arg;
	int err = alloter_output_write(c->o, c->stream, buf, n);

	if (err) {
		errno = -err;
		return -1;
	}
	return (ssize_t)n;
}

static int stream_close(void *arg)
{
	free(arg);
	return 0;
}

static int open_stream(struct outfile *of, alloter_output *o, int stream)
{
	struct stream_cookie *c = malloc(sizeof *c);
	cookie_io_functions_t io = {.write = stream_write,
	                            .close = stream_close};

	if (!c)
		return -ENOMEM;
	*c = (struct stream_cookie){.o = o, .stream = stream};
	if (!(of->f = fopencookie(c, "w", io))) {
		free(c);
		return -ENOMEM;
	}
	return 0;
}

/* The canonical name of a path that may not exist yet: its folder
 * resolved, so two spellings of one new file compare equal. */
static char *canonical(const char *path)
{
	char *a = strdup(path), *b = strdup(path), *dir = NULL, *out = NULL;

	if (a && b && (dir = realpath(dirname(a), NULL)) &&
	    asprintf(&out, "%s/%s", dir, basename(b)) < 0)
		out = NULL;
	free(dir);
	free(a);
	free(b);
	return out;
}

static int open_temp(struct outfile *of, const char *path, mode_t mode)
{
	int fd;

	/* A folder that does not resolve is named as given: mkostemp then
	 * says what is wrong with it. */
	if (!(of->path = canonical(path)) && !(of->path = strdup(path)))
		return -ENOMEM;
	if (asprintf(&of->tmp, "%s.XXXXXX", of->path) < 0) {
		of->tmp = NULL;
		return -ENOMEM;
	}
	if ((fd = mkostemp(of->tmp, O_CLOEXEC)) < 0)
		goto fail;
	/* mkostemp makes it 0600: give it the file's mode, or a new file's. */
	if (fchmod(fd, mode) < 0 || !(of->f = fdopen(fd, "w"))) {
		int err = -errno;

		close(fd);
		unlink(of->tmp);
		errno = -err;
		goto fail;
	}
	return 0;
fail:
	free(of->tmp);
	of->tmp = NULL;
	return -errno;
}

/* Written as it goes, for readers during the run; removed if a write
 * fails, so no half of it is taken for the whole. */
static int open_live(struct outfile *of, const char *path)
{
	int fd;

	of->live_file = true;
	if (!(of->path = strdup(path)))
		return -ENOMEM;
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY |
	                        (of->append ? O_APPEND : O_TRUNC),
	          0666);
	if (fd < 0 || !(of->f = fdopen(fd, "w"))) {
		int err = -errno;

		if (fd >= 0)
			close(fd);
		return err;
	}
	return 0;
}

/* Never blocks: a FIFO nobody reads yet is tried again until a reader
 * comes or an interrupt does. */
static int open_direct(struct outfile *of, const char *path, int flags,
                       int *sig)
{
	int fd, tries = 0;

	while ((fd = open(path, flags | O_WRONLY | O_NOCTTY | O_CLOEXEC |
	                  O_NONBLOCK, 0666)) < 0) {
		if (errno == EINTR)
			continue;
		if (errno != ENXIO)
			return -errno;
		if (++tries == FIFO_SAY_AFTER)
			fprintf(stderr, "alloter: '%s': waiting for a reader of "
			        "the FIFO\n", path);
		if ((*sig = signals_wait(FIFO_RETRY_MS)))
			return -EINTR;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0 ||
	    !(of->f = fdopen(fd, "w"))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return 0;
}

static int open_target(struct outfile *of, const char *path,
                       alloter_output *o, int *sig)
{
	struct stat st, own;
	mode_t mask;

	mask = umask(0);
	umask(mask);
	if (stat(path, &st) < 0) {
		if (errno != ENOENT)
			return -errno;
		/* A symlink to nothing yet: create what it points at. */
		if (lstat(path, &st) == 0)
			return open_direct(of, path, O_CREAT, sig);
		return of->live ? open_live(of, path)
		                : open_temp(of, path, 0666 & ~mask);
	}
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	for (int fd = 1; fd <= 2; fd++)
		if (fstat(fd, &own) == 0 && own.st_dev == st.st_dev &&
		    own.st_ino == st.st_ino)
			return open_stream(of, o, fd);
	if (S_ISREG(st.st_mode) && of->live)
		return open_live(of, path);
	if (S_ISREG(st.st_mode)) {
		/* Through a symlink, the file it names is the one replaced. */
		char *real = realpath(path, NULL);
		int err;

		if (!real)
			return -errno;
		err = open_temp(of, real, st.st_mode & 07777);
		free(real);
		return err;
	}
	return open_direct(of, path, 0, sig);
}

static int open_as(struct outfile **out, const char *path, bool live,
                   bool append, alloter_output *o, int *sig)
{
	struct outfile *of = calloc(1, sizeof *of);
	int err;

	*sig = 0;
	if (!of)
		return -ENOMEM;
	of->live = live;
	of->append = append;
	if ((err = open_target(of, path, o, sig))) {
		free(of->path);
		free(of);
		return err;
	}
	*out = of;
	return 0;
}

int outfile_open(struct outfile **out, const char *path, bool live,
                 alloter_output *o, int *sig)
{
	return open_as(out, path, live, false, o, sig);
}

int outfile_open_append(struct outfile **out, const char *path,
                        alloter_output *o, int *sig)
{
	return open_as(out, path, true, true, o, sig);
}

bool outfile_same(const char *a, const char *b)
{
	struct stat sa, sb;
	char *ca, *cb;
	bool same;

	if (stat(a, &sa) == 0 && stat(b, &sb) == 0)
		return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino &&
		       !S_ISCHR(sa.st_mode);
	ca = canonical(a);
	cb = canonical(b);
	same = ca && cb && strcmp(ca, cb) == 0;
	free(ca);
	free(cb);
	return same;
}

void outfile_failed(struct outfile *of)
{
	if (!of->err)
		of->err = errno ? -errno : -EIO;
}

int outfile_close(struct outfile *of, bool keep)
{
	int err;

	if (!of)
		return 0;
	if (fflush(of->f) == EOF || (of->tmp && fsync(fileno(of->f)) < 0))
		outfile_failed(of);
	if (fclose(of->f) == EOF)
		outfile_failed(of);
	err = of->err;
	if (of->tmp && (err || !keep || rename(of->tmp, of->path) < 0)) {
		if (!err && keep)
			err = -errno;
		unlink(of->tmp);
	}
	if (of->live_file && !of->append && (err || !keep))
		unlink(of->path);
	free(of->tmp);
	free(of->path);
	free(of);
	return err;
}

void outfile_abandon(struct outfile *of)
{
	if (of && of->tmp)
		unlink(of->tmp);
}
