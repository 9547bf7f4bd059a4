/*
 * The write dispositions that change rows already stored: merge replaces
 * a root row's child rows, a tombstone deletes a row (merge) or retires
 * its current version (SCD2), and SCD2 keeps every version of a key with
 * its validity, as dlt's scd2 does.  All inside the load's transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "exitcodes.h"
#include "sqlout_int.h"
#include "xalloc.h"

void
sqlmerge_key_where(const struct schema_table *t, struct jbuf *b)
{
	const struct load_table *ti = t->user;
	char num[24];
	size_t i, k;

	jbuf_puts(b, " WHERE ");
	for (k = 0; k < t->nkeys; k++) {
		i = (size_t)ti->keycols[k];
		if (k > 0)
			jbuf_puts(b, " AND ");
		load_ident(b, t->cols[i].name, t->cols[i].namelen);
		(void)snprintf(num, sizeof(num), "=?%zu", i + 1);
		jbuf_puts(b, num);
	}
}

/* Lazily: a statement on t ending with the key's WHERE clause. */
static int
keyed_stmt(struct loader *l, struct schema_table *t, sqlite3_stmt **st,
    const char *head, const char *tail, struct lib_err *e)
{
	if (*st != NULL)
		return 0;
	jbuf_reset(&l->sql);
	jbuf_puts(&l->sql, head);
	load_ident(&l->sql, t->name, t->namelen);
	sqlmerge_key_where(t, &l->sql);
	jbuf_puts(&l->sql, tail);
	return sqlout_prepare(l, jbuf_cstr(&l->sql), st, e);
}

int
sqlmerge_child_names(struct loader *l, const struct schema_table *t,
    struct jbuf *names, size_t *n, struct lib_err *e)
{
	sqlite3_stmt *st;
	int rc;

	*n = 0;
	jbuf_reset(names);
	if (sqlout_prepare(l, "SELECT m.name FROM sqlite_master AS m WHERE"
	    " m.type = 'table' AND substr(m.name, 1, ?2) = ?1 AND EXISTS"
	    " (SELECT 1 FROM pragma_table_info(m.name) AS p"
	    " WHERE p.name = '_sluice_root_id')", &st, e) == -1)
		return -1;
	jbuf_reset(&l->tmp);
	jbuf_put(&l->tmp, t->name, t->namelen);
	jbuf_puts(&l->tmp, "__");
	(void)sqlite3_bind_text(st, 1, l->tmp.p, (int)l->tmp.len,
	    SQLITE_TRANSIENT);
	(void)sqlite3_bind_int64(st, 2, (sqlite3_int64)l->tmp.len);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		jbuf_put(names, (const char *)sqlite3_column_text(st, 0),
		    (size_t)sqlite3_column_bytes(st, 0));
		jbuf_putc(names, '\0');
		(*n)++;
	}
	(void)sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return sqlout_fail(l, rc, "find child tables", e);
	return 0;
}

/* Delete the rows of child table c that belong to root id. */
static int
delete_by_root(struct loader *l, struct schema_table *c, const char *id,
    int idlen, struct lib_err *e)
{
	static const char *const root_col = "_sluice_root_id";
	struct sqlout_table *cs = sqlout_stmts(c);

	if (cs->del_root == NULL) {
		/* Merges look children up by root: give them an index. */
		if (sqlout_create_index(l, c, "__sluice_root", 0, &root_col, 1,
		    e) == -1)
			return -1;
		jbuf_reset(&l->sql);
		jbuf_puts(&l->sql, "DELETE FROM ");
		load_ident(&l->sql, c->name, c->namelen);
		jbuf_puts(&l->sql, " WHERE _sluice_root_id = ?1");
		if (sqlout_prepare(l, jbuf_cstr(&l->sql), &cs->del_root, e) == -1)
			return -1;
	}
	(void)sqlite3_bind_text(cs->del_root, 1, id, idlen, SQLITE_TRANSIENT);
	if (sqlout_step(l, cs->del_root, "delete child rows", e) == -1)
		return -1;
	load_tinfo(c)->deleted += (unsigned long)sqlite3_changes(sqlout_db(l));
	return 0;
}

/*
 * Merge mode, a root row (one with _sluice_id and no _sluice_parent_id)
 * about to replace a stored one: delete the stored one's child rows, so
 * that the new record's children are all there is.
 */
static int
replace_children(struct loader *l, struct schema_table *t,
    struct lib_err *e)
{
	struct sqlout_table *ss = sqlout_stmts(t);
	struct load_table *ti = load_tinfo(t);
	char old[256];
	int oldlen = -1, rc;
	size_t i;

	if (!load_is_root(t))
		return 0;
	if (keyed_stmt(l, t, &ss->old_id, "SELECT _sluice_id FROM ", "", e) == -1 ||
	    sqlout_bind_row(l, t, ss->old_id, e) == -1)
		return -1;
	if ((rc = sqlite3_step(ss->old_id)) == SQLITE_ROW &&
	    sqlite3_column_type(ss->old_id, 0) != SQLITE_NULL) {
		oldlen = sqlite3_column_bytes(ss->old_id, 0);
		if (oldlen >= (int)sizeof(old))
			oldlen = (int)sizeof(old) - 1;
		memcpy(old, sqlite3_column_text(ss->old_id, 0), (size_t)oldlen);
	}
	(void)sqlite3_reset(ss->old_id);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sqlout_fail(l, rc, "find the stored row", e);
	if (oldlen < 0)
		return 0;
	if (load_find_children(l, t, e) == -1)
		return -1;
	for (i = 0; i < ti->nchildren; i++)
		if (delete_by_root(l, l->set.tables[ti->children[i]], old, oldlen,
		    e) == -1)
			return -1;
	return 0;
}

/* The rows of this load's scd2 tables that it saw, by table. */
static int
seen_table(struct loader *l, struct lib_err *e)
{
	return sqlout_exec(l, "CREATE TEMP TABLE IF NOT EXISTS _sluice_seen"
	    " (tbl TEXT, rid INTEGER, PRIMARY KEY (tbl, rid)) WITHOUT ROWID", e);
}

/* --scd2-retire-absent: the rows this load saw, in a temporary table. */
static int
seen(struct loader *l, struct schema_table *t, sqlite3_int64 rowid,
    struct lib_err *e)
{
	struct sqlout_table *ss = sqlout_stmts(t);

	if (!l->opts.scd2_retire_absent)
		return 0;
	if (ss->seen == NULL && (seen_table(l, e) == -1 ||
	    sqlout_prepare(l, "INSERT OR IGNORE INTO temp._sluice_seen"
	    " VALUES (?1, ?2)", &ss->seen, e) == -1))
		return -1;
	(void)sqlite3_bind_text(ss->seen, 1, t->name, (int)t->namelen,
	    SQLITE_STATIC);
	(void)sqlite3_bind_int64(ss->seen, 2, rowid);
	return sqlout_step(l, ss->seen, "note a row as seen", e);
}

/* The version at rowid ends with this load. */
static int
retire_rowid(struct loader *l, struct schema_table *t, sqlite3_int64 rowid,
    struct lib_err *e)
{
	struct sqlout_table *ss = sqlout_stmts(t);

	if (ss->retire == NULL) {
		jbuf_reset(&l->sql);
		jbuf_puts(&l->sql, "UPDATE ");
		load_ident(&l->sql, t->name, t->namelen);
		jbuf_puts(&l->sql, " SET _sluice_valid_to = ?1 WHERE rowid = ?2");
		if (sqlout_prepare(l, jbuf_cstr(&l->sql), &ss->retire, e) == -1)
			return -1;
	}
	(void)sqlite3_bind_text(ss->retire, 1, l->started_at, -1, SQLITE_STATIC);
	(void)sqlite3_bind_int64(ss->retire, 2, rowid);
	return sqlout_step(l, ss->retire, "retire the current version", e);
}

/*
 * An unchanged current version takes the record's _sluice_id, which its
 * new child rows name as their root and parent: without jsonl-normalize
 * -k, ids are new each load, and the children would be orphans.
 */
static int
relink_version(struct loader *l, struct schema_table *t, sqlite3_int64 rowid,
    struct lib_err *e)
{
	struct sqlout_table *ss = sqlout_stmts(t);
	struct load_table *ti = load_tinfo(t);
	const struct jval *id;
	long col;

	if ((col = schema_table_find(t, "_sluice_id", 10)) < 0 ||
	    (id = ti->vals[col]) == NULL || id->type != JV_STRING)
		return 0;
	if (ss->relink == NULL) {
		jbuf_reset(&l->sql);
		jbuf_puts(&l->sql, "UPDATE ");
		load_ident(&l->sql, t->name, t->namelen);
		jbuf_puts(&l->sql, " SET _sluice_id = ?1 WHERE rowid = ?2"
		    " AND _sluice_id IS NOT ?1");
		if (sqlout_prepare(l, jbuf_cstr(&l->sql), &ss->relink, e) == -1)
			return -1;
	}
	(void)sqlite3_bind_text(ss->relink, 1, id->str, (int)id->len,
	    SQLITE_STATIC);
	(void)sqlite3_bind_int64(ss->relink, 2, rowid);
	return sqlout_step(l, ss->relink, "relink the current version", e);
}

/*
 * The rowid of the current version of the key in ti->vals, or 0; with
 * same, whether its row hash is ti->hash_text.
 */
static int
current_version(struct loader *l, struct schema_table *t,
    sqlite3_int64 *rowid, int *same, struct lib_err *e)
{
	struct sqlout_table *ss = sqlout_stmts(t);
	struct load_table *ti = load_tinfo(t);
	int rc;

	*rowid = 0;
	if (keyed_stmt(l, t, &ss->current, "SELECT rowid, _sluice_row_hash FROM ",
	    " AND _sluice_valid_to IS NULL", e) == -1 ||
	    sqlout_bind_row(l, t, ss->current, e) == -1)
		return -1;
	if ((rc = sqlite3_step(ss->current)) == SQLITE_ROW) {
		*rowid = sqlite3_column_int64(ss->current, 0);
		if (same != NULL)
			*same = sqlite3_column_type(ss->current, 1) == SQLITE_TEXT &&
			    strcmp((const char *)sqlite3_column_text(ss->current,
			    1), ti->hash_text) == 0;
	}
	(void)sqlite3_reset(ss->current);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sqlout_fail(l, rc, "find the current version", e);
	return 0;
}

int
sqlmerge_delete(struct loader *l, struct schema_table *t, struct lib_err *e)
{
	struct sqlout_table *ss = sqlout_stmts(t);
	struct load_table *ti = load_tinfo(t);
	sqlite3_int64 rowid;

	if (ti->scd2) {
		/*
		 * The key's current version ends; its history stays, and its
		 * child rows go: they are the current version's.
		 */
		if (replace_children(l, t, e) == -1 ||
		    current_version(l, t, &rowid, NULL, e) == -1)
			return -1;
		if (rowid == 0)
			return 0;
		if (retire_rowid(l, t, rowid, e) == -1)
			return -1;
		ti->deleted++;
		return 0;
	}
	if (replace_children(l, t, e) == -1 ||
	    keyed_stmt(l, t, &ss->del_key, "DELETE FROM ", "", e) == -1 ||
	    sqlout_bind_row(l, t, ss->del_key, e) == -1 ||
	    sqlout_step(l, ss->del_key, "delete", e) == -1)
		return -1;
	ti->deleted += (unsigned long)sqlite3_changes(sqlout_db(l));
	return 0;
}

int
sqlmerge_scd2_write(struct loader *l, struct schema_table *t,
    struct lib_err *e)
{
	struct load_table *ti = load_tinfo(t);
	struct sqlout_table *ss = sqlout_stmts(t);
	sqlite3_int64 rowid;
	int same = 0;

	if (current_version(l, t, &rowid, &same, e) == -1)
		return -1;
	if (same) {
		/*
		 * The root is the same, but a list of it may not be (the
		 * normalizer moved it out): its children are the new ones.
		 */
		if (replace_children(l, t, e) == -1 ||
		    relink_version(l, t, rowid, e) == -1)
			return -1;
		return seen(l, t, rowid, e);
	}
	if (rowid != 0) {
		/* A change: the current version ends, the new one begins. */
		if (retire_rowid(l, t, rowid, e) == -1 ||
		    replace_children(l, t, e) == -1)
			return -1;
		ti->updated++;
	}
	if (sqlout_bind_row(l, t, ss->insert, e) == -1 ||
	    sqlout_step(l, ss->insert, "insert", e) == -1)
		return -1;
	ti->inserted++;
	return seen(l, t, sqlite3_last_insert_rowid(sqlout_db(l)), e);
}

/* The child rows of the current versions about to be retired as absent. */
static int
absent_children(struct loader *l, struct schema_table *t, struct lib_err *e)
{
	struct load_table *ti = load_tinfo(t);
	struct schema_table *c;
	sqlite3_stmt *st;
	size_t i;
	int rc;

	if (schema_table_find(t, "_sluice_id", 10) < 0)
		return 0;
	if (load_find_children(l, t, e) == -1)
		return -1;
	for (i = 0; i < ti->nchildren; i++) {
		c = l->set.tables[ti->children[i]];
		jbuf_reset(&l->sql);
		jbuf_puts(&l->sql, "DELETE FROM ");
		load_ident(&l->sql, c->name, c->namelen);
		jbuf_puts(&l->sql, " WHERE _sluice_root_id IN (SELECT _sluice_id"
		    " FROM ");
		load_ident(&l->sql, t->name, t->namelen);
		jbuf_puts(&l->sql, " WHERE _sluice_valid_to IS NULL AND rowid NOT IN"
		    " (SELECT rid FROM temp._sluice_seen WHERE tbl = ?1))");
		if (sqlout_prepare(l, jbuf_cstr(&l->sql), &st, e) == -1)
			return -1;
		(void)sqlite3_bind_text(st, 1, t->name, (int)t->namelen,
		    SQLITE_STATIC);
		rc = sqlite3_step(st);
		(void)sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return sqlout_fail(l, rc, "delete child rows", e);
		load_tinfo(c)->deleted += (unsigned long)sqlite3_changes(sqlout_db(l));
	}
	return 0;
}

int
sqlmerge_scd2_retire_absent(struct loader *l, struct lib_err *e)
{
	sqlite3_stmt *st;
	size_t i;
	int rc;

	if (!l->opts.scd2_retire_absent)
		return 0;
	for (i = 0; i < l->set.n; i++) {
		struct schema_table *t = l->set.tables[i];
		struct load_table *ti = load_tinfo(t);

		if (!ti->scd2 || !ti->exists)
			continue;
		/* A full snapshot: a key it does not hold is gone. */
		if (seen_table(l, e) == -1)
			return -1;
		if (absent_children(l, t, e) == -1)
			return -1;
		jbuf_reset(&l->sql);
		jbuf_puts(&l->sql, "UPDATE ");
		load_ident(&l->sql, t->name, t->namelen);
		jbuf_puts(&l->sql, " SET _sluice_valid_to = ?1 WHERE"
		    " _sluice_valid_to IS NULL AND rowid NOT IN"
		    " (SELECT rid FROM temp._sluice_seen WHERE tbl = ?2)");
		if (sqlout_prepare(l, jbuf_cstr(&l->sql), &st, e) == -1)
			return -1;
		(void)sqlite3_bind_text(st, 1, l->started_at, -1, SQLITE_STATIC);
		(void)sqlite3_bind_text(st, 2, t->name, (int)t->namelen,
		    SQLITE_STATIC);
		rc = sqlite3_step(st);
		(void)sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return sqlout_fail(l, rc, "retire absent keys", e);
		ti->deleted += (unsigned long)sqlite3_changes(sqlout_db(l));
	}
	return 0;
}

void
sqlmerge_finalize(struct sqlout_table *ss)
{
	(void)sqlite3_finalize(ss->del_key);
	(void)sqlite3_finalize(ss->current);
	(void)sqlite3_finalize(ss->retire);
	(void)sqlite3_finalize(ss->seen);
	(void)sqlite3_finalize(ss->relink);
	ss->del_key = ss->current = ss->retire = ss->seen = ss->relink = NULL;
}

/* Bind the current row to the UPDATE, whose parameters update_cols maps. */
static int
bind_update(struct loader *l, struct schema_table *t, struct lib_err *e)
{
	struct load_table *ti = load_tinfo(t);
	struct sqlout_table *ss = sqlout_stmts(t);
	size_t j, col;
	int rc;

	for (j = 0; j < ss->update_nparams; j++) {
		col = ss->update_cols[j];
		if ((rc = sqlout_bind_value(l, ss->update, (int)j + 1,
		    ti->vals[col], t->cols[col].type)) != SQLITE_OK)
			return sqlout_fail(l, rc, "bind", e);
	}
	return 0;
}

/*
 * Merge: the stored row the key names loses its child rows and takes the
 * record's values; without one, the record is inserted.
 */
int
sqlmerge_upsert(struct loader *l, struct schema_table *t, struct lib_err *e)
{
	struct load_table *ti = load_tinfo(t);
	struct sqlout_table *ss = sqlout_stmts(t);

	if (replace_children(l, t, e) == -1 || bind_update(l, t, e) == -1 ||
	    sqlout_step(l, ss->update, "update", e) == -1)
		return -1;
	if (sqlite3_changes(sqlout_db(l)) > 0) {
		ti->updated++;
		return 0;
	}
	if (sqlout_bind_row(l, t, ss->insert, e) == -1 ||
	    sqlout_step(l, ss->insert, "insert", e) == -1)
		return -1;
	ti->inserted++;
	return 0;
}

int
sqlmerge_stored_same(struct loader *l, struct schema_table *t,
    const struct jval *root, const char *hash, struct lib_err *e)
{
	struct load_table *ti = load_tinfo(t);
	struct sqlout_table *ss;
	const struct jval *v;
	long col;
	size_t k;
	int rc, same = 0;

	if (!ti->exists || (col = schema_table_find(t, "_sluice_row_hash",
	    16)) < 0 || (size_t)col >= ti->ncols_db)
		return 0;
	/* The table was synced for a merge: ensure_key found its key. */
	if ((ti->keycols == NULL && load_find_keys(t) == -1) ||
	    ti->keycols == NULL)
		return 0;
	ss = sqlout_stmts(t);
	if (ss->hash_get == NULL) {
		jbuf_reset(&l->sql);
		jbuf_puts(&l->sql, "SELECT \"_sluice_row_hash\" FROM ");
		load_ident(&l->sql, t->name, t->namelen);
		sqlmerge_key_where(t, &l->sql);
		if (sqlout_prepare(l, jbuf_cstr(&l->sql), &ss->hash_get, e) == -1)
			return -1;
	}
	for (k = 0; k < t->nkeys; k++) {
		if (ti->keycols[k] < 0 || (v = jval_get(root, t->keys[k])) ==
		    NULL || v->type == JV_NULL) {
			(void)sqlite3_clear_bindings(ss->hash_get);
			return 0;	/* the write says what is wrong */
		}
		if (sqlout_bind_value(l, ss->hash_get, (int)ti->keycols[k] + 1,
		    v, t->cols[ti->keycols[k]].type) != SQLITE_OK)
			return 0;
	}
	rc = sqlite3_step(ss->hash_get);
	if (rc == SQLITE_ROW)
		same = sqlite3_column_type(ss->hash_get, 0) == SQLITE_TEXT &&
		    sqlite3_column_bytes(ss->hash_get, 0) == 32 &&
		    memcmp(sqlite3_column_text(ss->hash_get, 0), hash, 32) == 0;
	(void)sqlite3_reset(ss->hash_get);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sqlout_fail(l, rc, "look up a row's hash", e);
	return same;
}
