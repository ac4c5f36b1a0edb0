/*
 * template.c - command templates.  An argument goes into a command as one
 * word whatever bytes it holds: quoted for /bin/sh when the command needs
 * the shell, or as an argv entry of its own when the template is made of
 * plain words and runs without one.  Path operations ({.}, {/}, {//}) work
 * on the string alone, as GNU parallel's do.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloter.h"
#include "template.h"

/* A growing string; every function here that appends returns 0 or
 * -ENOMEM. */
struct buf {
	char *p;
	size_t len, cap;
};

static int put(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		if (!(p = realloc(b->p, cap)))
			return -ENOMEM;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

/* The value as one word for /bin/sh. */
static int quote(struct buf *b, const char *s, size_t n)
{
	char *q;
	int err = alloter_shell_quote(s, n, &q);

	if (!err) {
		err = put(b, q, strlen(q));
		free(q);
	}
	return err;
}

/* The extension is from the last '.' of the base name to the end, unless
 * that '.' begins the name: ".bashrc" has none (GNU parallel's {.} makes it
 * empty). */
static size_t without_ext(const char *s, size_t n)
{
	size_t base = n;

	while (base > 0 && s[base - 1] != '/')
		base--;
	for (size_t i = n; i > base; i--)
		if (s[i - 1] == '.')
			return i - 1 > base ? i - 1 : n;
	return n;
}

/* Applies op to the argument s: the result is a piece of s, or "." or "/",
 * in *out and *n. */
static void apply(enum tpl_op op, const char *s, const char **out, size_t *n)
{
	size_t len = strlen(s), i;
	const char *slash;

	*out = s;
	*n = len;
	switch (op) {
	case TPL_WHOLE:
		return;
	case TPL_NOEXT:
		*n = without_ext(s, len);
		return;
	case TPL_BASE:
	case TPL_BASE_NOEXT:
		if ((slash = strrchr(s, '/')))
			*out = slash + 1;
		*n = len - (size_t)(*out - s);
		if (op == TPL_BASE_NOEXT)
			*n = without_ext(*out, *n);
		return;
	case TPL_DIR:
		/* dirname(1): drop trailing slashes, the last name, and the
		 * slashes before it. */
		i = len;
		while (i > 0 && s[i - 1] == '/')
			i--;
		if (i == 0) {
			*out = len ? "/" : ".";
			*n = 1;
			return;
		}
		while (i > 0 && s[i - 1] != '/')
			i--;
		if (i == 0) {
			*out = ".";
			*n = 1;
			return;
		}
		while (i > 0 && s[i - 1] == '/')
			i--;
		if (i == 0) {
			*out = "/";
			i = 1;
		}
		*n = i;
		return;
	}
}

/* The replacement string at s, if there is one: its length, and *p filled
 * in; else 0.  replace stands for the whole argument: "{}", or -I's. */
static size_t match(const char *s, const char *replace, struct tpl_piece *p)
{
	static const struct {
		const char *text;
		enum tpl_kind kind;
		enum tpl_op op;
	} fixed[] = {
		{"{.}", TPL_ALL, TPL_NOEXT},  {"{/}", TPL_ALL, TPL_BASE},
		{"{//}", TPL_ALL, TPL_DIR},   {"{/.}", TPL_ALL, TPL_BASE_NOEXT},
		{"{#}", TPL_SEQ, TPL_WHOLE},  {"{%}", TPL_SLOT, TPL_WHOLE},
	};
	static const struct {
		const char *text;
		enum tpl_op op;
	} ops[] = {
		{"}", TPL_WHOLE}, {".}", TPL_NOEXT}, {"/}", TPL_BASE},
		{"//}", TPL_DIR}, {"/.}", TPL_BASE_NOEXT},
	};
	size_t rl = strlen(replace), i = 1;
	unsigned long pos = 0;

	*p = (struct tpl_piece){.kind = TPL_ALL};
	if (rl && strncmp(s, replace, rl) == 0)
		return rl;
	if (*s != '{')
		return 0;
	for (size_t k = 0; k < sizeof fixed / sizeof *fixed; k++)
		if (strncmp(s, fixed[k].text, strlen(fixed[k].text)) == 0) {
			p->kind = fixed[k].kind;
			p->op = fixed[k].op;
			return strlen(fixed[k].text);
		}
	/* {N} and its forms: N from 1, at most 9 digits. */
	if (s[1] < '1' || s[1] > '9')
		return 0;
	for (; s[i] >= '0' && s[i] <= '9' && i < 10; i++)
		pos = pos * 10 + (unsigned long)(s[i] - '0');
	for (size_t k = 0; k < sizeof ops / sizeof *ops; k++)
		if (strncmp(s + i, ops[k].text, strlen(ops[k].text)) == 0) {
			p->kind = TPL_POS;
			p->op = ops[k].op;
			p->pos = (unsigned)pos;
			return i + strlen(ops[k].text);
		}
	return 0;
}

bool template_has_replacement(const char *text, const char *replace)
{
	struct tpl_piece p;

	for (; *text; text++)
		if (match(text, replace, &p))
			return true;
	return false;
}

static int add_piece(struct template *t, struct tpl_piece p, size_t *cap)
{
	if (t->n == *cap) {
		size_t c = *cap ? *cap * 2 : 8;
		struct tpl_piece *v = realloc(t->piece, c * sizeof *v);

		if (!v)
			return -ENOMEM;
		t->piece = v;
		*cap = c;
	}
	t->piece[t->n++] = p;
	return 0;
}

/* Direct exec when the template with each replacement string as a plain
 * word would run without a shell, and the command's own name is fixed (an
 * argument there could name a builtin or a keyword). */
static int decide_direct(struct template *t)
{
	struct buf probe = {0};
	size_t first_end;
	char **words;
	int err = 0;

	first_end = strspn(t->text, " \t");
	first_end += strcspn(t->text + first_end, " \t");
	for (size_t k = 0; !err && k < t->n; k++) {
		const struct tpl_piece *p = &t->piece[k];

		if (p->kind != TPL_TEXT) {
			if (p->off < first_end)
				goto out;
			err = put(&probe, "x", 1);
		} else {
			err = put(&probe, t->text + p->off, p->len);
		}
	}
	if (!err && !(err = alloter_command_words(probe.p, &words))) {
		t->direct = words != NULL;
		free(words);
	}
out:
	free(probe.p);
	return err;
}

int template_compile(struct template *t, const char *text,
                     const char *replace, bool command)
{
	size_t cap = 0, lit = 0, i = 0, n;
	struct tpl_piece p;
	int err = 0;

	*t = (struct template){0};
	t->empty = command && text[strspn(text, " \t")] == '\0';
	if (t->empty)
		return (t->text = strdup("")) ? 0 : -ENOMEM;
	if (!command || template_has_replacement(text, replace))
		t->text = strdup(text);
	else if (asprintf(&t->text, "%s %s", text, replace) < 0)
		t->text = NULL;
	if (!t->text)
		return -ENOMEM;
	while (!err && t->text[i]) {
		if (!(n = match(t->text + i, replace, &p))) {
			i++;
			continue;
		}
		if (i > lit)
			err = add_piece(t, (struct tpl_piece){.kind = TPL_TEXT,
			                                       .off = lit,
			                                       .len = i - lit},
			                &cap);
		p.off = i;
		t->uses_slot |= p.kind == TPL_SLOT;
		t->has_all |= p.kind == TPL_ALL;
		if (p.kind == TPL_POS && p.pos > t->max_pos)
			t->max_pos = p.pos;
		if (!err)
			err = add_piece(t, p, &cap);
		i += n;
		lit = i;
	}
	if (!err && i > lit)
		err = add_piece(t, (struct tpl_piece){.kind = TPL_TEXT,
		                                       .off = lit,
		                                       .len = i - lit},
		                &cap);
	if (!err)
		err = decide_direct(t);
	if (err)
		template_free(t);
	return err;
}

void template_free(struct template *t)
{
	free(t->text);
	free(t->piece);
	*t = (struct template){0};
}

/* How a value goes in: quoted for the shell, as it is, or as argv words
 * (where a space between two values ends a word). */
enum how { QUOTED, RAW, WORDS };

struct out {
	struct buf b;
	enum how how;
	size_t words;        /* WORDS: how many ended so far */
	bool in_word;
};

static int word_break(struct out *o)
{
	if (!o->in_word)
		return 0;
	o->in_word = false;
	o->words++;
	return put(&o->b, "", 1); /* the NUL that ends the word */
}

static int value(struct out *o, const char *s, size_t n)
{
	if (o->how == QUOTED)
		return quote(&o->b, s, n);
	o->in_word = true;
	return put(&o->b, s, n);
}

static int text(struct out *o, const char *s, size_t n)
{
	int err = 0;

	if (o->how != WORDS)
		return put(&o->b, s, n);
	for (size_t i = 0; !err && i < n; i++) {
		if (s[i] == ' ' || s[i] == '\t') {
			err = word_break(o);
		} else {
			o->in_word = true;
			err = put(&o->b, s + i, 1);
		}
	}
	return err;
}

static int expand(const struct template *t, const struct tpl_args *a,
                  struct out *o)
{
	char num[24];
	const char *s;
	size_t n;
	int err = 0;

	if (t->empty) {
		for (size_t i = 0; !err && i < a->n; i++)
			err = (i ? put(&o->b, " ", 1) : 0) ||
			      put(&o->b, a->v[i], strlen(a->v[i]));
		return err ? -ENOMEM : 0;
	}
	for (size_t k = 0; !err && k < t->n; k++) {
		const struct tpl_piece *p = &t->piece[k];

		switch (p->kind) {
		case TPL_TEXT:
			err = text(o, t->text + p->off, p->len);
			break;
		case TPL_ALL:
			for (size_t i = 0; !err && i < a->n; i++) {
				if (i)
					err = o->how == WORDS
					              ? word_break(o)
					              : put(&o->b, " ", 1);
				apply(p->op, a->v[i], &s, &n);
				if (!err)
					err = value(o, s, n);
			}
			break;
		case TPL_POS:
			apply(p->op, p->pos <= a->n ? a->v[p->pos - 1] : "", &s,
			      &n);
			err = value(o, s, n);
			break;
		case TPL_SEQ:
		case TPL_SLOT:
			n = (size_t)snprintf(num, sizeof num, "%zu",
			                     p->kind == TPL_SEQ ? a->seq
			                                        : (size_t)a->slot);
			err = value(o, num, n);
			break;
		}
	}
	return err;
}

int template_command(const struct template *t, const struct tpl_args *a,
                     bool quote_values, char **out)
{
	struct out o = {.how = quote_values ? QUOTED : RAW};
	int err = expand(t, a, &o);

	if (!err && !o.b.p)
		err = put(&o.b, "", 0);
	if (err) {
		free(o.b.p);
		return err;
	}
	*out = o.b.p;
	return 0;
}

int template_argv(const struct template *t, const struct tpl_args *a,
                  char ***argv)
{
	struct out o = {.how = WORDS};
	char **v, *s;
	int err = expand(t, a, &o);

	if (!err)
		err = word_break(&o);
	if (err) {
		free(o.b.p);
		return err;
	}
	/* One block: the pointers, then the words, NUL-separated. */
	if (!(v = malloc((o.words + 1) * sizeof *v + o.b.len + 1))) {
		free(o.b.p);
		return -ENOMEM;
	}
	s = memcpy((char *)(v + o.words + 1), o.b.p ? o.b.p : "", o.b.len);
	for (size_t k = 0; k < o.words; k++) {
		v[k] = s;
		s += strlen(s) + 1;
	}
	v[o.words] = NULL;
	free(o.b.p);
	*argv = v;
	return 0;
}
