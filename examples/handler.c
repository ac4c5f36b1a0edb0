/*
 * handler.c - the server case: a request handler fans out to three backend
 * calls at once, under the request's deadline, with the group API, and
 * answers with the first error, as a Go handler would with errgroup and
 * context.WithTimeout.  The "backends" are functions that take a while and
 * watch their cancellation handle.
 *
 *   cc handler.c $(pkg-config --cflags --libs alloter)
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include <alloter.h>

#define REQUEST_DEADLINE_MS 300

struct call {
	const char *name;
	int ms;       /* how long the backend takes */
	int fails;    /* the negative errno it fails with, or 0 */
	struct alloter_outcome o;
};

/* A backend call: answers after c->ms, unless cancelled first. */
static int backend(void *arg, alloter_cancel *cancel)
{
	struct call *c = arg;
	struct pollfd p = {.fd = alloter_cancel_fd(cancel), .events = POLLIN};

	if (poll(&p, 1, c->ms) > 0)
		return -ECANCELED;
	return c->fails;
}

static const char *state_of(const struct alloter_outcome *o, char *buf,
                            size_t len)
{
	switch (o->state) {
	case ALLOTER_SUCCEEDED:
		return "ok";
	case ALLOTER_FAILED:
		snprintf(buf, len, "failed (%s)", strerror(-o->err));
		return buf;
	case ALLOTER_CANCELLED:
		return o->reason == ALLOTER_CANCEL_TIMEOUT
		               ? "cancelled (deadline)"
		               : "cancelled (another call failed)";
	default:
		return "not run";
	}
}

/* Handles one request: returns the HTTP status it would answer with. */
static int handle(alloter_pool *pool, int id, struct call *calls, int n)
{
	struct alloter_exec_opts opts = ALLOTER_EXEC_OPTS_INIT;
	struct alloter_exec_result res = ALLOTER_EXEC_RESULT_INIT;
	alloter_cancel *request = NULL;
	alloter_group *g = NULL;
	int err, status;
	char buf[64];

	/* The request's deadline, which a real server would also hand to
	 * every other batch and process task of the request. */
	if ((err = alloter_cancel_new_timeout(&request, NULL,
	                                      REQUEST_DEADLINE_MS)))
		goto fail;
	opts.parent = request;
	opts.kill_others = true; /* the first error answers the request */
	if ((err = alloter_group_new(&g, pool, &opts)))
		goto fail;
	for (int i = 0; i < n; i++)
		if ((err = alloter_group_go_outcome(g, backend, &calls[i],
		                                    &calls[i].o)) &&
		    err != -ECANCELED) /* refused after a failure: fine */
			goto fail;
	if ((err = alloter_group_wait(g, &res)))
		goto fail;

	printf("request %d:", id);
	for (int i = 0; i < n; i++)
		printf("%s %s %s", i ? "," : "", calls[i].name,
		       state_of(&calls[i].o, buf, sizeof buf));
	if (res.ok)
		status = 200;
	else if (res.first_failed != SIZE_MAX)
		status = 502; /* a backend failed: res.err says how */
	else
		status = 504; /* nothing failed: the deadline passed */
	printf("\nrequest %d: %d%s%s\n", id, status, res.err ? " " : "",
	       res.err ? strerror(-res.err) : "");
	alloter_group_free(g);
	alloter_cancel_free(request);
	return status;

fail:
	fprintf(stderr, "handler: request %d: %s\n", id, strerror(-err));
	alloter_group_free(g);
	alloter_cancel_free(request);
	return 500;
}

int main(void)
{
	struct call fast[] = {{"user", 20, 0, {0}}, {"orders", 50, 0, {0}},
	                      {"recommendations", 80, 0, {0}}};
	struct call slow[] = {{"user", 20, 0, {0}}, {"orders", 50, 0, {0}},
	                      {"recommendations", 60000, 0, {0}}};
	struct call broken[] = {{"user", 20, -ECONNREFUSED, {0}},
	                        {"orders", 60000, 0, {0}},
	                        {"recommendations", 60000, 0, {0}}};
	alloter_pool *pool = NULL;
	int err;

	/* One pool for the server's life; requests reuse its threads. */
	if ((err = alloter_pool_new(&pool, 0))) {
		fprintf(stderr, "handler: cannot make a pool: %s\n",
		        strerror(-err));
		return 1;
	}
	err = handle(pool, 1, fast, 3) != 200 || handle(pool, 2, slow, 3) != 504 ||
	      handle(pool, 3, broken, 3) != 502;
	alloter_pool_free(pool);
	return err;
}
