/*
 * matrix.h - a task's matrix: one task per combination of the values of
 * its keys, and {key} replaced in its fields.  Internal to lib/.
 */
#ifndef AL_MATRIX_H
#define AL_MATRIX_H

#include <stdbool.h>

#include "taskfile/yamlvalue.h"

struct al_matrix {
	size_t n_keys;
	const char **keys;    /* borrowed from the document */
	uint32_t *lists;      /* each key's list of values */
	size_t *len;
	size_t combos;        /* how many tasks it makes */
	const char **vals;    /* the combination picked, borrowed */
};

/* Reads node: a mapping of keys to non-empty lists of scalars.  Returns 0,
 * -ENOMEM, or -EINVAL with the diagnostic filled in. */
int al_matrix_read(const struct al_yctx *y, uint32_t node,
                   struct al_matrix *m);
/* Picks combination k (0 <= k < combos); the first key turns slowest. */
void al_matrix_pick(struct al_matrix *m, const struct al_ydoc *d, size_t k);
/* "base[key=value,...]" for the combination picked.  0 or -ENOMEM. */
int al_matrix_name(const struct al_matrix *m, const char *base, char **out);
/* s with each {key} replaced by the picked value, quoted for /bin/sh when
 * quote; a {name} that is not a key fails (at node at, naming field).
 * "${name}" is the shell's and stays.  Returns 0 with *out malloc'd,
 * -ENOMEM, or -EINVAL. */
int al_matrix_subst(const struct al_yctx *y, uint32_t at, const char *field,
                    const struct al_matrix *m, const char *s, bool quote,
                    char **out);
void al_matrix_free(struct al_matrix *m);

#endif
