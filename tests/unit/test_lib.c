/*
 * Unit tests for the functions of lib/ and of the programs' modules
 * (cmd/NAME/) whose edge cases are easier to state in C than through a
 * program: date detection, UTF-8 validation, JSON string escaping, 64-bit
 * range checks, widening and variant columns.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "check.h"
#include "cval.h"
#include "detect.h"
#include "exitcodes.h"
#include "gunzip.h"
#include "hmac.h"
#include "http.h"
#include "jbuf.h"
#include "jval.h"
#include "message.h"
#include "naming.h"
#include "schema.h"
#include "secrets.h"
#include "strtonum.h"

/* text through secrets_mask equals want. */
static void
mask_case(const struct secrets *s, const char *text, int prefix,
    const char *want)
{
	struct jbuf b = JBUF_INIT;

	secrets_mask(s, text, strlen(text), prefix, &b);
	CHECK(strcmp(jbuf_cstr(&b), want) == 0);
	if (strcmp(b.p, want) != 0)
		(void)fprintf(stderr, "  mask '%s': '%s', want '%s'\n", text, b.p,
		    want);
	jbuf_free(&b);
}

/* Secret values masked wherever they are, in each form they travel in. */
static void
test_secrets(void)
{
	struct secrets *s = secrets_new();
	struct http_opts o;
	const char *const headers[] = {
		"Authorization: Bearer tok/en+1", "X-Custom-Token: hf-9 "
	};

	mask_case(s, "nothing known", 0, "nothing known");
	memset(&o, 0, sizeof(o));
	o.secret_headers = headers;
	o.nsecret_headers = 2;
	o.user = "alice";
	o.password = "pw-1";
	o.key_value = "k y";
	http_secrets(&o, "http://bob:s%40cret@h/p?a=1&token=t0k&x=plain", s);
	/* The header's value, its token, %-escaped, JSON-escaped with \/. */
	mask_case(s, "got Authorization: Bearer tok/en+1.", 0,
	    "got Authorization: ***.");
	mask_case(s, "token tok/en+1 and tok%2Fen%2B1 and tok\\/en+1", 0,
	    "token *** and *** and ***");
	mask_case(s, "hf-9", 0, "***");
	/* Basic: the password and base64("alice:pw-1"), padded or not. */
	mask_case(s, "Basic YWxpY2U6cHctMQ== / YWxpY2U6cHctMQ / pw-1", 0,
	    "Basic *** / *** / ***");
	mask_case(s, "key k y, k%20y, k+y", 0, "key ***, ***, ***");
	/* The URL's: the user information's password, decoded and not. */
	mask_case(s, "s@cret s%40cret", 0, "*** ***");
	mask_case(s, "Ym9iOnNAY3JldA==", 0, "***");
	mask_case(s, "?token=t0k&x=plain", 0, "?token=***&x=plain");
	/* Cut text: an end that may begin a secret is masked too. */
	mask_case(s, "body: Bearer tok/e", 1, "body: ***");
	mask_case(s, "body: tok/e", 1, "body: ***");
	mask_case(s, "body: Bearer tok/e", 0, "body: Bearer tok/e");
	mask_case(s, "ends in p", 1, "ends in ***");
	CHECK(secrets_in(s, "a t0k b", 7));
	CHECK(!secrets_in(s, "a t0 b", 6));
	CHECK(!secrets_in(NULL, "t0k", 3));
	mask_case(NULL, "t0k", 0, "t0k");
	secrets_free(s);
	/* A user name alone, as a token: that is the secret. */
	s = secrets_new();
	memset(&o, 0, sizeof(o));
	http_secrets(&o, "https://ghp_abc@h/", s);
	mask_case(s, "user ghp_abc", 0, "user ***");
	secrets_free(s);
	/* Headers that hold credentials, by name. */
	CHECK(secrets_header_is_secret("Authorization: Bearer x"));
	CHECK(secrets_header_is_secret("X-API-Key: k"));
	CHECK(secrets_header_is_secret("cookie: a=b"));
	CHECK(!secrets_header_is_secret("Accept: application/json"));
	CHECK(!secrets_header_is_secret("X-Request-Id: 7"));
}

static int
collect(void *arg, const char *p, size_t n, struct lib_err *e)
{
	(void)e;
	jbuf_put(arg, p, n);
	return 0;
}

/* gzip of text, with zlib's own writer. */
static void
gzipped(const char *text, struct jbuf *out)
{
	z_stream z;
	unsigned char buf[4096];

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK)
		abort();
	z.next_in = (unsigned char *)(uintptr_t)text;
	z.avail_in = (uInt)strlen(text);
	z.next_out = buf;
	z.avail_out = sizeof(buf);
	if (deflate(&z, Z_FINISH) != Z_STREAM_END)
		abort();
	jbuf_put(out, buf, sizeof(buf) - z.avail_out);
	(void)deflateEnd(&z);
}

static void
test_gunzip(void)
{
	struct jbuf in = JBUF_INIT, out = JBUF_INIT;
	struct gunzip *g;
	struct lib_err e;
	size_t i;

	/* Plain bytes pass as they are, one byte at a time too. */
	g = gunzip_new(collect, &out);
	for (i = 0; i < 5; i++)
		CHECK(gunzip_feed(g, "{\"a\"}" + i, 1, &e) == 0);
	CHECK(gunzip_finish(g, &e) == 0);
	CHECK(out.len == 5 && memcmp(out.p, "{\"a\"}", 5) == 0);
	gunzip_free(g);

	/* Two gzip members one after the other, fed a byte at a time. */
	gzipped("first\n", &in);
	gzipped("second\n", &in);
	jbuf_reset(&out);
	g = gunzip_new(collect, &out);
	for (i = 0; i < in.len; i++)
		CHECK(gunzip_feed(g, in.p + i, 1, &e) == 0);
	CHECK(gunzip_finish(g, &e) == 0);
	CHECK(out.len == 13 && memcmp(out.p, "first\nsecond\n", 13) == 0);
	gunzip_free(g);

	/* Cut short: an error at the end, not silence. */
	jbuf_reset(&out);
	g = gunzip_new(collect, &out);
	CHECK(gunzip_feed(g, in.p, in.len / 4, &e) == 0);
	CHECK(gunzip_finish(g, &e) == -1 && strstr(e.msg, "gzip") != NULL);
	gunzip_free(g);

	/* Zero padding after the last member is ignored, as zcat does. */
	jbuf_reset(&in);
	gzipped("padded\n", &in);
	jbuf_put(&in, "\0\0\0\0\0\0\0\0", 8);
	jbuf_reset(&out);
	g = gunzip_new(collect, &out);
	for (i = 0; i < in.len; i++)
		CHECK(gunzip_feed(g, in.p + i, 1, &e) == 0);
	CHECK(gunzip_finish(g, &e) == 0);
	CHECK(out.len == 7 && memcmp(out.p, "padded\n", 7) == 0);
	gunzip_free(g);

	/* A single byte is no gzip magic: it passes at the end. */
	jbuf_reset(&out);
	g = gunzip_new(collect, &out);
	CHECK(gunzip_feed(g, "x", 1, &e) == 0 && out.len == 0);
	CHECK(gunzip_finish(g, &e) == 0 && out.len == 1 && out.p[0] == 'x');
	gunzip_free(g);
	jbuf_free(&in);
	jbuf_free(&out);
}

static void
test_detect(void)
{
	static const struct {
		const char		*s;
		enum detect_kind	 want;
	} cases[] = {
		{ "2009-06-14", DETECT_DATE },
		{ "2009-06-14T23:23:00Z", DETECT_TIMESTAMP },
		{ "2009-06-14 23:23:00", DETECT_TIMESTAMP },
		{ "2009-06-14T23:23:00.123456+02:00", DETECT_TIMESTAMP },
		{ "2009-06-14T23:23", DETECT_NONE },
		{ "2009-06-14T23:23:00-0500", DETECT_TIMESTAMP },
		{ "2009-13-14", DETECT_NONE },
		{ "2009-06-32", DETECT_NONE },
		{ "2009-06-14T24:00:00Z", DETECT_NONE },
		{ "2009-06-14T23:23:00Q", DETECT_NONE },
		{ "2009-06-14x", DETECT_NONE },
		{ "20090614", DETECT_NONE },
		{ "1234567890", DETECT_NONE },
		{ "", DETECT_NONE },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK(detect_temporal(cases[i].s, strlen(cases[i].s)) ==
		    cases[i].want);
}

/*
 * jbuf_utf8_char against the Unicode Standard's table of well-formed
 * byte sequences (Table 3-7), written here range by range: every lead
 * byte, every second byte, and the edges of the continuation range for
 * the third and fourth.
 */
static size_t
utf8_by_table(const unsigned char *s)
{
	static const struct {
		unsigned char lead_lo, lead_hi, lo1, hi1;
		size_t len;
	} rows[] = {
		{ 0xc2, 0xdf, 0x80, 0xbf, 2 }, { 0xe0, 0xe0, 0xa0, 0xbf, 3 },
		{ 0xe1, 0xec, 0x80, 0xbf, 3 }, { 0xed, 0xed, 0x80, 0x9f, 3 },
		{ 0xee, 0xef, 0x80, 0xbf, 3 }, { 0xf0, 0xf0, 0x90, 0xbf, 4 },
		{ 0xf1, 0xf3, 0x80, 0xbf, 4 }, { 0xf4, 0xf4, 0x80, 0x8f, 4 },
	};
	size_t r, k;

	for (r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		if (s[0] < rows[r].lead_lo || s[0] > rows[r].lead_hi)
			continue;
		if (s[1] < rows[r].lo1 || s[1] > rows[r].hi1)
			return 0;
		for (k = 2; k < rows[r].len; k++)
			if (s[k] < 0x80 || s[k] > 0xbf)
				return 0;
		return rows[r].len;
	}
	return 0;
}

static void
test_utf8_table(void)
{
	static const unsigned char edges[] = { 0x00, 0x41, 0x7f, 0x80, 0x8f,
	    0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xff };
	unsigned char s[4];
	unsigned lead, second, i, j;
	unsigned long wrong = 0, short_wrong = 0;
	size_t want, n;

	for (lead = 0x80; lead <= 0xff; lead++)
		for (second = 0; second <= 0xff; second++)
			for (i = 0; i < sizeof(edges); i++)
				for (j = 0; j < sizeof(edges); j++) {
					s[0] = (unsigned char)lead;
					s[1] = (unsigned char)second;
					s[2] = edges[i];
					s[3] = edges[j];
					want = utf8_by_table(s);
					if (jbuf_utf8_char(s, 4) != want ||
					    (want != 0) != jbuf_utf8_valid(
					    (const char *)s, want ? want : 4))
						wrong++;
					/* Cut short: never a character. */
					for (n = 1; want != 0 && n < want; n++)
						short_wrong += jbuf_utf8_char(s,
						    n) != 0;
				}
	CHECK(wrong == 0);
	CHECK(short_wrong == 0);
}

static void
test_utf8(void)
{
	CHECK(jbuf_utf8_valid("plain", 5));
	CHECK(jbuf_utf8_valid("\xce\xb1\xce\xb2", 4));		/* αβ */
	CHECK(jbuf_utf8_valid("\xf0\x9f\x98\x80", 4));		/* 😀 */
	CHECK(!jbuf_utf8_valid("\xc3\x28", 2));
	CHECK(!jbuf_utf8_valid("\xed\xa0\x80", 3));		/* surrogate */
	CHECK(!jbuf_utf8_valid("\xc0\xaf", 2));			/* overlong */
	CHECK(!jbuf_utf8_valid("\xe2\x82", 2));			/* truncated */
	CHECK(!jbuf_utf8_valid("\xf4\x90\x80\x80", 4));		/* > U+10FFFF */
}

/* The JSON text rules yajl lacks: surrogate escapes, \f and \v. */
static void
test_jval_text(void)
{
	static const struct {
		const char	*doc;
		int		 ok;
	} cases[] = {
		{ "{\"s\":\"\\ud83d\\ude00\"}", 1 },
		{ "{\"s\":\"\\\\ud800\"}", 1 },	/* an escaped backslash */
		{ "{\"s\":\"\\u00e9\\n\\\"\"}", 1 },
		{ "{\"s\":\"\\ud800\"}", 0 },
		{ "{\"s\":\"\\ud800\\ud800\"}", 0 },
		{ "{\"s\":\"\\ud888\\u1234\"}", 0 },
		{ "{\"s\":\"\\udc00\"}", 0 },
		{ "{\"s\":\"\\uDBFFx\"}", 0 },
		{ "{\"\\ud800\":1}", 0 },
		{ "{\"v\": [\f]}", 0 },
		{ "{\"v\":\v1}", 0 },
	};
	struct jval_parser *p = jval_parser_new(1 << 20);
	struct jval_text t;
	struct lib_err e;
	const struct jval *v;
	const char *why;
	size_t i, k, n, at;
	int bad;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = strlen(cases[i].doc);
		v = jval_parse(p, cases[i].doc, n, JVAL_KEEP_ALL, &e);
		CHECK((v != NULL) == cases[i].ok);
		/* The same verdict when the text comes a byte at a time. */
		memset(&t, 0, sizeof(t));
		for (k = 0, bad = 0; k < n && !bad; k++)
			bad = jval_text_check(&t, cases[i].doc + k, 1, &why,
			    &at) == -1;
		CHECK(bad == !cases[i].ok);
	}
	/* Empty text, as an empty buffer's NULL: no verdict, no crash. */
	memset(&t, 0, sizeof(t));
	CHECK(jval_text_check(&t, NULL, 0, &why, &at) == 0);
	CHECK(jval_parse(p, NULL, 0, JVAL_KEEP_ALL, &e) == NULL &&
	    e.code == EX_DATAERR);
	/* A valid pair decodes to its four bytes; U+0000 keeps its place. */
	v = jval_parse(p, "[\"\\ud83d\\ude00\",\"a\\u0000b\"]",
	    strlen("[\"\\ud83d\\ude00\",\"a\\u0000b\"]"), JVAL_KEEP_ALL, &e);
	CHECK(v != NULL && v->child->len == 4 &&
	    memcmp(v->child->str, "\xf0\x9f\x98\x80", 4) == 0);
	CHECK(v != NULL && v->child->next->len == 3 &&
	    memcmp(v->child->next->str, "a\0b", 3) == 0);
	jval_parser_free(p);
}

/* Repeated names: the last wins, for small and for wide objects. */
static void
test_members(void)
{
	struct jval_parser *p = jval_parser_new(1 << 22);
	struct jbuf doc = JBUF_INIT, seen = JBUF_INIT;
	const struct jval *v, *m;
	struct lib_err e;
	char num[32];
	int i;

	v = jval_parse(p, "{\"a\":1,\"b\":2,\"a\":3}", 19, JVAL_KEEP_ALL, &e);
	CHECK(v != NULL && v->dups);
	for (m = jval_member(v, NULL); m != NULL; m = jval_member(v, m))
		jbuf_put(&seen, m->key, m->keylen), jbuf_put(&seen, m->str, m->len);
	CHECK(strcmp(jbuf_cstr(&seen), "b2a3") == 0);
	v = jval_parse(p, "{\"a\":1,\"b\":2}", 13, JVAL_KEEP_ALL, &e);
	CHECK(v != NULL && !v->dups);
	/* 5,000 members, every name twice: linear, the second of each kept. */
	jbuf_putc(&doc, '{');
	for (i = 0; i < 5000; i++) {
		(void)snprintf(num, sizeof(num), "%s\"k%d\":%d", i ? "," : "",
		    i % 2500, i);
		jbuf_puts(&doc, num);
	}
	jbuf_putc(&doc, '}');
	v = jval_parse(p, doc.p, doc.len, JVAL_KEEP_ALL, &e);
	CHECK(v != NULL && v->dups);
	for (i = 0, m = jval_member(v, NULL); m != NULL;
	    m = jval_member(v, m))
		i += m->len == 4 && m->str[0] >= '2';
	CHECK(i == 2500);
	/* Wide, no name twice: every member, in order. */
	jbuf_reset(&doc);
	jbuf_putc(&doc, '{');
	for (i = 0; i < 100; i++) {
		(void)snprintf(num, sizeof(num), "%s\"k%d\":%d", i ? "," : "", i, i);
		jbuf_puts(&doc, num);
	}
	jbuf_putc(&doc, '}');
	v = jval_parse(p, doc.p, doc.len, JVAL_KEEP_ALL, &e);
	for (i = 0, m = jval_member(v, NULL); m != NULL;
	    m = jval_member(v, m), i++)
		if (m->keylen < 2 || strtol(m->key + 1, NULL, 10) != i)
			break;
	CHECK(i == 100);
	CHECK(v != NULL && !v->dups);
	/* The same names again: known to be without a repeat. */
	v = jval_parse(p, doc.p, doc.len, JVAL_KEEP_ALL, &e);
	CHECK(v != NULL && !v->dups);
	CHECK(jval_member(NULL, NULL) == NULL);
	jbuf_reset(&doc);
	jbuf_puts(&doc, "{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,"
	    "\"g\":7,\"h\":8,\"i\":9,\"j\":10,\"k\":11,\"l\":12,\"m\":13,"
	    "\"n\":14,\"o\":15,\"p\":16,\"q\":17}");
	v = jval_parse(p, doc.p, doc.len, JVAL_KEEP_ALL, &e);
	CHECK(v != NULL && v->len == 17);
	for (i = 0, m = jval_member(v, NULL); m != NULL; m = jval_member(v, m))
		i++;
	CHECK(i == 17 && !v->dups);
	jbuf_free(&doc);
	jbuf_free(&seen);
	jval_parser_free(p);
}

/* A clone is the same tree, whole, after its parser has moved on. */
static void
test_clone(void)
{
	static const char doc[] = "{\"a\":1,\"s\":\"x\\ny\\u00e9\",\"o\":{\"b\":"
	    "[true,null,{\"c\":-2.5e3}]},\"a\":\"last\",\"e\":{},\"f\":[]}";
	struct jval_parser *p = jval_parser_new(1 << 20);
	struct jbuf want = JBUF_INIT, got = JBUF_INIT;
	const struct jval *v;
	struct jval *c;
	struct lib_err e;
	size_t size;

	v = jval_parse(p, doc, sizeof(doc) - 1, JVAL_KEEP_ALL, &e);
	CHECK(v != NULL);
	if (v == NULL)
		goto out;
	jval_write(&want, v);
	c = jval_clone(v->child->next, &size);	/* a member: no sibling */
	CHECK(c->next == NULL && c->keylen == 1 && c->key[0] == 's' &&
	    c->len == 5 && memcmp(c->str, "x\ny\xc3\xa9", 5) == 0);
	free(c);
	c = jval_clone(v, &size);
	CHECK(size >= 12 * sizeof(struct jval));
	jval_parser_rewind(p);
	(void)jval_parse(p, "[\"overwrite the arena\",1,2,3,4,5,6,7,8,9]", 41,
	    JVAL_KEEP_ALL, &e);
	jval_write(&got, c);
	CHECK(strcmp(jbuf_cstr(&got), jbuf_cstr(&want)) == 0);
	CHECK(c->dups && jval_get(c, "a") != NULL &&
	    jval_streq(jval_get(c, "a"), "last"));
	CHECK(c->child->shadowed && !c->child->next->shadowed);
	free(c);
out:
	jbuf_free(&want);
	jbuf_free(&got);
	jval_parser_free(p);
}

static void
test_escape(void)
{
	struct jbuf b = JBUF_INIT;

	jbuf_str(&b, "a\"b\\c\n\x01\0z", 9);
	CHECK(b.len == strlen("\"a\\\"b\\\\c\\n\\u0001\\u0000z\"") &&
	    memcmp(b.p, "\"a\\\"b\\\\c\\n\\u0001\\u0000z\"", b.len) == 0);
	jbuf_reset(&b);
	jbuf_base64(&b, (const unsigned char *)"hello", 5);
	CHECK(b.len == 8 && memcmp(b.p, "aGVsbG8=", 8) == 0);
	jbuf_free(&b);
}

static void
test_numbers(void)
{
	struct jval_parser *p = jval_parser_new(1 << 20);
	struct jbuf b = JBUF_INIT;
	struct lib_err e;
	const struct jval *v;
	long long ll;
	const char *doc = "{\"a\":9007199254740993,\"b\":9223372036854775807,"
	    "\"c\":9223372036854775808,\"d\":-9223372036854775808,"
	    "\"e\":0.1000000000000000055511,\"f\":1e400}";

	/* The longest number a text starts with; jval_is_number, all of it. */
	CHECK(jval_number_len("007", 3) == 1 && !jval_is_number("007", 3));
	CHECK(jval_number_len("-", 1) == 0 && !jval_is_number("-", 1));
	CHECK(jval_number_len("1.e5", 4) == 1);
	CHECK(jval_number_len("1e+", 3) == 1);
	CHECK(jval_number_len("-0.5E-3x", 8) == 7);
	CHECK(jval_number_len("12.5", 3) == 2);		/* n bounds it */
	CHECK(jval_is_number("-0.5E-3", 7) && jval_is_number("0", 1));
	CHECK(!jval_is_number("", 0) && !jval_is_number("1.", 2));
	CHECK(!jval_is_number(".5", 2) && !jval_is_number("+1", 2));

	v = jval_parse(p, doc, strlen(doc), JVAL_KEEP_ALL, &e);
	CHECK(v != NULL);
	if (v == NULL)
		goto out;
	CHECK(jval_int64(jval_get(v, "a"), &ll) && ll == 9007199254740993LL);
	CHECK(jval_fits_int64(jval_get(v, "b")));
	CHECK(!jval_fits_int64(jval_get(v, "c")));
	CHECK(jval_int64(jval_get(v, "d"), &ll) && ll == (-9223372036854775807LL - 1));
	CHECK(!jval_fits_int64(jval_get(v, "e")));
	/* The fast path and strtod(3) agree, to the bit. */
	{
		static const char *const nums[] = {
			"40.858330", "-73.011194", "0.1", "92.30", "1e22", "1e23",
			"123456789012345.6", "1234567890123456789", "5e-324",
			"0.1000000000000000055511", "-0", "3.14159e-5", "17E+3"
		};
		struct jval n;
		size_t i;

		memset(&n, 0, sizeof(n));
		n.type = JV_NUMBER;
		for (i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
			double fast, slow;

			n.str = nums[i];
			n.len = strlen(nums[i]);
			fast = jval_double(&n);
			slow = strtod(nums[i], NULL);
			CHECK(memcmp(&fast, &slow, sizeof(fast)) == 0);
		}
	}
	jval_write(&b, v);
	/* Every number comes back as the text it arrived as. */
	CHECK(b.len == strlen(doc) && memcmp(b.p, doc, b.len) == 0);
	CHECK(jval_parse(p, "{\"a\":1} {}", 10, JVAL_KEEP_ALL, &e) == NULL);
	CHECK(jval_parse(p, "{\"a\":", 5, JVAL_KEEP_ALL, &e) == NULL);
	CHECK(jval_parse(p, "{}", 2, JVAL_KEEP_ALL, &e) != NULL);
out:
	jbuf_free(&b);
	jval_parser_free(p);
}

static void
test_deep(void)
{
	static char doc[200002];
	struct jval_parser *p = jval_parser_new(1 << 26);
	struct lib_err e;

	memset(doc, '[', 100000);
	memset(doc + 100000, ']', 100000);
	CHECK(jval_parse(p, doc, 200000, JVAL_KEEP_ALL, &e) == NULL);
	CHECK(strstr(e.msg, "nesting deeper") != NULL);
	CHECK(jval_parse(p, "[[1]]", 5, JVAL_KEEP_ALL, &e) != NULL);
	jval_parser_free(p);
}

static void
test_messages(void)
{
	struct jval_parser *p = jval_parser_new(1 << 20);
	struct message m;
	struct lib_err e;
	const struct jval *v;
	const char *rec = "{\"type\":\"record\",\"stream\":\"s\",\"record\":{}}";
	const char *bare = "{\"type\":\"RECORD\",\"stream\":\"s\"}";

	v = jval_parse(p, rec, strlen(rec), JVAL_KEEP_ALL, &e);
	CHECK(v != NULL && message_classify(v, 0, &m, &e) == 0 &&
	    m.kind == MSG_RECORD && m.streamlen == 1);
	CHECK(v != NULL && message_classify(v, 1, &m, &e) == 0 &&
	    m.kind == MSG_BARE);
	v = jval_parse(p, bare, strlen(bare), JVAL_KEEP_ALL, &e);
	CHECK(v != NULL && message_classify(v, 0, &m, &e) == 0 &&
	    m.kind == MSG_BARE);
	jval_parser_free(p);
}

/* Observe one record given as JSON text; returns the column of key. */
static long
observe(struct jval_parser *p, struct schema_table *t, const char *doc,
    const char *key, struct schema_changes *ch)
{
	static const struct schema_opts opts = { 1, 0 };
	const struct jval *v, *m;
	struct lib_err e;
	long col = -3, c;

	if ((v = jval_parse(p, doc, strlen(doc), JVAL_KEEP_ALL, &e)) == NULL)
		return -3;
	schema_record_begin(t);
	for (m = v->child; m != NULL; m = m->next) {
		if (schema_observe(t, m->key, m->keylen, m, &opts, ch, &c,
		    &e) == -1)
			c = -3;
		if (strlen(key) == m->keylen && memcmp(key, m->key, m->keylen) == 0)
			col = c;
	}
	schema_record_end(t, ch);
	return col;
}

static void
test_schema(void)
{
	struct jval_parser *p = jval_parser_new(1 << 20);
	struct schema_table *t = schema_table_new("s", 1);
	struct schema_changes ch = { NULL, 0, 0 };
	struct jbuf b = JBUF_INIT;
	long col;

	CHECK(observe(p, t, "{\"n\":1,\"z\":null,\"d\":\"2009-06-14\"}", "n", &ch) == 0);
	CHECK(t->ncols == 2 && t->cols[0].type == ST_BIGINT && !t->cols[0].nullable);
	CHECK(ch.n == 1 && ch.v[0].kind == SC_NEW_TABLE);
	ch.n = 0;
	/* bigint then double widens; date then timestamp widens. */
	CHECK(observe(p, t, "{\"n\":1.5,\"d\":\"2009-06-14T01:02:03Z\"}", "n", &ch) == 0);
	CHECK(t->cols[0].type == ST_DOUBLE && t->cols[1].type == ST_TIMESTAMP);
	CHECK(ch.n == 2 && ch.v[0].kind == SC_WIDEN && ch.v[1].kind == SC_WIDEN);
	ch.n = 0;
	/* text in a double column goes to a variant; the base turns nullable. */
	col = observe(p, t, "{\"n\":\"abc\",\"d\":null}", "n", &ch);
	CHECK(col == 2 && strcmp(t->cols[2].name, "n__v_text") == 0);
	CHECK(t->cols[0].nullable && t->cols[1].nullable);
	/* null never fixes a type: z has none yet and is not a column. */
	CHECK(schema_table_find(t, "z", 1) == -1);
	CHECK(observe(p, t, "{\"z\":null}", "z", &ch) == SCHEMA_NO_COLUMN);
	/* Under conflict_fail, a conflict is -1 with e set, no column. */
	{
		static const struct schema_opts strict = { 1, 1 };
		struct lib_err e = { 0, "" };
		const struct jval *d = jval_parse(p, "{\"n\":[1]}", 9,
		    JVAL_KEEP_ALL, &e);
		long c = 7;

		CHECK(d != NULL && schema_observe(t, "n", 1, d->child, &strict,
		    &ch, &c, &e) == -1);
		CHECK(e.code == EX_DATAERR && c == SCHEMA_NO_COLUMN);
		CHECK(strstr(e.msg, "column \"n\": json value in a double") != NULL);
	}
	schema_write_json(t, &b);
	CHECK(strcmp(jbuf_cstr(&b), "{\"type\":\"object\",\"properties\":{"
	    "\"n\":{\"type\":[\"null\",\"number\"]},"
	    "\"d\":{\"type\":[\"null\",\"string\"],\"format\":\"date-time\"},"
	    "\"n__v_text\":{\"type\":[\"null\",\"string\"]}}}") == 0);
	jbuf_free(&b);
	schema_changes_free(&ch);
	schema_table_free(t);
	jval_parser_free(p);
}

static void
test_strtonum(void)
{
	struct lib_err e;
	unsigned long long v;
	long long ll;

	CHECK(strtonum_size("64M", 0, 1ULL << 40, &v, &e) == 0 && v == 64ULL << 20);
	CHECK(strtonum_size("12k", 0, 1ULL << 40, &v, &e) == 0 && v == 12288);
	CHECK(strtonum_size("-1", 0, 1ULL << 40, &v, &e) == -1);
	CHECK(strtonum_size("5X", 0, 1ULL << 40, &v, &e) == -1);
	CHECK(strtonum_ll("42", 0, 100, &ll, &e) == 0 && ll == 42);
	CHECK(strtonum_ll("420", 0, 100, &ll, &e) == -1);
	CHECK(strtonum_ll("4x", 0, 100, &ll, &e) == -1);
}

static void
test_naming(void)
{
	static const char *const cases[][2] = {
		{ "fooBar", "foo_bar" },
		{ "getHTTPResponse", "get_http_response" },
		{ "CamelCase2Go", "camel_case2_go" },
		{ "+1", "x1" },
		{ "-1", "_1" },
		{ "a_", "ax" },
		{ "__a__", "_axx" },
		{ "1st place", "_1st_place" },
		{ "Hello  World", "hello_world" },
		{ "caf\xc3\xa9", "cafx" },
		{ "e-mail@home|x", "e_mailahomelx" },
		{ "a*b", "axb" },
		{ "  padded ", "padded" },
		{ "", "x" },
		{ "Payment", "payment" },
		{ "user_ID", "user_id" },
	};
	struct jbuf b = JBUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		jbuf_reset(&b);
		naming_snake(cases[i][0], strlen(cases[i][0]), &b);
		if (strcmp(jbuf_cstr(&b), cases[i][1]) != 0)
			(void)fprintf(stderr, "naming: '%s' -> '%s', want '%s'\n",
			    cases[i][0], b.p, cases[i][1]);
		CHECK(strcmp(b.p, cases[i][1]) == 0);
	}
	jbuf_free(&b);
}

/* RFC 4231 test case 2, the tag byte being the message's first. */
static void
test_hmac(void)
{
	static const char want[] =
	    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
	char hex[HMAC_HEX_LEN];
	struct lib_err e;
	struct hmac *h;

	CHECK((h = hmac_new("Jefe", 4, &e)) != NULL);
	if (h == NULL)
		return;
	CHECK(hmac_tagged_hex(h, 'w', "hat do ya want for nothing?", 27, hex,
	    &e) == 0);
	CHECK(memcmp(hex, want, HMAC_HEX_LEN) == 0);
	/* The keyed state is not used up: the same token again. */
	CHECK(hmac_tagged_hex(h, 'w', "hat do ya want for nothing?", 27, hex,
	    &e) == 0);
	CHECK(memcmp(hex, want, HMAC_HEX_LEN) == 0);
	hmac_free(h);
}

/* The order of two option texts as cval sees them. */
static int
cmp_text(const char *a, const char *b)
{
	struct jbuf x = JBUF_INIT, y = JBUF_INIT;
	int c;

	cval_encode_text(&x, a, strlen(a));
	cval_encode_text(&y, b, strlen(b));
	c = cval_cmp(x.p, x.len, y.p, y.len);
	jbuf_free(&x);
	jbuf_free(&y);
	return c;
}

static void
test_cval(void)
{
	struct jbuf a = JBUF_INIT, b = JBUF_INIT;
	long long sec;
	long nsec;

	CHECK(cval_instant("1970-01-01", 10, &sec, &nsec) == 0 && sec == 0);
	CHECK(cval_instant("2024-05-01T12:00:00+02:00", 25, &sec, &nsec) == 0 &&
	    sec == 1714557600 && nsec == 0);
	CHECK(cval_instant("2024-05-01 10:00:00.25Z", 23, &sec, &nsec) == 0 &&
	    sec == 1714557600 && nsec == 250000000);
	CHECK(cval_instant("1969-12-31T23:59:59Z", 20, &sec, &nsec) == 0 &&
	    sec == -1);
	CHECK(cval_instant("2024-05-01T10:00:00-0130", 24, &sec, &nsec) == 0 &&
	    sec == 1714557600 + 5400);
	CHECK(cval_instant("2024-05-01T10:00", 16, &sec, &nsec) == -1);
	CHECK(cmp_text("9223372036854775807", "9223372036854775806") > 0);
	CHECK(cmp_text("10", "9.5") > 0);
	CHECK(cmp_text("1e1", "10") == 0);
	CHECK(cmp_text("-0.5", "-1") > 0);
	CHECK(cmp_text("2024-05-02", "2024-05-01T23:59:59.999Z") > 0);
	CHECK(cmp_text("2024-05-01T12:00:00+02:00", "2024-05-01T10:00:00Z") == 0);
	CHECK(cmp_text("abc", "abd") < 0);
	CHECK(cmp_text("abc", "ab") > 0);
	/* A timestamp never beats another string; a number never beats a string. */
	CHECK(cmp_text("2099-01-01", "a") < 0);
	CHECK(cmp_text("99", "0000") < 0);
	CHECK(cval_cmp("", 0, "\0", 1) == 0);
	cval_encode_text(&a, "100", 3);
	CHECK(cval_minus(&b, a.p, a.len, 2.0L) == 0);
	jbuf_reset(&a);
	cval_encode_text(&a, "98", 2);
	CHECK(cval_cmp(a.p, a.len, b.p, b.len) == 0);
	jbuf_reset(&a);
	jbuf_reset(&b);
	cval_encode_text(&a, "2024-05-02", 10);
	CHECK(cval_minus(&b, a.p, a.len, 0.5L) == 0);
	jbuf_reset(&a);
	cval_encode_text(&a, "2024-05-01T23:59:59.5Z", 22);
	CHECK(cval_cmp(a.p, a.len, b.p, b.len) == 0);
	jbuf_reset(&a);
	jbuf_reset(&b);
	cval_encode_text(&a, "plain", 5);
	CHECK(cval_minus(&b, a.p, a.len, 1.0L) == -1);
	jbuf_free(&a);
	jbuf_free(&b);
}

int
main(void)
{
	test_detect();
	test_secrets();
	test_gunzip();
	test_utf8();
	test_utf8_table();
	test_jval_text();
	test_members();
	test_clone();
	test_escape();
	test_numbers();
	test_deep();
	test_messages();
	test_schema();
	test_strtonum();
	test_naming();
	test_hmac();
	test_cval();
	(void)printf("unit: %d passed, %d failed\n", passed, failed);
	return failed != 0;
}
