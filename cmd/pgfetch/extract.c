#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <csv.h>
#include <yajl/yajl_parse.h>

#include "exitcodes.h"
#include "extract.h"
#include "jbuf.h"
#include "jfast.h"
#include "jval.h"
#include "ndjson.h"
#include "strmap.h"
#include "xalloc.h"

#define MAX_PATH	64
#define MAX_DEPTH	JVAL_MAX_DEPTH

/* Where the JSON streamer is. */
enum mode {
	SEEK,		/* looking for the array of records */
	WHOLE,		/* in a top-level object that may be the one record */
	ARRAY,		/* in the array: elements are records */
	DONE		/* past the array: the rest is read, not kept */
};

struct extract {
	struct extract_opts o;
	enum extract_format format;
	unsigned long	 line;		/* of the bytes being fed */
	int		 stopped;	/* a callback said stop */
	int		 failed;	/* ...and failed: cb_err says why */
	struct lib_err	 cb_err;
	int		 started;	/* past a byte-order mark, or sure there is none */
	size_t		 bom_held;	/* bytes of one that came so far */
	int		 last_nl;	/* the last byte fed was a newline */
	const char	*broken;	/* why the data cannot be read on */

	/* JSON Lines: the line being assembled. */
	struct jbuf	 partial;
	int		 overlong;	/* dropping the rest of a long line */
	struct jval_parser *parser;
	size_t		 arena_limit;	/* the parser's */
	struct jbuf	 out;

	/* JSON: the streamer. */
	yajl_handle	 yajl;
	char		*path[MAX_PATH];
	size_t		 npath;
	enum mode	 mode;
	int		 depth;		/* open containers */
	int		 array_depth;	/* the records' array is at this depth */
	unsigned char	 keyok[MAX_PATH + 2];	/* the key so far follows the path */
	int		 envelope;	/* the key at depth 1 names records */
	int		 capturing;	/* writing a record (or the whole object) */
	int		 skipping;	/* a bad element: read to its end */
	int		 base;		/* depth of the value being captured */
	unsigned char	 comma[MAX_DEPTH + 2];
	int		 after_key;
	unsigned long	 rec_line;
	struct jbuf	 rec;
	const char	*why;		/* of a skipped element */
	struct jval_text text;		/* the escapes and whitespace so far */

	/* CSV. */
	struct csv_parser csv;
	int		 csv_ready;
	char		**names;	/* the header */
	size_t		 nnames;
	struct strmap	 taken;		/* the names given so far */
	struct strmap	 suffix;	/* a repeated name: the next _N to try */
	size_t		 field;		/* index in the current row */
	unsigned long	 row;
	unsigned long	 row_line;	/* where the current row began */
	int		 row_bad;	/* a field of it is not UTF-8 */
	int		 header_done;
};

int
extract_envelope(const char *key, size_t n)
{
	static const char *const names[] = {
		"data", "items", "results", "records"
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == n && memcmp(names[i], key, n) == 0)
			return 1;
	return 0;
}

enum extract_format
extract_format_of(const char *name)
{
	size_t n = strlen(name);

	if (n > 3 && strcmp(name + n - 3, ".gz") == 0)
		n -= 3;
#define ENDS(s)	(n > strlen(s) && strncmp(name + n - strlen(s), s, strlen(s)) == 0)
	if (ENDS(".jsonl") || ENDS(".ndjson") || ENDS(".jsonlines"))
		return EXTRACT_JSONL;
	if (ENDS(".json"))
		return EXTRACT_JSON;
	if (ENDS(".csv") || ENDS(".tsv"))
		return EXTRACT_CSV;
#undef ENDS
	return EXTRACT_AUTO;
}

/* A callback's answer: 0 go on, else -1 (x->stopped, and x->failed). */
static int
answer(struct extract *x, int rc)
{
	if (rc == 0)
		return 0;
	x->stopped = 1;
	x->failed = rc == -1;
	return -1;
}

static int
emit(struct extract *x, const char *json, size_t len, unsigned long line)
{
	return answer(x, x->o.record(x->o.arg, json, len, line, &x->cb_err));
}

static int
bad(struct extract *x, const char *text, size_t len, unsigned long line,
    const char *why)
{
	return answer(x, x->o.bad(x->o.arg, text, len, line, why, &x->cb_err));
}

/* What extract_feed returns once a callback said stop: 1, or its failure. */
static int
stop_result(const struct extract *x, struct lib_err *e)
{
	if (!x->failed)
		return 1;
	*e = x->cb_err;
	return -1;
}

/* ---- JSON Lines: the rules of ndjson.h, a chunk at a time ---------- */

/*
 * Whether jval_parse's arena holds the tree of a line of len bytes and
 * values values for sure: a node each (arena_alloc rounds to 16 bytes),
 * and a copy of each name and string (perhaps decoded: not longer than
 * the line) with its rounding.
 */
static int
arena_holds(const struct extract *x, size_t values, size_t len)
{
	size_t node = (sizeof(struct jval) + 15) & ~(size_t)15;
	size_t copies = 2 * (size_t)16;

	return values <= (x->arena_limit - len) / (node + copies);
}

static int
jsonl_line(struct extract *x, const char *s, size_t n)
{
	const struct jval *v, *m;
	struct jfast fast;
	struct lib_err e;

	switch (ndjson_line(s, &n, x->o.max_record, &e)) {
	case 0:
		return 0;
	case -1:
		return bad(x, s, n, x->line, e.msg);
	default:
		break;
	}
	/*
	 * Most lines are one object that needs no tree to be written as
	 * jval_write would: the same bytes, at a fraction of the cost.
	 */
	if (jfast_object(s, n, &x->out, &fast) &&
	    arena_holds(x, fast.values, n))
		return emit(x, fast.text, fast.len, x->line);
	jval_parser_rewind(x->parser);
	if ((v = jval_parse(x->parser, s, n, JVAL_KEEP_ALL, &e)) == NULL ||
	    ndjson_records(v, 1, &e) == -1)
		return bad(x, s, n, x->line, e.msg);
	for (m = v->type == JV_ARRAY ? v->child : v; m != NULL;
	    m = v->type == JV_ARRAY ? m->next : NULL) {
		jbuf_reset(&x->out);
		jval_write(&x->out, m);
		if (emit(x, x->out.p, x->out.len, x->line) == -1)
			return -1;
	}
	return 0;
}

/*
 * A line split across chunks is held in x->partial, NDJSON_HELD bytes at
 * most: past that it is too long whatever follows, said at once with its
 * first max_record bytes, and the rest of it is dropped.
 */
static int
jsonl_feed(struct extract *x, const char *s, size_t n)
{
	const char *nl;
	struct lib_err e;
	size_t take, room;

	while (n > 0 && !x->stopped) {
		nl = memchr(s, '\n', n);
		take = nl != NULL ? (size_t)(nl - s) : n;
		if (nl != NULL && x->partial.len == 0 && !x->overlong) {
			/* A whole line in the chunk is read where it is. */
			if (jsonl_line(x, s, take) == -1)
				return -1;
		} else if (!x->overlong) {
			room = NDJSON_HELD(x->o.max_record) - x->partial.len;
			jbuf_put(&x->partial, s, take < room ? take : room);
			if (take > room) {
				x->overlong = 1;
				(void)ndjson_too_long(x->o.max_record, &e);
				if (bad(x, x->partial.p, x->o.max_record, x->line,
				    e.msg) == -1)
					return -1;
			} else if (nl != NULL && jsonl_line(x, x->partial.p,
			    x->partial.len) == -1)
				return -1;
		}
		if (nl == NULL)
			break;
		jbuf_reset(&x->partial);
		x->overlong = 0;
		x->line++;
		s = nl + 1;
		n -= take + 1;
	}
	return x->stopped ? -1 : 0;
}

/* ---- JSON, streamed ----------------------------------------------- */

/* Before a value at the current depth: the comma or key the capture needs. */
static void
cap_before(struct extract *x)
{
	int d = x->depth;

	if (x->after_key) {
		x->after_key = 0;
		return;
	}
	if (d > x->base && x->comma[d])
		jbuf_putc(&x->rec, ',');
	x->comma[d] = 1;
}

static int
cap_check(struct extract *x)
{
	if (x->rec.len <= x->o.max_record)
		return 1;
	/* Too big to hold: drop it, read on to its end. */
	x->capturing = 0;
	x->skipping = 1;
	x->why = "record longer than the record limit";
	return 0;
}

/* A record's last byte came: hand it over. */
static int
cap_done(struct extract *x)
{
	x->capturing = 0;
	return emit(x, x->rec.p, x->rec.len, x->rec_line) == -1 ? 0 : 1;
}

static int
skip_done(struct extract *x)
{
	x->skipping = 0;
	return bad(x, x->rec.p, x->rec.len > 200 ? 200 : x->rec.len,
	    x->rec_line, x->why) == -1 ? 0 : 1;
}

/* A value starts at depth x->depth: begin a record if it is one. */
static void
element_start(struct extract *x, int container_object)
{
	if (x->mode != ARRAY || x->depth != x->array_depth + 1 ||
	    x->capturing || x->skipping)
		return;
	jbuf_reset(&x->rec);
	x->rec_line = x->line;
	x->base = x->depth;
	x->after_key = 0;
	if (container_object) {
		x->capturing = 1;
		x->comma[x->depth] = 0;
	} else {
		x->skipping = 1;
		x->why = "an element of the records array is not an object";
	}
}

static int
on_scalar(struct extract *x, const char *text, size_t n, int string)
{
	if (x->depth == 0 && x->mode == SEEK) {
		x->broken = "the document is neither an object nor an array";
		return 0;
	}
	element_start(x, 0);
	if (x->capturing) {
		cap_before(x);
		if (string)
			jbuf_str(&x->rec, text, n);
		else
			jbuf_put(&x->rec, text, n);
		if (!cap_check(x))
			return 1;
	}
	/* A scalar element ends where it starts. */
	if (x->skipping && x->mode == ARRAY && x->depth == x->array_depth + 1)
		return skip_done(x);
	return 1;
}

static int
y_null(void *ctx)
{
	return on_scalar(ctx, "null", 4, 0);
}

static int
y_boolean(void *ctx, int b)
{
	return on_scalar(ctx, b ? "true" : "false", b ? 4 : 5, 0);
}

static int
y_number(void *ctx, const char *s, size_t n)
{
	return on_scalar(ctx, s, n, 0);
}

/* yajl lets overlong forms and CESU-8 through: the one rule of jval. */
static int
utf8_ok(struct extract *x, const unsigned char *s, size_t n)
{
	if (jval_utf8_ok((const char *)s, n))
		return 1;
	x->broken = "invalid UTF-8 in a string";
	return 0;
}

static int
y_string(void *ctx, const unsigned char *s, size_t n)
{
	if (!utf8_ok(ctx, s, n))
		return 0;
	return on_scalar(ctx, (const char *)s, n, 1);
}

static int
open_container(struct extract *x, int object)
{
	int d = x->depth;

	if (d >= MAX_DEPTH) {
		x->broken = "nesting deeper than the limit";
		return 0;
	}
	if (x->mode == SEEK) {
		if (x->npath > 0) {
			if (!object && d == (int)x->npath && x->keyok[d]) {
				x->mode = ARRAY;
				x->array_depth = d;
			}
		} else if (d == 0 && !object) {
			x->mode = ARRAY;
			x->array_depth = 0;
		} else if (d == 0) {
			/* Maybe an envelope, maybe the one record. */
			x->mode = WHOLE;
			x->capturing = 1;
			x->base = 0;
			x->after_key = 0;
			x->rec_line = x->line;
			jbuf_reset(&x->rec);
		}
	} else if (x->mode == WHOLE && d == 1 && !object && x->envelope) {
		x->capturing = 0;
		x->mode = ARRAY;
		x->array_depth = 1;
	}
	if (x->mode == ARRAY)
		element_start(x, object);
	if (x->capturing) {
		if (d > x->base || x->mode == WHOLE)
			cap_before(x);
		jbuf_putc(&x->rec, object ? '{' : '[');
		if (!cap_check(x))
			goto open;
	}
open:
	x->depth++;
	x->comma[x->depth] = 0;
	x->keyok[x->depth < MAX_PATH + 1 ? x->depth : MAX_PATH + 1] = 0;
	return 1;
}

static int
close_container(struct extract *x, int object)
{
	x->depth--;
	if (x->capturing) {
		jbuf_putc(&x->rec, object ? '}' : ']');
		if (x->depth == x->base && (x->mode == ARRAY || x->mode == WHOLE)) {
			if (x->mode == WHOLE)
				x->mode = DONE;
			return cap_done(x);
		}
		if (!cap_check(x))
			return 1;
	} else if (x->skipping && x->mode == ARRAY &&
	    x->depth == x->array_depth + 1)
		return skip_done(x);
	else if (x->skipping && x->mode == WHOLE && x->depth == 0) {
		x->mode = DONE;
		return skip_done(x);
	}
	if (x->mode == ARRAY && x->depth == x->array_depth)
		x->mode = DONE;
	return 1;
}

static int
y_start_map(void *ctx)
{
	return open_container(ctx, 1);
}

static int
y_end_map(void *ctx)
{
	return close_container(ctx, 1);
}

static int
y_start_array(void *ctx)
{
	return open_container(ctx, 0);
}

static int
y_end_array(void *ctx)
{
	return close_container(ctx, 0);
}

static int
y_map_key(void *ctx, const unsigned char *key, size_t n)
{
	struct extract *x = ctx;
	int d = x->depth;

	if (!utf8_ok(x, key, n))
		return 0;
	if (d <= (int)x->npath && d >= 1)
		x->keyok[d] = (d == 1 || x->keyok[d - 1]) &&
		    strlen(x->path[d - 1]) == n && memcmp(x->path[d - 1], key, n) == 0;
	if (d == 1 && x->mode == WHOLE)
		x->envelope = extract_envelope((const char *)key, n);
	if (x->capturing) {
		if (x->comma[d])
			jbuf_putc(&x->rec, ',');
		x->comma[d] = 1;
		jbuf_str(&x->rec, (const char *)key, n);
		jbuf_putc(&x->rec, ':');
		x->after_key = 1;
		(void)cap_check(x);
	}
	return 1;
}

static const yajl_callbacks json_callbacks = {
	y_null, y_boolean, NULL, NULL, y_number, y_string,
	y_start_map, y_map_key, y_end_map, y_start_array, y_end_array
};

static int
json_error(struct extract *x, const unsigned char *s, size_t n,
    struct lib_err *e)
{
	unsigned char *m;
	unsigned long line = x->line;
	size_t len;

	if (x->stopped)
		return stop_result(x, e);
	/* The line of the bad token; at the end, the last line there is. */
	if (s == NULL && x->last_nl && line > 1)
		line--;
	if (x->broken != NULL)
		return liberr_set(e, EX_DATAERR, "%s:%lu: %s", x->o.name, line,
		    x->broken);
	m = yajl_get_error(x->yajl, 0, s, n);
	len = m != NULL ? strlen((char *)m) : 0;
	while (len > 0 && (m[len - 1] == '\n' || m[len - 1] == ' '))
		m[--len] = '\0';
	(void)liberr_set(e, EX_DATAERR, "%s:%lu: invalid JSON: %s", x->o.name,
	    line, m != NULL ? (char *)m : "parse error");
	if (m != NULL)
		yajl_free_error(x->yajl, m);
	return -1;
}

/* yajl one line at a time, so that every callback knows its line. */
static int
json_feed(struct extract *x, const char *s, size_t n, struct lib_err *e)
{
	const char *nl, *why;
	size_t take, at;

	while (n > 0) {
		nl = memchr(s, '\n', n);
		take = nl != NULL ? (size_t)(nl - s) + 1 : n;
		if (jval_text_check(&x->text, s, take, &why, &at) == -1) {
			x->broken = why;
			return json_error(x, (const unsigned char *)s, take, e);
		}
		if (yajl_parse(x->yajl, (const unsigned char *)s, take) !=
		    yajl_status_ok)
			return json_error(x, (const unsigned char *)s, take, e);
		if (x->stopped)
			return stop_result(x, e);
		if (nl != NULL)
			x->line++;
		s += take;
		n -= take;
	}
	return 0;
}

/* ---- CSV ----------------------------------------------------------- */

/*
 * A header name: empty ones are col_N, a repeated one gets _2, _3...  Each
 * name remembers the suffix it got to, so that a header of thousands of
 * equal names takes time in proportion to its length.
 */
static void
csv_name(struct extract *x, const char *s, size_t n)
{
	struct jbuf base = JBUF_INIT, name = JBUF_INIT;
	char num[32];
	long k;

	if (n == 0) {
		(void)snprintf(num, sizeof(num), "col_%zu", x->nnames + 1);
		jbuf_puts(&base, num);
	} else
		jbuf_put(&base, s, n);
	jbuf_put(&name, base.p, base.len);
	if (strmap_get(&x->taken, name.p, name.len) != -1) {
		k = strmap_get(&x->suffix, base.p, base.len);
		for (k = k < 2 ? 2 : k;; k++) {
			jbuf_reset(&name);
			jbuf_put(&name, base.p, base.len);
			(void)snprintf(num, sizeof(num), "_%ld", k);
			jbuf_puts(&name, num);
			if (strmap_get(&x->taken, name.p, name.len) == -1)
				break;
		}
		strmap_put(&x->suffix, base.p, base.len, (size_t)k + 1);
	}
	strmap_put(&x->taken, name.p, name.len, x->nnames);
	jbuf_free(&base);
	x->names = xalloc_realloc(x->names, x->nnames + 1, sizeof(*x->names));
	x->names[x->nnames++] = jbuf_cstr(&name);
}

static void
csv_field(void *s, size_t n, void *arg)
{
	struct extract *x = arg;
	const char *f = s;
	char col[32];

	if (x->stopped)
		return;
	if (x->field == 0 && (!x->o.header || x->header_done)) {
		x->row_line = x->line;
		x->row_bad = 0;
	}
	if (f != NULL && !jval_utf8_ok(f, n))
		x->row_bad = 1;
	if (x->o.header && !x->header_done) {
		/* A key is text: without its bytes whole, no record is right. */
		if (x->row_bad)
			x->broken = "invalid UTF-8 in a header name";
		else if (f != NULL && memchr(f, '\0', n) != NULL)
			x->broken = "a NUL byte in a header name";
		if (x->broken != NULL) {
			x->stopped = 1;
			return;
		}
		csv_name(x, f != NULL ? f : "", f != NULL ? n : 0);
		return;
	}
	if (x->field == 0) {
		jbuf_reset(&x->rec);
		jbuf_putc(&x->rec, '{');
	} else
		jbuf_putc(&x->rec, ',');
	if (x->field < x->nnames)
		jbuf_str(&x->rec, x->names[x->field], strlen(x->names[x->field]));
	else {
		(void)snprintf(col, sizeof(col), "col_%zu", x->field + 1);
		jbuf_str(&x->rec, col, strlen(col));
	}
	jbuf_putc(&x->rec, ':');
	if (!x->o.csv_types)
		jbuf_str(&x->rec, f != NULL ? f : "", f != NULL ? n : 0);
	else if (f == NULL || n == 0)
		jbuf_puts(&x->rec, "null");
	else if (jval_is_number(f, n))
		jbuf_put(&x->rec, f, n);
	else if ((n == 4 && (memcmp(f, "true", 4) == 0 || memcmp(f, "TRUE", 4) == 0)))
		jbuf_puts(&x->rec, "true");
	else if ((n == 5 && (memcmp(f, "false", 5) == 0 || memcmp(f, "FALSE", 5) == 0)))
		jbuf_puts(&x->rec, "false");
	else
		jbuf_str(&x->rec, f, n);
	x->field++;
}

static void
csv_row(int c, void *arg)
{
	struct extract *x = arg;

	(void)c;
	x->row++;
	if (x->stopped)
		return;
	if (x->o.header && !x->header_done) {
		x->header_done = 1;
		return;
	}
	if (x->field == 0)
		return;		/* an empty line */
	jbuf_putc(&x->rec, '}');
	x->field = 0;
	if (x->row_bad)
		(void)bad(x, x->rec.p, x->rec.len, x->row_line,
		    "invalid UTF-8 in a field");
	else if (x->rec.len > x->o.max_record)
		(void)bad(x, x->rec.p, x->o.max_record, x->row_line,
		    "record longer than the limit");
	else
		(void)emit(x, x->rec.p, x->rec.len, x->row_line);
}

/* libcsv a line at a time, so that a row knows the line it began on. */
static int
csv_feed(struct extract *x, const char *s, size_t n, struct lib_err *e)
{
	const char *nl;
	size_t take;

	while (n > 0) {
		nl = memchr(s, '\n', n);
		take = nl != NULL ? (size_t)(nl - s) + 1 : n;
		if (csv_parse(&x->csv, s, take, csv_field, csv_row, x) != take)
			return liberr_set(e, EX_DATAERR, "%s:%lu: CSV: %s",
			    x->o.name, x->row_line ? x->row_line : x->line,
			    csv_strerror(csv_error(&x->csv)));
		if (x->broken != NULL)
			return liberr_set(e, EX_DATAERR, "%s:%lu: CSV: %s",
			    x->o.name, x->line, x->broken);
		if (x->stopped)
			return stop_result(x, e);
		if (nl != NULL)
			x->line++;
		s += take;
		n -= take;
	}
	return 0;
}

/* Spaces around unquoted values are part of them (RFC 4180). */
static int
no_space(unsigned char c)
{
	(void)c;
	return 0;
}

/* ---- the interface --------------------------------------------------- */

/*
 * The member names of a records path, into path[] (*n of them) when path
 * is not NULL: 0, or -1 with e set.
 */
static int
split_path(const char *records, char **path, size_t *n, struct lib_err *e)
{
	const char *p, *dot;
	size_t len;

	*n = 0;
	for (p = records; p != NULL && *p != '\0'; p = dot ? dot + 1 : NULL) {
		if (*p == '.' && p == records)
			p++;
		dot = strchr(p, '.');
		len = dot ? (size_t)(dot - p) : strlen(p);
		if (len == 0 || *n == MAX_PATH)
			return liberr_set(e, EX_USAGE, "'%s': not a path",
			    records);
		if (path != NULL)
			path[*n] = xalloc_memdup(p, len);
		++*n;
	}
	return 0;
}

int
extract_path_check(const char *records, struct lib_err *e)
{
	size_t n;

	return split_path(records, NULL, &n, e);
}

struct extract *
extract_new(const struct extract_opts *o, struct lib_err *e)
{
	struct extract *x;

	if ((x = calloc(1, sizeof(*x))) == NULL) {
		(void)liberr_set(e, EX_OSERR, "out of memory");
		return NULL;
	}
	x->o = *o;
	if (x->o.name == NULL)
		x->o.name = "-";
	x->format = o->format;
	x->line = 1;
	x->keyok[0] = 1;
	liberr_clear(&x->cb_err);
	if (split_path(o->records, x->path, &x->npath, e) == -1) {
		extract_free(x);
		return NULL;
	}
	x->arena_limit = o->max_record * 8 + (1 << 20);
	if ((x->parser = jval_parser_new(x->arena_limit)) == NULL ||
	    (x->yajl = yajl_alloc(&json_callbacks, NULL, x)) == NULL ||
	    csv_init(&x->csv, CSV_EMPTY_IS_NULL | CSV_STRICT |
	    CSV_STRICT_FINI) != 0) {
		extract_free(x);
		(void)liberr_set(e, EX_OSERR, "out of memory");
		return NULL;
	}
	x->csv_ready = 1;
	csv_set_space_func(&x->csv, no_space);
	csv_set_delim(&x->csv, (unsigned char)(o->delimiter ? o->delimiter : ','));
	x->row = 0;
	return x;
}

void
extract_free(struct extract *x)
{
	size_t i;

	if (x == NULL)
		return;
	for (i = 0; i < x->npath; i++)
		free(x->path[i]);
	for (i = 0; i < x->nnames; i++)
		free(x->names[i]);
	free(x->names);
	strmap_free(&x->taken);
	strmap_free(&x->suffix);
	if (x->yajl != NULL)
		yajl_free(x->yajl);
	if (x->csv_ready)
		csv_free(&x->csv);
	jval_parser_free(x->parser);
	jbuf_free(&x->partial);
	jbuf_free(&x->out);
	jbuf_free(&x->rec);
	free(x);
}

/* The bytes after any byte-order mark, to the format's reader. */
static int
feed_body(struct extract *x, const char *s, size_t n, struct lib_err *e)
{
	size_t i;

	if (n == 0)
		return 0;
	x->last_nl = s[n - 1] == '\n';
	if (x->format == EXTRACT_AUTO) {
		for (i = 0; i < n && strchr(" \t\r\n", s[i]) != NULL; i++)
			;
		if (i == n)
			return 0;	/* nothing telling yet: wait */
		x->format = s[i] == '[' ? EXTRACT_JSON : EXTRACT_JSONL;
	}
	switch (x->format) {
	case EXTRACT_JSONL:
		if (jsonl_feed(x, s, n) == -1)
			return stop_result(x, e);
		return 0;
	case EXTRACT_JSON:
		return json_feed(x, s, n, e);
	default:
		return csv_feed(x, s, n, e);
	}
}

static const char bom[] = "\xef\xbb\xbf";

int
extract_feed(struct extract *x, const char *s, size_t n, struct lib_err *e)
{
	/*
	 * A UTF-8 byte-order mark (Excel writes one) is not data; it may
	 * come a byte at a time (a pipe, gunzip's first two bytes).
	 */
	int rc;

	while (!x->started && n > 0) {
		if (*s != bom[x->bom_held]) {
			x->started = 1;
			/* What began like a mark is data after all. */
			if ((rc = feed_body(x, bom, x->bom_held, e)) != 0)
				return rc;
			break;
		}
		s++;
		n--;
		x->started = ++x->bom_held == 3;
	}
	return feed_body(x, s, n, e);
}

int
extract_finish(struct extract *x, struct lib_err *e)
{
	int rc;

	/* The input was the start of a byte-order mark and no more. */
	if (!x->started) {
		x->started = 1;
		if ((rc = feed_body(x, bom, x->bom_held, e)) != 0)
			return rc;
	}
	switch (x->format) {
	case EXTRACT_JSONL:
		if (x->partial.len > 0 && !x->overlong &&
		    jsonl_line(x, x->partial.p, x->partial.len) == -1)
			return stop_result(x, e);
		return 0;
	case EXTRACT_JSON:
		if (yajl_complete_parse(x->yajl) != yajl_status_ok)
			return json_error(x, NULL, 0, e);
		if (x->npath > 0 && x->mode == SEEK)
			return liberr_set(e, EX_DATAERR,
			    "%s:%lu: no array at --records %s", x->o.name, x->line,
			    x->o.records);
		if (x->mode == SEEK)
			return liberr_set(e, EX_DATAERR,
			    "%s:%lu: the document is neither an object nor an "
			    "array", x->o.name,
			    x->last_nl && x->line > 1 ? x->line - 1 : x->line);
		return x->stopped ? stop_result(x, e) : 0;
	case EXTRACT_CSV:
		if (csv_fini(&x->csv, csv_field, csv_row, x) != 0)
			return liberr_set(e, EX_DATAERR, "%s:%lu: CSV: %s",
			    x->o.name,
			    x->field > 0 || x->row_line ? x->row_line : x->line,
			    csv_strerror(csv_error(&x->csv)));
		if (x->broken != NULL)
			return liberr_set(e, EX_DATAERR, "%s:%lu: CSV: %s",
			    x->o.name,
			    x->last_nl && x->line > 1 ? x->line - 1 : x->line,
			    x->broken);
		return x->stopped ? stop_result(x, e) : 0;
	default:
		return 0;	/* empty input */
	}
}
