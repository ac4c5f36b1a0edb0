/*
 * yamlnode.h - a YAML document as a compact tree, built from libyaml's
 * events with limits on depth and alias expansion; the task-file loader's
 * only view of YAML.  Internal to lib/.
 */
#ifndef AL_YAMLNODE_H
#define AL_YAMLNODE_H

#include <stddef.h>
#include <stdint.h>

#include "alloter.h"

/* Deeper documents, counting levels reached through aliases, are refused. */
#define AL_YAML_MAX_DEPTH 256
#define AL_YNONE UINT32_MAX

enum al_ytype { AL_YSCALAR, AL_YSEQ, AL_YMAP };

/* A node.  An alias is not a node of its own: its parent refers to the
 * anchored node, which may thus have several parents. */
struct al_ynode {
	uint32_t off;    /* scalar: its text in al_ydoc.text; collection: its
	                    first kid in al_ydoc.kids */
	uint32_t n;      /* scalar: text length; collection: number of kids (a
	                    mapping has two per pair, key then value) */
	uint32_t line, col; /* 1-based */
	uint32_t size;   /* nodes with aliases expanded (saturates) */
	uint16_t depth;  /* levels with aliases expanded */
	uint8_t type;    /* enum al_ytype */
	uint8_t flags;
};
#define AL_YPLAIN 1u /* an untagged plain scalar (so "~" may mean null) */
#define AL_YOPEN 2u  /* a collection still being read */

struct al_ydoc {
	struct al_ynode *nodes;
	size_t n_nodes, cap_nodes;
	uint32_t *kids;
	size_t n_kids, cap_kids;
	char *text;      /* every scalar, each followed by a NUL */
	size_t n_text, cap_text;
	uint32_t root;   /* AL_YNONE if the stream held no document */
};

struct al_ypair {
	uint32_t key, value;
};

/* A set of strings, each with a value; keys are borrowed, not copied. */
struct al_strslot {
	const char *key;
	size_t len;
	size_t val;
	size_t hash;
};
struct al_strmap {
	struct al_strslot *slots;
	size_t cap, n;
};

/* Parses buf into doc (zeroed by the caller).  Returns 0, -EINVAL with diag
 * filled (msg, line, col; not file) or -ENOMEM; on error doc is freed. */
int al_ydoc_load(struct al_ydoc *doc, const char *buf, size_t len,
                 struct alloter_diag *diag);
void al_ydoc_free(struct al_ydoc *doc);

static inline const struct al_ynode *al_ynode(const struct al_ydoc *d,
                                              uint32_t id)
{
	return &d->nodes[id];
}
static inline const char *al_ytext(const struct al_ydoc *d, uint32_t id)
{
	/* A document without a scalar has no text at all. */
	return d->text ? d->text + d->nodes[id].off : "";
}
static inline uint32_t al_ykid(const struct al_ydoc *d, uint32_t id, size_t i)
{
	return d->kids[d->nodes[id].off + i];
}
/* True for an empty plain scalar, "~" or "null". */
bool al_ynull(const struct al_ydoc *d, uint32_t id);
/* "null", "a list", "a mapping", or the scalar quoted, for messages. */
const char *al_ydescribe(const struct al_ydoc *d, uint32_t id, char *buf,
                         size_t len);
/* Copies s for a message: control characters turn into '?' and a long
 * string is cut short with "...".  Returns buf. */
const char *al_yquote(const char *s, char *buf, size_t len);
/* The same for the n bytes at s, which may hold a NUL: shown as \\0. */
const char *al_yquote_n(const char *s, size_t n, char *buf, size_t len);

/* The pairs of mapping id with merge keys ("<<: *a", "<<: [*a, *b]")
 * applied: its own pairs in order (duplicates included, for the caller to
 * report), then the merged ones whose keys it does not have.  Every key is a
 * scalar.  *out is malloc'ed; returns 0, -EINVAL (diag filled) or -ENOMEM. */
int al_ymap_pairs(const struct al_ydoc *d, uint32_t id, struct al_ypair **out,
                  size_t *n, struct alloter_diag *diag);

/* Fills diag's place and message; returns -EINVAL. */
int al_diag(struct alloter_diag *diag, int line, int col, const char *fmt,
            ...) __attribute__((format(printf, 4, 5)));

/* The slot for key, added with val SIZE_MAX if it was not there; NULL when
 * out of memory.  The slot is valid until the next addition. */
struct al_strslot *al_strmap_add(struct al_strmap *m, const char *key,
                                 size_t len);
/* key's value, or SIZE_MAX. */
size_t al_strmap_get(const struct al_strmap *m, const char *key, size_t len);
void al_strmap_free(struct al_strmap *m);

#endif
