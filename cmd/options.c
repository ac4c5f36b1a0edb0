/*
 * options.c - command-line parsing with strict range checks, and the hints
 * for options of GNU parallel and xargs; the usage text here mirrors the man
 * page's SYNOPSIS and EXIT STATUS.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "options.h"

static const char usage_text[] =
	"usage: alloter [options] [--] command ...\n"
	"       alloter [options] < commands\n"
	"       alloter [options] [--] template ... ::: arg ... [::: arg ...]\n"
	"       alloter [options] [--] template ... :::: file ...\n"
	"       alloter [options] [--] template-with-{} ... < args\n"
	"       alloter [options] -f taskfile.yaml\n"
	"\n"
	"Runs shell commands concurrently: each argument is one command, run\n"
	"with /bin/sh -c; with no command, one command per line of stdin.\n"
	"The options end at the first command: every argument from there on\n"
	"is a command of its own, even one that begins with '-'.\n"
	"With an input source (::: args, :::: files, -a FILE), the words\n"
	"before it are one template, run once per argument (or combination\n"
	"of arguments); so are words that hold {} with no source, over the\n"
	"lines of stdin.  {} {.} {/} {//} {/.} {#} {%} {N} are replaced, each\n"
	"argument quoted as one word.\n"
	"\n"
	"options:\n"
	"  -j, --limit N          at most N tasks at once (default: online CPUs;\n"
	"                         0: no limit); N%: that share of the CPUs;\n"
	"                         +N, -N: the CPUs plus or minus N (at least 1)\n"
	"  -t, --timeout DUR      deadline for the whole run\n"
	"  -T, --task-timeout DUR deadline for each task\n"
	"  -x, --fail-fast        after a failure, start no new task\n"
	"  -k, --kill-others      after a failure, terminate the running tasks\n"
	"                         too (implies --fail-fast)\n"
	"  -g, --grace DUR        SIGTERM to SIGKILL when terminating (default 2s)\n"
	"      --halt WHEN,WHY=N  stop early: WHEN soon (start nothing new) or now\n"
	"                         (terminate too), WHY fail, success or done, N a\n"
	"                         count or N% of the tasks; -x is soon,fail=1,\n"
	"                         -k is now,fail=1\n"
	"  -r, --retries N        run a failed task up to N more times\n"
	"      --retry-delay DUR[,FACTOR[,MAX]]\n"
	"                         wait before each retry (2s; 1s,2; 1s,2,30s)\n"
	"      --resume FILE      skip the tasks a job log shows succeeded; log on\n"
	"      --resume-failed FILE\n"
	"                         run again only the tasks the log shows failed\n"
	"      --delay DUR        at least DUR between two task starts\n"
	"      --load N           start tasks only while the load average is under\n"
	"                         N (or N% of the CPUs)\n"
	"      --memfree SIZE     start tasks only while this much memory is free\n"
	"                         (512M, 2G)\n"
	"  -o, --output MODE      group (default), line, raw or none\n"
	"                         (none discards the tasks' output, but for\n"
	"                         the files of --results)\n"
	"      --tag              prefix output lines with the task name and a tab\n"
	"  -f, --file FILE        run the tasks of a YAML task file (- for stdin)\n"
	"      --keep-order       group mode: print blocks in input order\n"
	"      --shell-always     run every command through the shell\n"
	"      --joblog FILE      a line per attempt, GNU parallel's format;\n"
	"                         +FILE appends to FILE\n"
	"      --report FILE      a JSON report of the run, written at the end\n"
	"      --results DIR      each task's stdout, stderr and exit status in\n"
	"                         DIR/SEQ/{stdout,stderr,exit} (and args)\n"
	"      --timeline FILE    an HTML page with a chart of every attempt\n"
	"      --timeline-from FILE\n"
	"                         only write the --timeline page of the report\n"
	"                         FILE, to the one argument or --timeline\n"
	"  -n, --dry-run          print the tasks in an order they could run;\n"
	"                         run nothing\n"
	"      --progress         a progress line on stderr, if a terminal\n"
	"      --color WHEN       auto (default), always or never\n"
	"      --ci KIND          auto (default), github, gitlab or none\n"
	"                         (auto: GITHUB_ACTIONS or GITLAB_CI): fold\n"
	"                         each task's block, annotate failures\n"
	"  -S, --hosts LIST       run on these hosts over ssh: a comma-separated\n"
	"                         list of [SLOTS/][user@]host[:port]; ':' is here\n"
	"      --hosts-file FILE  the same, one host per line\n"
	"      --ssh CMD          the ssh command (default: ssh)\n"
	"      --slurm            run each task through srun: a job step inside\n"
	"                         an allocation (-j: its tasks), else a job of\n"
	"                         its own (-j: 64 jobs at once)\n"
	"      --slurm-args ARGS  more srun options, split as a shell would\n"
	"                         (implies --slurm)\n"
	"  -a, --arg-file FILE    an input source: the lines of FILE (repeatable)\n"
	"  -0, --null             records (of sources, or commands on stdin) end\n"
	"                         with a NUL byte, not a newline\n"
	"      --colsep REGEX     split each argument into columns {1} {2} ...\n"
	"                         at matches of REGEX (POSIX extended)\n"
	"  -N, --max-args N       N arguments per task: {1}..{N}\n"
	"  -I, --replace STR      STR stands for the argument, not {}\n"
	"      --pipe             cut stdin into blocks, one to each task's stdin\n"
	"      --block SIZE       --pipe's block size (default 1M)\n"
	"      --recend STR       what ends a record for --pipe (default \\n)\n"
	"      --tagstring STR    the --tag prefix, with replacement strings\n"
	"                         (implies --tag)\n"
	"  -q, --quiet            no summary on stderr\n"
	"  -h, --help             this help\n"
	"  -V, --version          the version\n"
	"\n"
	"DUR is a number with a unit: 500ms, 30s, 10m, 1h, 1m30s; a bare\n"
	"number is seconds (0.5).\n"
	"\n"
	"exit status: 0 all tasks succeeded; 1 a task failed; 2 usage or input\n"
	"error, nothing run; 124 the --timeout passed; 129, 130, 143 interrupted\n"
	"by SIGHUP, SIGINT, SIGTERM; 141 standard output was closed.\n";

__attribute__((format(printf, 1, 2)))
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "alloter: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'alloter --help' for more information.\n");
	return 2;
}

/* Options of GNU parallel and xargs that alloter does not have, each with
 * where to look instead.  This is the one table to extend as alloter grows
 * (and to shrink when one of them is implemented); options that alloter
 * has under the same spelling but with another meaning parse as alloter's,
 * and are listed in the man page's "Coming from GNU parallel or xargs". */
static const struct {
	const char *name;     /* as typed: "-P", "--jobs" */
	const char *hint;
} peer_hints[] = {
	{"-P", "xargs' -P is -j here"},
	{"--max-procs", "xargs' --max-procs is -j here"},
	{"--jobs", "GNU parallel's --jobs is -j or --limit here"},
	{"--halt-on-error", "GNU parallel's --halt-on-error 1 is --halt "
	                    "soon,fail=1 (-x) here, and --halt-on-error 2 is "
	                    "--halt now,fail=1 (-k)"},
	{"-u", "GNU parallel's -u is -o raw here"},
	{"--ungroup", "GNU parallel's --ungroup is -o raw here"},
	{"--line-buffer", "GNU parallel's --line-buffer is -o line here"},
	{"--lb", "GNU parallel's --lb is -o line here"},
	{"--group", "GNU parallel's --group is -o group here, the default"},
	{"--dryrun", "GNU parallel's --dryrun is -n or --dry-run here"},
	{"--sshlogin", "GNU parallel's --sshlogin is -S or --hosts here"},
	{"--sshloginfile", "GNU parallel's --sshloginfile is --hosts-file "
	                   "here"},
	{"--slf", "GNU parallel's --slf is --hosts-file here"},
	{"--eta", "GNU parallel's --eta is --progress here"},
	{"--bar", "GNU parallel's --bar is --progress here"},
	{"--workdir", "GNU parallel's --workdir is the task file's cwd key "
	              "here"},
	{"--wd", "GNU parallel's --wd is the task file's cwd key here"},
	{"--no-run-if-empty", "xargs' --no-run-if-empty is the default here: "
	                      "no input runs nothing"},
	{"-i", "xargs' -i is -I {} here"},
	{"-d", "xargs' and GNU parallel's -d is not supported yet (-0 takes "
	       "NUL-separated records)"},
	{"--delimiter", "xargs' and GNU parallel's --delimiter is not "
	                "supported yet"},
	{"-L", "xargs' and GNU parallel's -L is not supported yet"},
	{"--max-lines", "xargs' and GNU parallel's --max-lines is not "
	                "supported yet"},
	{"-v", "GNU parallel's -v is not supported yet"},
	{"--verbose", "xargs' and GNU parallel's --verbose is not supported "
	              "yet"},
};

/* Reports an option that getopt_long did not take: arg is the word it was
 * in ("--name" or "--name=value"), or NULL for the letter of "-x". */
static int unknown_option(const struct option *longs, const char *arg,
                          int letter)
{
	char name[64], list[256] = "";
	size_t len, used = 0;
	int n = 0;

	if (!arg) {
		snprintf(name, sizeof name, "-%c", letter);
		arg = name;
	}
	/* The name without its value; all of "--=x", which has no name. */
	if ((len = strcspn(arg, "=")) <= 2)
		len = strlen(arg);
	/* getopt_long takes unique abbreviations, and refuses one that fits
	 * several options just as it refuses an unknown one. */
	for (const struct option *l = longs; len > 2 && l->name; l++) {
		if (strncmp(l->name, arg + 2, len - 2) != 0)
			continue;
		n++;
		if (used < sizeof list)
			used += (size_t)snprintf(list + used, sizeof list - used,
			                         "%s--%s", used ? ", " : "",
			                         l->name);
	}
	if (n > 1)
		return usage_error("option '%.*s' is ambiguous (%s)", (int)len,
		                   arg, list);
	for (size_t i = 0; i < sizeof peer_hints / sizeof peer_hints[0]; i++)
		if (strncmp(arg, peer_hints[i].name, len) == 0 &&
		    !peer_hints[i].name[len])
			return usage_error("unknown option '%.*s' (%s)", (int)len,
			                   arg, peer_hints[i].hint);
	return usage_error("unknown option '%.*s'", (int)len, arg);
}

/* -j: N, or as GNU parallel spells it, N% of the online CPUs or the CPUs
 * plus or minus N; the relative forms give at least 1.  Only digits are
 * taken (strtol would also take blanks and a sign). */
static int parse_limit(const char *opt, const char *s, int *out)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	const char *p = s;
	char sign = 0;
	long long n = 0, v;

	if (*p == '+' || *p == '-')
		sign = *p++;
	if (*p < '0' || *p > '9')
		goto bad;
	for (; *p >= '0' && *p <= '9'; p++)
		if ((n = n * 10 + (*p - '0')) > LIMIT_MAX)
			goto bad;
	if (cpus < 1)
		cpus = 1;
	if (!sign && strcmp(p, "%") == 0)
		v = cpus * n / 100;
	else if (*p)
		goto bad;
	else if (sign == '+')
		v = cpus + n;
	else if (sign == '-')
		v = cpus - n;
	else
		v = n;
	if ((sign || *p) && v < 1)
		v = 1;
	if (v > LIMIT_MAX)
		return usage_error("%s: '%s' is %lld tasks at once, more than "
		                   "%d", opt, s, v, LIMIT_MAX);
	*out = (int)v;
	return 0;
bad:
	return usage_error("%s: invalid value '%s' (want N, N%%, +N or -N, "
	                   "with N a whole number from 0 to %d)", opt, s,
	                   LIMIT_MAX);
}

static int parse_duration(const char *opt, const char *s, int64_t *out)
{
	if (alloter_duration_parse(s, out) < 0)
		return usage_error("%s: invalid duration '%s' (want e.g. 30s, "
		                   "1m30s, 500ms, 0.5)", opt, s);
	return 0;
}

/* One of a NULL-ended list of words; *out gets its position (the enums
 * follow the order of these lists). */
static int parse_choice(const char *opt, const char *s,
                        const char *const *names, int *out)
{
	char want[128];
	size_t n = 0, k;

	for (k = 0; names[k]; k++)
		if (strcmp(s, names[k]) == 0) {
			*out = (int)k;
			return 0;
		}
	for (size_t i = 0; i < k && n < sizeof want; i++)
		n += (size_t)snprintf(want + n, sizeof want - n, "%s%s",
		                      i == 0 ? "" : i + 1 == k ? " or " : ", ",
		                      names[i]);
	return usage_error("%s: invalid value '%s' (want %s)", opt, s, want);
}

/* Options that would have no effect together are refused rather than
 * ignored.  Only the command line is checked here: a task file's output
 * and tag keys are combined with it later, in settle(). */
static int check_combinations(const struct options *o)
{
	if (o->output == ALLOTER_OUTPUT_RAW && o->tag == 1)
		return usage_error("--tag: cannot be combined with -o raw: raw "
		                   "output goes straight out, unseen, so its "
		                   "lines cannot be prefixed");
	if (o->output == ALLOTER_OUTPUT_RAW && o->keep_order)
		return usage_error("--keep-order: cannot be combined with -o "
		                   "raw: raw output goes straight out, unseen, "
		                   "so it cannot be held back (use -o group)");
	if (o->output == ALLOTER_OUTPUT_LINE && o->keep_order)
		return usage_error("--keep-order: cannot be combined with -o "
		                   "line: lines are written as they arrive (use "
		                   "-o group)");
	if (o->output == ALLOTER_OUTPUT_NONE && (o->tag == 1 || o->keep_order))
		return usage_error("%s: cannot be combined with -o none: no "
		                   "output of the tasks is written",
		                   o->tag == 1 ? "--tag" : "--keep-order");
	return 0;
}

/* Values of the options that have no letter: above every character, so
 * that an unknown letter in optopt is never taken for one of them. */
enum {
	OPT_TAG = 256, OPT_KEEP_ORDER, OPT_SHELL_ALWAYS, OPT_JOBLOG, OPT_REPORT,
	OPT_PROGRESS, OPT_COLOR, OPT_HOSTS_FILE, OPT_SSH, OPT_COLSEP,
	OPT_TAGSTRING, OPT_HALT, OPT_RETRY_DELAY, OPT_RESUME, OPT_RESUME_FAILED,
	OPT_DELAY, OPT_LOAD, OPT_MEMFREE, OPT_TIMELINE, OPT_TIMELINE_FROM,
	OPT_RESULTS, OPT_PIPE, OPT_BLOCK, OPT_RECEND, OPT_CI,
	OPT_SLURM, OPT_SLURM_ARGS,
};

bool options_template(const struct options *o)
{
	return o->n_arg_files || o->colsep || o->max_args || o->replace ||
	       o->tagstring;
}

void options_free(struct options *o)
{
	free(o->arg_files);
	o->arg_files = NULL;
}

/* A whole number from min to LIMIT_MAX (-N, -r). */
static int parse_count(const char *opt, const char *s, int min, int *out)
{
	long long n = 0;
	const char *p = s;

	for (; *p >= '0' && *p <= '9' && n <= LIMIT_MAX; p++)
		n = n * 10 + (*p - '0');
	if (p == s || *p || n < min || n > LIMIT_MAX)
		return usage_error("%s: invalid value '%s' (want a whole number "
		                   "from %d to %d)", opt, s, min, LIMIT_MAX);
	*out = (int)n;
	return 0;
}

/* The policies' values, each with what it wants in the message. */
static int parse_policy(int opt, const char *s, struct options *o)
{
	switch (opt) {
	case OPT_HALT:
		if (alloter_halt_parse(s, &o->halt))
			return usage_error("--halt: invalid value '%s' (want "
			                   "WHEN,WHY=N: WHEN soon or now, WHY "
			                   "fail, success or done, N from 1 or a "
			                   "percentage from 1%% to 100%%)", s);
		return 0;
	case OPT_RETRY_DELAY:
		if (alloter_backoff_parse(s, &o->retry_delay))
			return usage_error("--retry-delay: invalid value '%s' "
			                   "(want DUR[,FACTOR[,MAX]], as 2s, 1s,2 "
			                   "or 1s,2,30s, FACTOR from 1 to 1000)", s);
		o->has_retry_delay = true;
		return 0;
	case OPT_DELAY:
		return parse_duration("--delay", s, &o->delay_ms);
	case OPT_LOAD:
		if (alloter_load_parse(s, &o->load))
			return usage_error("--load: invalid value '%s' (want a "
			                   "load average above 0, as 4 or 2.5, or "
			                   "a share of the CPUs, as 150%%)", s);
		return 0;
	default: /* OPT_MEMFREE */
		if (alloter_size_parse(s, &o->memfree))
			return usage_error("--memfree: invalid size '%s' (want a "
			                   "number of bytes, or one with K, M, G "
			                   "or T, as 512M or 2G)", s);
		return 0;
	}
}

static int parse(struct options *o, int argc, char **argv)
{
	/* In the order of enum alloter_output_mode and of COLOR_*. */
	static const char *const modes[] = {"group", "line", "raw", "none",
	                                    NULL};
	static const char *const whens[] = {"auto", "always", "never", NULL};
	static const char *const cis[] = {"auto", "github", "gitlab", "none",
	                                  NULL};
	static const struct option longs[] = {
		{"limit", required_argument, NULL, 'j'},
		{"timeout", required_argument, NULL, 't'},
		{"task-timeout", required_argument, NULL, 'T'},
		{"fail-fast", no_argument, NULL, 'x'},
		{"kill-others", no_argument, NULL, 'k'},
		{"grace", required_argument, NULL, 'g'},
		{"output", required_argument, NULL, 'o'},
		{"tag", no_argument, NULL, OPT_TAG},
		{"file", required_argument, NULL, 'f'},
		{"quiet", no_argument, NULL, 'q'},
		{"keep-order", no_argument, NULL, OPT_KEEP_ORDER},
		{"shell-always", no_argument, NULL, OPT_SHELL_ALWAYS},
		{"joblog", required_argument, NULL, OPT_JOBLOG},
		{"report", required_argument, NULL, OPT_REPORT},
		{"timeline", required_argument, NULL, OPT_TIMELINE},
		{"timeline-from", required_argument, NULL, OPT_TIMELINE_FROM},
		{"dry-run", no_argument, NULL, 'n'},
		{"progress", no_argument, NULL, OPT_PROGRESS},
		{"color", required_argument, NULL, OPT_COLOR},
		{"hosts", required_argument, NULL, 'S'},
		{"hosts-file", required_argument, NULL, OPT_HOSTS_FILE},
		{"ssh", required_argument, NULL, OPT_SSH},
		{"slurm", no_argument, NULL, OPT_SLURM},
		{"slurm-args", required_argument, NULL, OPT_SLURM_ARGS},
		{"arg-file", required_argument, NULL, 'a'},
		{"null", no_argument, NULL, '0'},
		{"colsep", required_argument, NULL, OPT_COLSEP},
		{"max-args", required_argument, NULL, 'N'},
		{"replace", required_argument, NULL, 'I'},
		{"tagstring", required_argument, NULL, OPT_TAGSTRING},
		{"retries", required_argument, NULL, 'r'},
		{"retry-delay", required_argument, NULL, OPT_RETRY_DELAY},
		{"halt", required_argument, NULL, OPT_HALT},
		{"resume", required_argument, NULL, OPT_RESUME},
		{"resume-failed", required_argument, NULL, OPT_RESUME_FAILED},
		{"delay", required_argument, NULL, OPT_DELAY},
		{"results", required_argument, NULL, OPT_RESULTS},
		{"pipe", no_argument, NULL, OPT_PIPE},
		{"ci", required_argument, NULL, OPT_CI},
		{"block", required_argument, NULL, OPT_BLOCK},
		{"recend", required_argument, NULL, OPT_RECEND},
		{"load", required_argument, NULL, OPT_LOAD},
		{"memfree", required_argument, NULL, OPT_MEMFREE},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{0},
	};
	int c, r = 0;

	*o = (struct options){.limit = -1, .timeout_ms = -1,
	                      .task_timeout_ms = -1, .grace_ms = -1,
	                      .fail_fast = -1, .kill_others = -1, .tag = -1,
	                      .output = -1, .retries = -1, .delay_ms = -1,
	                      .load = -1, .memfree = -1, .block = -1};
	if (!(o->arg_files = calloc((size_t)argc + 1, sizeof *o->arg_files))) {
		perror("alloter");
		return 2;
	}
	opterr = 0;
	/* The options end at the first command, as with xargs, nice or env
	 * (and POSIX utility syntax): every word from there on is a command,
	 * even one that looks like an option.  The leading '+' asks for
	 * that whatever POSIXLY_CORRECT says; ':' reports a missing value
	 * apart from an unknown option. */
	while (r == 0 &&
	       (c = getopt_long(argc, argv, "+:j:t:T:xkg:o:f:nqhVS:a:0N:I:r:", longs,
	                        NULL)) != -1) {
		switch (c) {
		case 'j':
			r = parse_limit("--limit", optarg, &o->limit);
			break;
		case 't':
			r = parse_duration("--timeout", optarg, &o->timeout_ms);
			break;
		case 'T':
			r = parse_duration("--task-timeout", optarg,
			                   &o->task_timeout_ms);
			break;
		case 'g':
			r = parse_duration("--grace", optarg, &o->grace_ms);
			break;
		case 'x':
			o->fail_fast = 1;
			break;
		case 'k':
			o->kill_others = 1;
			break;
		case 'o':
			r = parse_choice("--output", optarg, modes,
			                 &o->output);
			break;
		case OPT_TAG:
			o->tag = 1;
			break;
		case 'f':
			o->file = optarg;
			break;
		case 'q':
			o->quiet = true;
			break;
		case OPT_KEEP_ORDER:
			o->keep_order = true;
			break;
		case OPT_SHELL_ALWAYS:
			o->shell_always = true;
			break;
		case 'S':
			o->hosts = optarg;
			break;
		case OPT_HOSTS_FILE:
			o->hosts_file = optarg;
			break;
		case OPT_SSH:
			o->ssh = optarg;
			break;
		case OPT_SLURM:
			o->slurm = true;
			break;
		case OPT_SLURM_ARGS:
			o->slurm = true;
			o->slurm_args = optarg;
			break;
		case 'a':
			o->arg_files[o->n_arg_files++] = optarg;
			break;
		case '0':
			o->null = true;
			break;
		case OPT_COLSEP:
			if (!*optarg)
				return usage_error("--colsep: empty separator");
			o->colsep = optarg;
			break;
		case 'N':
			r = parse_count("--max-args", optarg, 1, &o->max_args);
			break;
		case 'r':
			r = parse_count("--retries", optarg, 0, &o->retries);
			break;
		case OPT_HALT:
		case OPT_RETRY_DELAY:
		case OPT_DELAY:
		case OPT_LOAD:
		case OPT_MEMFREE:
			r = parse_policy(c, optarg, o);
			break;
		case OPT_RESUME:
		case OPT_RESUME_FAILED:
			if (o->resume)
				return usage_error("--resume and --resume-failed: "
				                   "give one of them, once");
			if (!*optarg)
				return usage_error("--resume: empty file name");
			o->resume = optarg;
			o->resume_failed = c == OPT_RESUME_FAILED;
			break;
		case 'I':
			if (!*optarg)
				return usage_error("--replace: empty replacement "
				                   "string");
			o->replace = optarg;
			break;
		case OPT_TAGSTRING:
			o->tagstring = optarg;
			o->tag = 1;
			break;
		case OPT_JOBLOG:
			if (strcmp(optarg, "-") == 0)
				return usage_error("--joblog: '-' is not allowed:"
				                   " standard output carries the "
				                   "tasks' output (use /dev/stderr)"
				                   "");
			/* GNU parallel's +FILE appends; ./+FILE names one. */
			o->joblog_append = optarg[0] == '+';
			o->joblog = optarg + o->joblog_append;
			if (!*o->joblog)
				return usage_error("--joblog: empty file name");
			break;
		case OPT_PIPE:
			o->pipe = true;
			break;
		case OPT_CI:
			r = parse_choice("--ci", optarg, cis, &o->ci);
			break;
		case OPT_BLOCK:
			if (alloter_size_parse(optarg, &o->block) ||
			    o->block < 1)
				return usage_error("--block: invalid size '%s' "
				                   "(want bytes, or K, M or G, as "
				                   "1M)", optarg);
			break;
		case OPT_RECEND:
			if (!*optarg)
				return usage_error("--recend: empty string");
			o->recend = optarg;
			break;
		case OPT_RESULTS:
			if (!*optarg)
				return usage_error("--results: empty folder name");
			o->results = optarg;
			break;
		case OPT_REPORT:
			if (!*optarg)
				return usage_error("--report: empty file name");
			o->report = optarg;
			break;
		case OPT_TIMELINE:
			o->timeline = optarg;
			break;
		case OPT_TIMELINE_FROM:
			o->timeline_from = optarg;
			break;
		case 'n':
			o->dry_run = true;
			break;
		case OPT_PROGRESS:
			o->progress = true;
			break;
		case OPT_COLOR:
			r = parse_choice("--color", optarg, whens, &o->color);
			break;
		case 'h':
			fputs(usage_text, stdout);
			return fflush(stdout) == 0 ? 0 : 1;
		case 'V':
			printf("alloter %s\n", ALLOTER_VERSION);
			return fflush(stdout) == 0 ? 0 : 1;
		case ':':
			/* A long option that needs a value was the last word;
			 * a letter may have ended a cluster such as -xj. */
			if (strncmp(argv[optind - 1], "--", 2) == 0)
				return usage_error("option '%s' needs a value",
				                   argv[optind - 1]);
			return usage_error("option '-%c' needs a value", optopt);
		default:
			/* A known option in optopt was refused for its value:
			 * only a long option without one, as in --tag=yes. */
			for (const struct option *l = longs; optopt && l->name;
			     l++)
				if (l->val == optopt && l->has_arg == no_argument)
					return usage_error("option '--%s' takes no "
					                   "value", l->name);
			if (optopt)
				return unknown_option(longs, NULL, optopt);
			return unknown_option(longs, argv[optind - 1], 0);
		}
	}
	if (r)
		return r;
	if ((r = check_combinations(o)))
		return r;
	if (o->slurm && (o->hosts || o->hosts_file))
		return usage_error("--slurm: cannot be combined with %s: Slurm "
		                   "places the tasks on its nodes",
		                   o->hosts ? "-S" : "--hosts-file");
	o->commands = argv + optind;
	o->n_commands = argc - optind;
	if (o->file && o->n_commands)
		return usage_error("-f %s: cannot be combined with commands "
		                   "('%s')", o->file, o->commands[0]);
	if (o->timeline_from && !o->timeline && o->n_commands == 1)
		o->timeline = o->commands[0], o->n_commands = 0;
	if (o->timeline_from && (o->n_commands || !o->timeline || o->file))
		return usage_error("--timeline-from %s: takes the page's file "
		                   "(one argument, or --timeline FILE) and "
		                   "nothing to run", o->timeline_from);
	if (!o->pipe && (o->block >= 0 || o->recend))
		return usage_error("%s: only with --pipe",
		                   o->recend ? "--recend" : "--block");
	if (o->pipe && (o->file || !o->n_commands || options_template(o)))
		return usage_error("--pipe: give one command (its words are "
		                   "joined), and no task file or template "
		                   "option");
	/* The resumed log is appended to, unless another is named. */
	if (o->resume && !o->joblog) {
		o->joblog = o->resume;
		o->joblog_append = true;
	}
	if (o->file && (options_template(o) || o->null))
		return usage_error("-f %s: cannot be combined with templates' "
		                   "options (-a, -0, --colsep, -N, -I, "
		                   "--tagstring); a task file has matrix:",
		                   o->file);
	return OPTIONS_RUN;
}

int options_parse(struct options *o, int argc, char **argv)
{
	int status = parse(o, argc, argv);

	if (status != OPTIONS_RUN)
		options_free(o);
	return status;
}
