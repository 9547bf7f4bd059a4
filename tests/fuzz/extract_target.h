/*
 * The body of the extractor's targets (fuzz_extract_json.c and
 * fuzz_extract_csv.c set FUZZ_FORMAT): bytes fed in chunks whose size the
 * first input byte picks, so records split across chunks are exercised.
 * Every record handed out is one line of JSON that parses as an object,
 * in valid UTF-8, on a line number that never goes down.
 */
#include <string.h>

#include "exitcodes.h"
#include "extract.h"
#include "fuzz.h"
#include "jbuf.h"
#include "jval.h"

struct seen {
	struct jval_parser *p;
	unsigned long	 line;
};

static int
on_record(void *arg, const char *json, size_t len, unsigned long line,
    struct lib_err *err)
{
	struct seen *s = arg;
	const struct jval *v;
	struct lib_err e;

	FUZZ_CHECK(line >= 1 && line >= s->line, "line numbers never go down");
	s->line = line;
	FUZZ_CHECK(memchr(json, '\n', len) == NULL, "a record is one line");
	FUZZ_CHECK(jbuf_utf8_valid(json, len), "a record is valid UTF-8");
	jval_parser_rewind(s->p);
	v = jval_parse(s->p, json, len, JVAL_KEEP_ALL, &e);
	FUZZ_CHECK(v != NULL, "a record is valid JSON");
	FUZZ_CHECK(v->type == JV_OBJECT, "a record is an object");
	(void)err;
	return 0;
}

static int
on_bad(void *arg, const char *text, size_t len, unsigned long line,
    const char *why, struct lib_err *e)
{
	(void)arg;
	(void)e;
	(void)text;
	(void)len;
	(void)line;
	FUZZ_CHECK(why != NULL && *why != '\0', "a bad record has a reason");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seen s = { NULL, 0 };
	struct extract_opts o;
	struct extract *x;
	struct lib_err e;
	size_t chunk, off;
	int rc = 0;

	if (size < 2)
		return 0;
	chunk = (size_t)data[0] % 64 + 1;
	memset(&o, 0, sizeof(o));
	o.format = FUZZ_FORMAT;
	o.delimiter = ',';
	o.header = !(data[1] & 1);
	o.csv_types = (data[1] & 2) != 0;
	o.max_record = 4096;
	o.record = on_record;
	o.bad = on_bad;
	o.arg = &s;
	data += 2;
	size -= 2;
	s.p = jval_parser_new((size_t)1 << 22);
	FUZZ_CHECK(s.p != NULL, "parser allocated");
	x = extract_new(&o, &e);
	FUZZ_CHECK(x != NULL, "extractor allocated");
	for (off = 0; off < size && rc == 0; off += chunk) {
		size_t n = size - off < chunk ? size - off : chunk;

		rc = extract_feed(x, (const char *)data + off, n, &e);
	}
	if (rc == 0)
		rc = extract_finish(x, &e);
	FUZZ_CHECK(rc == 0 || rc == -1, "no callback said stop");
	if (rc == -1)
		FUZZ_CHECK(e.code == EX_DATAERR && strncmp(e.msg, "-:", 2) == 0,
		    "a failure is bad data, with a message that names the input");
	extract_free(x);
	jval_parser_free(s.p);
	return 0;
}
