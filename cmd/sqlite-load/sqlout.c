#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "clocks.h"
#include "exitcodes.h"
#include "sqlout_int.h"
#include "state.h"
#include "xalloc.h"

int
sqlout_fail(struct sqlout *o, int rc, const char *what, struct lib_err *e)
{
	return liberr_set(e, state_exit_status(rc), "%s: %s", what,
	    o->db != NULL ? sqlite3_errmsg(o->db) : sqlite3_errstr(rc));
}

int
sqlout_exec(struct sqlout *o, const char *sql, struct lib_err *e)
{
	int rc;

	if ((rc = sqlite3_exec(o->db, sql, NULL, NULL, NULL)) != SQLITE_OK)
		return sqlout_fail(o, rc, sql, e);
	return 0;
}

int
sqlout_prepare(struct sqlout *o, const char *sql, sqlite3_stmt **st,
    struct lib_err *e)
{
	int rc;

	if ((rc = sqlite3_prepare_v2(o->db, sql, -1, st, NULL)) != SQLITE_OK)
		return sqlout_fail(o, rc, sql, e);
	return 0;
}

/* A quoted identifier: "a""b".  Any bytes are fine, even a NUL is not. */
void
sqlout_ident(struct jbuf *b, const char *s, size_t n)
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

static const char *
sql_type(enum stype t)
{
	/* DECIMAL TEXT: TEXT affinity, so SQLite never makes it a REAL. */
	static const char *const names[] = {
		"TEXT", "INTEGER", "REAL", "BOOLEAN", "TEXT", "TIMESTAMP",
		"DATE", "JSON", "DECIMAL TEXT"
	};

	return names[t];
}

static const char bookkeeping[] =
    "CREATE TABLE IF NOT EXISTS _sluice_loads ("
    " load_id TEXT PRIMARY KEY, status TEXT NOT NULL,"
    " started_at TEXT NOT NULL, finished_at TEXT,"
    " tables TEXT, schema_version TEXT);"
    "CREATE TABLE IF NOT EXISTS _sluice_state ("
    " load_id TEXT NOT NULL, stored_at TEXT NOT NULL, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS _sluice_schemas ("
    " version_hash TEXT PRIMARY KEY, table_name TEXT NOT NULL,"
    " schema TEXT NOT NULL, load_id TEXT NOT NULL, inserted_at TEXT NOT NULL);";

/*
 * A load id names one load: one already in _sluice_loads is refused
 * before anything is written (a retry of a load that committed).
 */
static int
load_id_is_new(struct sqlout *o, struct lib_err *e)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlout_prepare(o, "SELECT 1 FROM _sluice_loads WHERE load_id = ?1",
	    &st, e) == -1)
		return -1;
	(void)sqlite3_bind_text(st, 1, o->opts.load_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	(void)sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return liberr_set(e, EX_USAGE, "load id %s: already in "
		    "_sluice_loads: a load id names one load", o->opts.load_id);
	if (rc != SQLITE_DONE)
		return sqlout_fail(o, rc, "_sluice_loads", e);
	return 0;
}

int
sqlout_open(struct sqlout **out, const char *path,
    const struct sqlout_opts *opts, struct lib_err *e)
{
	struct sqlout *o;
	struct stat opened, now;
	int rc;

	*out = NULL;
	if ((o = calloc(1, sizeof(*o))) == NULL)
		return liberr_set(e, EX_OSERR, "out of memory");
	o->opts = *opts;
	o->is_file = path[0] != '\0' && strcmp(path, ":memory:") != 0;
	if (o->is_file && stat(path, &opened) == -1 && errno == ENOENT)
		o->created = xalloc_memdup(path, strlen(path));
	rc = sqlite3_open_v2(path, &o->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		(void)liberr_set(e, EX_CANTCREAT, "%s: %s", path,
		    o->db ? sqlite3_errmsg(o->db) : sqlite3_errstr(rc));
		goto fail;
	}
	/* The file this load works on, whatever its path names later. */
	if (o->is_file) {
		if (stat(path, &opened) == -1) {
			(void)liberr_set(e, EX_TEMPFAIL, "%s: %s", path,
			    strerror(errno));
			goto fail;
		}
		o->dev = opened.st_dev;
		o->ino = opened.st_ino;
	}
	(void)sqlite3_busy_timeout(o->db, opts->busy_timeout_ms);
	(void)sqlite3_extended_result_codes(o->db, 0);
	/*
	 * WAL: readers go on while we load.  synchronous=FULL: a commit we
	 * acknowledge (by echoing STATE) survives a power cut.  A large page
	 * cache keeps index updates in memory during big loads.
	 */
	if (sqlout_exec(o, "PRAGMA journal_mode=WAL", e) == -1 ||
	    sqlout_exec(o, "PRAGMA synchronous=FULL", e) == -1 ||
	    sqlout_exec(o, "PRAGMA cache_size=-65536", e) == -1 ||
	    sqlout_exec(o, "PRAGMA foreign_keys=OFF", e) == -1) {
		if (e->code != EX_TEMPFAIL)
			e->code = EX_CANTCREAT;
		(void)liberr_prefix(e, "%s", path);
		goto fail;
	}
	if (sqlout_exec(o, "BEGIN IMMEDIATE", e) == -1) {
		(void)liberr_prefix(e, "%s", path);
		goto fail;
	}
	o->in_txn = 1;
	/*
	 * A load that created the file and failed removes it while it holds
	 * the write lock: one that waited for the lock must not write into
	 * the removed file.
	 */
	if (o->is_file && (stat(path, &now) == -1 ||
	    now.st_dev != o->dev || now.st_ino != o->ino)) {
		(void)liberr_set(e, EX_TEMPFAIL, "%s: the database was removed "
		    "while this load waited for it: try again", path);
		free(o->created);
		o->created = NULL;	/* not ours to remove */
		goto fail;
	}
	o->ddl_gen = 1;
	clocks_utc(o->started_at, sizeof(o->started_at), 1);
	if (sqlout_exec(o, bookkeeping, e) == -1 || load_id_is_new(o, e) == -1)
		goto fail;
	memset(&o->load_id_val, 0, sizeof(o->load_id_val));
	o->load_id_val.type = JV_STRING;
	o->load_id_val.str = o->opts.load_id;
	o->load_id_val.len = strlen(o->opts.load_id);
	*out = o;
	return 0;
fail:
	sqlout_close(o);
	return -1;
}

struct table *
sqlout_tinfo(struct schema_table *t)
{
	return t->user;
}

static int
count_rows_deleted(struct sqlout *o, struct schema_table *t, const char *where,
    const struct jval *bindnum, struct lib_err *e)
{
	sqlite3_stmt *st;
	int rc;

	jbuf_reset(&o->sql);
	jbuf_puts(&o->sql, "DELETE FROM ");
	sqlout_ident(&o->sql, t->name, t->namelen);
	jbuf_puts(&o->sql, where);
	if (sqlout_prepare(o, jbuf_cstr(&o->sql), &st, e) == -1)
		return -1;
	if (bindnum != NULL)
		(void)sqlite3_bind_text(st, 1, bindnum->str, (int)bindnum->len,
		    SQLITE_STATIC);
	rc = sqlite3_step(st);
	(void)sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return sqlout_fail(o, rc, "delete", e);
	sqlout_tinfo(t)->deleted += (unsigned long)sqlite3_changes(o->db);
	return 0;
}

static int
add_column(struct sqlout *o, const struct schema_table *t, size_t i,
    struct lib_err *e)
{
	jbuf_reset(&o->sql);
	jbuf_puts(&o->sql, "ALTER TABLE ");
	sqlout_ident(&o->sql, t->name, t->namelen);
	jbuf_puts(&o->sql, " ADD COLUMN ");
	sqlout_ident(&o->sql, t->cols[i].name, t->cols[i].namelen);
	jbuf_putc(&o->sql, ' ');
	jbuf_puts(&o->sql, sql_type(t->cols[i].type));
	return sqlout_exec(o, jbuf_cstr(&o->sql), e);
}

/*
 * Start from the schema the last load stored for this table, so that
 * widened types and nullability survive from load to load and an
 * unchanged stream keeps its schema version.
 */
static int
seed_stored_schema(struct sqlout *o, struct schema_table *t, struct lib_err *e)
{
	struct jval_parser *p;
	const struct jval *schema;
	sqlite3_stmt *st;
	int rc, ret = 0;

	if (sqlout_prepare(o, "SELECT schema FROM _sluice_schemas WHERE table_name = ?1"
	    " ORDER BY rowid DESC LIMIT 1", &st, e) == -1)
		return -1;
	(void)sqlite3_bind_text(st, 1, t->name, (int)t->namelen, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		/* Its only failure is memory; the load has not written yet. */
		if ((p = jval_parser_new((size_t)1 << 30)) == NULL) {
			(void)sqlite3_finalize(st);
			return liberr_set(e, EX_OSERR, "out of memory");
		}
		schema = jval_parse(p, (const char *)sqlite3_column_text(st, 0),
		    (size_t)sqlite3_column_bytes(st, 0), JVAL_KEEP_ALL, e);
		if (schema == NULL ||
		    schema_apply_json(t, schema, NULL, NULL, e) == -1)
			ret = liberr_prefix(e, "_sluice_schemas: table %s", t->name);
		jval_parser_free(p);
	} else if (rc != SQLITE_DONE)
		ret = sqlout_fail(o, rc, "_sluice_schemas", e);
	(void)sqlite3_finalize(st);
	return ret;
}

/*
 * An existing table's PRIMARY KEY is the stream's key until -k or a
 * SCHEMA says otherwise, so that later loads keep enforcing it.
 */
static int
adopt_primary_key(struct sqlout *o, struct schema_table *t, struct lib_err *e)
{
	struct jbuf csv = JBUF_INIT;
	sqlite3_stmt *st;
	int rc;

	if (sqlout_prepare(o, "SELECT name FROM pragma_table_info(?1) WHERE pk > 0"
	    " ORDER BY pk", &st, e) == -1)
		return -1;
	(void)sqlite3_bind_text(st, 1, t->name, (int)t->namelen, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (csv.len > 0)
			jbuf_putc(&csv, ',');
		jbuf_puts(&csv, (const char *)sqlite3_column_text(st, 0));
	}
	(void)sqlite3_finalize(st);
	if (rc == SQLITE_DONE && csv.len > 0) {
		schema_table_set_keys_csv(t, jbuf_cstr(&csv));
		sqlout_tinfo(t)->keyed = 1;
	}
	jbuf_free(&csv);
	return rc == SQLITE_DONE ? 0 : sqlout_fail(o, rc, "table_info", e);
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
 * (_sluice_*) or SQLite's (sqlite_*), in any case, since SQLite's names
 * ignore ASCII case; and not another spelling of a table the load or the
 * database already has, which SQLite would take for the same table.
 */
static int
check_stream_name(struct sqlout *o, const char *stream, size_t len,
    struct lib_err *e)
{
	sqlite3_stmt *st;
	size_t i;
	int rc;

	if (memchr(stream, '\0', len) != NULL)
		return liberr_set(e, EX_DATAERR, "stream name contains U+0000");
	if (has_prefix_nocase(stream, len, "_sluice_") ||
	    has_prefix_nocase(stream, len, "sqlite_"))
		return liberr_set(e, EX_DATAERR, "stream %.*s: names starting "
		    "with _sluice_ or sqlite_ are reserved", (int)len, stream);
	for (i = 0; i < o->set.n; i++) {
		const struct schema_table *t = o->set.tables[i];

		if (t->namelen == len && strncasecmp(t->name, stream, len) == 0)
			return liberr_set(e, EX_DATAERR, "stream %.*s: differs "
			    "only in case from stream %s (SQLite names ignore "
			    "case)", (int)len, stream, t->name);
	}
	if (sqlout_prepare(o, "SELECT name FROM sqlite_master WHERE name = ?1"
	    " COLLATE NOCASE AND name <> ?1 COLLATE BINARY LIMIT 1", &st,
	    e) == -1)
		return -1;
	(void)sqlite3_bind_text(st, 1, stream, (int)len, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		(void)liberr_set(e, EX_DATAERR, "stream %.*s: differs only in "
		    "case from table %s (SQLite names ignore case)", (int)len,
		    stream, (const char *)sqlite3_column_text(st, 0));
	else if (rc != SQLITE_DONE)
		(void)sqlout_fail(o, rc, "sqlite_master", e);
	(void)sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/*
 * Replace mode: a table's old rows go, and with them those of its child
 * tables, which the load may not mention at all.  Each child is attached
 * (and so emptied) once: rows this load already wrote into it stay.
 */
static int
replace_family(struct sqlout *o, struct schema_table *t, struct lib_err *e)
{
	struct jbuf names = JBUF_INIT;
	const char *name;
	size_t k, n;
	int ret = 0;

	if (count_rows_deleted(o, t, "", NULL, e) == -1 ||
	    sqlmerge_child_names(o, t, &names, &n, e) == -1)
		ret = -1;
	for (k = 0, name = names.p; ret == 0 && k < n;
	    k++, name += strlen(name) + 1)
		if (sqlout_table_for(o, name, strlen(name), e) == NULL)
			ret = -1;
	jbuf_free(&names);
	return ret;
}

/*
 * The stream's table, attached on first use: an existing SQL table seeds
 * the schema with its columns; replace mode empties it.
 */
struct schema_table *
sqlout_table_for(struct sqlout *o, const char *stream, size_t len, struct lib_err *e)
{
	struct schema_table *t;
	struct table *ti;
	sqlite3_stmt *st;
	unsigned char *indb = NULL;
	size_t i, ndb = 0;
	long col;
	int rc;

	if ((t = schema_set_get(&o->set, stream, len, 0, e)) != NULL)
		return t;
	if (check_stream_name(o, stream, len, e) == -1)
		return NULL;
	if ((t = schema_set_get(&o->set, stream, len, 1, e)) == NULL)
		return NULL;
	ti = xalloc_calloc(1, sizeof(*ti));
	t->user = ti;
	ti->load_id_col = -1;
	ti->load_id_version = ULONG_MAX;	/* not looked up yet */

	if (seed_stored_schema(o, t, e) == -1)
		return NULL;
	/* Which of those columns the table has, and the ones only it has. */
	indb = xalloc_calloc(SCHEMA_MAX_COLUMNS, 1);
	if (sqlout_prepare(o, "SELECT name, type FROM pragma_table_info(?1)", &st,
	    e) == -1)
		goto fail;
	(void)sqlite3_bind_text(st, 1, stream, (int)len, SQLITE_STATIC);
	/*
	 * The table's columns are in the schema's order when the ones it
	 * has come first, in that order: those it lacks are appended.
	 */
	ti->same_order = 1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		size_t n = (size_t)sqlite3_column_bytes(st, 0);

		if ((col = schema_table_find(t, name, n)) < 0 &&
		    (col = schema_table_add(t, name, n, schema_type_of_decl(
		    (const char *)sqlite3_column_text(st, 1)), 1, e)) < 0) {
			(void)sqlite3_finalize(st);
			goto fail;
		}
		if ((size_t)col != ndb)
			ti->same_order = 0;
		ndb++;
		indb[col] = 1;
	}
	(void)sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		(void)sqlout_fail(o, rc, "table_info", e);
		goto fail;
	}
	ti->exists = ndb > 0;
	t->seeded = ti->exists || t->ncols > 0;
	if (ti->exists)
		for (i = 0; i < t->ncols; i++)
			if (!indb[i] && add_column(o, t, i, e) == -1)
				goto fail;
	ti->ncols_db = ti->exists ? t->ncols : 0;
	free(indb);
	indb = NULL;
	if (ti->exists && adopt_primary_key(o, t, e) == -1)
		return NULL;
	ti->synced = t->version;
	if (ti->exists && o->opts.mode == SQLOUT_REPLACE &&
	    replace_family(o, t, e) == -1)
		return NULL;
	return t;
fail:
	free(indb);
	return NULL;
}

/*
 * How the stream's records meet the table's rows: the default merges a
 * stream with a key and appends one without, as a Singer target does.
 */
static enum sqlout_mode
mode_of(const struct sqlout *o, const struct schema_table *t)
{
	if (o->opts.mode != SQLOUT_KEYED)
		return o->opts.mode;
	return t->nkeys > 0 ? SQLOUT_MERGE : SQLOUT_APPEND;
}

/* Whether the table's rows are merged on the key (SCD2: its children). */
static int
merges(const struct sqlout *o, const struct schema_table *t)
{
	return mode_of(o, t) == SQLOUT_MERGE ||
	    (o->opts.mode == SQLOUT_SCD2 &&
	    !((const struct table *)t->user)->scd2);
}

static int	find_keys(struct schema_table *);
static int	deferred_flush(struct sqlout *, struct lib_err *);
static int	sqlout_flush_group(struct sqlout *, struct lib_err *);

static void
finalize_stmts(struct table *ti)
{
	(void)sqlite3_finalize(ti->hash_get);
	ti->hash_get = NULL;
	(void)sqlite3_finalize(ti->insert);
	(void)sqlite3_finalize(ti->update);
	(void)sqlite3_finalize(ti->old_id);
	(void)sqlite3_finalize(ti->del_root);
	ti->insert = ti->update = ti->old_id = ti->del_root = NULL;
	sqlmerge_finalize(ti);
}

/*
 * Statements name their parameters "?" in order, never "?N", and the
 * INSERT lists no columns when the table's match the schema's order:
 * SQLite resolves each "?N" and each listed column by a linear search,
 * which made preparing them quadratic in the columns, and a load that
 * adds a column a record cubic.
 */
static int
prepare_stmts(struct sqlout *o, struct schema_table *t, struct lib_err *e)
{
	struct table *ti = sqlout_tinfo(t);
	size_t i, k, n;

	finalize_stmts(ti);
	jbuf_reset(&o->sql);
	jbuf_puts(&o->sql, "INSERT INTO ");
	sqlout_ident(&o->sql, t->name, t->namelen);
	if (!ti->same_order) {
		jbuf_puts(&o->sql, " (");
		for (i = 0; i < t->ncols; i++) {
			if (i > 0)
				jbuf_putc(&o->sql, ',');
			sqlout_ident(&o->sql, t->cols[i].name,
			    t->cols[i].namelen);
		}
		jbuf_putc(&o->sql, ')');
	}
	jbuf_puts(&o->sql, " VALUES (");
	for (i = 0; i < t->ncols; i++)
		jbuf_puts(&o->sql, i > 0 ? ",?" : "?");
	jbuf_putc(&o->sql, ')');
	if (sqlout_prepare(o, jbuf_cstr(&o->sql), &ti->insert, e) == -1)
		return -1;
	ti->stmt_ncols = t->ncols;
	/* An update needs every key column; a record brings them later. */
	if (!merges(o, t) || t->nkeys == 0 || find_keys(t) == -1)
		return 0;

	/*
	 * The whole row is replaced, as a Singer target's upsert does: the
	 * other columns, then the key's; update_cols maps the parameters.
	 */
	ti->update_cols = xalloc_realloc(ti->update_cols, t->ncols + t->nkeys,
	    sizeof(*ti->update_cols));
	jbuf_reset(&o->sql);
	jbuf_puts(&o->sql, "UPDATE ");
	sqlout_ident(&o->sql, t->name, t->namelen);
	jbuf_puts(&o->sql, " SET ");
	for (i = n = 0; i < t->ncols; i++) {
		for (k = 0; k < t->nkeys; k++)
			if (ti->keycols[k] == (long)i)
				break;
		if (k < t->nkeys && t->ncols > t->nkeys)
			continue;
		if (n > 0)
			jbuf_putc(&o->sql, ',');
		sqlout_ident(&o->sql, t->cols[i].name, t->cols[i].namelen);
		jbuf_puts(&o->sql, "=?");
		ti->update_cols[n++] = i;
	}
	jbuf_puts(&o->sql, " WHERE ");
	for (k = 0; k < t->nkeys; k++) {
		i = (size_t)ti->keycols[k];
		if (k > 0)
			jbuf_puts(&o->sql, " AND ");
		sqlout_ident(&o->sql, t->cols[i].name, t->cols[i].namelen);
		jbuf_puts(&o->sql, "=?");
		ti->update_cols[n++] = i;
	}
	ti->update_nparams = n;
	return sqlout_prepare(o, jbuf_cstr(&o->sql), &ti->update, e);
}

static int
is_key(const struct schema_table *t, size_t col)
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

/* 1 if the table's PRIMARY KEY is exactly the stream's key. */
static int
primary_key_is(struct sqlout *o, const struct schema_table *t)
{
	sqlite3_stmt *st;
	size_t k = 0;
	int same = 1;

	if (sqlite3_prepare_v2(o->db, "SELECT name FROM pragma_table_info(?1)"
	    " WHERE pk > 0 ORDER BY pk", -1, &st, NULL) != SQLITE_OK)
		return 0;
	(void)sqlite3_bind_text(st, 1, t->name, (int)t->namelen, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (k >= t->nkeys || strcmp((const char *)sqlite3_column_text(st, 0),
		    t->keys[k]) != 0)
			same = 0;
		k++;
	}
	(void)sqlite3_finalize(st);
	return same && k == t->nkeys;
}

/* CREATE [UNIQUE] INDEX IF NOT EXISTS "T<suffix>" ON T (cols); an SQLite code. */
int
sqlout_create_index(struct sqlout *o, const struct schema_table *t, const char *suffix,
    int unique, const char *const *cols, size_t ncols)
{
	size_t i;

	jbuf_reset(&o->sql);
	jbuf_puts(&o->sql, unique ? "CREATE UNIQUE INDEX IF NOT EXISTS " :
	    "CREATE INDEX IF NOT EXISTS ");
	jbuf_reset(&o->tmp);
	jbuf_put(&o->tmp, t->name, t->namelen);
	jbuf_puts(&o->tmp, suffix);
	sqlout_ident(&o->sql, o->tmp.p, o->tmp.len);
	jbuf_puts(&o->sql, " ON ");
	sqlout_ident(&o->sql, t->name, t->namelen);
	jbuf_putc(&o->sql, '(');
	for (i = 0; i < ncols; i++) {
		if (i > 0)
			jbuf_putc(&o->sql, ',');
		sqlout_ident(&o->sql, cols[i], strlen(cols[i]));
	}
	jbuf_putc(&o->sql, ')');
	return sqlite3_exec(o->db, jbuf_cstr(&o->sql), NULL, NULL, NULL);
}

/* The column of each key in ti->keycols: 0, or -1 if one is not known yet. */
static int
find_keys(struct schema_table *t)
{
	struct table *ti = sqlout_tinfo(t);
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
ensure_key(struct sqlout *o, struct schema_table *t, struct lib_err *e)
{
	struct table *ti = sqlout_tinfo(t);
	int rc;

	if (t->nkeys == 0)
		return liberr_set(e, EX_USAGE,
		    "stream %s: --mode merge needs a key: give -k or a SCHEMA "
		    "with key_properties", t->name);
	if (find_keys(t) == -1)
		return 0;	/* not all seen yet: wait for them */
	if (ti->keyed || (ti->keyed = primary_key_is(o, t)))
		return 0;
	rc = sqlout_create_index(o, t, "__sluice_key", 1, (const char *const *)t->keys,
	    t->nkeys);
	if (rc == SQLITE_CONSTRAINT)
		return liberr_set(e, EX_DATAERR,
		    "table %s holds duplicate keys: cannot merge on them%s",
		    t->name, o->opts.mode == SQLOUT_KEYED ? " (a stream with a "
		    "key merges by default: -m append appends)" : "");
	if (rc != SQLITE_OK)
		return sqlout_fail(o, rc, "create key index", e);
	ti->keyed = 1;
	return 0;
}

/*
 * SCD2: the key names a row's versions, so it cannot be the PRIMARY KEY;
 * an index on it and the validity finds the current one.
 */
static int
scd2_key(struct sqlout *o, struct schema_table *t, struct lib_err *e)
{
	const char **cols;
	size_t k;
	int rc;

	if (t->nkeys == 0)
		return liberr_set(e, EX_USAGE,
		    "stream %s: --mode scd2 needs a key: give -k or a SCHEMA "
		    "with key_properties", t->name);
	if (find_keys(t) == -1 || !sqlout_tinfo(t)->exists)
		return 0;
	if (primary_key_is(o, t))
		return liberr_set(e, EX_DATAERR, "table %s has its key as PRIMARY "
		    "KEY, one row a key: --mode scd2 keeps a row a version; load "
		    "the versions into a new table", t->name);
	cols = xalloc_realloc(NULL, t->nkeys + 1, sizeof(*cols));
	for (k = 0; k < t->nkeys; k++)
		cols[k] = t->keys[k];
	cols[k] = "_sluice_valid_to";
	rc = sqlout_create_index(o, t, "__sluice_current", 0, cols, k + 1);
	free(cols);
	if (rc != SQLITE_OK)
		return sqlout_fail(o, rc, "create version index", e);
	return 0;
}

/* Forget the folded names: the columns they were taken from are gone. */
static void
folded_reset(struct table *ti)
{
	strmap_free(&ti->folded);
	memset(&ti->folded, 0, sizeof(ti->folded));
	ti->nfolded = 0;
}

/*
 * The columns not checked yet must be names SQL can hold: SQL text ends
 * at a NUL, so U+0000 cannot be quoted whole; and SQLite's names ignore
 * ASCII case, so "ID" next to "id" would be the same column.
 */
static int
check_column_names(struct sqlout *o, struct schema_table *t,
    struct lib_err *e)
{
	struct table *ti = sqlout_tinfo(t);
	const struct schema_column *c;
	size_t j;
	long other;

	for (; ti->nfolded < t->ncols; ti->nfolded++) {
		c = &t->cols[ti->nfolded];
		if (memchr(c->name, '\0', c->namelen) != NULL)
			return liberr_set(e, EX_DATAERR, "stream %s: column name "
			    "contains U+0000", t->name);
		jbuf_reset(&o->tmp);
		jbuf_put(&o->tmp, c->name, c->namelen);
		for (j = 0; j < o->tmp.len; j++)
			if (o->tmp.p[j] >= 'A' && o->tmp.p[j] <= 'Z')
				o->tmp.p[j] |= 0x20;	/* ASCII lower case */
		if ((other = strmap_get(&ti->folded, o->tmp.p, o->tmp.len)) >= 0)
			return liberr_set(e, EX_DATAERR, "stream %s: columns \"%s\" "
			    "and \"%s\" differ only in case (SQLite names ignore "
			    "case)", t->name, t->cols[other].name, c->name);
		strmap_put(&ti->folded, o->tmp.p, o->tmp.len, ti->nfolded);
	}
	return 0;
}

/*
 * A child table made by a load that merges gets its index on the root id
 * with its first row: each merge that changes a root looks its children
 * up by it, and an index built later would scan the table then.
 */
static int
child_index(struct sqlout *o, const struct schema_table *t, struct lib_err *e)
{
	static const char *const root_col = "_sluice_root_id";
	int rc;

	if ((o->opts.mode != SQLOUT_KEYED && o->opts.mode != SQLOUT_MERGE) ||
	    schema_table_find(t, root_col, 15) < 0)
		return 0;
	if ((rc = sqlout_create_index(o, t, "__sluice_root", 0, &root_col,
	    1)) != SQLITE_OK)
		return sqlout_fail(o, rc, "create root index", e);
	return 0;
}

/* Make the SQL table match the schema: CREATE, then ALTER for new columns. */
static int
sync_table(struct sqlout *o, struct schema_table *t, struct lib_err *e)
{
	struct table *ti = sqlout_tinfo(t);
	size_t i;

	if (ti->synced == t->version && ti->insert != NULL)
		return 0;
	if (o->opts.mode == SQLOUT_SCD2 && !ti->scd2_known && t->ncols > 0 &&
	    sqlmerge_scd2_columns(o, t, e) == -1)
		return -1;
	if (check_column_names(o, t, e) == -1)
		return -1;
	if (!ti->exists && t->ncols > 0) {
		int pk = declare_key(t) && !ti->scd2;

		jbuf_reset(&o->sql);
		jbuf_puts(&o->sql, "CREATE TABLE ");
		sqlout_ident(&o->sql, t->name, t->namelen);
		jbuf_puts(&o->sql, " (");
		for (i = 0; i < t->ncols; i++) {
			if (i > 0)
				jbuf_putc(&o->sql, ',');
			sqlout_ident(&o->sql, t->cols[i].name, t->cols[i].namelen);
			jbuf_putc(&o->sql, ' ');
			jbuf_puts(&o->sql, sql_type(t->cols[i].type));
			if (pk && is_key(t, i))
				jbuf_puts(&o->sql, " NOT NULL");
		}
		if (pk) {
			jbuf_puts(&o->sql, ", PRIMARY KEY (");
			for (i = 0; i < t->nkeys; i++) {
				if (i > 0)
					jbuf_putc(&o->sql, ',');
				sqlout_ident(&o->sql, t->keys[i], strlen(t->keys[i]));
			}
			jbuf_putc(&o->sql, ')');
			ti->keyed = 1;
		}
		jbuf_putc(&o->sql, ')');
		if (sqlout_exec(o, jbuf_cstr(&o->sql), e) == -1)
			return -1;
		o->ddl_gen++;
		ti->exists = 1;
		ti->ncols_db = t->ncols;
		if (child_index(o, t, e) == -1)
			return -1;
	}
	for (i = ti->ncols_db; i < t->ncols; i++)
		if (add_column(o, t, i, e) == -1)
			return -1;
	ti->ncols_db = t->ncols;
	if (merges(o, t)) {
		if (ensure_key(o, t, e) == -1)
			return -1;
	} else if (ti->scd2) {
		if (scd2_key(o, t, e) == -1)
			return -1;
	} else if (t->nkeys > 0 && find_keys(t) == 0 && !ti->keyed &&
	    ti->exists)
		ti->keyed = primary_key_is(o, t);
	if (ti->exists && (ti->stmt_ncols != t->ncols || ti->insert == NULL ||
	    (merges(o, t) && ti->keyed && ti->update == NULL)) &&
	    prepare_stmts(o, t, e) == -1)
		return -1;
	ti->synced = t->version;
	return 0;
}

/* Room in ti->vals for n columns. */
static void
vals_reserve(struct table *ti, size_t n)
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
needs_key(const struct sqlout *o, const struct schema_table *t)
{
	const struct table *ti = t->user;

	return t->nkeys > 0 && (mode_of(o, t) != SQLOUT_APPEND || ti->keyed ||
	    !ti->exists || (o->opts.keys != NULL && !ti->schema_keys));
}

/*
 * A tombstone ("_sluice_deleted": true): merge deletes the row its key
 * names, with its child rows; SCD2 retires the current version; replace
 * leaves it out.  Only append mode stores it as a row.
 */
static int
tombstone(struct sqlout *o, struct schema_table *t, const struct jval *record,
    struct lib_err *e)
{
	struct table *ti = sqlout_tinfo(t);
	size_t k;

	if (t->nkeys == 0)
		return liberr_set(e, EX_USAGE, "stream %s: a tombstone needs a "
		    "key: give -k or a SCHEMA with key_properties", t->name);
	/* Without its key a tombstone names nothing: bad data, never a no-op. */
	if (key_values(t, record, "tombstone", e) == -1)
		return -1;
	if (o->opts.mode == SQLOUT_REPLACE)
		return 0;
	if (sync_table(o, t, e) == -1)
		return -1;
	if (!ti->exists || find_keys(t) == -1)
		return 0;	/* nothing stored can have that key */
	vals_reserve(ti, t->ncols);
	memset(ti->vals, 0, ti->valscap * sizeof(const struct jval *));
	for (k = 0; k < t->nkeys; k++)
		ti->vals[ti->keycols[k]] = jval_getn(record, t->keys[k],
		    strlen(t->keys[k]));
	return sqlmerge_delete(o, t, e);
}

int
sqlout_schema(struct sqlout *o, const char *stream, size_t len,
    const struct jval *schema, const struct jval *key_properties,
    struct lib_err *e)
{
	struct schema_table *t;
	const struct jval *k;
	size_t ncols;

	if ((t = sqlout_table_for(o, stream, len, e)) == NULL)
		return -1;
	/*
	 * A held root's group goes on past the SCHEMA of a child table (the
	 * normalizer announces a child table before its first row).
	 */
	if (o->ngroup > 0 && o->group[0].t == t &&
	    sqlout_flush_group(o, e) == -1)
		return -1;
	if (deferred_flush(o, e) == -1)
		return -1;
	if (key_properties != NULL && key_properties->type == JV_ARRAY)
		for (k = key_properties->child; k != NULL; k = k->next)
			if (k->type == JV_STRING &&
			    memchr(k->str, '\0', k->len) != NULL)
				return liberr_set(e, EX_DATAERR, "stream %s: "
				    "key_properties: a name contains U+0000",
				    t->name);
	o->changes.n = 0;
	ncols = t->ncols;
	schema_mark_take(t, &o->mark);
	if (schema_apply_json(t, schema, key_properties, &o->changes, e) == -1 ||
	    check_column_names(o, t, e) == -1) {
		/* A rejected SCHEMA leaves the table's schema as it was. */
		if (t->ncols > ncols)
			folded_reset(sqlout_tinfo(t));
		schema_mark_restore(t, &o->mark);
		return -1;
	}
	/*
	 * A stream that names its key keeps it (a child table its
	 * _sluice_id); -k is the key of the others.
	 */
	if (key_properties != NULL && key_properties->type == JV_ARRAY &&
	    key_properties->child != NULL)
		sqlout_tinfo(t)->schema_keys = 1;
	else if (o->opts.keys != NULL)
		schema_table_set_keys_csv(t, o->opts.keys);
	/* A stream that names no key keeps the one its table declares. */
	else if (t->nkeys == 0 && sqlout_tinfo(t)->exists &&
	    adopt_primary_key(o, t, e) == -1)
		return -1;
	return sync_table(o, t, e);
}

static int
bind_value(struct sqlout *o, sqlite3_stmt *st, int idx, const struct jval *v,
    enum stype type)
{
	long long ll;

	if (v == NULL)
		return sqlite3_bind_null(st, idx);
	switch (v->type) {
	case JV_NULL:
		return sqlite3_bind_null(st, idx);
	case JV_TRUE:
		return sqlite3_bind_int(st, idx, 1);
	case JV_FALSE:
		return sqlite3_bind_int(st, idx, 0);
	case JV_NUMBER:
		/* Exact: the number's text, which the column keeps as it is. */
		if (type == ST_DECIMAL)
			return sqlite3_bind_text(st, idx, v->str, (int)v->len,
			    SQLITE_STATIC);
		if (jval_int64(v, &ll))
			return sqlite3_bind_int64(st, idx, ll);
		return sqlite3_bind_double(st, idx, jval_double(v));
	case JV_STRING:
		/* The arena outlives the step: no copy. */
		return sqlite3_bind_text(st, idx, v->str, (int)v->len,
		    SQLITE_STATIC);
	default:
		jbuf_reset(&o->tmp);
		jval_write(&o->tmp, v);
		return sqlite3_bind_text(st, idx, o->tmp.p, (int)o->tmp.len,
		    SQLITE_TRANSIENT);
	}
}

/* Bind the current row to the UPDATE, whose parameters update_cols maps. */
static int
bind_update(struct sqlout *o, struct schema_table *t, struct lib_err *e)
{
	struct table *ti = sqlout_tinfo(t);
	size_t j, col;
	int rc;

	for (j = 0; j < ti->update_nparams; j++) {
		col = ti->update_cols[j];
		if ((rc = bind_value(o, ti->update, (int)j + 1, ti->vals[col],
		    t->cols[col].type)) != SQLITE_OK)
			return sqlout_fail(o, rc, "bind", e);
	}
	return 0;
}

int
sqlout_bind_row(struct sqlout *o, struct schema_table *t, sqlite3_stmt *st,
    struct lib_err *e)
{
	struct table *ti = sqlout_tinfo(t);
	int i, n, rc;

	n = sqlite3_bind_parameter_count(st);
	for (i = 0; i < n && (size_t)i < t->ncols; i++)
		if ((rc = bind_value(o, st, i + 1, ti->vals[i],
		    t->cols[i].type)) != SQLITE_OK)
			return sqlout_fail(o, rc, "bind", e);
	return 0;
}

int
sqlout_step(struct sqlout *o, sqlite3_stmt *st, const char *what, struct lib_err *e)
{
	int rc = sqlite3_step(st);

	(void)sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return sqlout_fail(o, rc, what, e);
	return 0;
}

/* Put a member's value in its column; -1 with e set on bad data. */
static int
observe_member(struct sqlout *o, struct schema_table *t, const struct jval *m,
    struct lib_err *e)
{
	struct table *ti = sqlout_tinfo(t);
	long col;

	if (schema_observe(t, m->key, m->keylen, m, &o->opts.infer,
	    &o->changes, &col, e) == -1)
		return -1;
	if (col != SCHEMA_NO_COLUMN) {
		vals_reserve(ti, (size_t)col);
		ti->vals[col] = m;
	}
	return 0;
}

unsigned long
sqlout_duplicate_members(const struct sqlout *o)
{
	return o != NULL ? o->dup_members : 0;
}

/*
 * -k is the key of the streams that name none, but a child row that
 * jsonl-normalize made (it has a parent) keeps its own _sluice_id, as its
 * SCHEMA would say: the root's key is not among its columns.
 */
static void
first_record_keys(struct sqlout *o, struct schema_table *t,
    const struct jval *record)
{
	if (t->records == 0 && o->opts.keys != NULL &&
	    !sqlout_tinfo(t)->schema_keys)
		schema_table_set_keys_csv(t,
		    jval_get(record, "_sluice_parent_id") != NULL &&
		    jval_get(record, "_sluice_id") != NULL ? "_sluice_id" :
		    o->opts.keys);
}

/*
 * The schema takes in the record, whose values go to ti->vals by column:
 * everything but the write, which write_record does.
 */
static int
observe_record(struct sqlout *o, struct schema_table *t,
    const struct jval *record, const struct jval *version, struct lib_err *e)
{
	struct table *ti = sqlout_tinfo(t);
	const struct jval *m;
	long col;

	if (needs_key(o, t) && key_values(t, record, "record", e) == -1)
		return -1;
	schema_record_begin(t);
	o->changes.n = 0;
	vals_reserve(ti, t->ncols + 1);
	memset(ti->vals, 0, ti->valscap * sizeof(const struct jval *));
	/* Of a repeated name the last member counts (the parser marks the
	 * others shadowed, as jval_member skips them); the rest are counted. */
	for (m = record->child; m != NULL; m = m->next) {
		if (m->shadowed) {
			o->dup_members++;
			continue;
		}
		if (observe_member(o, t, m, e) == -1)
			return -1;
	}
	/* The rows' load id is the load's that writes them, as in _sluice_loads. */
	if (ti->load_id_version != t->version) {
		ti->load_id_col = schema_table_find(t, "_sluice_load_id", 15);
		ti->load_id_version = t->version;
	}
	if (ti->load_id_col >= 0) {
		vals_reserve(ti, (size_t)ti->load_id_col);
		ti->vals[ti->load_id_col] = &o->load_id_val;
	}
	if (version == NULL)
		ti->unversioned++;
	else {
		ti->versioned++;
		if (schema_observe(t, "_sluice_version", 15, version,
		    &o->opts.infer, &o->changes, &col, e) == -1)
			return -1;
		if (col != SCHEMA_NO_COLUMN && (size_t)col < ti->valscap)
			ti->vals[col] = version;
	}
	schema_record_end(t, &o->changes);
	return 0;
}

/* Store the row in ti->vals: the table made to match the schema first. */
static int
write_record(struct sqlout *o, struct schema_table *t,
    const struct jval *record, struct lib_err *e)
{
	struct table *ti = sqlout_tinfo(t);
	size_t k;

	if (sync_table(o, t, e) == -1)
		return -1;
	if (t->ncols == 0)
		return 0;	/* only nulls so far: nothing to store */
	vals_reserve(ti, t->ncols);

	/*
	 * A keyed table needs every key: an INTEGER PRIMARY KEY would
	 * otherwise turn a null into the next rowid.
	 */
	if (ti->keyed || merges(o, t) || ti->scd2)
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
	if (ti->scd2)
		return sqlmerge_scd2_write(o, t, record, e);
	if (merges(o, t)) {
		if (sqlmerge_replace_children(o, t, e) == -1)
			return -1;
		if (bind_update(o, t, e) == -1 ||
		    sqlout_step(o, ti->update, "update", e) == -1)
			return -1;
		if (sqlite3_changes(o->db) > 0) {
			ti->updated++;
			return 0;
		}
	}
	if (sqlout_bind_row(o, t, ti->insert, e) == -1 ||
	    sqlout_step(o, ti->insert, "insert", e) == -1)
		return -1;
	ti->inserted++;
	return 0;
}

static int
load_record(struct sqlout *o, struct schema_table *t,
    const struct jval *record, const struct jval *version, struct lib_err *e)
{
	first_record_keys(o, t, record);
	if (mode_of(o, t) != SQLOUT_APPEND && sqlmerge_is_tombstone(record))
		return tombstone(o, t, record, e);
	if (observe_record(o, t, record, version, e) == -1)
		return -1;
	return write_record(o, t, record, e);
}

/* Step one of the savepoint statements; SQLite's word on failure. */
static int
savepoint_step(struct sqlout *o, sqlite3_stmt **st, const char *sql,
    struct lib_err *e)
{
	if (*st == NULL && sqlout_prepare(o, sql, st, e) == -1)
		return -1;
	return sqlout_step(o, *st, sql, e);
}

/*
 * A record in its own savepoint: when it fails, the database and the
 * table's schema are as they were before it (columns it added, rows of
 * children a merge deleted, all of it).
 */
static int
load_record_atomic(struct sqlout *o, struct schema_table *t,
    const struct jval *record, const struct jval *version, struct lib_err *e)
{
	struct table *ti = sqlout_tinfo(t);
	struct table before = *ti;
	struct lib_err e2;

	if (savepoint_step(o, &o->sp_begin, "SAVEPOINT sluice_record", e) == -1)
		return -1;
	schema_mark_take(t, &o->mark);
	if (load_record(o, t, record, version, e) == 0)
		return savepoint_step(o, &o->sp_release,
		    "RELEASE sluice_record", e);
	if (savepoint_step(o, &o->sp_rollback,
	    "ROLLBACK TO sluice_record", &e2) == -1 ||
	    savepoint_step(o, &o->sp_release, "RELEASE sluice_record",
	    &e2) == -1) {
		/* Not the record's fault: the load cannot go on. */
		if (e2.code == EX_DATAERR)
			e2.code = EX_SOFTWARE;
		*e = e2;
		return -1;
	}
	if (t->ncols > o->mark.ncols)
		folded_reset(ti);
	schema_mark_restore(t, &o->mark);
	/* The statements may cover columns that are gone again. */
	finalize_stmts(ti);
	ti->stmt_ncols = 0;
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
	o->ddl_gen++;
	return -1;
}

/* Bind an id member's text (a string, or a number as it arrived). */
static void
bind_id(sqlite3_stmt *st, const struct jval *id)
{
	(void)sqlite3_bind_text(st, 1, id->str, (int)id->len, SQLITE_STATIC);
}

/*
 * Whether the parent of a child row (_sluice_parent_id) was rejected in
 * this load: 1, 0, or -1 with e set.
 */
static int
parent_rejected(struct sqlout *o, const struct jval *record,
    struct lib_err *e)
{
	const struct jval *pid = jval_get(record, "_sluice_parent_id");
	int rc;

	if (o->nrejected == 0 || pid == NULL ||
	    (pid->type != JV_STRING && pid->type != JV_NUMBER))
		return 0;
	if (o->rej_find == NULL && sqlout_prepare(o, "SELECT 1 FROM"
	    " temp._sluice_rejected WHERE id = ?1", &o->rej_find, e) == -1)
		return -1;
	bind_id(o->rej_find, pid);
	rc = sqlite3_step(o->rej_find);
	(void)sqlite3_reset(o->rej_find);
	if (rc == SQLITE_ROW) {
		liberr_set(e, EX_DATAERR, "its parent record (_sluice_id "
		    "%.*s) was rejected", (int)(pid->len > 64 ? 64 : pid->len),
		    pid->str);
		return 1;
	}
	if (rc != SQLITE_DONE)
		return sqlout_fail(o, rc, "look up a rejected parent", e);
	return 0;
}

/* Remember a rejected record's _sluice_id, for its children to follow. */
static int
note_rejected(struct sqlout *o, const struct jval *record, struct lib_err *e)
{
	const struct jval *id = jval_get(record, "_sluice_id");

	if (id == NULL || (id->type != JV_STRING && id->type != JV_NUMBER))
		return 0;
	if (o->rej_add == NULL && (sqlout_exec(o, "CREATE TEMP TABLE IF NOT"
	    " EXISTS _sluice_rejected (id TEXT PRIMARY KEY) WITHOUT ROWID",
	    e) == -1 || sqlout_prepare(o, "INSERT OR IGNORE INTO"
	    " temp._sluice_rejected VALUES (?1)", &o->rej_add, e) == -1))
		return -1;
	bind_id(o->rej_add, id);
	if (sqlout_step(o, o->rej_add, "note a rejected record", e) == -1)
		return -1;
	o->nrejected++;
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
sqlout_origin(struct sqlout *o, const char *file, unsigned long lineno)
{
	o->file = file;
	o->lineno = lineno;
	o->err_file = NULL;
}

int
sqlout_error_origin(const struct sqlout *o, const char **file,
    unsigned long *lineno)
{
	if (o == NULL || o->err_file == NULL)
		return 0;
	*file = o->err_file;
	*lineno = o->err_lineno;
	return 1;
}

static void
deferred_free(struct sqlout *o)
{
	size_t i;

	for (i = 0; i < o->ndeferred; i++) {
		free(o->deferred[i].record);
		free(o->deferred[i].version);
		free(o->deferred[i].cols);
		free(o->deferred[i].vals);
	}
	o->ndeferred = 0;
	o->deferred_bytes = 0;
}

static int
deferred_flush(struct sqlout *o, struct lib_err *e)
{
	struct deferred *d;
	struct table *ti;
	size_t i, j;
	int rc = 0;

	for (i = 0; i < o->ndeferred && rc == 0; i++) {
		d = &o->deferred[i];
		ti = sqlout_tinfo(d->t);
		vals_reserve(ti, d->t->ncols);
		memset(ti->vals, 0, ti->valscap * sizeof(const struct jval *));
		for (j = 0; j < d->nvals; j++)
			ti->vals[d->cols[j]] = d->vals[j];
		if ((rc = write_record(o, d->t, d->record, e)) == -1) {
			o->err_file = d->file;
			o->err_lineno = d->lineno;
		}
	}
	deferred_free(o);
	return rc;
}

/*
 * Whether the record waits for its table's creation: a table that does
 * not exist yet takes its first records at once, unless each record runs
 * in its own savepoint, or is versioned (SCD2) or a tombstone.
 */
static int
defers(const struct sqlout *o, struct schema_table *t,
    const struct jval *record)
{
	return !o->opts.atomic_records && o->opts.mode != SQLOUT_SCD2 &&
	    !sqlout_tinfo(t)->exists &&
	    (o->ndeferred == 0 || o->deferred[0].t == t) &&
	    !(mode_of(o, t) != SQLOUT_APPEND && sqlmerge_is_tombstone(record));
}

/* Take in a record now and hold its write back. */
static int
defer_record(struct sqlout *o, struct schema_table *t,
    const struct jval *record, const struct jval *version, struct lib_err *e)
{
	struct table *ti = sqlout_tinfo(t);
	struct deferred d;
	size_t i, n, size, vsize = 0;

	memset(&d, 0, sizeof(d));
	d.t = t;
	d.file = o->file;
	d.lineno = o->lineno;
	d.record = jval_clone(record, &size);
	if (version != NULL)
		d.version = jval_clone(version, &vsize);
	first_record_keys(o, t, d.record);
	/* Its names are checked now, so that a bad one names this line. */
	if (observe_record(o, t, d.record, d.version, e) == -1 ||
	    check_column_names(o, t, e) == -1)
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
	if (o->ndeferred == o->deferredcap) {
		o->deferredcap = o->deferredcap ? o->deferredcap * 2 : 64;
		o->deferred = xalloc_realloc(o->deferred, o->deferredcap,
		    sizeof(*o->deferred));
	}
	o->deferred[o->ndeferred++] = d;
	o->deferred_bytes += sizeof(d) + size + vsize +
	    n * (sizeof(size_t) + sizeof(const struct jval *));
	if (o->ndeferred >= DEFER_RECORDS || o->deferred_bytes >= DEFER_BYTES)
		return deferred_flush(o, e);
	return 0;
fail:
	free(d.record);
	free(d.version);
	return -1;
}

/* The record into its table now (or held back with the deferred ones). */
static int
record_now(struct sqlout *o, struct schema_table *t, const struct jval *record,
    const struct jval *version, struct lib_err *e)
{
	struct lib_err e2;
	int rc;

	/* The records held back come first: they are older. */
	if (o->ndeferred > 0 && o->deferred[0].t != t &&
	    deferred_flush(o, e) == -1)
		return -1;
	if (defers(o, t, record))
		return defer_record(o, t, record, version, e);
	if (deferred_flush(o, e) == -1)
		return -1;
	if (!o->opts.atomic_records)
		return load_record(o, t, record, version, e);
	/*
	 * A rejected record has no effect: neither have the child rows that
	 * jsonl-normalize made of it, which come after it as records of
	 * their own; they are rejected with it, and so on down.
	 */
	if ((rc = parent_rejected(o, record, e)) == 0 &&
	    load_record_atomic(o, t, record, version, e) == 0)
		return 0;
	if (rc == -1 || e->code != EX_DATAERR)
		return -1;
	if (note_rejected(o, record, &e2) == -1) {
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
group_free(struct sqlout *o)
{
	size_t i;

	for (i = 0; i < o->ngroup; i++) {
		free(o->group[i].record);
		free(o->group[i].version);
	}
	o->ngroup = 0;
	o->group_bytes = 0;
}

/* Whether the record starts a group: a root row that a merge writes. */
static int
groups(const struct sqlout *o, const struct schema_table *t,
    const struct jval *record)
{
	return !o->opts.atomic_records && o->opts.mode != SQLOUT_SCD2 &&
	    mode_of(o, t) == SQLOUT_MERGE && t->nkeys > 0 &&
	    jval_get(record, "_sluice_root_id") == NULL &&
	    !sqlmerge_is_tombstone(record);
}

/* Whether the record is a child row of the held root. */
static int
in_group(const struct sqlout *o, const struct jval *record)
{
	const struct jval *root, *id;

	if (o->ngroup == 0 || (root = jval_get(record, "_sluice_root_id")) ==
	    NULL || root->type != JV_STRING)
		return 0;
	id = jval_get(o->group[0].record, "_sluice_id");
	return id != NULL && id->type == JV_STRING && id->len == root->len &&
	    memcmp(id->str, root->str, root->len) == 0;
}

static void
group_add(struct sqlout *o, struct schema_table *t, const struct jval *record,
    const struct jval *version)
{
	struct held_record *h;
	size_t vsize = 0;

	if (o->ngroup == o->groupcap) {
		o->groupcap = o->groupcap ? o->groupcap * 2 : 16;
		o->group = xalloc_realloc(o->group, o->groupcap,
		    sizeof(*o->group));
	}
	h = &o->group[o->ngroup++];
	memset(h, 0, sizeof(*h));
	h->t = t;
	h->record = jval_clone(record, &h->size);
	if (version != NULL)
		h->version = jval_clone(version, &vsize);
	h->file = o->file;
	h->lineno = o->lineno;
	o->group_bytes += h->size + vsize;
}

/*
 * Whether the stored row of the root's key has this hash: 1 the same,
 * 0 not (or no such row, or no hash stored yet), -1 with e set.
 */
static int
stored_same(struct sqlout *o, struct schema_table *t, const struct jval *root,
    const char *hash, struct lib_err *e)
{
	struct table *ti = sqlout_tinfo(t);
	const struct jval *v;
	long col;
	size_t k;
	int rc, same = 0;

	if (!ti->exists || (col = schema_table_find(t, "_sluice_row_hash",
	    16)) < 0 || (size_t)col >= ti->ncols_db)
		return 0;
	/* The table was synced for a merge: ensure_key found its key. */
	if ((ti->keycols == NULL && find_keys(t) == -1) || ti->keycols == NULL)
		return 0;
	if (ti->hash_get == NULL) {
		jbuf_reset(&o->sql);
		jbuf_puts(&o->sql, "SELECT \"_sluice_row_hash\" FROM ");
		sqlout_ident(&o->sql, t->name, t->namelen);
		sqlmerge_key_where(t, &o->sql);
		if (sqlout_prepare(o, jbuf_cstr(&o->sql), &ti->hash_get, e) == -1)
			return -1;
	}
	for (k = 0; k < t->nkeys; k++) {
		if (ti->keycols[k] < 0 || (v = jval_get(root, t->keys[k])) ==
		    NULL || v->type == JV_NULL) {
			(void)sqlite3_clear_bindings(ti->hash_get);
			return 0;	/* the write says what is wrong */
		}
		if (bind_value(o, ti->hash_get, (int)ti->keycols[k] + 1, v,
		    t->cols[ti->keycols[k]].type) != SQLITE_OK)
			return 0;
	}
	rc = sqlite3_step(ti->hash_get);
	if (rc == SQLITE_ROW)
		same = sqlite3_column_type(ti->hash_get, 0) == SQLITE_TEXT &&
		    sqlite3_column_bytes(ti->hash_get, 0) == 32 &&
		    memcmp(sqlite3_column_text(ti->hash_get, 0), hash, 32) == 0;
	(void)sqlite3_reset(ti->hash_get);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sqlout_fail(o, rc, "look up a row's hash", e);
	return same;
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
group_flush(struct sqlout *o, struct lib_err *e)
{
	struct held_record *h;
	size_t i;
	int rc = 0;

	if (o->ngroup == 0)
		return 0;
	sqlmerge_group_hash(o, o->group, o->ngroup, &o->group_hash);
	h = &o->group[0];
	o->file = h->file;
	o->lineno = h->lineno;
	if ((rc = stored_same(o, h->t, h->record, o->group_hash.p, e)) == 1) {
		for (i = 0; i < o->ngroup; i++)
			sqlout_tinfo(o->group[i].t)->unchanged++;
		group_free(o);
		return 0;
	}
	if (rc == 0) {
		attach_hash(h, o->group_hash.p);
		for (i = 0; i < o->ngroup && rc == 0; i++) {
			h = &o->group[i];
			o->file = h->file;
			o->lineno = h->lineno;
			rc = record_now(o, h->t, h->record, h->version, e);
		}
	}
	if (rc == -1 && o->err_file == NULL) {
		o->err_file = o->file;
		o->err_lineno = o->lineno;
	}
	group_free(o);
	return rc;
}

/* The held group written, the place of the current message kept. */
static int
sqlout_flush_group(struct sqlout *o, struct lib_err *e)
{
	const char *file = o->file;
	unsigned long lineno = o->lineno;
	int rc;

	if (o->ngroup == 0)
		return 0;
	rc = group_flush(o, e);
	o->file = file;
	o->lineno = lineno;
	return rc;
}

int
sqlout_flush(struct sqlout *o, struct lib_err *e)
{
	if (sqlout_flush_group(o, e) == -1)
		return -1;
	return deferred_flush(o, e);
}

int
sqlout_record(struct sqlout *o, const char *stream, size_t len,
    const struct jval *record, const struct jval *version, struct lib_err *e)
{
	struct schema_table *t;

	if ((t = sqlout_table_for(o, stream, len, e)) == NULL)
		return -1;
	if (o->ngroup > 0) {
		if (in_group(o, record) && o->group_bytes < GROUP_BYTES) {
			group_add(o, t, record, version);
			return 0;
		}
		if (sqlout_flush_group(o, e) == -1)
			return -1;
	}
	/* -k names the key with the stream's first record. */
	first_record_keys(o, t, record);
	if (groups(o, t, record)) {
		group_add(o, t, record, version);
		return 0;
	}
	return record_now(o, t, record, version, e);
}

/* A number from a one-row query; arg, when not NULL, bound as ?1. */
static int
query_count(struct sqlout *o, const char *sql, const char *arg, size_t arglen,
    long long *n, struct lib_err *e)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlout_prepare(o, sql, &st, e) == -1)
		return -1;
	if (arg != NULL)
		(void)sqlite3_bind_text(st, 1, arg, (int)arglen, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*n = sqlite3_column_int64(st, 0);
	(void)sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : sqlout_fail(o, rc, sql, e);
}

/* The rows of t that where (a WHERE clause, or "") names. */
static int
count_rows(struct sqlout *o, const struct schema_table *t, const char *where,
    long long *n, struct lib_err *e)
{
	jbuf_reset(&o->sql);
	jbuf_puts(&o->sql, "SELECT count(*) FROM ");
	sqlout_ident(&o->sql, t->name, t->namelen);
	jbuf_puts(&o->sql, where);
	return query_count(o, jbuf_cstr(&o->sql), NULL, 0, n, e);
}

/*
 * Soft ACTIVATE_VERSION: the rows where names, with the version as ?1,
 * get the load's time in _sluice_deleted_at, a column the table gets if
 * it lacks it; rows marked before keep their time.
 */
static int
mark_rows_deleted(struct sqlout *o, struct schema_table *t, const char *where,
    const struct jval *version, struct lib_err *e)
{
	sqlite3_stmt *st;
	int rc;

	if (schema_table_find(t, "_sluice_deleted_at", 18) < 0) {
		if (schema_table_add(t, "_sluice_deleted_at", 18, ST_TIMESTAMP, 1,
		    e) < 0)
			return -1;
		t->version++;
		if (sync_table(o, t, e) == -1)
			return -1;
	}
	jbuf_reset(&o->sql);
	jbuf_puts(&o->sql, "UPDATE ");
	sqlout_ident(&o->sql, t->name, t->namelen);
	jbuf_puts(&o->sql, " SET _sluice_deleted_at = ?2");
	jbuf_puts(&o->sql, where);
	jbuf_puts(&o->sql, " AND _sluice_deleted_at IS NULL");
	if (sqlout_prepare(o, jbuf_cstr(&o->sql), &st, e) == -1)
		return -1;
	(void)sqlite3_bind_text(st, 1, version->str, (int)version->len,
	    SQLITE_STATIC);
	(void)sqlite3_bind_text(st, 2, o->started_at, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	(void)sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return sqlout_fail(o, rc, "mark deleted", e);
	sqlout_tinfo(t)->deleted += (unsigned long)sqlite3_changes(o->db);
	return 0;
}

/*
 * Hard ACTIVATE_VERSION on a root table (it has _sluice_id and no parent):
 * the rows of its child tables (T__* with _sluice_root_id) whose root is
 * one of those where names, with the version as ?1, go first, as with a
 * tombstone.
 */
static int
delete_children_of(struct sqlout *o, const struct schema_table *t,
    const char *where, const struct jval *version, struct lib_err *e)
{
	struct jbuf names = JBUF_INIT, sub = JBUF_INIT;
	struct schema_table *c;
	const char *name;
	size_t k, n;
	int ret;

	if (schema_table_find(t, "_sluice_id", 10) < 0 ||
	    schema_table_find(t, "_sluice_parent_id", 17) >= 0)
		return 0;
	ret = sqlmerge_child_names(o, t, &names, &n, e);
	jbuf_puts(&sub, " WHERE _sluice_root_id IN (SELECT _sluice_id FROM ");
	sqlout_ident(&sub, t->name, t->namelen);
	jbuf_puts(&sub, where);
	jbuf_putc(&sub, ')');
	for (k = 0, name = names.p; ret == 0 && k < n;
	    k++, name += strlen(name) + 1)
		if ((c = sqlout_table_for(o, name, strlen(name), e)) == NULL ||
		    count_rows_deleted(o, c, jbuf_cstr(&sub), version, e) == -1)
			ret = -1;
	jbuf_free(&names);
	jbuf_free(&sub);
	return ret;
}

/*
 * The stream's table if the load or the database has it; else NULL,
 * with e->code 0 when the name is fine: a version message alone makes
 * no table.
 */
static struct schema_table *
existing_table(struct sqlout *o, const char *stream, size_t len,
    struct lib_err *e)
{
	struct schema_table *t;
	long long n = 0;

	liberr_clear(e);
	if ((t = schema_set_get(&o->set, stream, len, 0, e)) != NULL)
		return t;
	if (check_stream_name(o, stream, len, e) == -1 ||
	    query_count(o, "SELECT count(*) FROM sqlite_master WHERE"
	    " type = 'table' AND name = ?1", stream, len, &n, e) == -1 || n == 0)
		return NULL;
	return sqlout_table_for(o, stream, len, e);
}

int
sqlout_activate_version(struct sqlout *o, const char *stream, size_t len,
    const struct jval *version, unsigned long *kept, struct lib_err *e)
{
	static const char older[] =
	    " WHERE _sluice_version < CAST(?1 AS INTEGER)";
	static const char older_or_none[] =
	    " WHERE (_sluice_version < CAST(?1 AS INTEGER)"
	    " OR _sluice_version IS NULL)";
	struct schema_table *t;
	struct table *ti;
	const char *unmarked;
	long long n = 0;
	int keep_none;

	*kept = 0;
	if (sqlout_flush(o, e) == -1)
		return -1;
	if ((t = existing_table(o, stream, len, e)) == NULL)
		return e->code != 0 ? -1 : 0;
	ti = sqlout_tinfo(t);
	if (!ti->exists)
		return 0;
	unmarked = schema_table_find(t, "_sluice_deleted_at", 18) >= 0 ?
	    " AND _sluice_deleted_at IS NULL" : "";
	if (schema_table_find(t, "_sluice_version", 15) < 0) {
		/* No row has a version: none is older, and every one stays. */
		jbuf_reset(&o->tmp);
		jbuf_puts(&o->tmp, " WHERE 1");
		jbuf_puts(&o->tmp, unmarked);
		if (count_rows(o, t, jbuf_cstr(&o->tmp), &n, e) == -1)
			return -1;
		*kept = (unsigned long)n;
		return 0;
	}
	if (sync_table(o, t, e) == -1)
		return -1;
	/*
	 * A row without a version is older than any only in a stream whose
	 * records carry versions, when none of this load's lacked one: else
	 * it may be one this load wrote, or a tap without versions.
	 */
	keep_none = ti->unversioned > 0;
	if (!keep_none && ti->versioned == 0) {
		if (count_rows(o, t, " WHERE _sluice_version IS NOT NULL", &n,
		    e) == -1)
			return -1;
		keep_none = n == 0;
	}
	if (keep_none) {
		jbuf_reset(&o->tmp);
		jbuf_puts(&o->tmp, " WHERE _sluice_version IS NULL");
		jbuf_puts(&o->tmp, unmarked);
		if (count_rows(o, t, jbuf_cstr(&o->tmp), &n, e) == -1)
			return -1;
		*kept = (unsigned long)n;
	}
	if (o->opts.soft_activate)
		return mark_rows_deleted(o, t, keep_none ? older : older_or_none,
		    version, e);
	if (delete_children_of(o, t, keep_none ? older : older_or_none,
	    version, e) == -1)
		return -1;
	return count_rows_deleted(o, t, keep_none ? older : older_or_none,
	    version, e);
}

int
sqlout_state(struct sqlout *o, const struct jval *value, struct lib_err *e)
{
	sqlite3_stmt *st;
	char now[40];
	int rc;

	if (sqlout_flush(o, e) == -1)
		return -1;
	jbuf_reset(&o->tmp);
	jval_write(&o->tmp, value);
	clocks_utc(now, sizeof(now), 1);
	if (o->state_rowid == 0) {
		if (sqlout_prepare(o, "INSERT INTO _sluice_state (load_id, stored_at, value)"
		    " VALUES (?1, ?2, json_patch(COALESCE((SELECT value FROM"
		    " _sluice_state ORDER BY rowid DESC LIMIT 1), '{}'), ?3))",
		    &st, e) == -1)
			return -1;
		(void)sqlite3_bind_text(st, 1, o->opts.load_id, -1, SQLITE_STATIC);
		(void)sqlite3_bind_text(st, 2, now, -1, SQLITE_STATIC);
		(void)sqlite3_bind_text(st, 3, o->tmp.p, (int)o->tmp.len,
		    SQLITE_STATIC);
	} else {
		if (sqlout_prepare(o, "UPDATE _sluice_state SET value = json_patch(value,"
		    " ?1), stored_at = ?2 WHERE rowid = ?3", &st, e) == -1)
			return -1;
		(void)sqlite3_bind_text(st, 1, o->tmp.p, (int)o->tmp.len,
		    SQLITE_STATIC);
		(void)sqlite3_bind_text(st, 2, now, -1, SQLITE_STATIC);
		(void)sqlite3_bind_int64(st, 3, o->state_rowid);
	}
	rc = sqlite3_step(st);
	(void)sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return sqlout_fail(o, rc, "store state", e);
	if (o->state_rowid == 0)
		o->state_rowid = sqlite3_last_insert_rowid(o->db);
	return 0;
}

/* Each touched table's final schema goes into _sluice_schemas. */
static int
save_schemas(struct sqlout *o, unsigned long long *combined, struct lib_err *e)
{
	sqlite3_stmt *st;
	char hash[24], now[40];
	unsigned long long h;
	size_t i;
	int rc;

	if (sqlout_prepare(o, "INSERT OR IGNORE INTO _sluice_schemas (version_hash,"
	    " table_name, schema, load_id, inserted_at) VALUES (?1,?2,?3,?4,?5)",
	    &st, e) == -1)
		return -1;
	clocks_utc(now, sizeof(now), 1);
	*combined = 0;
	for (i = 0; i < o->set.n; i++) {
		struct schema_table *t = o->set.tables[i];

		if (t->ncols == 0)
			continue;
		jbuf_reset(&o->tmp);
		jbuf_put(&o->tmp, t->name, t->namelen + 1);
		schema_write_json(t, &o->tmp);
		h = schema_hash(o->tmp.p, o->tmp.len);
		*combined = *combined * 31 + h;
		(void)snprintf(hash, sizeof(hash), "%016llx", h);
		(void)sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
		(void)sqlite3_bind_text(st, 2, t->name, (int)t->namelen,
		    SQLITE_STATIC);
		(void)sqlite3_bind_text(st, 3, o->tmp.p + t->namelen + 1,
		    (int)(o->tmp.len - t->namelen - 1), SQLITE_STATIC);
		(void)sqlite3_bind_text(st, 4, o->opts.load_id, -1, SQLITE_STATIC);
		(void)sqlite3_bind_text(st, 5, now, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		(void)sqlite3_reset(st);
		if (rc != SQLITE_DONE) {
			(void)sqlite3_finalize(st);
			return sqlout_fail(o, rc, "save schema", e);
		}
	}
	(void)sqlite3_finalize(st);
	return 0;
}

void
sqlout_tables_json(const struct sqlout *o, struct jbuf *b)
{
	char num[128];
	size_t i;

	jbuf_putc(b, '{');
	for (i = 0; o != NULL && i < o->set.n; i++) {
		const struct schema_table *t = o->set.tables[i];
		const struct table *ti = t->user;

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
sqlout_commit(struct sqlout *o, struct jbuf *summary, struct lib_err *e)
{
	struct jbuf tables = JBUF_INIT;
	unsigned long long combined;
	sqlite3_stmt *st = NULL;
	char num[128], now[40], version[24];
	size_t i;
	int rc, n = 0;

	if (sqlout_flush(o, e) == -1)
		return -1;
	if (sqlmerge_scd2_retire_absent(o, e) == -1 ||
	    save_schemas(o, &combined, e) == -1)
		return -1;
	(void)snprintf(version, sizeof(version), "%016llx", combined);
	sqlout_tables_json(o, &tables);
	for (i = 0; i < o->set.n; i++) {
		struct schema_table *t = o->set.tables[i];
		struct table *ti = sqlout_tinfo(t);

		if (n++ > 0)
			jbuf_puts(summary, ", ");
		jbuf_put(summary, t->name, t->namelen);
		(void)snprintf(num, sizeof(num), " +%lu ~%lu =%lu -%lu",
		    ti->inserted, ti->updated, ti->unchanged, ti->deleted);
		jbuf_puts(summary, num);
	}
	clocks_utc(now, sizeof(now), 1);
	if (sqlout_prepare(o, "INSERT INTO _sluice_loads (load_id, status, started_at,"
	    " finished_at, tables, schema_version)"
	    " VALUES (?1, 'completed', ?2, ?3, ?4, ?5)", &st, e) == -1)
		goto fail;
	(void)sqlite3_bind_text(st, 1, o->opts.load_id, -1, SQLITE_STATIC);
	(void)sqlite3_bind_text(st, 2, o->started_at, -1, SQLITE_STATIC);
	(void)sqlite3_bind_text(st, 3, now, -1, SQLITE_STATIC);
	(void)sqlite3_bind_text(st, 4, tables.p, (int)tables.len, SQLITE_STATIC);
	(void)sqlite3_bind_text(st, 5, version, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	(void)sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		(void)sqlout_fail(o, rc, "record the load (is the load id new?)", e);
		goto fail;
	}
	for (i = 0; i < o->set.n; i++)
		finalize_stmts(sqlout_tinfo(o->set.tables[i]));
	(void)sqlite3_finalize(o->sp_begin);
	(void)sqlite3_finalize(o->sp_release);
	(void)sqlite3_finalize(o->sp_rollback);
	(void)sqlite3_finalize(o->rej_add);
	(void)sqlite3_finalize(o->rej_find);
	o->sp_begin = o->sp_release = o->sp_rollback = NULL;
	o->rej_add = o->rej_find = NULL;
	if (sqlout_exec(o, "COMMIT", e) == -1)
		goto fail;
	o->in_txn = 0;
	free(o->created);
	o->created = NULL;	/* it holds this load now */
	jbuf_free(&tables);
	return 0;
fail:
	jbuf_free(&tables);
	return -1;
}

int
sqlout_next_load(struct sqlout *o, const char *load_id, struct lib_err *e)
{
	struct table *ti;
	size_t i;

	if (sqlout_exec(o, "BEGIN IMMEDIATE", e) == -1)
		return -1;
	o->in_txn = 1;
	o->opts.load_id = load_id;
	o->state_rowid = 0;
	o->ddl_gen++;
	clocks_utc(o->started_at, sizeof(o->started_at), 1);
	for (i = 0; i < o->set.n; i++) {
		ti = sqlout_tinfo(o->set.tables[i]);
		ti->inserted = ti->updated = ti->unchanged = ti->deleted = 0;
		ti->versioned = ti->unversioned = 0;
	}
	if (load_id_is_new(o, e) == -1)
		return -1;
	o->load_id_val.str = o->opts.load_id;
	o->load_id_val.len = strlen(o->opts.load_id);
	return 0;
}

/*
 * Undo the creation of the database by a load that did not commit:
 * unless another load has put tables in it meanwhile, remove the file,
 * holding the write lock so that a load waiting for it notices
 * (sqlout_open).  1 if it is gone; then its companions go once the
 * connection is closed.  Best effort: the load has failed already, and
 * says so.
 */
static int
unmake_database(const struct sqlout *o)
{
	const char *path = o->created;
	sqlite3_stmt *st;
	struct stat now;
	int empty, gone;

	if (sqlite3_exec(o->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK)
		return 0;
	empty = sqlite3_prepare_v2(o->db, "SELECT 1 FROM sqlite_master LIMIT 1",
	    -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_DONE;
	(void)sqlite3_finalize(st);
	/* The path must still name the file this load opened. */
	gone = empty && stat(path, &now) == 0 && now.st_dev == o->dev &&
	    now.st_ino == o->ino && unlink(path) == 0;
	(void)sqlite3_exec(o->db, "ROLLBACK", NULL, NULL, NULL);
	return gone;
}

/* The WAL and journal files of a database that is gone. */
static void
unlink_companions(const char *path)
{
	static const char *const companions[] = { "-wal", "-shm", "-journal" };
	char name[PATH_MAX + 16];
	size_t i;

	for (i = 0; i < sizeof(companions) / sizeof(companions[0]); i++)
		if (snprintf(name, sizeof(name), "%s%s", path, companions[i]) <
		    (int)sizeof(name))
			(void)unlink(name);
}

void
sqlout_close(struct sqlout *o)
{
	size_t i;
	int gone;

	if (o == NULL)
		return;
	for (i = 0; i < o->set.n; i++) {
		struct table *ti = sqlout_tinfo(o->set.tables[i]);

		if (ti == NULL)
			continue;
		finalize_stmts(ti);
		strmap_free(&ti->folded);
		free(ti->update_cols);
		free(ti->keycols);
		free(ti->vals);
		free(ti->children);
		free(ti);
	}
	(void)sqlite3_finalize(o->sp_begin);
	(void)sqlite3_finalize(o->sp_release);
	(void)sqlite3_finalize(o->sp_rollback);
	(void)sqlite3_finalize(o->rej_add);
	(void)sqlite3_finalize(o->rej_find);
	schema_mark_free(&o->mark);
	deferred_free(o);
	free(o->deferred);
	group_free(o);
	free(o->group);
	jbuf_free(&o->group_hash);
	if (o->in_txn)
		(void)sqlite3_exec(o->db, "ROLLBACK", NULL, NULL, NULL);
	gone = o->created != NULL && o->db != NULL && o->ino != 0 &&
	    unmake_database(o);
	if (o->db != NULL)
		(void)sqlite3_close(o->db);
	if (gone)
		unlink_companions(o->created);
	free(o->created);
	schema_set_free(&o->set);
	schema_changes_free(&o->changes);
	jbuf_free(&o->sql);
	jbuf_free(&o->tmp);
	free(o);
}
