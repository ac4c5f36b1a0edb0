/*
 * graph.c - the dependency graph: which node may start next, and which nodes
 * are skipped when a node they need fails.  Edges are collected as a list,
 * then packed into rows of dependents before the first query, so that every
 * call costs time in proportion to the edges it touches, not to the graph.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "alloter.h"

enum node_state { WAITING, READY, HANDED, SUCCEEDED, FAILED, SKIPPED };

struct edge {
	size_t dep, node;
};

struct alloter_graph {
	size_t n;
	struct edge *edges;
	size_t n_edges, cap_edges;
	/* The dependents of node i are adj[off[i]] .. adj[off[i + 1] - 1].
	 * adj grows with edges, so packing never needs to allocate. */
	size_t *off, *adj;
	bool packed;
	bool started;          /* next() ran: the edges are fixed */
	size_t *unmet;         /* needed nodes that have not succeeded yet */
	unsigned char *state;
	size_t *skipped_by;
	size_t *heap, n_heap;  /* ready nodes, the lowest index on top */
	size_t *stack;         /* done()'s scratch: it must not fail */
	size_t left;           /* nodes neither handed out nor skipped */
};

/* Allocates n zeroed elements, never returning NULL for n == 0, so that a
 * NULL result always means "out of memory". */
static void *zalloc(size_t n, size_t size)
{
	return calloc(n ? n : 1, size);
}

int alloter_graph_new(alloter_graph **out, size_t n)
{
	alloter_graph *g;

	*out = NULL;
	/* SIZE_MAX means "no node" in skipped_by, and off has n + 1 slots. */
	if (n >= SIZE_MAX / (2 * sizeof(size_t)))
		return -ENOMEM;
	g = calloc(1, sizeof *g);
	if (!g)
		return -ENOMEM;
	g->n = n;
	g->off = zalloc(n + 1, sizeof *g->off);
	g->unmet = zalloc(n, sizeof *g->unmet);
	g->state = zalloc(n, sizeof *g->state);
	g->skipped_by = zalloc(n, sizeof *g->skipped_by);
	g->heap = zalloc(n, sizeof *g->heap);
	g->stack = zalloc(n, sizeof *g->stack);
	if (!g->off || !g->unmet || !g->state || !g->skipped_by || !g->heap ||
	    !g->stack) {
		alloter_graph_free(g);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		g->skipped_by[i] = SIZE_MAX;
	g->packed = true;
	*out = g;
	return 0;
}

void alloter_graph_free(alloter_graph *g)
{
	if (!g)
		return;
	free(g->edges);
	free(g->off);
	free(g->adj);
	free(g->unmet);
	free(g->state);
	free(g->skipped_by);
	free(g->heap);
	free(g->stack);
	free(g);
}

int alloter_graph_need(alloter_graph *g, size_t node, size_t dep)
{
	if (node >= g->n || dep >= g->n)
		return -EINVAL;
	/* Counts and the ready heap are set up by the first next(); an edge
	 * added later would not be honoured. */
	if (g->started)
		return -EBUSY;
	if (g->n_edges == g->cap_edges) {
		size_t cap = g->cap_edges ? 2 * g->cap_edges : 16;
		struct edge *e;
		size_t *a;

		if (cap > SIZE_MAX / sizeof *e)
			return -ENOMEM;
		e = realloc(g->edges, cap * sizeof *e);
		if (!e)
			return -ENOMEM;
		g->edges = e;
		a = realloc(g->adj, cap * sizeof *a);
		if (!a)
			return -ENOMEM;
		g->adj = a;
		g->cap_edges = cap;
	}
	g->edges[g->n_edges].dep = dep;
	g->edges[g->n_edges].node = node;
	g->n_edges++;
	g->packed = false;
	return 0;
}

/* Builds off/adj (a counting sort of the edges by dep, stable) and the
 * count of unmet needs of every node. */
static void pack(alloter_graph *g)
{
	size_t i;

	for (i = 0; i <= g->n; i++)
		g->off[i] = 0;
	for (i = 0; i < g->n; i++)
		g->unmet[i] = 0;
	for (i = 0; i < g->n_edges; i++) {
		g->off[g->edges[i].dep + 1]++;
		g->unmet[g->edges[i].node]++;
	}
	for (i = 0; i < g->n; i++)
		g->off[i + 1] += g->off[i];
	/* Filling moves off[i] to the end of row i, which is the start of
	 * row i + 1; shifting by one slot puts every row start back. */
	for (i = 0; i < g->n_edges; i++)
		g->adj[g->off[g->edges[i].dep]++] = g->edges[i].node;
	for (i = g->n; i > 0; i--)
		g->off[i] = g->off[i - 1];
	g->off[0] = 0;
	g->packed = true;
}

static void heap_push(alloter_graph *g, size_t v)
{
	size_t i = g->n_heap++;

	while (i > 0 && g->heap[(i - 1) / 2] > v) {
		g->heap[i] = g->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	g->heap[i] = v;
}

static size_t heap_pop(alloter_graph *g)
{
	size_t top = g->heap[0], v = g->heap[--g->n_heap], i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= g->n_heap)
			break;
		if (c + 1 < g->n_heap && g->heap[c + 1] < g->heap[c])
			c++;
		if (g->heap[c] >= v)
			break;
		g->heap[i] = g->heap[c];
		i = c;
	}
	if (g->n_heap)
		g->heap[i] = v;
	return top;
}

/* Reverses a[0..n-1]. */
static void reverse(size_t *a, size_t n)
{
	for (size_t i = 0, j = n; i + 1 < j; i++, j--) {
		size_t t = a[i];

		a[i] = a[j - 1];
		a[j - 1] = t;
	}
}

/* Copies the cycle path[0..n-1], where each node needs the next and the last
 * needs the first, to out, starting at its lowest index so that the answer
 * does not depend on where the search happened to enter the cycle. */
static void store_cycle(const size_t *path, size_t n, size_t *out, size_t max,
                        size_t *len)
{
	size_t low = 0, i;

	for (i = 1; i < n; i++)
		if (path[i] < path[low])
			low = i;
	for (i = 0; i < n && i < max; i++)
		out[i] = path[(low + i) % n];
	if (len)
		*len = i;
}

int alloter_graph_check(alloter_graph *g, size_t *cycle, size_t max,
                        size_t *len)
{
	unsigned char *color; /* 0: not seen, 1: on the path, 2: finished */
	size_t *path, *pos, depth = 0;
	int r = 0;

	if (len)
		*len = 0;
	if (!g->packed)
		pack(g);
	color = zalloc(g->n, sizeof *color);
	path = zalloc(g->n, sizeof *path);
	pos = zalloc(g->n, sizeof *pos);
	if (!color || !path || !pos) {
		r = -ENOMEM;
		goto out;
	}
	/* An iterative depth-first search along dependents: 100,000 nodes in
	 * a chain would overflow the stack of a recursive one. */
	for (size_t root = 0; root < g->n && !r; root++) {
		if (color[root])
			continue;
		color[root] = 1;
		pos[root] = g->off[root];
		path[depth++] = root;
		while (depth && !r) {
			size_t u = path[depth - 1], v, i;

			if (pos[u] == g->off[u + 1]) {
				color[u] = 2;
				depth--;
				continue;
			}
			v = g->adj[pos[u]++];
			if (color[v] == 0) {
				color[v] = 1;
				pos[v] = g->off[v];
				path[depth++] = v;
			} else if (color[v] == 1) {
				/* path[i..] runs v -> ... -> u along
				 * dependents, and v needs u: reversed, each
				 * node needs the next. */
				for (i = depth; path[i - 1] != v; i--)
					;
				reverse(path + i - 1, depth - i + 1);
				if (cycle)
					store_cycle(path + i - 1, depth - i + 1,
					            cycle, max, len);
				r = -ELOOP;
			}
		}
	}
out:
	free(color);
	free(path);
	free(pos);
	return r;
}

int alloter_graph_next(alloter_graph *g, size_t *node)
{
	size_t v;

	if (!g->started) {
		if (!g->packed)
			pack(g);
		/* Pushed in ascending order, the array is already a heap. */
		for (v = 0; v < g->n; v++) {
			if (g->unmet[v] == 0) {
				g->state[v] = READY;
				g->heap[g->n_heap++] = v;
			}
		}
		g->left = g->n;
		g->started = true;
	}
	if (g->left == 0)
		return -ENOENT;
	if (g->n_heap == 0)
		return -EAGAIN;
	v = heap_pop(g);
	g->state[v] = HANDED;
	g->left--;
	*node = v;
	return 0;
}

/* Marks everything that needs failed, directly or not, as skipped by it.
 * Each node is pushed once, when it is marked, so the stack of n slots
 * cannot overflow. */
static void skip_dependents(alloter_graph *g, size_t failed)
{
	size_t top = 0;

	g->stack[top++] = failed;
	while (top) {
		size_t u = g->stack[--top];

		for (size_t i = g->off[u]; i < g->off[u + 1]; i++) {
			size_t d = g->adj[i];

			if (g->state[d] != WAITING)
				continue;
			g->state[d] = SKIPPED;
			g->skipped_by[d] = failed;
			g->left--;
			g->stack[top++] = d;
		}
	}
}

void alloter_graph_done(alloter_graph *g, size_t node, bool ok)
{
	/* Only a node that was handed out can end, and only once. */
	if (node >= g->n || g->state[node] != HANDED)
		return;
	if (!ok) {
		g->state[node] = FAILED;
		skip_dependents(g, node);
		return;
	}
	g->state[node] = SUCCEEDED;
	for (size_t i = g->off[node]; i < g->off[node + 1]; i++) {
		size_t d = g->adj[i];

		if (--g->unmet[d] == 0 && g->state[d] == WAITING) {
			g->state[d] = READY;
			heap_push(g, d);
		}
	}
}

size_t alloter_graph_skipped_by(const alloter_graph *g, size_t node)
{
	if (node >= g->n)
		return SIZE_MAX;
	return g->skipped_by[node];
}
