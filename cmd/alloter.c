/*
 * alloter.c - the command: options and task sources in, exit status out.
 * The only file that decides how alloter exits.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "clock.h"
#include "feed.h"
#include "hosts.h"
#include "input.h"
#include "joblog.h"
#include "options.h"
#include "outfile.h"
#include "pacing.h"
#include "placement.h"
#include "progress.h"
#include "report.h"
#include "reporter.h"
#include "results.h"
#include "resume.h"
#include "run.h"
#include "signals.h"
#include "slurm.h"
#include "timeline.h"

/* Descriptors a running task may hold: two pipes, a pidfd, and a spill
 * file per stream, plus the write ends briefly while it spawns. */
#define FDS_PER_TASK 6
#define FDS_SPARE 64
/* What the executor and the output open once a run is under way. */
#define FDS_RUN 4

/* Lays one source of settings over s: a negative value is "not given". */
static void overlay(struct settings *s, int limit, int64_t timeout_ms,
                    int64_t task_timeout_ms, int64_t grace_ms, int fail_fast,
                    int kill_others, int tag, int output)
{
	if (limit >= 0)
		s->limit = limit;
	if (timeout_ms >= 0)
		s->timeout_ms = timeout_ms;
	if (task_timeout_ms >= 0)
		s->task_timeout_ms = task_timeout_ms;
	if (grace_ms >= 0)
		s->grace_ms = grace_ms;
	if (fail_fast >= 0)
		s->fail_fast = fail_fast;
	if (kill_others >= 0)
		s->kill_others = kill_others;
	if (tag >= 0)
		s->tag = tag;
	if (output >= 0)
		s->output = (enum alloter_output_mode)output;
}

/* The same for the rerun and pacing policies. */
static void overlay_policies(struct settings *s,
                             const struct alloter_halt *halt,
                             int64_t delay_ms, double load, int64_t memfree)
{
	if (delay_ms >= 0)
		s->delay_ms = delay_ms;
	if (load > 0)
		s->load_max = load;
	if (memfree >= 0)
		s->memfree = memfree;
	/* A halt at the first failure is fail-fast or kill-others, which
	 * the executor does itself; any other is the feed's. */
	if (halt->when != ALLOTER_HALT_NEVER && halt->why == ALLOTER_HALT_FAIL &&
	    halt->count == 1) {
		s->fail_fast = true;
		s->kill_others = halt->when == ALLOTER_HALT_NOW;
		s->halt = (struct alloter_halt){0};
	} else if (halt->when != ALLOTER_HALT_NEVER) {
		s->halt = *halt;
	}
}

/* The command line wins over the task file, which wins over defaults. */
static struct settings settle(const struct options *o,
                              const struct alloter_taskfile *tf)
{
	struct settings s = {
		.limit = (int)sysconf(_SC_NPROCESSORS_ONLN),
		.grace_ms = 2000,
		.quiet = o->quiet,
		.keep_order = o->keep_order,
		.output = ALLOTER_OUTPUT_GROUP,
		.retries = -1,
		.retry_delay = ALLOTER_BACKOFF_INIT,
	};

	if (s.limit < 1)
		s.limit = 1;
	if (tf) {
		overlay(&s, tf->limit, tf->timeout_ms, tf->task_timeout_ms,
		        tf->grace_ms, tf->fail_fast, tf->kill_others, tf->tag,
		        tf->output);
		s.shell = tf->shell;
	}
	overlay(&s, o->limit, o->timeout_ms, o->task_timeout_ms, o->grace_ms,
	        o->fail_fast, o->kill_others, o->tag, o->output);
	/* Retries and their back-off are each task's (job.c); these are
	 * the command line's, over every task's. */
	s.retries = o->retries;
	if ((s.retry_delay_given = o->has_retry_delay))
		s.retry_delay = o->retry_delay;
	if (tf)
		overlay_policies(&s, &tf->halt, tf->delay_ms, tf->load,
		                 tf->memfree);
	overlay_policies(&s, &o->halt, o->delay_ms, o->load, o->memfree);
	if (s.kill_others)
		s.fail_fast = true;
	/* The library reads a zero grace as "the default"; a grace of 0 from
	 * the user means SIGKILL right after SIGTERM. */
	if (s.grace_ms == 0)
		s.grace_ms = 1;
	/* A shell named in the task file is wanted for every command. */
	s.direct = !o->shell_always && !s.shell;
	return s;
}

/* What the command line checks for itself (options.c), checked again
 * once a task file's output, tag and keep-order are laid under it. */
static int check_settings(const struct settings *s,
                          const struct alloter_taskfile *tf)
{
	const char *why = NULL;

	if (!tf)
		return 0;
	if (s->output == ALLOTER_OUTPUT_RAW && s->tag)
		why = "--tag (tag: in the task file): cannot be combined with "
		      "raw output (-o raw, output: raw): raw output goes "
		      "straight out, unseen, so its lines cannot be prefixed";
	else if (s->output == ALLOTER_OUTPUT_RAW && s->keep_order)
		why = "--keep-order: cannot be combined with raw output (-o "
		      "raw, output: raw): use group";
	else if (s->output == ALLOTER_OUTPUT_LINE && s->keep_order)
		why = "--keep-order: cannot be combined with line output (-o "
		      "line, output: line): use group";
	if (!why)
		return 0;
	fprintf(stderr, "alloter: %s\n", why);
	return 2;
}

/* Raises the descriptor limit so that the concurrency asked for can have
 * its pipes; if even the hard limit is too low, lowers the concurrency and
 * says so, rather than failing tasks halfway through a run. */
static void fit_descriptors(struct settings *s, const char *name)
{
	struct rlimit rl;
	rlim_t want;
	long fit;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	want = s->limit ? (rlim_t)s->limit * FDS_PER_TASK + FDS_SPARE
	                : rl.rlim_max;
	if (want > rl.rlim_cur) {
		rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0 &&
		    getrlimit(RLIMIT_NOFILE, &rl) < 0)
			return;
	}
	fit = ((long)rl.rlim_cur - FDS_SPARE) / FDS_PER_TASK;
	if (fit < 1)
		fit = 1;
	if (s->limit > fit) {
		fprintf(stderr, "alloter: %s %d lowered to %ld: the "
		        "descriptor limit is %llu (see ulimit -n)\n", name,
		        s->limit, fit, (unsigned long long)rl.rlim_cur);
		s->limit = (int)fit;
	}
}

/* Whether even one task can have its descriptors, counted once alloter
 * holds all of its own: without them every task would fail (or worse,
 * the run would stop halfway), so it is better to say so and run none.
 * Returns 0 or an exit status. */
static int check_descriptors(void)
{
	struct rlimit rl;
	DIR *d = opendir("/proc/self/fd");
	long open_fds = -1; /* the folder's own descriptor */

	if (!d || getrlimit(RLIMIT_NOFILE, &rl) < 0) {
		if (d)
			closedir(d);
		return 0; /* cannot tell: let the tasks say it */
	}
	while (readdir(d))
		open_fds++;
	closedir(d);
	open_fds -= 2; /* "." and ".." */
	if (rl.rlim_cur >= (rlim_t)(open_fds + FDS_PER_TASK + FDS_RUN))
		return 0;
	fprintf(stderr, "alloter: the descriptor limit is %llu (see ulimit -n): "
	        "too low to run even one task, which needs %d more than the "
	        "%ld alloter holds\n", (unsigned long long)rl.rlim_cur,
	        FDS_PER_TASK + FDS_RUN, open_fds);
	return 2;
}

static int load_taskfile(const char *path, struct alloter_taskfile **tf)
{
	struct alloter_diag d = {0};
	int err = alloter_taskfile_load(path, tf, &d);

	if (!err)
		return 0;
	if (d.line > 0)
		fprintf(stderr, "%s:%d:%d: %s\n", d.file, d.line, d.col,
		        d.msg);
	else
		fprintf(stderr, "alloter: %s: %s\n", d.file[0] ? d.file : path,
		        d.msg[0] ? d.msg : strerror(-err));
	return 2;
}

/* Colour where asked, or by default on a terminal unless NO_COLOR is set
 * (https://no-color.org: any non-empty value). */
static bool want_color(int when, int fd)
{
	const char *no = getenv("NO_COLOR");

	if (when != COLOR_AUTO)
		return when == COLOR_ALWAYS;
	return isatty(fd) && !(no && *no);
}

/* --ci auto: what the CI's own variables say. */
static int which_ci(int ci)
{
	const char *gh = getenv("GITHUB_ACTIONS"), *gl = getenv("GITLAB_CI");

	if (ci != CI_AUTO)
		return ci;
	if (gh && strcmp(gh, "true") == 0)
		return CI_GITHUB;
	if (gl && strcmp(gl, "true") == 0)
		return CI_GITLAB;
	return CI_NONE;
}

static int exit_status(const struct run *r, int sig, int err)
{
	if (sig == SIGPIPE || alloter_output_broken(r->out))
		return 141;
	if (sig)
		return 128 + sig;
	if (r->read_err)
		return 2; /* the input could not be read */
	if (r->res.stop_reason == ALLOTER_CANCEL_TIMEOUT)
		return 124;
	/* A halt on success is the run's success, whatever failed before. */
	if (r->halted && r->set.halt.why == ALLOTER_HALT_SUCCESS && !err)
		return 0;
	if (err || r->tally.failed)
		return 1;
	return 0;
}

/* Whether any start may wait for time: pacing then needs its timer. */
static bool timed_starts(const struct run *r,
                         const struct alloter_taskfile *tf)
{
	const struct settings *s = &r->set;

	for (size_t i = 0; tf && i < tf->n_tasks; i++)
		if (tf->tasks[i].has_retry_delay &&
		    tf->tasks[i].retry_delay.delay_ms > 0)
			return true;
	if (tf && tf->has_retry_delay && tf->retry_delay.delay_ms > 0)
		return true;
	return s->delay_ms > 0 || s->retry_delay.delay_ms > 0 ||
	       s->load_max > 0 || s->memfree > 0;
}

/* -n: the rerun and pacing policies in force, on stderr, one line. */
static void say_policies(const struct settings *s)
{
	static const char *const why[] = {"fail", "success", "done"};
	char line[512] = "", d1[32], d2[32];
	size_t n = 0;

#define ADD(...) \
	n += (size_t)snprintf(line + n, n < sizeof line ? sizeof line - n : 0, \
	                      __VA_ARGS__)
	if (s->retries > 0)
		ADD(", --retries %d", s->retries);
	if (s->retry_delay_given)
		ADD(", --retry-delay %s,%g,%s",
		    alloter_duration_format(s->retry_delay.delay_ms, d1, sizeof d1),
		    s->retry_delay.factor,
		    alloter_duration_format(s->retry_delay.max_ms, d2, sizeof d2));
	if (s->kill_others)
		ADD(", --halt now,fail=1");
	else if (s->fail_fast)
		ADD(", --halt soon,fail=1");
	if (s->halt.when != ALLOTER_HALT_NEVER)
		ADD(", --halt %s,%s=%lld%s",
		    s->halt.when == ALLOTER_HALT_NOW ? "now" : "soon",
		    why[s->halt.why],
		    (long long)(s->halt.percent ? s->halt.percent : s->halt.count),
		    s->halt.percent ? "%" : "");
	if (s->delay_ms > 0)
		ADD(", --delay %s", alloter_duration_format(s->delay_ms, d1,
		                                            sizeof d1));
	if (s->load_max > 0)
		ADD(", --load %g", s->load_max);
	if (s->memfree > 0)
		ADD(", --memfree %lldM", (long long)(s->memfree >> 20));
#undef ADD
	if (n && n < sizeof line)
		fprintf(stderr, "alloter: policies: %s\n", line + 2);
}

/* Says which --halt policy stopped the run, before the summary. */
static void say_halt(struct run *r)
{
	static const char *const done[] = {"failed", "succeeded", "done"};
	static const char *const why[] = {"fail", "success", "done"};
	const struct alloter_halt *h = &r->set.halt;
	char n[40], spec[24];

	if (!r->halted)
		return;
	if (h->percent) {
		snprintf(n, sizeof n, "%d%% of the tasks", h->percent);
		snprintf(spec, sizeof spec, "%d%%", h->percent);
	} else {
		snprintf(n, sizeof n, "%lld task%s", (long long)h->count,
		         h->count == 1 ? "" : "s");
		snprintf(spec, sizeof spec, "%lld", (long long)h->count);
	}
	reporter_say(r, false, "halted: %s %s (--halt %s,%s=%s)", n,
	             done[h->why], h->when == ALLOTER_HALT_NOW ? "now" : "soon",
	             why[h->why], spec);
}

/* Reads -S, --hosts-file and --ssh; returns 0 or an exit status. */
static int load_hosts(struct hosts *h, const struct options *o,
                      const struct alloter_taskfile *tf, int64_t grace_ms)
{
	char msg[1024];
	int err = 0;

	h->grace_ms = grace_ms;
	if (o->hosts)
		err = hosts_add_list(h, o->hosts, msg, sizeof msg);
	if (!err && o->hosts_file)
		err = hosts_add_file(h, o->hosts_file, msg, sizeof msg);
	/* The task file's hosts, unless the command line gave some. */
	for (char **e = tf && !h->n ? tf->hosts : NULL; !err && e && *e; e++)
		err = hosts_add_list(h, *e, msg, sizeof msg);
	/* hosts: [] names no host, as an empty -S or hosts file does. */
	if (!err && !h->n) {
		snprintf(msg, sizeof msg, "%s: hosts: the list is empty",
		         o->file);
		err = -EINVAL;
	}
	if (!err && (err = hosts_set_ssh(h, o->ssh ? o->ssh : "ssh")) == -EINVAL)
		snprintf(msg, sizeof msg, "--ssh: empty command");
	if (err == -ENOMEM)
		snprintf(msg, sizeof msg, "%s", strerror(ENOMEM));
	if (!err)
		return 0;
	fprintf(stderr, "alloter: %s\n", msg);
	return 2;
}

/* Every host a task is pinned to must be one of the run's. */
static int check_pins(const struct run *r)
{
	for (size_t i = 0; i < r->n_jobs; i++) {
		for (char **p = r->jobs[i].pins; p && *p; p++) {
			bool found = false;

			for (size_t k = 0; r->hosts && k < r->hosts->n; k++)
				found |= placement_host_matches(&r->hosts->v[k],
				                                *p);
			if (!found) {
				fprintf(stderr, "alloter: task '%s': host '%s' is "
				        "not among the run's hosts (give them "
				        "with -S, --hosts-file or hosts:)\n",
				        r->jobs[i].name, *p);
				return 2;
			}
		}
	}
	return 0;
}

/* --slurm (or the task file's slurm:): srun and its controller must be
 * there before anything runs.  Returns 0 or an exit status. */
static int start_slurm(struct slurm *s, struct run *r, const struct options *o)
{
	char msg[512];

	if (r->hosts) {
		fprintf(stderr, "alloter: --slurm: cannot be combined with the "
		        "task file's hosts: Slurm places the tasks on its "
		        "nodes\n");
		return 2;
	}
	if (slurm_open(s, o->slurm_args, msg, sizeof msg)) {
		fprintf(stderr, "alloter: %s\n", msg);
		slurm_close(s);
		return 2;
	}
	r->slurm = s;
	return 0;
}

static void say_stderr(void *ud, const char *msg)
{
	alloter_output_write(ud, 2, "alloter: ", 9);
	alloter_output_write(ud, 2, msg, strlen(msg));
	alloter_output_write(ud, 2, "\n", 1);
}

/* --timeline-from: the page of a report; returns an exit status. */
static int timeline_page_of(const char *report, const char *page)
{
	int err = timeline_from_report(report, page);

	if (err == -EINVAL)
		fprintf(stderr, "alloter: --timeline-from '%s': not a JSON "
		        "report\n", report);
	else if (err)
		fprintf(stderr, "alloter: --timeline-from '%s' to '%s': %s\n",
		        report, page, strerror(-err));
	return err ? 2 : 0;
}

/* Opens what --joblog, --report and --timeline ask for, before anything
 * runs; returns 0 or an exit status. */
static int open_logs(struct run *r, const struct options *o,
                     const struct alloter_taskfile *tf)
{
	const char *what = "--joblog", *path = o->joblog;
	int err = 0, sig = 0, status = 2;

	/* Before either is opened: the job log truncates its file. */
	if (o->joblog && o->report && outfile_same(o->joblog, o->report)) {
		fprintf(stderr, "alloter: --joblog '%s' and --report '%s' name "
		        "the same file\n", o->joblog, o->report);
		return 2;
	}
	if (o->joblog)
		err = joblog_open(&r->joblog, o->joblog, o->joblog_append,
		                  r->out, &sig);
	if (!err && o->report) {
		what = "--report";
		path = o->report;
		err = report_open(&r->report, o->report, r->out, &sig);
	}
	if (!err && o->timeline) {
		what = "--timeline";
		path = o->timeline;
		err = timeline_open(&r->timeline, o->timeline, tf);
	}
	if (!err)
		return 0;
	if (err == -EINTR && sig)
		status = 128 + sig;
	else
		fprintf(stderr, "alloter: %s '%s': %s\n", what, path,
		        strerror(-err));
	joblog_close(r->joblog, false);
	report_discard(r->report);
	r->joblog = NULL;
	r->report = NULL;
	return status;
}

int main(int argc, char **argv)
{
	struct options o;
	struct alloter_taskfile *tf = NULL;
	struct run r = {0};
	struct hosts hosts = {0};
	struct slurm slurm = {0};
	struct signals *sigs = NULL;
	struct pacing pacing;
	alloter_pool *pool = NULL;
	int status, err, sig, late;
	int64_t deadline_ms;
	bool abandoned, stdout_closed = false, use_slurm;

	/* Before anything opens a descriptor: a closed 0, 1 or 2 would be
	 * reused by the first one opened, and read as the commands or
	 * written over as the output.  A closed stdout becomes /dev/full, so
	 * that output sent there is lost, and said to be, not discarded. */
	for (int fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		stdout_closed |= fd == 1;
		if (open(fd == 1 ? "/dev/full" : "/dev/null",
		         fd ? O_WRONLY : O_RDONLY) != fd) {
			fprintf(stderr, "alloter: cannot open /dev/null or "
			        "/dev/full onto descriptor %d\n", fd);
			return 2;
		}
	}
	status = options_parse(&o, argc, argv);
	if (status != OPTIONS_RUN)
		return status;
	if (o.timeline_from) {
		status = timeline_page_of(o.timeline_from, o.timeline);
		options_free(&o);
		return status;
	}
	if (!o.file && o.n_commands == 0 && !options_template(&o) &&
	    isatty(0)) {
		fprintf(stderr, "alloter: no commands given, and standard "
		        "input is a terminal\nTry 'alloter --help' for more "
		        "information.\n");
		options_free(&o);
		return 2;
	}
	/* Until the signals are blocked they keep their default effect, so
	 * an interrupt ends a slow read of the task file or the hosts file (a
	 * FIFO, say) at once; nothing has run yet. */
	if (o.file && (status = load_taskfile(o.file, &tf)))
		goto out;
	/* One range for a limit, wherever it is given. */
	if (tf && tf->limit > LIMIT_MAX) {
		fprintf(stderr, "alloter: %s: limit: %d is more than the most, "
		        "%d\n", o.file, tf->limit, LIMIT_MAX);
		status = 2;
		goto out;
	}
	/* The sources of a template are read here too, all but the first
	 * (which streams) as a whole: a FIFO with no writer can be
	 * interrupted. */
	r.set = settle(&o, tf);
	if ((status = check_settings(&r.set, tf)) ||
	    (status = input_set_up(&r, &o, tf)))
		goto out;
	if (o.resume && ((status = resume_load(&r.resume, o.resume)) ||
	                 (status = resume_check(r.resume, &r))))
		goto out;
	if (o.results && !o.dry_run && (status = results_prepare(o.results)))
		goto out;
	r.results = o.results;
	if (o.hosts || o.hosts_file || (tf && tf->hosts)) {
		if ((status = load_hosts(&hosts, &o, tf, r.set.grace_ms)))
			goto out;
		r.hosts = &hosts;
		if (r.piped) {
			fprintf(stderr, "alloter: --pipe: cannot be combined with "
			        "remote hosts (their standard input carries the "
			        "command)\n");
			status = 2;
			goto out;
		}
		/* Each host's slots bound the run; -j adds an overall bound. */
		if (o.limit < 0 && (!tf || tf->limit < 0))
			r.set.limit = 0;
	}
	/* --slurm, or the task file's slurm: true or mapping (the command
	 * line cannot turn it off: it is where the tasks can run). */
	use_slurm = o.slurm || (tf && tf->slurm > 0);
	/* -j: what the allocation has, or a queue's worth of jobs. */
	if (use_slurm && o.limit < 0 && (!tf || tf->limit < 0))
		r.set.limit = slurm_default_limit();
	if ((err = signals_block())) {
		fprintf(stderr, "alloter: cannot block signals: %s\n",
		        strerror(-err));
		status = 2;
		goto out;
	}
	/* Orphans of our tasks come to us rather than to init, so they can
	 * be reaped at once, no zombie keeps a task's group alive, and those
	 * that escaped their group can still be found. */
	if ((err = alloter_reaper_start()))
		fprintf(stderr, "alloter: cannot become a subreaper: %s\n",
		        strerror(-err));

	r.set.color_err = want_color(o.color, 2);
	r.set.ci = which_ci(o.ci);
	fit_descriptors(&r.set, o.limit >= 0 ? "--limit"
	                        : tf && tf->limit >= 0 ? "the task file's limit"
	                                               : "the default limit");
	struct alloter_output_opts oo = {
		.mode = r.set.output, .out_fd = 1, .err_fd = 2,
		.tag = r.set.tag, .keep_order = r.set.keep_order,
		/* A CI log folds each block: it waits for the header that says
		 * how its task ended. */
		.hold = r.set.ci != CI_NONE,
		.color_out = want_color(o.color, 1), .color_err = r.set.color_err,
	};
	if ((err = alloter_cancel_new(&r.root, NULL)))
		goto fail;
	oo.broken = r.root;
	if ((err = alloter_output_new(&r.out, &oo)) ||
	    (err = alloter_pool_new(&pool, 0)))
		goto fail;
	if ((status = check_pins(&r)))
		goto out;
	if (o.dry_run) {
		/* A dry run starts nothing: it takes no host slot, and an
		 * interrupt may end it at once, even mid-way through a slow
		 * standard input. */
		r.hosts = NULL;
		signals_unblock();
		say_policies(&r.set);
		status = run_dry(&r);
		if (status == 0)
			input_none(&r);
		goto out;
	}
	if (use_slurm && (status = start_slurm(&slurm, &r, &o)))
		goto out;
	if (use_slurm && tf && tf->slurm > 0)
		r.slurm_top = &tf->slurm_request;
	if ((status = open_logs(&r, &o, tf)))
		goto out;
	if ((status = check_descriptors())) {
		joblog_close(r.joblog, false);
		report_discard(r.report);
		r.joblog = NULL;
		r.report = NULL;
		goto out;
	}
	r.total = input_total(&r);
	if ((err = pacing_init(&pacing, run_wake_fd(&r), timed_starts(&r, tf),
	                       r.set.delay_ms, r.set.load_max, r.set.memfree)))
		goto fail;
	r.pacing = &pacing;
	if ((err = pacing_start(&pacing)) ||
	    (err = signals_start(&sigs, r.root)))
		goto fail;
	if ((err = reporter_start(&r.reporter, &r))) {
		signals_stop(sigs);
		goto fail;
	}
	if (r.hosts && !hosts_probe(&hosts, pool, r.root, say_stderr, r.out))
		say_stderr(r.out, "no host can be reached; every task will "
		           "fail");
	if (o.progress &&
	    (err = progress_start(&r.progress, r.out, r.total)))
		fprintf(stderr, "alloter: --progress: %s\n", strerror(-err));

	deadline_ms = r.set.timeout_ms ? clock_mono_ms() + r.set.timeout_ms : 0;
	err = feed_run(&r, pool);
	/* What is left to write is bound by the run's deadline and by the
	 * interrupts, like the tasks: a reader that does not read cannot
	 * keep alloter from ending. */
	abandoned = reporter_end(r.reporter, r.root, deadline_ms) != 0;
	/* The progress line is drawn through the output lock, which an
	 * abandoned writer holds: leave it be then. */
	if (!abandoned)
		progress_stop(r.progress);
	sig = signals_first(sigs);
	status = exit_status(&r, sig, err);
	if (abandoned && !sig && status < 124)
		status = 124; /* the deadline passed while writing */
	/* A run cut short takes down what escaped its tasks' groups too; a
	 * finished one leaves deliberate daemons be, reaping only the dead.
	 * The signals are still taken meanwhile: a second interrupt cuts the
	 * grace short. */
	if (status >= 124 || r.res.stop_reason)
		alloter_reaper_terminate(alloter_cancel_hurried(r.root)
		                                 ? 0 : r.set.grace_ms, r.root);
	else
		alloter_reaper_sweep(NULL);
	/* An interrupt that came during the clean-up is the run's end too,
	 * and says so in the exit status. */
	late = signals_stop(sigs);
	if (!sig && late)
		status = exit_status(&r, sig = late, err);
	if (abandoned) {
		/* The reporter is stuck on a write, maybe with the job log's
		 * or the report's stream in hand: touch neither, remove the
		 * report's temporary file, and leave without waiting. */
		if (status != 141)
			reporter_summary(&r, true);
		report_abandon(r.report);
		_exit(status);
	}
	if (!err && r.read_err)
		reporter_say(&r, false, "standard input: %s",
		             strerror(-r.read_err));
	else if (err && err != r.read_err)
		reporter_say(&r, true, "the run could not go on: %s",
		             strerror(-err));
	/* A write that failed (not for a reader that left) lost output. */
	if ((err = alloter_output_error(r.out))) {
		reporter_say(&r, true, "output lost: %s", stdout_closed
		             ? "standard output is closed" : strerror(-err));
		if (status == 0)
			status = 1;
	}
	say_halt(&r);
	input_none(&r);
	if (status != 141)
		reporter_summary(&r, false);
	/* A job log or report that could not be written whole is not left
	 * under its name, and the run does not pass for a clean one. */
	if ((err = joblog_close(r.joblog, true))) {
		fprintf(stderr, "alloter: --joblog '%s': %s\n", o.joblog,
		        strerror(-err));
		if (status == 0)
			status = 1;
	}
	if ((err = report_close(r.report, &r, status))) {
		fprintf(stderr, "alloter: --report '%s': %s\n", o.report,
		        strerror(-err));
		if (status == 0)
			status = 1;
	}
	if ((err = timeline_close(r.timeline, &r, status)))
		fprintf(stderr, "alloter: --timeline '%s': %s\n", o.timeline,
		        strerror(-err));
	goto out;

fail:
	fprintf(stderr, "alloter: cannot start: %s\n", strerror(-err));
	status = 2;
out:
	reporter_free(r.reporter);
	alloter_pool_free(pool);
	if (r.pacing)
		pacing_free(r.pacing);
	resume_free(r.resume);
	run_free(&r);
	alloter_output_free(r.out);
	alloter_cancel_free(r.root);
	alloter_taskfile_free(tf);
	hosts_free(&hosts);
	slurm_close(&slurm);
	options_free(&o);
	return status;
}
