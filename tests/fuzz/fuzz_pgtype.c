/*
 * cdc-decode's PostgreSQL values (pgtype_value): a timestamp, an array
 * literal or a json text, whatever the bytes, gives either valid JSON
 * (which parses back) or a data error with a message; never a crash.
 * The first byte picks the column's kind and its elements' kind.
 */
#include <string.h>

#include "exitcodes.h"
#include "fuzz.h"
#include "jbuf.h"
#include "jval.h"
#include "pgtype.h"

static const enum pgkind kinds[] = {
	PG_TEXT, PG_INT, PG_NUMERIC, PG_FLOAT, PG_BOOL, PG_TIMESTAMPTZ,
	PG_TIMESTAMP, PG_DATE, PG_JSON, PG_ARRAY
};
#define NKINDS	(sizeof(kinds) / sizeof(kinds[0]))

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jbuf out = JBUF_INIT;
	struct jval_parser *p;
	struct jval v;
	struct lib_err e;
	enum pgkind kind, elem;

	if (size < 1)
		return 0;
	kind = kinds[data[0] % NKINDS];
	elem = kinds[(data[0] / NKINDS) % NKINDS];
	memset(&v, 0, sizeof(v));
	v.type = JV_STRING;
	v.str = (const char *)data + 1;
	v.len = size - 1;
	/* A string value is valid UTF-8 by the time a parser made it. */
	if (!jbuf_utf8_valid(v.str, v.len))
		return 0;
	if (pgtype_value(kind, elem, &v, &out, &e) == -1) {
		FUZZ_CHECK(e.code == EX_DATAERR && e.msg[0] != '\0',
		    "a bad value is a data error with a message");
	} else {
		p = jval_parser_new((size_t)1 << 22);
		FUZZ_CHECK(p != NULL, "parser allocated");
		FUZZ_CHECK(jval_parse(p, out.p, out.len, JVAL_KEEP_ALL, &e) !=
		    NULL, "the value written is JSON");
		jval_parser_free(p);
	}
	jbuf_free(&out);
	return 0;
}
