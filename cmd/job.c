/*
 * job.c - the job model: jobs made from command arguments, a task file or
 * lines of standard input, each made once and read-only after that, and
 * the dry run that lists them.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"

/* Fills in the description shared by every kind of job.  Returns 0 or
 * -ENOMEM. */
static int job_init(struct run *r, struct job *j, size_t index,
                    const char *name, const char *command, char *const *env)
{
	j->index = index;
	if (name) {
		j->name = name;
	} else {
		snprintf(j->seq_name, sizeof j->seq_name, "%zu", index);
		j->name = j->seq_name;
	}
	j->command = command;
	j->env = env;
	j->timeout_ms = r->set.task_timeout_ms;
	/* The shell would search the task's own PATH: only it can run a
	 * command whose environment changes PATH the same way. */
	for (char *const *e = env; e && *e; e++)
		if (strncmp(*e, "PATH=", 5) == 0)
			return 0;
	/* A command of plain words needs no shell: run it directly. */
	if (r->set.direct)
		return alloter_command_words(command, &j->words);
	return 0;
}

int run_from_argv(struct run *r, char **commands, int n)
{
	int err;

	r->jobs = calloc((size_t)n + 1, sizeof *r->jobs);
	if (!r->jobs)
		return -ENOMEM;
	r->n_jobs = (size_t)n;
	for (int i = 0; i < n; i++)
		if ((err = job_init(r, &r->jobs[i], (size_t)i + 1, NULL,
		                    commands[i], NULL)))
			return err;
	return alloter_graph_new(&r->graph, r->n_jobs);
}

int run_from_taskfile(struct run *r, const struct alloter_taskfile *tf)
{
	int err;

	r->jobs = calloc(tf->n_tasks + 1, sizeof *r->jobs);
	if (!r->jobs)
		return -ENOMEM;
	r->n_jobs = tf->n_tasks;
	if ((err = alloter_graph_new(&r->graph, r->n_jobs)))
		return err;
	for (size_t i = 0; i < tf->n_tasks; i++) {
		const struct alloter_taskdef *d = &tf->tasks[i];
		struct job *j = &r->jobs[i];

		if ((err = job_init(r, j, i + 1, d->name, d->run, d->env)))
			return err;
		j->retries = d->retries;
		j->pins = d->hosts;
		j->cwd = d->cwd;
		if (d->timeout_ms >= 0)
			j->timeout_ms = d->timeout_ms;
		for (size_t k = 0; k < d->n_needs; k++)
			if ((err = alloter_graph_need(r->graph, i, d->needs[k])))
				return err;
	}
	return 0;
}

void run_from_stream(struct run *r, int fd)
{
	r->streaming = true;
	lines_init(&r->lines, fd);
}

struct job *run_stream_job(struct run *r, const char *line, size_t len)
{
	struct job *j = calloc(1, sizeof *j);

	if (!j || !(j->own_command = malloc(len + 1))) {
		free(j);
		return NULL;
	}
	memcpy(j->own_command, line, len);
	j->own_command[len] = '\0';
	j->streamed = true;
	if (job_init(r, j, ++r->seq, NULL, j->own_command, NULL)) {
		run_free_job(j);
		return NULL;
	}
	/* The shell would see the command cut at the NUL: run none of it. */
	if (memchr(line, '\0', len))
		j->refused = "the command holds a NUL byte; not run";
	return j;
}

void run_free_job(struct job *j)
{
	free(j->words);
	free(j->own_command);
	free(j);
}

bool run_blank_line(const char *s)
{
	s += strspn(s, " \t\r");
	return *s == '\0' || *s == '#';
}

int run_dry(struct run *r)
{
	size_t id;
	int n, status = 0;

	if (!r->streaming) {
		while (alloter_graph_next(r->graph, &id) == 0) {
			printf("%s\t%s\n", r->jobs[id].name,
			       r->jobs[id].command);
			alloter_graph_done(r->graph, id, true);
		}
		return fflush(stdout) == 0 ? 0 : 1;
	}
	for (;;) {
		struct pollfd p = {.fd = r->lines.fd, .events = POLLIN};
		struct job *j;
		char *line;
		size_t len;

		n = lines_next(&r->lines, &line, &len);
		if (n == -EAGAIN) {
			/* What is listed shows before the wait for more. */
			fflush(stdout);
			poll(&p, 1, -1);
			continue;
		}
		if (n == -ENODATA)
			break;
		if (n < 0) {
			fprintf(stderr, "alloter: standard input: %s\n",
			        strerror(-n));
			return 2;
		}
		if (run_blank_line(line))
			continue;
		if (!(j = run_stream_job(r, line, len))) {
			fprintf(stderr, "alloter: %s\n", strerror(ENOMEM));
			return 2;
		}
		if (j->refused) {
			fprintf(stderr, "alloter: task '%s': %s\n", j->name,
			        j->refused);
			status = 2;
		} else {
			printf("%s\t%s\n", j->name, j->command);
		}
		run_free_job(j);
	}
	return fflush(stdout) == 0 ? status : 1;
}

void run_free(struct run *r)
{
	for (size_t k = 0; k < FAILURES_LISTED; k++)
		free(r->tally.failures[k]);
	for (size_t k = 0; k < r->n_jobs; k++)
		free(r->jobs[k].words);
	free(r->jobs);
	free(r->ring);
	alloter_graph_free(r->graph);
	lines_free(&r->lines);
}
