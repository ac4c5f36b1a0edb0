/*
 * remote.c - the ssh side of remote tasks.
 *
 * The remote command line holds only a fixed wrapper script and the grace
 * period; the task's command and environment travel on ssh's stdin (a
 * length, then sh-quoted assignments), so no secret shows in a process
 * list on either side.  alloter keeps that stdin open for the task's life:
 * when ssh dies, or alloter does (even by SIGKILL), the wrapper's stdin
 * reaches EOF and its watchdog sends TERM, then after the grace period
 * KILL, to the remote process group and to every descendant of the task
 * (found by parent through ps, so those that left the group with setsid go
 * too, while their parents live).  Only sh, dd, ps, awk and kill are
 * needed there.  ssh's own messages go to a file (-E) of their own, which tells a
 * failed connection (255 and a message) from a task that exited 255.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "remote.h"

/* $1 is the grace period in seconds.  The watchdog ignores TERM so that it
 * survives its own group's TERM and can follow with KILL; it holds none of
 * the session's output, so it never keeps the connection open, and it is
 * killed outright once the task ends on its own.  wait's own stderr is
 * dropped: dash says "Segmentation fault" there, which a local task's
 * output would not hold. */
static const char wrapper[] =
	"exec 3<&0 </dev/null\n"
	"IFS= read -r n <&3 || exit 125\n"
	"eval \"$(dd bs=1 count=\"$n\" 2>/dev/null <&3)\"\n"
	"\"$alloter_shell\" -c \"$alloter_command\" &\n"
	"p=$!\n"
	"(trap '' TERM HUP INT\n"
	" while read -r _ <&3; do :; done\n"
	" g=$(ps -o pgid= -p $$ | tr -d ' ')\n"
	" d() { ps -e -o pid= -o ppid= | awk -v r=\"$p\" '{ u[$1] = $2 }\n"
	"  END { for (k in u) { x = k; while (x in u && x != r && u[x] != x)\n"
	"  x = u[x]; if (x == r) print k } }'; }\n"
	" k=$(d)\n"
	" kill -s TERM -- -\"$g\" $k 2>/dev/null\n"
	" kill -s CONT -- -\"$g\" $k 2>/dev/null\n"
	" sleep \"$1\"\n"
	" kill -s KILL -- -\"$g\" $k $(d) 2>/dev/null) >/dev/null 2>&1 &\n"
	"w=$!\n"
	"exec 3<&-\n"
	"wait \"$p\" 2>/dev/null\n"
	"s=$?\n"
	"kill -s KILL \"$w\" 2>/dev/null\n"
	"exit \"$s\"\n";

int remote_log_path(char **path)
{
	const char *dir = getenv("TMPDIR");
	int fd;

	if (!dir || !*dir)
		dir = "/tmp";
	if (asprintf(path, "%s/alloter-ssh.XXXXXX", dir) < 0) {
		*path = NULL;
		return -ENOMEM;
	}
	fd = mkostemp(*path, O_CLOEXEC);
	if (fd < 0) {
		int err = -errno;
		free(*path);
		*path = NULL;
		return err;
	}
	close(fd);
	return 0;
}

char **remote_argv(const struct hosts *h, const struct host *host,
                   const char *log, const char *command)
{
	/* No agent or X11 forwarding, whatever the user's configuration
	 * says; host-key checking is left exactly as configured. */
	static const char *const fixed[] = {
		"-T", "-a", "-x", "-o", "BatchMode=yes",
		"-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR", "-E",
	};
	size_t nssh = 0, nfix = sizeof fixed / sizeof *fixed, n, bytes, k = 0;
	char grace[32], *line, **v, *q = NULL;

	while (h->ssh[nssh])
		nssh++;
	snprintf(grace, sizeof grace, " alloter %lld",
	         (long long)((h->grace_ms + 999) / 1000));
	/* The line: sh -c 'WRAPPER' alloter GRACE, or the probe command. */
	if (!command && alloter_shell_quote(wrapper, strlen(wrapper), &q))
		return NULL;
	bytes = command ? strlen(command) + 1
	                : 8 + strlen(q) + strlen(grace) + 1;
	n = nssh + nfix + 7;
	v = malloc(n * sizeof *v + bytes);
	if (!v) {
		free(q);
		return NULL;
	}
	line = (char *)(v + n);
	for (size_t i = 0; i < nssh; i++)
		v[k++] = h->ssh[i];
	for (size_t i = 0; i < nfix; i++)
		v[k++] = (char *)fixed[i];
	v[k++] = (char *)log;
	if (host->port) {
		v[k++] = "-p";
		v[k++] = host->port;
	}
	/* Before the host too: nothing from here on is an option. */
	v[k++] = "--";
	v[k++] = host->dest;
	v[k++] = line;
	v[k] = NULL;
	if (command)
		strcpy(line, command);
	else
		stpcpy(stpcpy(stpcpy(line, "sh -c "), q), grace);
	free(q);
	return v;
}

/* Appends "export 'NAME=value'\n" style text; returns the new end. */
/* "NAME=value" for sh, the value quoted, and a newline. */
static int emit(FILE *f, const char *name, const char *val)
{
	char *q;

	if (alloter_shell_quote(val, strlen(val), &q))
		return -ENOMEM;
	fprintf(f, "%s=%s\n", name, q);
	free(q);
	return 0;
}

char *remote_payload(const char *command, const char *shell,
                     char *const *env, size_t index, unsigned slot,
                     const char *name, size_t *len)
{
	char idx[32], *body = NULL, *out;
	size_t at = 0;
	FILE *f = open_memstream(&body, &at);
	int err = 0;

	if (!f)
		return NULL;
	snprintf(idx, sizeof idx, "%zu", index);
	err |= emit(f, "alloter_command", command);
	err |= emit(f, "alloter_shell", shell ? shell : "sh");
	fputs("export ", f);
	err |= emit(f, "ALLOTER_TASK_INDEX", idx);
	fputs("export ", f);
	err |= emit(f, "ALLOTER_TASK_NAME", name);
	if (slot) {
		snprintf(idx, sizeof idx, "%u", slot);
		fputs("export ", f);
		err |= emit(f, "ALLOTER_TASK_SLOT", idx);
	}
	for (char *const *e = env; e && *e; e++) {
		char *q;

		if (!strchr(*e, '='))
			continue;
		if (alloter_shell_quote(*e, strlen(*e), &q)) {
			err = -ENOMEM;
			break;
		}
		fprintf(f, "export %s\n", q);
		free(q);
	}
	if (fclose(f) == EOF || err) {
		free(body);
		return NULL;
	}
	/* The length line first: the wrapper reads exactly that much. */
	if (asprintf(&out, "%zu\n%s", at, body) < 0)
		out = NULL;
	free(body);
	if (out)
		*len = strlen(out);
	return out;
}

bool remote_transport_failed(const struct alloter_proc_result *res,
                             const char *log, char *why, size_t len)
{
	FILE *f;
	bool failed = false;

	if (!log || res->status != ALLOTER_PROC_EXITED || res->exit_code != 255)
		return false;
	f = fopen(log, "re");
	if (f) {
		if (fgets(why, (int)len, f)) {
			why[strcspn(why, "\r\n")] = '\0';
			failed = why[0] != '\0';
		}
		fclose(f);
	}
	return failed;
}

void remote_why(const struct alloter_proc *p,
                const struct alloter_proc_result *res, const char *log,
                char *why, size_t len)
{
	if (remote_transport_failed(res, log, why, len))
		return;
	alloter_proc_describe(p, res, why, len);
}
