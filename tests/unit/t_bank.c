/*
 * t_bank.c - group output past its buffer, held in pipes ("banks"): a big
 * block is banked, and gives its banks back once written; it arrives
 * whole and in order (buffer, banks, spill), tagged or not, kept for
 * keep-order, unmixed with a block written beside it; and banked output
 * still needs its room in the spool folder.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>

#include "alloter.h"
#include "tap.h"

#define NO_TMPDIR "/nonexistent/t_bank"

static char a[65536], b[65536];

/* Whether fd holds, from *at, exactly what cmd prints; *at moves past
 * that many bytes either way. */
static bool holds(int fd, off_t *at, const char *cmd)
{
	FILE *p = popen(cmd, "r");
	bool same = p != NULL;
	size_t n;

	while (p && (n = fread(a, 1, sizeof a, p)) > 0) {
		if (pread(fd, b, n, *at) != (ssize_t)n || memcmp(a, b, n))
			same = false;
		*at += (off_t)n;
	}
	if (p)
		pclose(p);
	return same;
}

static int scratch(void)
{
	char path[] = "/tmp/t_bank.XXXXXX";
	int fd = mkstemp(path);

	if (fd >= 0)
		unlink(path);
	return fd;
}

static alloter_output *output(int fd, const char *tmpdir, bool tag,
                              bool keep_order)
{
	alloter_output *o = NULL;
	struct alloter_output_opts oo = {.mode = ALLOTER_OUTPUT_GROUP,
	                                 .out_fd = fd, .err_fd = fd,
	                                 .tag = tag, .keep_order = keep_order,
	                                 .tmpdir = tmpdir};

	alloter_output_new(&o, &oo);
	return o;
}

/* Runs cmd as task index on o; whether it exited 0 with its output kept. */
static bool run(alloter_output *o, const char *cmd, size_t index)
{
	struct alloter_proc q = {.command = cmd, .name = "n", .index = index,
	                         .output = o};
	struct alloter_proc_result r;

	return alloter_proc_run(&q, NULL, &r) == 0 &&
	       r.status == ALLOTER_PROC_EXITED && r.exit_code == 0;
}

/* Runs cmd alone on an output (tagged if tag) to a file of its own, and
 * checks that it is kept and the file holds what expect prints, whole. */
static void alone(bool tag, const char *cmd, const char *expect,
                  const char *kept, const char *whole)
{
	int fd = scratch();
	alloter_output *o = output(fd, NULL, tag, false);
	off_t at = 0;

	ok(run(o, cmd, 1), "%s", kept);
	alloter_output_flush(o);
	ok(holds(fd, &at, expect), "%s", whole);
	is_int(lseek(fd, 0, SEEK_END), at, "  and nothing more");
	alloter_output_free(o);
	close(fd);
}

struct beside {
	alloter_output *o;
	const char *cmd;
	bool ok;
};

/* The pipes this process holds open. */
static int pipes(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	char link[64], path[300];
	int n = 0;

	while (d && (e = readdir(d))) {
		ssize_t len;

		snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
		len = readlink(path, link, sizeof link - 1);
		if (len > 0 && (link[len] = '\0', !strncmp(link, "pipe:", 5)))
			n++;
	}
	if (d)
		closedir(d);
	return n;
}

static void *run_beside(void *arg)
{
	struct beside *t = arg;

	t->ok = run(t->o, t->cmd, 2);
	return NULL;
}

int main(void)
{
	int fd, before;
	off_t at;
	alloter_output *o;

	/* 11 MB, four times over: banked each time (about a pipe per MiB),
	 * so a written block gave its banks back (an output has 32 at
	 * most). */
	fd = scratch();
	o = output(fd, NULL, false, false);
	before = pipes();
	for (int i = 0; i < 4; i++) {
		struct beside t = {.o = o,
		                   .cmd = "seq 1 1500000; while [ ! -e "
		                          "/tmp/t_bank.go ]; do sleep 0.01; done"};
		pthread_t th;
		int most = 0;

		unlink("/tmp/t_bank.go");
		pthread_create(&th, NULL, run_beside, &t);
		for (int k = 0; k < 1000 && most - before < 10; k++) {
			int now = pipes();

			most = now > most ? now : most;
			usleep(10000);
		}
		fclose(fopen("/tmp/t_bank.go", "w"));
		pthread_join(th, NULL);
		alloter_output_flush(o);
		ok(t.ok && most - before >= 10,
		   "an 11 MB block is banked (%d of 4): %d pipes", i + 1,
		   most - before);
	}
	unlink("/tmp/t_bank.go");
	is_int(pipes(), before, "  and every bank is closed once written");
	at = 0;
	ok(holds(fd, &at, "seq 1 1500000; seq 1 1500000; seq 1 1500000; "
	                        "seq 1 1500000"),
	   "  and the blocks arrive whole");
	alloter_output_free(o);
	close(fd);

	/* The banks keep their room in the spool folder: with none, a
	 * banked block is lost, none of it written; a block that fits in
	 * memory is kept. */
	fd = scratch();
	o = output(fd, NO_TMPDIR, false, false);
	ok(!run(o, "seq 1 1000000", 1),
	   "7 MB with no spool folder is lost, banked or not");
	ok(run(o, "seq 1 1000", 1), "  a small block is kept");
	alloter_output_flush(o);
	at = 0;
	ok(holds(fd, &at, "seq 1 1000"), "  and only it is written");
	is_int(lseek(fd, 0, SEEK_END), at, "  and nothing more");
	alloter_output_free(o);
	close(fd);

	/* Buffer, banks (32 MiB at most), then spill: in that order. */
	alone(false, "seq 1 6000000; seq 1 900000 >&2",
	      "seq 1 6000000; seq 1 900000",
	      "47 MB of stdout and 6 MB of stderr are kept",
	      "  and arrive whole, in order, stdout's block first");
	/* Tagged: the banks' lines are tagged on the way out. */
	alone(true, "seq 1 1000000", "seq 1 1000000 | sed 's/^/n\t/'",
	      "a tagged 7 MB block is kept", "  and every line arrives tagged");

	/* Keep-order: a block held for its turn keeps its banks. */
	fd = scratch();
	o = output(fd, NULL, false, true);
	at = 0;
	ok(run(o, "seq 5000000 6500000", 2) && run(o, "seq 1 1500000", 1),
	   "two 11 MB blocks held for keep-order");
	alloter_output_release(o, 2);
	alloter_output_release(o, 1);
	alloter_output_flush(o);
	ok(holds(fd, &at, "seq 1 1500000; seq 5000000 6500000"),
	   "  go out whole, in index order");
	alloter_output_free(o);
	close(fd);

	/* Two blocks banked at once do not mix. */
	{
		struct beside t;
		pthread_t th;
		bool first_ok;
		off_t other;

		fd = scratch();
		o = output(fd, NULL, false, false);
		t = (struct beside){.o = o, .cmd = "seq 5000000 6500000"};
		pthread_create(&th, NULL, run_beside, &t);
		first_ok = run(o, "seq 1 1500000", 1);
		pthread_join(th, NULL);
		alloter_output_flush(o);
		ok(first_ok && t.ok, "two 11 MB blocks banked at once");
		at = 0;
		other = 0;
		ok(holds(fd, &at, "seq 1 1500000; seq 5000000 6500000") ||
		   holds(fd, &other, "seq 5000000 6500000; seq 1 1500000"),
		   "  go out one after the other, whole");
		alloter_output_free(o);
		close(fd);
	}
	return tap_done();
}
