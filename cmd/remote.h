/*
 * remote.h - running a task on another machine through ssh, under a small
 * POSIX sh watchdog that takes the task's process group down when the
 * connection goes away.
 */
#ifndef CMD_REMOTE_H
#define CMD_REMOTE_H

#include <stddef.h>

#include "hosts.h"

/* The least time between two ssh starts on one host: at most 20 a second,
 * so that with logins of about half a second, sshd's default MaxStartups
 * (10 unauthenticated connections) is rarely reached; when it is, the
 * connection is tried again (placement.c). */
#define REMOTE_PACE_MS 50

/* Makes an empty file for ssh's own messages (-E); *path gets its name,
 * the caller's to unlink and free.  Returns 0 or a negative errno value. */
int remote_log_path(char **path);
/* The ssh command line that runs the wrapper (when command is NULL) or,
 * for probes, command itself on host.  One malloc'd block. */
char **remote_argv(const struct hosts *h, const struct host *host,
                   const char *log, const char *command);

/* What the wrapper reads on its stdin: the environment and the command,
 * quoted for sh.  env are NAME=value entries; index, slot (0: none) and
 * name become ALLOTER_TASK_*.  Returns a malloc'd string (its length in
 * *len) or NULL. */
char *remote_payload(const char *command, const char *shell,
                     char *const *env, size_t index, unsigned slot,
                     const char *name, size_t *len);
/* Whether a finished ssh failed itself (connection, host key, login):
 * exit status 255 and a message in its log.  Puts the message in why. */
bool remote_transport_failed(const struct alloter_proc_result *res,
                             const char *log, char *why, size_t len);
/* Why a probe p with result res failed, in words. */
void remote_why(const struct alloter_proc *p,
                const struct alloter_proc_result *res, const char *log,
                char *why, size_t len);

#endif
