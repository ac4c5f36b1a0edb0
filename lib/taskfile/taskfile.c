/*
 * taskfile.c - task files: YAML (read by yamlnode.c) to plain task
 * descriptions, checked against the schema, with a file:line:col diagnostic
 * for the first problem found.  Nothing here knows how tasks are run.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloter.h"
#include "taskfile/matrix.h"
#include "taskfile/yamlvalue.h"

enum top_key {
	K_LIMIT, K_TIMEOUT, K_TASK_TIMEOUT, K_FAIL_FAST, K_KILL_OTHERS,
	K_GRACE, K_OUTPUT, K_TAG, K_SHELL, K_ENV, K_TASKS, K_HOSTS, K_RETRIES,
	K_RETRY_DELAY, K_HALT, K_DELAY, K_LOAD, K_MEMFREE, K_SLURM, N_TOP
};
static const char *const top_keys[N_TOP] = {
	"limit", "timeout", "task_timeout", "fail_fast", "kill_others",
	"grace", "output", "tag", "shell", "env", "tasks", "hosts", "retries",
	"retry_delay", "halt", "delay", "load", "memfree", "slurm",
};

enum task_key { T_NAME, T_RUN, T_NEEDS, T_TIMEOUT, T_RETRIES, T_ENV, T_CWD,
	        T_HOST, T_HOSTS, T_MATRIX, T_RETRY_DELAY, T_SLURM, N_TASK };
static const char *const task_keys[N_TASK] = {
	"name", "run", "needs", "timeout", "retries", "env", "cwd", "host",
	"hosts", "matrix", "retry_delay", "slurm",
};

/* More attempts than anyone waits for; it keeps counts far from overflow. */
#define MAX_RETRIES 1000000

/* In the order of enum alloter_output_mode. */
static const char *const modes[] = {"group", "line", "raw", "none"};

/* One env mapping: its "NAME=value" strings and an index of its names. */
struct env {
	char **v;
	size_t n;
	struct al_strmap names; /* keys borrowed from the document */
};

struct ctx {
	struct al_yctx y;
	const char *dir;
	struct alloter_taskfile *tf;
	struct env file_env;
	struct al_strmap names;  /* task name -> index */
	uint32_t *name_node;     /* per task, where its name comes from */
	uint32_t *needs_node;    /* per task, its needs, or AL_YNONE */
	/* Matrix tasks: a name in needs means all of its expansions. */
	struct al_strmap groups; /* name -> the first expansion's index */
	size_t *group_n;         /* per first expansion: how many */
	char **group_names;      /* the names (the map borrows them) */
	size_t n_groups;
};

static void env_free(struct env *e)
{
	for (size_t i = 0; e->v && i < e->n; i++)
		free(e->v[i]);
	free(e->v);
	al_strmap_free(&e->names);
	memset(e, 0, sizeof *e);
}

/* Reads an env mapping into e.  Names must be non-empty and hold no '='; a
 * value is any scalar, taken as written. */
static int env_map(struct ctx *c, uint32_t node, struct env *e)
{
	const struct al_ydoc *d = c->y.d;
	struct al_ypair *p = NULL;
	size_t n = 0, i;
	char buf[80], q[64], label[80];
	int r;

	if (al_ynode(d, node)->type != AL_YMAP)
		return al_yfail(&c->y, node, "env: expected a mapping of names "
		                "to values, got %s",
		                al_ydescribe(d, node, buf, sizeof buf));
	r = al_ymap_pairs(d, node, &p, &n, c->y.diag);
	if (r)
		return r;
	e->v = calloc(n + 1, sizeof *e->v);
	if (!e->v) {
		r = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n && !r; i++) {
		uint32_t k = p[i].key, v = p[i].value;
		const char *name = al_ytext(d, k), *value;
		size_t len = al_ynode(d, k)->n;
		struct al_strslot *s;

		al_yquote(name, q, sizeof q);
		snprintf(label, sizeof label, "env '%s'", q);
		if (!len)
			r = al_yfail(&c->y, k, "env: empty name");
		else if (strlen(name) != len || strchr(name, '='))
			r = al_yfail(&c->y, k, "env: invalid name '%s'",
			             al_yquote_n(name, len, q, sizeof q));
		else if (!(s = al_strmap_add(&e->names, name, len)))
			r = -ENOMEM;
		else if (s->val != SIZE_MAX)
			r = al_yfail(&c->y, k, "env: duplicate name '%s'", q);
		else if (al_ynull(d, v))
			r = al_yfail(&c->y, v, "env: '%s' has no value (write "
			             "\"\" for an empty string)", q);
		else if (!(r = al_yscalar(&c->y, v, label, "a string",
		                          &value))) {
			s->val = e->n;
			if (asprintf(&e->v[e->n], "%s=%s", name, value) < 0) {
				e->v[e->n] = NULL;
				r = -ENOMEM;
			} else {
				e->n++;
			}
		}
	}
out:
	free(p);
	return r;
}

/* The file's env, then the task's own; where both set a name only the
 * task's entry is kept, so every name appears once. */
static int task_env(struct ctx *c, struct alloter_taskdef *t, uint32_t node,
                    const struct al_matrix *m)
{
	struct env own = {0};
	size_t k = 0;
	int r = 0;

	if (node != AL_YNONE && (r = env_map(c, node, &own)))
		goto out;
	/* A matrix's {key} in the task's own values (not in the names). */
	for (size_t i = 0; m && i < own.n && !r; i++) {
		size_t at = strcspn(own.v[i], "=") + 1;
		char *value, *entry;

		if ((r = al_matrix_subst(&c->y, node, "env", m, own.v[i] + at,
		                         false, &value)))
			break;
		if (asprintf(&entry, "%.*s%s", (int)at, own.v[i], value) < 0)
			r = -ENOMEM;
		free(value);
		if (r)
			break;
		free(own.v[i]);
		own.v[i] = entry;
	}
	if (r)
		goto out;
	t->env = calloc(c->file_env.n + own.n + 1, sizeof *t->env);
	if (!t->env) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < c->file_env.n; i++) {
		const char *s = c->file_env.v[i];

		if (al_strmap_get(&own.names, s, strcspn(s, "=")) != SIZE_MAX)
			continue;
		t->env[k] = strdup(s);
		if (!t->env[k++]) {
			r = -ENOMEM;
			goto out;
		}
	}
	for (size_t i = 0; i < own.n; i++) {
		t->env[k++] = own.v[i];
		own.v[i] = NULL;
	}
out:
	env_free(&own);
	return r;
}

/* cwd s (found at v), joined to the task file's folder unless absolute;
 * it must be a folder now, so that a typo is found before anything runs. */
static int join_cwd(struct ctx *c, struct alloter_taskdef *t, uint32_t v,
                    const char *s)
{
	const char *dir = c->dir;
	struct stat st;
	char q[256];

	if (!*s)
		return al_yfail(&c->y, v, "cwd: expected a folder, got ''");
	if (*s == '/' || !dir)
		t->cwd = strdup(s);
	else if (asprintf(&t->cwd, "%s%s%s", dir,
	                  dir[strlen(dir) - 1] == '/' ? "" : "/", s) < 0)
		t->cwd = NULL;
	if (!t->cwd)
		return -ENOMEM;
	/* Quote the folder as the user wrote it: the place in the file says
	 * where, and a long joined path would be cut short. */
	al_yquote(s, q, sizeof q);
	if (stat(t->cwd, &st))
		return al_yfail(&c->y, v, "cwd: cannot use '%s': %s", q,
		                strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return al_yfail(&c->y, v, "cwd: '%s' is not a directory", q);
	return 0;
}

/* A task's cwd, with a matrix's {key} replaced (m: NULL for none). */
static int task_cwd(struct ctx *c, struct alloter_taskdef *t, uint32_t v,
                    const struct al_matrix *m)
{
	const char *s;
	char *own = NULL;
	int r = al_yscalar(&c->y, v, "cwd", "a folder", &s);

	if (!r && m && !(r = al_matrix_subst(&c->y, v, "cwd", m, s, false,
	                                     &own)))
		s = own;
	if (!r)
		r = join_cwd(c, t, v, s);
	free(own);
	return r;
}

/* The policies' keys: a scalar that the library's parser takes, or an
 * error that says what is wanted. */
static int policy(struct ctx *c, uint32_t v, const char *key, void *out)
{
	static const struct {
		const char *key, *want;
	} wants[] = {
		{"retry_delay", "DUR[,FACTOR[,MAX]], as 2s, 1s,2 or 1s,2,30s"},
		{"halt", "WHEN,WHY=N, as now,fail=1 or soon,fail=20%"},
		{"load", "a load average above 0, or a share of the CPUs, as 150%"},
		{"memfree", "a size, as 512M or 2G"},
	};
	const char *s, *want = "";
	char q[64];
	int r = al_yscalar(&c->y, v, key, "a value", &s);

	if (r)
		return r;
	for (size_t i = 0; i < sizeof wants / sizeof *wants; i++)
		if (!strcmp(key, wants[i].key))
			want = wants[i].want;
	if (!strcmp(key, "retry_delay"))
		r = alloter_backoff_parse(s, out);
	else if (!strcmp(key, "halt"))
		r = alloter_halt_parse(s, out);
	else if (!strcmp(key, "load"))
		r = alloter_load_parse(s, out);
	else
		r = alloter_size_parse(s, out);
	if (r)
		return al_yfail(&c->y, v, "%s: invalid value '%s' (want %s)", key,
		                al_yquote(s, q, sizeof q), want);
	return 0;
}

/* A string or a list of strings (hosts), as a NULL-ended array. */
static int string_list(struct ctx *c, uint32_t v, const char *key,
                       char ***out)
{
	const struct al_ynode *n = al_ynode(c->y.d, v);
	size_t count = n->type == AL_YSEQ ? n->n : 1;
	char **list;
	int r = 0;

	if (n->type == AL_YMAP)
		return al_yfail(&c->y, v, "%s: expected a host or a list of "
		                "them, got a mapping", key);
	list = calloc(count + 1, sizeof *list);
	if (!list)
		return -ENOMEM;
	*out = list;
	for (size_t i = 0; i < count && !r; i++)
		r = al_ystring(&c->y, n->type == AL_YSEQ ? al_ykid(c->y.d, v, i)
		                                         : v,
		               key, "a host", &list[i]);
	return r;
}

static void free_list(char **list)
{
	for (size_t i = 0; list && list[i]; i++)
		free(list[i]);
	free(list);
}

/* A slurm: mapping: partition, cpus, mem, gpus, time, args (a list of srun
 * options). */
static int slurm_request(struct ctx *c, uint32_t node,
                         struct alloter_slurm_request *q)
{
	enum { S_PARTITION, S_CPUS, S_MEM, S_GPUS, S_TIME, S_ARGS, N_S };
	static const char *const keys[N_S] = {"partition", "cpus", "mem",
	                                      "gpus", "time", "args"};
	const struct al_ydoc *d = c->y.d;
	uint32_t seen[N_S], val[N_S];
	struct al_ypair *p = NULL;
	size_t n = 0;
	char buf[80];
	int r;

	if (al_ynode(d, node)->type != AL_YMAP)
		return al_yfail(&c->y, node, "slurm: expected true, false or a "
		                "mapping (partition, cpus, mem, gpus, time, "
		                "args), got %s",
		                al_ydescribe(d, node, buf, sizeof buf));
	for (size_t i = 0; i < N_S; i++)
		seen[i] = val[i] = AL_YNONE;
	r = al_ymap_pairs(d, node, &p, &n, c->y.diag);
	for (size_t i = 0; i < n && r >= 0; i++) {
		r = al_ykey(&c->y, p[i].key, keys, N_S, seen);
		if (r >= 0)
			val[r] = p[i].value;
	}
	free(p);
	if (r < 0)
		return r;
	r = 0;
	if (!r && val[S_PARTITION] != AL_YNONE)
		r = al_ystring(&c->y, val[S_PARTITION], "partition", "a partition",
		               &q->partition);
	if (!r && val[S_MEM] != AL_YNONE)
		r = al_ystring(&c->y, val[S_MEM], "mem", "a size, as 2G",
		               &q->mem);
	if (!r && val[S_GPUS] != AL_YNONE)
		r = al_ystring(&c->y, val[S_GPUS], "gpus", "a count or type:count",
		               &q->gpus);
	if (!r && val[S_CPUS] != AL_YNONE)
		r = al_ywhole(&c->y, val[S_CPUS], "cpus", &q->cpus);
	if (!r && val[S_TIME] != AL_YNONE)
		r = al_yduration(&c->y, val[S_TIME], "time", &q->time_ms);
	if (!r && val[S_ARGS] != AL_YNONE) {
		if (al_ynode(d, val[S_ARGS])->type != AL_YSEQ)
			return al_yfail(&c->y, val[S_ARGS], "args: expected a list "
			                "of srun options, got %s",
			                al_ydescribe(d, val[S_ARGS], buf,
			                             sizeof buf));
		r = string_list(c, val[S_ARGS], "args", &q->args);
	}
	return r;
}

static void slurm_request_free(struct alloter_slurm_request *q)
{
	free(q->partition);
	free(q->mem);
	free(q->gpus);
	free_list(q->args);
}

/* needs is a name or a list of names; they are looked up once every task
 * is known. */
static int check_needs(struct ctx *c, uint32_t v)
{
	const struct al_ynode *n = al_ynode(c->y.d, v);
	const char *want = "a task name or a list of them", *s;
	int r = 0;

	if (n->type == AL_YSCALAR)
		return al_yscalar(&c->y, v, "needs", want, &s);
	if (n->type != AL_YSEQ)
		return al_yfail(&c->y, v, "needs: expected %s, got a mapping",
		                want);
	for (size_t i = 0; i < n->n && !r; i++)
		r = al_yscalar(&c->y, al_ykid(c->y.d, v, i), "needs",
		               "a task name", &s);
	return r;
}

/* Task i, from node: a command or a mapping of fields.  key is the task's
 * name when tasks is a mapping, else AL_YNONE.  m is its matrix with a
 * combination picked, or NULL; *base then gets the name before it was
 * expanded (malloc'd), for the needs that name it. */
static int task(struct ctx *c, size_t i, uint32_t node, uint32_t key,
                const struct al_matrix *m, char **base)
{
	const struct al_ydoc *d = c->y.d;
	struct alloter_taskdef *t = &c->tf->tasks[i];
	const struct al_ynode *n = al_ynode(d, node);
	uint32_t at = key != AL_YNONE ? key : node;
	uint32_t seen[N_TASK], val[N_TASK];
	struct al_ypair *p = NULL;
	size_t np = 0, j;
	const char *run;
	char buf[80], q[64];
	int r = 0;

	for (j = 0; j < N_TASK; j++)
		seen[j] = val[j] = AL_YNONE;
	t->line = (int)al_ynode(d, at)->line;
	t->col = (int)al_ynode(d, at)->col;
	t->timeout_ms = -1;
	c->name_node[i] = at;
	c->needs_node[i] = AL_YNONE;
	if (key != AL_YNONE &&
	    (r = al_ystring(&c->y, key, "task name", "a name", &t->name)))
		return r;
	if (n->type == AL_YSCALAR && !al_ynull(d, node)) {
		val[T_RUN] = node;
	} else if (n->type == AL_YMAP) {
		r = al_ymap_pairs(d, node, &p, &np, c->y.diag);
		for (j = 0; j < np && r >= 0; j++) {
			r = al_ykey(&c->y, p[j].key, task_keys, N_TASK, seen);
			if (r >= 0)
				val[r] = p[j].value;
		}
		free(p);
		if (r < 0)
			return r;
		r = 0;
		if (key != AL_YNONE && seen[T_NAME] != AL_YNONE)
			return al_yfail(&c->y, seen[T_NAME], "name: not "
			                "allowed when tasks is a mapping (the "
			                "key is the name)");
	} else if (key != AL_YNONE) {
		return al_yfail(&c->y, node, "task '%s': expected a command or "
		                "a mapping, got %s",
		                al_yquote(t->name, q, sizeof q),
		                al_ydescribe(d, node, buf, sizeof buf));
	} else {
		return al_yfail(&c->y, node, "task %zu: expected a command or "
		                "a mapping, got %s", i + 1,
		                al_ydescribe(d, node, buf, sizeof buf));
	}
	if (val[T_NAME] != AL_YNONE) {
		r = al_ystring(&c->y, val[T_NAME], "name", "a name", &t->name);
		c->name_node[i] = val[T_NAME];
	} else if (!t->name && asprintf(&t->name, "%zu", i + 1) < 0) {
		t->name = NULL;
		r = -ENOMEM;
	}
	if (!r && m) {
		char *own = t->name;

		r = al_matrix_name(m, own, &t->name);
		/* Only a name of its own stands for its expansions. */
		if (key != AL_YNONE || val[T_NAME] != AL_YNONE)
			*base = own;
		else
			free(own);
	}
	if (r)
		return r;
	al_yquote(t->name, q, sizeof q);
	if (val[T_RUN] == AL_YNONE)
		return al_yfail(&c->y, node, "task '%s' has no 'run'", q);
	r = al_yscalar(&c->y, val[T_RUN], "run", "a command", &run);
	if (r)
		return r;
	if (!run[strspn(run, " \t\r\n")])
		return al_yfail(&c->y, val[T_RUN],
		                "task '%s' has an empty 'run'", q);
	if (m)
		r = al_matrix_subst(&c->y, val[T_RUN], "run", m, run, true,
		                    &t->run);
	else if (!(t->run = strdup(run)))
		r = -ENOMEM;
	if (r)
		return r;
	if (val[T_NEEDS] != AL_YNONE && (r = check_needs(c, val[T_NEEDS])))
		return r;
	c->needs_node[i] = val[T_NEEDS];
	if (val[T_TIMEOUT] != AL_YNONE &&
	    (r = al_yduration(&c->y, val[T_TIMEOUT], "timeout",
	                      &t->timeout_ms)))
		return r;
	if (val[T_RETRIES] != AL_YNONE &&
	    (r = al_ywhole(&c->y, val[T_RETRIES], "retries", &t->retries)))
		return r;
	t->has_retries = val[T_RETRIES] != AL_YNONE;
	if (t->retries > MAX_RETRIES)
		return al_yfail(&c->y, val[T_RETRIES], "retries: at most %d, got "
		                "%d", MAX_RETRIES, t->retries);
	if (val[T_RETRY_DELAY] != AL_YNONE) {
		if ((r = policy(c, val[T_RETRY_DELAY], "retry_delay",
		                &t->retry_delay)))
			return r;
		t->has_retry_delay = true;
	}
	r = task_env(c, t, val[T_ENV], m);
	if (!r && val[T_CWD] != AL_YNONE)
		r = task_cwd(c, t, val[T_CWD], m);
	if (!r && val[T_HOST] != AL_YNONE && val[T_HOSTS] != AL_YNONE)
		return al_yfail(&c->y, seen[T_HOSTS], "task '%s': give host or "
		                "hosts, not both", q);
	if (!r && val[T_HOST] != AL_YNONE)
		r = string_list(c, val[T_HOST], "host", &t->hosts);
	if (!r && val[T_HOSTS] != AL_YNONE)
		r = string_list(c, val[T_HOSTS], "hosts", &t->hosts);
	if (!r && val[T_SLURM] != AL_YNONE) {
		r = slurm_request(c, val[T_SLURM], &t->slurm);
		t->has_slurm = true;
	}
	return r;
}

/* The tasks a name in needs stands for: the task of that name, or every
 * expansion of a matrix task; *first and *n, or false. */
static bool named(const struct ctx *c, const char *s, size_t *first,
                  size_t *n)
{
	*n = 1;
	if ((*first = al_strmap_get(&c->names, s, strlen(s))) != SIZE_MAX)
		return true;
	if ((*first = al_strmap_get(&c->groups, s, strlen(s))) == SIZE_MAX)
		return false;
	*n = c->group_n[*first];
	return true;
}

/* Turns needs into indices: each name must be another task's (or another
 * matrix task's).  A task listed twice counts once. */
static int resolve(struct ctx *c)
{
	const struct al_ydoc *d = c->y.d;
	struct alloter_taskfile *tf = c->tf;
	size_t *stamp = calloc(tf->n_tasks, sizeof *stamp);
	char q1[64], q2[64];
	int r = 0;

	if (!stamp)
		return -ENOMEM;
	for (size_t i = 0; i < tf->n_tasks && !r; i++) {
		struct alloter_taskdef *t = &tf->tasks[i];
		uint32_t v = c->needs_node[i];
		bool one = v != AL_YNONE && al_ynode(d, v)->type == AL_YSCALAR;
		size_t n = v == AL_YNONE ? 0 : one ? 1 : al_ynode(d, v)->n;
		size_t room = 1, first, count;

		for (size_t k = 0; k < n; k++)
			if (named(c, al_ytext(d, one ? v : al_ykid(d, v, k)),
			          &first, &count))
				room += count;
		t->needs = malloc(room * sizeof *t->needs);
		if (!t->needs) {
			r = -ENOMEM;
			break;
		}
		for (size_t k = 0; k < n && !r; k++) {
			uint32_t item = one ? v : al_ykid(d, v, k);
			const char *s = al_ytext(d, item);

			al_yquote(t->name, q1, sizeof q1);
			al_yquote(s, q2, sizeof q2);
			if (!named(c, s, &first, &count)) {
				r = al_yfail(&c->y, item, "task '%s' needs "
				             "'%s', which is not defined", q1,
				             q2);
				break;
			}
			for (size_t j = first; j < first + count && !r; j++) {
				if (j == i)
					r = al_yfail(&c->y, item, "task '%s' "
					             "needs itself", q1);
				else if (stamp[j] != i + 1) {
					stamp[j] = i + 1;
					t->needs[t->n_needs++] = j;
				}
			}
		}
	}
	free(stamp);
	return r;
}

/* Where task i names task j in its needs, for the cycle's diagnostic. */
static uint32_t need_place(struct ctx *c, size_t i, size_t j)
{
	const struct al_ydoc *d = c->y.d;
	uint32_t v = c->needs_node[i];

	if (al_ynode(d, v)->type == AL_YSEQ) {
		for (size_t k = 0; k < al_ynode(d, v)->n; k++) {
			uint32_t item = al_ykid(d, v, k);

			if (!strcmp(al_ytext(d, item), c->tf->tasks[j].name))
				return item;
		}
	}
	return v;
}

static int cycles(struct ctx *c)
{
	struct alloter_taskfile *tf = c->tf;
	size_t *cyc = NULL, len = 0, at;
	alloter_graph *g;
	char *msg = c->y.diag->msg, q[64];
	size_t max = sizeof c->y.diag->msg;
	int r = alloter_graph_new(&g, tf->n_tasks);

	if (r)
		return r;
	for (size_t i = 0; i < tf->n_tasks && !r; i++)
		for (size_t k = 0; k < tf->tasks[i].n_needs && !r; k++)
			r = alloter_graph_need(g, i, tf->tasks[i].needs[k]);
	cyc = malloc(tf->n_tasks * sizeof *cyc);
	if (!r && !cyc)
		r = -ENOMEM;
	if (!r)
		r = alloter_graph_check(g, cyc, tf->n_tasks, &len);
	if (r == -ELOOP && len) {
		/* cyc[k] needs cyc[k + 1], and the last needs the first. */
		r = al_yfail(&c->y, need_place(c, cyc[0], cyc[1 % len]),
		             "dependency cycle: ");
		at = strlen(msg);
		for (size_t k = 0; k <= len && at < max; k++)
			at += snprintf(msg + at, max - at, "%s%s",
			               k ? " -> " : "",
			               al_yquote(tf->tasks[cyc[k % len]].name,
			                         q, sizeof q));
		if (at >= max)
			memcpy(msg + max - 4, "...", 4);
	}
	free(cyc);
	alloter_graph_free(g);
	return r;
}

/* The matrix of the task entry at node, or AL_YNONE. */
static uint32_t matrix_node(const struct ctx *c, uint32_t node)
{
	struct al_ypair *p = NULL;
	uint32_t m = AL_YNONE;
	size_t n = 0;

	if (al_ynode(c->y.d, node)->type != AL_YMAP ||
	    al_ymap_pairs(c->y.d, node, &p, &n, c->y.diag))
		return AL_YNONE; /* task() says what is wrong with it */
	for (size_t i = 0; i < n; i++)
		if (strcmp(al_ytext(c->y.d, p[i].key), "matrix") == 0)
			m = p[i].value;
	free(p);
	return m;
}

/* A matrix task's name stands for all of its expansions in needs; it
 * cannot also be another task's. */
static int add_group(struct ctx *c, char *base, size_t first, size_t n)
{
	struct al_strslot *s;
	char **v = realloc(c->group_names,
	                   (c->n_groups + 1) * sizeof *c->group_names);

	if (!v) {
		free(base);
		return -ENOMEM;
	}
	c->group_names = v;
	v[c->n_groups++] = base;
	if (!(s = al_strmap_add(&c->groups, base, strlen(base))))
		return -ENOMEM;
	c->group_n[first] = n;
	if (s->val == SIZE_MAX)
		s->val = first;
	return 0;
}

/* Each group's name against the tasks' names, once both are known. */
static int check_groups(struct ctx *c)
{
	const struct alloter_taskfile *tf = c->tf;
	char q[64];

	for (size_t i = 0; i < tf->n_tasks; i++) {
		const char *name = tf->tasks[i].name;
		size_t g = al_strmap_get(&c->groups, name, strlen(name));

		if (g != SIZE_MAX)
			return al_yfail(&c->y, c->name_node[i], "duplicate task "
			                "name '%s' (a matrix task of that name "
			                "is at %d:%d)", al_yquote(name, q, sizeof q),
			                tf->tasks[g].line, tf->tasks[g].col);
	}
	return 0;
}

/* Reads every entry's matrix, so the tasks can be counted before they are
 * made; *total gets the count. */
static int read_matrices(struct ctx *c, const uint32_t *entry, size_t n,
                         struct al_matrix *mx, size_t *total)
{
	int r = 0;

	*total = 0;
	for (size_t e = 0; e < n && !r; e++) {
		uint32_t m = matrix_node(c, entry[e]);

		if (m != AL_YNONE)
			r = al_matrix_read(&c->y, m, &mx[e]);
		*total += m != AL_YNONE ? mx[e].combos : 1;
	}
	return r;
}

static int tasks(struct ctx *c, uint32_t node)
{
	const struct al_ynode *n = al_ynode(c->y.d, node);
	struct alloter_taskfile *tf = c->tf;
	struct al_ypair *p = NULL;
	struct al_matrix *mx = NULL;
	uint32_t *entry = NULL;
	size_t count, total, i, e;
	char buf[80], q[64];
	int r = 0;

	if (n->type == AL_YSEQ) {
		count = n->n;
	} else if (n->type == AL_YMAP) {
		r = al_ymap_pairs(c->y.d, node, &p, &count, c->y.diag);
		if (r)
			return r;
	} else if (al_ynull(c->y.d, node)) {
		return al_yfail(&c->y, node, "no tasks");
	} else {
		return al_yfail(&c->y, node, "tasks: expected a list or a "
		                "mapping of tasks, got %s",
		                al_ydescribe(c->y.d, node, buf, sizeof buf));
	}
	if (!count) {
		r = al_yfail(&c->y, node, "no tasks");
		goto out;
	}
	entry = calloc(count, sizeof *entry);
	mx = calloc(count, sizeof *mx);
	if (!entry || !mx) {
		r = -ENOMEM;
		goto out;
	}
	for (e = 0; e < count; e++)
		entry[e] = n->type == AL_YMAP ? p[e].value
		                              : al_ykid(c->y.d, node, e);
	if ((r = read_matrices(c, entry, count, mx, &total)))
		goto out;
	tf->tasks = calloc(total, sizeof *tf->tasks);
	c->name_node = calloc(total, sizeof *c->name_node);
	c->needs_node = calloc(total, sizeof *c->needs_node);
	c->group_n = calloc(total, sizeof *c->group_n);
	if (!tf->tasks || !c->name_node || !c->needs_node || !c->group_n) {
		r = -ENOMEM;
		goto out;
	}
	tf->n_tasks = total;
	for (e = 0, i = 0; e < count && !r; e++) {
		uint32_t key = n->type == AL_YMAP ? p[e].key : AL_YNONE;
		size_t first = i;
		char *base = NULL;

		if (!mx[e].n_keys) {
			r = task(c, i++, entry[e], key, NULL, NULL);
			continue;
		}
		for (size_t k = 0; k < mx[e].combos && !r; k++) {
			al_matrix_pick(&mx[e], c->y.d, k);
			free(base);
			base = NULL;
			r = task(c, i++, entry[e], key, &mx[e], &base);
		}
		if (!r && base)
			r = add_group(c, base, first, mx[e].combos);
		else
			free(base);
	}
	for (i = 0; i < total && !r; i++) {
		const char *name = tf->tasks[i].name;
		struct al_strslot *s = al_strmap_add(&c->names, name,
		                                     strlen(name));

		if (!s) {
			r = -ENOMEM;
		} else if (s->val != SIZE_MAX) {
			r = al_yfail(&c->y, c->name_node[i], "duplicate task "
			             "name '%s' (first defined at %d:%d)",
			             al_yquote(name, q, sizeof q),
			             tf->tasks[s->val].line,
			             tf->tasks[s->val].col);
		} else {
			s->val = i;
		}
	}
	if (!r)
		r = check_groups(c);
	if (!r)
		r = resolve(c);
	if (!r)
		r = cycles(c);
out:
	for (e = 0; mx && e < count; e++)
		al_matrix_free(&mx[e]);
	free(mx);
	free(entry);
	free(p);
	return r;
}

static int top(struct ctx *c, uint32_t root)
{
	struct alloter_taskfile *tf = c->tf;
	uint32_t seen[N_TOP], val[N_TOP];
	struct al_ypair *p = NULL;
	size_t np = 0, i;
	char buf[80];
	int r;

	if (al_ynull(c->y.d, root))
		return al_yfail(&c->y, root, "no tasks");
	if (al_ynode(c->y.d, root)->type != AL_YMAP)
		return al_yfail(&c->y, root, "expected a mapping at the top "
		                "level, got %s",
		                al_ydescribe(c->y.d, root, buf, sizeof buf));
	for (i = 0; i < N_TOP; i++)
		seen[i] = val[i] = AL_YNONE;
	r = al_ymap_pairs(c->y.d, root, &p, &np, c->y.diag);
	for (i = 0; i < np && r >= 0; i++) {
		r = al_ykey(&c->y, p[i].key, top_keys, N_TOP, seen);
		if (r >= 0)
			val[r] = p[i].value;
	}
	free(p);
	if (r < 0)
		return r;
#define SET(k, call) \
	if (val[k] != AL_YNONE && (r = (call))) \
		return r
	SET(K_LIMIT, al_ywhole(&c->y, val[K_LIMIT], "limit", &tf->limit));
	SET(K_TIMEOUT, al_yduration(&c->y, val[K_TIMEOUT], "timeout",
	                            &tf->timeout_ms));
	SET(K_TASK_TIMEOUT, al_yduration(&c->y, val[K_TASK_TIMEOUT],
	                                 "task_timeout", &tf->task_timeout_ms));
	SET(K_GRACE, al_yduration(&c->y, val[K_GRACE], "grace",
	                          &tf->grace_ms));
	SET(K_FAIL_FAST, al_ybool(&c->y, val[K_FAIL_FAST], "fail_fast",
	                          &tf->fail_fast));
	SET(K_KILL_OTHERS, al_ybool(&c->y, val[K_KILL_OTHERS], "kill_others",
	                            &tf->kill_others));
	SET(K_TAG, al_ybool(&c->y, val[K_TAG], "tag", &tf->tag));
	SET(K_OUTPUT, al_ychoice(&c->y, val[K_OUTPUT], "output", modes,
	                         sizeof modes / sizeof modes[0], &tf->output));
	SET(K_SHELL, al_ystring(&c->y, val[K_SHELL], "shell", "a program",
	                        &tf->shell));
	SET(K_ENV, env_map(c, val[K_ENV], &c->file_env));
	SET(K_HOSTS, string_list(c, val[K_HOSTS], "hosts", &tf->hosts));
	SET(K_RETRIES, al_ywhole(&c->y, val[K_RETRIES], "retries",
	                         &tf->retries));
	if (tf->retries > MAX_RETRIES)
		return al_yfail(&c->y, val[K_RETRIES], "retries: at most %d, got "
		                "%d", MAX_RETRIES, tf->retries);
	SET(K_RETRY_DELAY, policy(c, val[K_RETRY_DELAY], "retry_delay",
	                          &tf->retry_delay));
	tf->has_retry_delay = val[K_RETRY_DELAY] != AL_YNONE;
	SET(K_HALT, policy(c, val[K_HALT], "halt", &tf->halt));
	SET(K_DELAY, al_yduration(&c->y, val[K_DELAY], "delay", &tf->delay_ms));
	SET(K_LOAD, policy(c, val[K_LOAD], "load", &tf->load));
	SET(K_MEMFREE, policy(c, val[K_MEMFREE], "memfree", &tf->memfree));
	if (val[K_SLURM] != AL_YNONE &&
	    al_ynode(c->y.d, val[K_SLURM])->type == AL_YSCALAR) {
		SET(K_SLURM, al_ybool(&c->y, val[K_SLURM], "slurm", &tf->slurm));
	} else {
		SET(K_SLURM, slurm_request(c, val[K_SLURM], &tf->slurm_request));
		if (val[K_SLURM] != AL_YNONE)
			tf->slurm = 1;
	}
#undef SET
	if (val[K_TASKS] == AL_YNONE)
		return al_yfail(&c->y, root, "no tasks");
	return tasks(c, val[K_TASKS]);
}

int alloter_taskfile_parse(const char *buf, size_t len, const char *name,
                           const char *dir, struct alloter_taskfile **out,
                           struct alloter_diag *diag)
{
	struct alloter_diag scratch;
	struct al_ydoc doc = {0};
	struct ctx c = {.y.d = &doc, .dir = dir};
	struct alloter_taskfile *tf;
	int r;

	if (!diag)
		diag = &scratch;
	memset(diag, 0, sizeof *diag);
	snprintf(diag->file, sizeof diag->file, "%s",
	         !name ? "<input>" : strcmp(name, "-") ? name : "<stdin>");
	c.y.diag = diag;
	*out = NULL;
	tf = calloc(1, sizeof *tf);
	if (!tf) {
		al_diag(diag, 0, 0, "out of memory");
		return -ENOMEM;
	}
	tf->limit = tf->fail_fast = tf->kill_others = tf->tag = -1;
	tf->output = -1;
	tf->timeout_ms = tf->task_timeout_ms = tf->grace_ms = -1;
	tf->retries = -1;
	tf->slurm = -1;
	tf->delay_ms = tf->memfree = -1;
	tf->load = -1;
	c.tf = tf;
	r = al_ydoc_load(&doc, buf, len, diag);
	/* An empty file still gets a place, 1:1, like any other error. */
	if (!r && doc.root == AL_YNONE)
		r = al_diag(diag, 1, 1, "no tasks");
	else if (!r)
		r = top(&c, doc.root);
	if (r == -ENOMEM)
		al_diag(diag, 0, 0, "out of memory");
	env_free(&c.file_env);
	al_strmap_free(&c.names);
	al_strmap_free(&c.groups);
	for (size_t i = 0; i < c.n_groups; i++)
		free(c.group_names[i]);
	free(c.group_names);
	free(c.group_n);
	free(c.name_node);
	free(c.needs_node);
	al_ydoc_free(&doc);
	if (r) {
		alloter_taskfile_free(tf);
		return r;
	}
	*out = tf;
	return 0;
}

/* A task file past this is refused (-EFBIG) before it can eat the memory:
 * real ones are kilobytes, and 100,000 tasks fit in a few megabytes. */
#define MAX_FILE_BYTES ((size_t)256 << 20)

/* Reads all of fd into *buf (always allocated on success). */
static int read_all(int fd, char **buf, size_t *len)
{
	size_t cap = 65536, n = 0;
	struct stat st;
	char *b;

	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
		if ((uintmax_t)st.st_size > MAX_FILE_BYTES)
			return -EFBIG;
		cap = (size_t)st.st_size + 1;
	}
	b = malloc(cap);
	if (!b)
		return -ENOMEM;
	for (;;) {
		ssize_t got;

		if (n == cap) {
			char *more = cap <= MAX_FILE_BYTES ? realloc(b, 2 * cap)
			                                   : NULL;

			if (!more) {
				free(b);
				return cap > MAX_FILE_BYTES ? -EFBIG : -ENOMEM;
			}
			b = more;
			cap *= 2;
		}
		got = read(fd, b + n, cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			int e = errno;

			free(b);
			return -e;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	*buf = b;
	*len = n;
	return 0;
}

int alloter_taskfile_load(const char *path, struct alloter_taskfile **out,
                          struct alloter_diag *diag)
{
	struct alloter_diag scratch;
	bool in = !strcmp(path, "-");
	const char *slash = strrchr(path, '/');
	char *buf = NULL, *dir = NULL;
	size_t len = 0;
	int fd = in ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	int r = fd < 0 ? -errno : read_all(fd, &buf, &len);

	*out = NULL;
	if (!diag)
		diag = &scratch;
	if (fd >= 0 && !in)
		close(fd);
	/* cwd is relative to the file's folder; stdin has none but ours. */
	if (!r && !in && slash) {
		dir = strndup(path, slash == path ? 1 : (size_t)(slash - path));
		if (!dir)
			r = -ENOMEM;
	}
	if (!r) {
		r = alloter_taskfile_parse(buf, len, path, dir, out, diag);
	} else {
		memset(diag, 0, sizeof *diag);
		snprintf(diag->file, sizeof diag->file, "%s",
		         in ? "<stdin>" : path);
		snprintf(diag->msg, sizeof diag->msg, "cannot read: %s",
		         r == -EFBIG ? "larger than 256 MiB" : strerror(-r));
	}
	free(buf);
	free(dir);
	return r;
}

void alloter_taskfile_free(struct alloter_taskfile *tf)
{
	if (!tf)
		return;
	for (size_t i = 0; i < tf->n_tasks; i++) {
		struct alloter_taskdef *t = &tf->tasks[i];

		free(t->name);
		free(t->run);
		free(t->needs);
		free_list(t->hosts);
		free_list(t->env);
		free(t->cwd);
		slurm_request_free(&t->slurm);
	}
	slurm_request_free(&tf->slurm_request);
	free(tf->tasks);
	free(tf->shell);
	free_list(tf->hosts);
	free(tf);
}
