/*
 * The loader core: what a load does with each message, whatever the
 * database.  The dialect (l->d) writes it: see load_int.h.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clocks.h"
#include "exitcodes.h"
#include "hash.h"
#include "load_int.h"
#include "xalloc.h"

/* A quoted identifier: "a""b".  Any bytes are fine, even a NUL is not. */
void
load_ident(struct jbuf *b, const char *s, size_t n)
{
	size_t i;

	jbuf_putc(b, '"');
	for (i = 0; i < n; i++) {
		if (s[i] == '"')
			jbuf_putc(b, '"');
		jbuf_putc(b, s[i]);
	}
	jbuf_putc(b, '"');
}

void
load_create_table_sql(struct jbuf *b, const char *qualifier,
    const struct schema_table *t, const char *const *types, int pk)
{
	size_t i;

	jbuf_reset(b);
	jbuf_puts(b, "CREATE TABLE ");
	jbuf_puts(b, qualifier);
	load_ident(b, t->name, t->namelen);
	jbuf_puts(b, " (");
	for (i = 0; i < t->ncols; i++) {
		if (i > 0)
			jbuf_putc(b, ',');
		load_ident(b, t->cols[i].name, t->cols[i].namelen);
		jbuf_putc(b, ' ');
		jbuf_puts(b, types[t->cols[i].type]);
		if (pk && load_is_key(t, i))
			jbuf_puts(b, " NOT NULL");
	}
	if (pk) {
		jbuf_puts(b, ", PRIMARY KEY (");
		for (i = 0; i < t->nkeys; i++) {
			if (i > 0)
				jbuf_putc(b, ',');
			load_ident(b, t->keys[i], strlen(t->keys[i]));
		}
		jbuf_putc(b, ')');
	}
	jbuf_putc(b, ')');
}

void
load_create_index_sql(struct jbuf *b, const char *qualifier,
    const struct schema_table *t, const char *name, size_t namelen,
    int unique, const char *const *cols, size_t ncols)
{
	size_t i;

	jbuf_reset(b);
	jbuf_puts(b, unique ? "CREATE UNIQUE INDEX IF NOT EXISTS " :
	    "CREATE INDEX IF NOT EXISTS ");
	load_ident(b, name, namelen);
	jbuf_puts(b, " ON ");
	jbuf_puts(b, qualifier);
	load_ident(b, t->name, t->namelen);
	jbuf_putc(b, '(');
	for (i = 0; i < ncols; i++) {
		if (i > 0)
			jbuf_putc(b, ',');
		load_ident(b, cols[i], strlen(cols[i]));
	}
	jbuf_putc(b, ')');
}

/*
 * A load id names one load: one already in _sluice_loads is refused
 * before anything is written (a retry of a load that committed).
 */
static int
load_id_is_new(struct loader *l, struct lib_err *e)
{
	int rc = l->d->load_known(l, l->opts.load_id, e);

	if (rc == 1)
		return liberr_set(e, EX_USAGE, "load id %s: already in "
		    "_sluice_loads: a load id names one load", l->opts.load_id);
	return rc;
}

static void
set_load_id(struct loader *l, const char *load_id)
{
	l->opts.load_id = load_id;
	memset(&l->load_id_val, 0, sizeof(l->load_id_val));
	l->load_id_val.type = JV_STRING;
	l->load_id_val.str = load_id;
	l->load_id_val.len = strlen(load_id);
}

int
load_open(struct loader **out, const struct load_dialect *d,
    const char *target, const struct load_opts *opts, struct lib_err *e)
{
	struct loader *l;

	*out = NULL;
	l = xalloc_calloc(1, sizeof(*l));
	l->d = d;
	l->opts = *opts;
	set_load_id(l, opts->load_id);
	if (d->open(l, target, e) == -1)
		goto fail;
	l->ddl_gen = 1;
	clocks_utc(l->started_at, sizeof(l->started_at), 1);
	if (load_id_is_new(l, e) == -1)
		goto fail;
	*out = l;
	return 0;
fail:
	load_close(l);
	return -1;
}

struct load_table *
load_tinfo(struct schema_table *t)
{
	return t->user;
}

/*
 * Start from the schema the last load stored for this table, so that
 * widened types and nullability survive from load to load and an
 * unchanged stream keeps its schema version.
 */
static int
seed_stored_schema(struct loader *l, struct schema_table *t, struct lib_err *e)
{
	struct jval_parser *p;
	const struct jval *schema;
	struct jbuf json = JBUF_INIT;
	int rc, ret = 0;

	if ((rc = l->d->stored_schema(l, t, &json, e)) == 1) {
		/* Its only failure is memory; the load has not written yet. */
		if ((p = jval_parser_new((size_t)1 << 30)) == NULL) {
			jbuf_free(&json);
			return liberr_set(e, EX_OSERR, "out of memory");
		}
		schema = jval_parse(p, json.p, json.len, JVAL_KEEP_ALL, e);
		if (schema == NULL ||
		    schema_apply_json(t, schema, NULL, NULL, e) == -1)
			ret = liberr_prefix(e, "_sluice_schemas: table %s", t->name);
		jval_parser_free(p);
	} else if (rc == -1)
		ret = -1;
	jbuf_free(&json);
	return ret;
}

/*
 * An existing table's PRIMARY KEY is the stream's key until -k or a
 * SCHEMA says otherwise, so that later loads keep enforcing it.
 */
static int
adopt_primary_key(struct loader *l, struct schema_table *t, struct lib_err *e)
{
	struct jbuf csv = JBUF_INIT;
	int rc;

	if ((rc = l->d->primary_key(l, t, &csv, e)) == 0 && csv.len > 0) {
		schema_table_set_keys_csv(t, jbuf_cstr(&csv));
		load_tinfo(t)->keyed = 1;
	}
	jbuf_free(&csv);
	return rc;
}

/* Whether a name starts with prefix, ignoring ASCII case. */
static int
has_prefix_nocase(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && strncasecmp(s, prefix, n) == 0;
}

/*
 * A stream's name must be a table of its own: not sluice's bookkeeping
 * (_sluice_*) or the database's (sqlite_*, pg_*), in any case; and, where
 * the database's names ignore ASCII case, not another spelling of a
 * table the load or the database already has.
 */
static int
check_stream_name(struct loader *l, const char *stream, size_t len,
    struct lib_err *e)
{
	size_t i;

	if (memchr(stream, '\0', len) != NULL)
		return liberr_set(e, EX_DATAERR, "stream name contains U+0000");
	if (l->d->max_name > 0 && len > l->d->max_name)
		return liberr_set(e, EX_DATAERR, "stream %.*s: longer than the "
		    "%zu bytes of a %s name", (int)len, stream, l->d->max_name,
		    l->d->name);
	if (has_prefix_nocase(stream, len, "_sluice_") ||
	    has_prefix_nocase(stream, len, l->d->reserved_prefix))
		return liberr_set(e, EX_DATAERR, "stream %.*s: names starting "
		    "with _sluice_ or %s are reserved", (int)len, stream,
		    l->d->reserved_prefix);
	for (i = 0; l->d->names_fold_case && i < l->set.n; i++) {
		const struct schema_table *t = l->set.tables[i];

		if (t->namelen == len && strncasecmp(t->name, stream, len) == 0)
			return liberr_set(e, EX_DATAERR, "stream %.*s: differs "
			    "only in case from stream %s (%s names ignore "
			    "case)", (int)len, stream, t->name, l->d->name);
	}
	return l->d->name_clash(l, stream, len, e);
}

/*
 * Replace mode: a table's old rows go, and with them those of its child
 * tables, which the load may not mention at all.  Each child is attached
 * (and so emptied) once: rows this load already wrote into it stay.
 */
static int
replace_family(struct loader *l, struct schema_table *t, struct lib_err *e)
{
	struct jbuf names = JBUF_INIT;
	const char *name;
	size_t k, n;
	int ret = 0;

	if (l->d->delete_rows(l, t, LOAD_ROWS_ALL, NULL, e) == -1 ||
	    l->d->child_names(l, t, &names, &n, e) == -1)
		ret = -1;
	for (k = 0, name = names.p; ret == 0 && k < n;
	    k++, name += strlen(name) + 1)
		if (load_table_for(l, name, strlen(name), e) == NULL)
			ret = -1;
	jbuf_free(&names);
	return ret;
}

/* The columns of an existing table, as the dialect lists them. */
struct seed {
	struct schema_table	*t;
	unsigned char		*indb;	/* by schema column: the table has it */
	size_t			 ndb;
};

static int
seed_column(void *arg, const char *name, size_t n, const char *decl,
    struct lib_err *e)
{
	struct seed *s = arg;
	struct load_table *ti = load_tinfo(s->t);
	long col;

	if ((col = schema_table_find(s->t, name, n)) < 0 &&
	    (col = schema_table_add(s->t, name, n, schema_type_of_decl(decl),
	    1, e)) < 0)
		return -1;
	/*
	 * The table's columns are in the schema's order when the ones it
	 * has come first, in that order: those it lacks are appended.
	 */
	if ((size_t)col != s->ndb)
		ti->same_order = 0;
	s->ndb++;
	s->indb[col] = 1;
	return 0;
}

/*
 * The stream's table, attached on first use: an existing SQL table seeds
 * the schema with its columns; replace mode empties it.
 */
struct schema_table *
load_table_for(struct loader *l, const char *stream, size_t len, struct lib_err *e)
{
	struct schema_table *t;
	struct load_table *ti;
	struct seed s;
	size_t i;

	if ((t = schema_set_get(&l->set, stream, len, 0, e)) != NULL)
		return t;
	if (check_stream_name(l, stream, len, e) == -1)
		return NULL;
	if ((t = schema_set_get(&l->set, stream, len, 1, e)) == NULL)
		return NULL;
	ti = xalloc_calloc(1, sizeof(*ti));
	t->user = ti;
	ti->load_id_col = -1;
	ti->load_id_version = ULONG_MAX;	/* not looked up yet */

	if (seed_stored_schema(l, t, e) == -1)
		return NULL;
	/* Which of those columns the table has, and the ones only it has. */
	s.t = t;
	s.ndb = 0;
	s.indb = xalloc_calloc(SCHEMA_MAX_COLUMNS, 1);
	ti->same_order = 1;
	if (l->d->columns(l, t, seed_column, &s, e) == -1)
		goto fail;
	ti->exists = s.ndb > 0;
	t->seeded = ti->exists || t->ncols > 0;
	if (ti->exists)
		for (i = 0; i < t->ncols; i++)
			if (!s.indb[i] && l->d->add_column(l, t, i, e) == -1)
				goto fail;
	ti->ncols_db = ti->exists ? t->ncols : 0;
	free(s.indb);
	s.indb = NULL;
	if (ti->exists && adopt_primary_key(l, t, e) == -1)
		return NULL;
	ti->synced = t->version;
	if (ti->exists && l->opts.mode == LOAD_REPLACE &&
	    replace_family(l, t, e) == -1)
		return NULL;
	return t;
fail:
	free(s.indb);
	return NULL;
}

/*
 * How the stream's records meet the table's rows: the default merges a
 * stream with a key and appends one without, as a Singer target does.
 */
static enum load_mode
mode_of(const struct loader *l, const struct schema_table *t)
{
	if (l->opts.mode != LOAD_KEYED)
		return l->opts.mode;
	return t->nkeys > 0 ? LOAD_MERGE : LOAD_APPEND;
}

int
load_merges(const struct loader *l, const struct schema_table *t)
{
	return mode_of(l, t) == LOAD_MERGE ||
	    (l->opts.mode == LOAD_SCD2 &&
	    !((const struct load_table *)t->user)->scd2);
}

int
load_is_tombstone(const struct jval *record)
{
	const struct jval *m = jval_getn(record, "_sluice_deleted", 15);

	return m != NULL && m->type == JV_TRUE;
}

int
load_is_root(const struct schema_table *t)
{
	return schema_table_find(t, "_sluice_id", 10) >= 0 &&
	    schema_table_find(t, "_sluice_parent_id", 17) < 0;
}

int
load_find_children(struct loader *l, struct schema_table *t, struct lib_err *e)
{
	struct load_table *ti = load_tinfo(t);
	struct schema_table *c;
	struct jbuf names = JBUF_INIT;
	const char *name;
	size_t i, n, k;

	if (ti->children_gen == l->ddl_gen)
		return 0;
	ti->nchildren = 0;
	if (l->d->child_names(l, t, &names, &n, e) == -1) {
		jbuf_free(&names);
		return -1;
	}
	for (k = 0, name = names.p; k < n; k++, name += strlen(name) + 1) {
		if ((c = load_table_for(l, name, strlen(name), e)) == NULL) {
			jbuf_free(&names);
			return -1;
		}
		for (i = 0; i < l->set.n && l->set.tables[i] != c; i++)
			;
		ti->children = xalloc_realloc(ti->children, ti->nchildren + 1,
		    sizeof(*ti->children));
		ti->children[ti->nchildren++] = i;
	}
	jbuf_free(&names);
	load_tinfo(t)->children_gen = l->ddl_gen;
	return 0;
}

static int	deferred_flush(struct loader *, struct lib_err *);
static int	load_flush_group(struct loader *, struct lib_err *);

/* The dialect's statements go: the columns they cover changed. */
static void
unprepare(struct loader *l, struct schema_table *t)
{
	l->d->unprepare(l, t);
	load_tinfo(t)->stmt_ncols = 0;
}

/* All the dialect holds of t goes, statements too. */
static void
forget(struct loader *l, struct schema_table *t)
{
	l->d->forget(l, t);
	load_tinfo(t)->stmt_ncols = 0;
}

int
load_is_key(const struct schema_table *t, size_t col)
{
	size_t k;

	for (k = 0; k < t->nkeys; k++)
		if (strcmp(t->keys[k], t->cols[col].name) == 0)
			return 1;
	return 0;
}

/*
 * Whether a new table gets a PRIMARY KEY: when it has a key (-k or
 * key_properties) and every key column is there to declare.
 */
static int
declare_key(const struct schema_table *t)
{
	size_t k;

	if (t->nkeys == 0)
		return 0;
	for (k = 0; k < t->nkeys; k++)
		if (schema_table_find(t, t->keys[k], strlen(t->keys[k])) < 0)
			return 0;
	return 1;
}

int
load_find_keys(struct schema_table *t)
{
	struct load_table *ti = load_tinfo(t);
	size_t k;
	int rc = 0;

	free(ti->keycols);
	ti->keycols = xalloc_calloc(t->nkeys, sizeof(*ti->keycols));
	for (k = 0; k < t->nkeys; k++)
		if ((ti->keycols[k] = schema_table_find(t, t->keys[k],
		    strlen(t->keys[k]))) < 0)
			rc = -1;
	return rc;
}

/* Merge mode: find the key columns and make sure the unique index exists. */
static int
ensure_key(struct loader *l, struct schema_table *t, struct lib_err *e)
{
	struct load_table *ti = load_tinfo(t);
	int rc;

	if (t->nkeys == 0)
		return liberr_set(e, EX_USAGE,
		    "stream %s: --mode merge needs a key: give -k or a SCHEMA "
		    "with key_properties", t->name);
	if (load_find_keys(t) == -1)
		return 0;	/* not all seen yet: wait for them */
	if (ti->keyed || (ti->keyed = l->d->key_is_primary(l, t)))
		return 0;
	rc = l->d->create_index(l, t, "__sluice_key", 1,
	    (const char *const *)t->keys, t->nkeys, e);
	if (rc == LOAD_DUPLICATES)
		return liberr_set(e, EX_DATAERR,
		    "table %s holds duplicate keys: cannot merge on them%s",
		    t->name, l->opts.mode == LOAD_KEYED ? " (a stream with a "
		    "key merges by default: -m append appends)" : "");
	if (rc == -1)
		return -1;
	ti->keyed = 1;
	return 0;
}

/*
 * SCD2: the key names a row's versions, so it cannot be the PRIMARY KEY;
 * an index on it and the validity finds the current one.
 */
static int
scd2_key(struct loader *l, struct schema_table *t, struct lib_err *e)
{
	const char **cols;
	size_t k;
	int rc;

	if (t->nkeys == 0)
		return liberr_set(e, EX_USAGE,
		    "stream %s: --mode scd2 needs a key: give -k or a SCHEMA "
		    "with key_properties", t->name);
	if (load_find_keys(t) == -1 || !load_tinfo(t)->exists)
		return 0;
	if (l->d->key_is_primary(l, t))
		return liberr_set(e, EX_DATAERR, "table %s has its key as PRIMARY "
		    "KEY, one row a key: --mode scd2 keeps a row a version; load "
		    "the versions into a new table", t->name);
	cols = xalloc_realloc(NULL, t->nkeys + 1, sizeof(*cols));
	for (k = 0; k < t->nkeys; k++)
		cols[k] = t->keys[k];
	cols[k] = "_sluice_valid_to";
	rc = l->d->create_index(l, t, "__sluice_current", 0, cols, k + 1, e);
	free(cols);
	return rc == -1 ? -1 : 0;
}

/* Forget the folded names: the columns they were taken from are gone. */
static void
folded_reset(struct load_table *ti)
{
	strmap_free(&ti->folded);
	memset(&ti->folded, 0, sizeof(ti->folded));
	ti->nfolded = 0;
}

/*
 * The columns not checked yet must be names SQL can hold: SQL text ends
 * at a NUL, so U+0000 cannot be quoted whole; and where the database's
 * names ignore ASCII case, "ID" next to "id" would be the same column.
 */
static int
check_column_names(struct loader *l, struct schema_table *t,
    struct lib_err *e)
{
	struct load_table *ti = load_tinfo(t);
	const struct schema_column *c;
	size_t j;
	long other;

	for (; ti->nfolded < t->ncols; ti->nfolded++) {
		c = &t->cols[ti->nfolded];
		if (memchr(c->name, '\0', c->namelen) != NULL)
			return liberr_set(e, EX_DATAERR, "stream %s: column name "
			    "contains U+0000", t->name);
		if (l->d->max_name > 0 && c->namelen > l->d->max_name)
			return liberr_set(e, EX_DATAERR, "stream %s: column "
			    "%.*s...: longer than the %zu bytes of a %s name",
			    t->name, 20, c->name, l->d->max_name, l->d->name);
		if (!l->d->names_fold_case)
			continue;
		jbuf_reset(&l->tmp);
		jbuf_put(&l->tmp, c->name, c->namelen);
		for (j = 0; j < l->tmp.len; j++)
			if (l->tmp.p[j] >= 'A' && l->tmp.p[j] <= 'Z')
				l->tmp.p[j] |= 0x20;	/* ASCII lower case */
		if ((other = strmap_get(&ti->folded, l->tmp.p, l->tmp.len)) >= 0)
			return liberr_set(e, EX_DATAERR, "stream %s: columns \"%s\" "
			    "and \"%s\" differ only in case (%s names ignore "
			    "case)", t->name, t->cols[other].name, c->name,
			    l->d->name);
		strmap_put(&ti->folded, l->tmp.p, l->tmp.len, ti->nfolded);
	}
	return 0;
}

/*
 * A child table made by a load that merges gets its index on the root id
 * with its first row: each merge that changes a root looks its children
 * up by it, and an index built later would scan the table then.
 */
static int
child_index(struct loader *l, const struct schema_table *t, struct lib_err *e)
{
	static const char *const root_col = "_sluice_root_id";

	if ((l->opts.mode != LOAD_KEYED && l->opts.mode != LOAD_MERGE) ||
	    schema_table_find(t, root_col, 15) < 0)
		return 0;
	return l->d->create_index(l, t, "__sluice_root", 0, &root_col, 1, e) ==
	    -1 ? -1 : 0;
}

/* SCD2: the table gets its validity columns; 1 if it is versioned. */
static int
scd2_columns(struct loader *l, struct schema_table *t, struct lib_err *e)
{
	static const char *const names[3] = {
		"_sluice_valid_from", "_sluice_valid_to", "_sluice_row_hash"
	};
	struct load_table *ti = load_tinfo(t);
	size_t i;
	long col;

	ti->scd2_known = 1;
	if (l->opts.mode != LOAD_SCD2)
		return ti->scd2 = 0;
	/* Child tables follow their root's current version: merged. */
	if (schema_table_find(t, "_sluice_parent_id", 17) >= 0)
		return ti->scd2 = 0;
	for (i = 0; i < 3; i++) {
		if ((col = schema_table_find(t, names[i],
		    strlen(names[i]))) < 0) {
			if ((col = schema_table_add(t, names[i],
			    strlen(names[i]), i < 2 ? ST_TIMESTAMP : ST_TEXT,
			    1, e)) < 0)
				return -1;
			t->version++;
		}
		ti->scd2_cols[i] = col;
	}
	/* The load's time: when its versions begin and end. */
	memset(&ti->scd2_vals[0], 0, sizeof(ti->scd2_vals[0]));
	ti->scd2_vals[0].type = JV_STRING;
	ti->scd2_vals[0].str = l->started_at;
	ti->scd2_vals[0].len = strlen(l->started_at);
	return ti->scd2 = 1;
}

/* Make the SQL table match the schema: CREATE, then ALTER for new columns. */
static int
sync_table(struct loader *l, struct schema_table *t, struct lib_err *e)
{
	struct load_table *ti = load_tinfo(t);
	size_t i;

	if (ti->synced == t->version && ti->stmt_ncols > 0)
		return 0;
	if (l->opts.mode == LOAD_SCD2 && !ti->scd2_known && t->ncols > 0 &&
	    scd2_columns(l, t, e) == -1)
		return -1;
	if (check_column_names(l, t, e) == -1)
		return -1;
	if (!ti->exists && t->ncols > 0) {
		int pk = declare_key(t) && !ti->scd2;

		if (l->d->create_table(l, t, pk, e) == -1)
			return -1;
		if (pk)
			ti->keyed = 1;
		l->ddl_gen++;
		ti->exists = 1;
		ti->ncols_db = t->ncols;
		if (child_index(l, t, e) == -1)
			return -1;
	}
	for (i = ti->ncols_db; i < t->ncols; i++)
		if (l->d->add_column(l, t, i, e) == -1)
			return -1;
	ti->ncols_db = t->ncols;
	if (load_merges(l, t)) {
		if (ensure_key(l, t, e) == -1)
			return -1;
	} else if (ti->scd2) {
		if (scd2_key(l, t, e) == -1)
			return -1;
	} else if (t->nkeys > 0 && load_find_keys(t) == 0 && !ti->keyed &&
	    ti->exists)
		ti->keyed = l->d->key_is_primary(l, t);
	if (ti->exists && (ti->stmt_ncols != t->ncols ||
	    (load_merges(l, t) && ti->keyed && !ti->stmts_keyed))) {
		unprepare(l, t);
		if (l->d->prepare(l, t, e) == -1)
			return -1;
		ti->stmt_ncols = t->ncols;
	}
	ti->synced = t->version;
	return 0;
}

/* Room in ti->vals for n columns. */
static void
vals_reserve(struct load_table *ti, size_t n)
{
	size_t old = ti->valscap;

	if (n < old)
		return;
	ti->valscap = n + 64;
	ti->vals = xalloc_realloc(ti->vals, ti->valscap,
	    sizeof(const struct jval *));
	memset(ti->vals + old, 0, (ti->valscap - old) *
	    sizeof(const struct jval *));
}

/*
 * Whether the record holds a value for every key of its table: checked
 * before the record changes anything, schema included.
 */
static int
key_values(const struct schema_table *t, const struct jval *record,
    const char *what, struct lib_err *e)
{
	const struct jval *v;
	size_t k;

	for (k = 0; k < t->nkeys; k++) {
		v = jval_getn(record, t->keys[k], strlen(t->keys[k]));
		if (v == NULL || v->type == JV_NULL)
			return liberr_set(e, EX_DATAERR, "stream %s: %s has no "
			    "value for key \"%s\"", t->name, what, t->keys[k]);
	}
	return 0;
}

/*
 * Whether a record needs every key value: in every mode but append; and
 * in append mode when the key comes from -k or is, or will become, the
 * table's PRIMARY KEY.  Only key_properties on an existing table without
 * that constraint are a Singer stream's hint, not a requirement.
 */
static int
needs_key(const struct loader *l, const struct schema_table *t)
{
	const struct load_table *ti = t->user;

	return t->nkeys > 0 && (mode_of(l, t) != LOAD_APPEND || ti->keyed ||
	    !ti->exists || (l->opts.keys != NULL && !ti->schema_keys));
}

/*
 * A tombstone ("_sluice_deleted": true): merge deletes the row its key
 * names, with its child rows; SCD2 retires the current version; replace
 * leaves it out.  Only append mode stores it as a row.
 */
static int
tombstone(struct loader *l, struct schema_table *t, const struct jval *record,
    struct lib_err *e)
{
	struct load_table *ti = load_tinfo(t);
	size_t k;

	if (t->nkeys == 0)
		return liberr_set(e, EX_USAGE, "stream %s: a tombstone needs a "
		    "key: give -k or a SCHEMA with key_properties", t->name);
	/* Without its key a tombstone names nothing: bad data, never a no-op. */
	if (key_values(t, record, "tombstone", e) == -1)
		return -1;
	if (l->opts.mode == LOAD_REPLACE)
		return 0;
	if (sync_table(l, t, e) == -1)
		return -1;
	if (!ti->exists || load_find_keys(t) == -1)
		return 0;	/* nothing stored can have that key */
	vals_reserve(ti, t->ncols);
	memset(ti->vals, 0, ti->valscap * sizeof(const struct jval *));
	for (k = 0; k < t->nkeys; k++)
		ti->vals[ti->keycols[k]] = jval_getn(record, t->keys[k],
		    strlen(t->keys[k]));
	return l->d->delete_key(l, t, e);
}

int
load_schema(struct loader *l, const char *stream, size_t len,
    const struct jval *schema, const struct jval *key_properties,
    struct lib_err *e)
{
	struct schema_table *t;
	const struct jval *k;
	size_t ncols;

	if ((t = load_table_for(l, stream, len, e)) == NULL)
		return -1;
	/*
	 * A held root's group goes on past the SCHEMA of a child table (the
	 * normalizer announces a child table before its first row).
	 */
	if (l->ngroup > 0 && l->group[0].t == t &&
	    load_flush_group(l, e) == -1)
		return -1;
	if (deferred_flush(l, e) == -1)
		return -1;
	if (key_properties != NULL && key_properties->type == JV_ARRAY)
		for (k = key_properties->child; k != NULL; k = k->next)
			if (k->type == JV_STRING &&
			    memchr(k->str, '\0', k->len) != NULL)
				return liberr_set(e, EX_DATAERR, "stream %s: "
				    "key_properties: a name contains U+0000",
				    t->name);
	l->changes.n = 0;
	ncols = t->ncols;
	schema_mark_take(t, &l->mark);
	if (schema_apply_json(t, schema, key_properties, &l->changes, e) == -1 ||
	    check_column_names(l, t, e) == -1) {
		/* A rejected SCHEMA leaves the table's schema as it was. */
		if (t->ncols > ncols)
			folded_reset(load_tinfo(t));
		schema_mark_restore(t, &l->mark);
		return -1;
	}
	/*
	 * A stream that names its key keeps it (a child table its
	 * _sluice_id); -k is the key of the others.
	 */
	if (key_properties != NULL && key_properties->type == JV_ARRAY &&
	    key_properties->child != NULL)
		load_tinfo(t)->schema_keys = 1;
	else if (l->opts.keys != NULL)
		schema_table_set_keys_csv(t, l->opts.keys);
	/* A stream that names no key keeps the one its table declares. */
	else if (t->nkeys == 0 && load_tinfo(t)->exists &&
	    adopt_primary_key(l, t, e) == -1)
		return -1;
	return sync_table(l, t, e);
}

/* Put a member's value in its column; -1 with e set on bad data. */
static int
observe_member(struct loader *l, struct schema_table *t, const struct jval *m,
    struct lib_err *e)
{
	struct load_table *ti = load_tinfo(t);
	long col;

	if (schema_observe(t, m->key, m->keylen, m, &l->opts.infer,
	    &l->changes, &col, e) == -1)
		return -1;
	if (col != SCHEMA_NO_COLUMN) {
		vals_reserve(ti, (size_t)col);
		ti->vals[col] = m;
	}
	return 0;
}

unsigned long
load_duplicate_members(const struct loader *l)
{
	return l != NULL ? l->dup_members : 0;
}

/*
 * -k is the key of the streams that name none, but a child row that
 * jsonl-normalize made (it has a parent) keeps its own _sluice_id, as its
 * SCHEMA would say: the root's key is not among its columns.
 */
static void
first_record_keys(struct loader *l, struct schema_table *t,
    const struct jval *record)
{
	if (t->records == 0 && l->opts.keys != NULL &&
	    !load_tinfo(t)->schema_keys)
		schema_table_set_keys_csv(t,
		    jval_get(record, "_sluice_parent_id") != NULL &&
		    jval_get(record, "_sluice_id") != NULL ? "_sluice_id" :
		    l->opts.keys);
}

/*
 * The schema takes in the record, whose values go to ti->vals by column:
 * everything but the write, which write_record does.
 */
static int
observe_record(struct loader *l, struct schema_table *t,
    const struct jval *record, const struct jval *version, struct lib_err *e)
{
	struct load_table *ti = load_tinfo(t);
	const struct jval *m;
	long col;

	if (needs_key(l, t) && key_values(t, record, "record", e) == -1)
		return -1;
	schema_record_begin(t);
	l->changes.n = 0;
	vals_reserve(ti, t->ncols + 1);
	memset(ti->vals, 0, ti->valscap * sizeof(const struct jval *));
	/* Of a repeated name the last member counts (the parser marks the
	 * others shadowed, as jval_member skips them); the rest are counted. */
	for (m = record->child; m != NULL; m = m->next) {
		if (m->shadowed) {
			l->dup_members++;
			continue;
		}
		if (observe_member(l, t, m, e) == -1)
			return -1;
	}
	/* The rows' load id is the load's that writes them, as in _sluice_loads. */
	if (ti->load_id_version != t->version) {
		ti->load_id_col = schema_table_find(t, "_sluice_load_id", 15);
		ti->load_id_version = t->version;
	}
	if (ti->load_id_col >= 0) {
		vals_reserve(ti, (size_t)ti->load_id_col);
		ti->vals[ti->load_id_col] = &l->load_id_val;
	}
	if (version == NULL)
		ti->unversioned++;
	else {
		ti->versioned++;
		if (schema_observe(t, "_sluice_version", 15, version,
		    &l->opts.infer, &l->changes, &col, e) == -1)
			return -1;
		if (col != SCHEMA_NO_COLUMN && (size_t)col < ti->valscap)
			ti->vals[col] = version;
	}
	schema_record_end(t, &l->changes);
	return 0;
}

/* The 128-bit hash of b's bytes as 32 hex digits: the stored row hashes. */
static void
hash_hex(const struct jbuf *b, char out[33])
{
	uint64_t h[2];

	hash128(b->p, b->len, h);
	(void)snprintf(out, 33, "%016llx%016llx", (unsigned long long)h[0],
	    (unsigned long long)h[1]);
}

/* SCD2: the record's data hashed (jval_write_canonical) into ti->vals. */
static void
scd2_row_hash(struct loader *l, struct load_table *ti,
    const struct jval *record)
{
	jbuf_reset(&l->tmp);
	jval_write_canonical(&l->tmp, record, 1);
	hash_hex(&l->tmp, ti->hash_text);
	memset(&ti->scd2_vals[1], 0, sizeof(ti->scd2_vals[1]));
	ti->scd2_vals[1].type = JV_STRING;
	ti->scd2_vals[1].str = ti->hash_text;
	ti->scd2_vals[1].len = 32;
	ti->vals[ti->scd2_cols[0]] = &ti->scd2_vals[0];
	ti->vals[ti->scd2_cols[1]] = NULL;
	ti->vals[ti->scd2_cols[2]] = &ti->scd2_vals[1];
}

/* Store the row in ti->vals: the table made to match the schema first. */
static int
write_record(struct loader *l, struct schema_table *t,
    const struct jval *record, struct lib_err *e)
{
	struct load_table *ti = load_tinfo(t);
	size_t k;

	if (sync_table(l, t, e) == -1)
		return -1;
	if (t->ncols == 0)
		return 0;	/* only nulls so far: nothing to store */
	vals_reserve(ti, t->ncols);

	/*
	 * A keyed table needs every key: an INTEGER PRIMARY KEY would
	 * otherwise turn a null into the next rowid.
	 */
	if (ti->keyed || load_merges(l, t) || ti->scd2)
		for (k = 0; k < t->nkeys; k++)
			if (ti->keycols == NULL || ti->keycols[k] < 0 ||
			    ti->vals[ti->keycols[k]] == NULL ||
			    ti->vals[ti->keycols[k]]->type == JV_NULL)
				/* It has one (checked first): a variant's. */
				return liberr_set(e, EX_DATAERR, "stream %s: "
				    "key \"%s\": the value's type conflicts with "
				    "the column's (%s): a key cannot go to a "
				    "variant column", t->name, t->keys[k],
				    ti->keycols != NULL && ti->keycols[k] >= 0 ?
				    schema_type_name(t->cols[ti->keycols[k]].type) :
				    "unknown");
	if (ti->scd2) {
		scd2_row_hash(l, ti, record);
		return l->d->scd2_write(l, t, e);
	}
	if (load_merges(l, t))
		return l->d->upsert(l, t, e);
	return l->d->insert(l, t, e);
}

static int
load_record_now(struct loader *l, struct schema_table *t,
    const struct jval *record, const struct jval *version, struct lib_err *e)
{
	first_record_keys(l, t, record);
	if (mode_of(l, t) != LOAD_APPEND && load_is_tombstone(record))
		return tombstone(l, t, record, e);
	if (observe_record(l, t, record, version, e) == -1)
		return -1;
	return write_record(l, t, record, e);
}

/*
 * A record in its own savepoint: when it fails, the database and the
 * table's schema are as they were before it (columns it added, rows of
 * children a merge deleted, all of it).
 */
static int
load_record_atomic(struct loader *l, struct schema_table *t,
    const struct jval *record, const struct jval *version, struct lib_err *e)
{
	struct load_table *ti = load_tinfo(t);
	struct load_table before = *ti;
	struct lib_err e2;

	if (l->d->savepoint(l, LOAD_SP_BEGIN, e) == -1)
		return -1;
	schema_mark_take(t, &l->mark);
	if (load_record_now(l, t, record, version, e) == 0)
		return l->d->savepoint(l, LOAD_SP_RELEASE, e);
	if (l->d->savepoint(l, LOAD_SP_ROLLBACK, &e2) == -1 ||
	    l->d->savepoint(l, LOAD_SP_RELEASE, &e2) == -1) {
		/* Not the record's fault: the load cannot go on. */
		if (e2.code == EX_DATAERR)
			e2.code = EX_SOFTWARE;
		*e = e2;
		return -1;
	}
	if (t->ncols > l->mark.ncols)
		folded_reset(ti);
	schema_mark_restore(t, &l->mark);
	/* The statements may cover columns that are gone again. */
	forget(l, t);
	ti->exists = before.exists;
	ti->ncols_db = before.ncols_db;
	ti->keyed = before.keyed;
	ti->scd2_known = before.scd2_known;
	ti->scd2 = before.scd2;
	ti->inserted = before.inserted;
	ti->updated = before.updated;
	ti->unchanged = before.unchanged;
	ti->deleted = before.deleted;
	ti->versioned = before.versioned;
	ti->unversioned = before.unversioned;
	l->ddl_gen++;
	return -1;
}

/*
 * Whether the parent of a child row (_sluice_parent_id) was rejected in
 * this load: 1, 0, or -1 with e set.
 */
static int
parent_rejected(struct loader *l, const struct jval *record,
    struct lib_err *e)
{
	const struct jval *pid = jval_get(record, "_sluice_parent_id");
	int rc;

	if (l->nrejected == 0 || pid == NULL ||
	    (pid->type != JV_STRING && pid->type != JV_NUMBER))
		return 0;
	if ((rc = l->d->reject_find(l, pid, e)) == 1)
		liberr_set(e, EX_DATAERR, "its parent record (_sluice_id "
		    "%.*s) was rejected", (int)(pid->len > 64 ? 64 : pid->len),
		    pid->str);
	return rc;
}

/* Remember a rejected record's _sluice_id, for its children to follow. */
static int
note_rejected(struct loader *l, const struct jval *record, struct lib_err *e)
{
	const struct jval *id = jval_get(record, "_sluice_id");

	if (id == NULL || (id->type != JV_STRING && id->type != JV_NUMBER))
		return 0;
	if (l->d->reject_note(l, id, e) == -1)
		return -1;
	l->nrejected++;
	return 0;
}

/* A record held back: its values, in the copy they point into. */
struct deferred {
	struct schema_table	*t;
	struct jval		*record, *version;	/* copies */
	size_t			 nvals;
	size_t			*cols;		/* the column of each value */
	const struct jval	**vals;
	const char		*file;
	unsigned long		 lineno;
};

/* Held back at most: the first records of a new table, in bounded memory. */
#define DEFER_RECORDS	10000
#define DEFER_BYTES	((size_t)16 << 20)

void
load_origin(struct loader *l, const char *file, unsigned long lineno)
{
	l->file = file;
	l->lineno = lineno;
	l->err_file = NULL;
}

int
load_error_origin(const struct loader *l, const char **file,
    unsigned long *lineno)
{
	if (l == NULL || l->err_file == NULL)
		return 0;
	*file = l->err_file;
	*lineno = l->err_lineno;
	return 1;
}

static void
deferred_free(struct loader *l)
{
	size_t i;

	for (i = 0; i < l->ndeferred; i++) {
		free(l->deferred[i].record);
		free(l->deferred[i].version);
		free(l->deferred[i].cols);
		free(l->deferred[i].vals);
	}
	l->ndeferred = 0;
	l->deferred_bytes = 0;
}

static int
deferred_flush(struct loader *l, struct lib_err *e)
{
	struct deferred *d;
	struct load_table *ti;
	size_t i, j;
	int rc = 0;

	for (i = 0; i < l->ndeferred && rc == 0; i++) {
		d = &l->deferred[i];
		ti = load_tinfo(d->t);
		vals_reserve(ti, d->t->ncols);
		memset(ti->vals, 0, ti->valscap * sizeof(const struct jval *));
		for (j = 0; j < d->nvals; j++)
			ti->vals[d->cols[j]] = d->vals[j];
		if ((rc = write_record(l, d->t, d->record, e)) == -1) {
			l->err_file = d->file;
			l->err_lineno = d->lineno;
		}
	}
	deferred_free(l);
	return rc;
}

/*
 * Whether the record waits for its table's creation: a table that does
 * not exist yet takes its first records at once, unless each record runs
 * in its own savepoint, or is versioned (SCD2) or a tombstone.
 */
static int
defers(const struct loader *l, struct schema_table *t,
    const struct jval *record)
{
	return !l->opts.atomic_records && l->opts.mode != LOAD_SCD2 &&
	    !load_tinfo(t)->exists &&
	    (l->ndeferred == 0 || l->deferred[0].t == t) &&
	    !(mode_of(l, t) != LOAD_APPEND && load_is_tombstone(record));
}

/* Take in a record now and hold its write back. */
static int
defer_record(struct loader *l, struct schema_table *t,
    const struct jval *record, const struct jval *version, struct lib_err *e)
{
	struct load_table *ti = load_tinfo(t);
	struct deferred d;
	size_t i, n, size, vsize = 0;

	memset(&d, 0, sizeof(d));
	d.t = t;
	d.file = l->file;
	d.lineno = l->lineno;
	d.record = jval_clone(record, &size);
	if (version != NULL)
		d.version = jval_clone(version, &vsize);
	first_record_keys(l, t, d.record);
	/* Its names are checked now, so that a bad one names this line. */
	if (observe_record(l, t, d.record, d.version, e) == -1 ||
	    check_column_names(l, t, e) == -1)
		goto fail;
	for (i = n = 0; i < ti->valscap; i++)
		n += ti->vals[i] != NULL;
	d.cols = xalloc_calloc(n + 1, sizeof(*d.cols));
	d.vals = xalloc_calloc(n + 1, sizeof(const struct jval *));
	for (i = 0; i < ti->valscap; i++)
		if (ti->vals[i] != NULL) {
			d.cols[d.nvals] = i;
			d.vals[d.nvals++] = ti->vals[i];
		}
	if (l->ndeferred == l->deferredcap) {
		l->deferredcap = l->deferredcap ? l->deferredcap * 2 : 64;
		l->deferred = xalloc_realloc(l->deferred, l->deferredcap,
		    sizeof(*l->deferred));
	}
	l->deferred[l->ndeferred++] = d;
	l->deferred_bytes += sizeof(d) + size + vsize +
	    n * (sizeof(size_t) + sizeof(const struct jval *));
	if (l->ndeferred >= DEFER_RECORDS || l->deferred_bytes >= DEFER_BYTES)
		return deferred_flush(l, e);
	return 0;
fail:
	free(d.record);
	free(d.version);
	return -1;
}

/* The record into its table now (or held back with the deferred ones). */
static int
record_now(struct loader *l, struct schema_table *t, const struct jval *record,
    const struct jval *version, struct lib_err *e)
{
	struct lib_err e2;
	int rc;

	/* The records held back come first: they are older. */
	if (l->ndeferred > 0 && l->deferred[0].t != t &&
	    deferred_flush(l, e) == -1)
		return -1;
	if (defers(l, t, record))
		return defer_record(l, t, record, version, e);
	if (deferred_flush(l, e) == -1)
		return -1;
	if (!l->opts.atomic_records)
		return load_record_now(l, t, record, version, e);
	/*
	 * A rejected record has no effect: neither have the child rows that
	 * jsonl-normalize made of it, which come after it as records of
	 * their own; they are rejected with it, and so on down.
	 */
	if ((rc = parent_rejected(l, record, e)) == 0 &&
	    load_record_atomic(l, t, record, version, e) == 0)
		return 0;
	if (rc == -1 || e->code != EX_DATAERR)
		return -1;
	if (note_rejected(l, record, &e2) == -1) {
		*e = e2;
		return -1;
	}
	return -1;
}

/* ---- Unchanged rows ------------------------------------------------------
 *
 * A merge writes a root row, and replaces its child rows, only when they
 * changed: the root record and the child rows that follow it (those whose
 * _sluice_root_id is its _sluice_id, as jsonl-normalize writes them) are
 * held, hashed together, and compared with the _sluice_row_hash stored
 * with the row.  The same: nothing is written, and the rows keep the load
 * id of the load that wrote them.  Each record in its own savepoint
 * (--on-error skip, quarantine) writes as it comes, without the check.
 */

/* Held at most: one source record's rows, whatever their number. */
#define GROUP_BYTES	((size_t)64 << 20)

static void
group_free(struct loader *l)
{
	size_t i;

	for (i = 0; i < l->ngroup; i++) {
		free(l->group[i].record);
		free(l->group[i].version);
	}
	l->ngroup = 0;
	l->group_bytes = 0;
}

/* Whether the record starts a group: a root row that a merge writes. */
static int
groups(const struct loader *l, const struct schema_table *t,
    const struct jval *record)
{
	return !l->opts.atomic_records && l->opts.mode != LOAD_SCD2 &&
	    mode_of(l, t) == LOAD_MERGE && t->nkeys > 0 &&
	    jval_get(record, "_sluice_root_id") == NULL &&
	    !load_is_tombstone(record);
}

/* Whether the record is a child row of the held root. */
static int
in_group(const struct loader *l, const struct jval *record)
{
	const struct jval *root, *id;

	if (l->ngroup == 0 || (root = jval_get(record, "_sluice_root_id")) ==
	    NULL || root->type != JV_STRING)
		return 0;
	id = jval_get(l->group[0].record, "_sluice_id");
	return id != NULL && id->type == JV_STRING && id->len == root->len &&
	    memcmp(id->str, root->str, root->len) == 0;
}

static void
group_add(struct loader *l, struct schema_table *t, const struct jval *record,
    const struct jval *version)
{
	struct held_record *h;
	size_t vsize = 0;

	if (l->ngroup == l->groupcap) {
		l->groupcap = l->groupcap ? l->groupcap * 2 : 16;
		l->group = xalloc_realloc(l->group, l->groupcap,
		    sizeof(*l->group));
	}
	h = &l->group[l->ngroup++];
	memset(h, 0, sizeof(*h));
	h->t = t;
	h->record = jval_clone(record, &h->size);
	if (version != NULL)
		h->version = jval_clone(version, &vsize);
	h->file = l->file;
	h->lineno = l->lineno;
	l->group_bytes += h->size + vsize;
}

/*
 * The hash of a held root record with its child rows, as 32 hex digits
 * into out: each row canonical (members sorted, sluice's own and nulls
 * left out) after its table's name and before its Singer version, in the
 * order they came.
 */
static void
group_hash(struct loader *l, const struct held_record *h, size_t n,
    struct jbuf *out)
{
	char hex[33];
	size_t i;

	jbuf_reset(&l->tmp);
	for (i = 0; i < n; i++) {
		jbuf_put(&l->tmp, h[i].t->name, h[i].t->namelen);
		jbuf_putc(&l->tmp, '\t');
		jval_write_canonical(&l->tmp, h[i].record, 1);
		/* A Singer version is stored with the row: part of it. */
		if (h[i].version != NULL) {
			jbuf_putc(&l->tmp, '\t');
			jval_write(&l->tmp, h[i].version);
		}
		jbuf_putc(&l->tmp, '\n');
	}
	hash_hex(&l->tmp, hex);
	jbuf_reset(out);
	jbuf_puts(out, hex);
}

/* The root gets its hash as the last member _sluice_row_hash. */
static void
attach_hash(struct held_record *h, const char *hash)
{
	struct jval *m;

	memcpy(h->hash_text, hash, 32);
	h->hash_text[32] = '\0';
	h->hash.type = JV_STRING;
	h->hash.key = "_sluice_row_hash";
	h->hash.keylen = 16;
	h->hash.str = h->hash_text;
	h->hash.len = 32;
	h->hash.plain = 1;
	if ((m = h->record->child) == NULL)
		h->record->child = &h->hash;
	else {
		while (m->next != NULL)
			m = m->next;
		m->next = &h->hash;
	}
	h->record->len++;
}

static int
group_flush(struct loader *l, struct lib_err *e)
{
	struct held_record *h;
	size_t i;
	int rc = 0;

	if (l->ngroup == 0)
		return 0;
	group_hash(l, l->group, l->ngroup, &l->group_hash);
	h = &l->group[0];
	l->file = h->file;
	l->lineno = h->lineno;
	if ((rc = l->d->stored_same(l, h->t, h->record, l->group_hash.p,
	    e)) == 1) {
		for (i = 0; i < l->ngroup; i++)
			load_tinfo(l->group[i].t)->unchanged++;
		group_free(l);
		return 0;
	}
	if (rc == 0) {
		attach_hash(h, l->group_hash.p);
		for (i = 0; i < l->ngroup && rc == 0; i++) {
			h = &l->group[i];
			l->file = h->file;
			l->lineno = h->lineno;
			rc = record_now(l, h->t, h->record, h->version, e);
		}
	}
	if (rc == -1 && l->err_file == NULL) {
		l->err_file = l->file;
		l->err_lineno = l->lineno;
	}
	group_free(l);
	return rc;
}

/* The held group written, the place of the current message kept. */
static int
load_flush_group(struct loader *l, struct lib_err *e)
{
	const char *file = l->file;
	unsigned long lineno = l->lineno;
	int rc;

	if (l->ngroup == 0)
		return 0;
	rc = group_flush(l, e);
	l->file = file;
	l->lineno = lineno;
	return rc;
}

int
load_flush(struct loader *l, struct lib_err *e)
{
	if (load_flush_group(l, e) == -1)
		return -1;
	return deferred_flush(l, e);
}

int
load_record(struct loader *l, const char *stream, size_t len,
    const struct jval *record, const struct jval *version, struct lib_err *e)
{
	struct schema_table *t;

	if ((t = load_table_for(l, stream, len, e)) == NULL)
		return -1;
	if (l->ngroup > 0) {
		if (in_group(l, record) && l->group_bytes < GROUP_BYTES) {
			group_add(l, t, record, version);
			return 0;
		}
		if (load_flush_group(l, e) == -1)
			return -1;
	}
	/* -k names the key with the stream's first record. */
	first_record_keys(l, t, record);
	if (groups(l, t, record)) {
		group_add(l, t, record, version);
		return 0;
	}
	return record_now(l, t, record, version, e);
}


/*
 * Soft ACTIVATE_VERSION: the rows named get the load's time in
 * _sluice_deleted_at, a column the table gets if it lacks it; rows marked
 * before keep their time.
 */
static int
mark_rows_deleted(struct loader *l, struct schema_table *t,
    enum load_rows rows, const struct jval *version, struct lib_err *e)
{
	if (schema_table_find(t, "_sluice_deleted_at", 18) < 0) {
		if (schema_table_add(t, "_sluice_deleted_at", 18, ST_TIMESTAMP, 1,
		    e) < 0)
			return -1;
		t->version++;
		if (sync_table(l, t, e) == -1)
			return -1;
	}
	return l->d->mark_deleted(l, t, rows, version, e);
}

/*
 * Hard ACTIVATE_VERSION on a root table: the rows of its child tables
 * whose root is one of those named go first, as with a tombstone.
 */
static int
delete_children_of(struct loader *l, struct schema_table *t,
    enum load_rows rows, const struct jval *version, struct lib_err *e)
{
	size_t i;

	if (!load_is_root(t))
		return 0;
	if (load_find_children(l, t, e) == -1)
		return -1;
	for (i = 0; i < load_tinfo(t)->nchildren; i++)
		if (l->d->delete_children(l, t, l->set.tables[load_tinfo(t)->
		    children[i]], rows, version, e) == -1)
			return -1;
	return 0;
}

/*
 * The stream's table if the load or the database has it; else NULL,
 * with e->code 0 when the name is fine: a version message alone makes
 * no table.
 */
static struct schema_table *
existing_table(struct loader *l, const char *stream, size_t len,
    struct lib_err *e)
{
	struct schema_table *t;

	liberr_clear(e);
	if ((t = schema_set_get(&l->set, stream, len, 0, e)) != NULL)
		return t;
	if (check_stream_name(l, stream, len, e) == -1 ||
	    l->d->table_exists(l, stream, len, e) != 1)
		return NULL;
	return load_table_for(l, stream, len, e);
}

int
load_activate_version(struct loader *l, const char *stream, size_t len,
    const struct jval *version, unsigned long *kept, struct lib_err *e)
{
	struct schema_table *t;
	struct load_table *ti;
	enum load_rows older;
	long long n = 0;
	int keep_none, unmarked;

	*kept = 0;
	if (load_flush(l, e) == -1 || l->d->flush(l, e) == -1)
		return -1;
	if ((t = existing_table(l, stream, len, e)) == NULL)
		return e->code != 0 ? -1 : 0;
	ti = load_tinfo(t);
	if (!ti->exists)
		return 0;
	unmarked = schema_table_find(t, "_sluice_deleted_at", 18) >= 0;
	if (schema_table_find(t, "_sluice_version", 15) < 0) {
		/* No row has a version: none is older, and every one stays. */
		if (l->d->count_rows(l, t, LOAD_ROWS_ALL, unmarked, NULL, &n,
		    e) == -1)
			return -1;
		*kept = (unsigned long)n;
		return 0;
	}
	if (sync_table(l, t, e) == -1)
		return -1;
	/*
	 * A row without a version is older than any only in a stream whose
	 * records carry versions, when none of this load's lacked one: else
	 * it may be one this load wrote, or a tap without versions.
	 */
	keep_none = ti->unversioned > 0;
	if (!keep_none && ti->versioned == 0) {
		if (l->d->count_rows(l, t, LOAD_ROWS_VERSIONED, 0, NULL, &n,
		    e) == -1)
			return -1;
		keep_none = n == 0;
	}
	if (keep_none) {
		if (l->d->count_rows(l, t, LOAD_ROWS_UNVERSIONED, unmarked,
		    NULL, &n, e) == -1)
			return -1;
		*kept = (unsigned long)n;
	}
	older = keep_none ? LOAD_ROWS_OLDER : LOAD_ROWS_OLDER_OR_NONE;
	if (l->opts.soft_activate)
		return mark_rows_deleted(l, t, older, version, e);
	if (delete_children_of(l, t, older, version, e) == -1)
		return -1;
	return l->d->delete_rows(l, t, older, version, e);
}

int
load_state(struct loader *l, const struct jval *value, struct lib_err *e)
{
	struct jbuf json = JBUF_INIT;
	int rc;

	if (load_flush(l, e) == -1)
		return -1;
	jval_write(&json, value);
	rc = l->d->state_merge(l, json.p, json.len, e);
	jbuf_free(&json);
	return rc;
}

/* Each touched table's final schema goes into _sluice_schemas. */
static int
save_schemas(struct loader *l, unsigned long long *combined, struct lib_err *e)
{
	char hash[24], now[40];
	unsigned long long h;
	size_t i;

	clocks_utc(now, sizeof(now), 1);
	*combined = 0;
	for (i = 0; i < l->set.n; i++) {
		struct schema_table *t = l->set.tables[i];

		if (t->ncols == 0)
			continue;
		jbuf_reset(&l->tmp);
		jbuf_put(&l->tmp, t->name, t->namelen + 1);
		schema_write_json(t, &l->tmp);
		h = schema_hash(l->tmp.p, l->tmp.len);
		*combined = *combined * 31 + h;
		(void)snprintf(hash, sizeof(hash), "%016llx", h);
		if (l->d->save_schema(l, hash, t, l->tmp.p + t->namelen + 1,
		    l->tmp.len - t->namelen - 1, now, e) == -1)
			return -1;
	}
	return 0;
}

void
load_tables_json(const struct loader *l, struct jbuf *b)
{
	char num[128];
	size_t i;

	jbuf_putc(b, '{');
	for (i = 0; l != NULL && i < l->set.n; i++) {
		const struct schema_table *t = l->set.tables[i];
		const struct load_table *ti = t->user;

		if (i > 0)
			jbuf_putc(b, ',');
		jbuf_str(b, t->name, t->namelen);
		(void)snprintf(num, sizeof(num),
		    ":{\"inserted\":%lu,\"updated\":%lu,\"unchanged\":%lu,"
		    "\"deleted\":%lu}", ti->inserted, ti->updated, ti->unchanged,
		    ti->deleted);
		jbuf_puts(b, num);
	}
	jbuf_putc(b, '}');
}

int
load_commit(struct loader *l, struct jbuf *summary, struct lib_err *e)
{
	struct jbuf tables = JBUF_INIT;
	unsigned long long combined;
	char num[128], now[40], version[24];
	size_t i;
	int n = 0, ret = -1;

	if (load_flush(l, e) == -1 || l->d->flush(l, e) == -1)
		return -1;
	if (l->d->scd2_retire_absent(l, e) == -1 ||
	    save_schemas(l, &combined, e) == -1)
		return -1;
	(void)snprintf(version, sizeof(version), "%016llx", combined);
	load_tables_json(l, &tables);
	for (i = 0; i < l->set.n; i++) {
		struct schema_table *t = l->set.tables[i];
		struct load_table *ti = load_tinfo(t);

		if (n++ > 0)
			jbuf_puts(summary, ", ");
		jbuf_put(summary, t->name, t->namelen);
		(void)snprintf(num, sizeof(num), " +%lu ~%lu =%lu -%lu",
		    ti->inserted, ti->updated, ti->unchanged, ti->deleted);
		jbuf_puts(summary, num);
	}
	clocks_utc(now, sizeof(now), 1);
	if (l->d->record_load(l, now, jbuf_cstr(&tables), version, e) == -1)
		goto out;
	for (i = 0; i < l->set.n; i++)
		unprepare(l, l->set.tables[i]);
	if (l->d->commit(l, e) == -1)
		goto out;
	l->in_txn = 0;
	for (i = 0; i < l->set.n; i++)
		forget(l, l->set.tables[i]);
	ret = 0;
out:
	jbuf_free(&tables);
	return ret;
}

int
load_next_load(struct loader *l, const char *load_id, struct lib_err *e)
{
	struct load_table *ti;
	size_t i;

	if (l->d->begin(l, e) == -1)
		return -1;
	l->in_txn = 1;
	set_load_id(l, load_id);
	l->ddl_gen++;
	clocks_utc(l->started_at, sizeof(l->started_at), 1);
	for (i = 0; i < l->set.n; i++) {
		ti = load_tinfo(l->set.tables[i]);
		ti->inserted = ti->updated = ti->unchanged = ti->deleted = 0;
		ti->versioned = ti->unversioned = 0;
	}
	return load_id_is_new(l, e);
}

void
load_close(struct loader *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->set.n; i++) {
		struct load_table *ti = load_tinfo(l->set.tables[i]);

		if (ti == NULL)
			continue;
		l->d->forget(l, l->set.tables[i]);
		strmap_free(&ti->folded);
		free(ti->keycols);
		free(ti->vals);
		free(ti->children);
		free(ti);
	}
	schema_mark_free(&l->mark);
	deferred_free(l);
	free(l->deferred);
	group_free(l);
	free(l->group);
	jbuf_free(&l->group_hash);
	l->d->close(l);
	schema_set_free(&l->set);
	schema_changes_free(&l->changes);
	jbuf_free(&l->sql);
	jbuf_free(&l->tmp);
	free(l);
}
