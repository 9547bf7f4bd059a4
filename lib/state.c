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

/* The most a state document may hold: a state is a line or so. */
#define STATE_FILE_MAX	((size_t)16 << 20)

/* The value at dotted of the state root, as state_lookup gives it. */
static void
state_value(const struct jval *root, const char *dotted, struct jbuf *out,
    int *found)
{
	const struct jval *v;

	if ((v = jval_path(root, dotted)) != NULL && v->type != JV_NULL) {
		*found = 1;
		if (v->type == JV_STRING)
			jbuf_put(out, v->str, v->len);
		else
			jval_write(out, v);
	}
}

int
state_file_get(const char *path, const char *dotted, struct jbuf *out,
    int *found, struct lib_err *e)
{
	struct jbuf text = JBUF_INIT;
	struct jval_parser *p = NULL;
	const struct jval *root, *t, *b;
	size_t i;
	int ret = -1;

	*found = 0;
	switch (jbuf_read_file(&text, path, STATE_FILE_MAX)) {
	case -1:
		(void)liberr_set(e, EX_NOINPUT, "%s: %s", path, strerror(errno));
		goto out;
	case -2:
		(void)liberr_set(e, EX_IOERR, "%s: %s", path, strerror(errno));
		goto out;
	default:
		break;
	}
	for (i = 0; i < text.len && (text.p[i] == ' ' || text.p[i] == '\t' ||
	    text.p[i] == '\r' || text.p[i] == '\n'); i++)
		;
	if (i == text.len) {
		ret = 0;
		goto out;
	}
	if (text.len > STATE_FILE_MAX) {
		(void)liberr_set(e, EX_DATAERR, "%s: more than 16 MB: not a "
		    "state", path);
		goto out;
	}
	if ((p = jval_parser_new(text.len * 8 + 4096)) == NULL) {
		(void)liberr_set(e, EX_OSERR, "out of memory");
		goto out;
	}
	if ((root = jval_parse(p, text.p, text.len, JVAL_KEEP_ALL, e)) == NULL ||
	    root->type != JV_OBJECT ||
	    ((t = jval_get(root, "type")) != NULL && (t->type != JV_STRING ||
	    t->len != 5 || memcmp(t->str, "STATE", 5) != 0 ||
	    (root = jval_get(root, "value")) == NULL ||
	    root->type != JV_OBJECT)) ||
	    ((b = jval_get(root, "bookmarks")) != NULL &&
	    b->type != JV_OBJECT && b->type != JV_NULL)) {
		(void)liberr_set(e, EX_DATAERR, "%s: not a state document "
		    "({\"bookmarks\":{...}})", path);
		goto out;
	}
	state_value(root, dotted, out, found);
	ret = 0;
out:
	jval_parser_free(p);
	jbuf_free(&text);
	return ret;
}

int
state_lookup(const char *json, size_t len, const char *dotted,
    struct jbuf *out, int *found, struct lib_err *e)
{
	struct jval_parser *p;
	const struct jval *root;
	int ret = 0;

	*found = 0;
	if ((p = jval_parser_new((size_t)1 << 30)) == NULL)
		return liberr_set(e, EX_OSERR, "out of memory");
	if ((root = jval_parse(p, json, len, JVAL_KEEP_ALL, e)) == NULL)
		ret = -1;
	else
		state_value(root, dotted, out, found);
	jval_parser_free(p);
	return ret;
}
