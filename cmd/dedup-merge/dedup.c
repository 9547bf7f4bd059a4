#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cval.h"
#include "dedup.h"
#include "exitcodes.h"
#include "hash.h"
#include "keytab.h"
#include "spill.h"
#include "strmap.h"
#include "xalloc.h"

#define MAX_KEY_PARTS	32
#define MSG_BLOCK	((size_t)64 * 1024)
/* How often the long loops at the end look for a signal. */
#define SIGNAL_EVERY	4096

/* spill_rec.flags, for --diff. */
#define REC_OLD		1u	/* a version read from OLD */
#define REC_TOMBSTONE	2u	/* to be written as a tombstone */
/* Index of a record's side: without --diff every record is NEW. */
enum { SIDE_NEW, SIDE_OLD };
#define REC_SIDE(r)	(((r)->flags & REC_OLD) ? SIDE_OLD : SIDE_NEW)

/*
 * Where records are copied once: big blocks, let go all at once.  The
 * blocks of the usual size are kept for the next segment: fresh memory
 * would cost a page fault per page every time.
 */
struct arena {
	char		**chunks;
	size_t		*sizes;
	size_t		 n;		/* allocated */
	size_t		 cap;
	size_t		 cur;		/* in use: chunks[0 .. cur) */
	char		*p;
	size_t		 left;
	size_t		 bytes;		/* of the chunks in use */
	size_t		 chunk;
};

struct dstream {
	char		*name;
	size_t		 len;
	char		**paths;	/* the key, one path a part */
	size_t		 npaths;
	int		 dotted;	/* paths from -k; else member names */
	int		 seen;		/* a record of it came */
};

/* Records held in a vector, in the order they came, with their arena. */
struct held {
	struct arena	 arena;
	struct spill_rec **v;
	size_t		 n;
	size_t		 cap;
};

struct dedup {
	struct cli	*cli;
	struct dedup_opts opts;
	struct dstream	*streams;
	size_t		 nstreams;
	struct strmap	 names;
	char		**kpaths;	/* -k parsed */
	size_t		 nkpaths;

	uint64_t	 seq;
	struct held	 h;		/* this segment's records */
	struct keytab	 table;		/* (stream, key) -> into h.v */
	struct spill	*runs;		/* segments spilled, by key */
	struct spill	*runs2;		/* survivors spilled, by first seq */
	size_t		 p3cap;		/* what the survivors may hold */

	int		 msgfd;		/* messages held until the end */
	struct jbuf	 msgbuf;
	struct jval_parser *parser;	/* for the survivors, at the end */

	struct jbuf	 key, val, buf, out;
	unsigned long long records, duplicates, cursor_dropped, excluded,
			 deleted, dropped, written, spilled;
	unsigned long long inserted, updated, unchanged;	/* --diff */
	unsigned long long steps;	/* of the loops at the end */
};

/* memcpy that takes an empty source as it is: NULL from an empty jbuf. */
static void
copy(char *dst, const void *src, size_t n)
{
	if (n > 0)
		memcpy(dst, src, n);
}

static size_t
align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/* What allocating n bytes would add to the memory held. */
static size_t
arena_cost(const struct arena *a, size_t n)
{
	n = align8(n);
	if (n <= a->left)
		return 0;
	return n > a->chunk ? n : a->chunk;
}

static void *
arena_alloc(struct arena *a, size_t n)
{
	size_t size;
	char *r;

	n = align8(n);
	if (n > a->left) {
		size = n > a->chunk ? n : a->chunk;
		if (a->cur == a->n || a->sizes[a->cur] < size) {
			if (a->n == a->cap) {
				a->cap = a->cap ? a->cap * 2 : 64;
				a->chunks = xalloc_realloc(a->chunks, a->cap,
				    sizeof(*a->chunks));
				a->sizes = xalloc_realloc(a->sizes, a->cap,
				    sizeof(*a->sizes));
			}
			/* The new chunk goes in use; a kept one moves last. */
			if (a->cur < a->n) {
				a->chunks[a->n] = a->chunks[a->cur];
				a->sizes[a->n] = a->sizes[a->cur];
			}
			a->chunks[a->cur] = xalloc_realloc(NULL, size, 1);
			a->sizes[a->cur] = size;
			a->n++;
		}
		a->p = a->chunks[a->cur];
		a->left = a->sizes[a->cur];
		a->bytes += a->left;
		a->cur++;
	}
	r = a->p;
	a->p += n;
	a->left -= n;
	return r;
}

/* Let go of everything; keep the usual-size chunks for reuse. */
static void
arena_reset(struct arena *a)
{
	size_t i, k = 0;

	for (i = 0; i < a->n; i++) {
		if (a->sizes[i] == a->chunk) {
			a->chunks[k] = a->chunks[i];
			a->sizes[k++] = a->sizes[i];
		} else
			free(a->chunks[i]);
	}
	a->n = k;
	a->cur = 0;
	a->p = NULL;
	a->left = 0;
	a->bytes = 0;
}

static void
arena_free(struct arena *a)
{
	size_t i, chunk = a->chunk;

	for (i = 0; i < a->n; i++)
		free(a->chunks[i]);
	free(a->chunks);
	free(a->sizes);
	memset(a, 0, sizeof(*a));
	a->chunk = chunk;
}

static size_t
held_bytes(const struct held *h)
{
	return h->arena.bytes + h->cap * sizeof(struct spill_rec *);
}

/* A copy of r's header, with room for size bytes after it, in a. */
static struct spill_rec *
arena_copy(struct arena *a, const struct spill_rec *r, size_t size)
{
	struct spill_rec *n;

	n = arena_alloc(a, sizeof(*n) + size);
	*n = *r;
	n->cap = (uint32_t)(align8(sizeof(*n) + size) - sizeof(*n));
	return n;
}

/* A copy of r (with first and seq as they are) in h. */
static struct spill_rec *
held_add(struct held *h, const struct spill_rec *r, size_t size)
{
	struct spill_rec *n = arena_copy(&h->arena, r, size);

	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 1024;
		h->v = xalloc_realloc(h->v, h->cap, sizeof(struct spill_rec *));
	}
	h->v[h->n++] = n;
	return n;
}

static void
held_reset(struct held *h)
{
	arena_reset(&h->arena);
	h->n = 0;
}

static void
held_free(struct held *h)
{
	arena_free(&h->arena);
	free(h->v);
	h->v = NULL;
	h->n = h->cap = 0;
}

static int
cmp_key(const struct spill_rec *a, const struct spill_rec *b)
{
	size_t n;
	int c;

	if (a->stream != b->stream)
		return a->stream < b->stream ? -1 : 1;
	n = a->keylen < b->keylen ? a->keylen : b->keylen;
	if ((c = memcmp(SPILL_KEY(a), SPILL_KEY(b), n)) != 0)
		return c;
	return (a->keylen > b->keylen) - (a->keylen < b->keylen);
}

static int
cmp_first(const struct spill_rec *a, const struct spill_rec *b)
{
	return (a->first > b->first) - (a->first < b->first);
}

static int
qcmp_key(const void *x, const void *y)
{
	return cmp_key(*(const struct spill_rec *const *)x,
	    *(const struct spill_rec *const *)y);
}

static int
qcmp_first(const void *x, const void *y)
{
	return cmp_first(*(const struct spill_rec *const *)x,
	    *(const struct spill_rec *const *)y);
}

/* Split a comma-separated list of paths; a leading '.' is dropped. */
static char **
split_paths(const char *csv, size_t *n)
{
	char **v = NULL;
	const char *p = csv, *comma;
	size_t len;

	*n = 0;
	for (;;) {
		comma = strchr(p, ',');
		len = comma ? (size_t)(comma - p) : strlen(p);
		if (len > 0 && *p == '.')
			p++, len--;
		v = xalloc_realloc(v, *n + 1, sizeof(*v));
		v[(*n)++] = xalloc_memdup(p, len);
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	return v;
}

int
dedup_keep_depth(const struct dedup_opts *o)
{
	const char *p;
	int d = 1, k = 1;

	if (o->keys != NULL)
		for (p = o->keys; *p != '\0'; p++) {
			if (*p == ',')
				k = 1;
			else if (*p == '.' && p != o->keys && p[-1] != ',')
				k++;
			d = k > d ? k : d;
		}
	if (o->rule == DEDUP_LATEST && jval_path_depth(o->latest_by) > d)
		d = jval_path_depth(o->latest_by);
	/* A RECORD message's record is one level down. */
	return 1 + d;
}

struct dedup *
dedup_new(struct cli *c, const struct dedup_opts *o)
{
	struct dedup *d = xalloc_realloc(NULL, 1, sizeof(*d));

	memset(d, 0, sizeof(*d));
	d->table.first = 1024;		/* 8 KiB of slots to begin with */
	d->cli = c;
	d->opts = *o;
	d->msgfd = -1;
	if (o->keys != NULL)
		d->kpaths = split_paths(o->keys, &d->nkpaths);
	d->h.arena.chunk = o->memory / 16;
	if (d->h.arena.chunk > ((size_t)1 << 20))
		d->h.arena.chunk = (size_t)1 << 20;
	if (d->h.arena.chunk < ((size_t)16 << 10))
		d->h.arena.chunk = (size_t)16 << 10;
	return d;
}

static void
free_paths(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
dedup_free(struct dedup *d)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < d->nstreams; i++) {
		free(d->streams[i].name);
		if (d->streams[i].paths != d->kpaths)
			free_paths(d->streams[i].paths, d->streams[i].npaths);
	}
	free(d->streams);
	free_paths(d->kpaths, d->nkpaths);
	strmap_free(&d->names);
	held_free(&d->h);
	keytab_free(&d->table);
	spill_free(d->runs);
	spill_free(d->runs2);
	if (d->msgfd != -1)
		(void)close(d->msgfd);
	jbuf_free(&d->msgbuf);
	jval_parser_free(d->parser);
	jbuf_free(&d->key);
	jbuf_free(&d->val);
	jbuf_free(&d->buf);
	jbuf_free(&d->out);
	free(d);
}

/* The stream's number, made on first sight. */
static size_t
stream_of(struct dedup *d, const char *name, size_t len)
{
	struct dstream *s;
	long i;

	if ((i = strmap_get(&d->names, name, len)) != -1)
		return (size_t)i;
	d->streams = xalloc_realloc(d->streams, d->nstreams + 1,
	    sizeof(*d->streams));
	s = &d->streams[d->nstreams];
	memset(s, 0, sizeof(*s));
	s->name = xalloc_memdup(name, len);
	s->len = len;
	if (d->kpaths != NULL) {
		s->paths = d->kpaths;
		s->npaths = d->nkpaths;
		s->dotted = 1;
	}
	strmap_put(&d->names, name, len, d->nstreams);
	return d->nstreams++;
}

/* A SCHEMA's key_properties name the key when -k does not. */
static void
on_schema_keys(struct dedup *d, const struct message *m)
{
	size_t i = stream_of(d, m->stream, m->streamlen), n = 0;
	struct dstream *s = &d->streams[i];
	const struct jval *k;

	if (d->kpaths != NULL || m->key_properties == NULL ||
	    m->key_properties->type != JV_ARRAY)
		return;
	free_paths(s->paths, s->npaths);
	s->paths = NULL;
	s->npaths = 0;
	for (k = m->key_properties->child; k != NULL; k = k->next)
		if (k->type == JV_STRING && n < MAX_KEY_PARTS) {
			s->paths = xalloc_realloc(s->paths, n + 1,
			    sizeof(*s->paths));
			s->paths[n++] = xalloc_memdup(k->str, k->len);
		}
	s->npaths = n;
}

static const struct jval *
key_part(const struct dstream *s, const struct jval *rec, size_t i)
{
	if (s->dotted)
		return jval_path(rec, s->paths[i]);
	return jval_getn(rec, s->paths[i], strlen(s->paths[i]));
}

/* The key text of rec into d->key; a reason when it has none. */
static const char *
make_key(struct dedup *d, const struct dstream *s, const struct jval *rec)
{
	const struct jval *v;
	size_t i;

	jbuf_reset(&d->key);
	if (s->npaths > 1)
		jbuf_putc(&d->key, '[');
	for (i = 0; i < s->npaths; i++) {
		v = key_part(s, rec, i);
		if (v == NULL || v->type == JV_NULL || v->type == JV_OBJECT ||
		    v->type == JV_ARRAY) {
			jbuf_reset(&d->buf);
			jbuf_puts(&d->buf, v == NULL ? "no key " : "key ");
			jbuf_puts(&d->buf, s->paths[i]);
			if (v != NULL)
				jbuf_puts(&d->buf, v->type == JV_NULL ?
				    " is null" : v->type == JV_OBJECT ?
				    " is an object" : " is an array");
			return jbuf_cstr(&d->buf);
		}
		if (i > 0)
			jbuf_putc(&d->key, ',');
		jval_write(&d->key, v);
	}
	if (s->npaths > 1)
		jbuf_putc(&d->key, ']');
	return NULL;
}

/* With --diff, OLD's and NEW's versions of a key are held apart. */
static uint64_t
key_hash(size_t stream, unsigned side, const char *key, size_t len)
{
	return keytab_hash(key, len) ^
	    hash_mix(((uint64_t)stream << 1 | side) + 1);
}

/* The record sought in the table: its stream and side beside the key. */
struct probe {
	const struct dedup *d;
	uint32_t	 stream;
	unsigned	 side;
};

static int
same_key(const void *owner, size_t pos, const void *key, size_t len)
{
	const struct probe *p = owner;
	const struct spill_rec *c = p->d->h.v[pos];

	return c->stream == p->stream && REC_SIDE(c) == p->side &&
	    c->keylen == len && memcmp(SPILL_KEY(c), key, len) == 0;
}

/* The position in h.v of the stream's key, or -1 and its slot. */
static long
find_key(const struct dedup *d, const struct spill_rec *r, uint64_t h,
    size_t *slot)
{
	struct probe p = { d, r->stream, REC_SIDE(r) };

	return keytab_find_position(&d->table, h, same_key, &p, d->key.p,
	    r->keylen, slot);
}

/* Sort this segment's records by key into a run; start a new segment. */
static int
spill_segment(struct dedup *d)
{
	struct lib_err e;

	if (d->runs == NULL &&
	    (d->runs = spill_new(d->opts.tmpdir, cmp_key, &e)) == NULL)
		goto fail;
	qsort(d->h.v, d->h.n, sizeof(struct spill_rec *), qcmp_key);
	if (spill_run(d->runs, d->h.v, d->h.n, &e) == -1)
		goto fail;
	held_reset(&d->h);
	keytab_clear(&d->table);
	return 0;
fail:
	cli_error(d->cli, e.code, "%s", e.msg);
	return -1;
}

/* 1 if the version with value val and sequence seq beats r. */
static int
beats(const struct dedup *d, const char *val, size_t vallen, uint64_t seq,
    const struct spill_rec *r)
{
	int c;

	switch (d->opts.rule) {
	case DEDUP_FIRST:
		return seq < r->seq;
	case DEDUP_LATEST:
		c = cval_cmp(val, vallen, SPILL_VAL(r), r->vallen);
		return c > 0 || (c == 0 && seq > r->seq);
	default:
		return seq > r->seq;
	}
}

/* Room for a record of size bytes and maybe a new key; else spill. */
static int
make_room(struct dedup *d, size_t size, int newkey)
{
	size_t cost = arena_cost(&d->h.arena, sizeof(struct spill_rec) + size);

	if (newkey && d->h.n == d->h.cap)
		cost += (d->h.cap ? d->h.cap : 1024) * sizeof(struct spill_rec *);
	if (newkey)
		cost += keytab_bytes_for(&d->table, d->h.n + 1) -
		    keytab_bytes(&d->table);
	/* A table of KEYTAB_MAX keys is full whatever the cap: spill. */
	if (d->h.n == 0 || (held_bytes(&d->h) + keytab_bytes(&d->table) +
	    cost <= d->opts.memory && !(newkey && d->h.n == KEYTAB_MAX)))
		return 0;
	return spill_segment(d) == -1 ? -1 : 1;
}

/* The key, the value and the line of the record at hand, into n. */
static void
fill(struct spill_rec *n, const struct dedup *d, const struct cli_line *l)
{
	copy(SPILL_KEYW(n), d->key.p, d->key.len);
	copy(SPILL_VALW(n), d->val.p, d->val.len);
	copy(SPILL_LINEW(n), l->text, l->len);
}

/*
 * Another version r of the record held at pos: it takes the old one's
 * place if it beats it, in the old one's bytes when it fits.  0 when
 * done, -1 on error, 1 when making room spilled the old version with
 * its segment: r is then held as a new key.
 */
static int
hold_version(struct dedup *d, size_t pos, const struct spill_rec *r,
    size_t size, const struct cli_line *l)
{
	struct spill_rec *old = d->h.v[pos], *n;
	int rc;

	d->duplicates++;
	if (!beats(d, d->val.p, d->val.len, r->seq, old))
		return 0;
	if (size <= old->cap) {
		/* The key is the same; value and line change. */
		old->seq = r->seq;
		old->vallen = r->vallen;
		old->linelen = r->linelen;
		fill(old, d, l);
		return 0;
	}
	if ((rc = make_room(d, size, 0)) != 0)
		return rc;
	n = arena_copy(&d->h.arena, r, size);
	n->first = old->first;
	d->h.v[pos] = n;
	fill(n, d, l);
	return 0;
}

/* 1 if the line comes from --diff's OLD snapshot. */
static int
from_old(const struct dedup *d, const struct cli_line *l)
{
	return d->opts.diff_old != NULL && l->file == d->opts.diff_old;
}

/* Hold the record at hand (d->key, d->val, l) under its key. */
static int
hold(struct dedup *d, size_t stream, const struct cli_line *l)
{
	struct spill_rec r, *n;
	uint64_t h;
	size_t slot, size;
	long pos;
	int rc, grew;

	memset(&r, 0, sizeof(r));
	r.seq = r.first = ++d->seq;
	r.stream = (uint32_t)stream;
	r.flags = from_old(d, l) ? REC_OLD : 0;
	h = key_hash(stream, REC_SIDE(&r), d->key.p, d->key.len);
	r.keylen = (uint32_t)d->key.len;
	r.vallen = (uint32_t)d->val.len;
	r.linelen = (uint32_t)l->len;
	size = SPILL_SIZE(&r);
	pos = find_key(d, &r, h, &slot);
	if (pos != -1 && (rc = hold_version(d, (size_t)pos, &r, size, l)) != 1)
		return rc;
	/* A new key, or one whose old version just spilled. */
	if ((rc = make_room(d, size, 1)) == -1)
		return -1;
	grew = keytab_reserve(&d->table, d->h.n + 1);
	/* The slot found is stale if a spill emptied the table or it grew. */
	if (grew || rc == 1 || pos != -1)
		(void)find_key(d, &r, h, &slot);
	n = held_add(&d->h, &r, size);
	keytab_insert(&d->table, slot, h, d->h.n - 1);
	fill(n, d, l);
	return 0;
}

/* A record whose stream has no key: a usage error, mid-stream. */
static int
no_key(struct dedup *d, const struct dstream *s)
{
	cli_error(d->cli, EX_USAGE, "stream %s: no key: give -k, or a SCHEMA "
	    "message with key_properties", s->name);
	jbuf_reset(&d->buf);
	message_write_abort(&d->buf, d->cli->prog, EX_USAGE,
	    d->cli->last_error);
	d->cli->aborted = 1;
	(void)cli_write(d->cli, d->buf.p, d->buf.len);
	return -1;
}

/*
 * A stream's first record tells whether it holds child rows, which
 * jsonl-normalize gives every row of a child table: deduplicated each on
 * its own, a row of a superseded version would outlive it.  Said once.
 */
static void
first_record(struct dedup *d, struct dstream *s, const struct jval *rec)
{
	s->seen = 1;
	if (jval_get(rec, "_sluice_root_id") != NULL && !d->cli->quiet)
		cli_error(d->cli, 0, "stream %s: child rows (_sluice_root_id): "
		    "each is deduplicated on its own; place dedup-merge before "
		    "jsonl-normalize, on the records whole", s->name);
}

static int
on_record(struct dedup *d, const struct cli_line *l)
{
	const struct message *m = &l->msg;
	enum cursor_verdict verdict;
	struct lib_err e;
	const char *why;
	size_t i;

	i = m->kind == MSG_BARE ?
	    stream_of(d, d->cli->table, strlen(d->cli->table)) :
	    stream_of(d, m->stream, m->streamlen);
	if (d->streams[i].npaths == 0)
		return no_key(d, &d->streams[i]);
	if (!d->streams[i].seen)
		first_record(d, &d->streams[i], m->record);
	d->records++;
	if ((why = make_key(d, &d->streams[i], m->record)) != NULL)
		return cli_reject(d->cli, l, why);
	if (l->len > UINT32_MAX / 2)
		return cli_reject(d->cli, l, "record too long to hold");
	if (d->opts.cursor != NULL) {
		if (cursor_check(d->opts.cursor, i, d->streams[i].name,
		    d->streams[i].len, m->record, d->key.p, d->key.len,
		    &verdict, &e) == -1) {
			cli_error(d->cli, e.code, "%s", e.msg);
			return -1;
		}
		if (verdict == CURSOR_DROP) {
			d->cursor_dropped++;
			return 0;
		}
		if (verdict == CURSOR_MISSING) {
			if (d->opts.on_missing == CURSOR_EXCLUDE) {
				d->excluded++;
				return 0;
			}
			if (d->opts.on_missing == CURSOR_FAIL)
				return cli_reject(d->cli, l,
				    "no cursor value");
		}
	}
	jbuf_reset(&d->val);
	if (d->opts.rule == DEDUP_LATEST)
		cval_encode(&d->val, jval_path(m->record, d->opts.latest_by));
	return hold(d, i, l);
}

/* Keep a message for after the records, in a temporary file. */
static int
hold_message(struct dedup *d, const struct cli_line *l)
{
	struct lib_err e;
	const char *p;
	size_t n;
	ssize_t w;

	jbuf_put(&d->msgbuf, l->text, l->len);
	jbuf_putc(&d->msgbuf, '\n');
	if (d->msgbuf.len < MSG_BLOCK)
		return 0;
	if (d->msgfd == -1 &&
	    (d->msgfd = spill_tmpfd(d->opts.tmpdir, &e)) == -1) {
		cli_error(d->cli, e.code, "%s", e.msg);
		return -1;
	}
	for (p = d->msgbuf.p, n = d->msgbuf.len; n > 0; p += w, n -= (size_t)w)
		if ((w = write(d->msgfd, p, n)) < 0) {
			if (errno == EINTR) {
				w = 0;
				continue;
			}
			cli_error(d->cli, liberr_errno_status(errno, EX_IOERR),
			    "%s: temporary file: %s", d->opts.tmpdir,
			    strerror(errno));
			return -1;
		}
	jbuf_reset(&d->msgbuf);
	return 0;
}

int
dedup_line(struct dedup *d, struct cli_line *l)
{
	switch (l->msg.kind) {
	case MSG_BARE:
	case MSG_RECORD:
		return on_record(d, l);
	case MSG_SCHEMA:
		on_schema_keys(d, &l->msg);
		if (cli_write(d->cli, l->text, l->len) == -1 ||
		    cli_write(d->cli, "\n", 1) == -1)
			return -1;
		return 0;
	case MSG_ABORT:
		/* Upstream failed: pass the news on and fail too. */
		d->cli->aborted = 1;
		(void)cli_write(d->cli, l->text, l->len);
		(void)cli_write(d->cli, "\n", 1);
		cli_upstream_failed(d->cli, l);
		return -1;
	case MSG_ACTIVATE_VERSION:
		/*
		 * A diff is no full table: activating its version would
		 * delete every unchanged row.
		 */
		if (d->opts.diff_old != NULL)
			return 0;
		return hold_message(d, l);
	default:
		/* OLD's STATE was committed with OLD: it would move back. */
		if (from_old(d, l))
			return 0;
		return hold_message(d, l);
	}
}

/* A signal arrived: stop with its status.  Checked now and then. */
static int
stopped(struct dedup *d)
{
	if ((++d->steps & (SIGNAL_EVERY - 1)) != 0 || cli_signalled() == 0)
		return 0;
	cli_set_status(d->cli, 128 + cli_signalled());
	return 1;
}

/* The members of a tombstone: the key paths under prefix length plen. */
static void
put_members(struct jbuf *b, const struct dstream *s, const struct jval *rec,
    const size_t *sel, size_t nsel, size_t plen, int *first)
{
	char done[MAX_KEY_PARTS];
	size_t sub[MAX_KEY_PARTS], nsub, a, x, seg;
	const char *path, *dot;
	int f;

	memset(done, 0, sizeof(done));
	for (a = 0; a < nsel; a++) {
		if (done[a])
			continue;
		path = s->paths[sel[a]] + plen;
		dot = s->dotted ? strchr(path, '.') : NULL;
		if (!*first)
			jbuf_putc(b, ',');
		*first = 0;
		if (dot == NULL) {
			jbuf_str(b, path, strlen(path));
			jbuf_putc(b, ':');
			jval_write(b, key_part(s, rec, sel[a]));
			done[a] = 1;
			continue;
		}
		seg = (size_t)(dot - path);
		for (nsub = 0, x = a; x < nsel; x++)
			if (!done[x] && strncmp(s->paths[sel[x]] + plen, path,
			    seg + 1) == 0) {
				sub[nsub++] = sel[x];
				done[x] = 1;
			}
		jbuf_str(b, path, seg);
		jbuf_puts(b, ":{");
		f = 1;
		put_members(b, s, rec, sub, nsub, plen + seg + 1, &f);
		jbuf_putc(b, '}');
	}
}

/* The tombstone of the record of message m, with its newline, into out. */
static void
put_tombstone(struct dedup *d, const struct dstream *s,
    const struct message *m, struct jbuf *out)
{
	size_t sel[MAX_KEY_PARTS], i;
	const struct jval *t;
	int first = 1;

	for (i = 0; i < s->npaths && i < MAX_KEY_PARTS; i++)
		sel[i] = i;
	jbuf_reset(out);
	if (m->kind == MSG_RECORD) {
		jbuf_puts(out, "{\"type\":\"RECORD\",\"stream\":");
		jbuf_str(out, s->name, s->len);
		jbuf_puts(out, ",\"record\":");
	}
	jbuf_putc(out, '{');
	put_members(out, s, m->record, sel, i, 0, &first);
	jbuf_puts(out, first ? "" : ",");
	jbuf_puts(out, "\"_sluice_deleted\":true}");
	if (m->kind == MSG_RECORD) {
		if (m->version != NULL) {
			jbuf_puts(out, ",\"version\":");
			jval_write(out, m->version);
		}
		if ((t = jval_get(m->root, "time_extracted")) != NULL) {
			jbuf_puts(out, ",\"time_extracted\":");
			jval_write(out, t);
		}
		jbuf_putc(out, '}');
	}
	jbuf_putc(out, '\n');
	(void)d;
}

/*
 * Parse a held record's line into m, whole; the documents parsed since
 * the last jval_parser_rewind stay valid.  -1 on error.
 */
static int
parse_held(struct dedup *d, const struct spill_rec *r, struct message *m)
{
	const struct jval *root;
	struct lib_err e;

	if (d->parser == NULL &&
	    (d->parser = jval_parser_new(d->cli->max_line * 8 +
	    ((size_t)1 << 20))) == NULL) {
		cli_error(d->cli, EX_OSERR, "out of memory");
		return -1;
	}
	if ((root = jval_parse(d->parser, SPILL_LINE(r), r->linelen,
	    JVAL_KEEP_ALL, &e)) == NULL ||
	    message_classify(root, d->cli->raw, m, &e) == -1) {
		cli_error(d->cli, EX_SOFTWARE, "a held record: %s", e.msg);
		return -1;
	}
	return 0;
}

/* --delete-when on a survivor: 1 to delete, 0 to keep, -1 on error. */
static int
judge(struct dedup *d, const struct spill_rec *r, struct message *m)
{
	struct lib_err e;
	const char *json = SPILL_LINE(r);
	size_t len = r->linelen;

	if (d->parser != NULL)
		jval_parser_rewind(d->parser);
	if (parse_held(d, r, m) == -1)
		return -1;
	if (m->kind == MSG_RECORD) {
		jbuf_reset(&d->buf);
		jval_write(&d->buf, m->record);
		json = d->buf.p;
		len = d->buf.len;
	}
	jbuf_reset(&d->out);
	if (transform_run(d->opts.del, json, len, &d->out, &e) == -1) {
		jbuf_reset(&d->key);
		jbuf_put(&d->key, SPILL_KEY(r), r->keylen);
		cli_error(d->cli, EX_DATAERR, "stream %s: key %s: --delete-when: "
		    "%s", d->streams[r->stream].name, jbuf_cstr(&d->key), e.msg);
		return -1;
	}
	return d->out.len >= 5 && memcmp(d->out.p, "true\n", 5) == 0;
}

/* The tombstone of the record of message m, written. */
static int
write_tombstone(struct dedup *d, const struct spill_rec *r,
    const struct message *m)
{
	put_tombstone(d, &d->streams[r->stream], m, &d->out);
	d->written++;
	return cli_write(d->cli, d->out.p, d->out.len);
}

static int
emit(struct dedup *d, const struct spill_rec *r)
{
	struct message m;
	int rc;

	if (r->flags & REC_TOMBSTONE) {
		/* --diff: a key that NEW no longer has. */
		if (d->parser != NULL)
			jval_parser_rewind(d->parser);
		if (parse_held(d, r, &m) == -1)
			return -1;
		d->deleted++;
		return write_tombstone(d, r, &m);
	}
	if (d->opts.del != NULL) {
		if ((rc = judge(d, r, &m)) == -1)
			return -1;
		if (rc == 1) {
			d->deleted++;
			if (d->opts.drop_deleted) {
				d->dropped++;
				return 0;
			}
			return write_tombstone(d, r, &m);
		}
	}
	d->written++;
	if (cli_write(d->cli, SPILL_LINE(r), r->linelen) == -1 ||
	    cli_write(d->cli, "\n", 1) == -1)
		return -1;
	return 0;
}

/*
 * 1 if the rows of two versions hold the same data, as sqlite-load's
 * SCD2 row hash sees it (jval_write_canonical): members in any order, a
 * null member the same as a missing one, sluice's own members left out;
 * numbers compare as written (1.0 is not 1).  For a RECORD message only
 * its record counts.  -1 on error.
 */
static int
same_row(struct dedup *d, const struct spill_rec *a,
    const struct spill_rec *b)
{
	struct message ma, mb;

	if (a->linelen == b->linelen &&
	    memcmp(SPILL_LINE(a), SPILL_LINE(b), a->linelen) == 0)
		return 1;
	if (d->parser != NULL)
		jval_parser_rewind(d->parser);
	if (parse_held(d, a, &ma) == -1 || parse_held(d, b, &mb) == -1)
		return -1;
	jbuf_reset(&d->buf);
	jval_write_canonical(&d->buf, ma.record, 1);
	jbuf_reset(&d->out);
	jval_write_canonical(&d->out, mb.record, 1);
	return d->buf.len == d->out.len &&
	    memcmp(d->buf.p, d->out.p, d->buf.len) == 0;
}

/*
 * What a key's survivors call for, v[SIDE_NEW] and v[SIDE_OLD] (either
 * may be NULL): without --diff the survivor; with it NEW's record when
 * the key is new or its row changed, OLD's as a tombstone when NEW has
 * no such key, nothing (*pick NULL) when the row is the same.  *pick
 * takes first, the key's first appearance.  -1 on error.
 */
static int
pick_survivor(struct dedup *d, struct spill_rec *const v[2], uint64_t first,
    struct spill_rec **pick)
{
	int rc;

	*pick = v[SIDE_NEW];
	if (d->opts.diff_old != NULL) {
		if (v[SIDE_NEW] == NULL) {
			*pick = v[SIDE_OLD];
			(*pick)->flags |= REC_TOMBSTONE;
		} else if (v[SIDE_OLD] == NULL)
			d->inserted++;
		else if ((rc = same_row(d, v[SIDE_OLD], v[SIDE_NEW])) == -1)
			return -1;
		else if (rc == 1) {
			d->unchanged++;
			*pick = NULL;
		} else
			d->updated++;
	}
	if (*pick != NULL)
		(*pick)->first = first;
	return 0;
}

/*
 * --diff without a spill: the held versions sorted by key, at most one
 * of each side a key; keep what pick_survivor picks, in the order the
 * keys first appeared, and write it.
 */
static int
diff_held(struct dedup *d)
{
	struct spill_rec *v[2], *pick, *r;
	uint64_t first;
	size_t i, kept = 0;

	if (d->h.n > 0)
		qsort(d->h.v, d->h.n, sizeof(struct spill_rec *), qcmp_key);
	for (i = 0; i < d->h.n; i++) {
		if (stopped(d))
			return -1;
		r = d->h.v[i];
		v[SIDE_NEW] = v[SIDE_OLD] = NULL;
		v[REC_SIDE(r)] = r;
		first = r->first;
		if (i + 1 < d->h.n && cmp_key(r, d->h.v[i + 1]) == 0) {
			r = d->h.v[++i];
			v[REC_SIDE(r)] = r;
			first = r->first < first ? r->first : first;
		}
		if (pick_survivor(d, v, first, &pick) == -1)
			return -1;
		if (pick != NULL)
			d->h.v[kept++] = pick;
	}
	d->h.n = kept;
	if (d->h.n > 0)
		qsort(d->h.v, d->h.n, sizeof(struct spill_rec *), qcmp_first);
	for (i = 0; i < d->h.n; i++)
		if (stopped(d) || emit(d, d->h.v[i]) == -1)
			return -1;
	return 0;
}

static int
emit_merged(struct dedup *d, struct spill *s)
{
	const struct spill_rec *r;
	struct lib_err e;
	int rc;

	if (spill_merge_start(s, d->opts.memory, &e) == -1) {
		cli_error(d->cli, e.code, "%s", e.msg);
		return -1;
	}
	while ((rc = spill_merge_next(s, &r, &e)) == 1) {
		if (stopped(d) || emit(d, r) == -1)
			return -1;
	}
	if (rc == -1)
		cli_error(d->cli, e.code, "%s", e.msg);
	return rc;
}

static int
spill_held(struct dedup *d, struct spill **s,
    int (*cmp)(const struct spill_rec *, const struct spill_rec *),
    int (*qcmp)(const void *, const void *))
{
	struct lib_err e;

	if (*s == NULL && (*s = spill_new(d->opts.tmpdir, cmp, &e)) == NULL)
		goto fail;
	qsort(d->h.v, d->h.n, sizeof(struct spill_rec *), qcmp);
	if (spill_run(*s, d->h.v, d->h.n, &e) == -1)
		goto fail;
	held_reset(&d->h);
	return 0;
fail:
	cli_error(d->cli, e.code, "%s", e.msg);
	return -1;
}

/* A survivor of the merge by key, held to be sorted by first appearance. */
static int
keep_survivor(struct dedup *d, const struct spill_rec *r)
{
	size_t size = SPILL_SIZE(r), cost;
	struct spill_rec *n;

	cost = arena_cost(&d->h.arena, sizeof(*r) + size);
	if (d->h.n == d->h.cap)
		cost += (d->h.cap ? d->h.cap : 1024) * sizeof(struct spill_rec *);
	if (d->h.n > 0 && held_bytes(&d->h) + cost > d->p3cap &&
	    spill_held(d, &d->runs2, cmp_first, qcmp_first) == -1)
		return -1;
	n = held_add(&d->h, r, size);
	copy(SPILL_KEYW(n), SPILL_KEY(r), size);
	return 0;
}

/* The key's survivors, v: what pick_survivor picks, held. */
static int
keep_pick(struct dedup *d, struct spill_rec *const v[2], uint64_t first)
{
	struct spill_rec *pick;

	if (pick_survivor(d, v, first, &pick) == -1)
		return -1;
	return pick == NULL ? 0 : keep_survivor(d, pick);
}

/* Merge the runs by key, resolve each key's survivor, then emit. */
static int
merge_runs(struct dedup *d)
{
	const struct spill_rec *r;
	struct spill_rec *best[2] = { NULL, NULL }, *cur;
	struct jbuf b[2] = { JBUF_INIT, JBUF_INIT };
	struct lib_err e;
	unsigned long long i;
	uint64_t first = 0;
	size_t bufbytes;
	unsigned side;
	int rc;

	if (d->h.n > 0 && spill_segment(d) == -1)
		return -1;
	held_free(&d->h);
	keytab_free(&d->table);
	/*
	 * The merge reads each run through at most SPILL_MAX_BUF; the rest
	 * of the cap holds the survivors.
	 */
	bufbytes = spill_nruns(d->runs) * SPILL_MAX_BUF;
	if (bufbytes > d->opts.memory / 2)
		bufbytes = d->opts.memory / 2;
	d->p3cap = d->opts.memory - bufbytes;
	if (spill_merge_start(d->runs, bufbytes, &e) == -1) {
		cli_error(d->cli, e.code, "%s", e.msg);
		return -1;
	}
	/* A key's versions come together; each side keeps its survivor. */
	while ((rc = spill_merge_next(d->runs, &r, &e)) == 1) {
		if (stopped(d))
			goto fail;
		cur = best[SIDE_NEW] != NULL ? best[SIDE_NEW] : best[SIDE_OLD];
		if (cur != NULL && cmp_key(r, cur) != 0) {
			if (keep_pick(d, best, first) == -1)
				goto fail;
			best[SIDE_NEW] = best[SIDE_OLD] = cur = NULL;
		}
		if (cur == NULL || r->first < first)
			first = r->first;
		side = REC_SIDE(r);
		if (best[side] != NULL) {
			d->duplicates++;
			if (!beats(d, SPILL_VAL(r), r->vallen, r->seq, best[side]))
				continue;
		}
		jbuf_reset(&b[side]);
		jbuf_put(&b[side], r, sizeof(*r) + SPILL_SIZE(r));
		best[side] = (struct spill_rec *)(void *)b[side].p;
	}
	if (rc == -1) {
		cli_error(d->cli, e.code, "%s", e.msg);
		goto fail;
	}
	if ((best[SIDE_NEW] != NULL || best[SIDE_OLD] != NULL) &&
	    keep_pick(d, best, first) == -1)
		goto fail;
	jbuf_free(&b[0]);
	jbuf_free(&b[1]);
	d->spilled += spill_bytes(d->runs);
	spill_free(d->runs);
	d->runs = NULL;
	if (d->runs2 == NULL) {
		if (d->h.n > 0)
			qsort(d->h.v, d->h.n, sizeof(struct spill_rec *),
			    qcmp_first);
		for (i = 0; i < d->h.n; i++)
			if (stopped(d) || emit(d, d->h.v[i]) == -1)
				return -1;
		return 0;
	}
	if (d->h.n > 0 && spill_held(d, &d->runs2, cmp_first, qcmp_first) == -1)
		return -1;
	held_free(&d->h);
	return emit_merged(d, d->runs2);
fail:
	jbuf_free(&b[0]);
	jbuf_free(&b[1]);
	return -1;
}

/* The messages held until now, in their order. */
static int
write_messages(struct dedup *d)
{
	char buf[64 * 1024];
	ssize_t got;

	if (d->msgfd != -1) {
		if (lseek(d->msgfd, 0, SEEK_SET) == -1)
			goto fail;
		for (;;) {
			if ((got = read(d->msgfd, buf, sizeof(buf))) < 0) {
				if (errno == EINTR)
					continue;
				goto fail;
			}
			if (got == 0)
				break;
			if (cli_write(d->cli, buf, (size_t)got) == -1)
				return -1;
		}
	}
	return cli_write(d->cli, d->msgbuf.p, d->msgbuf.len);
fail:
	cli_error(d->cli, liberr_errno_status(errno, EX_IOERR),
	    "%s: temporary file: %s", d->opts.tmpdir, strerror(errno));
	return -1;
}

int
dedup_finish(struct dedup *d)
{
	struct jbuf warn = JBUF_INIT;
	struct lib_err e;
	const char *p, *nl;
	size_t i;
	int rc = 0;

	if (d->runs != NULL) {
		if (merge_runs(d) == -1)
			return -1;
	} else if (d->opts.diff_old != NULL) {
		if (diff_held(d) == -1)
			return -1;
	} else
		for (i = 0; i < d->h.n; i++)
			if (stopped(d) || emit(d, d->h.v[i]) == -1)
				return -1;
	held_free(&d->h);
	/* A snapshot holds each key once; else the key is not the table's. */
	if (d->opts.diff_old != NULL && d->duplicates > 0 && !d->cli->quiet)
		cli_error(d->cli, 0, "--diff: %llu more version%s of a key in "
		    "one snapshot: the %s of each counts", d->duplicates,
		    d->duplicates == 1 ? "" : "s",
		    d->opts.rule == DEDUP_FIRST ? "first" :
		    d->opts.rule == DEDUP_LATEST ? "latest" : "last");
	if (write_messages(d) == -1)
		return -1;
	if (d->opts.cursor == NULL)
		return 0;
	jbuf_reset(&d->out);
	if (cursor_state(d->opts.cursor, d->cli->table, &d->out, &warn,
	    &e) == -1) {
		cli_error(d->cli, e.code, "%s", e.msg);
		rc = -1;
	} else
		rc = cli_write(d->cli, d->out.p, d->out.len);
	for (p = warn.p; p != NULL && p < warn.p + warn.len; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(warn.p + warn.len - p));
		if (nl == NULL)
			break;
		if (!d->cli->quiet)
			cli_error(d->cli, 0, "%.*s", (int)(nl - p), p);
	}
	jbuf_free(&warn);
	return rc;
}

void
dedup_stats(const struct dedup *d, char *buf, size_t size)
{
	(void)snprintf(buf, size, "\"keyed\":%llu,\"duplicates\":%llu,"
	    "\"written\":%llu,\"deleted\":%llu,\"cursor_dropped\":%llu,"
	    "\"cursor_excluded\":%llu,\"spilled_bytes\":%llu",
	    d->records, d->duplicates, d->written, d->deleted,
	    d->cursor_dropped, d->excluded, d->spilled +
	    (d->runs ? spill_bytes(d->runs) : 0) +
	    (d->runs2 ? spill_bytes(d->runs2) : 0));
	if (d->opts.diff_old != NULL && strlen(buf) < size)
		(void)snprintf(buf + strlen(buf), size - strlen(buf),
		    ",\"inserted\":%llu,\"updated\":%llu,\"unchanged\":%llu",
		    d->inserted, d->updated, d->unchanged);
}
