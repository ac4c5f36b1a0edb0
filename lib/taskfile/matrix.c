/*
 * matrix.c - expanding a task over a matrix, as CI systems do: the task
 * runs once per combination of its keys' values, {key} in its command
 * (quoted), folder and environment holding the combination's value.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloter.h"
#include "taskfile/matrix.h"

/* More tasks from one entry than anyone means to write. */
#define MAX_COMBOS 100000

/* The key {s..s+n} names, or -1. */
static long key_index(const struct al_matrix *m, const char *s, size_t n)
{
	for (size_t i = 0; i < m->n_keys && m->keys[i]; i++)
		if (strlen(m->keys[i]) == n && memcmp(m->keys[i], s, n) == 0)
			return (long)i;
	return -1;
}

int al_matrix_read(const struct al_yctx *y, uint32_t node,
                   struct al_matrix *m)
{
	const struct al_ydoc *d = y->d;
	struct al_ypair *p = NULL;
	const char *s;
	char buf[80], q[64];
	size_t n = 0;
	int r;

	*m = (struct al_matrix){.combos = 1};
	if (al_ynode(d, node)->type != AL_YMAP || al_ynode(d, node)->n == 0)
		return al_yfail(y, node, "matrix: expected a mapping of keys "
		                "to lists of values, got %s",
		                al_ydescribe(d, node, buf, sizeof buf));
	if ((r = al_ymap_pairs(d, node, &p, &n, y->diag)))
		return r;
	m->keys = calloc(n, sizeof *m->keys);
	m->lists = calloc(n, sizeof *m->lists);
	m->len = calloc(n, sizeof *m->len);
	m->vals = calloc(n, sizeof *m->vals);
	if (!m->keys || !m->lists || !m->len || !m->vals) {
		r = -ENOMEM;
		goto out;
	}
	m->n_keys = n;
	for (size_t i = 0; i < n && !r; i++) {
		const struct al_ynode *list = al_ynode(d, p[i].value);
		size_t len = strlen(al_ytext(d, p[i].key));

		if ((r = al_yscalar(y, p[i].key, "matrix", "a key", &s)))
			break;
		al_yquote(s, q, sizeof q);
		if (strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU"
		              "VWXYZ0123456789_") != len || !len) {
			r = al_yfail(y, p[i].key, "matrix: key '%s': use "
			             "letters, digits and _ only", q);
			break;
		}
		if (key_index(m, s, len) >= 0) {
			r = al_yfail(y, p[i].key, "matrix: duplicate key '%s'",
			             q);
			break;
		}
		if (list->type != AL_YSEQ || list->n == 0) {
			r = al_yfail(y, p[i].value, "matrix: '%s': expected a "
			             "non-empty list of values, got %s", q,
			             list->type == AL_YSEQ
			                     ? "an empty list"
			                     : al_ydescribe(d, p[i].value, buf,
			                                    sizeof buf));
			break;
		}
		for (size_t k = 0; k < list->n && !r; k++)
			r = al_yscalar(y, al_ykid(d, p[i].value, k), "matrix",
			               "a value", &s);
		m->keys[i] = al_ytext(d, p[i].key);
		m->lists[i] = p[i].value;
		m->len[i] = list->n;
		if (!r && m->combos > MAX_COMBOS / list->n)
			r = al_yfail(y, node, "matrix: more than %d "
			             "combinations", MAX_COMBOS);
		m->combos *= list->n;
	}
out:
	free(p);
	return r;
}

void al_matrix_pick(struct al_matrix *m, const struct al_ydoc *d, size_t k)
{
	for (size_t i = m->n_keys; i-- > 0;) {
		m->vals[i] = al_ytext(d, al_ykid(d, m->lists[i], k % m->len[i]));
		k /= m->len[i];
	}
}

int al_matrix_name(const struct al_matrix *m, const char *base, char **out)
{
	size_t len = strlen(base) + 3;
	char *p;

	for (size_t i = 0; i < m->n_keys; i++)
		len += strlen(m->keys[i]) + strlen(m->vals[i]) + 2;
	if (!(p = *out = malloc(len)))
		return -ENOMEM;
	p = stpcpy(stpcpy(p, base), "[");
	for (size_t i = 0; i < m->n_keys; i++)
		p += sprintf(p, "%s%s=%s", i ? "," : "", m->keys[i], m->vals[i]);
	strcpy(p, "]");
	return 0;
}

int al_matrix_subst(const struct al_yctx *y, uint32_t at, const char *field,
                    const struct al_matrix *m, const char *s, bool quote,
                    char **out)
{
	static const char ident[] = "abcdefghijklmnopqrstuvwxyz"
	                            "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_";
	char *buf = NULL, q[64];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int r = 0;

	if (!f)
		return -ENOMEM;
	for (const char *c = s; *c && !r; c++) {
		size_t n = *c == '{' ? strspn(c + 1, ident) : 0;
		long k;
		char *v;

		if (!n || c[n + 1] != '}' || (c > s && c[-1] == '$')) {
			putc(*c, f);
			continue;
		}
		if ((k = key_index(m, c + 1, n)) < 0) {
			snprintf(q, sizeof q, "%.*s", (int)n, c + 1);
			r = al_yfail(y, at, "%s: '{%s}' is not a key of the "
			             "matrix", field, q);
			break;
		}
		if (!quote) {
			fputs(m->vals[k], f);
		} else if (!(r = alloter_shell_quote(m->vals[k],
		                                     strlen(m->vals[k]), &v))) {
			fputs(v, f);
			free(v);
		}
		c += n + 1;
	}
	if (fclose(f) == EOF && !r)
		r = -ENOMEM;
	if (r)
		free(buf);
	else
		*out = buf;
	return r;
}

void al_matrix_free(struct al_matrix *m)
{
	free(m->keys);
	free(m->lists);
	free(m->len);
	free(m->vals);
	*m = (struct al_matrix){0};
}
