#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "exitcodes.h"
#include "jval.h"
#include "state.h"

int
state_exit_status(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return EX_TEMPFAIL;
	case SQLITE_FULL:
	case SQLITE_IOERR:
		return EX_IOERR;
	case SQLITE_CONSTRAINT:
	case SQLITE_MISMATCH:
	case SQLITE_TOOBIG:
		return EX_DATAERR;
	case SQLITE_CANTOPEN:
	case SQLITE_NOTADB:
	case SQLITE_READONLY:
	case SQLITE_PERM:
		return EX_CANTCREAT;
	default:
		return EX_SOFTWARE;
	}
}

int
state_get(const char *path, const char *dotted, struct jbuf *out,
    int *found, struct lib_err *e)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	struct stat sb;
	int rc, ret = -1;

	*found = 0;
	if (stat(path, &sb) == -1 && errno == ENOENT)
		return 0;
	if ((rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL)) !=
	    SQLITE_OK) {
		(void)liberr_set(e, EX_NOINPUT, "%s: %s", path,
		    db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		goto out;
	}
	(void)sqlite3_busy_timeout(db, 5000);
	rc = sqlite3_prepare_v2(db, "SELECT value FROM _sluice_state"
	    " ORDER BY rowid DESC LIMIT 1", -1, &st, NULL);
	if (rc != SQLITE_OK) {
		/* No _sluice_state table: nothing was ever stored. */
		ret = 0;
		if (strstr(sqlite3_errmsg(db), "no such table") == NULL)
			ret = liberr_set(e, state_exit_status(rc), "%s: %s", path,
			    sqlite3_errmsg(db));
		goto out;
	}
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		ret = rc == SQLITE_DONE ? 0 : liberr_set(e, state_exit_status(rc),
		    "%s: %s", path, sqlite3_errmsg(db));
		goto out;
	}
	if (state_lookup((const char *)sqlite3_column_text(st, 0),
	    (size_t)sqlite3_column_bytes(st, 0), dotted, out, found, e) == -1) {
		(void)liberr_prefix(e, "%s: stored state", path);
		goto out;
	}
	ret = 0;
out:
	(void)sqlite3_finalize(st);
	(void)sqlite3_close(db);
	return ret;
}

int
state_lookup(const char *json, size_t len, const char *dotted,
    struct jbuf *out, int *found, struct lib_err *e)
{
	struct jval_parser *p;
	const struct jval *root, *v;
	int ret = 0;

	*found = 0;
	if ((p = jval_parser_new((size_t)1 << 30)) == NULL)
		return liberr_set(e, EX_OSERR, "out of memory");
	if ((root = jval_parse(p, json, len, JVAL_KEEP_ALL, e)) == NULL)
		ret = -1;
	else if ((v = jval_path(root, dotted)) != NULL && v->type != JV_NULL) {
		*found = 1;
		if (v->type == JV_STRING)
			jbuf_put(out, v->str, v->len);
		else
			jval_write(out, v);
	}
	jval_parser_free(p);
	return ret;
}
