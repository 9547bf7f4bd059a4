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
#include "hash.h"
#include "sqlout_int.h"
#include "xalloc.h"

static const char *const scd2_names[3] = {
	"_sluice_valid_from", "_sluice_valid_to", "_sluice_row_hash"
};

void
sqlmerge_key_where(const struct schema_table *t, struct jbuf *b)
{
	const struct table *ti = t->user;
	char num[24];
	size_t i, k;

	jbuf_puts(b, " WHERE ");
	for (k = 0; k < t->nkeys; k++) {
		i = (size_t)ti->keycols[k];
		if (k > 0)
			jbuf_puts(b, " AND ");
		sqlout_ident(b, t->cols[i].name, t->cols[i].namelen);
		(void)snprintf(num, sizeof(num), "=?%zu", i + 1);
		jbuf_puts(b, num);
	}
}

/* Lazily: a statement on t ending with the key's WHERE clause. */
static int
keyed_stmt(struct sqlout *o, struct schema_table *t, sqlite3_stmt **st,
    const char *head, const char *tail, struct lib_err *e)
{
	if (*st != NULL)
		return 0;
	jbuf_reset(&o->sql);
	jbuf_puts(&o->sql, head);
	sqlout_ident(&o->sql, t->name, t->namelen);
	sqlmerge_key_where(t, &o->sql);
	jbuf_puts(&o->sql, tail);
	return sqlout_prepare(o, jbuf_cstr(&o->sql), st, e);
}

int
sqlmerge_child_names(struct sqlout *o, const struct schema_table *t,
    struct jbuf *names, size_t *n, struct lib_err *e)
{
	sqlite3_stmt *st;
	int rc;

	*n = 0;
	jbuf_reset(names);
	if (sqlout_prepare(o, "SELECT m.name FROM sqlite_master AS m WHERE"
	    " m.type = 'table' AND substr(m.name, 1, ?2) = ?1 AND EXISTS"
	    " (SELECT 1 FROM pragma_table_info(m.name) AS p"
	    " WHERE p.name = '_sluice_root_id')", &st, e) == -1)
		return -1;
	jbuf_reset(&o->tmp);
	jbuf_put(&o->tmp, t->name, t->namelen);
	jbuf_puts(&o->tmp, "__");
	(void)sqlite3_bind_text(st, 1, o->tmp.p, (int)o->tmp.len,
	    SQLITE_TRANSIENT);
	(void)sqlite3_bind_int64(st, 2, (sqlite3_int64)o->tmp.len);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		jbuf_put(names, (const char *)sqlite3_column_text(st, 0),
		    (size_t)sqlite3_column_bytes(st, 0));
		jbuf_putc(names, '\0');
		(*n)++;
	}
	(void)sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return sqlout_fail(o, rc, "find child tables", e);
	return 0;
}

/* The tables named T__... that have a _sluice_root_id column. */
static int
find_children(struct sqlout *o, struct schema_table *t, struct lib_err *e)
{
	struct table *ti = sqlout_tinfo(t);
	struct schema_table *c;
	struct jbuf names = JBUF_INIT;
	const char *name;
	size_t i, n, k;

	ti->nchildren = 0;
	if (sqlmerge_child_names(o, t, &names, &n, e) == -1) {
		jbuf_free(&names);
		return -1;
	}
	for (k = 0, name = names.p; k < n; k++, name += strlen(name) + 1) {
		if ((c = sqlout_table_for(o, name, strlen(name), e)) == NULL) {
			jbuf_free(&names);
			return -1;
		}
		for (i = 0; i < o->set.n && o->set.tables[i] != c; i++)
			;
		ti->children = xalloc_realloc(ti->children, ti->nchildren + 1,
		    sizeof(*ti->children));
		ti->children[ti->nchildren++] = i;
	}
	jbuf_free(&names);
	ti->children_gen = o->ddl_gen;
	return 0;
}

/* Delete the rows of child table c that belong to root id. */
static int
delete_by_root(struct sqlout *o, struct schema_table *c, const char *id,
    int idlen, struct lib_err *e)
{
	static const char *const root_col = "_sluice_root_id";
	struct table *ci = sqlout_tinfo(c);
	int rc;

	if (ci->del_root == NULL) {
		/* Merges look children up by root: give them an index. */
		if ((rc = sqlout_create_index(o, c, "__sluice_root", 0, &root_col,
		    1)) != SQLITE_OK)
			return sqlout_fail(o, rc, "create root index", e);
		jbuf_reset(&o->sql);
		jbuf_puts(&o->sql, "DELETE FROM ");
		sqlout_ident(&o->sql, c->name, c->namelen);
		jbuf_puts(&o->sql, " WHERE _sluice_root_id = ?1");
		if (sqlout_prepare(o, jbuf_cstr(&o->sql), &ci->del_root, e) == -1)
			return -1;
	}
	(void)sqlite3_bind_text(ci->del_root, 1, id, idlen, SQLITE_TRANSIENT);
	if (sqlout_step(o, ci->del_root, "delete child rows", e) == -1)
		return -1;
	ci->deleted += (unsigned long)sqlite3_changes(o->db);
	return 0;
}

/*
 * Merge mode, a root row (one with _sluice_id and no _sluice_parent_id)
 * about to replace a stored one: delete the stored one's child rows, so
 * that the new record's children are all there is.
 */
int
sqlmerge_replace_children(struct sqlout *o, struct schema_table *t,
    struct lib_err *e)
{
	struct table *ti = sqlout_tinfo(t);
	char old[256];
	int oldlen = -1, rc;
	size_t i;

	if (schema_table_find(t, "_sluice_id", 10) < 0 ||
	    schema_table_find(t, "_sluice_parent_id", 17) >= 0)
		return 0;
	if (keyed_stmt(o, t, &ti->old_id, "SELECT _sluice_id FROM ", "", e) == -1 ||
	    sqlout_bind_row(o, t, ti->old_id, e) == -1)
		return -1;
	if ((rc = sqlite3_step(ti->old_id)) == SQLITE_ROW &&
	    sqlite3_column_type(ti->old_id, 0) != SQLITE_NULL) {
		oldlen = sqlite3_column_bytes(ti->old_id, 0);
		if (oldlen >= (int)sizeof(old))
			oldlen = (int)sizeof(old) - 1;
		memcpy(old, sqlite3_column_text(ti->old_id, 0), (size_t)oldlen);
	}
	(void)sqlite3_reset(ti->old_id);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sqlout_fail(o, rc, "find the stored row", e);
	if (oldlen < 0)
		return 0;
	if (ti->children_gen != o->ddl_gen && find_children(o, t, e) == -1)
		return -1;
	ti = sqlout_tinfo(t);
	for (i = 0; i < ti->nchildren; i++)
		if (delete_by_root(o, o->set.tables[ti->children[i]], old, oldlen,
		    e) == -1)
			return -1;
	return 0;
}

int
sqlmerge_is_tombstone(const struct jval *record)
{
	const struct jval *m = jval_getn(record, "_sluice_deleted", 15);

	return m != NULL && m->type == JV_TRUE;
}

/* The rows of this load's scd2 tables that it saw, by table. */
static int
seen_table(struct sqlout *o, struct lib_err *e)
{
	return sqlout_exec(o, "CREATE TEMP TABLE IF NOT EXISTS _sluice_seen"
	    " (tbl TEXT, rid INTEGER, PRIMARY KEY (tbl, rid)) WITHOUT ROWID", e);
}

/* --scd2-retire-absent: the rows this load saw, in a temporary table. */
static int
seen(struct sqlout *o, struct schema_table *t, sqlite3_int64 rowid,
    struct lib_err *e)
{
	struct table *ti = sqlout_tinfo(t);

	if (!o->opts.scd2_retire_absent)
		return 0;
	if (ti->seen == NULL && (seen_table(o, e) == -1 ||
	    sqlout_prepare(o, "INSERT OR IGNORE INTO temp._sluice_seen"
	    " VALUES (?1, ?2)", &ti->seen, e) == -1))
		return -1;
	(void)sqlite3_bind_text(ti->seen, 1, t->name, (int)t->namelen,
	    SQLITE_STATIC);
	(void)sqlite3_bind_int64(ti->seen, 2, rowid);
	return sqlout_step(o, ti->seen, "note a row as seen", e);
}

/* The version at rowid ends with this load. */
static int
retire_rowid(struct sqlout *o, struct schema_table *t, sqlite3_int64 rowid,
    struct lib_err *e)
{
	struct table *ti = sqlout_tinfo(t);

	if (ti->retire == NULL) {
		jbuf_reset(&o->sql);
		jbuf_puts(&o->sql, "UPDATE ");
		sqlout_ident(&o->sql, t->name, t->namelen);
		jbuf_puts(&o->sql, " SET _sluice_valid_to = ?1 WHERE rowid = ?2");
		if (sqlout_prepare(o, jbuf_cstr(&o->sql), &ti->retire, e) == -1)
			return -1;
	}
	(void)sqlite3_bind_text(ti->retire, 1, o->started_at, -1, SQLITE_STATIC);
	(void)sqlite3_bind_int64(ti->retire, 2, rowid);
	return sqlout_step(o, ti->retire, "retire the current version", e);
}

/*
 * An unchanged current version takes the record's _sluice_id, which its
 * new child rows name as their root and parent: without jsonl-normalize
 * -k, ids are new each load, and the children would be orphans.
 */
static int
relink_version(struct sqlout *o, struct schema_table *t, sqlite3_int64 rowid,
    struct lib_err *e)
{
	struct table *ti = sqlout_tinfo(t);
	const struct jval *id;
	long col;

	if ((col = schema_table_find(t, "_sluice_id", 10)) < 0 ||
	    (id = ti->vals[col]) == NULL || id->type != JV_STRING)
		return 0;
	if (ti->relink == NULL) {
		jbuf_reset(&o->sql);
		jbuf_puts(&o->sql, "UPDATE ");
		sqlout_ident(&o->sql, t->name, t->namelen);
		jbuf_puts(&o->sql, " SET _sluice_id = ?1 WHERE rowid = ?2"
		    " AND _sluice_id IS NOT ?1");
		if (sqlout_prepare(o, jbuf_cstr(&o->sql), &ti->relink, e) == -1)
			return -1;
	}
	(void)sqlite3_bind_text(ti->relink, 1, id->str, (int)id->len,
	    SQLITE_STATIC);
	(void)sqlite3_bind_int64(ti->relink, 2, rowid);
	return sqlout_step(o, ti->relink, "relink the current version", e);
}

/*
 * The rowid of the current version of the key in ti->vals, or 0; with
 * same, whether its row hash is ti->hash_text.
 */
static int
current_version(struct sqlout *o, struct schema_table *t,
    sqlite3_int64 *rowid, int *same, struct lib_err *e)
{
	struct table *ti = sqlout_tinfo(t);
	int rc;

	*rowid = 0;
	if (keyed_stmt(o, t, &ti->current, "SELECT rowid, _sluice_row_hash FROM ",
	    " AND _sluice_valid_to IS NULL", e) == -1 ||
	    sqlout_bind_row(o, t, ti->current, e) == -1)
		return -1;
	if ((rc = sqlite3_step(ti->current)) == SQLITE_ROW) {
		*rowid = sqlite3_column_int64(ti->current, 0);
		if (same != NULL)
			*same = sqlite3_column_type(ti->current, 1) == SQLITE_TEXT &&
			    strcmp((const char *)sqlite3_column_text(ti->current,
			    1), ti->hash_text) == 0;
	}
	(void)sqlite3_reset(ti->current);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sqlout_fail(o, rc, "find the current version", e);
	return 0;
}

int
sqlmerge_delete(struct sqlout *o, struct schema_table *t, struct lib_err *e)
{
	struct table *ti = sqlout_tinfo(t);
	sqlite3_int64 rowid;

	if (ti->scd2) {
		/*
		 * The key's current version ends; its history stays, and its
		 * child rows go: they are the current version's.
		 */
		if (sqlmerge_replace_children(o, t, e) == -1 ||
		    current_version(o, t, &rowid, NULL, e) == -1)
			return -1;
		if (rowid == 0)
			return 0;
		if (retire_rowid(o, t, rowid, e) == -1)
			return -1;
		ti->deleted++;
		return 0;
	}
	if (sqlmerge_replace_children(o, t, e) == -1 ||
	    keyed_stmt(o, t, &ti->del_key, "DELETE FROM ", "", e) == -1 ||
	    sqlout_bind_row(o, t, ti->del_key, e) == -1 ||
	    sqlout_step(o, ti->del_key, "delete", e) == -1)
		return -1;
	ti->deleted += (unsigned long)sqlite3_changes(o->db);
	return 0;
}

int
sqlmerge_scd2_columns(struct sqlout *o, struct schema_table *t,
    struct lib_err *e)
{
	struct table *ti = sqlout_tinfo(t);
	size_t i;
	long col;

	ti->scd2_known = 1;
	if (o->opts.mode != SQLOUT_SCD2)
		return ti->scd2 = 0;
	/* Child tables follow their root's current version: merged. */
	if (schema_table_find(t, "_sluice_parent_id", 17) >= 0)
		return ti->scd2 = 0;
	for (i = 0; i < 3; i++) {
		if ((col = schema_table_find(t, scd2_names[i],
		    strlen(scd2_names[i]))) < 0) {
			if ((col = schema_table_add(t, scd2_names[i],
			    strlen(scd2_names[i]), i < 2 ? ST_TIMESTAMP : ST_TEXT,
			    1, e)) < 0)
				return -1;
			t->version++;
		}
		ti->scd2_cols[i] = col;
	}
	/* The load's time: when its versions begin and end. */
	memset(&ti->scd2_vals[0], 0, sizeof(ti->scd2_vals[0]));
	ti->scd2_vals[0].type = JV_STRING;
	ti->scd2_vals[0].str = o->started_at;
	ti->scd2_vals[0].len = strlen(o->started_at);
	return ti->scd2 = 1;
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

/* A 128-bit hash of the record's data, jval_write_canonical(). */
static void
row_hash(struct sqlout *o, struct table *ti, const struct jval *record)
{
	jbuf_reset(&o->tmp);
	jval_write_canonical(&o->tmp, record, 1);
	hash_hex(&o->tmp, ti->hash_text);
	memset(&ti->scd2_vals[1], 0, sizeof(ti->scd2_vals[1]));
	ti->scd2_vals[1].type = JV_STRING;
	ti->scd2_vals[1].str = ti->hash_text;
	ti->scd2_vals[1].len = 32;
}

void
sqlmerge_group_hash(struct sqlout *o, const struct held_record *h, size_t n,
    struct jbuf *out)
{
	char hex[33];
	size_t i;

	jbuf_reset(&o->tmp);
	for (i = 0; i < n; i++) {
		jbuf_put(&o->tmp, h[i].t->name, h[i].t->namelen);
		jbuf_putc(&o->tmp, '\t');
		jval_write_canonical(&o->tmp, h[i].record, 1);
		/* A Singer version is stored with the row: part of it. */
		if (h[i].version != NULL) {
			jbuf_putc(&o->tmp, '\t');
			jval_write(&o->tmp, h[i].version);
		}
		jbuf_putc(&o->tmp, '\n');
	}
	hash_hex(&o->tmp, hex);
	jbuf_reset(out);
	jbuf_puts(out, hex);
}

int
sqlmerge_scd2_write(struct sqlout *o, struct schema_table *t,
    const struct jval *record, struct lib_err *e)
{
	struct table *ti = sqlout_tinfo(t);
	sqlite3_int64 rowid;
	int same = 0;

	row_hash(o, ti, record);
	ti->vals[ti->scd2_cols[0]] = &ti->scd2_vals[0];
	ti->vals[ti->scd2_cols[1]] = NULL;
	ti->vals[ti->scd2_cols[2]] = &ti->scd2_vals[1];
	if (current_version(o, t, &rowid, &same, e) == -1)
		return -1;
	if (same) {
		/*
		 * The root is the same, but a list of it may not be (the
		 * normalizer moved it out): its children are the new ones.
		 */
		if (sqlmerge_replace_children(o, t, e) == -1 ||
		    relink_version(o, t, rowid, e) == -1)
			return -1;
		return seen(o, t, rowid, e);
	}
	if (rowid != 0) {
		/* A change: the current version ends, the new one begins. */
		if (retire_rowid(o, t, rowid, e) == -1 ||
		    sqlmerge_replace_children(o, t, e) == -1)
			return -1;
		ti->updated++;
	}
	if (sqlout_bind_row(o, t, ti->insert, e) == -1 ||
	    sqlout_step(o, ti->insert, "insert", e) == -1)
		return -1;
	ti->inserted++;
	return seen(o, t, sqlite3_last_insert_rowid(o->db), e);
}

/* The child rows of the current versions about to be retired as absent. */
static int
absent_children(struct sqlout *o, struct schema_table *t, struct lib_err *e)
{
	struct table *ti = sqlout_tinfo(t);
	struct schema_table *c;
	sqlite3_stmt *st;
	size_t i;
	int rc;

	if (schema_table_find(t, "_sluice_id", 10) < 0)
		return 0;
	if (ti->children_gen != o->ddl_gen && find_children(o, t, e) == -1)
		return -1;
	for (i = 0; i < ti->nchildren; i++) {
		c = o->set.tables[ti->children[i]];
		jbuf_reset(&o->sql);
		jbuf_puts(&o->sql, "DELETE FROM ");
		sqlout_ident(&o->sql, c->name, c->namelen);
		jbuf_puts(&o->sql, " WHERE _sluice_root_id IN (SELECT _sluice_id"
		    " FROM ");
		sqlout_ident(&o->sql, t->name, t->namelen);
		jbuf_puts(&o->sql, " WHERE _sluice_valid_to IS NULL AND rowid NOT IN"
		    " (SELECT rid FROM temp._sluice_seen WHERE tbl = ?1))");
		if (sqlout_prepare(o, jbuf_cstr(&o->sql), &st, e) == -1)
			return -1;
		(void)sqlite3_bind_text(st, 1, t->name, (int)t->namelen,
		    SQLITE_STATIC);
		rc = sqlite3_step(st);
		(void)sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return sqlout_fail(o, rc, "delete child rows", e);
		sqlout_tinfo(c)->deleted += (unsigned long)sqlite3_changes(o->db);
	}
	return 0;
}

int
sqlmerge_scd2_retire_absent(struct sqlout *o, struct lib_err *e)
{
	sqlite3_stmt *st;
	size_t i;
	int rc;

	if (!o->opts.scd2_retire_absent)
		return 0;
	for (i = 0; i < o->set.n; i++) {
		struct schema_table *t = o->set.tables[i];
		struct table *ti = sqlout_tinfo(t);

		if (!ti->scd2 || !ti->exists)
			continue;
		/* A full snapshot: a key it does not hold is gone. */
		if (seen_table(o, e) == -1)
			return -1;
		if (absent_children(o, t, e) == -1)
			return -1;
		jbuf_reset(&o->sql);
		jbuf_puts(&o->sql, "UPDATE ");
		sqlout_ident(&o->sql, t->name, t->namelen);
		jbuf_puts(&o->sql, " SET _sluice_valid_to = ?1 WHERE"
		    " _sluice_valid_to IS NULL AND rowid NOT IN"
		    " (SELECT rid FROM temp._sluice_seen WHERE tbl = ?2)");
		if (sqlout_prepare(o, jbuf_cstr(&o->sql), &st, e) == -1)
			return -1;
		(void)sqlite3_bind_text(st, 1, o->started_at, -1, SQLITE_STATIC);
		(void)sqlite3_bind_text(st, 2, t->name, (int)t->namelen,
		    SQLITE_STATIC);
		rc = sqlite3_step(st);
		(void)sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return sqlout_fail(o, rc, "retire absent keys", e);
		ti->deleted += (unsigned long)sqlite3_changes(o->db);
	}
	return 0;
}

void
sqlmerge_finalize(struct table *ti)
{
	(void)sqlite3_finalize(ti->del_key);
	(void)sqlite3_finalize(ti->current);
	(void)sqlite3_finalize(ti->retire);
	(void)sqlite3_finalize(ti->seen);
	(void)sqlite3_finalize(ti->relink);
	ti->del_key = ti->current = ti->retire = ti->seen = ti->relink = NULL;
}
