/*
 * cmd/pgfetch/jfast: the bytes of lines at the edges of what the fast path takes,
 * each checked against the bytes written down here and against the slow
 * path (jval_parse then jval_write), which must agree on every accepted
 * line; and the lines it must leave to the slow path.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "jbuf.h"
#include "jfast.h"
#include "jval.h"

static struct jval_parser *parser;
static struct jbuf out = JBUF_INIT;

/* What the slow path writes for the n bytes at s, or NULL when it refuses them. */
static const char *
slow(const char *s, size_t n, struct jbuf *b, size_t *len)
{
	const struct jval *v;
	struct lib_err e;

	jval_parser_rewind(parser);
	if ((v = jval_parse(parser, s, n, JVAL_KEEP_ALL, &e)) == NULL ||
	    v->type != JV_OBJECT)
		return NULL;
	jbuf_reset(b);
	jval_write(b, v);
	*len = b->len;
	return b->p;
}

/*
 * The line of n bytes is taken, and written as want (the line itself
 * when want is NULL), the bytes the slow path writes.
 */
static int
taken(const char *s, size_t n, const char *want, size_t values)
{
	struct jbuf b = JBUF_INIT;
	struct jfast r;
	const char *t;
	size_t tlen = 0, wlen = want != NULL ? strlen(want) : n;
	int ok;

	if (!jfast_object(s, n, &out, &r)) {
		(void)fprintf(stderr, "declined: %.*s\n", (int)(n < 80 ? n : 80), s);
		return 0;
	}
	t = slow(s, n, &b, &tlen);
	ok = t != NULL && r.len == wlen && tlen == wlen &&
	    memcmp(r.text, want != NULL ? want : s, wlen) == 0 &&
	    memcmp(t, r.text, wlen) == 0 &&
	    (want != NULL || r.text == s) &&
	    (values == 0 || r.values == values);
	if (!ok)
		(void)fprintf(stderr, "wrong: %.*s -> %.*s\n", (int)n, s,
		    (int)r.len, r.text);
	jbuf_free(&b);
	return ok;
}

/* The line is left to the slow path. */
static int
declined(const char *s, size_t n)
{
	struct jfast r;

	return !jfast_object(s, n, &out, &r);
}

#define TAKEN(lit, want)	taken(lit, sizeof(lit) - 1, want, 0)
#define DECLINED(lit)		declined(lit, sizeof(lit) - 1)

/* An object holding depth - 1 arrays inside each other: depth containers. */
static char *
nested(size_t depth, size_t *n)
{
	char *s = malloc(2 * depth + 8);
	size_t i, k = 0;

	memcpy(s, "{\"a\":", 5);
	k = 5;
	for (i = 1; i < depth; i++)
		s[k++] = '[';
	for (i = 1; i < depth; i++)
		s[k++] = ']';
	s[k++] = '}';
	*n = k;
	return s;
}

/*
 * A character at every offset of a string longer than the scanners'
 * sixteen-byte steps, and past its end: valid ones are taken as they
 * are, invalid or cut-short ones declined, wherever they fall.
 */
static void
test_utf8_offsets(void)
{
	static const char *const good[] = { "\xc3\xa9", "\xe6\x97\xa5",
	    "\xf0\x9f\x98\x80", "\xef\xbf\xbf" };
	static const char *const bad[] = { "\xc3", "\xe6\x97", "\xf0\x9f\x98",
	    "\x80", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xff" };
	char line[128];
	size_t at, i, len;

	for (at = 0; at <= 40; at++) {
		for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
			len = (size_t)snprintf(line, sizeof(line),
			    "{\"k\":\"%.*s%s%.*s\"}", (int)at,
			    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ", good[i],
			    (int)(40 - at), "0123456789012345678901234567890123456789");
			CHECK(taken(line, len, NULL, 0));
		}
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			len = (size_t)snprintf(line, sizeof(line),
			    "{\"k\":\"%.*s%s%.*s\"}", (int)at,
			    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ", bad[i],
			    (int)(40 - at), "0123456789012345678901234567890123456789");
			CHECK(declined(line, len));
		}
	}
}

int
main(void)
{
	char *deep;
	size_t n;

	parser = jval_parser_new((size_t)1 << 24);
	CHECK(parser != NULL);

	/* Already in jval_write's form: the line itself. */
	CHECK(taken("{\"a\":1}", 7, NULL, 2));
	CHECK(TAKEN("{}", NULL));
	CHECK(TAKEN("{\"a\":{},\"b\":[],\"c\":[{}]}", NULL));
	CHECK(TAKEN("{\"a\":\"é\",\"日本\":\"😀\"}", NULL));
	CHECK(TAKEN("{\"a\":\"\\\"\\\\\\b\\f\\n\\r\\t\"}", NULL));
	/* A \u escape is written again, as it was when jbuf_str writes so. */
	CHECK(TAKEN("{\"a\":\"\\u0001\\u001f\\u0000x\"}",
	    "{\"a\":\"\\u0001\\u001f\\u0000x\"}"));
	CHECK(TAKEN("{\"a\\u0000\":\"x\\u0000y\"}", "{\"a\\u0000\":\"x\\u0000y\"}"));
	CHECK(TAKEN("{\"a\":1E5,\"b\":-0,\"c\":1.0,\"d\":1e-7,\"e\":-1.5E+300}",
	    NULL));
	CHECK(TAKEN("{\"id\":18446744073709551616123,\"x\":0.10000000000000000001}",
	    NULL));
	CHECK(TAKEN("{\"a\":true,\"b\":false,\"c\":null}", NULL));
	/* Every member is written, a repeated name too (last one wins later). */
	CHECK(taken("{\"a\":1,\"a\":[2],\"a\":3}", 21, NULL, 5));
	CHECK(TAKEN("{\"a\":\"\x7f\"}", NULL));

	/* Escapes jval_write does not keep: what it writes instead. */
	CHECK(TAKEN("{\"a\":\"\\u00e9\"}", "{\"a\":\"é\"}"));
	CHECK(TAKEN("{\"a\":\"\\u00E9t\\u00e9\"}", "{\"a\":\"été\"}"));
	CHECK(TAKEN("{\"a\":\"\\/\"}", "{\"a\":\"/\"}"));
	CHECK(TAKEN("{\"a\":\"\\ud83d\\ude00\"}", "{\"a\":\"😀\"}"));
	CHECK(TAKEN("{\"a\":\"\\uD83D\\uDE00!\"}", "{\"a\":\"😀!\"}"));
	CHECK(TAKEN("{\"a\":\"\\u001F\"}", "{\"a\":\"\\u001f\"}"));
	CHECK(TAKEN("{\"a\":\"\\u0008\\u0009\\u000a\\u000C\\u000d\"}",
	    "{\"a\":\"\\b\\t\\n\\f\\r\"}"));
	CHECK(TAKEN("{\"a\":\"\\u0022\\u005c\\u0041\\u007f\"}",
	    "{\"a\":\"\\\"\\\\A\x7f\"}"));
	CHECK(TAKEN("{\"\\u00e9\":1}", "{\"é\":1}"));
	CHECK(TAKEN("{\"a\":\"\\u0800\\uffff\"}", "{\"a\":\"\xe0\xa0\x80\xef\xbf\xbf\"}"));
	CHECK(TAKEN("{\"a\":\"\\udbff\\udfff\"}", "{\"a\":\"\xf4\x8f\xbf\xbf\"}"));
	/* Whitespace between tokens (CR and tab too) is not written. */
	CHECK(TAKEN(" { \"a\" : [ 1 , { \"b\" :\tnull } ] ,\r\"c\":2 }\t",
	    "{\"a\":[1,{\"b\":null}],\"c\":2}"));
	CHECK(TAKEN("{\"a\":\"x y\" }", "{\"a\":\"x y\"}"));

	/* Nesting: jval_parse takes JVAL_MAX_DEPTH containers, not one more. */
	deep = nested(JVAL_MAX_DEPTH, &n);
	CHECK(taken(deep, n, NULL, JVAL_MAX_DEPTH));
	free(deep);
	deep = nested(JVAL_MAX_DEPTH + 1, &n);
	CHECK(declined(deep, n));
	CHECK(slow(deep, n, &out, &n) == NULL);
	free(deep);

	/* Left to the slow path: its messages, or its records. */
	CHECK(DECLINED("{\"a\":\"\\ud83d\"}"));		/* lone high surrogate */
	CHECK(DECLINED("{\"a\":\"\\ud83dx\"}"));
	CHECK(DECLINED("{\"a\":\"\\ud83d\\u0041\"}"));
	CHECK(DECLINED("{\"a\":\"\\ude00\"}"));		/* lone low surrogate */
	CHECK(DECLINED("{\"a\":\"\\u00g0\"}"));
	CHECK(DECLINED("{\"a\":\"\\u00e\"}"));
	CHECK(DECLINED("{\"a\":\"\\x\"}"));
	CHECK(declined("{\"a\":\"x\0y\"}", 10));	/* a raw NUL */
	CHECK(DECLINED("{\"a\":\"x\ty\"}"));		/* a raw tab */
	CHECK(DECLINED("{\"a\":\"\xc3\"}"));		/* invalid UTF-8 */
	CHECK(DECLINED("{\"a\":\"\xc3x\"}"));
	CHECK(DECLINED("{\"a\":\"\xc0\xaf\"}"));	/* overlong */
	CHECK(DECLINED("{\"a\":\"\xed\xa0\x80\"}"));	/* CESU-8 surrogate */
	CHECK(DECLINED("{\"a\":\"\xf4\x90\x80\x80\"}"));	/* past U+10FFFF */
	CHECK(DECLINED("{\"\xff\":1}"));
	CHECK(DECLINED("{\"a\":01}"));
	CHECK(DECLINED("{\"a\":1.}"));
	CHECK(DECLINED("{\"a\":.5}"));
	CHECK(DECLINED("{\"a\":-}"));
	CHECK(DECLINED("{\"a\":+1}"));
	CHECK(DECLINED("{\"a\":1e}"));
	CHECK(DECLINED("{\"a\":1-2}"));
	CHECK(DECLINED("{\"a\":tru}"));
	CHECK(DECLINED("{\"a\":truex}"));
	CHECK(DECLINED("{\"a\":NaN}"));
	CHECK(DECLINED("{\"a\":1,}"));
	CHECK(DECLINED("{\"a\":1}x"));
	CHECK(DECLINED("{\"a\":1} {\"b\":2}"));
	CHECK(DECLINED("{\"a\":1}\f"));			/* jval_text_check's */
	CHECK(DECLINED("{\"a\":1\v}"));
	CHECK(DECLINED("{\"a\":[1}"));
	CHECK(DECLINED("{\"a\":1]"));
	CHECK(DECLINED("{\"a\" 1}"));
	CHECK(DECLINED("{1:1}"));
	CHECK(DECLINED("{\"a\":1"));
	CHECK(DECLINED("{\"a\":\"x"));
	CHECK(DECLINED("{\"a\":\"x\\"));
	CHECK(DECLINED("[{\"a\":1}]"));		/* a list: the slow path splits it */
	CHECK(DECLINED("\"a\""));
	CHECK(DECLINED("1"));
	CHECK(DECLINED(""));
	CHECK(DECLINED("   "));
	/* Non-ASCII outside a string: the line's UTF-8 is valid, its JSON not. */
	CHECK(DECLINED("{\"a\":1\xc3\xa9}"));
	CHECK(DECLINED("{\"a\":\xc3\xa9}"));
	CHECK(DECLINED("{\xc3\xa9\"a\":1}"));
	CHECK(DECLINED("{\"a\":1}\xc2\xa0"));		/* U+00A0 is no JSON blank */
	CHECK(DECLINED("{\"a\"\xc2\xa0:1}"));
	/* A number's longest valid start, then what may not follow it. */
	CHECK(DECLINED("{\"a\":007}"));
	CHECK(DECLINED("{\"a\":-01}"));
	CHECK(DECLINED("{\"a\":1.2.3}"));
	CHECK(DECLINED("{\"a\":1.e5}"));
	CHECK(DECLINED("{\"a\":1e+}"));
	CHECK(DECLINED("{\"a\":1E}"));
	CHECK(DECLINED("{\"a\":1e5e5}"));
	CHECK(DECLINED("{\"a\":--1}"));
	CHECK(DECLINED("{\"a\":[1 2]}"));
	CHECK(TAKEN("{\"a\":[0,-0.0e-0,0e5,10.01E+01,-9]}", NULL));
	test_utf8_offsets();

	jbuf_free(&out);
	jval_parser_free(parser);
	(void)printf("unit jfast: %d passed, %d failed\n", passed, failed);
	return failed != 0;
}
