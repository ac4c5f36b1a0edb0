/*
 * t_taskfile.c - the task-file loader: the schema's values, the task forms,
 * anchors and merge keys, every diagnostic with its line and column, and
 * that alias bombs and deep nesting are refused quickly.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alloter.h"
#include "tap.h"

static char tmp[64];
static struct alloter_diag dg;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int parse(const char *yaml, struct alloter_taskfile **tf)
{
	return alloter_taskfile_parse(yaml, strlen(yaml), "t.yaml", tmp, tf,
	                              &dg);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f)) {
		perror(path);
		exit(2);
	}
}

/* The n-th entry of env, or "" past its end, so that is_str shows it. */
static const char *env_at(char **env, size_t n)
{
	for (size_t i = 0; env && env[i]; i++)
		if (i == n)
			return env[i];
	return "";
}

static void refused_as(const char *yaml, size_t len, int line, int col,
                       const char *msg, const char *what)
{
	struct alloter_taskfile *tf = NULL;
	int r = alloter_taskfile_parse(yaml, len, "t.yaml", tmp, &tf, &dg);

	ok(r == -EINVAL && !tf && dg.line == line && dg.col == col &&
	   strstr(dg.msg, msg) && !strcmp(dg.file, "t.yaml"),
	   "%s: %d:%d: %s", what, line, col, msg);
	if (r != -EINVAL || dg.line != line || dg.col != col ||
	    !strstr(dg.msg, msg))
		printf("#   got %d, %s:%d:%d: %s\n", r, dg.file, dg.line, dg.col,
		       dg.msg);
	alloter_taskfile_free(tf);
}

static void refused(const char *yaml, int line, int col, const char *msg,
                    const char *what)
{
	refused_as(yaml, strlen(yaml), line, col, msg, what);
}

static const char example[] =
	"limit: 4              # int >= 0\n"
	"timeout: 10m          # duration\n"
	"task_timeout: 2m\n"
	"fail_fast: true       # bool\n"
	"kill_others: false\n"
	"grace: 5s\n"
	"output: line          # group | line | raw\n"
	"tag: true             # bool\n"
	"shell: /bin/bash\n"
	"env:\n"
	"  CI: \"1\"\n"
	"tasks:\n"
	"  - name: deps\n"
	"    run: ./scripts/fetch-deps\n"
	"  - name: build\n"
	"    run: make -j2\n"
	"    needs: [deps]\n"
	"  - name: unit\n"
	"    run: make test\n"
	"    needs: [build]\n"
	"    timeout: 5m       # this task's own deadline\n"
	"    retries: 2        # int >= 0\n"
	"    env: {VERBOSE: \"1\"}\n"
	"    cwd: tests        # relative to the task file's folder\n"
	"  - name: lint\n"
	"    run: make lint\n"
	"  - echo \"a plain string is a task too; its name is its sequence "
	"number\"\n";

static void test_example(void)
{
	struct alloter_taskfile *tf;
	char path[128], cwd[128];
	const struct alloter_taskdef *t;
	int r;

	snprintf(path, sizeof path, "%s/tasks.yaml", tmp);
	snprintf(cwd, sizeof cwd, "%s/tests", tmp);
	write_file(path, example);
	r = alloter_taskfile_load(path, &tf, &dg);
	is_int(r, 0, "the issue's example loads");
	if (r) {
		printf("#   %s:%d:%d: %s\n", dg.file, dg.line, dg.col, dg.msg);
		return;
	}
	is_int(tf->limit, 4, "limit");
	is_int(tf->timeout_ms, 600000, "timeout");
	is_int(tf->task_timeout_ms, 120000, "task_timeout");
	is_int(tf->fail_fast, 1, "fail_fast");
	is_int(tf->kill_others, 0, "kill_others");
	is_int(tf->grace_ms, 5000, "grace");
	is_int(tf->output, ALLOTER_OUTPUT_LINE, "output");
	is_int(tf->tag, 1, "tag");
	is_str(tf->shell, "/bin/bash", "shell");
	is_int(tf->n_tasks, 5, "five tasks");
	t = &tf->tasks[0];
	is_str(t->name, "deps", "task 1 name");
	is_str(t->run, "./scripts/fetch-deps", "task 1 run");
	ok(t->n_needs == 0 && t->timeout_ms == -1 && t->retries == 0 &&
	   !t->cwd, "task 1 has no needs, timeout, retries or cwd");
	is_str(env_at(t->env, 0), "CI=1", "task 1 gets the file's env");
	ok(t->env && !t->env[1], "and nothing else");
	ok(t->line == 13 && t->col == 5, "task 1 is defined at 13:5");
	t = &tf->tasks[1];
	ok(t->n_needs == 1 && t->needs[0] == 0, "build needs deps");
	t = &tf->tasks[2];
	is_str(t->name, "unit", "task 3 name");
	ok(t->n_needs == 1 && t->needs[0] == 1, "unit needs build");
	is_int(t->timeout_ms, 300000, "unit's timeout");
	is_int(t->retries, 2, "unit's retries");
	is_str(env_at(t->env, 0), "CI=1", "file env first");
	is_str(env_at(t->env, 1), "VERBOSE=1", "then the task's own");
	ok(!t->env[2], "two entries");
	is_str(t->cwd, cwd, "cwd is joined to the file's folder");
	is_str(tf->tasks[3].name, "lint", "task 4 name");
	t = &tf->tasks[4];
	is_str(t->name, "5", "a plain string is named by its number");
	is_str(t->run, "echo \"a plain string is a task too; its name is its "
	       "sequence number\"", "and runs as written");
	alloter_taskfile_free(tf);
	alloter_taskfile_free(NULL);
}

static void test_defaults(void)
{
	struct alloter_taskfile *tf;
	const char *abs_cwd = "tasks:\n  - run: x\n    cwd: /\n";

	is_int(parse("tasks: [make]\n", &tf), 0, "a minimal file loads");
	ok(tf->limit == -1 && tf->timeout_ms == -1 &&
	   tf->task_timeout_ms == -1 && tf->grace_ms == -1 &&
	   tf->fail_fast == -1 && tf->kill_others == -1 && tf->tag == -1 &&
	   tf->output == -1 && !tf->shell, "unset settings are -1 or NULL");
	ok(tf->tasks[0].env && !tf->tasks[0].env[0],
	   "env is an empty list, not NULL");
	is_int(tf->tasks[0].n_needs, 0, "no needs");
	alloter_taskfile_free(tf);

	is_int(parse(abs_cwd, &tf), 0, "an absolute cwd");
	is_str(tf->tasks[0].cwd, "/", "is kept as it is");
	alloter_taskfile_free(tf);

	is_int(parse("fail_fast: YES\nkill_others: Off\ntag: on\n"
	             "output: Group\ntimeout: 1.5\ngrace: 30\nlimit: 0\n"
	             "task_timeout: 1e3\ntasks: [a]\n", &tf), 0,
	       "other spellings");
	ok(tf->fail_fast == 1 && tf->kill_others == 0 && tf->tag == 1,
	   "yes, off and on are booleans in any case");
	is_int(tf->output, ALLOTER_OUTPUT_GROUP, "output in any case");
	ok(tf->timeout_ms == 1500 && tf->grace_ms == 30000 &&
	   tf->task_timeout_ms == 1000000, "numbers are seconds");
	is_int(tf->limit, 0, "limit 0");
	alloter_taskfile_free(tf);
}

static void test_forms(void)
{
	struct alloter_taskfile *tf;

	is_int(parse("tasks: {lint: make lint, build: {run: make, needs: deps},"
	             " deps: {run: fetch, retries: 1}}\n", &tf), 0,
	       "tasks as a mapping");
	is_int(tf->n_tasks, 3, "three tasks");
	is_str(tf->tasks[0].name, "lint", "named by their keys, in order");
	is_str(tf->tasks[0].run, "make lint", "a string value is the command");
	is_str(tf->tasks[1].name, "build", "second");
	ok(tf->tasks[1].n_needs == 1 && tf->tasks[1].needs[0] == 2,
	   "needs may be a single name");
	ok(tf->tasks[1].line == 1 && tf->tasks[1].col == 26,
	   "a task is defined where its key is");
	is_int(tf->tasks[2].retries, 1, "a mapping value has fields");
	alloter_taskfile_free(tf);

	is_int(parse("tasks:\n  - one\n  - two\n  - {run: three, needs: ['1',"
	             " '2', '1']}\n", &tf), 0, "plain strings");
	ok(!strcmp(tf->tasks[0].name, "1") && !strcmp(tf->tasks[1].name, "2"),
	   "are named 1 and 2");
	ok(tf->tasks[2].n_needs == 2 && tf->tasks[2].needs[0] == 0 &&
	   tf->tasks[2].needs[1] == 1, "and can be needed; twice counts once");
	alloter_taskfile_free(tf);

	is_int(parse("env: {A: file, B: \"2\"}\ntasks:\n  - run: x\n"
	             "    env: {A: own, C: 3.50}\n", &tf), 0, "env override");
	is_str(env_at(tf->tasks[0].env, 0), "B=2", "the file's other names");
	is_str(env_at(tf->tasks[0].env, 1), "A=own", "the task's value wins");
	is_str(env_at(tf->tasks[0].env, 2), "C=3.50", "numbers as written");
	ok(!tf->tasks[0].env[3], "and A only once");
	alloter_taskfile_free(tf);
}

static void test_aliases(void)
{
	struct alloter_taskfile *tf;
	char sub[128];

	is_int(parse("tasks:\n  - name: a\n    run: &cmd make all\n"
	             "  - name: b\n    run: *cmd\n  - &t {run: x, timeout: 3s}\n"
	             "  - *t\n", &tf), 0, "anchors and aliases");
	is_str(tf->tasks[1].run, "make all", "an aliased scalar");
	ok(tf->tasks[3].timeout_ms == 3000 && !strcmp(tf->tasks[3].name, "4"),
	   "an aliased task is a task of its own");
	alloter_taskfile_free(tf);

	snprintf(sub, sizeof sub, "%s/sub", tmp);
	is_int(parse("<<: {limit: 3}\n"
	             "tasks:\n"
	             "  - &defaults {run: make, timeout: 1m, retries: 1,"
	             " env: {A: \"1\"}}\n"
	             "  - <<: *defaults\n"
	             "    name: b\n"
	             "    retries: 3\n"
	             "  - <<: [*defaults, {cwd: sub, run: other}]\n"
	             "    name: c\n", &tf), 0, "merge keys");
	is_int(tf->limit, 3, "merged at the top level too");
	ok(!strcmp(tf->tasks[1].run, "make") &&
	   tf->tasks[1].timeout_ms == 60000,
	   "<<: *defaults brings the anchor's keys");
	is_int(tf->tasks[1].retries, 3, "the mapping's own keys win");
	is_str(env_at(tf->tasks[1].env, 0), "A=1", "a merged env");
	is_str(tf->tasks[2].run, "make", "in a list, earlier mappings win");
	is_str(tf->tasks[2].cwd, sub, "and later ones fill in");
	alloter_taskfile_free(tf);
}

static void test_errors(void)
{
	char afile[128], big[256];

	refused("limit: many\ntasks: [a]\n", 1, 8,
	        "limit: expected a whole number >= 0, got 'many'", "limit");
	refused("limit: 99999999999\ntasks: [a]\n", 1, 8, "is too large",
	        "limit out of range");
	refused("tasks:\n  - name: a\n    run: x\n    retries: -1\n", 4, 14,
	        "retries: expected a whole number >= 0, got '-1'", "retries");
	refused("tasks:\n  - name: a\n    run: x\n    needs: {a: b}\n", 4, 12,
	        "needs: expected a task name or a list of them, got a mapping",
	        "needs as a mapping");
	refused("tasks:\n  - run: x\n    needs: [[a]]\n", 3, 13,
	        "needs: expected a task name, got a list", "needs of lists");
	refused("output: fast\ntasks: [a]\n", 1, 9,
	        "output: expected group, line, raw or none, got 'fast'", "output");
	refused("fail_fast: maybe\ntasks: [a]\n", 1, 12,
	        "fail_fast: expected true or false, got 'maybe'", "boolean");
	refused("shell: [a]\ntasks: [a]\n", 1, 8,
	        "shell: expected a program, got a list", "shell");
	refused("tasks:\n  - name: x\n    timeout: 1s\n", 2, 5,
	        "task 'x' has no 'run'", "no run");
	refused("tasks:\n  - name: x\n    run: \"\"\n", 3, 10,
	        "task 'x' has an empty 'run'", "empty run");
	refused("tasks:\n  - run: a\n  - name: x\n    run: b\n  - name: x\n"
	        "    run: c\n", 5, 11,
	        "duplicate task name 'x' (first defined at 3:5)",
	        "duplicate names");
	refused("tasks:\n  - a\n  - name: \"1\"\n    run: b\n", 3, 11,
	        "duplicate task name '1' (first defined at 2:5)",
	        "a name that is another task's number");
	refused("tasks:\n  - name: b\n    run: x\n    needs: nope\n", 4, 12,
	        "task 'b' needs 'nope', which is not defined", "unknown need");
	refused("tasks:\n  - name: a\n    run: x\n    needs: [b]\n"
	        "  - name: b\n    run: x\n    needs: [c]\n"
	        "  - name: c\n    run: x\n    needs: a\n", 4, 13,
	        "dependency cycle: a -> b -> c -> a", "cycle");
	refused("tasks:\n  a: {run: x, needs: [a]}\n", 2, 23,
	        "task 'a' needs itself", "self need");
	refused("timeout: abc\ntasks: [a]\n", 1, 10,
	        "timeout: invalid duration 'abc'", "duration");
	refused("tasks:\n  - run: x\n    timeout: 5 minutes\n", 3, 14,
	        "timeout: invalid duration '5 minutes'", "task duration");
	refused("tasks:\n  - run: x\n    cwd: nope\n", 3, 10,
	        "cwd: cannot use 'nope': No such file or directory", "missing cwd");
	snprintf(afile, sizeof afile, "%s/afile", tmp);
	write_file(afile, "");
	refused("tasks:\n  - run: x\n    cwd: afile\n", 3, 10,
	        "cwd: 'afile' is not a directory", "cwd not a folder");
	refused("timout: 5\ntasks: [a]\n", 1, 1,
	        "unknown key 'timout' (did you mean 'timeout'?)", "typo");
	refused("tasks: [a]\nxyz: 1\n", 2, 1, "unknown key 'xyz'", "unknown");
	ok(!strcmp(dg.msg, "unknown key 'xyz'"), "with no far-fetched guess");
	refused("tasks:\n  - run: x\n    neds: [a]\n", 3, 5,
	        "unknown key 'neds' (did you mean 'needs'?)", "task key typo");
	refused("tasks:\n  a:\n    name: b\n    run: x\n", 3, 5,
	        "name: not allowed when tasks is a mapping", "name in a map");
	refused("limit: 1\nlimit: 2\ntasks: [a]\n", 2, 1,
	        "duplicate key 'limit' (first at 1:1)", "duplicate key");
	refused("", 1, 1, "no tasks", "empty file");
	refused("# nothing\n", 1, 1, "no tasks", "comments only");
	refused("limit: 2\n", 1, 1, "no tasks", "no tasks key");
	refused("tasks: []\n", 1, 8, "no tasks", "empty task list");
	refused("tasks: 5\n", 1, 8,
	        "tasks: expected a list or a mapping of tasks, got '5'",
	        "tasks as a number");
	refused("tasks: [a, ~]\n", 1, 12,
	        "task 2: expected a command or a mapping, got null",
	        "a null task");
	refused("- a\n- b\n", 1, 1,
	        "expected a mapping at the top level, got a list", "a list");
	refused("tasks: [a]\n---\ntasks: [b]\n", 2, 1, "more than one document",
	        "two documents");
	refused("tasks: [a\n", 2, 1, "did not find expected ',' or ']'",
	        "syntax error");
	refused("tasks: [a]\nb: \"\xc3\xa9\xff\"\n", 2, 6, "invalid UTF-8",
	        "invalid UTF-8");
	refused("tasks: [a]\nb: \"\xe9\"\n", 2, 5, "invalid UTF-8 (byte 0xe9)",
	        "a broken sequence, at its start");
	refused_as("tasks: [a]\0", 11, 1, 11, "control characters",
	           "a NUL byte");
	refused("env: {A=B: 1}\ntasks: [a]\n", 1, 7, "env: invalid name 'A=B'",
	        "env name with =");
	refused("env: {\"\": 1}\ntasks: [a]\n", 1, 7, "env: empty name",
	        "empty env name");
	refused("env:\n  A: [1]\ntasks: [a]\n", 2, 6,
	        "env 'A': expected a string, got a list", "env list value");
	refused("env:\n  A:\ntasks: [a]\n", 2, 5, "env: 'A' has no value",
	        "env null value");
	refused("env: [A]\ntasks: [a]\n", 1, 6,
	        "env: expected a mapping of names to values, got a list",
	        "env as a list");
	refused("tasks: [*nope]\n", 1, 9, "undefined alias '*nope'",
	        "undefined alias");
	refused("tasks: &a [*a]\n", 1, 12, "inside the node it refers to",
	        "a node inside itself");
	refused("tasks:\n  - run: x\n    <<: 5\n", 3, 9,
	        "<<: expected a mapping or a list of mappings", "bad merge");
	refused("tasks: [a]\n[x]: 1\n", 2, 1, "expected a name as key",
	        "a list as key");
	refused("tasks: [{run: \"a\\0b\"}]\n", 1, 15, "contains a NUL",
	        "an escaped NUL");
	/* A long name is cut short in messages, and the message still ends
	 * where it should. */
	snprintf(big, sizeof big, "tasks:\n  - name: %0200d\n    run: \"\"\n", 7);
	refused(big, 3, 10, "...' has an empty 'run'", "a long name");
}

static void test_io(void)
{
	struct alloter_taskfile *tf = NULL;
	char path[128];
	int fd, saved;

	snprintf(path, sizeof path, "%s/missing.yaml", tmp);
	is_int(alloter_taskfile_load(path, &tf, &dg), -ENOENT,
	       "a missing file is -ENOENT");
	ok(!tf && dg.line == 0 && dg.col == 0 && !strcmp(dg.file, path) &&
	   !strcmp(dg.msg, "cannot read: No such file or directory"),
	   "cannot read: No such file or directory, at no place");
	is_int(alloter_taskfile_load(tmp, &tf, &dg), -EISDIR,
	       "a folder cannot be read");

	/* stdin: the file's folder is the current one. */
	snprintf(path, sizeof path, "%s/stdin.yaml", tmp);
	write_file(path, "tasks: [a, b]\nlimit: x\n");
	fd = open(path, O_RDONLY);
	saved = dup(0);
	dup2(fd, 0);
	is_int(alloter_taskfile_load("-", &tf, &dg), -EINVAL, "- reads stdin");
	ok(!strcmp(dg.file, "<stdin>") && dg.line == 2 && dg.col == 8,
	   "and calls it <stdin>");
	dup2(saved, 0);
	close(saved);
	close(fd);

	is_int(alloter_taskfile_parse("x", 1, "-", NULL, &tf, &dg), -EINVAL,
	       "parse() with name -");
	is_str(dg.file, "<stdin>", "calls it <stdin> too");
	is_int(alloter_taskfile_parse("tasks: [a]", 10, "n", NULL, &tf, NULL),
	       0, "diag may be NULL");
	alloter_taskfile_free(tf);
}

static void test_limits(void)
{
	char *s, *p;
	struct alloter_taskfile *tf = NULL;
	double t;
	int i, j;

	/* Billion laughs: nine levels of nine aliases, 9^9 strings. */
	s = malloc(4096);
	p = s + sprintf(s, "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\","
	                "\"lol\",\"lol\",\"lol\",\"lol\"]\n");
	for (i = 1; i < 9; i++) {
		p += sprintf(p, "%c: &%c [", 'a' + i, 'a' + i);
		for (j = 0; j < 9; j++)
			p += sprintf(p, "%s*%c", j ? "," : "", 'a' + i - 1);
		p += sprintf(p, "]\n");
	}
	strcpy(p, "tasks: [x]\n");
	t = now();
	refused(s, 9, 8, "aliases expand the document to more than",
	        "billion laughs");
	t = now() - t;
	ok(t < 2.0, "billion laughs refused in %.4fs", t);

	/* The same through merge keys, which the loader does expand. */
	p = s + sprintf(s, "tasks:\n  - &m0 {run: x}\n");
	for (i = 1; i < 10; i++) {
		p += sprintf(p, "  - &m%d {<<: [", i);
		for (j = 0; j < 9; j++)
			p += sprintf(p, "%s*m%d", j ? "," : "", i - 1);
		p += sprintf(p, "]}\n");
	}
	t = now();
	refused(s, 11, 15, "aliases expand", "a bomb of merge keys");
	t = now() - t;
	ok(t < 2.0, "refused in %.4fs", t);
	free(s);

	/* 100,000 levels, in flow sequences and flow mappings. */
	s = malloc(400010);
	memset(s, '[', 100000);
	memset(s + 100000, ']', 100000);
	s[200000] = '\0';
	t = now();
	refused(s, 1, 257, "nesting too deep (more than 256 levels)",
	        "100,000 nested lists");
	t = now() - t;
	ok(t < 2.0, "refused in %.4fs", t);
	for (i = 0, p = s; i < 100000; i++)
		p += sprintf(p, "{a: ");
	*p = '\0';
	refused(s, 1, 1025, "nesting too deep", "100,000 nested mappings");

	/* Depth through aliases: each list holds the one before. */
	p = s + sprintf(s, "tasks:\n  - &a0 [x]\n");
	for (i = 1; i < 300; i++)
		p += sprintf(p, "  - &a%d [*a%d]\n", i, i - 1);
	refused(s, 257, 5, "nesting too deep through aliases",
	        "nesting through aliases");
	free(s);

	/* Many tasks in a chain: a quadratic step would take minutes, even
	 * under valgrind's 30-fold slowdown. */
	s = malloc(20000 * 64);
	p = s + sprintf(s, "tasks:\n");
	for (i = 0; i < 20000; i++)
		p += sprintf(p, "  t%d: {run: echo %d, needs: t%d}\n", i, i,
		             i ? i - 1 : 19999);
	t = now();
	/* The first needs the last: the whole chain is one cycle. */
	refused(s, 2, 28, "dependency cycle: t0 -> t19999 -> t19998", "ring");
	p = strstr(s, "needs: t19999}");
	memcpy(p, "needs: []    ", 13);
	is_int(parse(s, &tf), 0, "20,000 tasks in a chain");
	ok(tf && tf->n_tasks == 20000 && tf->tasks[19999].needs[0] == 19998,
	   "all of them, linked");
	t = now() - t;
	ok(t < 60.0, "both in %.2fs", t);
	alloter_taskfile_free(tf);
	free(s);
}

/* hosts: at the top, and host: or hosts: in a task (remote runs). */
static void test_hosts(void)
{
	struct alloter_taskfile *tf = NULL;
	int r = parse("hosts: [4/build1, ':']\n"
	              "tasks:\n"
	              "  - {run: a, host: build1}\n"
	              "  - {run: b, hosts: [build1, ':']}\n"
	              "  - c\n", &tf);

	ok(r == 0 && tf, "hosts and pins load");
	if (r == 0) {
		ok(tf->hosts && !strcmp(tf->hosts[0], "4/build1") &&
		   !strcmp(tf->hosts[1], ":") && !tf->hosts[2],
		   "the top-level hosts, as written");
		ok(tf->tasks[0].hosts && !strcmp(tf->tasks[0].hosts[0], "build1")
		   && !tf->tasks[0].hosts[1], "host: is a one-host list");
		ok(tf->tasks[1].hosts && !strcmp(tf->tasks[1].hosts[1], ":"),
		   "hosts: keeps every entry");
		ok(!tf->tasks[2].hosts, "a task without pins may run anywhere");
	}
	alloter_taskfile_free(tf);
	refused("tasks:\n  - {run: a, host: x, hosts: [y]}\n", 2, 23,
	        "give host or hosts, not both", "host and hosts together");
	refused("hosts: {a: b}\ntasks: [a]\n", 1, 8,
	        "hosts: expected a host or a list of them", "hosts as a map");
}

int main(void)
{
	char path[128];

	strcpy(tmp, "/tmp/t_taskfile.XXXXXX");
	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(path, sizeof path, "%s/tests", tmp);
	mkdir(path, 0755);
	snprintf(path, sizeof path, "%s/sub", tmp);
	mkdir(path, 0755);

	test_example();
	test_defaults();
	test_forms();
	test_aliases();
	test_errors();
	test_io();
	test_limits();
	test_hosts();

	static const char *const files[] = {"tasks.yaml", "afile",
	                                    "stdin.yaml", "tests", "sub"};
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", tmp, files[i]);
		remove(path);
	}
	rmdir(tmp);
	return tap_done();
}
