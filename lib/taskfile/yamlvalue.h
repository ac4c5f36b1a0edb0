/*
 * yamlvalue.h - typed reads of YAML nodes (whole numbers, booleans,
 * durations, choices, known keys), each failing with a diagnostic that
 * points at the node.  Internal to lib/.
 */
#ifndef AL_YAMLVALUE_H
#define AL_YAMLVALUE_H

#include "taskfile/yamlnode.h"

/* Where the reads find nodes and put their complaints. */
struct al_yctx {
	const struct al_ydoc *d;
	struct alloter_diag *diag;
};

/* Fills the diagnostic with node's place and the message; returns -EINVAL. */
int al_yfail(const struct al_yctx *y, uint32_t node, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Which of keys[0..n-1] the key node k is.  An unknown key (with a
 * suggestion when it is a near miss) or a repeated one is an error; seen[i]
 * holds where keys[i] was found, or AL_YNONE.  Returns the index or
 * -EINVAL. */
int al_ykey(const struct al_yctx *y, uint32_t k, const char *const *keys,
            size_t n, uint32_t *seen);

/* Each reads node v, the value of key (named in messages), and fails with
 * "key: expected WHAT, got ..." when it is not what they want.
 * al_yscalar: a scalar that is not null (*out points into the document);
 * al_ystring: the same, not empty, malloc'ed (-ENOMEM);
 * al_ywhole: a decimal number from 0 to INT_MAX;
 * al_ybool: true/false, yes/no, on/off in any case;
 * al_yduration: as alloter_duration_parse (a bare number is seconds);
 * al_ychoice: one of choices[0..n-1], any case; *out is its index. */
int al_yscalar(const struct al_yctx *y, uint32_t v, const char *key,
               const char *want, const char **out);
int al_ystring(const struct al_yctx *y, uint32_t v, const char *key,
               const char *want, char **out);
int al_ywhole(const struct al_yctx *y, uint32_t v, const char *key, int *out);
int al_ybool(const struct al_yctx *y, uint32_t v, const char *key, int *out);
int al_yduration(const struct al_yctx *y, uint32_t v, const char *key,
                 int64_t *out);
int al_ychoice(const struct al_yctx *y, uint32_t v, const char *key,
               const char *const *choices, size_t n, int *out);

#endif
