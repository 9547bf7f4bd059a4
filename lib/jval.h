/*
 * A parsed JSON document: one line of NDJSON as a tree of jval nodes.
 *
 * Strings and numbers are not NUL-terminated: they may point into the
 * parsed line itself, so always use len (or jval_streq).
 *
 * The parser is yajl's SAX interface building nodes in an arena that is
 * rewound for every document, so memory depends on the largest record,
 * never on the input size.  Strings are unescaped; numbers keep the text
 * they arrived as.  Members keep their order, and duplicate keys are all
 * kept: the last of a name wins (jval_get returns it, jval_member skips
 * the others).
 *
 * The text is JSON as RFC 8259 says, checked where yajl is looser: strings
 * are UTF-8 without overlong forms, surrogates or code points past
 * U+10FFFF (jval_utf8_ok), a \u escape of a surrogate is a high one
 * followed by a low one, and whitespace is space, tab, LF and CR only
 * (jval_text_check).  "\u0000" is kept: a string's length counts it.
 */
#ifndef JVAL_H
#define JVAL_H

#include <stddef.h>

#include "liberr.h"

struct jbuf;

enum jval_type {
	JV_NULL, JV_FALSE, JV_TRUE, JV_NUMBER, JV_STRING, JV_OBJECT, JV_ARRAY
};

struct jval {
	const char	*key;		/* member name inside an object, else NULL */
	size_t		 keylen;
	const char	*str;		/* string bytes or number text */
	size_t		 len;		/* their length; members of a container */
	struct jval	*child;		/* first member */
	struct jval	*next;		/* next sibling */
	unsigned char	 type;		/* enum jval_type */
	unsigned char	 elided;	/* container whose members were not kept */
	unsigned char	 plain;		/* a string as it was written: no escapes */
	unsigned char	 dups;		/* an object that repeats a key */
	unsigned char	 shadowed;	/* a member a later one of its name overrides */
};

/* Nesting deeper than this is rejected as bad data (no stack overflow). */
#define JVAL_MAX_DEPTH	1024
/* keep_depth for jval_parse: keep the whole tree. */
#define JVAL_KEEP_ALL	(-1)

struct jval_parser;

/*
 * A parser whose arena never grows past arena_limit bytes; a document that
 * needs more is rejected with EX_DATAERR.  jval_parser_free(NULL) is a no-op.
 */
struct jval_parser *jval_parser_new(size_t arena_limit);
void	jval_parser_free(struct jval_parser *);

/* Forget every document parsed so far and reuse their memory. */
void	jval_parser_rewind(struct jval_parser *);

/*
 * Parse exactly one JSON value from buf; the documents parsed before stay
 * valid until jval_parser_rewind.  arena_limit bounds each document.  Nodes deeper than keep_depth
 * (the root is depth 0) are validated but not kept; a container at
 * keep_depth is marked elided.  Returns the root, valid until the next
 * rewind, or NULL with e set (EX_DATAERR, message without a location).
 * The text in buf must outlive the document: strings may point into it.
 */
const struct jval *jval_parse(struct jval_parser *, const char *buf,
	    size_t len, int keep_depth, struct lib_err *e);

/* The value of the four hex digits at s (a \\u escape's), or -1. */
int	jval_hex4(const unsigned char *s);

/*
 * A copy of the tree at v in one block of memory that outlives its parser
 * (free() releases it); *size is set to the block's size.  The copy's
 * root has no siblings.
 */
struct jval *jval_clone(const struct jval *v, size_t *size);

/* The last member named key (a NUL-terminated name), or NULL. */
const struct jval *jval_get(const struct jval *obj, const char *key);
/* The last member whose name is the n bytes at key, or NULL. */
const struct jval *jval_getn(const struct jval *obj, const char *key,
	    size_t n);
/* 1 if v is a string equal to the NUL-terminated lit. */
int	jval_streq(const struct jval *v, const char *lit);
/*
 * The value at a dotted path: object members by name, array elements by
 * index ("data.items", ".links.next", "a.0.b"); NULL when there is none.
 */
const struct jval *jval_path(const struct jval *v, const char *dotted);
/*
 * The members of obj that count, in order: the first is jval_member(obj,
 * NULL), the next jval_member(obj, m).  A name that occurs more than once
 * counts once, at its last place, with its last value (last one wins), the
 * rule of every program; NULL at the end or when obj is no object.  The
 * parser marks the members overridden, so this costs no more than the
 * member list.
 */
static inline const struct jval *
jval_member(const struct jval *obj, const struct jval *m)
{
	if (m != NULL)
		m = m->next;
	else if (obj != NULL && obj->type == JV_OBJECT)
		m = obj->child;
	while (m != NULL && m->shadowed)
		m = m->next;
	return m;
}

/*
 * 1 if the n bytes of a decoded string (or a CSV field) are UTF-8 without
 * overlong forms, surrogates or code points past U+10FFFF: the one rule of
 * every reader.  ASCII is checked eight bytes at a time.
 */
int	jval_utf8_ok(const char *s, size_t n);

/*
 * The rules of JSON text that yajl does not apply, checked on the raw text
 * (which may come in pieces: state carries an escape cut between them):
 * no form feed or vertical tab (yajl takes them as whitespace, and inside
 * a string they are control characters JSON forbids), and every \u escape
 * of a UTF-16 surrogate is a high one directly followed by a low one (yajl
 * would turn the others into '?' or a wrong character).  Only backslashes
 * are looked at closely, so the check costs little.  0, or -1 with *why
 * and *at (the offset in this piece of the offending byte).
 */
struct jval_text {
	unsigned char	 state;
	unsigned char	 digits;	/* hex digits of the escape read */
	unsigned int	 unit;		/* their value */
};
#define JVAL_TEXT_INIT	{ 0, 0, 0 }
int	jval_text_check(struct jval_text *, const char *s, size_t n,
	    const char **why, size_t *at);

/* 1 if the n bytes at s are exactly one JSON number ("007" is not). */
int	jval_is_number(const char *s, size_t n);

/*
 * How many of the n bytes at s make the longest JSON number they start
 * with: 0 if none ("-", "x"); 1 for "007", whose "0" is a number and
 * whose next "0" cannot follow one.  Inline, for the readers that meet a
 * number at every other value.
 */
static inline size_t
jval_number_len(const char *s, size_t n)
{
	size_t i = 0, at;

	if (i < n && s[i] == '-')
		i++;
	if (i == n || s[i] < '0' || s[i] > '9')
		return 0;
	/* No leading zeros: an integer part is "0" or starts with 1-9. */
	if (s[i++] != '0')
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	if (i + 1 < n && s[i] == '.' && s[i + 1] >= '0' && s[i + 1] <= '9')
		for (i += 2; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		at = i + 1;
		if (at < n && (s[at] == '+' || s[at] == '-'))
			at++;
		if (at < n && s[at] >= '0' && s[at] <= '9') {
			for (i = at + 1; i < n && s[i] >= '0' && s[i] <= '9'; i++)
				;
		}
	}
	return i;
}
/* How many levels a dotted path goes down ("a.b": 2); 0 for NULL. */
int	jval_path_depth(const char *dotted);
/* 1 and *out if v is an integer literal that fits in 64 bits, else 0. */
int	jval_int64(const struct jval *v, long long *out);
/* The number v as the nearest double (correctly rounded). */
double	jval_double(const struct jval *v);
/* 1 if v is an integer literal that fits in 64 bits; cheaper than jval_int64. */
int	jval_fits_int64(const struct jval *v);

/*
 * The JSON writer of a parsed value: any value, compact, appended to b.
 * Numbers are written as the text they arrived as, so a 64-bit id or a
 * long decimal is never rounded through a double.  (Here, not in jbuf:
 * jbuf does not depend on jval.)
 */
void	jval_write(struct jbuf *b, const struct jval *v);
/*
 * A value as canonical JSON: object members sorted by name, so that the
 * same data in another order writes the same.  At the top level (top),
 * sluice's own members and nulls are left out: a null column and a
 * missing one are the same row.  sqlite-load's SCD2 row hash (a persisted
 * format) and dedup-merge --diff judge rows by it: never change it.
 */
void	jval_write_canonical(struct jbuf *b, const struct jval *v, int top);

#endif
