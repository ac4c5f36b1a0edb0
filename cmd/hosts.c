/*
 * hosts.c - parsing host lists and files, and asking each remote host for
 * its CPU count over ssh.  The probes are process tasks on the same
 * executor as everything else, so they run at once and honour the same
 * cancellation.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hosts.h"
#include "remote.h"

static int add(struct hosts *h, const char *entry, char *err, size_t len)
{
	const char *slash = strchr(entry, '/'), *spec = entry, *colon;
	struct host *v, *x;
	long slots = 0;

	if (slash) {
		char *end;
		slots = strtol(entry, &end, 10);
		if (end != slash || slots < 1 || slots > 100000) {
			snprintf(err, len, "host '%s': invalid slot count "
			         "(want a whole number from 1 to 100000)", entry);
			return -EINVAL;
		}
		spec = slash + 1;
	}
	/* ssh would take it for an option (-oProxyCommand=...). */
	if (*spec == '-') {
		snprintf(err, len, "host '%s': a host must not begin with '-'",
		         entry);
		return -EINVAL;
	}
	colon = strrchr(spec, ':');
	if (!*spec || (colon == spec && spec[1]) ||
	    (colon && colon[1] && strspn(colon + 1, "0123456789") !=
	                              strlen(colon + 1)) ||
	    (colon && colon != spec && !colon[1]) ||
	    strspn(spec, " \t") || spec[strcspn(spec, " \t")]) {
		snprintf(err, len, "host '%s': invalid (want "
		         "[SLOTS/][user@]host[:port], or ':')", entry);
		return -EINVAL;
	}
	v = realloc(h->v, (h->n + 1) * sizeof *v);
	if (!v)
		return -ENOMEM;
	h->v = v;
	x = &v[h->n];
	*x = (struct host){.slots = (int)slots, .local = strcmp(spec, ":") == 0};
	x->name = strdup(spec);
	x->dest = x->local || !colon ? strdup(spec)
	                             : strndup(spec, (size_t)(colon - spec));
	if (!x->local && colon)
		x->port = strdup(colon + 1);
	if (!x->name || !x->dest || (!x->local && colon && !x->port)) {
		free(x->name);
		free(x->dest);
		free(x->port);
		return -ENOMEM;
	}
	if (x->local && !x->slots)
		x->slots = (int)sysconf(_SC_NPROCESSORS_ONLN);
	h->n++;
	return 0;
}

int hosts_add_list(struct hosts *h, const char *list, char *err, size_t len)
{
	char *copy = strdup(list), *save = NULL;
	int r = 0;

	if (!copy)
		return -ENOMEM;
	for (char *e = strtok_r(copy, ",", &save); e && !r;
	     e = strtok_r(NULL, ",", &save))
		r = add(h, e, err, len);
	free(copy);
	if (!r && h->n == 0) {
		snprintf(err, len, "no hosts in '%s'", list);
		r = -EINVAL;
	}
	return r;
}

int hosts_add_file(struct hosts *h, const char *path, char *err, size_t len)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0, before = h->n;
	int r = 0, lineno = 0;

	if (!f) {
		r = -errno;
		snprintf(err, len, "%s: %s", path, strerror(errno));
		return r;
	}
	while (!r && getline(&line, &cap, f) > 0) {
		char *s = line + strspn(line, " \t"), *e;

		lineno++;
		s[strcspn(s, "#\r\n")] = '\0';
		for (e = s + strlen(s); e > s && (e[-1] == ' ' || e[-1] == '\t');)
			*--e = '\0';
		if (*s && (r = add(h, s, err, len)) == -EINVAL) {
			char msg[512];
			snprintf(msg, sizeof msg, "%s:%d: %s", path, lineno, err);
			snprintf(err, len, "%s", msg);
		}
	}
	free(line);
	fclose(f);
	if (!r && h->n == before) {
		snprintf(err, len, "%s: no hosts", path);
		r = -EINVAL;
	}
	return r;
}

int hosts_set_ssh(struct hosts *h, const char *cmd)
{
	size_t n = 0, len = strlen(cmd);
	char **v = malloc((len / 2 + 2) * sizeof *v + len + 1), *out;

	if (!v)
		return -ENOMEM;
	out = (char *)(v + len / 2 + 2);
	memcpy(out, cmd, len + 1);
	for (char *save = NULL, *w = strtok_r(out, " \t", &save); w;
	     w = strtok_r(NULL, " \t", &save))
		v[n++] = w;
	v[n] = NULL;
	free(h->ssh);
	h->ssh = v;
	return n ? 0 : -EINVAL;
}

struct probe {
	struct hosts *h;
	struct host *host;
	struct alloter_proc proc;
	struct alloter_proc_call call;
	char **argv;
	alloter_output *out;
	FILE *file;
	char *log;
};

static int probe_task(void *arg, alloter_cancel *cancel)
{
	struct probe *p = arg;

	if (p->host->down) /* its set-up failed, and was reported */
		return 1;
	return alloter_proc_task(&p->call, cancel);
}

/* An unlinked temporary file in $TMPDIR, closed on exec: tmpfile()'s
 * descriptor is not, so it leaked into the ssh probes that run alongside.
 * A file system without O_TMPFILE gets a named file, unlinked at once.
 * Returns NULL with errno set on failure. */
static FILE *temp_file(void)
{
	const char *dir = getenv("TMPDIR");
	char *path;
	FILE *f;
	int fd, err;

	if (!dir || !*dir)
		dir = "/tmp";
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR ||
	               errno == EINVAL)) {
		if (asprintf(&path, "%s/alloter-probe.XXXXXX", dir) < 0) {
			errno = ENOMEM;
			return NULL;
		}
		fd = mkostemp(path, O_CLOEXEC);
		err = errno;
		if (fd >= 0)
			unlink(path);
		free(path);
		errno = err;
	}
	if (fd < 0)
		return NULL;
	f = fdopen(fd, "w+");
	if (!f) {
		err = errno;
		close(fd);
		errno = err;
	}
	return f;
}

/* Sets up one probe: ssh HOST getconf _NPROCESSORS_ONLN, its output in an
 * unlinked temporary file.  Returns 0 or a negative errno value. */
static int probe_init(struct probe *p, struct hosts *h, struct host *host)
{
	struct alloter_output_opts oo = {.mode = ALLOTER_OUTPUT_GROUP};
	int err;

	p->h = h;
	p->host = host;
	p->file = temp_file();
	if (!p->file)
		return -errno;
	oo.out_fd = oo.err_fd = fileno(p->file);
	if ((err = alloter_output_new(&p->out, &oo)))
		return err;
	if ((err = remote_log_path(&p->log)))
		return err;
	p->argv = remote_argv(h, host, p->log, "getconf _NPROCESSORS_ONLN");
	if (!p->argv)
		return -ENOMEM;
	p->proc = (struct alloter_proc){.argv = p->argv, .name = host->name,
	                                .output = p->out, .timeout_ms = 30000,
	                                .grace_ms = 1000};
	p->call.proc = &p->proc;
	return 0;
}

size_t hosts_probe(struct hosts *h, alloter_pool *pool, alloter_cancel *c,
                   void (*say)(void *ud, const char *msg), void *ud)
{
	struct probe *pr = calloc(h->n + 1, sizeof *pr);
	struct alloter_task *t = calloc(h->n + 1, sizeof *t);
	struct alloter_exec_opts opts = {.parent = c};
	size_t n = 0, up = 0;
	char msg[1024];

	if (!pr || !t) {
		free(pr);
		free(t);
		return 0;
	}
	for (size_t i = 0; i < h->n; i++) {
		struct host *host = &h->v[i];
		int err;

		if (host->slots || host->down)
			continue;
		if ((err = probe_init(&pr[n], h, host))) {
			snprintf(msg, sizeof msg, "host '%s': cannot probe: %s",
			         host->name, strerror(-err));
			say(ud, msg);
			host->down = true;
		}
		t[n] = (struct alloter_task){probe_task, &pr[n]};
		n++;
	}
	alloter_exec(pool, t, n, &opts, NULL, NULL);
	for (size_t i = 0; i < n; i++) {
		struct probe *p = &pr[i];
		char buf[64] = "", why[256];
		long cpus = 0;

		if (!p->host->down && p->file) {
			/* The output's writer may not have written it yet. */
			alloter_output_flush(p->out);
			rewind(p->file);
			if (fgets(buf, sizeof buf, p->file))
				cpus = strtol(buf, NULL, 10);
		}
		if (!p->host->down && p->call.result.status ==
		                              ALLOTER_PROC_EXITED &&
		    p->call.result.exit_code == 0 && cpus > 0) {
			p->host->slots = (int)(cpus > 100000 ? 100000 : cpus);
		} else if (!p->host->down) {
			remote_why(&p->proc, &p->call.result, p->log, why,
			           sizeof why);
			snprintf(msg, sizeof msg, "host '%s': cannot be used: %s",
			         p->host->name, why);
			say(ud, msg);
			p->host->down = true;
		}
		if (p->log)
			unlink(p->log);
		free(p->log);
		alloter_output_free(p->out);
		if (p->file)
			fclose(p->file);
		free(p->argv);
	}
	for (size_t i = 0; i < h->n; i++)
		up += !h->v[i].down;
	free(pr);
	free(t);
	return up;
}

void hosts_free(struct hosts *h)
{
	for (size_t i = 0; i < h->n; i++) {
		free(h->v[i].name);
		free(h->v[i].dest);
		free(h->v[i].port);
	}
	free(h->v);
	free(h->ssh);
}
