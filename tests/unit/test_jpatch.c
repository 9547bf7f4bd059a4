/*
 * Unit tests of jpatch, the JSON merge patch pg-load merges each STATE
 * with: RFC 7396's own examples, then random documents against SQLite's
 * json_patch(), which sqlite-load uses, so both loaders store the same
 * state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "check.h"
#include "jpatch.h"
#include "jval.h"

static struct jval_parser *parser;

/* target patched by patch, as text ("" when either is not JSON). */
static void
patched(const char *target, const char *patch, struct jbuf *out)
{
	const struct jval *t, *p;
	struct jval_parser *p2 = jval_parser_new((size_t)1 << 20);
	struct lib_err e;

	jbuf_reset(out);
	jval_parser_rewind(parser);
	if (p2 != NULL &&
	    (t = jval_parse(parser, target, strlen(target), JVAL_KEEP_ALL,
	    &e)) != NULL &&
	    (p = jval_parse(p2, patch, strlen(patch), JVAL_KEEP_ALL, &e)) != NULL)
		jpatch_write(out, t, p);
	jval_parser_free(p2);
}

static void
test_rfc7396(void)
{
	static const char *const cases[][3] = {
		{ "{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}" },
		{ "{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}" },
		{ "{\"a\":\"b\"}", "{\"a\":null}", "{}" },
		{ "{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}", "{\"b\":\"c\"}" },
		{ "{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}" },
		{ "{\"a\":\"c\"}", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}" },
		{ "{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}",
		    "{\"a\":{\"b\":\"d\"}}" },
		{ "{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", "{\"a\":[1]}" },
		{ "[\"a\",\"b\"]", "[\"c\",\"d\"]", "[\"c\",\"d\"]" },
		{ "{\"a\":\"b\"}", "[\"c\"]", "[\"c\"]" },
		{ "{\"a\":\"foo\"}", "null", "null" },
		{ "{\"a\":\"foo\"}", "\"bar\"", "\"bar\"" },
		{ "{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}" },
		{ "[1,2]", "{\"a\":\"b\",\"c\":null}", "{\"a\":\"b\"}" },
		{ "{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}" },
	};
	struct jbuf out = JBUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		patched(cases[i][0], cases[i][1], &out);
		CHECK(strcmp(jbuf_cstr(&out), cases[i][2]) == 0);
		if (strcmp(jbuf_cstr(&out), cases[i][2]) != 0)
			(void)fprintf(stderr, "  %s + %s = %s, not %s\n",
			    cases[i][0], cases[i][1], jbuf_cstr(&out),
			    cases[i][2]);
	}
	jbuf_free(&out);
}

/* A fixed sequence (xorshift): the same documents every run. */
static unsigned long rng_state = 7396;

static int
next_rand(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (int)(rng_state >> 33 & 0x7fffffff);
}

/* A random value, depth at most d: scalars, objects of distinct keys. */
static void
random_value(struct jbuf *b, int d, int object)
{
	static const char *const keys[] = { "a", "b", "c", "d", "e" };
	int i, n, r = next_rand() % 8, used = 0;

	if (object || (d > 0 && r < 3)) {
		jbuf_putc(b, '{');
		n = next_rand() % 4;
		for (i = 0; i < n; i++) {
			int k = next_rand() % 5;

			if (used & (1 << k))
				continue;
			if (used)
				jbuf_putc(b, ',');
			used |= 1 << k;
			jbuf_putc(b, '"');
			jbuf_puts(b, keys[k]);
			jbuf_puts(b, "\":");
			random_value(b, d - 1, 0);
		}
		jbuf_putc(b, '}');
		return;
	}
	switch (r) {
	case 3:
	case 4:
		jbuf_puts(b, "null");
		break;
	case 5:
		jbuf_puts(b, "[1,\"x\"]");
		break;
	case 6:
		jbuf_puts(b, "true");
		break;
	default:
		jbuf_puts(b, r == 0 ? "\"s\"" : r == 1 ? "12" : "-0.5");
	}
}

static void
test_like_sqlite(void)
{
	struct jbuf t = JBUF_INIT, p = JBUF_INIT, out = JBUF_INIT;
	sqlite3 *db;
	sqlite3_stmt *st;
	int i, same = 0, tries = 2000;

	CHECK(sqlite3_open(":memory:", &db) == SQLITE_OK);
	CHECK(sqlite3_prepare_v2(db, "SELECT json_patch(?1, ?2)", -1, &st,
	    NULL) == SQLITE_OK);
	for (i = 0; i < tries; i++) {
		jbuf_reset(&t);
		jbuf_reset(&p);
		random_value(&t, 3, 1);
		random_value(&p, 3, 1);
		patched(jbuf_cstr(&t), jbuf_cstr(&p), &out);
		(void)sqlite3_bind_text(st, 1, t.p, (int)t.len, SQLITE_STATIC);
		(void)sqlite3_bind_text(st, 2, p.p, (int)p.len, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW &&
		    strcmp((const char *)sqlite3_column_text(st, 0),
		    jbuf_cstr(&out)) == 0)
			same++;
		else
			(void)fprintf(stderr, "  %s + %s: jpatch %s, SQLite %s\n",
			    jbuf_cstr(&t), jbuf_cstr(&p), jbuf_cstr(&out),
			    (const char *)sqlite3_column_text(st, 0));
		(void)sqlite3_reset(st);
	}
	CHECK(same == tries);
	(void)sqlite3_finalize(st);
	(void)sqlite3_close(db);
	jbuf_free(&t);
	jbuf_free(&p);
	jbuf_free(&out);
}

int
main(void)
{
	parser = jval_parser_new((size_t)1 << 20);
	CHECK(parser != NULL);
	test_rfc7396();
	test_like_sqlite();
	jval_parser_free(parser);
	(void)printf("unit jpatch: %d passed, %d failed\n", passed, failed);
	return failed != 0;
}
