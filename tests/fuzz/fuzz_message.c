/*
 * Singer message detection: whatever parses, classifying never crashes;
 * a RECORD names its stream and carries an object, a bare record is an
 * object that is its own record, a SCHEMA carries an object schema, and
 * the abort line sluice writes is itself classified as an abort.
 */
#include <string.h>

#include "exitcodes.h"
#include "fuzz.h"
#include "jbuf.h"
#include "jval.h"
#include "message.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jval_parser *p = jval_parser_new((size_t)1 << 22);
	struct jbuf abort_line = JBUF_INIT, err = JBUF_INIT;
	const struct jval *v;
	struct message m;
	struct lib_err e;
	int raw;

	FUZZ_CHECK(p != NULL, "parser allocated");
	if ((v = jval_parse(p, (const char *)data, size, JVAL_KEEP_ALL,
	    &e)) == NULL)
		goto out;
	for (raw = 0; raw <= 1; raw++) {
		if (message_classify(v, raw, &m, &e) == -1) {
			FUZZ_CHECK(e.code == EX_DATAERR, "bad message is bad data");
			FUZZ_CHECK(v->type != JV_OBJECT || !raw,
			    "--raw takes every object");
			continue;
		}
		FUZZ_CHECK(v->type == JV_OBJECT, "a message is an object");
		FUZZ_CHECK(m.root == v, "root kept");
		if (raw)
			FUZZ_CHECK(m.kind == MSG_BARE, "--raw: bare records only");
		switch (m.kind) {
		case MSG_BARE:
			FUZZ_CHECK(m.record == v, "a bare record is the root");
			break;
		case MSG_RECORD:
			FUZZ_CHECK(m.record != NULL &&
			    m.record->type == JV_OBJECT, "RECORD has an object");
			FUZZ_CHECK(m.stream != NULL, "RECORD names a stream");
			break;
		case MSG_SCHEMA:
			FUZZ_CHECK(m.stream != NULL, "SCHEMA names a stream");
			FUZZ_CHECK(m.schema != NULL, "SCHEMA has a schema");
			break;
		case MSG_STATE:
			FUZZ_CHECK(m.value != NULL, "STATE has a value");
			break;
		default:
			break;
		}
	}
	/* The abort line made from any UTF-8 text is a valid abort. */
	if (!jbuf_utf8_valid((const char *)data, size))
		goto out;
	jbuf_put(&err, data, size);
	message_write_abort(&abort_line, "fuzz", EX_DATAERR, jbuf_cstr(&err));
	FUZZ_CHECK(abort_line.len > 0 &&
	    abort_line.p[abort_line.len - 1] == '\n', "abort ends a line");
	jval_parser_rewind(p);
	v = jval_parse(p, abort_line.p, abort_line.len - 1, JVAL_KEEP_ALL, &e);
	FUZZ_CHECK(v != NULL, "the abort line parses");
	FUZZ_CHECK(message_classify(v, 0, &m, &e) == 0 && m.kind == MSG_ABORT,
	    "the abort line is an abort");
out:
	jbuf_free(&abort_line);
	jbuf_free(&err);
	jval_parser_free(p);
	return 0;
}
