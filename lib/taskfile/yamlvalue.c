/*
 * yamlvalue.c - typed reads of YAML nodes for the task-file schema, each
 * failing with a diagnostic that points at the node and says what was
 * expected, and known-key lookup that suggests the key a typo meant.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "taskfile/yamlvalue.h"

int al_yfail(const struct al_yctx *y, uint32_t node, const char *fmt, ...)
{
	va_list ap;

	y->diag->line = (int)al_ynode(y->d, node)->line;
	y->diag->col = (int)al_ynode(y->d, node)->col;
	va_start(ap, fmt);
	vsnprintf(y->diag->msg, sizeof y->diag->msg, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Optimal string alignment distance (edits and swaps of neighbours), for
 * suggesting a key; strings longer than any key are simply "far". */
static size_t distance(const char *a, const char *b)
{
	enum { MAX = 32 };
	size_t la = strlen(a), lb = strlen(b), row[3][MAX + 1], i, j;

	if (la > MAX || lb > MAX)
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		row[0][j] = j;
	for (i = 1; i <= la; i++) {
		size_t *cur = row[i % 3], *prev = row[(i - 1) % 3];

		cur[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t best = prev[j - 1] + (a[i - 1] != b[j - 1]);

			if (prev[j] + 1 < best)
				best = prev[j] + 1;
			if (cur[j - 1] + 1 < best)
				best = cur[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] &&
			    row[(i - 2) % 3][j - 2] + 1 < best)
				best = row[(i - 2) % 3][j - 2] + 1;
			cur[j] = best;
		}
	}
	return row[la % 3][lb];
}

int al_ykey(const struct al_yctx *y, uint32_t k, const char *const *keys,
            size_t n, uint32_t *seen)
{
	const char *s = al_ytext(y->d, k);
	size_t i, best = 0, dist = SIZE_MAX, len = al_ynode(y->d, k)->n;
	char q[64];

	for (i = 0; i < n; i++) {
		if (strlen(keys[i]) != len || strcmp(s, keys[i]))
			continue;
		if (seen[i] != AL_YNONE)
			return al_yfail(y, k, "duplicate key '%s' (first at "
			                "%u:%u)", keys[i],
			                al_ynode(y->d, seen[i])->line,
			                al_ynode(y->d, seen[i])->col);
		seen[i] = k;
		return (int)i;
	}
	for (i = 0; i < n; i++) {
		size_t d = distance(s, keys[i]);

		if (d < dist) {
			dist = d;
			best = i;
		}
	}
	al_yquote(s, q, sizeof q);
	/* Only a near miss is worth a suggestion: "timout", not "xyz". */
	if (dist <= 2 && 2 * dist <= strlen(keys[best]))
		return al_yfail(y, k, "unknown key '%s' (did you mean '%s'?)",
		                q, keys[best]);
	return al_yfail(y, k, "unknown key '%s'", q);
}

static int expected(const struct al_yctx *y, uint32_t v, const char *key,
                    const char *want)
{
	char buf[80];

	return al_yfail(y, v, "%s: expected %s, got %s", key, want,
	                al_ydescribe(y->d, v, buf, sizeof buf));
}

int al_yscalar(const struct al_yctx *y, uint32_t v, const char *key,
               const char *want, const char **out)
{
	const struct al_ynode *n = al_ynode(y->d, v);

	if (n->type != AL_YSCALAR || al_ynull(y->d, v))
		return expected(y, v, key, want);
	*out = al_ytext(y->d, v);
	/* Every consumer of these strings stops at the first NUL. */
	if (strlen(*out) != n->n)
		return al_yfail(y, v, "%s: contains a NUL character", key);
	return 0;
}

int al_ystring(const struct al_yctx *y, uint32_t v, const char *key,
               const char *want, char **out)
{
	const char *s;
	int r = al_yscalar(y, v, key, want, &s);

	if (r)
		return r;
	if (!*s)
		return expected(y, v, key, want);
	*out = strdup(s);
	return *out ? 0 : -ENOMEM;
}

int al_ywhole(const struct al_yctx *y, uint32_t v, const char *key, int *out)
{
	const char *want = "a whole number >= 0", *s, *p;
	long long x = 0;
	char buf[80];
	int r = al_yscalar(y, v, key, want, &s);

	if (r)
		return r;
	p = s + (*s == '+');
	if (!*p)
		return expected(y, v, key, want);
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return expected(y, v, key, want);
		x = x * 10 + (*p - '0');
		if (x > INT_MAX)
			return al_yfail(y, v, "%s: %s is too large (at most "
			                "%d)", key, al_ydescribe(y->d, v, buf,
			                sizeof buf), INT_MAX);
	}
	*out = (int)x;
	return 0;
}

int al_ybool(const struct al_yctx *y, uint32_t v, const char *key, int *out)
{
	static const char *const yes[] = {"true", "yes", "on"};
	static const char *const no[] = {"false", "no", "off"};
	const char *want = "true or false", *s;
	int r = al_yscalar(y, v, key, want, &s);

	if (r)
		return r;
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		if (!strcasecmp(s, yes[i]) || !strcasecmp(s, no[i])) {
			*out = !strcasecmp(s, yes[i]);
			return 0;
		}
	}
	return expected(y, v, key, want);
}

/* The other ways YAML writes a number, such as "1e3" or "0x10", taken as
 * seconds. */
static int seconds(const char *s, int64_t *ms)
{
	char *end;
	double x;

	if (!((*s >= '0' && *s <= '9') || *s == '.' || *s == '+'))
		return -EINVAL;
	errno = 0;
	x = strtod(s, &end);
	if (*end || !isfinite(x))
		return -EINVAL;
	if (errno == ERANGE || x * 1000 >= 9.2e18)
		return -ERANGE;
	*ms = (int64_t)(x * 1000);
	return 0;
}

int al_yduration(const struct al_yctx *y, uint32_t v, const char *key,
                 int64_t *out)
{
	const char *s;
	char q[64];
	int r = al_yscalar(y, v, key, "a duration", &s);

	if (r)
		return r;
	r = alloter_duration_parse(s, out);
	if (r == -EINVAL && (al_ynode(y->d, v)->flags & AL_YPLAIN))
		r = seconds(s, out);
	if (r == -ERANGE)
		return al_yfail(y, v, "%s: duration '%s' is too long", key,
		                al_yquote(s, q, sizeof q));
	if (r)
		return al_yfail(y, v, "%s: invalid duration '%s'", key,
		                al_yquote(s, q, sizeof q));
	return 0;
}

int al_ychoice(const struct al_yctx *y, uint32_t v, const char *key,
               const char *const *choices, size_t n, int *out)
{
	char want[128];
	size_t at = 0, i;
	const char *s;
	int r;

	/* "group, line or raw" */
	want[0] = '\0';
	for (i = 0; i < n && at < sizeof want; i++)
		at += snprintf(want + at, sizeof want - at, "%s%s",
		               !i ? "" : i + 1 < n ? ", " : " or ", choices[i]);
	r = al_yscalar(y, v, key, want, &s);
	if (r)
		return r;
	for (i = 0; i < n; i++) {
		if (!strcasecmp(s, choices[i])) {
			*out = (int)i;
			return 0;
		}
	}
	return expected(y, v, key, want);
}
