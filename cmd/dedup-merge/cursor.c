#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cursor.h"
#include "cval.h"
#include "exitcodes.h"
#include "state.h"
#include "strmap.h"
#include "xalloc.h"

/* Key texts in the order they came, each once. */
struct keyset {
	struct strmap	 map;
	struct jbuf	 text;		/* the keys, joined by ',' */
	size_t		*off;
	size_t		*len;
	size_t		 n;
	size_t		 cap;
};

struct cstream {
	char		*name;
	int		 loaded;
	int		 has_prev;
	struct jbuf	 prev;		/* the last value, encoded */
	struct jbuf	 prev_raw;	/* and as JSON */
	struct keyset	 prev_keys;
	int		 has_lo;
	struct jbuf	 lo;		/* prev less --lag */
	int		 has_max;
	struct jbuf	 max;		/* the greatest value kept */
	struct jbuf	 max_raw;
	struct keyset	 keys;		/* kept at max */
	int		 overflow;	/* more than boundary_max of them */
};

struct cursor {
	struct cursor_opts opts;
	struct cstream	*s;
	size_t		 n;
	struct jbuf	 tmp;
};

static int
keyset_has(const struct keyset *k, const char *key, size_t len)
{
	return k->n > 0 && strmap_get(&k->map, key, len) != -1;
}

static void
keyset_add(struct keyset *k, const char *key, size_t len)
{
	if (keyset_has(k, key, len))
		return;
	if (k->n == k->cap) {
		k->cap = k->cap ? k->cap * 2 : 16;
		k->off = xalloc_realloc(k->off, k->cap, sizeof(*k->off));
		k->len = xalloc_realloc(k->len, k->cap, sizeof(*k->len));
	}
	strmap_put(&k->map, key, len, k->n);
	if (k->n > 0)
		jbuf_putc(&k->text, ',');
	k->off[k->n] = k->text.len;
	k->len[k->n++] = len;
	jbuf_put(&k->text, key, len);
}

static void
keyset_clear(struct keyset *k)
{
	if (k->n == 0)
		return;
	strmap_free(&k->map);
	memset(&k->map, 0, sizeof(k->map));
	jbuf_reset(&k->text);
	k->n = 0;
}

static void
keyset_free(struct keyset *k)
{
	strmap_free(&k->map);
	jbuf_free(&k->text);
	free(k->off);
	free(k->len);
}

struct cursor *
cursor_new(const struct cursor_opts *o)
{
	struct cursor *c = xalloc_realloc(NULL, 1, sizeof(*c));

	memset(c, 0, sizeof(*c));
	c->opts = *o;
	return c;
}

void
cursor_free(struct cursor *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n; i++) {
		struct cstream *s = &c->s[i];

		free(s->name);
		jbuf_free(&s->prev);
		jbuf_free(&s->prev_raw);
		jbuf_free(&s->lo);
		jbuf_free(&s->max);
		jbuf_free(&s->max_raw);
		keyset_free(&s->prev_keys);
		keyset_free(&s->keys);
	}
	free(c->s);
	jbuf_free(&c->tmp);
	free(c);
}

/* The bookmark of a stream from --state-from: value and boundary keys. */
static int
read_bookmark(struct cursor *c, struct cstream *s, struct lib_err *e)
{
	struct jbuf path = JBUF_INIT, out = JBUF_INIT;
	struct jval_parser *p = NULL;
	const struct jval *root, *v, *k;
	int found, rc = -1;

	jbuf_puts(&path, "bookmarks.");
	jbuf_puts(&path, s->name);
	if (state_get(c->opts.state_db, jbuf_cstr(&path), &out, &found,
	    e) == -1)
		goto out;
	rc = 0;
	if (!found)
		goto out;
	rc = -1;
	if ((p = jval_parser_new(out.len * 8 + ((size_t)1 << 16))) == NULL) {
		(void)liberr_set(e, EX_OSERR, "out of memory");
		goto out;
	}
	if ((root = jval_parse(p, out.p, out.len, JVAL_KEEP_ALL, e)) == NULL ||
	    root->type != JV_OBJECT) {
		(void)liberr_set(e, EX_DATAERR, "%s: bookmarks.%s: not an object",
		    c->opts.state_db, s->name);
		goto out;
	}
	rc = 0;
	v = jval_get(root, "replication_key_value");
	if (v == NULL || v->type == JV_NULL)
		goto out;
	s->has_prev = 1;
	cval_encode(&s->prev, v);
	jval_write(&s->prev_raw, v);
	if ((v = jval_get(root, "sluice_boundary_keys")) != NULL &&
	    v->type == JV_ARRAY)
		for (k = v->child; k != NULL; k = k->next) {
			jbuf_reset(&c->tmp);
			jval_write(&c->tmp, k);
			keyset_add(&s->prev_keys, c->tmp.p, c->tmp.len);
		}
out:
	jval_parser_free(p);
	jbuf_free(&path);
	jbuf_free(&out);
	return rc;
}

static struct cstream *
stream_at(struct cursor *c, size_t i, const char *name, size_t n,
    struct lib_err *e)
{
	struct cstream *s;
	const char *since = c->opts.since;

	if (i >= c->n) {
		c->s = xalloc_realloc(c->s, i + 1, sizeof(*c->s));
		memset(c->s + c->n, 0, (i + 1 - c->n) * sizeof(*c->s));
		c->n = i + 1;
	}
	s = &c->s[i];
	if (s->loaded)
		return s;
	s->loaded = 1;
	s->name = xalloc_memdup(name, n);
	if (c->opts.state_db != NULL && read_bookmark(c, s, e) == -1)
		return NULL;
	if (since != NULL && *since != '\0') {
		s->has_prev = 1;
		cval_encode_text(&s->prev, since, strlen(since));
		/* A number keeps its text; anything else is a string. */
		if (cval_is_number(s->prev.p, s->prev.len))
			jbuf_puts(&s->prev_raw, since);
		else
			jbuf_str(&s->prev_raw, since, strlen(since));
	}
	if (s->has_prev && c->opts.has_lag)
		s->has_lo = cval_minus(&s->lo, s->prev.p, s->prev.len,
		    c->opts.lag) == 0;
	return s;
}

int
cursor_check(struct cursor *c, size_t i, const char *name, size_t n,
    const struct jval *record, const char *key, size_t keylen,
    enum cursor_verdict *verdict, struct lib_err *e)
{
	struct cstream *s;
	const struct jval *v;
	int r;

	if ((s = stream_at(c, i, name, n, e)) == NULL)
		return -1;
	v = jval_path(record, c->opts.path);
	if (v == NULL || v->type == JV_NULL) {
		*verdict = CURSOR_MISSING;
		return 0;
	}
	jbuf_reset(&c->tmp);
	cval_encode(&c->tmp, v);
	*verdict = CURSOR_DROP;
	if (s->has_lo) {
		/* In the --lag window everything is loaded again. */
		if (cval_cmp(c->tmp.p, c->tmp.len, s->lo.p, s->lo.len) < 0)
			return 0;
	} else if (s->has_prev) {
		r = cval_cmp(c->tmp.p, c->tmp.len, s->prev.p, s->prev.len);
		if (r < 0 || (r == 0 && keyset_has(&s->prev_keys, key, keylen)))
			return 0;
	}
	*verdict = CURSOR_KEEP;
	r = s->has_max ? cval_cmp(c->tmp.p, c->tmp.len, s->max.p, s->max.len) : 1;
	if (r < 0)
		return 0;
	if (r > 0) {
		s->has_max = 1;
		jbuf_reset(&s->max);
		jbuf_put(&s->max, c->tmp.p, c->tmp.len);
		jbuf_reset(&s->max_raw);
		jval_write(&s->max_raw, v);
		keyset_clear(&s->keys);
		s->overflow = 0;
	}
	if (!s->overflow) {
		keyset_add(&s->keys, key, keylen);
		if (s->keys.n > c->opts.boundary_max) {
			s->overflow = 1;
			keyset_clear(&s->keys);
		}
	}
	return 0;
}

/* One bookmark: "NAME":{...}. */
static void
put_bookmark(struct cursor *c, struct cstream *s, struct jbuf *out,
    struct jbuf *warn)
{
	const struct jbuf *raw;
	struct keyset *k;
	size_t i, total;
	int overflow, r;

	r = !s->has_max ? -1 : !s->has_prev ? 1 :
	    cval_cmp(s->max.p, s->max.len, s->prev.p, s->prev.len);
	if (r > 0) {
		raw = &s->max_raw;
		k = &s->keys;
		overflow = s->overflow;
	} else {
		/* Nothing newer: the bookmark stays, with what it holds. */
		raw = &s->prev_raw;
		k = &s->prev_keys;
		overflow = 0;
		if (r == 0) {
			if (s->overflow)
				overflow = 1;
			else
				for (i = 0; i < s->keys.n; i++)
					keyset_add(k, s->keys.text.p +
					    s->keys.off[i], s->keys.len[i]);
		}
	}
	total = k->n;
	if (total > c->opts.boundary_max)
		overflow = 1;
	jbuf_str(out, s->name, strlen(s->name));
	jbuf_puts(out, ":{\"replication_key\":");
	jbuf_str(out, c->opts.path, strlen(c->opts.path));
	jbuf_puts(out, ",\"replication_key_value\":");
	jbuf_put(out, raw->p, raw->len);
	jbuf_puts(out, ",\"sluice_boundary_keys\":[");
	if (!overflow)
		jbuf_put(out, k->text.p, k->text.len);
	jbuf_puts(out, "]}");
	if (overflow) {
		jbuf_puts(warn, "stream ");
		jbuf_puts(warn, s->name);
		jbuf_puts(warn, ": more records than --boundary-max at the "
		    "last cursor value: no boundary keys kept, the next run "
		    "loads them again\n");
	}
}

int
cursor_state(struct cursor *c, const char *dflt, struct jbuf *out,
    struct jbuf *warn, struct lib_err *e)
{
	size_t i;
	int first = 1;

	if (c->n == 0 && stream_at(c, 0, dflt, strlen(dflt), e) == NULL)
		return -1;
	jbuf_puts(out, "{\"type\":\"STATE\",\"value\":{\"bookmarks\":{");
	for (i = 0; i < c->n; i++) {
		struct cstream *s = &c->s[i];

		if (!s->loaded || (!s->has_max && !s->has_prev))
			continue;
		if (!first)
			jbuf_putc(out, ',');
		first = 0;
		put_bookmark(c, s, out, warn);
	}
	jbuf_puts(out, "}}}\n");
	return 0;
}
