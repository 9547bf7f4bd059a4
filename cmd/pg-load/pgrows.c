/*
 * pg-load's rows: each table's rows are sent as COPY text a buffer at a
 * time, into the table itself (append, replace) or into a staging table
 * (merge), whose rows are then applied by set operations: the last row
 * of each key wins; a root row whose stored hash is the same is left
 * alone with its child rows; a changed root's stored child rows go; the
 * rest are inserted or update their key's row (INSERT ... ON CONFLICT).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "exitcodes.h"
#include "pgout_int.h"
#include "xalloc.h"

/* Sent when a table's buffer holds this much. */
#define COPY_BYTES	((size_t)1 << 20)
/* One COPY ends after this many rows: their input lines are kept till then. */
#define COPY_ROWS	100000

/* The staging table's own columns, after the table's. */
static const char stage_cols[] =
    "_sluice_stage_seq, _sluice_stage_group, _sluice_stage_tomb";

struct pgout_table *
pgout_rows(struct schema_table *t)
{
	struct load_table *ti = load_tinfo(t);

	if (ti->dd == NULL)
		ti->dd = xalloc_calloc(1, sizeof(struct pgout_table));
	return ti->dd;
}

void
pgrows_free(struct pgout_table *r)
{
	if (r == NULL)
		return;
	jbuf_free(&r->copy);
	free(r->files);
	free(r->lines);
	free(r);
}

/* One value as COPY text: \N, or its text with \, tab, CR, LF escaped. */
static int
copy_text(struct jbuf *b, const char *s, size_t n, struct lib_err *e)
{
	size_t i, from = 0;
	const char *esc;

	for (i = 0; i < n; i++) {
		switch (s[i]) {
		case '\0':
			/* What was written of the row is taken back (row_text). */
			return liberr_set(e, EX_DATAERR, "a string contains "
			    "U+0000, which PostgreSQL's text cannot hold");
		case '\\':
			esc = "\\\\";
			break;
		case '\t':
			esc = "\\t";
			break;
		case '\n':
			esc = "\\n";
			break;
		case '\r':
			esc = "\\r";
			break;
		default:
			continue;
		}
		jbuf_put(b, s + from, i - from);
		jbuf_puts(b, esc);
		from = i + 1;
	}
	jbuf_put(b, s + from, n - from);
	return 0;
}

static int
copy_value(struct loader *l, struct jbuf *b, const struct jval *v,
    enum stype type, struct lib_err *e)
{
	if (v == NULL || v->type == JV_NULL) {
		jbuf_puts(b, "\\N");
		return 0;
	}
	switch (v->type) {
	case JV_TRUE:
	case JV_FALSE:
		if (type == ST_BOOL)
			jbuf_putc(b, v->type == JV_TRUE ? 't' : 'f');
		else
			jbuf_puts(b, v->type == JV_TRUE ? "true" : "false");
		return 0;
	case JV_NUMBER:
	case JV_STRING:
		return copy_text(b, v->str, v->len, e);
	default:
		jbuf_reset(&l->tmp);
		jval_write(&l->tmp, v);
		return copy_text(b, l->tmp.p, l->tmp.len, e);
	}
}

/* The columns of t, quoted, comma-separated, prefixed (an alias.). */
static void
column_list(struct jbuf *b, const struct schema_table *t, size_t ncols,
    const char *prefix)
{
	size_t i;

	for (i = 0; i < ncols; i++) {
		if (i > 0)
			jbuf_putc(b, ',');
		jbuf_puts(b, prefix);
		load_ident(b, t->cols[i].name, t->cols[i].namelen);
	}
}

/* The COPY error's row, back to the input line it came from. */
static void
copy_error_origin(struct loader *l, const struct pgout_table *r,
    PGresult *res)
{
	const char *ctx = PQresultErrorField(res, PG_DIAG_CONTEXT);
	const char *at;
	unsigned long n;

	if (ctx == NULL || (at = strstr(ctx, ", line ")) == NULL)
		return;
	n = strtoul(at + 7, NULL, 10);
	if (n >= 1 && n <= r->nsent && r->files[n - 1] != NULL) {
		l->err_file = r->files[n - 1];
		l->err_lineno = r->lines[n - 1];
	}
}

int
pgrows_copy_end(struct loader *l, struct lib_err *e)
{
	struct pgout *c = pgout_conn(l);
	struct pgout_table *r;
	PGresult *res;
	int ret = 0;

	if (c->copying == NULL)
		return 0;
	r = pgout_rows(c->copying);
	if (PQputCopyEnd(c->pg, NULL) != 1)
		ret = pgout_fail(l, NULL, "copy", e);
	while ((res = PQgetResult(c->pg)) != NULL) {
		if (PQresultStatus(res) != PGRES_COMMAND_OK && ret == 0) {
			copy_error_origin(l, r, res);
			ret = pgout_fail(l, res, c->copying->name, e);
		}
		PQclear(res);
	}
	/* The rows buffered since keep their places, first now. */
	memmove(r->files, r->files + r->nsent, r->nrows * sizeof(*r->files));
	memmove(r->lines, r->lines + r->nsent, r->nrows * sizeof(*r->lines));
	r->nsent = 0;
	c->copying = NULL;
	c->copy_rows = 0;
	return ret;
}

/* COPY into t's table, or its staging table, begins. */
static int
copy_begin(struct loader *l, struct schema_table *t, struct lib_err *e)
{
	struct pgout *c = pgout_conn(l);
	struct pgout_table *r = pgout_rows(t);
	PGresult *res;
	int ret = 0;

	jbuf_reset(&l->sql);
	jbuf_puts(&l->sql, "COPY ");
	if (r->staged)
		load_ident(&l->sql, r->stage, strlen(r->stage));
	else
		pgout_qname(l, &l->sql, t->name, t->namelen);
	jbuf_puts(&l->sql, " (");
	column_list(&l->sql, t, r->ncols, "");
	if (r->staged) {
		jbuf_putc(&l->sql, ',');
		jbuf_puts(&l->sql, stage_cols);
	}
	jbuf_puts(&l->sql, ") FROM STDIN");
	res = PQexec(c->pg, jbuf_cstr(&l->sql));
	if (PQresultStatus(res) != PGRES_COPY_IN)
		ret = pgout_fail(l, res, "copy", e);
	else {
		c->copying = t;
		c->copy_staged = r->staged;
		c->copy_ncols = r->ncols;
	}
	PQclear(res);
	return ret;
}

/*
 * The table's buffered rows sent.  The COPY stays open for the next
 * buffer of the same table, so that the server takes in rows while the
 * next ones are made; it ends before any other statement, another
 * table's rows, or COPY_ROWS rows (the input lines of its rows are kept
 * until then, to say where a row it refuses came from).
 */
int
pgrows_send(struct loader *l, struct schema_table *t, struct lib_err *e)
{
	struct pgout *c = pgout_conn(l);
	struct pgout_table *r = pgout_rows(t);
	int ret;

	if (r->nrows == 0)
		return 0;
	if ((c->copying != t || c->copy_staged != r->staged ||
	    c->copy_ncols != r->ncols) && (pgrows_copy_end(l, e) == -1 ||
	    copy_begin(l, t, e) == -1)) {
		ret = -1;
		goto out;
	}
	if (PQputCopyData(c->pg, r->copy.p, (int)r->copy.len) != 1) {
		ret = pgout_fail(l, NULL, "copy", e);
		goto out;
	}
	r->nsent += r->nrows;
	c->copy_rows += r->nrows;
	if (r->staged)
		r->pending = 1;
	r->nrows = 0;
	jbuf_reset(&r->copy);
	/* A record in its savepoint fails as itself. */
	if (c->copy_rows >= COPY_ROWS || c->flush_each)
		return pgrows_copy_end(l, e);
	return 0;
out:
	jbuf_reset(&r->copy);
	r->nrows = 0;
	return ret;
}

/* Every table's buffered rows sent. */
static int
copy_all(struct loader *l, struct lib_err *e)
{
	size_t i;

	for (i = 0; i < l->set.n; i++)
		if (load_tinfo(l->set.tables[i])->dd != NULL &&
		    pgrows_send(l, l->set.tables[i], e) == -1)
			return -1;
	return pgrows_copy_end(l, e);
}

/* The staging table of t, made like it on first use. */
static int
make_stage(struct loader *l, struct schema_table *t, struct lib_err *e)
{
	struct pgout *c = pgout_conn(l);
	struct pgout_table *r = pgout_rows(t);

	if (r->stage_made)
		return 0;
	(void)snprintf(r->stage, sizeof(r->stage), "_sluice_stage_%lu",
	    ++c->nstages);
	jbuf_reset(&l->sql);
	jbuf_puts(&l->sql, "CREATE TEMP TABLE ");
	load_ident(&l->sql, r->stage, strlen(r->stage));
	jbuf_puts(&l->sql, " (LIKE ");
	pgout_qname(l, &l->sql, t->name, t->namelen);
	jbuf_puts(&l->sql, ", _sluice_stage_seq bigint, _sluice_stage_group"
	    " bigint, _sluice_stage_tomb boolean)"
	    " ON COMMIT DROP");
	if (pgout_command(l, jbuf_cstr(&l->sql), 0, NULL, "make a staging "
	    "table", e) == -1)
		return -1;
	r->stage_made = 1;
	r->stage_in_sp = c->in_savepoint;
	return 0;
}

/*
 * Room for one more row of t as it goes (staged or not) with the
 * table's columns now: rows buffered otherwise are sent first.
 */
static int
row_begin(struct loader *l, struct schema_table *t, int staged,
    struct lib_err *e)
{
	struct pgout_table *r = pgout_rows(t);

	if (r->nrows > 0 && (r->staged != staged || r->ncols != t->ncols) &&
	    pgrows_send(l, t, e) == -1)
		return -1;
	if (r->staged != staged && r->pending && pgrows_flush(l, e) == -1)
		return -1;
	r = pgout_rows(t);
	r->staged = staged;
	if (r->ncols != t->ncols) {
		r->ncols = t->ncols;
		r->root = load_is_root(t);
		r->child = schema_table_find(t, "_sluice_root_id", 15) >= 0;
	}
	if (staged && make_stage(l, t, e) == -1)
		return -1;
	if (r->nsent + r->nrows == r->linecap) {
		r->linecap = r->linecap ? r->linecap * 2 : 256;
		r->files = xalloc_realloc(r->files, r->linecap,
		    sizeof(*r->files));
		r->lines = xalloc_realloc(r->lines, r->linecap,
		    sizeof(*r->lines));
	}
	r->files[r->nsent + r->nrows] = l->file;
	r->lines[r->nsent + r->nrows] = l->lineno;
	return 0;
}

/* The row in ti->vals, its columns (keys only: a tombstone) as text. */
static int
row_text(struct loader *l, struct schema_table *t, int keys_only,
    struct lib_err *e)
{
	struct load_table *ti = load_tinfo(t);
	struct pgout_table *r = pgout_rows(t);
	size_t mark = r->copy.len, i;

	for (i = 0; i < t->ncols; i++) {
		if (i > 0)
			jbuf_putc(&r->copy, '\t');
		if (copy_value(l, &r->copy, keys_only && !load_is_key(t, i) ?
		    NULL : ti->vals[i], t->cols[i].type, e) == -1) {
			r->copy.len = mark;
			return liberr_prefix(e, "stream %s: column %s",
			    t->name, t->cols[i].name);
		}
	}
	return 0;
}

/* The row ends; a full buffer (or a record in its savepoint) is sent. */
static int
row_end(struct loader *l, struct schema_table *t, struct lib_err *e)
{
	struct pgout_table *r = pgout_rows(t);

	jbuf_putc(&r->copy, '\n');
	r->nrows++;
	if (r->copy.len >= COPY_BYTES || pgout_conn(l)->flush_each)
		return pgrows_send(l, t, e);
	return 0;
}

int
pgrows_insert(struct loader *l, struct schema_table *t, struct lib_err *e)
{
	if (row_begin(l, t, 0, e) == -1 || row_text(l, t, 0, e) == -1)
		return -1;
	load_tinfo(t)->inserted++;
	return row_end(l, t, e);
}

/* A staged row: the table's columns, its place, its group, a tombstone. */
static int
stage_row(struct loader *l, struct schema_table *t, int tomb,
    struct lib_err *e)
{
	struct pgout *c = pgout_conn(l);
	struct pgout_table *r;
	char tail[64];
	unsigned long seq;

	if (row_begin(l, t, 1, e) == -1 || row_text(l, t, tomb, e) == -1)
		return -1;
	r = pgout_rows(t);
	seq = ++c->seq;
	/* A root's rows own the child rows staged after it (its group). */
	if (r->root)
		c->group = seq;
	if (r->child && c->group > 0)
		(void)snprintf(tail, sizeof(tail), "\t%lu\t%lu\t%c", seq,
		    c->group, tomb ? 't' : 'f');
	else
		(void)snprintf(tail, sizeof(tail), "\t%lu\t%lu\t%c", seq, seq,
		    tomb ? 't' : 'f');
	jbuf_puts(&r->copy, tail);
	return row_end(l, t, e);
}

int
pgrows_upsert(struct loader *l, struct schema_table *t, struct lib_err *e)
{
	return stage_row(l, t, 0, e);
}

int
pgrows_delete_key(struct loader *l, struct schema_table *t, struct lib_err *e)
{
	return stage_row(l, t, 1, e);
}

/* a."k1" = b."k1" AND ... */
static void
keys_match(struct jbuf *b, const struct schema_table *t, const char *a,
    const char *bb)
{
	size_t k;

	for (k = 0; k < t->nkeys; k++) {
		if (k > 0)
			jbuf_puts(b, " AND ");
		jbuf_puts(b, a);
		load_ident(b, t->keys[k], strlen(t->keys[k]));
		jbuf_puts(b, " = ");
		jbuf_puts(b, bb);
		load_ident(b, t->keys[k], strlen(t->keys[k]));
	}
}

/* Run l->sql: the rows it changed into *n (if not NULL). */
static int
run(struct loader *l, const char *what, unsigned long *n, struct lib_err *e)
{
	return pgout_exec_count(l, 0, NULL, what, n, e);
}

/* The staging table's name, quoted, to l->sql. */
static void
stage_name(struct loader *l, struct schema_table *t)
{
	const char *name = pgout_rows(t)->stage;

	load_ident(&l->sql, name, strlen(name));
}

/*
 * Of the staged rows of one key, the last is the one that counts; a
 * root's groups left out are noted, for its child rows to follow.
 */
static int
keep_last(struct loader *l, struct schema_table *t, struct lib_err *e)
{
	int root = load_is_root(t);

	if (root && pgout_command(l, "CREATE TEMP TABLE IF NOT EXISTS"
	    " _sluice_groups (g bigint) ON COMMIT DROP", 0, NULL, NULL,
	    e) == -1)
		return -1;
	jbuf_reset(&l->sql);
	if (root)
		jbuf_puts(&l->sql, "WITH d AS (");
	jbuf_puts(&l->sql, "DELETE FROM ");
	stage_name(l, t);
	jbuf_puts(&l->sql, " a USING ");
	stage_name(l, t);
	jbuf_puts(&l->sql, " b WHERE ");
	keys_match(&l->sql, t, "a.", "b.");
	jbuf_puts(&l->sql, " AND a._sluice_stage_seq < b._sluice_stage_seq");
	if (root)
		jbuf_puts(&l->sql, " RETURNING a._sluice_stage_group) INSERT"
		    " INTO pg_temp._sluice_groups SELECT _sluice_stage_group"
		    " FROM d");
	return run(l, "merge: the last row of each key", NULL, e);
}


/* Tombstones delete their key's row; the others insert or update. */
static int
apply(struct loader *l, struct schema_table *t, struct lib_err *e)
{
	struct load_table *ti = load_tinfo(t);
	PGresult *res;
	unsigned long n;
	size_t i, k, set = 0;

	jbuf_reset(&l->sql);
	jbuf_puts(&l->sql, "DELETE FROM ");
	pgout_qname(l, &l->sql, t->name, t->namelen);
	jbuf_puts(&l->sql, " t USING ");
	stage_name(l, t);
	jbuf_puts(&l->sql, " s WHERE ");
	keys_match(&l->sql, t, "t.", "s.");
	jbuf_puts(&l->sql, " AND s._sluice_stage_tomb");
	if (run(l, "merge: tombstones", &n, e) == -1)
		return -1;
	ti->deleted += n;

	jbuf_reset(&l->sql);
	jbuf_puts(&l->sql, "WITH u AS (INSERT INTO ");
	pgout_qname(l, &l->sql, t->name, t->namelen);
	jbuf_puts(&l->sql, " AS t (");
	column_list(&l->sql, t, ti->ncols_db, "");
	jbuf_puts(&l->sql, ") SELECT ");
	column_list(&l->sql, t, ti->ncols_db, "");
	jbuf_puts(&l->sql, " FROM ");
	stage_name(l, t);
	jbuf_puts(&l->sql, " WHERE NOT _sluice_stage_tomb ON CONFLICT (");
	for (k = 0; k < t->nkeys; k++) {
		if (k > 0)
			jbuf_putc(&l->sql, ',');
		load_ident(&l->sql, t->keys[k], strlen(t->keys[k]));
	}
	/*
	 * The whole row is replaced, as a Singer target's upsert does; a
	 * table of keys alone sets them again, so that the row counts as
	 * updated.
	 */
	jbuf_puts(&l->sql, ") DO UPDATE SET ");
	for (i = 0; i < ti->ncols_db; i++) {
		if (load_is_key(t, i) && ti->ncols_db > t->nkeys)
			continue;
		if (set++ > 0)
			jbuf_putc(&l->sql, ',');
		load_ident(&l->sql, t->cols[i].name, t->cols[i].namelen);
		jbuf_puts(&l->sql, " = EXCLUDED.");
		load_ident(&l->sql, t->cols[i].name, t->cols[i].namelen);
	}
	jbuf_puts(&l->sql, " RETURNING (t.xmax = 0) AS inserted)"
	    " SELECT count(*) FILTER (WHERE inserted),"
	    " count(*) FILTER (WHERE NOT inserted) FROM u");
	if ((res = pgout_exec(l, jbuf_cstr(&l->sql), 0, NULL, t->name, e)) ==
	    NULL)
		return -1;
	ti->inserted += strtoul(PQgetvalue(res, 0, 0), NULL, 10);
	ti->updated += strtoul(PQgetvalue(res, 0, 1), NULL, 10);
	PQclear(res);

	jbuf_reset(&l->sql);
	jbuf_puts(&l->sql, "TRUNCATE ");
	stage_name(l, t);
	pgout_rows(t)->pending = 0;
	return run(l, "merge: empty the staging table", NULL, e);
}

/*
 * The staged rows of root's child tables whose root row was left out
 * (an earlier row of its key, or one unchanged): the groups noted in
 * _sluice_groups; counted as unchanged when their root was.
 */
static int
drop_child_groups(struct loader *l, struct schema_table *root, int unchanged,
    struct lib_err *e)
{
	struct load_table *ti = load_tinfo(root);
	struct pgout_table *r;
	unsigned long n;
	size_t i;

	for (i = 0; i < ti->nchildren; i++) {
		struct schema_table *c = l->set.tables[ti->children[i]];

		if ((r = load_tinfo(c)->dd) == NULL || !r->pending)
			continue;
		jbuf_reset(&l->sql);
		jbuf_puts(&l->sql, "DELETE FROM ");
		stage_name(l, c);
		jbuf_puts(&l->sql, " WHERE _sluice_stage_group IN (SELECT g FROM"
		    " pg_temp._sluice_groups)");
		if (run(l, "merge: child rows of rows left out", &n, e) == -1)
			return -1;
		if (unchanged)
			load_tinfo(c)->unchanged += n;
	}
	return pgout_command(l, "TRUNCATE pg_temp._sluice_groups", 0, NULL,
	    NULL, e);
}

/*
 * Staged rows whose stored row has the same hash are left alone: out of
 * the staging table (a root's groups noted for its child rows).
 */
static int
drop_unchanged(struct loader *l, struct schema_table *t, int root,
    struct lib_err *e)
{
	unsigned long n;

	jbuf_reset(&l->sql);
	if (root)
		jbuf_puts(&l->sql, "WITH d AS (");
	jbuf_puts(&l->sql, "DELETE FROM ");
	stage_name(l, t);
	jbuf_puts(&l->sql, " s USING ");
	pgout_qname(l, &l->sql, t->name, t->namelen);
	jbuf_puts(&l->sql, " t WHERE ");
	keys_match(&l->sql, t, "t.", "s.");
	jbuf_puts(&l->sql, " AND NOT s._sluice_stage_tomb AND"
	    " t._sluice_row_hash = s._sluice_row_hash");
	if (root)
		jbuf_puts(&l->sql, " RETURNING s._sluice_stage_group) INSERT"
		    " INTO pg_temp._sluice_groups SELECT _sluice_stage_group"
		    " FROM d");
	if (run(l, "merge: unchanged rows", &n, e) == -1)
		return -1;
	load_tinfo(t)->unchanged += n;
	return root ? drop_child_groups(l, t, 1, e) : 0;
}

/* --scd2-retire-absent: the current versions this load saw, by ctid. */
static int
seen_table(struct loader *l, struct lib_err *e)
{
	return pgout_command(l, "CREATE TEMP TABLE IF NOT EXISTS _sluice_seen"
	    " (tbl text, tid tid) ON COMMIT DROP", 0, NULL, NULL, e);
}

/* " INSERT INTO pg_temp._sluice_seen SELECT 't', tid FROM d" */
static void
note_seen(struct loader *l, const struct schema_table *t)
{
	size_t i;

	jbuf_puts(&l->sql, " INSERT INTO pg_temp._sluice_seen SELECT ");
	/* The name as a string literal: '' for '. */
	jbuf_putc(&l->sql, '\'');
	for (i = 0; i < t->namelen; i++) {
		if (t->name[i] == '\'')
			jbuf_putc(&l->sql, '\'');
		jbuf_putc(&l->sql, t->name[i]);
	}
	jbuf_puts(&l->sql, "', tid FROM d");
}

/*
 * SCD2, as sqlite-load keeps versions: a staged row whose key's current
 * version has its hash leaves that version current (it takes the row's
 * _sluice_id, which the new child rows name); the other keys' current
 * versions end now (a tombstone's: deleted), and the new rows begin.
 */
static int
apply_scd2(struct loader *l, struct schema_table *t, struct lib_err *e)
{
	struct load_table *ti = load_tinfo(t);
	const char *params[1];
	PGresult *res;
	unsigned long n;
	int absent = l->opts.scd2_retire_absent;
	int relink = schema_table_find(t, "_sluice_id", 10) >= 0;

	if (absent && seen_table(l, e) == -1)
		return -1;
	jbuf_reset(&l->sql);
	jbuf_puts(&l->sql, "WITH s AS (DELETE FROM ");
	stage_name(l, t);
	jbuf_puts(&l->sql, " s USING ");
	pgout_qname(l, &l->sql, t->name, t->namelen);
	jbuf_puts(&l->sql, " t WHERE ");
	keys_match(&l->sql, t, "t.", "s.");
	jbuf_puts(&l->sql, " AND t._sluice_valid_to IS NULL AND NOT"
	    " s._sluice_stage_tomb AND t._sluice_row_hash = s._sluice_row_hash"
	    " RETURNING t.ctid AS tid");
	jbuf_puts(&l->sql, relink ? ", s._sluice_id AS id), d AS (UPDATE " :
	    ") SELECT count(*) FROM s");
	if (relink) {
		pgout_qname(l, &l->sql, t->name, t->namelen);
		jbuf_puts(&l->sql, " t SET _sluice_id = s.id FROM s WHERE t.ctid ="
		    " s.tid RETURNING t.ctid AS tid)");
		if (absent)
			note_seen(l, t);
		else
			jbuf_puts(&l->sql, " SELECT count(*) FROM d");
	} else if (absent) {
		/* ") SELECT count(*) FROM s" becomes the note of what was seen. */
		l->sql.len -= strlen(" SELECT count(*) FROM s");
		jbuf_puts(&l->sql, ", d AS (SELECT tid FROM s)");
		note_seen(l, t);
	}
	if (run(l, "scd2: unchanged versions", NULL, e) == -1)
		return -1;

	params[0] = l->started_at;
	jbuf_reset(&l->sql);
	jbuf_puts(&l->sql, "WITH r AS (UPDATE ");
	pgout_qname(l, &l->sql, t->name, t->namelen);
	jbuf_puts(&l->sql, " t SET _sluice_valid_to = $1::timestamptz FROM ");
	stage_name(l, t);
	jbuf_puts(&l->sql, " s WHERE ");
	keys_match(&l->sql, t, "t.", "s.");
	jbuf_puts(&l->sql, " AND t._sluice_valid_to IS NULL RETURNING"
	    " s._sluice_stage_tomb AS tomb) SELECT count(*) FILTER (WHERE tomb),"
	    " count(*) FILTER (WHERE NOT tomb) FROM r");
	if ((res = pgout_exec(l, jbuf_cstr(&l->sql), 1, params,
	    "scd2: retire versions", e)) == NULL)
		return -1;
	ti->deleted += strtoul(PQgetvalue(res, 0, 0), NULL, 10);
	ti->updated += strtoul(PQgetvalue(res, 0, 1), NULL, 10);
	PQclear(res);

	jbuf_reset(&l->sql);
	if (absent)
		jbuf_puts(&l->sql, "WITH d AS (");
	jbuf_puts(&l->sql, "INSERT INTO ");
	pgout_qname(l, &l->sql, t->name, t->namelen);
	jbuf_puts(&l->sql, " (");
	column_list(&l->sql, t, ti->ncols_db, "");
	jbuf_puts(&l->sql, ") SELECT ");
	column_list(&l->sql, t, ti->ncols_db, "");
	jbuf_puts(&l->sql, " FROM ");
	stage_name(l, t);
	jbuf_puts(&l->sql, " WHERE NOT _sluice_stage_tomb");
	if (absent) {
		jbuf_puts(&l->sql, " RETURNING ctid AS tid)");
		note_seen(l, t);
	}
	if (run(l, "scd2: new versions", &n, e) == -1)
		return -1;
	ti->inserted += n;

	jbuf_reset(&l->sql);
	jbuf_puts(&l->sql, "TRUNCATE ");
	stage_name(l, t);
	pgout_rows(t)->pending = 0;
	return run(l, "scd2: empty the staging table", NULL, e);
}

int
pgrows_scd2_retire_absent(struct loader *l, struct lib_err *e)
{
	const char *params[2];
	struct schema_table *t, *c;
	struct load_table *ti;
	unsigned long n;
	size_t i, k;

	if (!l->opts.scd2_retire_absent)
		return 0;
	for (i = 0; i < l->set.n; i++) {
		t = l->set.tables[i];
		ti = load_tinfo(t);
		if (!ti->scd2 || !ti->exists)
			continue;
		/* A full snapshot: a key it does not hold is gone. */
		if (seen_table(l, e) == -1 ||
		    (load_is_root(t) && load_find_children(l, t, e) == -1))
			return -1;
		jbuf_reset(&l->tmp);
		jbuf_put(&l->tmp, t->name, t->namelen);
		params[0] = l->started_at;
		params[1] = jbuf_cstr(&l->tmp);
		for (k = 0; load_is_root(t) && k < ti->nchildren; k++) {
			c = l->set.tables[ti->children[k]];
			jbuf_reset(&l->sql);
			jbuf_puts(&l->sql, "DELETE FROM ");
			pgout_qname(l, &l->sql, c->name, c->namelen);
			jbuf_puts(&l->sql, " c USING ");
			pgout_qname(l, &l->sql, t->name, t->namelen);
			jbuf_puts(&l->sql, " t WHERE c._sluice_root_id = t._sluice_id"
			    " AND t._sluice_valid_to IS NULL AND t.ctid NOT IN"
			    " (SELECT tid FROM pg_temp._sluice_seen WHERE tbl = $1)");
			/* The table's name alone: params[1]. */
			if (pgout_exec_count(l, 1, params + 1,
			    "scd2: retire absent keys", &n, e) == -1)
				return -1;
			load_tinfo(c)->deleted += n;
		}
		jbuf_reset(&l->sql);
		jbuf_puts(&l->sql, "UPDATE ");
		pgout_qname(l, &l->sql, t->name, t->namelen);
		jbuf_puts(&l->sql, " SET _sluice_valid_to = $1::timestamptz WHERE"
		    " _sluice_valid_to IS NULL AND ctid NOT IN (SELECT tid FROM"
		    " pg_temp._sluice_seen WHERE tbl = $2)");
		if (pgout_exec_count(l, 2, params, "scd2: retire absent keys",
		    &n, e) == -1)
			return -1;
		ti->deleted += n;
	}
	return 0;
}

/*
 * A table of hashed rows (a merged stream's) or of root rows: the last
 * row of each key; those whose stored row has the same hash left alone,
 * with their child rows; the stored child rows of the others deleted;
 * then its rows (its children's follow in pgrows_flush).
 */
static int
apply_root(struct loader *l, struct schema_table *t, struct lib_err *e)
{
	struct load_table *ti = load_tinfo(t);
	struct schema_table *c;
	unsigned long n;
	size_t i;
	int root = load_is_root(t);

	if (keep_last(l, t, e) == -1)
		return -1;
	if (root && (load_find_children(l, t, e) == -1 ||
	    drop_child_groups(l, t, 0, e) == -1))
		return -1;
	if (!ti->scd2 && schema_table_find(t, "_sluice_row_hash", 16) >= 0 &&
	    drop_unchanged(l, t, root, e) == -1)
		return -1;
	/* The stored children of the rows about to change or go. */
	for (i = 0; i < ti->nchildren; i++) {
		c = l->set.tables[ti->children[i]];
		jbuf_reset(&l->sql);
		jbuf_puts(&l->sql, "DELETE FROM ");
		pgout_qname(l, &l->sql, c->name, c->namelen);
		jbuf_puts(&l->sql, " c USING ");
		pgout_qname(l, &l->sql, t->name, t->namelen);
		jbuf_puts(&l->sql, " t, ");
		stage_name(l, t);
		jbuf_puts(&l->sql, " s WHERE ");
		keys_match(&l->sql, t, "t.", "s.");
		jbuf_puts(&l->sql, " AND c._sluice_root_id = t._sluice_id");
		/* SCD2: the current version's; history has none. */
		if (ti->scd2)
			jbuf_puts(&l->sql, " AND t._sluice_valid_to IS NULL");
		if (run(l, "merge: stored child rows", &n, e) == -1)
			return -1;
		load_tinfo(c)->deleted += n;
	}
	return ti->scd2 ? apply_scd2(l, t, e) : apply(l, t, e);
}

int
pgrows_flush(struct loader *l, struct lib_err *e)
{
	struct pgout_table *r;
	size_t i;

	if (copy_all(l, e) == -1)
		return -1;
	/* Roots first: their children's stored rows go before new ones come. */
	for (i = 0; i < l->set.n; i++) {
		struct schema_table *t = l->set.tables[i];

		r = load_tinfo(t)->dd;
		if (r != NULL && r->pending && (load_is_root(t) ||
		    load_tinfo(t)->scd2 ||
		    schema_table_find(t, "_sluice_row_hash", 16) >= 0) &&
		    apply_root(l, t, e) == -1)
			return -1;
	}
	for (i = 0; i < l->set.n; i++) {
		struct schema_table *t = l->set.tables[i];

		r = load_tinfo(t)->dd;
		if (r != NULL && r->pending && (keep_last(l, t, e) == -1 ||
		    apply(l, t, e) == -1))
			return -1;
	}
	return 0;
}

void
pgrows_savepoint_end(struct loader *l, int rolled_back)
{
	struct pgout_table *r;
	size_t i;

	pgout_conn(l)->in_savepoint = 0;
	for (i = 0; i < l->set.n; i++) {
		if ((r = load_tinfo(l->set.tables[i])->dd) == NULL)
			continue;
		if (rolled_back) {
			/* Its rows are gone; a staging table it made too. */
			r->nsent = 0;
			if (r->stage_in_sp)
				r->stage_made = 0;
			r->pending = 0;
			jbuf_reset(&r->copy);
			r->nrows = 0;
		}
		r->stage_in_sp = 0;
	}
}
