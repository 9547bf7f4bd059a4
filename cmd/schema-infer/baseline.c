#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "baseline.h"
#include "exitcodes.h"
#include "jval.h"
#include "state.h"

/* An SQLite failure as e: "path: what: message". */
static int
db_fail(sqlite3 *db, const char *path, int rc, const char *what,
    struct lib_err *e)
{
	int code = state_exit_status(rc);

	/* Reading: an unreadable or foreign file is no input, not output. */
	if (code == EX_CANTCREAT)
		code = EX_NOINPUT;
	return liberr_set(e, code, "%s: %s: %s", path, what,
	    db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

/* 1 if the database has a table of that name, 0 if not, -1 on failure. */
static int
has_table(sqlite3 *db, const char *path, const char *name, struct lib_err *e)
{
	sqlite3_stmt *st;
	int rc;

	rc = sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE"
	    " type = 'table' AND name = ?1", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_fail(db, path, rc, "not a sluice database", e);
	(void)sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	(void)sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return db_fail(db, path, rc, "not a sluice database", e);
}

/* The latest stored schema of t, when there is one. */
static int
seed_stored(sqlite3 *db, const char *path, struct schema_table *t,
    struct jval_parser *p, int stored, struct lib_err *e)
{
	const struct jval *schema;
	sqlite3_stmt *st;
	int rc, ret = 0;

	if (!stored)
		return 0;
	rc = sqlite3_prepare_v2(db, "SELECT schema FROM _sluice_schemas"
	    " WHERE table_name = ?1 ORDER BY rowid DESC LIMIT 1", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_fail(db, path, rc, "_sluice_schemas", e);
	(void)sqlite3_bind_text(st, 1, t->name, (int)t->namelen, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		jval_parser_rewind(p);
		schema = jval_parse(p, (const char *)sqlite3_column_text(st, 0),
		    (size_t)sqlite3_column_bytes(st, 0), JVAL_KEEP_ALL, e);
		if (schema == NULL || schema->type != JV_OBJECT) {
			if (schema != NULL)
				(void)liberr_set(e, EX_DATAERR, "not an object");
			e->code = EX_DATAERR;
			ret = liberr_prefix(e, "%s: _sluice_schemas: table %s",
			    path, t->name);
		} else if (schema_apply_json(t, schema, NULL, NULL, e) == -1)
			ret = liberr_prefix(e, "%s: _sluice_schemas: table %s",
			    path, t->name);
	} else if (rc != SQLITE_DONE)
		ret = db_fail(db, path, rc, "_sluice_schemas", e);
	(void)sqlite3_finalize(st);
	return ret;
}

/* The SQL table's columns that the stored schema lacks. */
static int
seed_declared(sqlite3 *db, const char *path, struct schema_table *t,
    struct lib_err *e)
{
	sqlite3_stmt *st;
	const char *name;
	size_t n;
	int rc;

	rc = sqlite3_prepare_v2(db, "SELECT name, type, \"notnull\" FROM"
	    " pragma_table_info(?1)", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_fail(db, path, rc, "table_info", e);
	(void)sqlite3_bind_text(st, 1, t->name, (int)t->namelen, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		name = (const char *)sqlite3_column_text(st, 0);
		n = (size_t)sqlite3_column_bytes(st, 0);
		if (name == NULL || schema_table_find(t, name, n) >= 0)
			continue;
		if (schema_table_add(t, name, n, schema_type_of_decl(
		    (const char *)sqlite3_column_text(st, 1)),
		    sqlite3_column_int(st, 2) == 0, e) < 0) {
			(void)sqlite3_finalize(st);
			return liberr_prefix(e, "%s", path);
		}
	}
	(void)sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_fail(db, path, rc, "table_info", e);
}

static int
read_tables(sqlite3 *db, const char *path, struct schema_set *set,
    struct lib_err *e)
{
	struct jval_parser *p;
	struct schema_table *t;
	sqlite3_stmt *st;
	int rc, stored, ret = 0;

	if ((rc = has_table(db, path, "_sluice_loads", e)) <= 0)
		return rc == 0 ? liberr_set(e, EX_NOINPUT, "%s: not a sluice "
		    "database (no _sluice_loads table): load into it with "
		    "sqlite-load first", path) : -1;
	if ((stored = has_table(db, path, "_sluice_schemas", e)) < 0)
		return -1;
	/* Every name but sluice's own and SQLite's, as sqlite-load reserves them. */
	rc = sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE"
	    " type = 'table' AND lower(substr(name, 1, 8)) <> '_sluice_'"
	    " AND lower(substr(name, 1, 7)) <> 'sqlite_' ORDER BY rowid", -1,
	    &st, NULL);
	if (rc != SQLITE_OK)
		return db_fail(db, path, rc, "sqlite_master", e);
	if ((p = jval_parser_new((size_t)1 << 30)) == NULL) {
		(void)sqlite3_finalize(st);
		return liberr_set(e, EX_OSERR, "out of memory");
	}
	while (ret == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);

		if (name == NULL)
			continue;
		if ((t = schema_set_get(set, name,
		    (size_t)sqlite3_column_bytes(st, 0), 1, e)) == NULL ||
		    seed_stored(db, path, t, p, stored, e) == -1 ||
		    seed_declared(db, path, t, e) == -1)
			ret = -1;
		else
			t->seeded = t->ncols > 0;
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = db_fail(db, path, rc, "sqlite_master", e);
	(void)sqlite3_finalize(st);
	jval_parser_free(p);
	return ret;
}

int
baseline_read(const char *path, struct schema_set *set, struct lib_err *e)
{
	struct stat sb;
	sqlite3 *db = NULL;
	int rc, ret;

	/* SQLite would take a missing file for an empty database. */
	if (stat(path, &sb) == -1)
		return liberr_set(e, EX_NOINPUT, "%s: %s", path, strerror(errno));
	if (!S_ISREG(sb.st_mode))
		return liberr_set(e, EX_NOINPUT, "%s: not a regular file", path);
	if ((rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL)) !=
	    SQLITE_OK) {
		ret = db_fail(db, path, rc, "cannot open", e);
		(void)sqlite3_close(db);
		return ret;
	}
	(void)sqlite3_busy_timeout(db, 5000);
	/* One read transaction: the tables as one commit left them. */
	if ((rc = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL)) != SQLITE_OK)
		ret = db_fail(db, path, rc, "cannot read", e);
	else
		ret = read_tables(db, path, set, e);
	(void)sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	(void)sqlite3_close(db);
	return ret;
}
