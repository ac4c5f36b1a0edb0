/*
 * t_graph.c - the dependency graph: ready order, skipping after failures,
 * cycle reports, and that 100,000 nodes cost no more than linear time.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "alloter.h"
#include "tap.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Hands out every ready node, writing their indices as "1 2 3" into buf. */
static const char *drain(alloter_graph *g, char *buf, size_t len)
{
	size_t node, n = 0;

	buf[0] = '\0';
	while (alloter_graph_next(g, &node) == 0)
		n += snprintf(buf + n, len - n, "%s%zu", n ? " " : "", node);
	return buf;
}

static void test_empty(void)
{
	alloter_graph *g;
	size_t node, len = 99;

	is_int(alloter_graph_new(&g, 0), 0, "a graph of no nodes can be made");
	is_int(alloter_graph_check(g, NULL, 0, &len), 0, "it has no cycle");
	is_int(len, 0, "and reports a cycle length of 0");
	is_int(alloter_graph_next(g, &node), -ENOENT, "next() ends at once");
	alloter_graph_free(g);
	alloter_graph_free(NULL);
}

static void test_order(void)
{
	alloter_graph *g;
	char buf[128];
	size_t node;

	alloter_graph_new(&g, 6);
	/* 0 needs 3; 1 needs 0; 4 needs 5. */
	is_int(alloter_graph_need(g, 0, 3), 0, "need() accepts an edge");
	alloter_graph_need(g, 1, 0);
	alloter_graph_need(g, 4, 5);
	is_int(alloter_graph_need(g, 6, 0), -EINVAL, "node out of range");
	is_int(alloter_graph_need(g, 0, 6), -EINVAL, "dep out of range");
	is_int(alloter_graph_check(g, NULL, 0, NULL), 0, "no cycle");
	is_str(drain(g, buf, sizeof buf), "2 3 5",
	       "ready nodes in index order");
	is_int(alloter_graph_next(g, &node), -EAGAIN, "none ready while deps run");
	is_int(alloter_graph_need(g, 2, 3), -EBUSY,
	       "need() after next() is refused");
	alloter_graph_done(g, 5, true);
	alloter_graph_done(g, 3, true);
	is_str(drain(g, buf, sizeof buf), "0 4",
	       "newly ready nodes come lowest index first");
	alloter_graph_done(g, 0, true);
	alloter_graph_done(g, 0, true); /* twice: must not count again */
	is_str(drain(g, buf, sizeof buf), "1", "a chain goes on");
	is_int(alloter_graph_next(g, &node), -ENOENT,
	       "-1 once every node was handed out, even while some run");
	alloter_graph_done(g, 1, true);
	alloter_graph_done(g, 2, true);
	alloter_graph_done(g, 4, true);
	is_int(alloter_graph_next(g, &node), -ENOENT, "and stays -ENOENT");
	alloter_graph_free(g);
}

static void test_lowest_first(void)
{
	alloter_graph *g;
	char buf[128];
	size_t node;

	alloter_graph_new(&g, 5);
	alloter_graph_need(g, 1, 4); /* 1 waits for 4 */
	is_int(alloter_graph_next(g, &node), 0, "a node is ready");
	is_int(node, 0, "node 0 first");
	is_int(alloter_graph_next(g, &node), 0, "another is ready");
	is_int(node, 2, "then node 2");
	alloter_graph_done(g, 4, true); /* not handed out yet: ignored */
	is_int(alloter_graph_next(g, &node), 0, "another is ready");
	is_int(node, 3, "then node 3");
	is_int(alloter_graph_next(g, &node), 0, "another is ready");
	is_int(node, 4, "then node 4");
	alloter_graph_done(g, 4, true);
	is_str(drain(g, buf, sizeof buf), "1", "node 1 after its need");
	alloter_graph_free(g);
}

static void test_failure(void)
{
	alloter_graph *g;
	char buf[128];
	size_t node;

	/* 0 <- 1 <- 2 <- 3 (each needs the one before), 4 needs 0 and 5,
	 * 6 needs 5 only, 7 is alone. */
	alloter_graph_new(&g, 8);
	alloter_graph_need(g, 1, 0);
	alloter_graph_need(g, 2, 1);
	alloter_graph_need(g, 3, 2);
	alloter_graph_need(g, 4, 0);
	alloter_graph_need(g, 4, 5);
	alloter_graph_need(g, 6, 5);
	is_str(drain(g, buf, sizeof buf), "0 5 7", "roots first");
	alloter_graph_done(g, 0, false);
	alloter_graph_done(g, 0, true); /* already ended: ignored */
	for (size_t i = 1; i <= 4; i++)
		is_int(alloter_graph_skipped_by(g, i), 0,
		       "node %zu is skipped by node 0", i);
	is_int(alloter_graph_skipped_by(g, 0), SIZE_MAX,
	       "the failed node itself is not skipped");
	is_int(alloter_graph_skipped_by(g, 6), SIZE_MAX, "6 is not skipped");
	is_int(alloter_graph_skipped_by(g, 99), SIZE_MAX, "out of range");
	is_int(alloter_graph_next(g, &node), -EAGAIN, "6 still waits for 5");
	alloter_graph_done(g, 5, true);
	is_str(drain(g, buf, sizeof buf), "6",
	       "a skipped node stays skipped when its other need succeeds");
	is_int(alloter_graph_next(g, &node), -ENOENT, "then the graph is finished");
	alloter_graph_free(g);

	/* Two failures: the first to fail is the cause. */
	alloter_graph_new(&g, 4);
	alloter_graph_need(g, 2, 0);
	alloter_graph_need(g, 2, 1);
	alloter_graph_need(g, 3, 2);
	drain(g, buf, sizeof buf);
	alloter_graph_done(g, 1, false);
	alloter_graph_done(g, 0, false);
	is_int(alloter_graph_skipped_by(g, 3), 1,
	       "skipped_by names the first failure, transitively");
	is_int(alloter_graph_next(g, &node), -ENOENT, "everything was skipped");
	alloter_graph_free(g);
}

static void test_cycles(void)
{
	alloter_graph *g;
	size_t cycle[8], len;

	/* 4 -> 2 -> 5 -> 4 (each needs the next), reached from 0. */
	alloter_graph_new(&g, 6);
	alloter_graph_need(g, 0, 5);
	alloter_graph_need(g, 4, 2);
	alloter_graph_need(g, 2, 5);
	alloter_graph_need(g, 5, 4);
	is_int(alloter_graph_check(g, cycle, 8, &len), -ELOOP, "cycle found");
	is_int(len, 3, "three nodes on it");
	is_int(cycle[0], 2, "it starts at its lowest index");
	is_int(cycle[1], 5, "which needs the next");
	is_int(cycle[2], 4, "which needs the one that started it");
	is_int(alloter_graph_check(g, cycle, 2, &len), -ELOOP, "again, short");
	is_int(len, 2, "at most max nodes are stored");
	is_int(alloter_graph_check(g, NULL, 0, NULL), -ELOOP,
	       "cycle, with nowhere to store it");
	alloter_graph_free(g);

	alloter_graph_new(&g, 3);
	alloter_graph_need(g, 1, 1);
	is_int(alloter_graph_check(g, cycle, 8, &len), -ELOOP, "self loop");
	is_int(len, 1, "of one node");
	is_int(cycle[0], 1, "node 1");
	alloter_graph_free(g);

	/* A diamond has two paths to one node, and no cycle. */
	alloter_graph_new(&g, 4);
	alloter_graph_need(g, 1, 0);
	alloter_graph_need(g, 2, 0);
	alloter_graph_need(g, 3, 1);
	alloter_graph_need(g, 3, 2);
	alloter_graph_need(g, 3, 2); /* a duplicate edge changes nothing */
	is_int(alloter_graph_check(g, cycle, 8, &len), 0, "a diamond is fine");
	alloter_graph_free(g);
}

static void test_large(void)
{
	enum { N = 100000 };
	alloter_graph *g;
	size_t node, handed = 0, cycle[4], len;
	double t = now();
	int r;

	/* A chain: node i needs node i - 1; the deepest case for check(). */
	alloter_graph_new(&g, N);
	for (size_t i = 1; i < N; i++)
		alloter_graph_need(g, i, i - 1);
	is_int(alloter_graph_check(g, cycle, 4, &len), 0, "100,000-long chain");
	while ((r = alloter_graph_next(g, &node)) == 0) {
		if (node != handed)
			break;
		handed++;
		alloter_graph_done(g, node, true);
	}
	is_int(r, -ENOENT, "the chain runs to its end");
	is_int(handed, N, "in order, every node once");
	alloter_graph_free(g);

	/* A ring closed at the end: the cycle is every node. */
	alloter_graph_new(&g, N);
	for (size_t i = 1; i < N; i++)
		alloter_graph_need(g, i, i - 1);
	alloter_graph_need(g, 0, N - 1);
	is_int(alloter_graph_check(g, cycle, 4, &len), -ELOOP, "100,000 ring");
	ok(len == 4 && cycle[0] == 0 && cycle[1] == N - 1,
	   "the ring is reported from node 0, along its needs");
	alloter_graph_free(g);

	/* A fan: everything needs node 0, and node 0 fails. */
	alloter_graph_new(&g, N);
	for (size_t i = 1; i < N; i++)
		alloter_graph_need(g, i, 0);
	alloter_graph_next(g, &node);
	alloter_graph_done(g, 0, false);
	is_int(alloter_graph_next(g, &node), -ENOENT, "one failure skips 99,999");
	is_int(alloter_graph_skipped_by(g, N - 1), 0, "the last one too");
	alloter_graph_free(g);

	/* Wide and ready at once: the heap in index order. */
	alloter_graph_new(&g, N);
	for (size_t i = 0; i + 1 < N; i += 2)
		alloter_graph_need(g, i, i + 1);
	handed = 0;
	while (alloter_graph_next(g, &node) == 0) {
		if (node != 2 * handed + 1)
			break;
		handed++;
	}
	is_int(handed, N / 2, "half ready at once, in index order");
	for (size_t i = N; i-- > 1;)
		if (i % 2)
			alloter_graph_done(g, i, true);
	handed = 0;
	while (alloter_graph_next(g, &node) == 0) {
		if (node != 2 * handed)
			break;
		handed++;
	}
	is_int(handed, N / 2, "the rest in index order, whatever done's order");
	alloter_graph_free(g);
	t = now() - t;
	/* Linear work takes well under a second; quadratic, minutes. */
	ok(t < 10.0, "100,000-node graphs in %.3fs", t);
}

int main(void)
{
	test_empty();
	test_order();
	test_lowest_first();
	test_failure();
	test_cycles();
	test_large();
	return tap_done();
}
