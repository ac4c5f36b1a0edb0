/*
 * options.c - command-line parsing with strict range checks; the usage text
 * here mirrors the man page's SYNOPSIS and EXIT STATUS.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

static const char usage_text[] =
	"usage: alloter [options] [--] command ...\n"
	"       alloter [options] < commands\n"
	"       alloter [options] -f taskfile.yaml\n"
	"\n"
	"Runs shell commands concurrently: each argument is one command, run\n"
	"with /bin/sh -c; with no command, one command per line of stdin.\n"
	"\n"
	"options:\n"
	"  -j, --limit N          at most N tasks at once (default: online CPUs;\n"
	"                         0: no limit)\n"
	"  -t, --timeout DUR      deadline for the whole run\n"
	"  -T, --task-timeout DUR deadline for each task\n"
	"  -x, --fail-fast        after a failure, start no new task\n"
	"  -k, --kill-others      after a failure, terminate the running tasks\n"
	"                         too (implies --fail-fast)\n"
	"  -g, --grace DUR        SIGTERM to SIGKILL when terminating (default 2s)\n"
	"  -o, --output MODE      group (default), line or raw\n"
	"      --tag              prefix output lines with the task name and a tab\n"
	"  -f, --file FILE        run the tasks of a YAML task file (- for stdin)\n"
	"      --keep-order       group mode: print blocks in input order\n"
	"      --shell-always     run every command through the shell\n"
	"      --joblog FILE      a line per attempt, GNU parallel's format\n"
	"      --report FILE      a JSON report of the run, written at the end\n"
	"  -n, --dry-run          print the tasks in an order they could run;\n"
	"                         run nothing\n"
	"      --progress         a progress line on stderr, if a terminal\n"
	"      --color WHEN       auto (default), always or never\n"
	"  -S, --hosts LIST       run on these hosts over ssh: a comma-separated\n"
	"                         list of [SLOTS/][user@]host[:port]; ':' is here\n"
	"      --hosts-file FILE  the same, one host per line\n"
	"      --ssh CMD          the ssh command (default: ssh)\n"
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

static int parse_count(const char *opt, const char *s, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (!*s || *end || errno || v < 0 || v > 1000000)
		return usage_error("%s: invalid value '%s' (want a whole number "
		                   "from 0 to 1000000)", opt, s);
	*out = (int)v;
	return 0;
}

static int parse_duration(const char *opt, const char *s, int64_t *out)
{
	if (alloter_duration_parse(s, out) < 0)
		return usage_error("%s: invalid duration '%s' (want e.g. 30s, "
		                   "1m30s, 500ms, 0.5)", opt, s);
	return 0;
}

/* One of three words; *out gets its position (the enums follow the
 * order of these lists). */
static int parse_choice(const char *opt, const char *s,
                        const char *const names[3], int *out)
{
	for (int i = 0; i < 3; i++)
		if (strcmp(s, names[i]) == 0) {
			*out = i;
			return 0;
		}
	return usage_error("%s: invalid value '%s' (want %s, %s or %s)", opt, s,
	                   names[0], names[1], names[2]);
}

int options_parse(struct options *o, int argc, char **argv)
{
	/* In the order of enum alloter_output_mode and of COLOR_*. */
	static const char *const modes[] = {"group", "line", "raw"};
	static const char *const whens[] = {"auto", "always", "never"};
	static const struct option longs[] = {
		{"limit", required_argument, NULL, 'j'},
		{"timeout", required_argument, NULL, 't'},
		{"task-timeout", required_argument, NULL, 'T'},
		{"fail-fast", no_argument, NULL, 'x'},
		{"kill-others", no_argument, NULL, 'k'},
		{"grace", required_argument, NULL, 'g'},
		{"output", required_argument, NULL, 'o'},
		{"tag", no_argument, NULL, 'G'},
		{"file", required_argument, NULL, 'f'},
		{"quiet", no_argument, NULL, 'q'},
		{"keep-order", no_argument, NULL, 'K'},
		{"shell-always", no_argument, NULL, 'A'},
		{"joblog", required_argument, NULL, 'J'},
		{"report", required_argument, NULL, 'R'},
		{"dry-run", no_argument, NULL, 'n'},
		{"progress", no_argument, NULL, 'P'},
		{"color", required_argument, NULL, 'C'},
		{"hosts", required_argument, NULL, 'S'},
		{"hosts-file", required_argument, NULL, 'H'},
		{"ssh", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{0},
	};
	int c, r = 0;

	*o = (struct options){.limit = -1, .timeout_ms = -1,
	                      .task_timeout_ms = -1, .grace_ms = -1,
	                      .fail_fast = -1, .kill_others = -1, .tag = -1,
	                      .output = -1};
	opterr = 0;
	/* Options may follow commands, as with most GNU tools; a command
	 * that starts with '-' goes after "--". */
	while (r == 0 &&
	       (c = getopt_long(argc, argv, ":j:t:T:xkg:o:f:nqhVS:", longs,
	                        NULL)) != -1) {
		switch (c) {
		case 'j':
			r = parse_count("--limit", optarg, &o->limit);
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
		case 'G':
			o->tag = 1;
			break;
		case 'f':
			o->file = optarg;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'K':
			o->keep_order = true;
			break;
		case 'A':
			o->shell_always = true;
			break;
		case 'S':
			o->hosts = optarg;
			break;
		case 'H':
			o->hosts_file = optarg;
			break;
		case 's':
			o->ssh = optarg;
			break;
		case 'J':
			if (strcmp(optarg, "-") == 0)
				return usage_error("--joblog: '-' is not allowed:"
				                   " standard output carries the "
				                   "tasks' output (use /dev/stderr)"
				                   "");
			o->joblog = optarg;
			break;
		case 'R':
			if (!*optarg)
				return usage_error("--report: empty file name");
			o->report = optarg;
			break;
		case 'n':
			o->dry_run = true;
			break;
		case 'P':
			o->progress = true;
			break;
		case 'C':
			r = parse_choice("--color", optarg, whens, &o->color);
			break;
		case 'h':
			fputs(usage_text, stdout);
			return fflush(stdout) == 0 ? 0 : 1;
		case 'V':
			printf("alloter %s\n", ALLOTER_VERSION);
			return fflush(stdout) == 0 ? 0 : 1;
		case ':':
			return usage_error("option '%s' needs a value",
			                   argv[optind - 1]);
		default:
			if (optopt) {
				char opt[3] = {'-', (char)optopt, '\0'};
				return usage_error("unknown option '%s'", opt);
			}
			return usage_error("unknown option '%s'",
			                   argv[optind - 1]);
		}
	}
	if (r)
		return r;
	o->commands = argv + optind;
	o->n_commands = argc - optind;
	if (o->file && o->n_commands)
		return usage_error("-f %s: cannot be combined with commands "
		                   "('%s')", o->file, o->commands[0]);
	return OPTIONS_RUN;
}
