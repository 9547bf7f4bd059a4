/*
 * The SQLite dialect: the loader core's operations (lib/load_int.h) as
 * SQLite statements, prepared once a table and stepped a row.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "clocks.h"
#include "exitcodes.h"
#include "sqlout_int.h"
#include "state.h"
#include "xalloc.h"

static struct sqlout *
conn(const struct loader *l)
{
	return l->conn;
}

sqlite3 *
sqlout_db(const struct loader *l)
{
	return conn(l)->db;
}

int
sqlout_fail(const struct loader *l, int rc, const char *what,
    struct lib_err *e)
{
	sqlite3 *db = l->conn != NULL ? sqlout_db(l) : NULL;

	return liberr_set(e, state_exit_status(rc), "%s: %s", what,
	    db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

int
sqlout_exec(struct loader *l, const char *sql, struct lib_err *e)
{
	int rc;

	if ((rc = sqlite3_exec(sqlout_db(l), sql, NULL, NULL, NULL)) != SQLITE_OK)
		return sqlout_fail(l, rc, sql, e);
	return 0;
}

int
sqlout_prepare(struct loader *l, const char *sql, sqlite3_stmt **st,
    struct lib_err *e)
{
	int rc;

	if ((rc = sqlite3_prepare_v2(sqlout_db(l), sql, -1, st, NULL)) !=
	    SQLITE_OK)
		return sqlout_fail(l, rc, sql, e);
	return 0;
}

int
sqlout_step(struct loader *l, sqlite3_stmt *st, const char *what,
    struct lib_err *e)
{
	int rc = sqlite3_step(st);

	(void)sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return sqlout_fail(l, rc, what, e);
	return 0;
}

struct sqlout_table *
sqlout_stmts(struct schema_table *t)
{
	struct load_table *ti = load_tinfo(t);

	if (ti->dd == NULL)
		ti->dd = xalloc_calloc(1, sizeof(struct sqlout_table));
	return ti->dd;
}

/* A statement with a text ?1 (and ?2), stepped once: its SQLite code. */
static int
step_text(struct loader *l, const char *sql, const char *a, size_t alen,
    const char *b, sqlite3_stmt **keep, struct lib_err *e)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlout_prepare(l, sql, &st, e) == -1)
		return -1;
	(void)sqlite3_bind_text(st, 1, a, (int)alen, SQLITE_STATIC);
	if (b != NULL)
		(void)sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (keep != NULL && rc == SQLITE_ROW)
		*keep = st;
	else
		(void)sqlite3_finalize(st);
	return rc;
}

/* DECIMAL TEXT: TEXT affinity, so SQLite never makes it a REAL. */
static const char *const sql_types[] = {
	"TEXT", "INTEGER", "REAL", "BOOLEAN", "TEXT", "TIMESTAMP",
	"DATE", "JSON", "DECIMAL TEXT"
};

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

static int
sq_open(struct loader *l, const char *path, struct lib_err *e)
{
	struct sqlout *c;
	struct stat opened, now;
	int rc;

	c = xalloc_calloc(1, sizeof(*c));
	l->conn = c;
	c->is_file = path[0] != '\0' && strcmp(path, ":memory:") != 0;
	if (c->is_file && stat(path, &opened) == -1 && errno == ENOENT)
		c->created = xalloc_memdup(path, strlen(path));
	rc = sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK)
		return liberr_set(e, EX_CANTCREAT, "%s: %s", path,
		    c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
	/* The file this load works on, whatever its path names later. */
	if (c->is_file) {
		if (stat(path, &opened) == -1)
			return liberr_set(e, EX_TEMPFAIL, "%s: %s", path,
			    strerror(errno));
		c->dev = opened.st_dev;
		c->ino = opened.st_ino;
	}
	(void)sqlite3_busy_timeout(c->db, l->opts.busy_timeout_ms);
	(void)sqlite3_extended_result_codes(c->db, 0);
	/*
	 * WAL: readers go on while we load.  synchronous=FULL: a commit we
	 * acknowledge (by echoing STATE) survives a power cut.  A large page
	 * cache keeps index updates in memory during big loads.
	 */
	if (sqlout_exec(l, "PRAGMA journal_mode=WAL", e) == -1 ||
	    sqlout_exec(l, "PRAGMA synchronous=FULL", e) == -1 ||
	    sqlout_exec(l, "PRAGMA cache_size=-65536", e) == -1 ||
	    sqlout_exec(l, "PRAGMA foreign_keys=OFF", e) == -1) {
		if (e->code != EX_TEMPFAIL)
			e->code = EX_CANTCREAT;
		return liberr_prefix(e, "%s", path);
	}
	if (sqlout_exec(l, "BEGIN IMMEDIATE", e) == -1)
		return liberr_prefix(e, "%s", path);
	l->in_txn = 1;
	/*
	 * A load that created the file and failed removes it while it holds
	 * the write lock: one that waited for the lock must not write into
	 * the removed file.
	 */
	if (c->is_file && (stat(path, &now) == -1 ||
	    now.st_dev != c->dev || now.st_ino != c->ino)) {
		free(c->created);
		c->created = NULL;	/* not ours to remove */
		return liberr_set(e, EX_TEMPFAIL, "%s: the database was removed "
		    "while this load waited for it: try again", path);
	}
	return sqlout_exec(l, bookkeeping, e);
}

static int
sq_begin(struct loader *l, struct lib_err *e)
{
	conn(l)->state_rowid = 0;
	return sqlout_exec(l, "BEGIN IMMEDIATE", e);
}

static int
sq_load_known(struct loader *l, const char *load_id, struct lib_err *e)
{
	int rc = step_text(l, "SELECT 1 FROM _sluice_loads WHERE load_id = ?1",
	    load_id, strlen(load_id), NULL, NULL, e);

	if (rc == -1)
		return -1;
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : sqlout_fail(l, rc, "_sluice_loads", e);
}

/* Another spelling of a table the database has: SQLite would take it. */
static int
sq_name_clash(struct loader *l, const char *stream, size_t len,
    struct lib_err *e)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = step_text(l, "SELECT name FROM sqlite_master WHERE name = ?1"
	    " COLLATE NOCASE AND name <> ?1 COLLATE BINARY LIMIT 1", stream,
	    len, NULL, &st, e);
	if (rc == SQLITE_ROW) {
		(void)liberr_set(e, EX_DATAERR, "stream %.*s: differs only in "
		    "case from table %s (SQLite names ignore case)", (int)len,
		    stream, (const char *)sqlite3_column_text(st, 0));
		(void)sqlite3_finalize(st);
		return -1;
	}
	if (rc == -1)
		return -1;
	return rc == SQLITE_DONE ? 0 : sqlout_fail(l, rc, "sqlite_master", e);
}

static int
sq_table_exists(struct loader *l, const char *name, size_t len,
    struct lib_err *e)
{
	int rc = step_text(l, "SELECT 1 FROM sqlite_master WHERE"
	    " type = 'table' AND name = ?1", name, len, NULL, NULL, e);

	if (rc == -1)
		return -1;
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : sqlout_fail(l, rc, "sqlite_master", e);
}

static int
sq_stored_schema(struct loader *l, const struct schema_table *t,
    struct jbuf *b, struct lib_err *e)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = step_text(l, "SELECT schema FROM _sluice_schemas WHERE"
	    " table_name = ?1 ORDER BY rowid DESC LIMIT 1", t->name, t->namelen,
	    NULL, &st, e);
	if (rc == SQLITE_ROW) {
		jbuf_put(b, (const char *)sqlite3_column_text(st, 0),
		    (size_t)sqlite3_column_bytes(st, 0));
		(void)sqlite3_finalize(st);
		return 1;
	}
	if (rc == -1)
		return -1;
	return rc == SQLITE_DONE ? 0 : sqlout_fail(l, rc, "_sluice_schemas", e);
}

static int
sq_columns(struct loader *l, const struct schema_table *t,
    int (*each)(void *, const char *, size_t, const char *, struct lib_err *),
    void *arg, struct lib_err *e)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlout_prepare(l, "SELECT name, type FROM pragma_table_info(?1)",
	    &st, e) == -1)
		return -1;
	(void)sqlite3_bind_text(st, 1, t->name, (int)t->namelen, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (each(arg, (const char *)sqlite3_column_text(st, 0),
		    (size_t)sqlite3_column_bytes(st, 0),
		    (const char *)sqlite3_column_text(st, 1), e) == -1) {
			(void)sqlite3_finalize(st);
			return -1;
		}
	(void)sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : sqlout_fail(l, rc, "table_info", e);
}

static int
sq_primary_key(struct loader *l, const struct schema_table *t,
    struct jbuf *csv, struct lib_err *e)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlout_prepare(l, "SELECT name FROM pragma_table_info(?1) WHERE"
	    " pk > 0 ORDER BY pk", &st, e) == -1)
		return -1;
	(void)sqlite3_bind_text(st, 1, t->name, (int)t->namelen, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (csv->len > 0)
			jbuf_putc(csv, ',');
		jbuf_puts(csv, (const char *)sqlite3_column_text(st, 0));
	}
	(void)sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : sqlout_fail(l, rc, "table_info", e);
}

/* 1 if the table's PRIMARY KEY is exactly the stream's key. */
static int
sq_key_is_primary(struct loader *l, const struct schema_table *t)
{
	sqlite3_stmt *st;
	size_t k = 0;
	int same = 1;

	if (sqlite3_prepare_v2(sqlout_db(l), "SELECT name FROM"
	    " pragma_table_info(?1) WHERE pk > 0 ORDER BY pk", -1, &st,
	    NULL) != SQLITE_OK)
		return 0;
	(void)sqlite3_bind_text(st, 1, t->name, (int)t->namelen, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (k >= t->nkeys || strcmp((const char *)sqlite3_column_text(st,
		    0), t->keys[k]) != 0)
			same = 0;
		k++;
	}
	(void)sqlite3_finalize(st);
	return same && k == t->nkeys;
}

static int
sq_create_table(struct loader *l, struct schema_table *t, int pk,
    struct lib_err *e)
{
	load_create_table_sql(&l->sql, "", t, sql_types, pk);
	return sqlout_exec(l, jbuf_cstr(&l->sql), e);
}

static int
sq_add_column(struct loader *l, struct schema_table *t, size_t i,
    struct lib_err *e)
{
	jbuf_reset(&l->sql);
	jbuf_puts(&l->sql, "ALTER TABLE ");
	load_ident(&l->sql, t->name, t->namelen);
	jbuf_puts(&l->sql, " ADD COLUMN ");
	load_ident(&l->sql, t->cols[i].name, t->cols[i].namelen);
	jbuf_putc(&l->sql, ' ');
	jbuf_puts(&l->sql, sql_types[t->cols[i].type]);
	return sqlout_exec(l, jbuf_cstr(&l->sql), e);
}

int
sqlout_create_index(struct loader *l, const struct schema_table *t,
    const char *suffix, int unique, const char *const *cols, size_t ncols,
    struct lib_err *e)
{
	int rc;

	jbuf_reset(&l->tmp);
	jbuf_put(&l->tmp, t->name, t->namelen);
	jbuf_puts(&l->tmp, suffix);
	load_create_index_sql(&l->sql, "", t, l->tmp.p, l->tmp.len, unique,
	    cols, ncols);
	rc = sqlite3_exec(sqlout_db(l), jbuf_cstr(&l->sql), NULL, NULL, NULL);
	if (rc == SQLITE_CONSTRAINT && unique)
		return LOAD_DUPLICATES;
	return rc == SQLITE_OK ? 0 : sqlout_fail(l, rc, "create index", e);
}

static void
sq_unprepare(struct loader *l, struct schema_table *t)
{
	struct load_table *ti = load_tinfo(t);
	struct sqlout_table *st = ti->dd;

	(void)l;
	if (st == NULL)
		return;
	(void)sqlite3_finalize(st->hash_get);
	(void)sqlite3_finalize(st->insert);
	(void)sqlite3_finalize(st->update);
	(void)sqlite3_finalize(st->old_id);
	(void)sqlite3_finalize(st->del_root);
	sqlmerge_finalize(st);
	free(st->update_cols);
	free(st);
	ti->dd = NULL;
	ti->stmts_keyed = 0;
}

/*
 * Statements name their parameters "?" in order, never "?N", and the
 * INSERT lists no columns when the table's match the schema's order:
 * SQLite resolves each "?N" and each listed column by a linear search,
 * which made preparing them quadratic in the columns, and a load that
 * adds a column a record cubic.
 */
static int
sq_prepare(struct loader *l, struct schema_table *t, struct lib_err *e)
{
	struct load_table *ti = load_tinfo(t);
	struct sqlout_table *st = sqlout_stmts(t);
	struct jbuf *sql = &l->sql;
	size_t i, k, n;

	jbuf_reset(sql);
	jbuf_puts(sql, "INSERT INTO ");
	load_ident(sql, t->name, t->namelen);
	if (!ti->same_order) {
		jbuf_puts(sql, " (");
		for (i = 0; i < t->ncols; i++) {
			if (i > 0)
				jbuf_putc(sql, ',');
			load_ident(sql, t->cols[i].name, t->cols[i].namelen);
		}
		jbuf_putc(sql, ')');
	}
	jbuf_puts(sql, " VALUES (");
	for (i = 0; i < t->ncols; i++)
		jbuf_puts(sql, i > 0 ? ",?" : "?");
	jbuf_putc(sql, ')');
	if (sqlout_prepare(l, jbuf_cstr(sql), &st->insert, e) == -1)
		return -1;
	/* An update needs every key column; a record brings them later. */
	if (!load_merges(l, t) || t->nkeys == 0 || load_find_keys(t) == -1)
		return 0;

	/*
	 * The whole row is replaced, as a Singer target's upsert does: the
	 * other columns, then the key's; update_cols maps the parameters.
	 */
	st->update_cols = xalloc_realloc(st->update_cols, t->ncols + t->nkeys,
	    sizeof(*st->update_cols));
	jbuf_reset(sql);
	jbuf_puts(sql, "UPDATE ");
	load_ident(sql, t->name, t->namelen);
	jbuf_puts(sql, " SET ");
	for (i = n = 0; i < t->ncols; i++) {
		for (k = 0; k < t->nkeys; k++)
			if (ti->keycols[k] == (long)i)
				break;
		if (k < t->nkeys && t->ncols > t->nkeys)
			continue;
		if (n > 0)
			jbuf_putc(sql, ',');
		load_ident(sql, t->cols[i].name, t->cols[i].namelen);
		jbuf_puts(sql, "=?");
		st->update_cols[n++] = i;
	}
	jbuf_puts(sql, " WHERE ");
	for (k = 0; k < t->nkeys; k++) {
		i = (size_t)ti->keycols[k];
		if (k > 0)
			jbuf_puts(sql, " AND ");
		load_ident(sql, t->cols[i].name, t->cols[i].namelen);
		jbuf_puts(sql, "=?");
		st->update_cols[n++] = i;
	}
	st->update_nparams = n;
	if (sqlout_prepare(l, jbuf_cstr(sql), &st->update, e) == -1)
		return -1;
	ti->stmts_keyed = ti->keyed;
	return 0;
}

int
sqlout_bind_value(struct loader *l, sqlite3_stmt *st, int idx,
    const struct jval *v, enum stype type)
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
		jbuf_reset(&l->tmp);
		jval_write(&l->tmp, v);
		return sqlite3_bind_text(st, idx, l->tmp.p, (int)l->tmp.len,
		    SQLITE_TRANSIENT);
	}
}

int
sqlout_bind_row(struct loader *l, struct schema_table *t, sqlite3_stmt *st,
    struct lib_err *e)
{
	struct load_table *ti = load_tinfo(t);
	int i, n, rc;

	n = sqlite3_bind_parameter_count(st);
	for (i = 0; i < n && (size_t)i < t->ncols; i++)
		if ((rc = sqlout_bind_value(l, st, i + 1, ti->vals[i],
		    t->cols[i].type)) != SQLITE_OK)
			return sqlout_fail(l, rc, "bind", e);
	return 0;
}

static int
sq_insert(struct loader *l, struct schema_table *t, struct lib_err *e)
{
	struct sqlout_table *st = sqlout_stmts(t);

	if (sqlout_bind_row(l, t, st->insert, e) == -1 ||
	    sqlout_step(l, st->insert, "insert", e) == -1)
		return -1;
	load_tinfo(t)->inserted++;
	return 0;
}

/* The WHERE clause of rows, the version as ?1; unmarked: not soft-deleted. */
static void
rows_where(struct jbuf *b, enum load_rows rows, int unmarked)
{
	static const char older[] = " WHERE _sluice_version < CAST(?1 AS INTEGER)";
	static const char older_or_none[] = " WHERE (_sluice_version < CAST(?1"
	    " AS INTEGER) OR _sluice_version IS NULL)";
	static const char *const where[] = {
		" WHERE 1", older, older_or_none,
		" WHERE _sluice_version IS NOT NULL",
		" WHERE _sluice_version IS NULL"
	};

	jbuf_puts(b, where[rows]);
	if (unmarked)
		jbuf_puts(b, " AND _sluice_deleted_at IS NULL");
}

/* Step l->sql, the version bound as ?1 and the load's time as ?2. */
static int
step_rows(struct loader *l, const struct jval *version, int bind_time,
    const char *what, struct lib_err *e)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlout_prepare(l, jbuf_cstr(&l->sql), &st, e) == -1)
		return -1;
	if (version != NULL && sqlite3_bind_parameter_count(st) >= 1)
		(void)sqlite3_bind_text(st, 1, version->str, (int)version->len,
		    SQLITE_STATIC);
	if (bind_time)
		(void)sqlite3_bind_text(st, 2, l->started_at, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	(void)sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : sqlout_fail(l, rc, what, e);
}

static int
sq_count_rows(struct loader *l, const struct schema_table *t,
    enum load_rows rows, int unmarked, const struct jval *version,
    long long *n, struct lib_err *e)
{
	sqlite3_stmt *st;
	int rc;

	jbuf_reset(&l->sql);
	jbuf_puts(&l->sql, "SELECT count(*) FROM ");
	load_ident(&l->sql, t->name, t->namelen);
	rows_where(&l->sql, rows, unmarked);
	if (sqlout_prepare(l, jbuf_cstr(&l->sql), &st, e) == -1)
		return -1;
	if (version != NULL && sqlite3_bind_parameter_count(st) >= 1)
		(void)sqlite3_bind_text(st, 1, version->str, (int)version->len,
		    SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*n = sqlite3_column_int64(st, 0);
	(void)sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : sqlout_fail(l, rc, "count", e);
}

static int
sq_delete_rows(struct loader *l, struct schema_table *t, enum load_rows rows,
    const struct jval *version, struct lib_err *e)
{
	jbuf_reset(&l->sql);
	jbuf_puts(&l->sql, "DELETE FROM ");
	load_ident(&l->sql, t->name, t->namelen);
	if (rows != LOAD_ROWS_ALL)
		rows_where(&l->sql, rows, 0);
	if (step_rows(l, version, 0, "delete", e) == -1)
		return -1;
	load_tinfo(t)->deleted += (unsigned long)sqlite3_changes(sqlout_db(l));
	return 0;
}

static int
sq_delete_children(struct loader *l, const struct schema_table *t,
    struct schema_table *c, enum load_rows rows, const struct jval *version,
    struct lib_err *e)
{
	jbuf_reset(&l->sql);
	jbuf_puts(&l->sql, "DELETE FROM ");
	load_ident(&l->sql, c->name, c->namelen);
	jbuf_puts(&l->sql, " WHERE _sluice_root_id IN (SELECT _sluice_id FROM ");
	load_ident(&l->sql, t->name, t->namelen);
	rows_where(&l->sql, rows, 0);
	jbuf_putc(&l->sql, ')');
	if (step_rows(l, version, 0, "delete", e) == -1)
		return -1;
	load_tinfo(c)->deleted += (unsigned long)sqlite3_changes(sqlout_db(l));
	return 0;
}

static int
sq_mark_deleted(struct loader *l, struct schema_table *t, enum load_rows rows,
    const struct jval *version, struct lib_err *e)
{
	jbuf_reset(&l->sql);
	jbuf_puts(&l->sql, "UPDATE ");
	load_ident(&l->sql, t->name, t->namelen);
	jbuf_puts(&l->sql, " SET _sluice_deleted_at = ?2");
	rows_where(&l->sql, rows, 1);
	if (step_rows(l, version, 1, "mark deleted", e) == -1)
		return -1;
	load_tinfo(t)->deleted += (unsigned long)sqlite3_changes(sqlout_db(l));
	return 0;
}

static int
sq_savepoint(struct loader *l, enum load_savepoint sp, struct lib_err *e)
{
	static const char *const sql[] = {
		"SAVEPOINT sluice_record", "RELEASE sluice_record",
		"ROLLBACK TO sluice_record"
	};
	struct sqlout *c = conn(l);

	if (c->sp[sp] == NULL && sqlout_prepare(l, sql[sp], &c->sp[sp], e) == -1)
		return -1;
	return sqlout_step(l, c->sp[sp], sql[sp], e);
}

/* Bind an id member's text (a string, or a number as it arrived). */
static void
bind_id(sqlite3_stmt *st, const struct jval *id)
{
	(void)sqlite3_bind_text(st, 1, id->str, (int)id->len, SQLITE_STATIC);
}

static int
sq_reject_note(struct loader *l, const struct jval *id, struct lib_err *e)
{
	struct sqlout *c = conn(l);

	if (c->rej_add == NULL && (sqlout_exec(l, "CREATE TEMP TABLE IF NOT"
	    " EXISTS _sluice_rejected (id TEXT PRIMARY KEY) WITHOUT ROWID",
	    e) == -1 || sqlout_prepare(l, "INSERT OR IGNORE INTO"
	    " temp._sluice_rejected VALUES (?1)", &c->rej_add, e) == -1))
		return -1;
	bind_id(c->rej_add, id);
	return sqlout_step(l, c->rej_add, "note a rejected record", e);
}

static int
sq_reject_find(struct loader *l, const struct jval *id, struct lib_err *e)
{
	struct sqlout *c = conn(l);
	int rc;

	if (c->rej_find == NULL && sqlout_prepare(l, "SELECT 1 FROM"
	    " temp._sluice_rejected WHERE id = ?1", &c->rej_find, e) == -1)
		return -1;
	bind_id(c->rej_find, id);
	rc = sqlite3_step(c->rej_find);
	(void)sqlite3_reset(c->rej_find);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 :
	    sqlout_fail(l, rc, "look up a rejected parent", e);
}

static int
sq_state_merge(struct loader *l, const char *json, size_t len,
    struct lib_err *e)
{
	struct sqlout *c = conn(l);
	sqlite3_stmt *st;
	char now[40];
	int rc;

	clocks_utc(now, sizeof(now), 1);
	if (c->state_rowid == 0) {
		if (sqlout_prepare(l, "INSERT INTO _sluice_state (load_id,"
		    " stored_at, value) VALUES (?1, ?2, json_patch(COALESCE("
		    "(SELECT value FROM _sluice_state ORDER BY rowid DESC"
		    " LIMIT 1), '{}'), ?3))", &st, e) == -1)
			return -1;
		(void)sqlite3_bind_text(st, 1, l->opts.load_id, -1, SQLITE_STATIC);
		(void)sqlite3_bind_text(st, 2, now, -1, SQLITE_STATIC);
		(void)sqlite3_bind_text(st, 3, json, (int)len, SQLITE_STATIC);
	} else {
		if (sqlout_prepare(l, "UPDATE _sluice_state SET value ="
		    " json_patch(value, ?1), stored_at = ?2 WHERE rowid = ?3",
		    &st, e) == -1)
			return -1;
		(void)sqlite3_bind_text(st, 1, json, (int)len, SQLITE_STATIC);
		(void)sqlite3_bind_text(st, 2, now, -1, SQLITE_STATIC);
		(void)sqlite3_bind_int64(st, 3, c->state_rowid);
	}
	rc = sqlite3_step(st);
	(void)sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return sqlout_fail(l, rc, "store state", e);
	if (c->state_rowid == 0)
		c->state_rowid = sqlite3_last_insert_rowid(c->db);
	return 0;
}

static int
sq_save_schema(struct loader *l, const char *hash, const struct schema_table *t,
    const char *json, size_t len, const char *now, struct lib_err *e)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlout_prepare(l, "INSERT OR IGNORE INTO _sluice_schemas"
	    " (version_hash, table_name, schema, load_id, inserted_at)"
	    " VALUES (?1,?2,?3,?4,?5)", &st, e) == -1)
		return -1;
	(void)sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	(void)sqlite3_bind_text(st, 2, t->name, (int)t->namelen, SQLITE_STATIC);
	(void)sqlite3_bind_text(st, 3, json, (int)len, SQLITE_STATIC);
	(void)sqlite3_bind_text(st, 4, l->opts.load_id, -1, SQLITE_STATIC);
	(void)sqlite3_bind_text(st, 5, now, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	(void)sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : sqlout_fail(l, rc, "save schema", e);
}

/* Rows are written as they come: nothing is held. */
static int
sq_flush(struct loader *l, struct lib_err *e)
{
	(void)l;
	(void)e;
	return 0;
}

static int
sq_record_load(struct loader *l, const char *finished, const char *tables,
    const char *schema_version, struct lib_err *e)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlout_prepare(l, "INSERT INTO _sluice_loads (load_id, status,"
	    " started_at, finished_at, tables, schema_version)"
	    " VALUES (?1, 'completed', ?2, ?3, ?4, ?5)", &st, e) == -1)
		return -1;
	(void)sqlite3_bind_text(st, 1, l->opts.load_id, -1, SQLITE_STATIC);
	(void)sqlite3_bind_text(st, 2, l->started_at, -1, SQLITE_STATIC);
	(void)sqlite3_bind_text(st, 3, finished, -1, SQLITE_STATIC);
	(void)sqlite3_bind_text(st, 4, tables, -1, SQLITE_STATIC);
	(void)sqlite3_bind_text(st, 5, schema_version, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	(void)sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 :
	    sqlout_fail(l, rc, "record the load (is the load id new?)", e);
}

static void
finalize_conn_stmts(struct sqlout *c)
{
	size_t i;

	for (i = 0; i < 3; i++) {
		(void)sqlite3_finalize(c->sp[i]);
		c->sp[i] = NULL;
	}
	(void)sqlite3_finalize(c->rej_add);
	(void)sqlite3_finalize(c->rej_find);
	c->rej_add = c->rej_find = NULL;
}

static int
sq_commit(struct loader *l, struct lib_err *e)
{
	struct sqlout *c = conn(l);

	finalize_conn_stmts(c);
	if (sqlout_exec(l, "COMMIT", e) == -1)
		return -1;
	free(c->created);
	c->created = NULL;	/* it holds this load now */
	return 0;
}

/*
 * Undo the creation of the database by a load that did not commit:
 * unless another load has put tables in it meanwhile, remove the file,
 * holding the write lock so that a load waiting for it notices
 * (sq_open).  1 if it is gone; then its companions go once the
 * connection is closed.  Best effort: the load has failed already, and
 * says so.
 */
static int
unmake_database(const struct sqlout *c)
{
	const char *path = c->created;
	sqlite3_stmt *st;
	struct stat now;
	int empty, gone;

	if (sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK)
		return 0;
	empty = sqlite3_prepare_v2(c->db, "SELECT 1 FROM sqlite_master LIMIT 1",
	    -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_DONE;
	(void)sqlite3_finalize(st);
	/* The path must still name the file this load opened. */
	gone = empty && stat(path, &now) == 0 && now.st_dev == c->dev &&
	    now.st_ino == c->ino && unlink(path) == 0;
	(void)sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
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

static void
sq_close(struct loader *l)
{
	struct sqlout *c = conn(l);
	int gone;

	if (c == NULL)
		return;
	finalize_conn_stmts(c);
	if (l->in_txn && c->db != NULL)
		(void)sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
	gone = c->created != NULL && c->db != NULL && c->ino != 0 &&
	    unmake_database(c);
	if (c->db != NULL)
		(void)sqlite3_close(c->db);
	if (gone)
		unlink_companions(c->created);
	free(c->created);
	free(c);
	l->conn = NULL;
}

const struct load_dialect sqlout_dialect = {
	.name = "SQLite",
	.reserved_prefix = "sqlite_",
	.names_fold_case = 1,
	.open = sq_open,
	.begin = sq_begin,
	.load_known = sq_load_known,
	.name_clash = sq_name_clash,
	.table_exists = sq_table_exists,
	.stored_schema = sq_stored_schema,
	.columns = sq_columns,
	.primary_key = sq_primary_key,
	.key_is_primary = sq_key_is_primary,
	.child_names = sqlmerge_child_names,
	.create_table = sq_create_table,
	.add_column = sq_add_column,
	.create_index = sqlout_create_index,
	.prepare = sq_prepare,
	.unprepare = sq_unprepare,
	.forget = sq_unprepare,
	.insert = sq_insert,
	.upsert = sqlmerge_upsert,
	.delete_key = sqlmerge_delete,
	.scd2_write = sqlmerge_scd2_write,
	.scd2_retire_absent = sqlmerge_scd2_retire_absent,
	.stored_same = sqlmerge_stored_same,
	.count_rows = sq_count_rows,
	.delete_rows = sq_delete_rows,
	.delete_children = sq_delete_children,
	.mark_deleted = sq_mark_deleted,
	.savepoint = sq_savepoint,
	.reject_note = sq_reject_note,
	.reject_find = sq_reject_find,
	.state_merge = sq_state_merge,
	.save_schema = sq_save_schema,
	.flush = sq_flush,
	.record_load = sq_record_load,
	.commit = sq_commit,
	.close = sq_close,
};
