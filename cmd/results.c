/*
 * results.c - the files of --results.  They are made on the worker that
 * runs the attempt, never under the executor's lock, and the library
 * writes the streams into them as they come (alloter_proc.copy_fd), beside
 * the normal output or, with -o none, instead of it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "results.h"

int results_prepare(const char *dir)
{
	char *p = strdup(dir);
	struct stat st;

	if (!p) {
		fprintf(stderr, "alloter: %s\n", strerror(ENOMEM));
		return 2;
	}
	/* mkdir -p: each parent in turn, then dir itself. */
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0777) < 0 && errno != EEXIST)
			break;
		*s = '/';
	}
	if (mkdir(p, 0777) < 0 && errno != EEXIST) {
		fprintf(stderr, "alloter: --results '%s': %s\n", dir,
		        strerror(errno));
		free(p);
		return 2;
	}
	free(p);
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "alloter: --results '%s': %s\n", dir,
		        strerror(errno ? errno : ENOTDIR));
		return 2;
	}
	return 0;
}

/* DIR/SEQ/NAME opened for writing from its start. */
static int open_in(const char *dir, const struct job *j, const char *name)
{
	char path[4096];
	int fd;

	if (snprintf(path, sizeof path, "%s/%zu/%s", dir, j->index, name) >=
	    (int)sizeof path)
		return -ENAMETOOLONG;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY,
	          0666);
	return fd < 0 ? -errno : fd;
}

static int write_text(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, s, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

int results_open(const char *dir, const struct job *j, int fd[2])
{
	char path[4096];
	int err = 0, afd;

	fd[0] = fd[1] = 0;
	snprintf(path, sizeof path, "%s/%zu", dir, j->index);
	if (mkdir(path, 0777) < 0 && errno != EEXIST)
		return -errno;
	if ((fd[0] = open_in(dir, j, "stdout")) < 0 ||
	    (fd[1] = open_in(dir, j, "stderr")) < 0) {
		err = fd[0] < 0 ? fd[0] : fd[1];
		goto fail;
	}
	/* One argument a line. */
	if (j->args) {
		if ((afd = open_in(dir, j, "args")) < 0) {
			err = afd;
			goto fail;
		}
		for (size_t k = 0; !err && k < j->n_args; k++)
			if (!(err = write_text(afd, j->args[k],
			                       strlen(j->args[k]))))
				err = write_text(afd, "\n", 1);
		close(afd);
		if (err)
			goto fail;
	}
	return 0;
fail:
	for (int i = 0; i < 2; i++)
		if (fd[i] > 0)
			close(fd[i]);
	fd[0] = fd[1] = 0;
	return err;
}

int results_close(const char *dir, const struct job *j, int fd[2],
                  const struct alloter_proc_result *res)
{
	char line[32];
	int n, efd, err;

	/* As a shell gives it: the exit status, or 128 plus the signal that
	 * ended the task; -1 when it could not start. */
	if (res->status == ALLOTER_PROC_SPAWN_FAILED)
		n = snprintf(line, sizeof line, "-1\n");
	else if (res->signo)
		n = snprintf(line, sizeof line, "%d\n", 128 + res->signo);
	else
		n = snprintf(line, sizeof line, "%d\n", res->exit_code);
	for (int i = 0; i < 2; i++)
		if (fd[i] > 0)
			close(fd[i]);
	fd[0] = fd[1] = 0;
	if ((efd = open_in(dir, j, "exit")) < 0)
		return efd;
	err = write_text(efd, line, (size_t)n);
	if (close(efd) < 0 && !err)
		err = -errno;
	return err;
}
