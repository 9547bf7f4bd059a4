#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "exitcodes.h"
#include "naming.h"
#include "normalize.h"
#include "schema.h"
#include "hash.h"
#include "sha256.h"
#include "strmap.h"
#include "xalloc.h"

#define MAX_TABLES	SCHEMA_MAX_TABLES
#define MAX_COLUMNS	SCHEMA_MAX_COLUMNS
#define ID_LEN		22	/* 128 bits in base64url */

struct ncol {
	char		*name;
	size_t		 namelen;
	char		*member;	/* "\"name\":", ready to write */
	size_t		 memberlen;
	char		*src;		/* the source key that claimed it */
	unsigned long	 stamp;		/* the row that last set it */
	size_t		 pos;		/* its cell in that row */
};

struct ntable {
	char		*name;
	size_t		 namelen;
	char		*stream;	/* the name as a JSON string */
	size_t		 streamlen;
	uint64_t	 namehash;	/* for the ids of its rows */
	int		 is_root;
	int		 announced;	/* its SCHEMA message was written */
	struct ncol	*cols;
	size_t		 ncols;
	size_t		 capcols;
	struct strmap	 colnames;	/* column name -> index */
	char		**prefixes;	/* flattened object paths; 0 is "" */
	size_t		*prefixlens;
	long		*first;		/* each prefix's first entry last time */
	char		**prefixsrc;	/* the source key of each prefix */
	char		*src;		/* the source key (or stream) it came from */
	size_t		 nprefixes;
	struct strmap	 prefixnames;
};

/* What a source key at one place of one table has become. */
struct nentry {
	size_t		 table;
	size_t		 prefix;	/* where the key was met */
	char		*key;
	size_t		 keylen;
	long		 col;		/* as a column */
	long		 sub;		/* as a flattened object: its prefix */
	long		 child;		/* as an array: the child table */
	long		 next;		/* the entry that followed it last time */
	unsigned long	 seen;		/* the object that last had it */
	size_t		 last;		/* its last member position there */
};

/* A row id: 128 bits, and the 22 characters that show them. */
struct rowid {
	uint64_t	 a, b;
	char		 text[ID_LEN];
};

struct cell {
	size_t		 col;
	const struct jval *v;		/* NULL: the token below */
	size_t		 tokoff;
	size_t		 toklen;
};

struct pending {
	size_t		 table;
	const struct jval *array;
	int		 level;
	size_t		 pathoff;	/* its source path in the path pool */
	size_t		 pathlen;
};

struct pathkey {
	const char	*key;
	size_t		 len;
};

struct normalizer {
	struct norm_opts opts;
	struct ntable	*tables;
	size_t		 ntables;
	size_t		 captables;
	struct strmap	 tablenames;	/* every table's name -> index */
	struct strmap	 streams;	/* a stream's raw name -> root table */
	struct strmap	 entries;	/* (table, prefix, key) -> entry */
	struct nentry	*ents;
	size_t		 nents;
	size_t		 capents;

	unsigned long	 rowstamp;
	struct cell	*cells;
	size_t		 ncells;
	size_t		 capcells;
	struct jbuf	 tokens;	/* --hash values of the current row */
	struct jbuf	 scratch;
	struct jbuf	 keybuf;
	struct jbuf	 keytext;	/* a root's key values, for its id */
	struct jbuf	 meta;		/* a root row's metadata members */
	size_t		 metafixed;	/* the part of meta that is the same for all */

	struct pathkey	*path;		/* pool of source paths (--drop, --hash) */
	size_t		 npath;
	size_t		 cappath;

	size_t		*eis;		/* entries of the objects being walked */
	size_t		 neis;
	size_t		 capeis;
	unsigned long	 objstamp;

	struct jbuf	*warn;
	size_t		*announced;	/* tables announced in this record */
	size_t		 nannounced;
	uint64_t	 seed[2];	/* random ids: seed and counter */
	uint64_t	 counter;
};

static void
name_of(const struct normalizer *n, const char *s, size_t len, struct jbuf *out)
{
	if (n->opts.keep_names)
		jbuf_put(out, s, len);
	else
		naming_snake(s, len, out);
}

/*
 * The first free name of a namespace: base, else base_2, base_3...  The
 * name is left in out.
 */
static void
unique_name(const struct strmap *names, struct jbuf *out)
{
	size_t base = out->len;
	char num[24];
	unsigned long i;

	for (i = 2; strmap_get(names, out->p, out->len) >= 0; i++) {
		out->len = base;
		(void)snprintf(num, sizeof(num), "_%lu", i);
		jbuf_puts(out, num);
	}
}

static long
add_table(struct normalizer *n, struct jbuf *name, const char *src,
    size_t srclen, int is_root, struct lib_err *e)
{
	static const char *const root_meta[] = {
		"_sluice_load_id", "_sluice_extracted_at", "_sluice_id", NULL
	};
	static const char *const child_meta[] = {
		"_sluice_parent_id", "_sluice_list_idx", "_sluice_root_id",
		"_sluice_id", NULL
	};
	const char *const *m;
	struct ntable *t;

	if (n->ntables >= MAX_TABLES)
		return liberr_set(e, EX_DATAERR, "more than %d tables",
		    MAX_TABLES), -1;
	if (n->ntables == n->captables) {
		n->captables = n->captables ? n->captables * 2 : 16;
		n->tables = xalloc_realloc(n->tables, n->captables, sizeof(*n->tables));
	}
	t = &n->tables[n->ntables];
	memset(t, 0, sizeof(*t));
	t->name = xalloc_memdup(name->p, name->len);
	t->namelen = name->len;
	jbuf_reset(&n->scratch);
	jbuf_str(&n->scratch, name->p, name->len);
	t->stream = xalloc_memdup(n->scratch.p, n->scratch.len);
	t->streamlen = n->scratch.len;
	t->is_root = is_root;
	t->namehash = hash64(t->name, t->namelen);
	t->prefixes = xalloc_realloc(NULL, 1, sizeof(*t->prefixes));
	t->prefixlens = xalloc_realloc(NULL, 1, sizeof(*t->prefixlens));
	t->first = xalloc_realloc(NULL, 1, sizeof(*t->first));
	t->prefixsrc = xalloc_realloc(NULL, 1, sizeof(*t->prefixsrc));
	t->prefixsrc[0] = xalloc_memdup("", 0);
	t->prefixes[0] = xalloc_memdup("", 0);
	t->prefixlens[0] = 0;
	t->first[0] = -1;
	t->nprefixes = 1;
	t->src = xalloc_memdup(src, srclen);
	/* Source keys cannot take the names of the metadata columns. */
	for (m = is_root ? root_meta : child_meta; *m != NULL; m++)
		strmap_put(&t->colnames, *m, strlen(*m), MAX_COLUMNS + 1);
	strmap_put(&n->tablenames, name->p, name->len, n->ntables);
	return (long)n->ntables++;
}

static long
root_table(struct normalizer *n, const char *stream, size_t len,
    struct lib_err *e)
{
	long t;

	if ((t = strmap_get(&n->streams, stream, len)) >= 0)
		return t;
	jbuf_reset(&n->keybuf);
	name_of(n, stream, len, &n->keybuf);
	/* Two streams may normalize alike, or like a child table. */
	unique_name(&n->tablenames, &n->keybuf);
	if ((t = add_table(n, &n->keybuf, stream, len, 1, e)) < 0)
		return -1;
	strmap_put(&n->streams, stream, len, (size_t)t);
	return t;
}

/* The cache entry of a source key at a place of a table, by its index. */
static size_t
entry(struct normalizer *n, size_t table, size_t prefix, const char *key,
    size_t len)
{
	struct nentry *en;
	uint32_t head[2];
	long i;

	head[0] = (uint32_t)table;
	head[1] = (uint32_t)prefix;
	jbuf_reset(&n->keybuf);
	jbuf_put(&n->keybuf, head, sizeof(head));
	jbuf_put(&n->keybuf, key, len);
	if ((i = strmap_get(&n->entries, n->keybuf.p, n->keybuf.len)) >= 0)
		return (size_t)i;
	if (n->nents == n->capents) {
		n->capents = n->capents ? n->capents * 2 : 256;
		n->ents = xalloc_realloc(n->ents, n->capents, sizeof(*n->ents));
	}
	en = &n->ents[n->nents];
	en->table = table;
	en->prefix = prefix;
	en->key = xalloc_memdup(key, len);
	en->keylen = len;
	en->col = en->sub = en->child = en->next = -1;
	strmap_put(&n->entries, n->keybuf.p, n->keybuf.len, n->nents);
	return n->nents++;
}

/*
 * The entry of the member after entry prev (-1: the first member) of an
 * object at a place.  Records of a stream mostly repeat their key order,
 * so the entry that followed last time is tried before any hashing.
 */
static size_t
next_entry(struct normalizer *n, size_t table, size_t prefix, long prev,
    const char *key, size_t len)
{
	struct ntable *t = &n->tables[table];
	long guess = prev < 0 ? t->first[prefix] : n->ents[prev].next;
	const struct nentry *g;
	size_t i;

	if (guess >= 0) {
		g = &n->ents[guess];
		if (g->keylen == len && g->table == table && g->prefix == prefix &&
		    memcmp(g->key, key, len) == 0)
			return (size_t)guess;
	}
	i = entry(n, table, prefix, key, len);
	if (prev < 0)
		n->tables[table].first[prefix] = (long)i;
	else
		n->ents[prev].next = (long)i;
	return i;
}

/* PREFIX__name(key), or name(key) at the top of a row, into out. */
static void
joined_name(struct normalizer *n, const struct ntable *t, size_t prefix,
    const char *key, size_t len, struct jbuf *out)
{
	jbuf_reset(out);
	if (t->prefixlens[prefix] > 0) {
		jbuf_put(out, t->prefixes[prefix], t->prefixlens[prefix]);
		jbuf_put(out, "__", 2);
	}
	name_of(n, key, len, out);
}

/*
 * A name already taken in a namespace: say who has it (first, or NULL for
 * a metadata column) and what the newcomer is called instead.
 */
static void
warn_collision(struct normalizer *n, const struct ntable *t, const char *first,
    const char *key, size_t len, const char *base, size_t baselen,
    const char *got, size_t gotlen)
{
	if (n->warn == NULL)
		return;
	jbuf_puts(n->warn, "table ");
	jbuf_put(n->warn, t->name, t->namelen);
	jbuf_puts(n->warn, ": ");
	if (first != NULL) {
		jbuf_str(n->warn, first, strlen(first));
		jbuf_puts(n->warn, " and ");
		jbuf_str(n->warn, key, len);
		jbuf_puts(n->warn, " both normalize to ");
		jbuf_put(n->warn, base, baselen);
	} else {
		jbuf_str(n->warn, key, len);
		jbuf_puts(n->warn, " normalizes to ");
		jbuf_put(n->warn, base, baselen);
		jbuf_puts(n->warn, ", a sluice metadata column");
	}
	jbuf_puts(n->warn, "; ");
	jbuf_str(n->warn, key, len);
	jbuf_puts(n->warn, " becomes ");
	jbuf_put(n->warn, got, gotlen);
	jbuf_putc(n->warn, '\n');
}

static long
column(struct normalizer *n, size_t ei, struct lib_err *e)
{
	struct nentry *en = &n->ents[ei];
	size_t ti = en->table, prefix = en->prefix, len = en->keylen;
	const char *key = en->key;
	struct ntable *t = &n->tables[ti];
	struct ncol *c;
	size_t baselen;
	long owner;

	if (en->col >= 0)
		return en->col;
	if (t->ncols >= MAX_COLUMNS)
		return liberr_set(e, EX_DATAERR, "table %s: more than %d columns",
		    t->name, MAX_COLUMNS), -1;
	joined_name(n, t, prefix, key, len, &n->scratch);
	baselen = n->scratch.len;
	owner = strmap_get(&t->colnames, n->scratch.p, baselen);
	unique_name(&t->colnames, &n->scratch);
	if (n->scratch.len != baselen)
		warn_collision(n, t, owner >= 0 && (size_t)owner < t->ncols ?
		    t->cols[owner].src : NULL, key, len, n->scratch.p, baselen,
		    n->scratch.p, n->scratch.len);
	if (t->ncols == t->capcols) {
		t->capcols = t->capcols ? t->capcols * 2 : 32;
		t->cols = xalloc_realloc(t->cols, t->capcols, sizeof(*t->cols));
	}
	c = &t->cols[t->ncols];
	memset(c, 0, sizeof(*c));
	c->name = xalloc_memdup(n->scratch.p, n->scratch.len);
	c->namelen = n->scratch.len;
	c->src = xalloc_memdup(key, len);
	strmap_put(&t->colnames, c->name, c->namelen, t->ncols);
	jbuf_reset(&n->scratch);
	jbuf_str(&n->scratch, c->name, c->namelen);
	jbuf_putc(&n->scratch, ':');
	c->member = xalloc_memdup(n->scratch.p, n->scratch.len);
	c->memberlen = n->scratch.len;
	en->col = (long)t->ncols;
	return (long)t->ncols++;
}

static long
subprefix(struct normalizer *n, size_t ei)
{
	struct nentry *en = &n->ents[ei];
	size_t ti = en->table, prefix = en->prefix, len = en->keylen;
	const char *key = en->key;
	struct ntable *t = &n->tables[ti];
	size_t baselen;
	long owner;

	if (en->sub >= 0)
		return en->sub;
	joined_name(n, t, prefix, key, len, &n->scratch);
	baselen = n->scratch.len;
	owner = strmap_get(&t->prefixnames, n->scratch.p, baselen);
	unique_name(&t->prefixnames, &n->scratch);
	if (n->scratch.len != baselen)
		warn_collision(n, t, owner >= 0 ? t->prefixsrc[owner] : NULL, key,
		    len, n->scratch.p, baselen, n->scratch.p, n->scratch.len);
	t->prefixes = xalloc_realloc(t->prefixes, t->nprefixes + 1,
	    sizeof(*t->prefixes));
	t->prefixlens = xalloc_realloc(t->prefixlens, t->nprefixes + 1,
	    sizeof(*t->prefixlens));
	t->first = xalloc_realloc(t->first, t->nprefixes + 1, sizeof(*t->first));
	t->prefixsrc = xalloc_realloc(t->prefixsrc, t->nprefixes + 1,
	    sizeof(*t->prefixsrc));
	t->prefixsrc[t->nprefixes] = xalloc_memdup(key, len);
	t->prefixes[t->nprefixes] = xalloc_memdup(n->scratch.p, n->scratch.len);
	t->prefixlens[t->nprefixes] = n->scratch.len;
	t->first[t->nprefixes] = -1;
	strmap_put(&t->prefixnames, n->scratch.p, n->scratch.len, t->nprefixes);
	en->sub = (long)t->nprefixes;
	return (long)t->nprefixes++;
}

static long
child_table(struct normalizer *n, size_t ei, struct lib_err *e)
{
	struct jbuf name = JBUF_INIT;
	size_t ti = n->ents[ei].table, prefix = n->ents[ei].prefix;
	size_t len = n->ents[ei].keylen, baselen;
	const char *key = n->ents[ei].key;
	long c;

	if (n->ents[ei].child >= 0)
		return n->ents[ei].child;
	jbuf_put(&name, n->tables[ti].name, n->tables[ti].namelen);
	jbuf_put(&name, "__", 2);
	joined_name(n, &n->tables[ti], prefix, key, len, &n->scratch);
	jbuf_put(&name, n->scratch.p, n->scratch.len);
	baselen = name.len;
	c = strmap_get(&n->tablenames, name.p, baselen);
	unique_name(&n->tablenames, &name);
	if (name.len != baselen)
		warn_collision(n, &n->tables[ti], c >= 0 ? n->tables[c].src : NULL,
		    key, len, name.p, baselen, name.p, name.len);
	c = add_table(n, &name, key, len, 0, e);
	jbuf_free(&name);
	if (c < 0)
		return -1;
	n->ents[ei].child = c;
	return c;
}

/* Put a value in the row: a later duplicate of a column wins. */
static void
cell(struct normalizer *n, struct ntable *t, size_t col, const struct jval *v,
    size_t tokoff, size_t toklen)
{
	struct ncol *c = &t->cols[col];
	struct cell *cl;

	if (c->stamp == n->rowstamp) {
		cl = &n->cells[c->pos];
	} else {
		if (n->ncells == n->capcells) {
			n->capcells = n->capcells ? n->capcells * 2 : 64;
			n->cells = xalloc_realloc(n->cells, n->capcells, sizeof(*n->cells));
		}
		c->stamp = n->rowstamp;
		c->pos = n->ncells;
		cl = &n->cells[n->ncells++];
	}
	cl->col = col;
	cl->v = v;
	cl->tokoff = tokoff;
	cl->toklen = toklen;
}

enum action { KEEP, DROP, HASH };

/* What --drop and --hash say of the field at path[0..depth). */
static enum action
action(const struct normalizer *n, const struct pathkey *path, size_t depth)
{
	size_t i, k;

	for (i = 0; i < n->opts.ndrop + n->opts.nhash; i++) {
		const struct norm_path *p = i < n->opts.ndrop ?
		    &n->opts.drop[i] : &n->opts.hash[i - n->opts.ndrop];

		if (p->nkeys != depth)
			continue;
		for (k = 0; k < depth; k++)
			if (strlen(p->keys[k]) != path[k].len ||
			    memcmp(p->keys[k], path[k].key, path[k].len) != 0)
				break;
		if (k == depth)
			return i < n->opts.ndrop ? DROP : HASH;
	}
	return KEEP;
}

/* The salted SHA-256 of a value, in hex, kept in n->tokens. */
static void
token(struct normalizer *n, const struct jval *v, size_t *off, size_t *len)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char d[32];
	struct sha256 s;
	int i;

	sha256_init(&s);
	sha256_update(&s, n->opts.salt, n->opts.saltlen);
	if (v->type == JV_STRING)
		sha256_update(&s, v->str, v->len);
	else {
		jbuf_reset(&n->scratch);
		jbuf_value(&n->scratch, v);
		sha256_update(&s, n->scratch.p, n->scratch.len);
	}
	sha256_final(&s, d);
	*off = n->tokens.len;
	for (i = 0; i < 32; i++) {
		jbuf_putc(&n->tokens, hex[d[i] >> 4]);
		jbuf_putc(&n->tokens, hex[d[i] & 15]);
	}
	*len = 64;
}

static int
deeper(const struct normalizer *n, int level)
{
	return n->opts.max_nesting >= 0 && level > n->opts.max_nesting;
}

static size_t
path_push(struct normalizer *n, const char *key, size_t len)
{
	if (n->npath == n->cappath) {
		n->cappath = n->cappath ? n->cappath * 2 : 64;
		n->path = xalloc_realloc(n->path, n->cappath, sizeof(*n->path));
	}
	n->path[n->npath].key = key;
	n->path[n->npath].len = len;
	return n->npath++;
}

struct walk {
	size_t		 table;
	struct pending	*pend;		/* the arrays found, for later */
	size_t		 npend;
	size_t		 cappend;
	int		 paths;		/* --drop or --hash given */
};

static int
pend_push(struct walk *w, size_t table, const struct jval *array, int level,
    size_t pathoff, size_t pathlen)
{
	if (w->npend == w->cappend) {
		w->cappend = w->cappend ? w->cappend * 2 : 8;
		w->pend = xalloc_realloc(w->pend, w->cappend, sizeof(*w->pend));
	}
	w->pend[w->npend].table = table;
	w->pend[w->npend].array = array;
	w->pend[w->npend].level = level;
	w->pend[w->npend].pathoff = pathoff;
	w->pend[w->npend].pathlen = pathlen;
	w->npend++;
	return 0;
}

/*
 * Flatten an object into the current row of table w->table: the members
 * of obj, under prefix, at nesting level (of obj).  The source path of obj
 * is n->path[pathoff .. pathoff + pathlen).
 */
static int
walk_object(struct normalizer *n, struct walk *w, size_t prefix,
    const struct jval *obj, int level, size_t pathoff, size_t pathlen,
    struct lib_err *e)
{
	const struct jval *m;
	size_t off = 0, len = 0, mypath = pathoff, ei, base = n->neis, j;
	unsigned long stamp = ++n->objstamp;
	long c, prev = -1;
	int dup = 0, rc = -1;

	/*
	 * An object that repeats a key (the parser says which may): first the
	 * entries of all members, so that only the last of a key is kept,
	 * whatever its type (last one wins).
	 */
	if (obj->dups) {
		for (m = obj->child, j = 0; m != NULL; m = m->next, j++) {
			ei = next_entry(n, w->table, prefix, prev, m->key,
			    m->keylen);
			prev = (long)ei;
			if (n->ents[ei].seen == stamp)
				dup = 1;
			n->ents[ei].seen = stamp;
			n->ents[ei].last = j;
			if (n->neis == n->capeis) {
				n->capeis = n->capeis ? n->capeis * 2 : 256;
				n->eis = xalloc_realloc(n->eis, n->capeis,
				    sizeof(*n->eis));
			}
			n->eis[n->neis++] = ei;
		}
	}
	for (m = obj->child, j = 0; m != NULL; m = m->next, j++) {
		if (obj->dups) {
			ei = n->eis[base + j];
			if (dup && n->ents[ei].last != j)
				continue;
		} else {
			ei = next_entry(n, w->table, prefix, prev, m->key,
			    m->keylen);
			prev = (long)ei;
		}
		if (w->paths) {
			/* Copy the path so that this member's is contiguous. */
			size_t i;

			mypath = n->npath;
			for (i = 0; i < pathlen; i++)
				(void)path_push(n, n->path[pathoff + i].key,
				    n->path[pathoff + i].len);
			(void)path_push(n, m->key, m->keylen);
			switch (action(n, n->path + mypath, pathlen + 1)) {
			case DROP:
				continue;
			case HASH:
				if ((c = column(n, ei, e)) < 0)
					goto out;
				if (m->type == JV_NULL) {
					/* Nothing to hide in a null. */
					cell(n, &n->tables[w->table], (size_t)c, m,
					    0, 0);
					continue;
				}
				token(n, m, &off, &len);
				cell(n, &n->tables[w->table], (size_t)c, NULL, off,
				    len);
				continue;
			default:
				break;
			}
		}
		if (m->type == JV_OBJECT && !deeper(n, level + 1)) {
			long p = subprefix(n, ei);

			if (walk_object(n, w, (size_t)p, m, level + 1, mypath,
			    pathlen + 1, e) == -1)
				goto out;
			continue;
		}
		if (m->type == JV_ARRAY && !deeper(n, level + 1)) {
			if (m->child == NULL)
				continue;	/* an empty list has no rows */
			if ((c = child_table(n, ei, e)) < 0)
				goto out;
			(void)pend_push(w, (size_t)c, m, level + 1, mypath,
			    pathlen + 1);
			continue;
		}
		if ((c = column(n, ei, e)) < 0)
			goto out;
		cell(n, &n->tables[w->table], (size_t)c, m, 0, 0);
	}
	rc = 0;
out:
	n->neis = base;
	return rc;
}

static void
new_row(struct normalizer *n)
{
	n->rowstamp++;
	n->ncells = 0;
	jbuf_reset(&n->tokens);
}

/* Write the current row of table ti; metadata follows in meta. */
static void
emit_row(struct normalizer *n, size_t ti, const char *meta, size_t metalen,
    struct jbuf *out)
{
	struct ntable *t = &n->tables[ti];
	size_t i;

	jbuf_puts(out, "{\"type\":\"RECORD\",\"stream\":");
	jbuf_put(out, t->stream, t->streamlen);
	jbuf_puts(out, ",\"record\":{");
	for (i = 0; i < n->ncells; i++) {
		const struct cell *cl = &n->cells[i];
		const struct ncol *c = &t->cols[cl->col];

		jbuf_put(out, c->member, c->memberlen);
		if (cl->v != NULL)
			jbuf_value(out, cl->v);
		else {
			jbuf_putc(out, '"');
			jbuf_put(out, n->tokens.p + cl->tokoff, cl->toklen);
			jbuf_putc(out, '"');
		}
		jbuf_putc(out, ',');
	}
	jbuf_put(out, meta, metalen);
	jbuf_puts(out, "}}\n");
}

static void
announce(struct normalizer *n, size_t ti, struct jbuf *out)
{
	struct ntable *t = &n->tables[ti];
	size_t k;

	if (n->opts.nkeys == 0 || t->announced)
		return;
	jbuf_puts(out, "{\"type\":\"SCHEMA\",\"stream\":");
	jbuf_put(out, t->stream, t->streamlen);
	jbuf_puts(out, ",\"schema\":{\"type\":\"object\",\"properties\":{}},"
	    "\"key_properties\":[");
	if (t->is_root)
		for (k = 0; k < n->opts.nkeys; k++) {
			if (k > 0)
				jbuf_putc(out, ',');
			jbuf_str(out, n->opts.keys[k], strlen(n->opts.keys[k]));
		}
	else
		jbuf_puts(out, "\"_sluice_id\"");
	jbuf_puts(out, "]}\n");
	t->announced = 1;
	n->announced = xalloc_realloc(n->announced, n->nannounced + 1,
	    sizeof(*n->announced));
	n->announced[n->nannounced++] = ti;
}

/* 16 bytes, 128 bits: 22 characters of 6 bits, the last one short. */
static void
base64url(const unsigned char *d, char *out)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	uint32_t v;
	int i;

	for (i = 0; i < 15; i += 3, d += 3, out += 4) {
		v = (uint32_t)d[0] << 16 | (uint32_t)d[1] << 8 | d[2];
		out[0] = tab[v >> 18];
		out[1] = tab[(v >> 12) & 63];
		out[2] = tab[(v >> 6) & 63];
		out[3] = tab[v & 63];
	}
	out[0] = tab[d[0] >> 2];
	out[1] = tab[(d[0] & 3) << 4];
}

static void
id_set(struct rowid *id, uint64_t a, uint64_t b)
{
	unsigned char d[16];
	int i;

	id->a = a;
	id->b = b;
	for (i = 0; i < 8; i++) {
		d[i] = (unsigned char)(a >> (8 * i));
		d[8 + i] = (unsigned char)(b >> (8 * i));
	}
	base64url(d, id->text);
}

/* A random id: the mix is a bijection, so distinct counters never collide. */
static void
random_id(struct normalizer *n, struct rowid *id)
{
	n->counter++;
	id_set(id, hash_mix(n->seed[0] + n->counter),
	    hash_mix(n->seed[1] ^ (n->counter * 0x9e3779b97f4a7c15ULL)));
}

/* Decimal digits of v at the end of buf[24]; returns where they start. */
static char *
decimal(size_t v, char buf[24])
{
	size_t i = 24;

	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	return &buf[i];
}

/*
 * The id of element idx of child table ti under parent: a function of the
 * parent's id, the table's name and the index, so the same record gives
 * the same ids on every run (names are hashed with hash64, whose value
 * does not depend on the machine).
 */
static void
child_id(const struct normalizer *n, const struct rowid *parent, size_t ti,
    size_t idx, struct rowid *id)
{
	uint64_t a, b;

	a = hash_mix(parent->a ^ hash_mix(n->tables[ti].namehash +
	    (uint64_t)idx * 0x9e3779b97f4a7c15ULL));
	b = hash_mix(parent->b + a * 0xc2b2ae3d27d4eb4fULL + (uint64_t)idx);
	id_set(id, a, b);
}

static int emit_children(struct normalizer *, struct walk *,
    const struct rowid *, const struct rowid *, struct jbuf *, struct lib_err *);

/* One element of an array: its row in child table ti, then its children. */
static int
emit_element(struct normalizer *n, size_t ti, const struct jval *elem,
    size_t idx, int level, const struct rowid *parent, const struct rowid *root,
    size_t pathoff, size_t pathlen, struct jbuf *out, struct lib_err *e)
{
	struct walk w = { ti, NULL, 0, 0, n->opts.ndrop + n->opts.nhash > 0 };
	struct rowid id;
	char meta[160], num[24], *d, *p;
	long c;
	int rc = 0;

	child_id(n, parent, ti, idx, &id);
	new_row(n);
	if (elem->type == JV_OBJECT && !deeper(n, level)) {
		if (walk_object(n, &w, 0, elem, level, pathoff, pathlen, e) == -1)
			goto fail;
	} else if (elem->type == JV_ARRAY && !deeper(n, level + 1)) {
		/* A list in a list: a row whose "list" is the inner list. */
		if (elem->child != NULL) {
			if ((c = child_table(n, entry(n, ti, 0, "list", 4),
			    e)) < 0)
				goto fail;
			(void)pend_push(&w, (size_t)c, elem, level + 1, pathoff,
			    pathlen);
		}
	} else {
		if ((c = column(n, entry(n, ti, 0, elem->type == JV_ARRAY ?
		    "list" : "value", elem->type == JV_ARRAY ? 4 : 5), e)) < 0)
			goto fail;
		cell(n, &n->tables[ti], (size_t)c, elem, 0, 0);
	}
	announce(n, ti, out);
	/* Built by hand: this runs for every child row. */
	p = meta;
	p = stpcpy(p, "\"_sluice_parent_id\":\"");
	p = (char *)memcpy(p, parent->text, ID_LEN) + ID_LEN;
	p = stpcpy(p, "\",\"_sluice_list_idx\":");
	d = decimal(idx, num);
	p = (char *)memcpy(p, d, (size_t)(num + 24 - d)) + (num + 24 - d);
	p = stpcpy(p, ",\"_sluice_root_id\":\"");
	p = (char *)memcpy(p, root->text, ID_LEN) + ID_LEN;
	p = stpcpy(p, "\",\"_sluice_id\":\"");
	p = (char *)memcpy(p, id.text, ID_LEN) + ID_LEN;
	*p++ = '"';
	emit_row(n, ti, meta, (size_t)(p - meta), out);
	rc = emit_children(n, &w, &id, root, out, e);
	free(w.pend);
	return rc;
fail:
	free(w.pend);
	return -1;
}

/* The arrays a row held, element by element, depth first. */
static int
emit_children(struct normalizer *n, struct walk *w, const struct rowid *id,
    const struct rowid *root, struct jbuf *out, struct lib_err *e)
{
	const struct jval *elem;
	size_t i, idx;

	for (i = 0; i < w->npend; i++) {
		const struct pending *p = &w->pend[i];

		for (elem = p->array->child, idx = 0; elem != NULL;
		    elem = elem->next, idx++)
			if (emit_element(n, p->table, elem, idx, p->level, id,
			    root, p->pathoff, p->pathlen, out, e) == -1)
				return -1;
	}
	return 0;
}

/* The root row's _sluice_id: a hash of its key values. */
static int
key_id(struct normalizer *n, size_t ti, struct rowid *out, struct lib_err *e)
{
	struct ntable *t = &n->tables[ti];
	struct jbuf *keys = &n->keytext;
	const struct jval *v;
	uint64_t h[2];
	size_t k;
	long c;

	jbuf_reset(keys);
	for (k = 0; k < n->opts.nkeys; k++) {
		c = strmap_get(&t->colnames, n->opts.keys[k],
		    strlen(n->opts.keys[k]));
		v = c >= 0 && (size_t)c < t->ncols &&
		    t->cols[c].stamp == n->rowstamp ?
		    n->cells[t->cols[c].pos].v : NULL;
		if (v == NULL || v->type == JV_NULL)
			return liberr_set(e, EX_DATAERR,
			    "table %s: record has no value for key \"%s\"",
			    t->name, n->opts.keys[k]);
		if (k > 0)
			jbuf_putc(keys, '\x1f');
		jbuf_value(keys, v);
	}
	hash128(keys->p, keys->len, h);
	id_set(out, h[0], h[1]);
	return 0;
}

int
norm_record(struct normalizer *n, const char *stream, size_t len,
    const struct jval *record, struct jbuf *out, struct jbuf *warn,
    struct lib_err *e)
{
	struct walk w = { 0, NULL, 0, 0, n->opts.ndrop + n->opts.nhash > 0 };
	size_t mark = out->len, i;
	struct rowid id;
	long ti;

	n->warn = warn;
	n->nannounced = 0;
	n->npath = 0;
	if ((ti = root_table(n, stream, len, e)) < 0)
		return -1;
	w.table = (size_t)ti;
	new_row(n);
	if (walk_object(n, &w, 0, record, 0, 0, 0, e) == -1)
		goto fail;
	if (n->opts.nkeys > 0) {
		if (key_id(n, (size_t)ti, &id, e) == -1)
			goto fail;
	} else
		random_id(n, &id);
	announce(n, (size_t)ti, out);
	/* The run's metadata, made once (norm_new), then this row's id. */
	n->meta.len = n->metafixed;
	jbuf_put(&n->meta, id.text, ID_LEN);
	jbuf_putc(&n->meta, '"');
	emit_row(n, (size_t)ti, n->meta.p, n->meta.len, out);
	if (emit_children(n, &w, &id, &id, out, e) == -1)
		goto fail;
	free(w.pend);
	return 0;
fail:
	/* Nothing of a record that failed: its rows, its announcements. */
	out->len = mark;
	for (i = 0; i < n->nannounced; i++)
		n->tables[n->announced[i]].announced = 0;
	free(w.pend);
	return -1;
}

struct normalizer *
norm_new(const struct norm_opts *o)
{
	struct normalizer *n;
	struct timespec ts;

	if ((n = calloc(1, sizeof(*n))) == NULL)
		return NULL;
	n->opts = *o;
	jbuf_puts(&n->meta, "\"_sluice_load_id\":");
	jbuf_str(&n->meta, o->load_id, strlen(o->load_id));
	if (o->extracted_at != NULL) {
		jbuf_puts(&n->meta, ",\"_sluice_extracted_at\":\"");
		jbuf_puts(&n->meta, o->extracted_at);
		jbuf_putc(&n->meta, '"');
	}
	jbuf_puts(&n->meta, ",\"_sluice_id\":\"");
	n->metafixed = n->meta.len;
	/* Random ids: a seed from the kernel, else from the clock. */
	if (getrandom(n->seed, sizeof(n->seed), 0) != (ssize_t)sizeof(n->seed)) {
		(void)clock_gettime(CLOCK_REALTIME, &ts);
		n->seed[0] = (uint64_t)ts.tv_sec * 1000000007ULL ^
		    (uint64_t)ts.tv_nsec;
		n->seed[1] = hash_mix(n->seed[0] ^ (uint64_t)getpid());
	}
	return n;
}

void
norm_free(struct normalizer *n)
{
	size_t i, j;

	if (n == NULL)
		return;
	for (i = 0; i < n->ntables; i++) {
		struct ntable *t = &n->tables[i];

		for (j = 0; j < t->ncols; j++) {
			free(t->cols[j].name);
			free(t->cols[j].member);
			free(t->cols[j].src);
		}
		for (j = 0; j < t->nprefixes; j++) {
			free(t->prefixes[j]);
			free(t->prefixsrc[j]);
		}
		free(t->prefixsrc);
		free(t->src);
		free(t->cols);
		free(t->prefixes);
		free(t->prefixlens);
		free(t->first);
		free(t->name);
		free(t->stream);
		strmap_free(&t->colnames);
		strmap_free(&t->prefixnames);
	}
	free(n->tables);
	strmap_free(&n->tablenames);
	strmap_free(&n->streams);
	strmap_free(&n->entries);
	for (i = 0; i < n->nents; i++)
		free(n->ents[i].key);
	free(n->ents);
	free(n->cells);
	free(n->eis);
	free(n->path);
	free(n->announced);
	jbuf_free(&n->tokens);
	jbuf_free(&n->scratch);
	jbuf_free(&n->keybuf);
	jbuf_free(&n->keytext);
	jbuf_free(&n->meta);
	free(n);
}

int
norm_path_parse(struct norm_path *p, const char *dotted)
{
	const char *s = dotted, *dot;

	memset(p, 0, sizeof(*p));
	for (;;) {
		dot = strchr(s, '.');
		if ((dot ? (size_t)(dot - s) : strlen(s)) == 0) {
			norm_path_free(p);
			return -1;
		}
		p->keys = xalloc_realloc(p->keys, p->nkeys + 1, sizeof(*p->keys));
		p->keys[p->nkeys++] = xalloc_memdup(s, dot ? (size_t)(dot - s) :
		    strlen(s));
		if (dot == NULL)
			return 0;
		s = dot + 1;
	}
}

void
norm_path_free(struct norm_path *p)
{
	size_t i;

	for (i = 0; i < p->nkeys; i++)
		free(p->keys[i]);
	free(p->keys);
	p->keys = NULL;
	p->nkeys = 0;
}
