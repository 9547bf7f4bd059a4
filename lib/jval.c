#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "exitcodes.h"
#include "jbuf.h"
#include "jval.h"
#include "keytab.h"
#include "xalloc.h"

#define CHUNK_MIN	((size_t)64 * 1024)

struct chunk {
	struct chunk	*next;
	size_t		 size;
	size_t		 used;
	/* followed by size bytes, max_align_t-aligned */
};

struct jval_parser {
	yajl_handle	 yajl;
	struct chunk	*chunks;	/* the arena; the head is the current one */
	struct chunk	*spare;		/* rewound chunks waiting for reuse */
	size_t		 arena_used;
	size_t		 arena_limit;
	size_t		 doc_base;	/* arena_used when this document began */

	int		 keep_depth;
	int		 depth;		/* of the next value: the root is 0 */
	int		 done;		/* the root value is complete */
	int		 oom;
	int		 too_deep;
	int		 extra;		/* a second value on the line */
	int		 bad_utf8;	/* a string that yajl let through */
	struct jval	*root;
	struct jval	*stack[JVAL_MAX_DEPTH + 1];	/* open containers */
	struct jval	*last[JVAL_MAX_DEPTH + 1];	/* their last member */
	const unsigned char *buf;	/* the text being parsed */
	size_t		 buflen;
	const char	*key;		/* pending member name */
	size_t		 keylen;

	/* Repeated names in a wide object: a hash set of its members. */
	struct jval	**slots;
	size_t		 nslots;
	/*
	 * The names of the last wide object found without a repeat: records
	 * of a stream mostly have the same ones, and comparing them is
	 * cheaper than hashing.
	 */
	struct jbuf	 names;
	size_t		*namelen;
	size_t		 nnames;
	size_t		 namecap;
};

static void *
arena_alloc(struct jval_parser *p, size_t n)
{
	struct chunk *c = p->chunks;
	size_t size;

	n = (n + 15) & ~(size_t)15;
	if (c != NULL && c->size - c->used >= n) {
		p->arena_used += n;
		c->used += n;
		return (char *)c + ((sizeof(*c) + 15) & ~(size_t)15) + c->used - n;
	}
	{
		if (p->arena_used - p->doc_base + n > p->arena_limit) {
			p->oom = 1;
			return NULL;
		}
		if (p->spare != NULL && p->spare->size >= n) {
			c = p->spare;
			p->spare = c->next;
		} else {
			size = n > CHUNK_MIN ? n : CHUNK_MIN;
			if ((c = malloc(sizeof(*c) + 16 + size)) == NULL) {
				p->oom = 1;
				return NULL;
			}
			c->size = size;
		}
		c->used = 0;
		c->next = p->chunks;
		p->chunks = c;
	}
	p->arena_used += n;
	c->used += n;
	return (char *)c + ((sizeof(*c) + 15) & ~(size_t)15) + c->used - n;
}

void
jval_parser_rewind(struct jval_parser *p)
{
	struct chunk *c, *next;

	for (c = p->chunks; c != NULL; c = next) {
		next = c->next;
		c->next = p->spare;
		p->spare = c;
	}
	p->chunks = NULL;
	p->arena_used = p->doc_base = 0;
}

static void
chunks_free(struct chunk *c)
{
	struct chunk *next;

	for (; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
}

/*
 * yajl hands over strings without escapes as pointers into the text we
 * gave it, which lives as long as the document: keep those as they are,
 * and copy only what it decoded into its own buffer.
 */
static const char *
arena_strdup(struct jval_parser *p, const unsigned char *s, size_t n)
{
	char *d;

	if (s >= p->buf && s + n <= p->buf + p->buflen)
		return (const char *)s;
	if ((d = arena_alloc(p, n + 1)) == NULL)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

/* Add a value at the current depth; containers are then entered by the caller. */
static struct jval *
add(struct jval_parser *p, unsigned char type, const unsigned char *s,
    size_t n, int *skip)
{
	struct jval *v, *parent;

	*skip = 0;
	if (p->done) {
		p->extra = 1;
		return NULL;
	}
	if (p->keep_depth >= 0 && p->depth > p->keep_depth) {
		*skip = 1;
		return NULL;
	}
	if ((v = arena_alloc(p, sizeof(*v))) == NULL)
		return NULL;
	v->key = NULL;
	v->keylen = 0;
	v->str = NULL;
	v->len = 0;
	v->child = v->next = NULL;
	v->type = type;
	v->elided = 0;
	v->plain = 0;
	v->dups = 0;
	v->shadowed = 0;
	if (s != NULL) {
		if ((v->str = arena_strdup(p, s, n)) == NULL)
			return NULL;
		v->len = n;
		/* yajl passes strings without escapes in place. */
		v->plain = v->str == (const char *)s;
	}
	if (p->depth == 0) {
		p->root = v;
		return v;
	}
	parent = p->stack[p->depth - 1];
	if (parent->type == JV_OBJECT) {
		v->key = p->key;
		v->keylen = p->keylen;
	}
	if (parent->child == NULL)
		parent->child = v;
	else
		p->last[p->depth - 1]->next = v;
	p->last[p->depth - 1] = v;
	parent->len++;
	return v;
}

static int
scalar(void *ctx, unsigned char type, const unsigned char *s, size_t n)
{
	struct jval_parser *p = ctx;
	int skip;

	if (add(p, type, s, n, &skip) == NULL && !skip)
		return 0;
	if (p->depth == 0)
		p->done = 1;
	return 1;
}

static int
on_null(void *ctx)
{
	return scalar(ctx, JV_NULL, NULL, 0);
}

static int
on_boolean(void *ctx, int b)
{
	return scalar(ctx, b ? JV_TRUE : JV_FALSE, NULL, 0);
}

static int
on_number(void *ctx, const char *s, size_t n)
{
	return scalar(ctx, JV_NUMBER, (const unsigned char *)s, n);
}

/* 1 if all n bytes are ASCII, eight at a time. */
static int
ascii(const unsigned char *s, size_t n)
{
	uint64_t w, acc = 0;
	size_t i;

	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&w, s + i, 8);
		acc |= w;
	}
	for (; i < n; i++)
		acc |= s[i];
	return (acc & 0x8080808080808080ULL) == 0;
}

/* ASCII strings, nearly all of them, skip the full check. */
static inline int
valid_utf8(const unsigned char *s, size_t n)
{
	return ascii(s, n) || jbuf_utf8_valid((const char *)s, n);
}

int
jval_utf8_ok(const char *s, size_t n)
{
	return valid_utf8((const unsigned char *)s, n);
}

/* yajl lets overlong forms and UTF-8-encoded surrogates (CESU-8) through. */
static int
utf8_ok(struct jval_parser *p, const unsigned char *s, size_t n)
{
	if (valid_utf8(s, n))
		return 1;
	p->bad_utf8 = 1;
	return 0;
}

static int
on_string(void *ctx, const unsigned char *s, size_t n)
{
	if (!utf8_ok(ctx, s, n))
		return 0;
	return scalar(ctx, JV_STRING, s, n);
}

static int
open_container(void *ctx, unsigned char type)
{
	struct jval_parser *p = ctx;
	struct jval *v;
	int skip;

	if ((v = add(p, type, NULL, 0, &skip)) == NULL && !skip)
		return 0;
	if (p->depth >= JVAL_MAX_DEPTH) {
		p->too_deep = 1;
		return 0;
	}
	if (v != NULL && p->keep_depth >= 0 && p->depth == p->keep_depth)
		v->elided = 1;
	p->stack[p->depth] = v;
	p->last[p->depth] = NULL;
	p->depth++;
	return 1;
}

/*
 * memcmp(a, b, n) == 0 without a call for the short names of records:
 * two overlapping loads from each side cover 4 to 16 bytes.
 */
static inline int
same_bytes(const char *a, const char *b, size_t n)
{
	uint64_t a8, b8, c8, d8;
	uint32_t a4, b4, c4, d4;

	if (n >= 8 && n <= 16) {
		memcpy(&a8, a, 8);
		memcpy(&b8, b, 8);
		memcpy(&c8, a + n - 8, 8);
		memcpy(&d8, b + n - 8, 8);
		return ((a8 ^ b8) | (c8 ^ d8)) == 0;
	}
	if (n >= 4 && n < 8) {
		memcpy(&a4, a, 4);
		memcpy(&b4, b, 4);
		memcpy(&c4, a + n - 4, 4);
		memcpy(&d4, b + n - 4, 4);
		return ((a4 ^ b4) | (c4 ^ d4)) == 0;
	}
	if (n < 4)
		return n == 0 || (a[0] == b[0] && a[n / 2] == b[n / 2] &&
		    a[n - 1] == b[n - 1]);
	return memcmp(a, b, n) == 0;
}

/* 1 if the names of obj are those remembered, in the same order. */
static int
same_names(const struct jval_parser *p, const struct jval *obj)
{
	const struct jval *m;
	const char *at = p->names.p;
	size_t i = 0;

	if (obj->len != p->nnames)
		return 0;
	for (m = obj->child; m != NULL; m = m->next, i++) {
		if (m->keylen != p->namelen[i] || !same_bytes(m->key, at, m->keylen))
			return 0;
		at += m->keylen;
	}
	return 1;
}

static void
remember_names(struct jval_parser *p, const struct jval *obj)
{
	const struct jval *m;
	size_t i = 0;

	if (obj->len > p->namecap) {
		free(p->namelen);
		p->namecap = obj->len;
		if ((p->namelen = malloc(p->namecap * sizeof(*p->namelen))) ==
		    NULL) {
			p->namecap = p->nnames = 0;
			return;
		}
	}
	jbuf_reset(&p->names);
	for (m = obj->child; m != NULL; m = m->next) {
		jbuf_put(&p->names, m->key, m->keylen);
		p->namelen[i++] = m->keylen;
	}
	p->nnames = i;
}

/*
 * Mark the members of obj that a later member of the same name overrides;
 * 1 if there is one, -1 out of memory.  Small objects compare names pair
 * by pair; wide ones are compared with the last wide object's names, and
 * only when they differ go through a hash set: time in proportion to the
 * width either way.  The set is a plain array of members, not a keytab:
 * the parser fails with -1 when memory runs out (its callers undo the
 * line), where keytab's growth exits; its hash is keytab's, seeded, so
 * that names chosen to collide cannot make a line quadratic.
 */
static int
mark_repeats(struct jval_parser *p, struct jval *obj)
{
	struct jval *a, *b, **slot;
	size_t need, mask, i;
	int any = 0;

	if (obj->len < 2)
		return 0;
	if (obj->len <= 16) {
		for (a = obj->child; a != NULL; a = a->next)
			for (b = a->next; b != NULL; b = b->next)
				if (a->keylen == b->keylen &&
				    memcmp(a->key, b->key, a->keylen) == 0) {
					a->shadowed = 1;
					any = 1;
					break;
				}
		return any;
	}
	if (same_names(p, obj))
		return 0;
	for (need = 64; need < obj->len * 2; need *= 2)
		;
	if (need > p->nslots) {
		free(p->slots);
		if ((p->slots = malloc(need * sizeof(struct jval *))) == NULL) {
			p->nslots = 0;
			return -1;
		}
		p->nslots = need;
	}
	memset(p->slots, 0, need * sizeof(struct jval *));
	mask = need - 1;
	for (b = obj->child; b != NULL; b = b->next) {
		i = (size_t)keytab_hash(b->key, b->keylen) & mask;
		for (slot = &p->slots[i]; *slot != NULL;
		    slot = &p->slots[i = (i + 1) & mask])
			if ((*slot)->keylen == b->keylen &&
			    memcmp((*slot)->key, b->key, b->keylen) == 0) {
				(*slot)->shadowed = 1;
				any = 1;
				break;
			}
		*slot = b;
	}
	if (!any)
		remember_names(p, obj);
	return any;
}

static int
close_container(void *ctx)
{
	struct jval_parser *p = ctx;
	struct jval *v = p->depth > 0 ? p->stack[p->depth - 1] : NULL;
	int rep;

	if (v != NULL && v->type == JV_OBJECT) {
		if ((rep = mark_repeats(p, v)) == -1) {
			p->oom = 1;
			return 0;
		}
		v->dups = (unsigned char)rep;
	}
	p->depth--;
	if (p->depth == 0)
		p->done = 1;
	return 1;
}

static int
on_start_map(void *ctx)
{
	return open_container(ctx, JV_OBJECT);
}

static int
on_start_array(void *ctx)
{
	return open_container(ctx, JV_ARRAY);
}

static int
on_map_key(void *ctx, const unsigned char *s, size_t n)
{
	struct jval_parser *p = ctx;

	if (!utf8_ok(p, s, n))
		return 0;
	if (p->keep_depth >= 0 && p->depth > p->keep_depth)
		return 1;
	if ((p->key = arena_strdup(p, s, n)) == NULL)
		return 0;
	p->keylen = n;
	return 1;
}

static const yajl_callbacks callbacks = {
	on_null, on_boolean, NULL, NULL, on_number, on_string,
	on_start_map, on_map_key, close_container,
	on_start_array, close_container
};

static int
new_handle(struct jval_parser *p)
{
	if (p->yajl != NULL)
		yajl_free(p->yajl);
	if ((p->yajl = yajl_alloc(&callbacks, NULL, p)) == NULL)
		return -1;
	/* One handle serves every line: values follow each other. */
	(void)yajl_config(p->yajl, yajl_allow_multiple_values, 1);
	return 0;
}

struct jval_parser *
jval_parser_new(size_t arena_limit)
{
	struct jval_parser *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->arena_limit = arena_limit;
	if (new_handle(p) == -1) {
		free(p);
		return NULL;
	}
	return p;
}

void
jval_parser_free(struct jval_parser *p)
{
	if (p == NULL)
		return;
	if (p->yajl != NULL)
		yajl_free(p->yajl);
	chunks_free(p->chunks);
	chunks_free(p->spare);
	free(p->slots);
	free(p->namelen);
	jbuf_free(&p->names);
	free(p);
}

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int
jval_hex4(const unsigned char *s)
{
	int a = hexval(s[0]), b = hexval(s[1]), c = hexval(s[2]),
	    d = hexval(s[3]);

	if ((a | b | c | d) < 0)
		return -1;
	return a << 12 | b << 8 | c << 4 | d;
}

/* The states of jval_text_check: where in an escape the text is. */
enum {
	TX_TEXT,	/* not in an escape */
	TX_BACKSLASH,	/* after a backslash */
	TX_HEX,		/* in the digits of \uXXXX */
	TX_LOW_BACKSLASH,	/* after a high surrogate: "\" must come */
	TX_LOW_U,	/* then "u" */
	TX_LOW_HEX	/* then the digits of a low surrogate */
};

int
jval_text_check(struct jval_text *t, const char *str, size_t n,
    const char **why, size_t *at)
{
	const unsigned char *s = (const unsigned char *)str;
	const unsigned char *bs;
	size_t i = 0, start;
	int h;

	/* Empty text, perhaps an empty buffer's NULL: nothing to judge. */
	if (n == 0)
		return 0;
	if ((bs = memchr(s, '\f', n)) != NULL || (bs = memchr(s, '\v', n)) !=
	    NULL) {
		*why = bs[0] == '\f' ? "a form feed (JSON has none outside "
		    "an escape)" : "a vertical tab (JSON has none outside an escape)";
		*at = (size_t)(bs - s);
		return -1;
	}
	while (i < n) {
		switch (t->state) {
		case TX_TEXT:
			/* Outside escapes only a backslash matters. */
			if ((bs = memchr(s + i, '\\', n - i)) == NULL)
				return 0;
			i = (size_t)(bs - s) + 1;
			t->state = TX_BACKSLASH;
			continue;
		case TX_BACKSLASH:
			/* Any other escape is yajl's to judge. */
			t->state = s[i++] == 'u' ? TX_HEX : TX_TEXT;
			t->digits = 0;
			t->unit = 0;
			continue;
		case TX_LOW_BACKSLASH:
		case TX_LOW_U:
			if (s[i] == (t->state == TX_LOW_BACKSLASH ? '\\' : 'u')) {
				i++;
				t->state++;
				t->digits = 0;
				t->unit = 0;
				continue;
			}
			*why = "a high surrogate escape without a low one after it";
			/* Where the high one began, in this piece. */
			start = t->state == TX_LOW_BACKSLASH ? 6 : 7;
			*at = i >= start ? i - start : 0;
			t->state = TX_TEXT;
			return -1;
		default:	/* TX_HEX, TX_LOW_HEX: four digits */
			if (t->digits == 0 && n - i >= 4) {
				/* The common case: all four are here. */
				h = jval_hex4(s + i);
				i += 4;
				t->digits = 4;
			} else if ((h = hexval(s[i])) >= 0) {
				i++;
				h |= (int)(t->unit << 4);
				t->digits++;
			}
			if (h < 0) {
				/* Not an escape: yajl says so. */
				t->state = TX_TEXT;
				continue;
			}
			t->unit = (unsigned int)h;
			if (t->digits < 4)
				continue;
			if (t->state == TX_LOW_HEX) {
				t->state = TX_TEXT;
				if (t->unit >= 0xdc00 && t->unit <= 0xdfff)
					continue;
				*why = "a high surrogate escape without a low one after it";
				*at = i >= 12 ? i - 12 : 0;
				return -1;
			}
			if (t->unit >= 0xdc00 && t->unit <= 0xdfff) {
				*why = "a low surrogate escape without a high one before it";
				*at = i >= 6 ? i - 6 : 0;
				t->state = TX_TEXT;
				return -1;
			}
			t->state = t->unit >= 0xd800 && t->unit <= 0xdbff ?
			    TX_LOW_BACKSLASH : TX_TEXT;
			continue;
		}
	}
	return 0;
}

/* yajl's message, on one line, without its trailing newline. */
static void
yajl_message(struct jval_parser *p, const char *buf, size_t len,
    struct lib_err *e)
{
	unsigned char *m;
	size_t at, n;

	at = yajl_get_bytes_consumed(p->yajl);
	m = yajl_get_error(p->yajl, 0, (const unsigned char *)buf, len);
	if (m == NULL) {
		(void)liberr_set(e, EX_DATAERR, "invalid JSON");
		return;
	}
	n = strlen((char *)m);
	while (n > 0 && (m[n - 1] == '\n' || m[n - 1] == ' ' || m[n - 1] == '.'))
		m[--n] = '\0';
	if (strstr((char *)m, "UTF8") != NULL)
		(void)liberr_set(e, EX_DATAERR,
		    "invalid UTF-8 in a string near byte %zu", at + 1);
	else
		(void)liberr_set(e, EX_DATAERR, "invalid JSON at byte %zu: %s",
		    at + 1, (char *)m);
	yajl_free_error(p->yajl, m);
}

const struct jval *
jval_parse(struct jval_parser *p, const char *buf, size_t len, int keep_depth,
    struct lib_err *e)
{
	struct jval_text text = JVAL_TEXT_INIT;
	const char *why;
	size_t at;
	yajl_status st;

	/* A line that ends inside an escape is yajl's to reject. */
	if (jval_text_check(&text, buf, len, &why, &at) == -1) {
		(void)liberr_set(e, EX_DATAERR, "invalid JSON at byte %zu: %s",
		    at + 1, why);
		return NULL;
	}
	p->doc_base = p->arena_used;
	p->keep_depth = keep_depth;
	p->depth = p->done = p->oom = p->too_deep = p->extra = 0;
	p->bad_utf8 = 0;
	p->root = NULL;
	p->key = NULL;
	p->keylen = 0;
	p->buf = (const unsigned char *)buf;
	p->buflen = len;

	st = yajl_parse(p->yajl, (const unsigned char *)buf, len);
	/*
	 * A newline ends a bare top-level number without starting a value,
	 * and is an error inside a string or literal the lexer still holds
	 * half of ('{"a":1}"' is not one document).
	 */
	if (st == yajl_status_ok)
		st = yajl_parse(p->yajl, (const unsigned char *)"\n", 1);
	if (st == yajl_status_ok && p->done && !p->extra)
		return p->root;

	if (p->oom)
		(void)liberr_set(e, EX_DATAERR,
		    "record needs more than %zu bytes of memory to parse",
		    p->arena_limit);
	else if (p->too_deep)
		(void)liberr_set(e, EX_DATAERR, "nesting deeper than %d levels",
		    JVAL_MAX_DEPTH);
	else if (p->bad_utf8)
		(void)liberr_set(e, EX_DATAERR,
		    "invalid UTF-8 in a string near byte %zu",
		    yajl_get_bytes_consumed(p->yajl));
	else if (p->extra)
		(void)liberr_set(e, EX_DATAERR,
		    "more than one JSON value on the line");
	else if (st == yajl_status_ok)
		(void)liberr_set(e, EX_DATAERR,
		    "invalid JSON: incomplete value (truncated line?)");
	else
		yajl_message(p, buf, len, e);
	/* The lexer may hold half a token: start the next line afresh. */
	if (new_handle(p) == -1)
		(void)liberr_set(e, EX_SOFTWARE, "out of memory");
	return NULL;
}

const struct jval *
jval_getn(const struct jval *obj, const char *key, size_t n)
{
	const struct jval *m, *found = NULL;

	if (obj == NULL || obj->type != JV_OBJECT)
		return NULL;
	for (m = obj->child; m != NULL; m = m->next)
		if (m->keylen == n && memcmp(m->key, key, n) == 0)
			found = m;
	return found;
}

int
jval_is_number(const char *s, size_t n)
{
	return n > 0 && jval_number_len(s, n) == n;
}

int
jval_path_depth(const char *dotted)
{
	int d = 1;

	if (dotted == NULL)
		return 0;
	for (dotted += *dotted == '.'; *dotted != '\0'; dotted++)
		d += *dotted == '.';
	return d;
}

const struct jval *
jval_path(const struct jval *v, const char *dotted)
{
	const char *seg = dotted, *dot;
	const struct jval *m;
	size_t n;

	if (*seg == '.')
		seg++;
	while (v != NULL && *seg != '\0') {
		dot = strchr(seg, '.');
		n = dot ? (size_t)(dot - seg) : strlen(seg);
		if (v->type == JV_OBJECT)
			v = jval_getn(v, seg, n);
		else if (v->type == JV_ARRAY) {
			char *end;
			unsigned long i = strtoul(seg, &end, 10);

			if (end != seg + n || n == 0)
				return NULL;
			for (m = v->child; m != NULL && i > 0; m = m->next)
				i--;
			v = m;
		} else
			return NULL;
		seg += n + (dot != NULL);
	}
	return v;
}

int
jval_streq(const struct jval *v, const char *lit)
{
	size_t n = strlen(lit);

	return v->type == JV_STRING && v->len == n && memcmp(v->str, lit, n) == 0;
}

const struct jval *
jval_get(const struct jval *obj, const char *key)
{
	return jval_getn(obj, key, strlen(key));
}

int
jval_fits_int64(const struct jval *v)
{
	static const char max[] = "9223372036854775807";
	const char *s = v->str;
	size_t n = v->len, i;

	if (v->type != JV_NUMBER)
		return 0;
	if (n > 0 && s[0] == '-')
		s++, n--;
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	/* JSON has no leading zeros, so the length orders the magnitude. */
	if (n < 19)
		return 1;
	if (n > 19)
		return 0;
	/* -9223372036854775808 is the one 19-digit value past max. */
	if (v->str[0] == '-' && memcmp(s, "9223372036854775808", 19) == 0)
		return 1;
	return memcmp(s, max, 19) <= 0;
}

int
jval_int64(const struct jval *v, long long *out)
{
	const char *s = v->str, *end = v->str + v->len;
	unsigned long long u = 0;
	int neg;

	if (!jval_fits_int64(v))
		return 0;
	/* jval_fits_int64 checked the digits and the range. */
	if ((neg = *s == '-'))
		s++;
	for (; s < end; s++)
		u = u * 10 + (unsigned long long)(*s - '0');
	*out = neg ? (long long)(0 - u) : (long long)u;
	return 1;
}

double
jval_double(const struct jval *v)
{
	static const double pow10[] = {
		1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
		1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
	};
	const char *s = v->str, *end = v->str + v->len;
	unsigned long long m = 0;
	int neg = 0, digits = 0, scale = 0, e = 0, eneg = 0;
	double d;

	/*
	 * Clinger's fast path: a mantissa below 2^53 times or over a power
	 * of ten up to 1e22 is exact in both operands, so one correctly
	 * rounded operation gives the correctly rounded result.  The rest
	 * goes to strtod(3).
	 */
	if (s < end && *s == '-') {
		neg = 1;
		s++;
	}
	for (; s < end && *s >= '0' && *s <= '9'; s++, digits++)
		m = m * 10 + (unsigned long long)(*s - '0');
	if (s < end && *s == '.')
		for (s++; s < end && *s >= '0' && *s <= '9'; s++, digits++, scale++)
			m = m * 10 + (unsigned long long)(*s - '0');
	if (s < end && (*s == 'e' || *s == 'E')) {
		s++;
		if (s < end && (*s == '+' || *s == '-'))
			eneg = *s++ == '-';
		for (; s < end && *s >= '0' && *s <= '9' && e < 10000; s++)
			e = e * 10 + (*s - '0');
	}
	e = (eneg ? -e : e) - scale;
	if (s == end && digits <= 15 && m < (1ULL << 53) && e >= -22 && e <= 22) {
		d = (double)m;
		d = e < 0 ? d / pow10[-e] : d * pow10[e];
		return neg ? -d : d;
	}
	return strtod(v->str, NULL);
}

/* Nodes and bytes of the tree at v (its siblings not included). */
static void
clone_measure(const struct jval *v, size_t *nodes, size_t *bytes)
{
	const struct jval *m;

	(*nodes)++;
	*bytes += v->keylen + (v->str != NULL ? v->len : 0);
	for (m = v->child; m != NULL; m = m->next)
		clone_measure(m, nodes, bytes);
}

/* Copy the tree at v: nodes from *node on, bytes from *text on. */
static struct jval *
clone_copy(const struct jval *v, struct jval **node, char **text)
{
	const struct jval *m;
	struct jval *c = (*node)++, **link;

	*c = *v;
	c->next = NULL;
	if (v->key != NULL) {
		memcpy(*text, v->key, v->keylen);
		c->key = *text;
		*text += v->keylen;
	}
	if (v->str != NULL) {
		memcpy(*text, v->str, v->len);
		c->str = *text;
		*text += v->len;
	}
	link = &c->child;
	for (m = v->child; m != NULL; m = m->next) {
		*link = clone_copy(m, node, text);
		link = &(*link)->next;
	}
	*link = NULL;
	return c;
}

struct jval *
jval_clone(const struct jval *v, size_t *size)
{
	struct jval *block, *node;
	size_t nodes = 0, bytes = 0;
	char *text;

	clone_measure(v, &nodes, &bytes);
	*size = nodes * sizeof(struct jval) + bytes;
	block = xalloc_malloc(*size, 1);
	node = block;
	text = (char *)(block + nodes);
	return clone_copy(v, &node, &text);
}

void
jval_write(struct jbuf *b, const struct jval *v)
{
	const struct jval *m;

	switch (v->type) {
	case JV_NULL:
		jbuf_put(b, "null", 4);
		break;
	case JV_TRUE:
		jbuf_put(b, "true", 4);
		break;
	case JV_FALSE:
		jbuf_put(b, "false", 5);
		break;
	case JV_NUMBER:
		jbuf_put(b, v->str, v->len);
		break;
	case JV_STRING:
		if (v->plain) {
			/* Its text needs no escapes: it had none in the input. */
			jbuf_reserve(b, v->len + 2);
			b->p[b->len++] = '"';
			memcpy(b->p + b->len, v->str, v->len);
			b->len += v->len;
			b->p[b->len++] = '"';
		} else
			jbuf_str(b, v->str, v->len);
		break;
	case JV_OBJECT:
		jbuf_putc(b, '{');
		for (m = v->child; m != NULL; m = m->next) {
			if (m != v->child)
				jbuf_putc(b, ',');
			jbuf_str(b, m->key, m->keylen);
			jbuf_putc(b, ':');
			jval_write(b, m);
		}
		jbuf_putc(b, '}');
		break;
	case JV_ARRAY:
		jbuf_putc(b, '[');
		for (m = v->child; m != NULL; m = m->next) {
			if (m != v->child)
				jbuf_putc(b, ',');
			jval_write(b, m);
		}
		jbuf_putc(b, ']');
		break;
	}
}

static int
by_member_name(const void *a, const void *b)
{
	const struct jval *x = *(const struct jval *const *)a;
	const struct jval *y = *(const struct jval *const *)b;
	size_t n = x->keylen < y->keylen ? x->keylen : y->keylen;
	int c = memcmp(x->key, y->key, n);

	return c != 0 ? c : (x->keylen > y->keylen) - (x->keylen < y->keylen);
}

void
jval_write_canonical(struct jbuf *b, const struct jval *v, int top)
{
	const struct jval *m, **sorted;
	size_t n = 0, i;

	if (v->type == JV_ARRAY) {
		jbuf_putc(b, '[');
		for (m = v->child; m != NULL; m = m->next) {
			if (m != v->child)
				jbuf_putc(b, ',');
			jval_write_canonical(b, m, 0);
		}
		jbuf_putc(b, ']');
		return;
	}
	if (v->type != JV_OBJECT) {
		jval_write(b, v);
		return;
	}
	for (m = v->child; m != NULL; m = m->next)
		n++;
	sorted = xalloc_realloc(NULL, n + 1, sizeof(const struct jval *));
	for (n = 0, m = v->child; m != NULL; m = m->next)
		if (!top || (m->type != JV_NULL && !(m->keylen >= 8 &&
		    memcmp(m->key, "_sluice_", 8) == 0)))
			sorted[n++] = m;
	qsort(sorted, n, sizeof(const struct jval *), by_member_name);
	jbuf_putc(b, '{');
	for (i = 0; i < n; i++) {
		if (i > 0)
			jbuf_putc(b, ',');
		jbuf_str(b, sorted[i]->key, sorted[i]->keylen);
		jbuf_putc(b, ':');
		jval_write_canonical(b, sorted[i], 0);
	}
	jbuf_putc(b, '}');
	free(sorted);
}
