/*
 * The NDJSON line reader over a file descriptor: lines never hold a
 * newline, never exceed max_line, are never blank, and their numbers only
 * go up; every byte of a line comes from the input.  And one ruleset
 * (ndjson.h): pgfetch's JSON Lines reader (extract, fed in chunks whose
 * size the first byte picks) gives the same records and the same bad
 * lines, with the same line numbers, messages and kept bytes, as this
 * reader followed by the parse every program does.
 */
#include <string.h>
#include <unistd.h>

#include "exitcodes.h"
#include "extract.h"
#include "fuzz.h"
#include "jbuf.h"
#include "jval.h"
#include "ndjson.h"

#define MAX_LINE	64

/* What a reader made of its input, one event a line: the transcript. */
static struct jbuf by_ndjson = JBUF_INIT, by_extract = JBUF_INIT;

static void
said(struct jbuf *t, unsigned long line, const char *what, const char *text,
    size_t len)
{
	char num[32];

	(void)snprintf(num, sizeof(num), "%lu ", line);
	jbuf_puts(t, num);
	jbuf_puts(t, what);
	jbuf_putc(t, ' ');
	jbuf_str(t, text, len);
	jbuf_putc(t, '\n');
}

static int
on_record(void *arg, const char *json, size_t len, unsigned long line,
    struct lib_err *e)
{
	(void)arg;
	(void)e;
	said(&by_extract, line, "record", json, len);
	return 0;
}

static int
on_bad(void *arg, const char *text, size_t len, unsigned long line,
    const char *why, struct lib_err *e)
{
	(void)arg;
	(void)e;
	said(&by_extract, line, why, text, len);
	return 0;
}

/* The same bytes through extract's JSON Lines mode. */
static void
extract_lines(const uint8_t *data, size_t size)
{
	struct extract_opts o;
	struct extract *x;
	struct lib_err e;
	size_t chunk = size > 0 ? (size_t)data[0] % 16 + 1 : 1, off;

	memset(&o, 0, sizeof(o));
	o.format = EXTRACT_JSONL;
	o.max_record = MAX_LINE;
	o.record = on_record;
	o.bad = on_bad;
	x = extract_new(&o, &e);
	FUZZ_CHECK(x != NULL, "extractor allocated");
	for (off = 0; off < size; off += chunk)
		FUZZ_CHECK(extract_feed(x, (const char *)data + off,
		    size - off < chunk ? size - off : chunk, &e) == 0,
		    "JSON Lines: every bad line goes to bad");
	FUZZ_CHECK(extract_finish(x, &e) == 0, "JSON Lines: the end is fine");
	extract_free(x);
}

/* A line ndjson_next gave, parsed as the programs do, into by_ndjson. */
static void
parse_line(struct jval_parser *p, const struct ndjson_line *l)
{
	const struct jval *v, *m;
	struct jbuf out = JBUF_INIT;
	struct lib_err e;

	jval_parser_rewind(p);
	if ((v = jval_parse(p, l->text, l->len, JVAL_KEEP_ALL, &e)) == NULL ||
	    ndjson_records(v, 1, &e) == -1) {
		said(&by_ndjson, l->lineno, e.msg, l->text, l->len);
		return;
	}
	for (m = v->type == JV_ARRAY ? v->child : v; m != NULL;
	    m = v->type == JV_ARRAY ? m->next : NULL) {
		jbuf_reset(&out);
		jval_write(&out, m);
		said(&by_ndjson, l->lineno, "record", out.p, out.len);
	}
	jbuf_free(&out);
}

static int
blank(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static struct jval_parser *p;
	struct ndjson_reader r;
	struct ndjson_line l;
	struct lib_err e;
	unsigned long last = 0;
	int rc;

	if (fd == -1) {
		FILE *f = tmpfile();

		FUZZ_CHECK(f != NULL, "temporary file");
		fd = fileno(f);
		p = jval_parser_new(MAX_LINE * 8 + ((size_t)1 << 20));
		FUZZ_CHECK(p != NULL, "parser allocated");
	}
	jbuf_reset(&by_ndjson);
	jbuf_reset(&by_extract);
	FUZZ_CHECK(ftruncate(fd, 0) == 0 && lseek(fd, 0, SEEK_SET) == 0 &&
	    write(fd, data, size) == (ssize_t)size &&
	    lseek(fd, 0, SEEK_SET) == 0, "input written");
	FUZZ_CHECK(ndjson_init(&r, fd, "fuzz", MAX_LINE, NULL, NULL, &e) == 0,
	    "reader initialised");
	while ((rc = ndjson_next(&r, &l, &e)) != 0) {
		if (rc == -1) {
			FUZZ_CHECK(e.code == EX_DATAERR, "only overlong lines fail");
			FUZZ_CHECK(l.len <= MAX_LINE, "overlong line cut");
			said(&by_ndjson, l.lineno, e.msg, l.text, l.len);
			continue;
		}
		FUZZ_CHECK(l.len <= MAX_LINE, "line within max_line");
		FUZZ_CHECK(memchr(l.text, '\n', l.len) == NULL, "no newline");
		FUZZ_CHECK(l.lineno > last, "line numbers go up");
		FUZZ_CHECK(l.text >= r.buf && l.text + l.len <= r.buf + r.end,
		    "a line is inside the buffer");
		FUZZ_CHECK(!blank(l.text, l.len), "blank lines are skipped");
		last = l.lineno;
		parse_line(p, &l);
	}
	ndjson_free(&r);
	extract_lines(data, size);
	FUZZ_CHECK(by_ndjson.len == by_extract.len && (by_ndjson.len == 0 ||
	    memcmp(by_ndjson.p, by_extract.p, by_ndjson.len) == 0),
	    "extract and ndjson read JSON Lines alike");
	return 0;
}
