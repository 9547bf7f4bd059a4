/*
 * The fast path of JSON Lines (cmd/pgfetch/jfast) against the slow one it stands
 * in for: for any line, jfast_object either declines, or the line is one
 * object jval_parse accepts, jfast's text is exactly what jval_write
 * writes for the tree, and its count of values is the tree's nodes.  The
 * text is the line itself when nothing had to change.
 *
 * The line is copied to a block of its own size, so that ASan sees any
 * read past its end (jfast reads sixteen bytes at a time).
 */
#include <string.h>

#include "fuzz.h"
#include "jbuf.h"
#include "jfast.h"
#include "jval.h"

static size_t
nodes(const struct jval *v)
{
	const struct jval *m;
	size_t n = 1;

	for (m = v->child; m != NULL; m = m->next)
		n += nodes(m);
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct jval_parser *p;
	static struct jbuf out = JBUF_INIT, slow = JBUF_INIT;
	const struct jval *v;
	struct jfast r;
	struct lib_err e;
	char *line;
	int fast;

	if (p == NULL) {
		p = jval_parser_new((size_t)1 << 24);
		FUZZ_CHECK(p != NULL, "parser allocated");
	}
	line = malloc(size > 0 ? size : 1);
	FUZZ_CHECK(line != NULL, "line allocated");
	if (size > 0)
		memcpy(line, data, size);
	fast = jfast_object(line, size, &out, &r);
	jval_parser_rewind(p);
	v = jval_parse(p, line, size, JVAL_KEEP_ALL, &e);
	if (fast) {
		FUZZ_CHECK(v != NULL, "the fast path takes only what jval_parse takes");
		FUZZ_CHECK(v->type == JV_OBJECT, "the fast path takes only objects");
		jbuf_reset(&slow);
		jval_write(&slow, v);
		FUZZ_CHECK(r.len == slow.len && memcmp(r.text, slow.p, r.len) == 0,
		    "the fast path writes what jval_write writes");
		FUZZ_CHECK(r.values == nodes(v), "values are the tree's nodes");
		FUZZ_CHECK(r.text == line || r.text == out.p,
		    "the text is the line or the rewrite");
		FUZZ_CHECK(r.text != line || r.len == size,
		    "an unchanged text is the whole line");
	}
	free(line);
	return 0;
}
