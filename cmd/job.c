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

/* Fills in the description shared by every kind of job. */
static void job_describe(const struct run *r, struct job *j, size_t index,
                         const char *name, const char *command,
                         char *const *env)
{
	j->index = index;
	if (name) {
		j->name = name;
	} else {
		/* By hand, not with a printf: this runs on the thread that
		 * takes the job, which may be one per running task, and
		 * whose stack keeps every page a printf touches. */
		char *d = j->seq_name + sizeof j->seq_name;
		size_t v = index;

		*--d = '\0';
		do
			*--d = (char)('0' + v % 10);
		while (v /= 10);
		memmove(j->seq_name, d,
		        (size_t)(j->seq_name + sizeof j->seq_name - d));
		j->name = j->seq_name;
	}
	j->command = command;
	j->env = env;
	j->timeout_ms = r->set.task_timeout_ms;
	j->retries = r->set.retries > 0 ? r->set.retries : 0;
	j->retry_delay = &r->set.retry_delay;
}

/* The shell would search the task's own PATH: only it can run a command
 * whose environment changes PATH the same way. */
static bool sets_path(char *const *env)
{
	for (char *const *e = env; e && *e; e++)
		if (strncmp(*e, "PATH=", 5) == 0)
			return true;
	return false;
}

/* Describes j, and splits its command into words when it needs no shell.
 * Returns 0 or -ENOMEM. */
static int job_init(const struct run *r, struct job *j, size_t index,
                    const char *name, const char *command, char *const *env)
{
	job_describe(r, j, index, name, command, env);
	if (!r->set.direct || sets_path(env))
		return 0;
	return alloter_command_words(command, &j->words);
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
		/* The command line's, then the task's own, then the
		 * file's for every task. */
		if (r->set.retries < 0)
			j->retries = d->has_retries   ? d->retries
			             : tf->retries > 0 ? tf->retries
			                               : 0;
		if (d->has_slurm)
			j->slurm = &d->slurm;
		if (!r->set.retry_delay_given && d->has_retry_delay)
			j->retry_delay = &d->retry_delay;
		else if (!r->set.retry_delay_given && tf->has_retry_delay)
			j->retry_delay = &tf->retry_delay;
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

void run_from_stream(struct run *r, int fd, char delim)
{
	r->streaming = true;
	lines_init(&r->lines, fd, delim);
}

void run_from_pipe(struct run *r, int fd, char *command, size_t size,
                   const char *recend, size_t recend_len)
{
	r->streaming = true;
	r->piped = true;
	r->pipe_command = command;
	blocks_init(&r->blocks, fd, size, recend, recend_len);
}

/* The job for one --pipe block (taken over); NULL without memory. */
static struct job *block_job(struct run *r, char *data, size_t len)
{
	struct job *j = calloc(1, sizeof *j);

	if (!j || job_init(r, j, ++r->seq, NULL, r->pipe_command, NULL)) {
		if (j)
			run_free_job(j);
		free(data);
		return NULL;
	}
	j->streamed = true;
	j->stdin_data = data;
	j->stdin_len = len;
	return j;
}

void run_from_template(struct run *r)
{
	r->streaming = true;
	r->templated = true;
}

/* The job for one line of standard input; NULL without memory. */
static struct job *line_job(struct run *r, const char *line, size_t len)
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

/* The words of a template job's command, when it needs no shell: built
 * from the template, or split from an empty template's command. */
static int template_words(const struct run *r, const struct tpl_args *ta,
                          const char *command, char ***words)
{
	*words = NULL;
	if (!r->set.direct)
		return 0;
	if (r->tpl.empty)
		return alloter_command_words(command, words);
	return r->tpl.direct ? template_argv(&r->tpl, ta, words) : 0;
}

/* {%} before the job has a slot, as in a dry run: the slot it would get
 * if every task took as long as the others. */
static unsigned planned_slot(const struct run *r, size_t index)
{
	return (unsigned)(r->set.limit > 0
	                          ? (index - 1) % (size_t)r->set.limit + 1
	                          : index);
}

/* The job for one task's arguments (copied); NULL without memory. */
static struct job *template_job(struct run *r, char **v, size_t n,
                                bool nul)
{
	struct job *j = calloc(1, sizeof *j);
	struct tpl_args ta;
	size_t bytes = 0;
	char *s;

	if (!j)
		return NULL;
	for (size_t k = 0; k < n; k++)
		bytes += strlen(v[k]) + 1;
	if (!(j->args = malloc((n + 1) * sizeof *j->args + bytes)))
		goto fail;
	s = (char *)(j->args + n + 1);
	for (size_t k = 0; k < n; k++) {
		j->args[k] = s;
		s = stpcpy(s, v[k]) + 1;
	}
	j->args[n] = NULL;
	j->n_args = n;
	j->streamed = true;
	job_describe(r, j, ++r->seq, NULL, NULL, NULL);
	ta = (struct tpl_args){j->args, n, j->index, planned_slot(r, j->index)};
	if (template_command(&r->tpl, &ta, true, &j->own_command))
		goto fail;
	j->command = j->own_command;
	/* With {%}, each attempt makes its own (run_slot_command). */
	if (!r->tpl.uses_slot &&
	    template_words(r, &ta, j->command, &j->words))
		goto fail;
	if (r->set.tag && template_command(&r->tag_tpl, &ta, false, &j->tag))
		goto fail;
	if (nul)
		j->refused = "an argument holds a NUL byte; not run";
	return j;
fail:
	run_free_job(j);
	return NULL;
}

int run_slot_command(const struct run *r, const struct job *j,
                     unsigned slot, char **command, char ***words)
{
	struct tpl_args ta = {j->args, j->n_args, j->index, slot};
	int err = template_command(&r->tpl, &ta, true, command);

	if (!err && (err = template_words(r, &ta, *command, words)))
		free(*command);
	return err;
}

int run_stream_next(struct run *r, struct job **j)
{
	char *line, **v;
	size_t len, n;
	bool nul;
	int err;

	if (r->piped) {
		err = blocks_next(&r->blocks, &line, &len);
		if (!err && !(*j = block_job(r, line, len)))
			err = -ENOMEM;
	} else if (r->templated) {
		err = args_next(&r->args, &v, &n, &nul);
		if (!err && !(*j = template_job(r, v, n, nul)))
			err = -ENOMEM;
	} else {
		while ((err = lines_next(&r->lines, &line, &len)) == 0 &&
		       run_blank_line(line))
			;
		if (!err && !(*j = line_job(r, line, len)))
			err = -ENOMEM;
	}
	if (!err || err == -EAGAIN)
		return err;
	if (err != -ENODATA)
		r->read_err = err;
	return -ENOENT;
}

int run_wake_fd(const struct run *r)
{
	if (!r->streaming)
		return -1;
	if (r->piped)
		return r->blocks.fd;
	return r->templated ? args_fd(&r->args) : r->lines.fd;
}

void run_free_job(struct job *j)
{
	free(j->words);
	free(j->own_command);
	free(j->args);
	free(j->tag);
	free(j->stdin_data);
	free(j);
}

bool run_blank_line(const char *s)
{
	s += strspn(s, " \t\r");
	return *s == '\0' || *s == '#';
}

/* One line per task, NAME<tab>COMMAND: a newline, carriage return or
 * tab inside either is written as \n, \r or \t. */
static void dry_line(const struct job *j)
{
	const char *s[2] = {j->name, j->command};

	for (int k = 0; k < 2; k++) {
		for (const char *c = s[k]; *c; c++) {
			if (*c == '\n')
				fputs("\\n", stdout);
			else if (*c == '\r')
				fputs("\\r", stdout);
			else if (*c == '\t')
				fputs("\\t", stdout);
			else
				putchar(*c);
		}
		putchar(k ? '\n' : '\t');
	}
}

int run_dry(struct run *r)
{
	size_t id;
	int n, status = 0;

	if (!r->streaming) {
		while (alloter_graph_next(r->graph, &id) == 0) {
			dry_line(&r->jobs[id]);
			alloter_graph_done(r->graph, id, true);
		}
		return fflush(stdout) == 0 ? 0 : 1;
	}
	for (;;) {
		struct pollfd p = {.fd = run_wake_fd(r), .events = POLLIN};
		struct job *j;

		n = run_stream_next(r, &j);
		if (n == -EAGAIN) {
			/* What is listed shows before the wait for more. */
			fflush(stdout);
			poll(&p, 1, -1);
			continue;
		}
		if (n == -ENOENT && r->read_err) {
			fprintf(stderr, "alloter: %s: %s\n",
			        r->templated ? "input" : "standard input",
			        strerror(-r->read_err));
			return 2;
		}
		if (n)
			break;
		if (j->refused) {
			fprintf(stderr, "alloter: task '%s': %s\n", j->name,
			        j->refused);
			status = 2;
		} else {
			dry_line(j);
		}
		run_free_job(j);
	}
	return fflush(stdout) == 0 ? status : 1;
}

void run_free(struct run *r)
{
	for (size_t k = 0; k < FAILURES_LISTED; k++) {
		free(r->tally.failures[k]);
		free(r->tally.failed_names[k]);
	}
	for (size_t k = 0; k < r->n_jobs; k++)
		free(r->jobs[k].words);
	free(r->jobs);
	free(r->ring);
	free(r->slots);
	alloter_graph_free(r->graph);
	lines_free(&r->lines);
	template_free(&r->tpl);
	template_free(&r->tag_tpl);
	args_free(&r->args);
	blocks_free(&r->blocks);
	free(r->pipe_command);
}
