/*
 * jsonl-normalize's walk (norm_record): the input's lines are records for
 * one normalizer, with options the first byte picks (a key, dlt or kept
 * names, a nesting limit, a dropped and a hashed path).  Every line it
 * writes is valid UTF-8 and a RECORD or SCHEMA message whose record is an
 * object with a 22-character _sluice_id; a rejected record writes nothing
 * and is bad data.
 */
#include <string.h>

#include "exitcodes.h"
#include "fuzz.h"
#include "jbuf.h"
#include "jval.h"
#include "message.h"
#include "normalize.h"

static void
check_output(struct jval_parser *p, const struct jbuf *out)
{
	const char *s = out->p, *end, *nl;
	const struct jval *v, *id;
	struct message m;
	struct lib_err e;

	if (out->len == 0)
		return;
	end = out->p + out->len;
	for (; s < end; s = nl + 1) {
		nl = memchr(s, '\n', (size_t)(end - s));
		FUZZ_CHECK(nl != NULL, "output lines end with a newline");
		jval_parser_rewind(p);
		FUZZ_CHECK(jbuf_utf8_valid(s, (size_t)(nl - s)),
		    "output is valid UTF-8");
		v = jval_parse(p, s, (size_t)(nl - s), JVAL_KEEP_ALL, &e);
		FUZZ_CHECK(v != NULL, "output parses");
		FUZZ_CHECK(message_classify(v, 0, &m, &e) == 0, "a message");
		FUZZ_CHECK(m.kind == MSG_RECORD || m.kind == MSG_SCHEMA,
		    "RECORD or SCHEMA");
		if (m.kind != MSG_RECORD)
			continue;
		id = jval_get(m.record, "_sluice_id");
		FUZZ_CHECK(id != NULL && id->type == JV_STRING && id->len == 22,
		    "every row has its id");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char key[] = "id";
	static char *keys[] = { key };
	static char dropa[] = "a", dropb[] = "b", hashx[] = "x";
	static char dropd[] = "a.b";
	static char *dropk[] = { dropa, dropb }, *hashk[] = { hashx };
	struct norm_path drop = { .dotted = dropd, .keys = dropk, .nkeys = 2 };
	struct norm_path hash = { .dotted = hashx, .keys = hashk, .nkeys = 1 };
	struct jval_parser *p, *check;
	struct jbuf out = JBUF_INIT, warn = JBUF_INIT;
	struct normalizer *n;
	struct norm_opts o;
	const char *s, *end, *nl;
	const struct jval *v;
	struct lib_err e;
	size_t mark;

	if (size < 1)
		return 0;
	memset(&o, 0, sizeof(o));
	o.keep_names = data[0] & 1;
	o.max_nesting = data[0] & 2 ? 2 : -1;
	if (data[0] & 4) {
		o.keys = keys;
		o.nkeys = 1;
	}
	o.load_id = "fuzz";
	if (data[0] & 8) {
		o.drop = &drop;
		o.ndrop = 1;
		o.hash = &hash;
		o.nhash = 1;
		o.salt = "salt";
		o.saltlen = 4;
	}
	n = norm_new(&o, &e);
	p = jval_parser_new((size_t)1 << 22);
	check = jval_parser_new((size_t)1 << 22);
	FUZZ_CHECK(n != NULL && p != NULL && check != NULL, "allocated");
	s = (const char *)data + 1;
	end = (const char *)data + size;
	for (; s < end; s = nl + 1) {
		if ((nl = memchr(s, '\n', (size_t)(end - s))) == NULL)
			nl = end;
		jval_parser_rewind(p);
		v = jval_parse(p, s, (size_t)(nl - s), JVAL_KEEP_ALL, &e);
		if (v == NULL || v->type != JV_OBJECT)
			continue;
		mark = out.len;
		if (norm_record(n, data[0] & 16 ? "Stream Name" : "t",
		    data[0] & 16 ? 11 : 1, v, NULL, &out, &warn, &e) == -1) {
			FUZZ_CHECK(e.code == EX_DATAERR, "a rejected record is "
			    "bad data");
			FUZZ_CHECK(out.len == mark, "a rejected record writes "
			    "nothing");
		}
	}
	check_output(check, &out);
	jbuf_free(&out);
	jbuf_free(&warn);
	jval_parser_free(p);
	jval_parser_free(check);
	norm_free(n);
	return 0;
}
