/*
 * hosts.h - the machines a run may use: parsed from -S/--hosts and
 * --hosts-file, probed for their CPUs, and given slots.
 */
#ifndef CMD_HOSTS_H
#define CMD_HOSTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloter.h"

struct host {
	char *name;        /* [user@]host[:port] as given, or ":" */
	char *dest;        /* [user@]host, for ssh */
	char *port;        /* or NULL */
	bool local;        /* ":" */
	int slots;         /* tasks at once; 0 until probed */
	int running;
	bool down;         /* unreachable: out of rotation */
	int throttled;     /* connections turned away in a row (MaxStartups) */
	int64_t last_start_ms;
};

struct hosts {
	struct host *v;
	size_t n;
	char **ssh;        /* the words of --ssh, NULL-ended */
	int64_t grace_ms;
};

/* Adds the entries of a comma-separated LIST ("[SLOTS/][user@]host[:port]",
 * ":" for this machine).  Returns 0, or -EINVAL with a message in err. */
int hosts_add_list(struct hosts *h, const char *list, char *err, size_t len);
/* Adds one entry per line of path; blank lines and # comments are
 * skipped.  Returns 0, or a negative errno value with a message in err. */
int hosts_add_file(struct hosts *h, const char *path, char *err, size_t len);
/* Sets the ssh command (split on blanks); returns 0 or -ENOMEM. */
int hosts_set_ssh(struct hosts *h, const char *cmd);
/* Asks every host without a slot count how many CPUs it has, all at once,
 * on pool; a host that cannot be reached is reported through say and
 * marked down.  Returns how many hosts are up. */
size_t hosts_probe(struct hosts *h, alloter_pool *pool, alloter_cancel *c,
                   void (*say)(void *ud, const char *msg), void *ud);
void hosts_free(struct hosts *h);

#endif
