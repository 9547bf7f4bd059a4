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
#include "hmac.h"
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
	/* A root's key from its stream's SCHEMA, output names; else -k's. */
	char		**keys;
	size_t		 nkeys;
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
	signed char	 act;		/* enum action for its path; -1: not yet */
	signed char	 below;		/* a --drop or --hash path goes deeper */
};

/* A row id: 128 bits, and the 22 characters that show them. */
struct rowid {
	uint64_t	 a, b;
	char		 text[ID_LEN];
};

struct cell {
	size_t		 col;
	const struct jval *v;		/* NULL: the text in tokens below */
	size_t		 tokoff;
	size_t		 toklen;
	int		 quoted;	/* the text is a string's (a token) */
};

/*
 * Where a value sits in its record: its nesting level, and its source
 * path, n->path[pathoff .. pathoff + pathlen).
 */
struct place {
	int		 level;
	size_t		 pathoff;
	size_t		 pathlen;
};

struct pending {
	size_t		 table;
	const struct jval *array;
	struct place	 at;
};

struct pathkey {
	const char	*key;
	size_t		 len;
};

enum action { KEEP, DROP, HASH };

/* A --drop or --hash path, and each part's name once normalized. */
struct npath {
	const struct norm_path *p;
	enum action	 act;
	size_t		*partlens;
	char		**names;
	size_t		*namelens;
	int		 matched;	/* a member of some record had it */
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
	struct jbuf	 tokenin;	/* the bytes a token is made of */
	struct jbuf	 redacted;	/* a JSON value with --drop, --hash applied */
	struct jbuf	 pathname;	/* a source key's name, to match paths */
	struct jbuf	 fold;		/* a name in lower case */
	struct jbuf	 scratch;
	struct jbuf	 keybuf;
	struct jbuf	 keytext;	/* a root's key values, for its id */
	struct jbuf	 meta;		/* a root row's metadata members */
	size_t		 metafixed;	/* the part of meta that is the same for all */

	struct pathkey	*path;		/* pool of source paths (--drop, --hash) */
	size_t		 npath;
	size_t		 cappath;
	struct npath	*paths;		/* --drop paths, then --hash paths */
	size_t		 npaths;
	size_t		 maxdepth;	/* the most parts a path has */
	struct hmac	*hmac;		/* keyed by the salt */
	unsigned long	 dups;		/* members a later one of its name hid */

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
 * SQL names ignore ASCII case (SQLite's do: "id" and "ID" are one
 * column), so the maps of table, column and prefix names hold each name
 * in lower case: a name is taken once any spelling of it is.
 */
static const char *
folded(struct normalizer *n, const char *s, size_t len)
{
	size_t i;

	jbuf_reset(&n->fold);
	jbuf_reserve(&n->fold, len + 1);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		n->fold.p[i] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	}
	n->fold.len = len;
	return n->fold.p;
}

static long
name_get(struct normalizer *n, const struct strmap *names, const char *s,
    size_t len)
{
	return strmap_get(names, folded(n, s, len), len);
}

static void
name_put(struct normalizer *n, struct strmap *names, const char *s, size_t len,
    size_t val)
{
	strmap_put(names, folded(n, s, len), len, val);
}

/*
 * The first free name of a namespace: base, else base_2, base_3...  The
 * name is left in out.
 */
static void
unique_name(struct normalizer *n, const struct strmap *names, struct jbuf *out)
{
	size_t base = out->len;
	char num[24];
	unsigned long i;

	for (i = 2; name_get(n, names, out->p, out->len) >= 0; i++) {
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
		name_put(n, &t->colnames, *m, strlen(*m), MAX_COLUMNS + 1);
	name_put(n, &n->tablenames, name->p, name->len, n->ntables);
	return (long)n->ntables++;
}

static long
root_table(struct normalizer *n, const char *stream, size_t len,
    struct lib_err *e)
{
	size_t baselen;
	long t, owner;

	if ((t = strmap_get(&n->streams, stream, len)) >= 0)
		return t;
	jbuf_reset(&n->keybuf);
	name_of(n, stream, len, &n->keybuf);
	/* Two streams may normalize alike, or like a child table. */
	baselen = n->keybuf.len;
	owner = name_get(n, &n->tablenames, n->keybuf.p, baselen);
	unique_name(n, &n->tablenames, &n->keybuf);
	if (owner >= 0 && n->warn != NULL) {
		jbuf_puts(n->warn, "stream ");
		jbuf_str(n->warn, stream, len);
		jbuf_puts(n->warn, " normalizes to ");
		jbuf_put(n->warn, n->keybuf.p, baselen);
		jbuf_puts(n->warn, ", the name of table ");
		jbuf_put(n->warn, n->tables[owner].name, n->tables[owner].namelen);
		if (n->tables[owner].namelen == baselen &&
		    memcmp(n->tables[owner].name, n->keybuf.p, baselen) != 0)
			jbuf_puts(n->warn, " to SQL, which ignores case");
		jbuf_puts(n->warn, "; its table is ");
		jbuf_put(n->warn, n->keybuf.p, n->keybuf.len);
		jbuf_putc(n->warn, '\n');
	}
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
	en->act = -1;
	en->below = 0;
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
    const char *owner, const char *key, size_t len, const char *base,
    size_t baselen, const char *got, size_t gotlen)
{
	if (n->warn == NULL)
		return;
	jbuf_puts(n->warn, "table ");
	jbuf_put(n->warn, t->name, t->namelen);
	jbuf_puts(n->warn, ": ");
	if (first != NULL && owner != NULL && strlen(owner) == baselen &&
	    memcmp(owner, base, baselen) != 0) {
		/* The names differ in case only. */
		jbuf_str(n->warn, first, strlen(first));
		jbuf_puts(n->warn, " and ");
		jbuf_str(n->warn, key, len);
		jbuf_puts(n->warn, " normalize to ");
		jbuf_puts(n->warn, owner);
		jbuf_puts(n->warn, " and ");
		jbuf_put(n->warn, base, baselen);
		jbuf_puts(n->warn, ", one name to SQL, which ignores case");
	} else if (first != NULL) {
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
	owner = name_get(n, &t->colnames, n->scratch.p, baselen);
	unique_name(n, &t->colnames, &n->scratch);
	if (n->scratch.len != baselen) {
		int user = owner >= 0 && (size_t)owner < t->ncols;

		warn_collision(n, t, user ? t->cols[owner].src : NULL,
		    user ? t->cols[owner].name : NULL, key, len, n->scratch.p,
		    baselen, n->scratch.p, n->scratch.len);
	}
	if (t->ncols == t->capcols) {
		t->capcols = t->capcols ? t->capcols * 2 : 32;
		t->cols = xalloc_realloc(t->cols, t->capcols, sizeof(*t->cols));
	}
	c = &t->cols[t->ncols];
	memset(c, 0, sizeof(*c));
	c->name = xalloc_memdup(n->scratch.p, n->scratch.len);
	c->namelen = n->scratch.len;
	c->src = xalloc_memdup(key, len);
	name_put(n, &t->colnames, c->name, c->namelen, t->ncols);
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
	owner = name_get(n, &t->prefixnames, n->scratch.p, baselen);
	unique_name(n, &t->prefixnames, &n->scratch);
	if (n->scratch.len != baselen)
		warn_collision(n, t, owner >= 0 ? t->prefixsrc[owner] : NULL,
		    owner >= 0 ? t->prefixes[owner] : NULL, key, len,
		    n->scratch.p, baselen, n->scratch.p, n->scratch.len);
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
	name_put(n, &t->prefixnames, n->scratch.p, n->scratch.len, t->nprefixes);
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
	c = name_get(n, &n->tablenames, name.p, baselen);
	unique_name(n, &n->tablenames, &name);
	if (name.len != baselen)
		warn_collision(n, &n->tables[ti], c >= 0 ? n->tables[c].src : NULL,
		    c >= 0 ? n->tables[c].name : NULL, key, len, name.p, baselen,
		    name.p, name.len);
	c = add_table(n, &name, key, len, 0, e);
	jbuf_free(&name);
	if (c < 0)
		return -1;
	n->ents[ei].child = c;
	return c;
}

/*
 * Put a value in the row: v, or (v NULL) the text at tokoff in tokens, a
 * string's when quoted, else JSON.  A later duplicate of a column wins.
 */
static void
cell(struct normalizer *n, struct ntable *t, size_t col, const struct jval *v,
    size_t tokoff, size_t toklen, int quoted)
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
	cl->quoted = quoted;
}

/* A cell's value as JSON text. */
static void
put_cell(const struct normalizer *n, const struct cell *cl, struct jbuf *out)
{
	if (cl->v != NULL)
		jval_write(out, cl->v);
	else if (cl->quoted) {
		jbuf_putc(out, '"');
		jbuf_put(out, n->tokens.p + cl->tokoff, cl->toklen);
		jbuf_putc(out, '"');
	} else
		jbuf_put(out, n->tokens.p + cl->tokoff, cl->toklen);
}

/*
 * Does part k of a path name this source key?  It does when it is the key
 * or when both give the same name (under --naming): "payment" names the
 * key "Payment", whose column is payment.
 */
static int
part_names(struct normalizer *n, const struct npath *np, size_t k,
    const struct pathkey *key)
{
	if (np->partlens[k] == key->len &&
	    memcmp(np->p->keys[k], key->key, key->len) == 0)
		return 1;
	jbuf_reset(&n->pathname);
	name_of(n, key->key, key->len, &n->pathname);
	return n->pathname.len == np->namelens[k] &&
	    memcmp(n->pathname.p, np->names[k], np->namelens[k]) == 0;
}

/*
 * What --drop and --hash say of the member at source path path[0..depth):
 * every path that names it is marked matched, and a drop wins over a
 * hash.  With below, *below says whether a path names something deeper.
 */
static enum action
path_action(struct normalizer *n, const struct pathkey *path, size_t depth,
    int *below)
{
	enum action act = KEEP;
	size_t i, k;

	if (below != NULL)
		*below = 0;
	for (i = 0; i < n->npaths; i++) {
		struct npath *np = &n->paths[i];

		if (np->p->nkeys < depth || (np->p->nkeys > depth &&
		    (below == NULL || *below)))
			continue;
		for (k = 0; k < depth && part_names(n, np, k, &path[k]); k++)
			;
		if (k < depth)
			continue;
		if (np->p->nkeys > depth) {
			*below = 1;
			continue;
		}
		np->matched = 1;
		if (act == KEEP || np->act == DROP)
			act = np->act;
	}
	return act;
}

/*
 * path_action for the member of entry ei, whose source path is
 * path[0..depth): the path of an entry never changes, so it is worked out
 * once per entry.
 */
static enum action
entry_action(struct normalizer *n, size_t ei, const struct pathkey *path,
    size_t depth)
{
	int below;

	if (n->ents[ei].act < 0) {
		n->ents[ei].act = (signed char)path_action(n, path, depth, &below);
		n->ents[ei].below = (signed char)below;
	}
	return (enum action)n->ents[ei].act;
}

/*
 * The token of a value: a persisted format (jsonl-normalize(1), HASHING),
 * so that equal values join across runs.  HMAC-SHA256 keyed by the salt
 * of one type byte and the value's bytes: 's' and a string's bytes
 * (unescaped), 'n' and a number's text as it arrived, 'b' and true or
 * false, 'o' or 'a' and an object's or array's JSON text as
 * jsonl-normalize writes it.  A null has no token.
 */
static int
token(struct normalizer *n, const struct jval *v, char hex[HMAC_HEX_LEN],
    struct lib_err *e)
{
	unsigned char tag;

	switch (v->type) {
	case JV_STRING:
		return hmac_tagged_hex(n->hmac, 's', v->str, v->len, hex, e);
	case JV_NUMBER:
		return hmac_tagged_hex(n->hmac, 'n', v->str, v->len, hex, e);
	case JV_TRUE:
	case JV_FALSE:
		tag = 'b';
		break;
	case JV_OBJECT:
		tag = 'o';
		break;
	default:
		tag = 'a';
		break;
	}
	jbuf_reset(&n->tokenin);
	jval_write(&n->tokenin, v);
	return hmac_tagged_hex(n->hmac, tag, n->tokenin.p, n->tokenin.len, hex, e);
}

/* A cell holding the token of v (a null stays null). */
static int
token_cell(struct normalizer *n, size_t table, size_t col,
    const struct jval *v, struct lib_err *e)
{
	size_t off = n->tokens.len;

	if (v->type == JV_NULL) {
		cell(n, &n->tables[table], col, v, 0, 0, 0);
		return 0;
	}
	jbuf_reserve(&n->tokens, HMAC_HEX_LEN);
	if (token(n, v, n->tokens.p + off, e) == -1)
		return -1;
	n->tokens.len += HMAC_HEX_LEN;
	cell(n, &n->tables[table], col, NULL, off, HMAC_HEX_LEN, 1);
	return 0;
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

/* The path of a member: its object's (at pathoff), then its key. */
static size_t
member_path(struct normalizer *n, size_t pathoff, size_t pathlen,
    const struct jval *m)
{
	size_t mypath = n->npath, i;

	/* Copied, so that the member's path is contiguous. */
	for (i = 0; i < pathlen; i++)
		(void)path_push(n, n->path[pathoff + i].key,
		    n->path[pathoff + i].len);
	(void)path_push(n, m->key, m->keylen);
	return mypath;
}

/*
 * Write v, the value at source path n->path[pathoff .. pathoff + depth),
 * as JSON with --drop and --hash applied inside it, arrays transparent as
 * in the rows.
 */
static int
redact_value(struct normalizer *n, const struct jval *v, size_t pathoff,
    size_t depth, struct jbuf *out, struct lib_err *e)
{
	const struct jval *m;
	char hex[HMAC_HEX_LEN];
	size_t mypath;
	int first = 1;

	if (depth >= n->maxdepth || (v->type != JV_OBJECT &&
	    v->type != JV_ARRAY)) {
		jval_write(out, v);
		return 0;
	}
	jbuf_putc(out, v->type == JV_OBJECT ? '{' : '[');
	for (m = v->child; m != NULL; m = m->next) {
		enum action act = KEEP;

		mypath = pathoff;
		if (v->type == JV_OBJECT) {
			mypath = member_path(n, pathoff, depth, m);
			if ((act = path_action(n, n->path + mypath, depth + 1,
			    NULL)) == DROP)
				continue;
		}
		if (!first)
			jbuf_putc(out, ',');
		first = 0;
		if (v->type == JV_OBJECT) {
			jbuf_str(out, m->key, m->keylen);
			jbuf_putc(out, ':');
		}
		if (act == HASH && m->type != JV_NULL) {
			if (token(n, m, hex, e) == -1)
				return -1;
			jbuf_putc(out, '"');
			jbuf_put(out, hex, HMAC_HEX_LEN);
			jbuf_putc(out, '"');
		} else if (redact_value(n, m, mypath, v->type == JV_OBJECT ?
		    depth + 1 : depth, out, e) == -1)
			return -1;
	}
	jbuf_putc(out, v->type == JV_OBJECT ? '}' : ']');
	return 0;
}

/*
 * A cell holding a container kept as JSON (--max-nesting), at source path
 * n->path[pathoff .. pathoff + depth): with the members that --drop and
 * --hash name inside it dropped or hashed.
 */
static int
json_cell(struct normalizer *n, size_t table, size_t col,
    const struct jval *v, size_t pathoff, size_t depth, struct lib_err *e)
{
	size_t off;

	jbuf_reset(&n->redacted);
	if (redact_value(n, v, pathoff, depth, &n->redacted, e) == -1)
		return -1;
	off = n->tokens.len;
	jbuf_put(&n->tokens, n->redacted.p, n->redacted.len);
	cell(n, &n->tables[table], col, NULL, off, n->redacted.len, 0);
	return 0;
}

/* One record's normalization: what the walks of its rows share. */
struct record_ctx {
	struct normalizer *n;
	int		 paths;		/* --drop or --hash given */
	int		 keyed;		/* the root table has a key */
	const struct rowid *root;	/* the root row's id, once known */
	struct jbuf	*out;
	struct lib_err	*e;
};

/* The row being filled, and the arrays found in it. */
struct walk {
	size_t		 table;
	struct pending	*pend;		/* the arrays found, for later */
	size_t		 npend;
	size_t		 cappend;
};

static void
pend_push(struct walk *w, size_t table, const struct jval *array,
    struct place at)
{
	if (w->npend == w->cappend) {
		w->cappend = w->cappend ? w->cappend * 2 : 8;
		w->pend = xalloc_realloc(w->pend, w->cappend, sizeof(*w->pend));
	}
	w->pend[w->npend].table = table;
	w->pend[w->npend].array = array;
	w->pend[w->npend].at = at;
	w->npend++;
}

/*
 * obj repeats a key (the parser says which may): the entries of all its
 * members, under prefix in table, pushed on n->eis, each marked with the
 * index of the last member of its key, so that only that one is kept,
 * whatever its type (last one wins).  1 if a key is indeed repeated.
 */
static int
duplicate_pass(struct normalizer *n, size_t table, size_t prefix,
    const struct jval *obj)
{
	const struct jval *m;
	unsigned long stamp = ++n->objstamp;
	size_t ei, j;
	long prev = -1;
	int dup = 0;

	for (m = obj->child, j = 0; m != NULL; m = m->next, j++) {
		ei = next_entry(n, table, prefix, prev, m->key, m->keylen);
		prev = (long)ei;
		if (n->ents[ei].seen == stamp) {
			dup = 1;
			n->dups++;
		}
		n->ents[ei].seen = stamp;
		n->ents[ei].last = j;
		if (n->neis == n->capeis) {
			n->capeis = n->capeis ? n->capeis * 2 : 256;
			n->eis = xalloc_realloc(n->eis, n->capeis,
			    sizeof(*n->eis));
		}
		n->eis[n->neis++] = ei;
	}
	return dup;
}

/*
 * Flatten an object into the current row of table w->table: the members
 * of obj, under prefix; obj is at.
 */
static int
walk_object(struct record_ctx *r, struct walk *w, size_t prefix,
    const struct jval *obj, struct place at)
{
	struct normalizer *n = r->n;
	const struct jval *m;
	struct place below = { at.level + 1, at.pathoff, at.pathlen + 1 };
	size_t ei, base = n->neis, j;
	long c, prev = -1;
	int dup = 0, rc = -1;

	if (obj->dups)
		dup = duplicate_pass(n, w->table, prefix, obj);
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
		if (r->paths) {
			below.pathoff = member_path(n, at.pathoff, at.pathlen, m);
			switch (entry_action(n, ei, n->path + below.pathoff,
			    below.pathlen)) {
			case DROP:
				continue;
			case HASH:
				if ((c = column(n, ei, r->e)) < 0 ||
				    token_cell(n, w->table, (size_t)c, m,
				    r->e) == -1)
					goto out;
				continue;
			default:
				break;
			}
		}
		if (m->type == JV_OBJECT && !deeper(n, below.level)) {
			long p = subprefix(n, ei);

			if (walk_object(r, w, (size_t)p, m, below) == -1)
				goto out;
			continue;
		}
		if (m->type == JV_ARRAY && !deeper(n, below.level)) {
			if (m->child == NULL)
				continue;	/* an empty list has no rows */
			if ((c = child_table(n, ei, r->e)) < 0)
				goto out;
			pend_push(w, (size_t)c, m, below);
			continue;
		}
		if ((c = column(n, ei, r->e)) < 0)
			goto out;
		if (r->paths && n->ents[ei].below && (m->type == JV_OBJECT ||
		    m->type == JV_ARRAY)) {
			/* An object or array kept as JSON holds a path. */
			if (json_cell(n, w->table, (size_t)c, m, below.pathoff,
			    below.pathlen, r->e) == -1)
				goto out;
			continue;
		}
		cell(n, &n->tables[w->table], (size_t)c, m, 0, 0, 0);
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

/*
 * Write the current row of table ti; metadata follows in meta.  A root
 * row keeps its RECORD's Singer version (NULL: none).
 */
static void
emit_row(struct normalizer *n, size_t ti, const char *meta, size_t metalen,
    const struct jval *version, struct jbuf *out)
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
		put_cell(n, cl, out);
		jbuf_putc(out, ',');
	}
	jbuf_put(out, meta, metalen);
	jbuf_putc(out, '}');
	if (version != NULL) {
		jbuf_puts(out, ",\"version\":");
		jval_write(out, version);
	}
	jbuf_puts(out, "}\n");
}

/*
 * The key of a root table: the key_properties of its stream's SCHEMA,
 * else -k.  Their number; *keys set.
 */
static size_t
table_keys(const struct normalizer *n, const struct ntable *t,
    char *const **keys)
{
	if (t->nkeys > 0) {
		*keys = t->keys;
		return t->nkeys;
	}
	*keys = n->opts.keys;
	return n->opts.nkeys;
}

/* Before a keyed table's first row: a SCHEMA message that names its key. */
static void
announce(struct normalizer *n, size_t ti, int keyed, struct jbuf *out)
{
	struct ntable *t = &n->tables[ti];
	char *const *keys;
	size_t k, nkeys;

	if (!keyed || t->announced)
		return;
	jbuf_puts(out, "{\"type\":\"SCHEMA\",\"stream\":");
	jbuf_put(out, t->stream, t->streamlen);
	jbuf_puts(out, ",\"schema\":{\"type\":\"object\",\"properties\":{}},"
	    "\"key_properties\":[");
	if (t->is_root)
		for (k = 0, nkeys = table_keys(n, t, &keys); k < nkeys; k++) {
			if (k > 0)
				jbuf_putc(out, ',');
			jbuf_str(out, keys[k], strlen(keys[k]));
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

static int emit_children(struct record_ctx *, const struct walk *,
    const struct rowid *);

/*
 * One element of an array, element idx of child table ti under the row
 * parent, at: its row, then its children.
 */
static int
emit_element(struct record_ctx *r, size_t ti, const struct jval *elem,
    size_t idx, struct place at, const struct rowid *parent)
{
	struct normalizer *n = r->n;
	struct walk w = { ti, NULL, 0, 0 };
	struct place inner = { at.level + 1, at.pathoff, at.pathlen };
	struct rowid id;
	char meta[160], num[24], *d, *p;
	long c;
	int rc = 0;

	child_id(n, parent, ti, idx, &id);
	new_row(n);
	if (elem->type == JV_OBJECT && !deeper(n, at.level)) {
		if (walk_object(r, &w, 0, elem, at) == -1)
			goto fail;
	} else if (elem->type == JV_ARRAY && !deeper(n, inner.level)) {
		/* A list in a list: a row whose "list" is the inner list. */
		if (elem->child != NULL) {
			if ((c = child_table(n, entry(n, ti, 0, "list", 4),
			    r->e)) < 0)
				goto fail;
			pend_push(&w, (size_t)c, elem, inner);
		}
	} else {
		if ((c = column(n, entry(n, ti, 0, elem->type == JV_ARRAY ?
		    "list" : "value", elem->type == JV_ARRAY ? 4 : 5), r->e)) < 0)
			goto fail;
		if (r->paths && (elem->type == JV_OBJECT ||
		    elem->type == JV_ARRAY)) {
			/* Kept as JSON: what the paths name inside it goes. */
			if (json_cell(n, ti, (size_t)c, elem, at.pathoff,
			    at.pathlen, r->e) == -1)
				goto fail;
		} else
			cell(n, &n->tables[ti], (size_t)c, elem, 0, 0, 0);
	}
	announce(n, ti, r->keyed, r->out);
	/* Built by hand: this runs for every child row. */
	p = meta;
	p = stpcpy(p, "\"_sluice_parent_id\":\"");
	p = (char *)memcpy(p, parent->text, ID_LEN) + ID_LEN;
	p = stpcpy(p, "\",\"_sluice_list_idx\":");
	d = decimal(idx, num);
	p = (char *)memcpy(p, d, (size_t)(num + 24 - d)) + (num + 24 - d);
	p = stpcpy(p, ",\"_sluice_root_id\":\"");
	p = (char *)memcpy(p, r->root->text, ID_LEN) + ID_LEN;
	p = stpcpy(p, "\",\"_sluice_id\":\"");
	p = (char *)memcpy(p, id.text, ID_LEN) + ID_LEN;
	*p++ = '"';
	emit_row(n, ti, meta, (size_t)(p - meta), NULL, r->out);
	rc = emit_children(r, &w, &id);
	free(w.pend);
	return rc;
fail:
	free(w.pend);
	return -1;
}

/* The arrays a row (of id) held, element by element, depth first. */
static int
emit_children(struct record_ctx *r, const struct walk *w,
    const struct rowid *id)
{
	const struct jval *elem;
	size_t i, idx;

	for (i = 0; i < w->npend; i++) {
		const struct pending *p = &w->pend[i];

		for (elem = p->array->child, idx = 0; elem != NULL;
		    elem = elem->next, idx++)
			if (emit_element(r, p->table, elem, idx, p->at, id) ==
			    -1)
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
	const struct cell *cl;
	char *const *names;
	uint64_t h[2];
	size_t k, nkeys = table_keys(n, t, &names);
	long c;

	jbuf_reset(keys);
	for (k = 0; k < nkeys; k++) {
		c = name_get(n, &t->colnames, names[k], strlen(names[k]));
		cl = c >= 0 && (size_t)c < t->ncols &&
		    t->cols[c].stamp == n->rowstamp ?
		    &n->cells[t->cols[c].pos] : NULL;
		/* A hashed key is its token (v NULL): ids follow the token. */
		if (cl == NULL || (cl->v != NULL && cl->v->type == JV_NULL))
			return liberr_set(e, EX_DATAERR,
			    "table %s: record has no value for key \"%s\"",
			    t->name, names[k]);
		if (k > 0)
			jbuf_putc(keys, '\x1f');
		put_cell(n, cl, keys);
	}
	hash128(keys->p, keys->len, h);
	id_set(out, h[0], h[1]);
	return 0;
}

int
norm_record(struct normalizer *n, const char *stream, size_t len,
    const struct jval *record, const struct jval *version, struct jbuf *out,
    struct jbuf *warn, struct lib_err *e)
{
	struct record_ctx r = { n, n->opts.ndrop + n->opts.nhash > 0, 0, NULL,
	    out, e };
	struct walk w = { 0, NULL, 0, 0 };
	struct place top = { 0, 0, 0 };
	size_t mark = out->len, i;
	struct rowid id;
	char *const *keys;
	long ti;

	n->warn = warn;
	n->nannounced = 0;
	n->npath = 0;
	if ((ti = root_table(n, stream, len, e)) < 0)
		return -1;
	r.keyed = table_keys(n, &n->tables[ti], &keys) > 0;
	w.table = (size_t)ti;
	new_row(n);
	if (walk_object(&r, &w, 0, record, top) == -1)
		goto fail;
	if (r.keyed) {
		if (key_id(n, (size_t)ti, &id, e) == -1)
			goto fail;
	} else
		random_id(n, &id);
	announce(n, (size_t)ti, r.keyed, out);
	/* The run's metadata, made once (norm_new), then this row's id. */
	n->meta.len = n->metafixed;
	jbuf_put(&n->meta, id.text, ID_LEN);
	jbuf_putc(&n->meta, '"');
	emit_row(n, (size_t)ti, n->meta.p, n->meta.len, version, out);
	r.root = &id;
	if (emit_children(&r, &w, &id) == -1)
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

static void
keys_free(char **keys, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
}

/* Whether two lists of key names are the same. */
static int
same_keys(char *const *a, size_t na, char *const *b, size_t nb)
{
	size_t i;

	if (na != nb)
		return 0;
	for (i = 0; i < na; i++)
		if (strcmp(a[i], b[i]) != 0)
			return 0;
	return 1;
}

int
norm_schema(struct normalizer *n, const char *stream, size_t len,
    const struct jval *key_properties, struct jbuf *warn, struct lib_err *e)
{
	const struct jval *k;
	struct ntable *t;
	char **keys = NULL;
	size_t nkeys = 0;
	long ti;

	n->warn = warn;
	if (key_properties != NULL && key_properties->type == JV_ARRAY)
		for (k = key_properties->child; k != NULL; k = k->next) {
			if (k->type != JV_STRING || k->len == 0 ||
			    memchr(k->str, '\0', k->len) != NULL) {
				keys_free(keys, nkeys);
				return liberr_set(e, EX_DATAERR, "SCHEMA message: "
				    "\"key_properties\" is not a list of names");
			}
			jbuf_reset(&n->keybuf);
			name_of(n, k->str, k->len, &n->keybuf);
			keys = xalloc_realloc(keys, nkeys + 1, sizeof(*keys));
			keys[nkeys++] = xalloc_memdup(n->keybuf.p, n->keybuf.len);
		}
	if ((ti = root_table(n, stream, len, e)) < 0) {
		keys_free(keys, nkeys);
		return -1;
	}
	t = &n->tables[ti];
	/* A changed key is announced again before the next row. */
	if (!same_keys(t->keys, t->nkeys, keys, nkeys))
		t->announced = 0;
	keys_free(t->keys, t->nkeys);
	t->keys = keys;
	t->nkeys = nkeys;
	return 0;
}

void
norm_root_name(struct normalizer *n, const char *stream, size_t len,
    const char **name, size_t *namelen)
{
	long ti;

	if ((ti = strmap_get(&n->streams, stream, len)) >= 0) {
		*name = n->tables[ti].name;
		*namelen = n->tables[ti].namelen;
		return;
	}
	jbuf_reset(&n->keybuf);
	name_of(n, stream, len, &n->keybuf);
	*name = n->keybuf.p;
	*namelen = n->keybuf.len;
}

int
norm_redact(struct normalizer *n, const struct jval *root,
    const struct jval *record, struct jbuf *out, struct lib_err *e)
{
	const struct jval *m;
	int rc = 0;

	n->npath = 0;
	if (root == record)
		return redact_value(n, root, 0, 0, out, e);
	if (root->type != JV_OBJECT) {
		jval_write(out, root);
		return 0;
	}
	/*
	 * A message: its record member is the record, and so is an earlier
	 * "record" that the last one hid.
	 */
	jbuf_putc(out, '{');
	for (m = root->child; m != NULL && rc == 0; m = m->next) {
		if (m != root->child)
			jbuf_putc(out, ',');
		jbuf_str(out, m->key, m->keylen);
		jbuf_putc(out, ':');
		if (m == record || (m->keylen == 6 &&
		    memcmp(m->key, "record", 6) == 0))
			rc = redact_value(n, m, 0, 0, out, e);
		else
			jval_write(out, m);
	}
	jbuf_putc(out, '}');
	return rc;
}

int
norm_path_matched(const struct normalizer *n, size_t i)
{
	return n->paths[i].matched;
}

unsigned long
norm_duplicates(const struct normalizer *n)
{
	return n->dups;
}

/* The paths of --drop and --hash, each part's normalized name with it. */
static void
paths_new(struct normalizer *n, const struct norm_opts *o)
{
	size_t i, k;

	n->npaths = o->ndrop + o->nhash;
	n->paths = xalloc_realloc(NULL, n->npaths + 1, sizeof(*n->paths));
	for (i = 0; i < n->npaths; i++) {
		struct npath *np = &n->paths[i];

		np->p = i < o->ndrop ? &o->drop[i] : &o->hash[i - o->ndrop];
		np->act = i < o->ndrop ? DROP : HASH;
		np->matched = 0;
		np->partlens = xalloc_realloc(NULL, np->p->nkeys,
		    sizeof(*np->partlens));
		np->names = xalloc_realloc(NULL, np->p->nkeys, sizeof(*np->names));
		np->namelens = xalloc_realloc(NULL, np->p->nkeys,
		    sizeof(*np->namelens));
		for (k = 0; k < np->p->nkeys; k++) {
			np->partlens[k] = strlen(np->p->keys[k]);
			jbuf_reset(&n->pathname);
			name_of(n, np->p->keys[k], np->partlens[k], &n->pathname);
			np->names[k] = xalloc_memdup(n->pathname.p,
			    n->pathname.len);
			np->namelens[k] = n->pathname.len;
		}
		if (np->p->nkeys > n->maxdepth)
			n->maxdepth = np->p->nkeys;
	}
}

struct normalizer *
norm_new(const struct norm_opts *o, struct lib_err *e)
{
	struct normalizer *n;
	struct timespec ts;

	if ((n = calloc(1, sizeof(*n))) == NULL) {
		(void)liberr_set(e, EX_OSERR, "out of memory");
		return NULL;
	}
	n->opts = *o;
	paths_new(n, o);
	if (o->nhash > 0 && (n->hmac = hmac_new(o->salt, o->saltlen, e)) == NULL) {
		norm_free(n);
		return NULL;
	}
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
	for (i = 0; i < n->npaths; i++) {
		for (j = 0; j < n->paths[i].p->nkeys; j++)
			free(n->paths[i].names[j]);
		free(n->paths[i].names);
		free(n->paths[i].namelens);
		free(n->paths[i].partlens);
	}
	free(n->paths);
	hmac_free(n->hmac);
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
		keys_free(t->keys, t->nkeys);
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
	jbuf_free(&n->tokenin);
	jbuf_free(&n->redacted);
	jbuf_free(&n->pathname);
	jbuf_free(&n->fold);
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
	p->dotted = xalloc_memdup(dotted, strlen(dotted));
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
	free(p->dotted);
	p->dotted = NULL;
	p->keys = NULL;
	p->nkeys = 0;
}
