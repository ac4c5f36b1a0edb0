/*
 * template.h - command templates: a command with replacement strings ({},
 * {.}, {1/}, {#}, {%}, ...) that becomes one command per set of arguments,
 * each argument reaching the command as exactly one word.
 */
#ifndef CMD_TEMPLATE_H
#define CMD_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

/* What is done to an argument before it goes in: {}, {.}, {/}, {//}, {/.} */
enum tpl_op { TPL_WHOLE, TPL_NOEXT, TPL_BASE, TPL_DIR, TPL_BASE_NOEXT };

enum tpl_kind {
	TPL_TEXT,  /* the template's own text */
	TPL_ALL,   /* every argument of the task, separated by spaces */
	TPL_POS,   /* the pos-th argument ({N}) */
	TPL_SEQ,   /* {#}: the task's sequence number */
	TPL_SLOT,  /* {%}: the slot it runs in */
};

struct tpl_piece {
	enum tpl_kind kind;
	enum tpl_op op;
	unsigned pos;        /* TPL_POS: 1-based */
	size_t off, len;     /* TPL_TEXT: where in the text */
};

struct template {
	char *text;
	struct tpl_piece *piece;
	size_t n;
	bool empty;          /* no text at all: the arguments are the command */
	bool direct;         /* plain words: argv is built without a shell */
	bool uses_slot;      /* {%}: each attempt has its own command */
	bool has_all;        /* {} or one of its forms */
	unsigned max_pos;    /* the highest N of {N} */
};

/* One task's arguments, and where it runs. */
struct tpl_args {
	char *const *v;
	size_t n;
	size_t seq;          /* {#} */
	unsigned slot;       /* {%} */
};

/* Whether text holds a replacement string; replace is what stands for the
 * whole argument ("{}", or -I's string). */
bool template_has_replacement(const char *text, const char *replace);
/* Compiles text.  A command's (command true) without a replacement string
 * gets " {}" (or " REPLACE") appended, and an empty one stays empty: its
 * arguments are the command.  Returns 0 or -ENOMEM. */
int template_compile(struct template *t, const char *text,
                     const char *replace, bool command);
void template_free(struct template *t);

/* The command for a's arguments, each quoted for /bin/sh where it needs it
 * (quote), or put in as it is (for a tag, or an empty template).  Returns 0
 * with *out malloc'd, or -ENOMEM. */
int template_command(const struct template *t, const struct tpl_args *a,
                     bool quote, char **out);
/* For a direct template: the words of the command, built without a shell,
 * the same words the shell makes of template_command's quoted form.
 * Returns 0 with *argv one malloc'd block (free(*argv) frees all), or
 * -ENOMEM. */
int template_argv(const struct template *t, const struct tpl_args *a,
                  char ***argv);

#endif
