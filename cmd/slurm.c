/*
 * slurm.c - the Slurm side of tasks: srun's command line, a prolog that
 * tells which job, step and node srun got, scancel for what alloter stops,
 * and the controller's word on how a job ended.
 *
 * srun runs the prolog (srun-side, before it launches the task) with the
 * ids in its environment; it writes them to a file of the attempt's, named
 * in ALLOTER_SLURM_IDS.  A file still empty when srun has ended says that
 * srun never got its resources: its failure is srun's, not the task's.
 * Every helper process runs as a process task of the library's, so the
 * reaper never takes its status.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "slurm.h"

/* How long the controller may take to answer before --slurm gives up. */
#define PING_MS 20000

/* srun gives its prolog the job's node list, not the step's: in an
 * allocation of several nodes the step's node is the controller's to say
 * (scontrol show step, 13-21 ms measured on the test cluster), asked only
 * then. */
static const char prolog_text[] =
	"#!/bin/sh\n"
	"# alloter: srun runs this before it launches a task.\n"
	"[ -n \"$ALLOTER_SLURM_IDS\" ] || exit 0\n"
	"node=$SLURM_NODELIST\n"
	"[ \"${SLURM_JOB_NUM_NODES:-1}\" = 1 ] || node=$(scontrol -o show step "
	"\"$SLURM_JOB_ID.$SLURM_STEP_ID\" 2>/dev/null | "
	"sed -n 's/.* NodeList=\\([^ ]*\\).*/\\1/p')\n"
	"printf '%s %s %s\\n' \"$SLURM_JOB_ID\" \"${SLURM_STEP_ID:--}\" "
	"\"${node:-$SLURM_NODELIST}\" >\"$ALLOTER_SLURM_IDS\"\n"
	"exit 0\n";

/* Whether name is a program on PATH. */
static bool on_path(const char *name)
{
	const char *path = getenv("PATH");
	char buf[4096];

	for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
		size_t n = strcspn(p, ":");

		snprintf(buf, sizeof buf, "%.*s/%s", (int)n, n ? p : ".", name);
		if (access(buf, X_OK) == 0)
			return true;
		p += n + (p[n] == ':');
	}
	return false;
}

/* Runs argv with its output (both streams) in the file out (NULL: none),
 * for at most timeout_ms; returns the result's status word. */
static void helper(char *const *argv, const char *out, int64_t timeout_ms,
                   struct alloter_proc_result *res)
{
	size_t n = 0;
	char **v;
	struct alloter_proc p = {.name = "slurm", .timeout_ms = timeout_ms,
	                         .grace_ms = 1000};

	while (argv[n])
		n++;
	if (!(v = malloc((n + 6) * sizeof *v))) {
		*res = (struct alloter_proc_result){
			.status = ALLOTER_PROC_SPAWN_FAILED, .err = -ENOMEM};
		return;
	}
	v[0] = "sh";
	v[1] = "-c";
	v[2] = "f=$1; shift; exec \"$@\" >\"$f\" 2>&1";
	v[3] = "sh";
	v[4] = (char *)(out ? out : "/dev/null");
	memcpy(v + 5, argv, (n + 1) * sizeof *v);
	p.argv = v;
	alloter_proc_run(&p, NULL, res);
	free(v);
}

/* Splits s into words as a shell would: blanks apart, '...' as it is,
 * "..." and \ escaping.  Returns a NULL-ended block, or NULL with *bad
 * set for an unclosed quote, or not (no memory). */
static char **split(const char *s, bool *bad)
{
	size_t n = strlen(s), k = 0;
	char **v = malloc((n / 2 + 2) * sizeof *v + n + 1);
	char *o, q = 0;
	bool in = false;

	*bad = false;
	if (!v)
		return NULL;
	o = (char *)(v + n / 2 + 2);
	for (; *s; s++) {
		if (!q && (*s == ' ' || *s == '\t' || *s == '\n')) {
			if (in)
				*o++ = '\0', in = false;
			continue;
		}
		if (!in)
			v[k++] = o, in = true;
		if (q == '\'' && *s != '\'') {
			*o++ = *s;
		} else if (*s == q) {
			q = 0;
		} else if (!q && (*s == '\'' || *s == '"')) {
			q = *s;
		} else if (*s == '\\' && s[1] &&
		           (!q || strchr("\"\\$`", s[1]))) {
			*o++ = *++s;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
	v[k] = NULL;
	if (q) {
		free(v);
		*bad = true;
		return NULL;
	}
	return v;
}

/* The controller must answer before anything runs. */
static int ping(char *err, size_t len)
{
	static char *const argv[] = {"scontrol", "ping", NULL};
	struct alloter_proc_result res;
	int64_t t0 = clock_mono_ms();

	helper(argv, NULL, PING_MS, &res);
	if (res.status == ALLOTER_PROC_EXITED && res.exit_code == 0)
		return 0;
	snprintf(err, len, "--slurm: the Slurm controller cannot be reached "
	         "(scontrol ping %s after %.1f s)",
	         res.status == ALLOTER_PROC_TIMED_OUT ? "gave no answer"
	                                              : "failed",
	         (double)(clock_mono_ms() - t0) / 1000);
	return -1;
}

/* Which option keeps steps from sharing CPUs: --exact since Slurm 21.08,
 * --exclusive before. */
static const char *exact_option(const char *dir)
{
	static char *const argv[] = {"srun", "--help", NULL};
	struct alloter_proc_result res;
	char *path, line[512];
	const char *opt = "--exclusive";
	FILE *f;

	if (asprintf(&path, "%s/help", dir) < 0)
		return opt;
	helper(argv, path, PING_MS, &res);
	if ((f = fopen(path, "re"))) {
		while (fgets(line, sizeof line, f))
			if (strstr(line, "--exact"))
				opt = "--exact";
		fclose(f);
	}
	unlink(path);
	free(path);
	return opt;
}

static int write_prolog(struct slurm *s)
{
	const char *tmp = getenv("TMPDIR");
	int fd;
	bool ok;

	if (asprintf(&s->dir, "%s/alloter-slurm.XXXXXX",
	             tmp && *tmp ? tmp : "/tmp") < 0) {
		s->dir = NULL;
		return -ENOMEM;
	}
	if (!mkdtemp(s->dir))
		return -errno;
	if (asprintf(&s->prolog, "%s/prolog", s->dir) < 0) {
		s->prolog = NULL;
		return -ENOMEM;
	}
	fd = open(s->prolog, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
	if (fd < 0)
		return -errno;
	ok = write(fd, prolog_text, sizeof prolog_text - 1) ==
	     (ssize_t)(sizeof prolog_text - 1);
	if (close(fd) < 0 || !ok)
		return -EIO;
	return 0;
}

int slurm_open(struct slurm *s, const char *args, char *err, size_t len)
{
	const char *job = getenv("SLURM_JOB_ID"), *v;
	bool bad;
	int e;

	*s = (struct slurm){0};
	for (const char *const *p = (const char *const[]){"srun", "scancel",
	                                                 "scontrol", NULL};
	     *p; p++)
		if (!on_path(*p)) {
			snprintf(err, len, "--slurm: %s is not installed (not "
			         "found on PATH)", *p);
			return -1;
		}
	if (!(s->words = split(args ? args : "", &bad))) {
		snprintf(err, len, "--slurm-args: %s", bad ? "a quote is not "
		         "closed" : strerror(ENOMEM));
		return -1;
	}
	s->steps = job && *job;
	/* One node: the tag can name it before Slurm places a step. */
	if (s->steps && (v = getenv("SLURM_JOB_NUM_NODES")) &&
	    strcmp(v, "1") == 0 && (v = getenv("SLURM_JOB_NODELIST")))
		snprintf(s->node, sizeof s->node, "%s", v);
	if (ping(err, len))
		return -1;
	if ((e = write_prolog(s))) {
		snprintf(err, len, "--slurm: cannot write srun's prolog: %s",
		         strerror(-e));
		return -1;
	}
	s->exact = exact_option(s->dir);
	return 0;
}

int slurm_default_limit(void)
{
	const char *job = getenv("SLURM_JOB_ID"), *n = getenv("SLURM_NTASKS");

	return job && *job && n && atoi(n) > 0 ? atoi(n) : 64;
}

/* srun's command line, built in one block: v (room for n words) and the
 * strings after it. */
struct line {
	char **v;
	size_t k, n;
	char *at, *end;
};

__attribute__((format(printf, 2, 3)))
static void add(struct line *l, const char *fmt, ...)
{
	va_list ap;
	int m;

	if (l->k + 1 >= l->n || l->at >= l->end)
		return;
	va_start(ap, fmt);
	m = vsnprintf(l->at, (size_t)(l->end - l->at), fmt, ap);
	va_end(ap);
	if (m < 0 || m >= l->end - l->at)
		return;
	l->v[l->k++] = l->at;
	l->at += m + 1;
}

static void add_request(struct line *l, const struct alloter_slurm_request *q)
{
	if (!q)
		return;
	if (q->partition)
		add(l, "--partition=%s", q->partition);
	if (q->cpus > 0)
		add(l, "--cpus-per-task=%d", q->cpus);
	if (q->mem)
		add(l, "--mem=%s", q->mem);
	if (q->gpus)
		add(l, "--gpus=%s", q->gpus);
	if (q->time_ms > 0)
		add(l, "--time=%lld", (long long)((q->time_ms + 59999) / 60000));
	for (char *const *a = q->args; a && *a; a++)
		add(l, "%s", *a);
}

static size_t request_size(const struct alloter_slurm_request *q, size_t *words)
{
	size_t b = 0;

	if (!q)
		return 0;
	*words += 5;
	b += 80 + (q->partition ? strlen(q->partition) : 0) +
	     (q->mem ? strlen(q->mem) : 0) + (q->gpus ? strlen(q->gpus) : 0);
	for (char *const *a = q->args; a && *a; a++, (*words)++)
		b += strlen(*a) + 1;
	return b;
}

char **slurm_argv(const struct slurm *s, const struct alloter_slurm_request *top,
                  const struct alloter_slurm_request *own, const char *name,
                  int64_t timeout_ms, const char *shell, const char *command)
{
	size_t words = 16, bytes = 256 + strlen(s->prolog) + strlen(name) +
	                             strlen(command) + strlen(shell);
	struct line l;
	size_t need;

	bytes += request_size(top, &words) + request_size(own, &words);
	for (char *const *a = s->words; *a; a++, words++)
		bytes += strlen(*a) + 1;
	need = words * sizeof(char *) + bytes;
	if (!(l.v = malloc(need)))
		return NULL;
	l.k = 0;
	l.n = words;
	l.at = (char *)(l.v + words);
	l.end = (char *)l.v + need;
	add(&l, "srun");
	add(&l, "--prolog=%s", s->prolog);
	/* Not even errors: srun's "task 0: Exited with exit code 3" is not
	 * the task's output.  Why srun itself failed is asked apart. */
	add(&l, "--quiet");
	add(&l, "--quiet");
	add(&l, "--nodes=1");
	add(&l, "--ntasks=1");
	if (s->steps)
		add(&l, "%s", s->exact);
	add(&l, "--job-name=%s", name);
	/* Slurm counts whole minutes; the grace is alloter's to give, so its
	 * own deadline comes first, and Slurm's holds if alloter is gone. */
	if (timeout_ms > 0)
		add(&l, "--time=%lld", (long long)((timeout_ms + 59999) / 60000 + 1));
	add_request(&l, top);
	add_request(&l, own);
	for (char *const *a = s->words; *a; a++)
		add(&l, "%s", *a);
	add(&l, "%s", shell);
	add(&l, "-c");
	add(&l, "%s", command);
	l.v[l.k] = NULL;
	return l.v;
}

int slurm_step_init(const struct slurm *s, struct slurm_step *st, char **env)
{
	int fd;

	*st = (struct slurm_step){0};
	*env = NULL;
	if (asprintf(&st->ids, "%s/ids.XXXXXX", s->dir) < 0) {
		st->ids = NULL;
		return -ENOMEM;
	}
	if ((fd = mkostemp(st->ids, O_CLOEXEC)) < 0)
		return -errno;
	close(fd);
	if (asprintf(env, "ALLOTER_SLURM_IDS=%s", st->ids) < 0) {
		*env = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* The first line of path, without its newline; "" if none. */
static void first_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");

	buf[0] = '\0';
	if (!f)
		return;
	if (!fgets(buf, (int)len, f))
		buf[0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

/* Reads the job, step and node the prolog wrote into st, once: after
 * that the ids file holds the helpers' answers.  Whether it had. */
static bool read_ids(struct slurm_step *st)
{
	char line[512];

	if (!st->launched && st->ids) {
		first_line(st->ids, line, sizeof line);
		st->launched = sscanf(line, "%31s %31s %127s", st->job,
		                      st->step, st->node) == 3;
	}
	return st->launched;
}

const char *slurm_step_node(struct slurm_step *st)
{
	return read_ids(st) ? st->node : NULL;
}

/* The value of KEY= in scontrol -o's one line, into out. */
static void field(const char *line, const char *key, char *out, size_t len)
{
	const char *p = strstr(line, key);

	out[0] = '\0';
	if (p && (p == line || p[-1] == ' '))
		snprintf(out, len, "%.*s", (int)strcspn(p + strlen(key), " "),
		         p + strlen(key));
}

/* How long a job's end may take the controller to settle: 30 x 100 ms. */
#define STATE_TRIES 30

/* How the controller says it ended: the job's state (as long as it keeps
 * the job, MinJobAge); for a step, a node that is no longer up. */
static void ask(const struct slurm *s, struct slurm_step *st)
{
	char *argv[] = {"scontrol", "-o", "show", "job", st->job, NULL};
	struct alloter_proc_result res;
	char line[4096], state[64];

	if (!s->steps) {
		/* Just after srun ends the job may still be COMPLETING (or
		 * RUNNING, its node's failure not yet seen), or the busy
		 * controller may not answer: ask again, a little, until it
		 * says the state the job ended in. */
		for (int i = 0; i < STATE_TRIES; i++) {
			struct timespec pause = {0, 100 * 1000000};

			helper(argv, st->ids, PING_MS, &res);
			first_line(st->ids, line, sizeof line);
			field(line, "JobState=", st->state, sizeof st->state);
			if (st->state[0] &&
			    !strstr(" RUNNING COMPLETING CONFIGURING PENDING "
			            "SUSPENDED ", st->state))
				return;
			nanosleep(&pause, NULL);
		}
		return;
	}
	argv[3] = "node";
	argv[4] = st->node;
	helper(argv, st->ids, PING_MS, &res);
	first_line(st->ids, line, sizeof line);
	field(line, "State=", state, sizeof state);
	if (strstr(state, "DOWN") || strstr(state, "FAIL") ||
	    strstr(state, "NOT_RESPONDING"))
		snprintf(st->state, sizeof st->state, "NODE_FAIL");
}

/* Why srun could not start a task: the same srun again, saying its
 * errors, for a job only testing the request (--test-only), for a step
 * running true, since --test-only does not test a step. */
static void why_not(const struct slurm *s, struct slurm_step *st,
                    char *const *argv)
{
	struct alloter_proc_result res;
	size_t n = 0;
	char **v, line[512];
	FILE *f;

	while (argv[n])
		n++;
	if (n < 8 || !(v = malloc((n + 1) * sizeof *v)))
		return;
	memcpy(v, argv, (n + 1) * sizeof *v);
	v[3] = s->steps ? "--ntasks=1" : "--test-only"; /* the second -Q */
	v[n - 3] = "true";
	v[n - 2] = NULL;
	helper(v, st->ids, PING_MS, &res);
	free(v);
	if (!(f = fopen(st->ids, "re")))
		return;
	while (fgets(line, sizeof line, f)) {
		const char *e = strstr(line, "error: ");

		line[strcspn(line, "\n")] = '\0';
		if (e || !st->why[0])
			snprintf(st->why, sizeof st->why, "%.200s",
			         e ? e + 7 : line);
	}
	fclose(f);
}

/* srun's --time value in ms (M, M:S, H:M:S, D-H, D-H:M, D-H:M:S), or 0
 * for none or one that is not a number (UNLIMITED). */
static int64_t time_value(const char *v)
{
	long long f[3] = {0}, days = -1;
	int n = 0;
	char *end;

	if (strchr(v, '-')) {
		days = strtoll(v, &end, 10);
		if (end == v || *end != '-' || days < 0)
			return 0;
		v = end + 1;
	}
	for (;;) {
		if (n == 3)
			return 0;
		f[n] = strtoll(v, &end, 10);
		if (end == v || f[n] < 0)
			return 0;
		n++;
		if (*end != ':')
			break;
		v = end + 1;
	}
	if (*end)
		return 0;
	if (days >= 0)
		return (((days * 24 + f[0]) * 60 + f[1]) * 60 + f[2]) * 1000;
	if (n == 3)
		return ((f[0] * 60 + f[1]) * 60 + f[2]) * 1000;
	return (f[0] * 60 + f[1]) * 1000;
}

/* The time limit srun was given: the last --time in its options (those
 * before SHELL -c COMMAND), as alloter's request or --slurm-args put it. */
static int64_t time_limit_ms(char *const *argv)
{
	size_t n = 0;
	int64_t ms = 0;

	while (argv[n])
		n++;
	for (size_t i = 1; i + 3 < n; i++) {
		const char *a = argv[i];

		if (strncmp(a, "--time=", 7) == 0)
			ms = time_value(a + 7);
		else if ((strcmp(a, "--time") == 0 || strcmp(a, "-t") == 0) &&
		         i + 4 < n)
			ms = time_value(argv[++i]);
		else if (a[0] == '-' && a[1] == 't' && a[2])
			ms = time_value(a + 2);
	}
	return ms;
}

/* Whether srun says its task ended by SIGTERM or SIGKILL, as Slurm ends
 * one at its time limit (SIGKILL after KillWait). */
static bool ended_by_kill(const struct alloter_proc_result *res)
{
	int sig = res->status == ALLOTER_PROC_SIGNALED ? res->signo
	          : res->status == ALLOTER_PROC_EXITED && res->exit_code > 128
	                  ? res->exit_code - 128
	                  : 0;

	return sig == SIGTERM || sig == SIGKILL;
}

/* Whether slurmstepd's last words on the step's stderr say that the
 * cgroup's OOM killer struck in it ("error: Detected 1 oom-kill event(s)
 * in StepId=12.3. ..."): an ended step is gone from the controller, and
 * srun itself, kept quiet, only ends 1. */
static bool oom_said(const struct slurm_step *st,
                     const struct alloter_proc_result *res)
{
	static const char said[] = "oom-kill event";
	const char *p = res->err_tail, *end = p + res->err_tail_len;
	char id[80];
	size_t n = (size_t)snprintf(id, sizeof id, "%s.%s", st->job, st->step);

	if (!(p = memmem(p, (size_t)(end - p), said, sizeof said - 1)))
		return false;
	/* The id, not one that it begins (12.3 in 12.34). */
	while ((p = memmem(p, (size_t)(end - p), id, n)) &&
	       p + n < end && p[n] >= '0' && p[n] <= '9')
		p++;
	return p;
}

void slurm_step_end(const struct slurm *s, struct slurm_step *st,
                    const struct alloter_proc_result *res, char *const *argv)
{
	char target[80];
	bool stopped = res->status == ALLOTER_PROC_TIMED_OUT ||
	               res->status == ALLOTER_PROC_TERMINATED;

	if (!st->ids)
		return;
	read_ids(st);
	if (!st->launched && !stopped && res->status == ALLOTER_PROC_EXITED &&
	    res->exit_code)
		why_not(s, st, argv);
	if (!st->launched)
		return;
	if (stopped) {
		/* srun passes the TERM it got on as a cancel of its step, but
		 * one killed after the grace period may have left it. */
		char *cancel[] = {"scancel", "--quiet", target, NULL};

		if (s->steps)
			snprintf(target, sizeof target, "%s.%s", st->job,
			         st->step);
		else
			snprintf(target, sizeof target, "%s", st->job);
		helper(cancel, NULL, PING_MS, (struct alloter_proc_result[1]){0});
		return;
	}
	if (s->steps && res->status == ALLOTER_PROC_EXITED && res->exit_code &&
	    oom_said(st, res)) {
		snprintf(st->state, sizeof st->state, "OUT_OF_MEMORY");
		return;
	}
	/* A step ended is gone from the controller, and without accounting
	 * nothing says that its time limit ended it; one that was killed
	 * after running as long as its limit was, as Slurm is the one that
	 * kills at that time and never before. */
	if (s->steps && ended_by_kill(res)) {
		int64_t limit = time_limit_ms(argv);

		if (limit > 0 && res->duration_ns / 1000000 >= limit) {
			snprintf(st->state, sizeof st->state, "TIMEOUT");
			return;
		}
	}
	/* srun ends 0 after a node failure of a job: its state tells. */
	if (!s->steps || res->status != ALLOTER_PROC_EXITED || res->exit_code)
		ask(s, st);
}

void slurm_step_free(struct slurm_step *st)
{
	if (st->ids)
		unlink(st->ids);
	free(st->ids);
	st->ids = NULL;
}

void slurm_close(struct slurm *s)
{
	if (s->prolog)
		unlink(s->prolog);
	if (s->dir)
		rmdir(s->dir);
	free(s->prolog);
	free(s->dir);
	free(s->words);
	*s = (struct slurm){0};
}
