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

/* Writes text into DIR/SEQ/NAME, whole; 0 or -errno. */
static int write_file(const char *dir, const struct job *j, const char *name,
                      const char *text, size_t n)
{
	int fd = open_in(dir, j, name);
	FILE *f;
	int err = 0;

	if (fd < 0)
		return fd;
	if (!(f = fdopen(fd, "w"))) {
		err = -errno;
		close(fd);
		return err;
	}
	if (fwrite(text, 1, n, f) != n)
		err = -errno;
	if (fclose(f) == EOF && !err)
		err = -errno;
	return err;
}

int results_open(const char *dir, const struct job *j, int fd[2])
{
	char path[4096];
	int err = 0;

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
		char *text = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&text, &len);

		for (size_t k = 0; m && k < j->n_args; k++)
			fprintf(m, "%s\n", j->args[k]);
		err = !m || fclose(m) == EOF ? -ENOMEM
		                             : write_file(dir, j, "args", text, len);
		free(text);
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
	int n;

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
	return write_file(dir, j, "exit", line, (size_t)n);
}
