/*
 * cloop: the "SQLite limit" reference for the sqlite-load benchmark.
 *
 *	cloop DB < file.ndjson
 *
 * The least a C program must do to load the file of gen.c into SQLite: a
 * yajl SAX parse of stdin in 64 KiB chunks (UTF-8 validated, numbers as
 * raw text), one prepared INSERT of the twenty columns of cols.h, values
 * bound by column index as they are parsed, one step per row, all in one
 * transaction, on a fresh database with the pragmas of sqlite-load
 * (journal_mode=WAL, synchronous=FULL, cache_size=-65536, foreign_keys
 * off).  No schema inference, no messages, no bookkeeping: whatever
 * sqlite-load costs beyond this is its own overhead.
 *
 * Keys are matched by name, so field order does not matter; unknown keys
 * are ignored; a nested value is an error (the file is flat).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>
#include <yajl/yajl_parse.h>

#include "cols.h"

enum {
#define COL(name, decl) C_##name,
	BENCH_COLUMNS
#undef COL
	NCOLS
};

static const char *const colnames[NCOLS] = {
#define COL(name, decl) #name,
	BENCH_COLUMNS
#undef COL
};

static const char *const coldecls[NCOLS] = {
#define COL(name, decl) #decl,
	BENCH_COLUMNS
#undef COL
};

struct loop {
	sqlite3		*db;
	sqlite3_stmt	*ins;
	int		 depth;
	int		 col;		/* 1-based bind index, 0: skip */
	long long	 rows;
	const char	*err;
};

static size_t colnamelen[NCOLS];

static int
on_null(void *ctx)
{
	struct loop *l = ctx;

	if (l->col && sqlite3_bind_null(l->ins, l->col) != SQLITE_OK)
		return 0;
	return 1;
}

static int
on_boolean(void *ctx, int b)
{
	struct loop *l = ctx;

	if (l->col && sqlite3_bind_int(l->ins, l->col, b) != SQLITE_OK)
		return 0;
	return 1;
}

/*
 * Numbers arrive as their text.  An integer literal that fits int64 is
 * bound as an integer (exact, like sqlite-load); anything else as a double.
 */
static int
on_number(void *ctx, const char *s, size_t len)
{
	struct loop *l = ctx;
	char buf[64], *end;
	int rc;

	if (!l->col)
		return 1;
	if (len >= sizeof(buf)) {
		l->err = "number too long";
		return 0;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (memchr(buf, '.', len) == NULL && memchr(buf, 'e', len) == NULL &&
	    memchr(buf, 'E', len) == NULL) {
		long long v;

		errno = 0;
		v = strtoll(buf, &end, 10);
		if (errno == 0) {
			rc = sqlite3_bind_int64(l->ins, l->col, v);
			return rc == SQLITE_OK;
		}
	}
	rc = sqlite3_bind_double(l->ins, l->col, strtod(buf, &end));
	return rc == SQLITE_OK;
}

static int
on_string(void *ctx, const unsigned char *s, size_t len)
{
	struct loop *l = ctx;

	/* Transient: yajl reuses its buffer for the next value. */
	if (l->col && sqlite3_bind_text(l->ins, l->col, (const char *)s,
	    (int)len, SQLITE_TRANSIENT) != SQLITE_OK)
		return 0;
	return 1;
}

static int
on_start_map(void *ctx)
{
	struct loop *l = ctx;

	if (++l->depth > 1) {
		l->err = "nested value (the benchmark file is flat)";
		return 0;
	}
	return 1;
}

static int
on_map_key(void *ctx, const unsigned char *k, size_t len)
{
	struct loop *l = ctx;
	int c;

	l->col = 0;
	for (c = 0; c < NCOLS; c++)
		if (colnamelen[c] == len && memcmp(colnames[c], k, len) == 0) {
			l->col = c + 1;
			break;
		}
	return 1;
}

static int
on_end_map(void *ctx)
{
	struct loop *l = ctx;

	if (--l->depth > 0)
		return 1;
	if (sqlite3_step(l->ins) != SQLITE_DONE) {
		l->err = sqlite3_errmsg(l->db);
		return 0;
	}
	l->rows++;
	l->col = 0;
	return sqlite3_reset(l->ins) == SQLITE_OK &&
	    sqlite3_clear_bindings(l->ins) == SQLITE_OK;
}

static int
on_start_array(void *ctx)
{
	struct loop *l = ctx;

	l->err = "array (the benchmark file is flat)";
	return 0;
}

static const yajl_callbacks callbacks = {
	on_null, on_boolean, NULL, NULL, on_number, on_string,
	on_start_map, on_map_key, on_end_map, on_start_array, NULL,
};

static int
exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		(void)fprintf(stderr, "cloop: %s: %s\n", sql,
		    msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	static unsigned char buf[1 << 16];
	struct loop l;
	yajl_handle h = NULL;
	yajl_status st;
	unsigned char *msg;
	ssize_t n;
	int c, rc = 1;
	char create[1024], sql[256];
	size_t off, coff;

	if (argc != 2) {
		(void)fputs("usage: cloop DB < file.ndjson\n", stderr);
		return 64;
	}
	memset(&l, 0, sizeof(l));
	for (c = 0; c < NCOLS; c++)
		colnamelen[c] = strlen(colnames[c]);
	if (sqlite3_open(argv[1], &l.db) != SQLITE_OK) {
		(void)fprintf(stderr, "cloop: %s: %s\n", argv[1],
		    sqlite3_errmsg(l.db));
		goto out;
	}
	/* The same table sqlite-load creates: quoted names, its types. */
	coff = (size_t)snprintf(create, sizeof(create), "CREATE TABLE \"t\" (");
	off = (size_t)snprintf(sql, sizeof(sql), "INSERT INTO \"t\" VALUES (");
	for (c = 0; c < NCOLS; c++) {
		coff += (size_t)snprintf(create + coff, sizeof(create) - coff,
		    "%s\"%s\" %s", c ? ", " : "", colnames[c], coldecls[c]);
		off += (size_t)snprintf(sql + off, sizeof(sql) - off, "%s?",
		    c ? "," : "");
	}
	(void)snprintf(create + coff, sizeof(create) - coff, ")");
	(void)snprintf(sql + off, sizeof(sql) - off, ")");
	if (exec(l.db, "PRAGMA journal_mode=WAL") ||
	    exec(l.db, "PRAGMA synchronous=FULL") ||
	    exec(l.db, "PRAGMA cache_size=-65536") ||
	    exec(l.db, "PRAGMA foreign_keys=OFF") ||
	    exec(l.db, "BEGIN IMMEDIATE") ||
	    exec(l.db, create))
		goto out;
	if (sqlite3_prepare_v2(l.db, sql, -1, &l.ins, NULL) != SQLITE_OK) {
		(void)fprintf(stderr, "cloop: prepare: %s\n",
		    sqlite3_errmsg(l.db));
		goto out;
	}
	if ((h = yajl_alloc(&callbacks, NULL, &l)) == NULL ||
	    !yajl_config(h, yajl_allow_multiple_values, 1))
		goto out;
	for (;;) {
		n = read(STDIN_FILENO, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			perror("cloop: stdin");
			goto out;
		}
		st = n ? yajl_parse(h, buf, (size_t)n) : yajl_complete_parse(h);
		if (st != yajl_status_ok) {
			if (l.err != NULL)
				(void)fprintf(stderr, "cloop: row %lld: %s\n",
				    l.rows + 1, l.err);
			else {
				msg = yajl_get_error(h, 0, NULL, 0);
				(void)fprintf(stderr, "cloop: row %lld: %s\n",
				    l.rows + 1, (char *)msg);
				yajl_free_error(h, msg);
			}
			goto out;
		}
		if (n == 0)
			break;
	}
	if (exec(l.db, "COMMIT"))
		goto out;
	(void)fprintf(stderr, "cloop: %lld rows\n", l.rows);
	rc = 0;
out:
	if (h != NULL)
		yajl_free(h);
	sqlite3_finalize(l.ins);
	if (rc != 0 && l.db != NULL && !sqlite3_get_autocommit(l.db))
		(void)exec(l.db, "ROLLBACK");
	if (sqlite3_close(l.db) != SQLITE_OK)
		rc = 1;
	return rc;
}
