/*
 * yamlnode.c - libyaml's events to a compact tree (see yamlnode.h).  Aliases
 * are shared, never copied, and every node knows its size and depth with
 * aliases expanded, so an alias bomb or a deep nest is refused in time and
 * memory proportional to the input; merge keys are applied on request.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "taskfile/yamlnode.h"

/* Expanding aliases may multiply the document by this much, or reach this
 * many nodes, whichever is more, before it is taken for an alias bomb. */
#define EXPAND_RATIO 16
#define EXPAND_MIN 1000000

struct frame {
	uint32_t node;
	size_t kid0; /* where its kids start in pending */
};

struct builder {
	struct al_ydoc *d;
	struct alloter_diag *diag;
	const char *buf;
	size_t len;
	uint32_t *pending; /* kids of the open collections, innermost last */
	size_t n_pending, cap_pending;
	struct frame stack[AL_YAML_MAX_DEPTH];
	size_t depth;
	struct al_strmap anchors; /* name (malloc'ed) -> node */
	bool had_doc;
	uint32_t big_alias_size, big_alias_line, big_alias_col;
};

int al_diag(struct alloter_diag *diag, int line, int col, const char *fmt, ...)
{
	va_list ap;

	diag->line = line;
	diag->col = col;
	va_start(ap, fmt);
	vsnprintf(diag->msg, sizeof diag->msg, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Returns p, grown (of *cap elements of size) to hold need elements, or NULL
 * when out of memory, leaving p as it was. */
static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
	size_t c = *cap ? *cap : 64;

	if (p && need <= *cap)
		return p;
	while (c < need) {
		if (c > SIZE_MAX / 2 / size)
			return NULL;
		c *= 2;
	}
	p = realloc(p, c * size);
	if (p)
		*cap = c;
	return p;
}

static size_t hash(const char *s, size_t len)
{
	size_t h = 14695981039346656037u;

	while (len--)
		h = (h ^ (unsigned char)*s++) * 1099511628211u;
	return h;
}

static struct al_strslot *find(const struct al_strmap *m, const char *key,
                               size_t len, size_t h)
{
	size_t i = h & (m->cap - 1);

	/* Linear probing in a table never more than half full; comparing the
	 * hash first spares a cache miss on the key of every other slot. */
	while (m->slots[i].key) {
		if (m->slots[i].hash == h && m->slots[i].len == len &&
		    !memcmp(m->slots[i].key, key, len))
			break;
		i = (i + 1) & (m->cap - 1);
	}
	return &m->slots[i];
}

struct al_strslot *al_strmap_add(struct al_strmap *m, const char *key,
                                 size_t len)
{
	size_t h = hash(key, len);
	struct al_strslot *s;

	if (2 * (m->n + 1) > m->cap) {
		struct al_strmap big = {0};

		big.cap = m->cap ? 2 * m->cap : 16;
		big.slots = calloc(big.cap, sizeof *big.slots);
		if (!big.slots)
			return NULL;
		for (size_t i = 0; i < m->cap; i++)
			if (m->slots[i].key)
				*find(&big, m->slots[i].key, m->slots[i].len,
				      m->slots[i].hash) = m->slots[i];
		big.n = m->n;
		free(m->slots);
		*m = big;
	}
	s = find(m, key, len, h);
	if (!s->key) {
		s->key = key;
		s->len = len;
		s->val = SIZE_MAX;
		s->hash = h;
		m->n++;
	}
	return s;
}

size_t al_strmap_get(const struct al_strmap *m, const char *key, size_t len)
{
	const struct al_strslot *s;

	if (!m->cap)
		return SIZE_MAX;
	s = find(m, key, len, hash(key, len));
	return s->key ? s->val : SIZE_MAX;
}

void al_strmap_free(struct al_strmap *m)
{
	free(m->slots);
	memset(m, 0, sizeof *m);
}

void al_ydoc_free(struct al_ydoc *doc)
{
	free(doc->nodes);
	free(doc->kids);
	free(doc->text);
	memset(doc, 0, sizeof *doc);
}

bool al_ynull(const struct al_ydoc *d, uint32_t id)
{
	const struct al_ynode *n = al_ynode(d, id);
	const char *s = al_ytext(d, id);

	if (n->type != AL_YSCALAR || !(n->flags & AL_YPLAIN))
		return false;
	return !*s || !strcmp(s, "~") || !strcmp(s, "null") ||
	       !strcmp(s, "Null") || !strcmp(s, "NULL");
}

const char *al_yquote(const char *s, char *buf, size_t len)
{
	return al_yquote_n(s, strlen(s), buf, len);
}

const char *al_yquote_n(const char *s, size_t n, char *buf, size_t len)
{
	size_t i = 0, o = 0;

	for (; i < n && o + 3 < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '\0') { /* a NUL shown, not a string cut short */
			buf[o++] = '\\';
			buf[o++] = '0';
		} else {
			buf[o++] = ch < 0x20 || ch == 0x7f ? '?' : s[i];
		}
	}
	buf[o] = '\0';
	if (i < n && len > 4)
		memcpy(buf + len - 4, "...", 4);
	return buf;
}

const char *al_ydescribe(const struct al_ydoc *d, uint32_t id, char *buf,
                         size_t len)
{
	char q[64];

	switch (al_ynode(d, id)->type) {
	case AL_YSEQ:
		return "a list";
	case AL_YMAP:
		return "a mapping";
	}
	if (al_ynull(d, id))
		return "null";
	snprintf(buf, len, "'%s'", al_yquote(al_ytext(d, id), q, sizeof q));
	return buf;
}

/* Turns a byte offset into a line and column the way libyaml counts them:
 * its reader errors carry only the offset. */
static void place(const struct builder *b, size_t off, int *line, int *col)
{
	/* libyaml does not count a byte order mark as a column. */
	size_t i = b->len >= 3 && !memcmp(b->buf, "\xef\xbb\xbf", 3) ? 3 : 0;

	*line = 1;
	*col = 1;
	for (; i < off && i < b->len; i++) {
		unsigned char c = b->buf[i];

		if (c == '\n') {
			(*line)++;
			*col = 1;
		} else if ((c & 0xc0) != 0x80) { /* not a UTF-8 continuation */
			(*col)++;
		}
	}
}

/* Whether line (0-based) of the document is a task's "run:" key with a
 * plain value: where an unquoted ': ' in a command makes libyaml see a
 * mapping. */
static bool run_line(const struct builder *b, size_t line)
{
	const char *s = b->buf, *end = b->buf + b->len;

	while (line > 0 && s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));

		if (!nl)
			return false;
		s = nl + 1;
		line--;
	}
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	if (s < end && *s == '-')
		for (s++; s < end && *s == ' '; s++)
			;
	return end - s > 5 && memcmp(s, "run:", 4) == 0 &&
	       (s[4] == ' ' || s[4] == '\t');
}

static int yaml_error(struct builder *b, const yaml_parser_t *p)
{
	int line = (int)p->problem_mark.line + 1;
	int col = (int)p->problem_mark.column + 1;
	const char *problem = p->problem ? p->problem : "invalid YAML";
	size_t off;

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		al_diag(b->diag, 0, 0, "out of memory");
		return -ENOMEM;
	case YAML_READER_ERROR:
		off = p->problem_offset;
		/* A bad trailing octet is reported where it is; the sequence
		 * that it breaks off starts earlier, at its leading octet. */
		if (strstr(problem, "trailing") && off > 0 && off <= b->len) {
			off--;
			while (off > 0 && (b->buf[off] & 0xc0) == 0x80)
				off--;
		}
		place(b, off, &line, &col);
		if (strstr(problem, "UTF-8") && off < b->len)
			return al_diag(b->diag, line, col,
			               "invalid UTF-8 (byte 0x%02x)",
			               (unsigned char)b->buf[off]);
		if (p->problem_value >= 0)
			return al_diag(b->diag, line, col, "%s (U+%04X)",
			               problem, (unsigned)p->problem_value);
		return al_diag(b->diag, line, col, "%s", problem);
	default:
		if (strstr(problem, "mapping values are not allowed") &&
		    run_line(b, p->problem_mark.line))
			return al_diag(b->diag, line, col, "%s (quote a command "
			               "that contains ': ')", problem);
		if (p->context)
			return al_diag(b->diag, line, col, "%s (%s at %zu:%zu)",
			               problem, p->context,
			               p->context_mark.line + 1,
			               p->context_mark.column + 1);
		return al_diag(b->diag, line, col, "%s", problem);
	}
}

static int new_node(struct builder *b, const yaml_event_t *e, int type,
                    uint32_t *id)
{
	struct al_ydoc *d = b->d;
	struct al_ynode *n;

	if (d->n_nodes >= AL_YNONE)
		return al_diag(b->diag, (int)e->start_mark.line + 1,
		               (int)e->start_mark.column + 1, "too many nodes");
	n = grow(d->nodes, &d->cap_nodes, d->n_nodes + 1, sizeof *n);
	if (!n)
		return -ENOMEM;
	d->nodes = n;
	*id = (uint32_t)d->n_nodes++;
	n = &d->nodes[*id];
	memset(n, 0, sizeof *n);
	n->type = (uint8_t)type;
	n->line = (uint32_t)e->start_mark.line + 1;
	n->col = (uint32_t)e->start_mark.column + 1;
	n->size = 1;
	n->depth = 1;
	return 0;
}

/* Gives node to the innermost open collection, or makes it the root. */
static int attach(struct builder *b, uint32_t node)
{
	uint32_t *p;

	if (!b->depth) {
		b->d->root = node;
		return 0;
	}
	p = grow(b->pending, &b->cap_pending, b->n_pending + 1, sizeof *p);
	if (!p)
		return -ENOMEM;
	b->pending = p;
	b->pending[b->n_pending++] = node;
	return 0;
}

static int anchor(struct builder *b, const yaml_char_t *name, uint32_t node)
{
	struct al_strslot *s;
	char *copy;

	if (!name)
		return 0;
	/* The map borrows its keys and libyaml frees the event's, so the
	 * map's keys are copies, freed with it. */
	copy = strdup((const char *)name);
	if (!copy)
		return -ENOMEM;
	s = al_strmap_add(&b->anchors, copy, strlen(copy));
	if (!s) {
		free(copy);
		return -ENOMEM;
	}
	if (s->key != copy)
		free(copy);
	s->val = node; /* a later anchor of the same name wins */
	return 0;
}

static int scalar(struct builder *b, const yaml_event_t *e)
{
	struct al_ydoc *d = b->d;
	size_t len = e->data.scalar.length;
	uint32_t id;
	char *text;
	int r;

	/* Offsets are 32 bits, to keep nodes small in a big file. */
	if (len >= UINT32_MAX - d->n_text)
		return al_diag(b->diag, (int)e->start_mark.line + 1,
		               (int)e->start_mark.column + 1,
		               "document too large");
	r = new_node(b, e, AL_YSCALAR, &id);
	if (r)
		return r;
	text = grow(d->text, &d->cap_text, d->n_text + len + 1, 1);
	if (!text)
		return -ENOMEM;
	d->text = text;
	d->nodes[id].off = (uint32_t)d->n_text;
	d->nodes[id].n = (uint32_t)len;
	memcpy(d->text + d->n_text, e->data.scalar.value, len);
	d->text[d->n_text + len] = '\0';
	d->n_text += len + 1;
	if (e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    !e->data.scalar.tag)
		d->nodes[id].flags |= AL_YPLAIN;
	r = anchor(b, e->data.scalar.anchor, id);
	return r ? r : attach(b, id);
}

static int open_collection(struct builder *b, const yaml_event_t *e, int type,
                           const yaml_char_t *name)
{
	uint32_t id;
	int r;

	/* Refused before libyaml reads further: its scanner slows down
	 * quadratically with the nesting depth. */
	if (b->depth == AL_YAML_MAX_DEPTH)
		return al_diag(b->diag, (int)e->start_mark.line + 1,
		               (int)e->start_mark.column + 1,
		               "nesting too deep (more than %d levels)",
		               AL_YAML_MAX_DEPTH);
	r = new_node(b, e, type, &id);
	if (r)
		return r;
	b->d->nodes[id].flags |= AL_YOPEN;
	r = anchor(b, name, id);
	if (r)
		return r;
	b->stack[b->depth].node = id;
	b->stack[b->depth].kid0 = b->n_pending;
	b->depth++;
	return 0;
}

static int close_collection(struct builder *b)
{
	struct al_ydoc *d = b->d;
	struct frame *f = &b->stack[--b->depth];
	size_t k = b->n_pending - f->kid0;
	struct al_ynode *n = &d->nodes[f->node];
	uint64_t size = 1;
	unsigned depth = 0;
	uint32_t *kids;

	if (k >= UINT32_MAX - d->n_kids)
		return al_diag(b->diag, (int)n->line, (int)n->col,
		               "document too large");
	kids = grow(d->kids, &d->cap_kids, d->n_kids + k, sizeof *kids);
	if (!kids)
		return -ENOMEM;
	d->kids = kids;
	if (k) /* an empty collection may have nothing pending at all */
		memcpy(d->kids + d->n_kids, b->pending + f->kid0,
		       k * sizeof *d->kids);
	n->off = (uint32_t)d->n_kids;
	n->n = (uint32_t)k;
	d->n_kids += k;
	b->n_pending = f->kid0;
	for (size_t i = 0; i < k; i++) {
		const struct al_ynode *kid = &d->nodes[d->kids[n->off + i]];

		size += kid->size;
		if (kid->depth > depth)
			depth = kid->depth;
	}
	n->size = size < UINT32_MAX ? (uint32_t)size : UINT32_MAX;
	n->depth = (uint16_t)(depth + 1);
	n->flags &= ~AL_YOPEN;
	if (n->depth > AL_YAML_MAX_DEPTH)
		return al_diag(b->diag, (int)n->line, (int)n->col,
		               "nesting too deep through aliases (more than %d "
		               "levels)", AL_YAML_MAX_DEPTH);
	return attach(b, f->node);
}

static int alias(struct builder *b, const yaml_event_t *e)
{
	const char *name = (const char *)e->data.alias.anchor;
	size_t id = al_strmap_get(&b->anchors, name, strlen(name));
	int line = (int)e->start_mark.line + 1;
	int col = (int)e->start_mark.column + 1;
	char q[64];

	if (id == SIZE_MAX)
		return al_diag(b->diag, line, col, "undefined alias '*%s'",
		               al_yquote(name, q, sizeof q));
	/* Anchors are registered when their node opens, so this would be a
	 * node inside itself. */
	if (b->d->nodes[id].flags & AL_YOPEN)
		return al_diag(b->diag, line, col,
		               "alias '*%s' is inside the node it refers to",
		               al_yquote(name, q, sizeof q));
	if (b->d->nodes[id].size > b->big_alias_size) {
		b->big_alias_size = b->d->nodes[id].size;
		b->big_alias_line = (uint32_t)line;
		b->big_alias_col = (uint32_t)col;
	}
	return attach(b, (uint32_t)id);
}

static int event(struct builder *b, const yaml_event_t *e)
{
	switch (e->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (b->had_doc)
			return al_diag(b->diag, (int)e->start_mark.line + 1,
			               (int)e->start_mark.column + 1,
			               "more than one document (only one is "
			               "allowed)");
		b->had_doc = true;
		return 0;
	case YAML_SCALAR_EVENT:
		return scalar(b, e);
	case YAML_ALIAS_EVENT:
		return alias(b, e);
	case YAML_SEQUENCE_START_EVENT:
		return open_collection(b, e, AL_YSEQ,
		                       e->data.sequence_start.anchor);
	case YAML_MAPPING_START_EVENT:
		return open_collection(b, e, AL_YMAP,
		                       e->data.mapping_start.anchor);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return close_collection(b);
	default:
		return 0;
	}
}

int al_ydoc_load(struct al_ydoc *doc, const char *buf, size_t len,
                 struct alloter_diag *diag)
{
	struct builder b = {.d = doc, .diag = diag, .buf = buf, .len = len};
	yaml_parser_t p;
	yaml_event_t e;
	uint64_t limit;
	int r = 0;
	bool end = false;

	doc->root = AL_YNONE;
	if (!yaml_parser_initialize(&p))
		return -ENOMEM;
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	while (!r && !end) {
		if (!yaml_parser_parse(&p, &e)) {
			r = yaml_error(&b, &p);
			break;
		}
		end = e.type == YAML_STREAM_END_EVENT;
		r = event(&b, &e);
		yaml_event_delete(&e);
	}
	yaml_parser_delete(&p);
	/* The whole document is read, so the limit can grow with it: a big
	 * file that shares a few anchors is no bomb. */
	limit = (uint64_t)doc->n_nodes * EXPAND_RATIO;
	if (limit < EXPAND_MIN)
		limit = EXPAND_MIN;
	if (!r && doc->root != AL_YNONE && doc->nodes[doc->root].size > limit)
		r = al_diag(diag, (int)b.big_alias_line, (int)b.big_alias_col,
		            "aliases expand the document to more than %llu "
		            "nodes", (unsigned long long)limit);
	if (r == -ENOMEM)
		al_diag(diag, 0, 0, "out of memory");
	for (size_t i = 0; i < b.anchors.cap; i++)
		free((char *)b.anchors.slots[i].key);
	al_strmap_free(&b.anchors);
	free(b.pending);
	if (r)
		al_ydoc_free(doc);
	return r;
}

static bool is_merge(const struct al_ydoc *d, uint32_t key)
{
	const struct al_ynode *k = al_ynode(d, key);

	return k->type == AL_YSCALAR && (k->flags & AL_YPLAIN) &&
	       !strcmp(al_ytext(d, key), "<<");
}

static int bad_merge(const struct al_ynode *n, struct alloter_diag *diag)
{
	return al_diag(diag, (int)n->line, (int)n->col,
	               "<<: expected a mapping or a list of mappings to merge");
}

struct pairs {
	struct al_ypair *v;
	size_t n, cap;
};

/* Appends the pairs of map, then those of the mappings it merges.  The
 * recursion is bounded by the document's expanded depth. */
static int collect(const struct al_ydoc *d, uint32_t map, struct pairs *out,
                   struct alloter_diag *diag)
{
	const struct al_ynode *m = al_ynode(d, map);
	struct al_ypair *p;
	char buf[80];
	int r;

	for (size_t i = 0; i < m->n; i += 2) {
		uint32_t k = al_ykid(d, map, i);

		if (al_ynode(d, k)->type != AL_YSCALAR)
			return al_diag(diag, (int)al_ynode(d, k)->line,
			               (int)al_ynode(d, k)->col,
			               "expected a name as key, got %s",
			               al_ydescribe(d, k, buf, sizeof buf));
		if (is_merge(d, k))
			continue;
		p = grow(out->v, &out->cap, out->n + 1, sizeof *p);
		if (!p)
			return -ENOMEM;
		out->v = p;
		out->v[out->n].key = k;
		out->v[out->n++].value = al_ykid(d, map, i + 1);
	}
	for (size_t i = 0; i < m->n; i += 2) {
		uint32_t v = al_ykid(d, map, i + 1);
		const struct al_ynode *vn = al_ynode(d, v);

		if (!is_merge(d, al_ykid(d, map, i)))
			continue;
		if (vn->type == AL_YMAP) {
			r = collect(d, v, out, diag);
			if (r)
				return r;
			continue;
		}
		if (vn->type != AL_YSEQ)
			return bad_merge(vn, diag);
		for (size_t j = 0; j < vn->n; j++) {
			uint32_t item = al_ykid(d, v, j);

			if (al_ynode(d, item)->type != AL_YMAP)
				return bad_merge(al_ynode(d, item), diag);
			r = collect(d, item, out, diag);
			if (r)
				return r;
		}
	}
	return 0;
}

int al_ymap_pairs(const struct al_ydoc *d, uint32_t id, struct al_ypair **out,
                  size_t *n, struct alloter_diag *diag)
{
	struct pairs p = {0};
	struct al_strmap seen = {0};
	size_t own = 0, kept = 0;
	int r;

	*out = NULL;
	*n = 0;
	r = collect(d, id, &p, diag);
	if (r)
		goto fail;
	for (size_t i = 0; i < al_ynode(d, id)->n; i += 2)
		own += !is_merge(d, al_ykid(d, id, i));
	if (own == p.n) { /* nothing merged */
		*out = p.v;
		*n = p.n;
		return 0;
	}
	/* Earlier pairs win: the mapping's own over merged ones, and merged
	 * ones in the order they were listed. */
	for (size_t i = 0; i < p.n; i++) {
		uint32_t k = p.v[i].key;
		struct al_strslot *s = al_strmap_add(&seen, al_ytext(d, k),
		                                     al_ynode(d, k)->n);

		if (!s) {
			r = -ENOMEM;
			goto fail;
		}
		if (s->val != SIZE_MAX && i >= own)
			continue;
		s->val = i;
		p.v[kept++] = p.v[i];
	}
	al_strmap_free(&seen);
	*out = p.v;
	*n = kept;
	return 0;
fail:
	al_strmap_free(&seen);
	free(p.v);
	return r;
}
