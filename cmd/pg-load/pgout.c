/*
 * The PostgreSQL dialect: the loader core's operations (lib/load_int.h)
 * as PostgreSQL statements over libpq, in the dataset's schema.  Rows go
 * through pgrows.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "clocks.h"
#include "exitcodes.h"
#include "jpatch.h"
#include "pgout_int.h"
#include "state.h"
#include "xalloc.h"

/* Connection attempts, and the wait before the first retry (doubling). */
#define CONNECT_TRIES	4
#define CONNECT_WAIT_MS	250

struct pgout *
pgout_conn(const struct loader *l)
{
	return l->conn;
}

/*
 * The exit status of an error by its SQLSTATE: bad data (22, 23, 54:
 * a value or a row the table cannot take), a server or connection that
 * may come back (08, 40, 53, 55P03, 57P), permission (28, 42501);
 * anything else is a statement of ours the server refused: a bug.
 */
static int
sqlstate_status(const char *state)
{
	if (state == NULL)
		return EX_TEMPFAIL;	/* no answer: the connection broke */
	if (strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0 ||
	    strncmp(state, "54", 2) == 0)
		return EX_DATAERR;
	if (strncmp(state, "08", 2) == 0 || strncmp(state, "40", 2) == 0 ||
	    strncmp(state, "53", 2) == 0 || strncmp(state, "57P", 3) == 0 ||
	    strcmp(state, "55P03") == 0)
		return EX_TEMPFAIL;
	if (strncmp(state, "28", 2) == 0 || strcmp(state, "42501") == 0)
		return EX_NOPERM;
	return EX_SOFTWARE;
}

/* The first line of a libpq message, for one line on stderr. */
static void
first_line(const char *msg, char *out, size_t size)
{
	size_t n = strcspn(msg, "\n");

	if (n >= size)
		n = size - 1;
	memcpy(out, msg, n);
	out[n] = '\0';
}

int
pgout_fail(struct loader *l, PGresult *res, const char *what,
    struct lib_err *e)
{
	struct pgout *c = pgout_conn(l);
	const char *state = NULL, *msg;
	char line[400];

	if (res != NULL) {
		state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		msg = PQresultErrorMessage(res);
	} else
		msg = PQerrorMessage(c->pg);
	if (msg == NULL || *msg == '\0')
		msg = PQerrorMessage(c->pg);
	first_line(msg, line, sizeof(line));
	if (PQstatus(c->pg) == CONNECTION_BAD)
		return liberr_set(e, EX_TEMPFAIL, "%s: the connection was lost: "
		    "%s", what, line);
	return liberr_set(e, sqlstate_status(state), "%s: %s", what, line);
}

PGresult *
pgout_exec(struct loader *l, const char *sql, int n,
    const char *const *params, const char *what, struct lib_err *e)
{
	PGresult *res;

	/* A COPY in progress ends first: no other statement runs in it. */
	if (pgrows_copy_end(l, e) == -1)
		return NULL;
	/* Without parameters, the simple protocol: statements may be several. */
	res = n == 0 ? PQexec(pgout_conn(l)->pg, sql) :
	    PQexecParams(pgout_conn(l)->pg, sql, n, NULL, params, NULL, NULL, 0);
	if (res != NULL && (PQresultStatus(res) == PGRES_COMMAND_OK ||
	    PQresultStatus(res) == PGRES_TUPLES_OK))
		return res;
	(void)pgout_fail(l, res, what != NULL ? what : sql, e);
	PQclear(res);
	return NULL;
}

int
pgout_command(struct loader *l, const char *sql, int n,
    const char *const *params, const char *what, struct lib_err *e)
{
	PGresult *res = pgout_exec(l, sql, n, params, what, e);

	if (res == NULL)
		return -1;
	PQclear(res);
	return 0;
}

/* Run l->sql with n parameters: the rows it changed into *changed. */
int
pgout_exec_count(struct loader *l, int n, const char *const *params,
    const char *what, unsigned long *changed, struct lib_err *e)
{
	PGresult *res;

	if ((res = pgout_exec(l, jbuf_cstr(&l->sql), n, params, what, e)) ==
	    NULL)
		return -1;
	if (changed != NULL)
		*changed = strtoul(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return 0;
}

/*
 * Whether sql with n parameters finds a row: 1 (its first column appended
 * to out, if not NULL), 0, or -1.
 */
static int
first_row(struct loader *l, const char *sql, int n, const char *const *params,
    struct jbuf *out, const char *what, struct lib_err *e)
{
	PGresult *res;
	int found;

	if ((res = pgout_exec(l, sql, n, params, what, e)) == NULL)
		return -1;
	found = PQntuples(res) > 0;
	if (found && out != NULL)
		jbuf_put(out, PQgetvalue(res, 0, 0),
		    (size_t)PQgetlength(res, 0, 0));
	PQclear(res);
	return found;
}

void
pgout_qname(const struct loader *l, struct jbuf *b, const char *name,
    size_t len)
{
	const struct pgout *c = pgout_conn(l);

	jbuf_put(b, c->schema.p, c->schema.len);
	jbuf_putc(b, '.');
	load_ident(b, name, len);
}

/* The dataset's name as a parameter: the schema without its quotes. */
static const char *
dataset(const struct loader *l)
{
	return l->opts.dataset != NULL ? l->opts.dataset : "public";
}

/* Sleep ms milliseconds. */
static void
pause_ms(long ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	(void)nanosleep(&ts, NULL);
}

/*
 * Connect, retrying a server that cannot be reached (it may be starting
 * or restarting); a refused password or a missing database is final.
 */
static PGconn *
connect_db(const char *conninfo, const char *shown, struct lib_err *e)
{
	PGconn *pg = NULL;
	char line[400];
	long wait = CONNECT_WAIT_MS;
	int i;

	for (i = 0; i < CONNECT_TRIES; i++) {
		if (i > 0) {
			pause_ms(wait);
			wait *= 2;
		}
		PQfinish(pg);
		pg = PQconnectdb(conninfo);
		if (pg != NULL && PQstatus(pg) == CONNECTION_OK)
			return pg;
		if (pg == NULL) {
			(void)liberr_set(e, EX_OSERR, "out of memory");
			return NULL;
		}
		first_line(PQerrorMessage(pg), line, sizeof(line));
		if (strstr(line, "password") != NULL ||
		    strstr(line, "authentication") != NULL) {
			(void)liberr_set(e, EX_NOPERM, "%s: %s", shown, line);
			PQfinish(pg);
			return NULL;
		}
		if (strstr(line, "does not exist") != NULL) {
			(void)liberr_set(e, EX_UNAVAILABLE, "%s: %s", shown, line);
			PQfinish(pg);
			return NULL;
		}
		if (strstr(line, "invalid") != NULL ||
		    strstr(line, "missing") != NULL) {
			(void)liberr_set(e, EX_USAGE, "%s: %s", shown, line);
			PQfinish(pg);
			return NULL;
		}
	}
	(void)liberr_set(e, EX_TEMPFAIL, "%s: %s (after %d attempts)", shown,
	    line, CONNECT_TRIES);
	PQfinish(pg);
	return NULL;
}

static const char bookkeeping[] =
    "CREATE TABLE IF NOT EXISTS %s._sluice_loads ("
    " load_id text PRIMARY KEY, status text NOT NULL,"
    " started_at timestamptz NOT NULL, finished_at timestamptz,"
    " tables jsonb, schema_version text);"
    "CREATE TABLE IF NOT EXISTS %s._sluice_state ("
    " id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    " load_id text NOT NULL, stored_at timestamptz NOT NULL,"
    " value jsonb NOT NULL);"
    "CREATE TABLE IF NOT EXISTS %s._sluice_schemas ("
    " id bigint GENERATED ALWAYS AS IDENTITY,"
    " version_hash text PRIMARY KEY, table_name text NOT NULL,"
    " schema text NOT NULL, load_id text NOT NULL,"
    " inserted_at timestamptz NOT NULL)";

/*
 * The dataset's schema and bookkeeping tables, made in a transaction of
 * their own under the dataset's lock: two loaders that make them at once
 * would otherwise collide in the catalog.
 */
static int
make_dataset(struct loader *l, struct lib_err *e)
{
	struct pgout *c = pgout_conn(l);
	const char *params[1];
	char *sql;
	size_t n;
	int rc;

	params[0] = dataset(l);
	if (pgout_command(l, "BEGIN", 0, NULL, NULL, e) == -1 ||
	    pgout_command(l, "SELECT pg_advisory_xact_lock(hashtextextended("
	    "'sluice dataset ' || $1, 0))", 1, params, "lock the dataset",
	    e) == -1)
		return -1;
	jbuf_reset(&l->sql);
	jbuf_puts(&l->sql, "CREATE SCHEMA IF NOT EXISTS ");
	jbuf_put(&l->sql, c->schema.p, c->schema.len);
	if (pgout_command(l, jbuf_cstr(&l->sql), 0, NULL, "create the dataset",
	    e) == -1)
		return -1;
	n = sizeof(bookkeeping) + 3 * c->schema.len;
	sql = xalloc_calloc(n, 1);
	(void)snprintf(sql, n, bookkeeping, jbuf_cstr(&c->schema),
	    jbuf_cstr(&c->schema), jbuf_cstr(&c->schema));
	/* Simple query protocol: several statements in one string. */
	rc = pgout_command(l, sql, 0, NULL, "create the bookkeeping tables", e);
	free(sql);
	if (rc == -1)
		return -1;
	return pgout_command(l, "COMMIT", 0, NULL, NULL, e);
}

static int
pg_begin(struct loader *l, struct lib_err *e)
{
	struct pgout *c = pgout_conn(l);

	c->state_id = 0;
	jbuf_reset(&c->state);
	return pgout_command(l, "BEGIN", 0, NULL, NULL, e);
}

static int
pg_open(struct loader *l, const char *conninfo, struct lib_err *e)
{
	struct pgout *c;
	struct jbuf shown = JBUF_INIT;
	PGresult *res;

	c = xalloc_calloc(1, sizeof(*c));
	l->conn = c;
	pgout_redact(conninfo, &shown);
	c->pg = connect_db(conninfo, jbuf_cstr(&shown), e);
	jbuf_free(&shown);
	if (c->pg == NULL)
		return -1;
	/* Notices (an identifier cut, an index there already) are ours. */
	res = PQexec(c->pg, "SET client_min_messages = warning");
	PQclear(res);
	if (PQsetClientEncoding(c->pg, "UTF8") != 0)
		return pgout_fail(l, NULL, "client encoding", e);
	load_ident(&c->schema, dataset(l), strlen(dataset(l)));
	c->flush_each = l->opts.atomic_records;
	if (make_dataset(l, e) == -1)
		return -1;
	if (pg_begin(l, e) == -1)
		return -1;
	l->in_txn = 1;
	return 0;
}

static int
pg_load_known(struct loader *l, const char *load_id, struct lib_err *e)
{
	jbuf_reset(&l->sql);
	jbuf_puts(&l->sql, "SELECT 1 FROM ");
	pgout_qname(l, &l->sql, "_sluice_loads", 13);
	jbuf_puts(&l->sql, " WHERE load_id = $1");
	return first_row(l, jbuf_cstr(&l->sql), 1, &load_id, NULL,
	    "_sluice_loads", e);
}

/* PostgreSQL's quoted names keep their case: no other spelling clashes. */
static int
pg_name_clash(struct loader *l, const char *stream, size_t len,
    struct lib_err *e)
{
	(void)l;
	(void)stream;
	(void)len;
	(void)e;
	return 0;
}

static int
pg_table_exists(struct loader *l, const char *name, size_t len,
    struct lib_err *e)
{
	const char *params[2];

	jbuf_reset(&l->tmp);
	jbuf_put(&l->tmp, name, len);
	params[0] = dataset(l);
	params[1] = jbuf_cstr(&l->tmp);
	return first_row(l, "SELECT 1 FROM information_schema.tables WHERE"
	    " table_schema = $1 AND table_name = $2", 2, params, NULL,
	    "find the table", e);
}

static int
pg_stored_schema(struct loader *l, const struct schema_table *t,
    struct jbuf *b, struct lib_err *e)
{
	const char *params[1];

	jbuf_reset(&l->tmp);
	jbuf_put(&l->tmp, t->name, t->namelen);
	params[0] = jbuf_cstr(&l->tmp);
	jbuf_reset(&l->sql);
	jbuf_puts(&l->sql, "SELECT schema FROM ");
	pgout_qname(l, &l->sql, "_sluice_schemas", 15);
	jbuf_puts(&l->sql, " WHERE table_name = $1 ORDER BY id DESC LIMIT 1");
	return first_row(l, jbuf_cstr(&l->sql), 1, params, b,
	    "_sluice_schemas", e);
}

/*
 * The loader's word for a column's type (schema_type_of_decl): numeric
 * is exact, as ST_DECIMAL is.
 */
static const char *
decl_of(const char *udt)
{
	static const char *const map[][2] = {
		{ "int8", "INTEGER" }, { "int4", "INTEGER" }, { "int2", "INTEGER" },
		{ "float8", "REAL" }, { "float4", "REAL" },
		{ "bool", "BOOLEAN" }, { "timestamptz", "TIMESTAMP" },
		{ "timestamp", "TIMESTAMP" }, { "date", "DATE" },
		{ "jsonb", "JSON" }, { "json", "JSON" },
		{ "numeric", "DECIMAL TEXT" }
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(udt, map[i][0]) == 0)
			return map[i][1];
	return "TEXT";
}

/*
 * A table this load touches is locked for the load (an advisory lock of
 * its name): two loaders of one table take turns, so that neither's
 * ALTER TABLE waits for the other's rows while it waits in turn.
 */
static int
lock_table(struct loader *l, const struct schema_table *t, struct lib_err *e)
{
	const char *params[2];

	jbuf_reset(&l->tmp);
	jbuf_put(&l->tmp, t->name, t->namelen);
	params[0] = dataset(l);
	params[1] = jbuf_cstr(&l->tmp);
	return pgout_command(l, "SELECT pg_advisory_xact_lock(hashtextextended("
	    "'sluice table ' || $1 || '.' || $2, 0))", 2, params,
	    "lock the table", e);
}

static int
pg_columns(struct loader *l, const struct schema_table *t,
    int (*each)(void *, const char *, size_t, const char *, struct lib_err *),
    void *arg, struct lib_err *e)
{
	const char *params[2];
	PGresult *res;
	int i, n, rc = 0;

	if (lock_table(l, t, e) == -1)
		return -1;
	jbuf_reset(&l->tmp);
	jbuf_put(&l->tmp, t->name, t->namelen);
	params[0] = dataset(l);
	params[1] = jbuf_cstr(&l->tmp);
	if ((res = pgout_exec(l, "SELECT column_name, udt_name FROM"
	    " information_schema.columns WHERE table_schema = $1 AND"
	    " table_name = $2 ORDER BY ordinal_position", 2, params,
	    "the table's columns", e)) == NULL)
		return -1;
	n = PQntuples(res);
	for (i = 0; i < n && rc == 0; i++)
		rc = each(arg, PQgetvalue(res, i, 0),
		    (size_t)PQgetlength(res, i, 0), decl_of(PQgetvalue(res, i, 1)),
		    e);
	PQclear(res);
	return rc;
}

static int
pg_primary_key(struct loader *l, const struct schema_table *t,
    struct jbuf *csv, struct lib_err *e)
{
	const char *params[1];
	PGresult *res;
	int i, n;

	jbuf_reset(&l->tmp);
	pgout_qname(l, &l->tmp, t->name, t->namelen);
	params[0] = jbuf_cstr(&l->tmp);
	if ((res = pgout_exec(l, "SELECT a.attname FROM pg_index i JOIN"
	    " pg_attribute a ON a.attrelid = i.indrelid AND a.attnum ="
	    " ANY(i.indkey) WHERE i.indrelid = to_regclass($1) AND"
	    " i.indisprimary ORDER BY array_position(i.indkey, a.attnum)", 1,
	    params, "the table's primary key", e)) == NULL)
		return -1;
	n = PQntuples(res);
	for (i = 0; i < n; i++) {
		if (i > 0)
			jbuf_putc(csv, ',');
		jbuf_puts(csv, PQgetvalue(res, i, 0));
	}
	PQclear(res);
	return 0;
}

static int
pg_key_is_primary(struct loader *l, const struct schema_table *t)
{
	struct jbuf csv = JBUF_INIT, want = JBUF_INIT;
	struct lib_err e;
	size_t k;
	int same;

	for (k = 0; k < t->nkeys; k++) {
		if (k > 0)
			jbuf_putc(&want, ',');
		jbuf_puts(&want, t->keys[k]);
	}
	same = pg_primary_key(l, t, &csv, &e) == 0 && t->nkeys > 0 &&
	    strcmp(jbuf_cstr(&csv), jbuf_cstr(&want)) == 0;
	jbuf_free(&csv);
	jbuf_free(&want);
	return same;
}

static int
pg_child_names(struct loader *l, const struct schema_table *t,
    struct jbuf *names, size_t *n, struct lib_err *e)
{
	const char *params[2];
	PGresult *res;
	int i, rows;

	*n = 0;
	jbuf_reset(names);
	jbuf_reset(&l->tmp);
	jbuf_put(&l->tmp, t->name, t->namelen);
	jbuf_puts(&l->tmp, "__");
	params[0] = dataset(l);
	params[1] = jbuf_cstr(&l->tmp);
	if ((res = pgout_exec(l, "SELECT table_name FROM"
	    " information_schema.columns WHERE table_schema = $1 AND"
	    " column_name = '_sluice_root_id' AND"
	    " left(table_name, length($2)) = $2 ORDER BY table_name", 2, params,
	    "find child tables", e)) == NULL)
		return -1;
	rows = PQntuples(res);
	for (i = 0; i < rows; i++) {
		jbuf_put(names, PQgetvalue(res, i, 0),
		    (size_t)PQgetlength(res, i, 0));
		jbuf_putc(names, '\0');
		(*n)++;
	}
	PQclear(res);
	return 0;
}

static const char *const pg_types[] = {
	"text", "bigint", "double precision", "boolean", "text",
	"timestamptz", "date", "jsonb", "numeric"
};

/* "dataset". before a table's name. */
static const char *
qualifier(struct loader *l)
{
	jbuf_reset(&l->tmp);
	jbuf_put(&l->tmp, pgout_conn(l)->schema.p, pgout_conn(l)->schema.len);
	jbuf_putc(&l->tmp, '.');
	return jbuf_cstr(&l->tmp);
}

static int
pg_create_table(struct loader *l, struct schema_table *t, int pk,
    struct lib_err *e)
{
	load_create_table_sql(&l->sql, qualifier(l), t, pg_types, pk);
	return pgout_command(l, jbuf_cstr(&l->sql), 0, NULL, "create table", e);
}

static int
pg_add_column(struct loader *l, struct schema_table *t, size_t i,
    struct lib_err *e)
{
	const struct pgout_table *r = load_tinfo(t)->dd;
	int stage;

	/* Rows on their way have the columns as they were. */
	if (pgrows_send(l, t, e) == -1)
		return -1;
	/* The staging table, made like the table, gains the column too. */
	for (stage = 0; stage < 2; stage++) {
		if (stage && (r == NULL || !r->stage_made))
			break;
		jbuf_reset(&l->sql);
		jbuf_puts(&l->sql, "ALTER TABLE ");
		if (stage)
			load_ident(&l->sql, r->stage, strlen(r->stage));
		else
			pgout_qname(l, &l->sql, t->name, t->namelen);
		jbuf_puts(&l->sql, " ADD COLUMN ");
		load_ident(&l->sql, t->cols[i].name, t->cols[i].namelen);
		jbuf_putc(&l->sql, ' ');
		jbuf_puts(&l->sql, pg_types[t->cols[i].type]);
		if (pgout_command(l, jbuf_cstr(&l->sql), 0, NULL, "add a column",
		    e) == -1)
			return -1;
	}
	return 0;
}

/*
 * An index's name is the table's with a suffix, within PostgreSQL's 63
 * bytes: a longer one is cut (at a character) and made unique by a hash.
 */
static void
index_name(struct jbuf *b, const struct schema_table *t, const char *suffix)
{
	size_t room, n = t->namelen, slen = strlen(suffix);
	char hash[16];

	if (n + slen <= 63) {
		jbuf_put(b, t->name, n);
		jbuf_puts(b, suffix);
		return;
	}
	room = 63 - slen - 9;
	for (n = room; n > 0 && ((unsigned char)t->name[n] & 0xC0) == 0x80; n--)
		;
	(void)snprintf(hash, sizeof(hash), "_%08lx", (unsigned long)
	    (schema_hash(t->name, t->namelen) & 0xffffffffUL));
	jbuf_put(b, t->name, n);
	jbuf_puts(b, hash);
	jbuf_puts(b, suffix);
}

static int
pg_create_index(struct loader *l, const struct schema_table *t,
    const char *suffix, int unique, const char *const *cols, size_t ncols,
    struct lib_err *e)
{
	struct jbuf name = JBUF_INIT;
	PGresult *res;
	const char *state;
	int rc = 0;

	index_name(&name, t, suffix);
	load_create_index_sql(&l->sql, qualifier(l), t, name.p, name.len,
	    unique, cols, ncols);
	jbuf_free(&name);
	if (pgrows_copy_end(l, e) == -1)
		return -1;
	res = PQexec(pgout_conn(l)->pg, jbuf_cstr(&l->sql));
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		if (unique && state != NULL && strcmp(state, "23505") == 0)
			rc = LOAD_DUPLICATES;
		else
			rc = pgout_fail(l, res, "create index", e);
	}
	PQclear(res);
	return rc;
}

/* Rows are sent as COPY text and merged by set operations: no statements. */
static int
pg_prepare(struct loader *l, struct schema_table *t, struct lib_err *e)
{
	struct load_table *ti = load_tinfo(t);

	(void)l;
	(void)e;
	ti->stmts_keyed = ti->keyed;
	return 0;
}

/* Rows staged so far stay staged: the staging table gains the columns. */
static void
pg_unprepare(struct loader *l, struct schema_table *t)
{
	(void)l;
	load_tinfo(t)->stmts_keyed = 0;
}

/* The staging tables are gone with the transaction, or the savepoint. */
static void
pg_forget(struct loader *l, struct schema_table *t)
{
	struct load_table *ti = load_tinfo(t);
	struct pgout *c = pgout_conn(l);

	/* Its COPY, if one were open, ends with the connection. */
	if (c != NULL && c->copying == t)
		c->copying = NULL;
	pgrows_free(ti->dd);
	ti->dd = NULL;
	ti->stmts_keyed = 0;
}

/* Set-based merges compare the stored hashes when they apply. */
static int
pg_stored_same(struct loader *l, struct schema_table *t,
    const struct jval *root, const char *hash, struct lib_err *e)
{
	(void)l;
	(void)t;
	(void)root;
	(void)hash;
	(void)e;
	return 0;
}

/* The WHERE clause of rows, the version as $1; unmarked: not soft-deleted. */
static void
rows_where(struct jbuf *b, enum load_rows rows, int unmarked)
{
	static const char *const where[] = {
		" WHERE true",
		" WHERE _sluice_version < $1::bigint",
		" WHERE (_sluice_version < $1::bigint OR _sluice_version IS NULL)",
		" WHERE _sluice_version IS NOT NULL",
		" WHERE _sluice_version IS NULL"
	};

	jbuf_puts(b, where[rows]);
	if (unmarked)
		jbuf_puts(b, " AND _sluice_deleted_at IS NULL");
}

/*
 * The parameters of l->sql for rows: the version as $1 where rows name
 * one, the time as $2 if not NULL; their count.
 */
static int
rows_params(struct loader *l, enum load_rows rows, const struct jval *version,
    const char *time, const char *params[2])
{
	int n = 0;

	if (rows == LOAD_ROWS_OLDER || rows == LOAD_ROWS_OLDER_OR_NONE) {
		jbuf_reset(&l->tmp);
		jbuf_put(&l->tmp, version->str, version->len);
		params[n++] = jbuf_cstr(&l->tmp);
	}
	if (time != NULL) {
		if (n == 0)
			params[n++] = NULL;	/* $1 unused */
		params[n++] = time;
	}
	return n;
}

/* Run l->sql on rows of a table: the rows it changed, as t's deleted. */
static int
rows_deleted(struct loader *l, struct schema_table *t, enum load_rows rows,
    const struct jval *version, const char *time, const char *what,
    struct lib_err *e)
{
	const char *params[2];
	unsigned long n;

	if (pgout_exec_count(l, rows_params(l, rows, version, time, params),
	    params, what, &n, e) == -1)
		return -1;
	load_tinfo(t)->deleted += n;
	return 0;
}

static int
pg_count_rows(struct loader *l, const struct schema_table *t,
    enum load_rows rows, int unmarked, const struct jval *version,
    long long *n, struct lib_err *e)
{
	const char *params[2];
	struct jbuf count = JBUF_INIT;
	int rc;

	jbuf_reset(&l->sql);
	jbuf_puts(&l->sql, "SELECT count(*) FROM ");
	pgout_qname(l, &l->sql, t->name, t->namelen);
	rows_where(&l->sql, rows, unmarked);
	rc = first_row(l, jbuf_cstr(&l->sql), rows_params(l, rows, version,
	    NULL, params), params, &count, "count", e);
	*n = strtoll(jbuf_cstr(&count), NULL, 10);
	jbuf_free(&count);
	return rc == -1 ? -1 : 0;
}

static int
pg_delete_rows(struct loader *l, struct schema_table *t, enum load_rows rows,
    const struct jval *version, struct lib_err *e)
{
	jbuf_reset(&l->sql);
	jbuf_puts(&l->sql, "DELETE FROM ");
	pgout_qname(l, &l->sql, t->name, t->namelen);
	rows_where(&l->sql, rows, 0);
	return rows_deleted(l, t, rows, version, NULL, "delete", e);
}

static int
pg_delete_children(struct loader *l, const struct schema_table *t,
    struct schema_table *c, enum load_rows rows, const struct jval *version,
    struct lib_err *e)
{
	jbuf_reset(&l->sql);
	jbuf_puts(&l->sql, "DELETE FROM ");
	pgout_qname(l, &l->sql, c->name, c->namelen);
	jbuf_puts(&l->sql, " WHERE _sluice_root_id IN (SELECT _sluice_id FROM ");
	pgout_qname(l, &l->sql, t->name, t->namelen);
	rows_where(&l->sql, rows, 0);
	jbuf_putc(&l->sql, ')');
	return rows_deleted(l, c, rows, version, NULL, "delete child rows", e);
}

static int
pg_mark_deleted(struct loader *l, struct schema_table *t, enum load_rows rows,
    const struct jval *version, struct lib_err *e)
{
	jbuf_reset(&l->sql);
	jbuf_puts(&l->sql, "UPDATE ");
	pgout_qname(l, &l->sql, t->name, t->namelen);
	jbuf_puts(&l->sql, " SET _sluice_deleted_at = $2::timestamptz");
	rows_where(&l->sql, rows, 1);
	return rows_deleted(l, t, rows, version, l->started_at, "mark deleted",
	    e);
}

static int
pg_savepoint(struct loader *l, enum load_savepoint sp, struct lib_err *e)
{
	static const char *const sql[] = {
		"SAVEPOINT sluice_record", "RELEASE sluice_record",
		"ROLLBACK TO sluice_record"
	};

	/*
	 * A record's rows are sent, and applied, before its savepoint ends:
	 * what fails is the record's.
	 */
	if (sp == LOAD_SP_RELEASE && pgrows_flush(l, e) == -1)
		return -1;
	if (pgout_command(l, sql[sp], 0, NULL, NULL, e) == -1)
		return -1;
	if (sp == LOAD_SP_BEGIN)
		pgout_conn(l)->in_savepoint = 1;
	else
		pgrows_savepoint_end(l, sp == LOAD_SP_ROLLBACK);
	return 0;
}

static int
pg_reject_note(struct loader *l, const struct jval *id, struct lib_err *e)
{
	struct pgout *c = pgout_conn(l);
	const char *params[1];

	if (!c->rejects && pgout_command(l, "CREATE TEMP TABLE IF NOT EXISTS"
	    " _sluice_rejected (id text PRIMARY KEY) ON COMMIT DROP", 0, NULL,
	    NULL, e) == -1)
		return -1;
	c->rejects = 1;
	jbuf_reset(&l->tmp);
	jbuf_put(&l->tmp, id->str, id->len);
	params[0] = jbuf_cstr(&l->tmp);
	return pgout_command(l, "INSERT INTO pg_temp._sluice_rejected VALUES"
	    " ($1) ON CONFLICT DO NOTHING", 1, params, "note a rejected record",
	    e);
}

static int
pg_reject_find(struct loader *l, const struct jval *id, struct lib_err *e)
{
	const char *params[1];

	if (!pgout_conn(l)->rejects)
		return 0;
	jbuf_reset(&l->tmp);
	jbuf_put(&l->tmp, id->str, id->len);
	params[0] = jbuf_cstr(&l->tmp);
	return first_row(l, "SELECT 1 FROM pg_temp._sluice_rejected WHERE"
	    " id = $1", 1, params, NULL, "look up a rejected parent", e);
}

/*
 * STATE: merged (RFC 7396) into the state the last load stored, in this
 * load's own row.  Loads that store state take turns (a lock held to the
 * commit), so that each merges into the one committed before it.
 */
static int
pg_state_merge(struct loader *l, const char *json, size_t len,
    struct lib_err *e)
{
	struct pgout *c = pgout_conn(l);
	struct jval_parser *p = NULL;
	const struct jval *patch, *base = NULL;
	const char *params[3];
	struct jbuf merged = JBUF_INIT;
	char now[40], id[32];
	PGresult *res;
	int ret = -1;

	if (c->state_id == 0) {
		params[0] = dataset(l);
		if (pgout_command(l, "SELECT pg_advisory_xact_lock("
		    "hashtextextended('sluice state ' || $1, 0))", 1, params,
		    "lock the state", e) == -1)
			return -1;
		jbuf_reset(&l->sql);
		jbuf_puts(&l->sql, "SELECT value FROM ");
		pgout_qname(l, &l->sql, "_sluice_state", 13);
		jbuf_puts(&l->sql, " ORDER BY id DESC LIMIT 1");
		if ((res = pgout_exec(l, jbuf_cstr(&l->sql), 0, NULL,
		    "_sluice_state", e)) == NULL)
			return -1;
		jbuf_reset(&c->state);
		jbuf_puts(&c->state, PQntuples(res) > 0 ? PQgetvalue(res, 0, 0) :
		    "{}");
		PQclear(res);
	}
	if ((p = jval_parser_new((size_t)1 << 30)) == NULL)
		return liberr_set(e, EX_OSERR, "out of memory");
	if ((base = jval_parse(p, c->state.p, c->state.len, JVAL_KEEP_ALL,
	    e)) == NULL || (patch = jval_parse(p, json, len, JVAL_KEEP_ALL,
	    e)) == NULL) {
		(void)liberr_prefix(e, "state");
		goto out;
	}
	jpatch_write(&merged, base, patch);
	clocks_utc(now, sizeof(now), 1);
	jbuf_reset(&l->sql);
	if (c->state_id == 0) {
		jbuf_puts(&l->sql, "INSERT INTO ");
		pgout_qname(l, &l->sql, "_sluice_state", 13);
		jbuf_puts(&l->sql, " (load_id, stored_at, value) VALUES ($1,"
		    " $2::timestamptz, $3::jsonb) RETURNING id");
		params[0] = l->opts.load_id;
	} else {
		jbuf_puts(&l->sql, "UPDATE ");
		pgout_qname(l, &l->sql, "_sluice_state", 13);
		jbuf_puts(&l->sql, " SET stored_at = $2::timestamptz, value ="
		    " $3::jsonb WHERE id = $1::bigint RETURNING id");
		(void)snprintf(id, sizeof(id), "%lld", c->state_id);
		params[0] = id;
	}
	params[1] = now;
	params[2] = jbuf_cstr(&merged);
	if ((res = pgout_exec(l, jbuf_cstr(&l->sql), 3, params, "store state",
	    e)) == NULL)
		goto out;
	c->state_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	jbuf_reset(&c->state);
	jbuf_put(&c->state, merged.p, merged.len);
	ret = 0;
out:
	jval_parser_free(p);
	jbuf_free(&merged);
	return ret;
}

static int
pg_save_schema(struct loader *l, const char *hash, const struct schema_table *t,
    const char *json, size_t len, const char *now, struct lib_err *e)
{
	struct jbuf text = JBUF_INIT;	/* json may be in l->tmp */
	const char *params[5];
	int rc;

	jbuf_put(&text, t->name, t->namelen);
	jbuf_putc(&text, '\0');
	jbuf_put(&text, json, len);
	jbuf_putc(&text, '\0');
	params[0] = hash;
	params[1] = text.p;
	params[2] = text.p + t->namelen + 1;
	params[3] = l->opts.load_id;
	params[4] = now;
	jbuf_reset(&l->sql);
	jbuf_puts(&l->sql, "INSERT INTO ");
	pgout_qname(l, &l->sql, "_sluice_schemas", 15);
	jbuf_puts(&l->sql, " (version_hash, table_name, schema, load_id,"
	    " inserted_at) VALUES ($1, $2, $3, $4, $5::timestamptz)"
	    " ON CONFLICT DO NOTHING");
	rc = pgout_command(l, jbuf_cstr(&l->sql), 5, params, "save schema", e);
	jbuf_free(&text);
	return rc;
}

static int
pg_record_load(struct loader *l, const char *finished, const char *tables,
    const char *schema_version, struct lib_err *e)
{
	const char *params[5];

	params[0] = l->opts.load_id;
	params[1] = l->started_at;
	params[2] = finished;
	params[3] = tables;
	params[4] = schema_version;
	jbuf_reset(&l->sql);
	jbuf_puts(&l->sql, "INSERT INTO ");
	pgout_qname(l, &l->sql, "_sluice_loads", 13);
	jbuf_puts(&l->sql, " VALUES ($1, 'completed', $2::timestamptz,"
	    " $3::timestamptz, $4::jsonb, $5)");
	return pgout_command(l, jbuf_cstr(&l->sql), 5, params,
	    "record the load (is the load id new?)", e);
}

static int
pg_commit(struct loader *l, struct lib_err *e)
{
	pgout_conn(l)->rejects = 0;
	return pgout_command(l, "COMMIT", 0, NULL, "commit", e);
}

static void
pg_close(struct loader *l)
{
	struct pgout *c = pgout_conn(l);

	if (c == NULL)
		return;
	/* Closing the connection rolls back what did not commit. */
	PQfinish(c->pg);
	jbuf_free(&c->schema);
	jbuf_free(&c->state);
	free(c);
	l->conn = NULL;
}

const struct load_dialect pgout_dialect = {
	.name = "PostgreSQL",
	.reserved_prefix = "pg_",
	.names_fold_case = 0,
	.max_name = 63,
	.open = pg_open,
	.begin = pg_begin,
	.load_known = pg_load_known,
	.name_clash = pg_name_clash,
	.table_exists = pg_table_exists,
	.stored_schema = pg_stored_schema,
	.columns = pg_columns,
	.primary_key = pg_primary_key,
	.key_is_primary = pg_key_is_primary,
	.child_names = pg_child_names,
	.create_table = pg_create_table,
	.add_column = pg_add_column,
	.create_index = pg_create_index,
	.prepare = pg_prepare,
	.unprepare = pg_unprepare,
	.forget = pg_forget,
	.insert = pgrows_insert,
	.upsert = pgrows_upsert,
	.delete_key = pgrows_delete_key,
	.scd2_write = pgrows_upsert,
	.scd2_retire_absent = pgrows_scd2_retire_absent,
	.stored_same = pg_stored_same,
	.count_rows = pg_count_rows,
	.delete_rows = pg_delete_rows,
	.delete_children = pg_delete_children,
	.mark_deleted = pg_mark_deleted,
	.savepoint = pg_savepoint,
	.reject_note = pg_reject_note,
	.reject_find = pg_reject_find,
	.state_merge = pg_state_merge,
	.save_schema = pg_save_schema,
	.flush = pgrows_flush,
	.record_load = pg_record_load,
	.commit = pg_commit,
	.close = pg_close,
};

void
pgout_redact(const char *conninfo, struct jbuf *out)
{
	PQconninfoOption *opts, *o;
	const char *user = NULL, *host = NULL, *port = NULL, *db = NULL;
	char *err = NULL;

	if ((opts = PQconninfoParse(conninfo, &err)) == NULL) {
		/* Not one libpq reads: said later; shown as nothing of it. */
		PQfreemem(err);
		jbuf_puts(out, "(connection string)");
		return;
	}
	for (o = opts; o->keyword != NULL; o++) {
		if (o->val == NULL || *o->val == '\0')
			continue;
		if (strcmp(o->keyword, "user") == 0)
			user = o->val;
		else if (strcmp(o->keyword, "host") == 0)
			host = o->val;
		else if (strcmp(o->keyword, "port") == 0)
			port = o->val;
		else if (strcmp(o->keyword, "dbname") == 0)
			db = o->val;
	}
	jbuf_puts(out, "postgresql://");
	if (user != NULL) {
		jbuf_puts(out, user);
		jbuf_putc(out, '@');
	}
	if (host != NULL)
		jbuf_puts(out, host);
	if (port != NULL) {
		jbuf_putc(out, ':');
		jbuf_puts(out, port);
	}
	jbuf_putc(out, '/');
	if (db != NULL)
		jbuf_puts(out, db);
	PQconninfoFree(opts);
}

int
pgout_state_get(const char *conninfo, const char *dataset_name,
    const char *dotted, struct jbuf *out, int *found, struct lib_err *e)
{
	struct jbuf shown = JBUF_INIT, sql = JBUF_INIT;
	const char *params[1];
	PGconn *pg;
	PGresult *res;
	int ret = 0;

	*found = 0;
	pgout_redact(conninfo, &shown);
	pg = connect_db(conninfo, jbuf_cstr(&shown), e);
	if (pg == NULL) {
		jbuf_free(&shown);
		return -1;
	}
	params[0] = dataset_name != NULL ? dataset_name : "public";
	/* No state table: nothing was ever stored. */
	res = PQexecParams(pg, "SELECT to_regclass(quote_ident($1) ||"
	    " '._sluice_state') IS NOT NULL", 1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		ret = liberr_set(e, EX_TEMPFAIL, "%s: %s", jbuf_cstr(&shown),
		    PQerrorMessage(pg));
	else if (strcmp(PQgetvalue(res, 0, 0), "t") == 0) {
		PQclear(res);
		jbuf_reset(&sql);
		jbuf_puts(&sql, "SELECT value::text FROM ");
		load_ident(&sql, params[0], strlen(params[0]));
		jbuf_puts(&sql, "._sluice_state ORDER BY id DESC LIMIT 1");
		res = PQexec(pg, jbuf_cstr(&sql));
		if (PQresultStatus(res) != PGRES_TUPLES_OK)
			ret = liberr_set(e, EX_TEMPFAIL, "%s: %s",
			    jbuf_cstr(&shown), PQerrorMessage(pg));
		else if (PQntuples(res) > 0 && state_lookup(PQgetvalue(res, 0,
		    0), (size_t)PQgetlength(res, 0, 0), dotted, out, found,
		    e) == -1)
			ret = liberr_prefix(e, "%s: stored state",
			    jbuf_cstr(&shown));
	}
	PQclear(res);
	PQfinish(pg);
	jbuf_free(&shown);
	jbuf_free(&sql);
	return ret;
}

void
pgout_scrub(char *conninfo)
{
	PQconninfoOption *opts, *o;
	char *err = NULL, *at;

	if ((opts = PQconninfoParse(conninfo, &err)) == NULL) {
		PQfreemem(err);
		return;
	}
	for (o = opts; o->keyword != NULL; o++)
		if (strcmp(o->keyword, "password") == 0 && o->val != NULL &&
		    *o->val != '\0' && (at = strstr(conninfo, o->val)) != NULL)
			memset(at, 'x', strlen(o->val));
	PQconninfoFree(opts);
}
