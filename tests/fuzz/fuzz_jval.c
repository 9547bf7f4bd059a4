/*
 * The JSON parser (jval_parse): whatever the bytes, no crash and no leak;
 * an accepted document is valid UTF-8 when written back, and writing it
 * back is a fixed point (parse, write, parse, write gives the same text).
 */
#include <string.h>

#include "fuzz.h"
#include "jbuf.h"
#include "jval.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jval_parser *p = jval_parser_new((size_t)1 << 22);
	struct jbuf once = JBUF_INIT, twice = JBUF_INIT;
	const struct jval *v, *w;
	struct lib_err e;

	FUZZ_CHECK(p != NULL, "parser allocated");
	v = jval_parse(p, (const char *)data, size, JVAL_KEEP_ALL, &e);
	if (v == NULL) {
		FUZZ_CHECK(e.code != 0 && e.msg[0] != '\0',
		    "a rejected document has a status and a message");
		goto out;
	}
	jval_write(&once, v);
	FUZZ_CHECK(jbuf_utf8_valid(once.p, once.len), "written back as UTF-8");
	FUZZ_CHECK(memchr(once.p, '\n', once.len) == NULL,
	    "written back on one line");
	w = jval_parse(p, once.p, once.len, JVAL_KEEP_ALL, &e);
	FUZZ_CHECK(w != NULL, "what was written back parses again");
	FUZZ_CHECK(w->type == v->type, "same type after a round trip");
	jval_write(&twice, w);
	FUZZ_CHECK(once.len == twice.len &&
	    memcmp(once.p, twice.p, once.len) == 0, "round trip is stable");
out:
	jbuf_free(&once);
	jbuf_free(&twice);
	jval_parser_free(p);
	return 0;
}
