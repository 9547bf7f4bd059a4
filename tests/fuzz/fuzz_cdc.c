/*
 * cdc-decode's readers of change events (wal2json, Debezium): whatever
 * lines come, no crash and no leak, a bad event is rejected as bad data
 * (never a bug), and every line written is a Singer message: a SCHEMA, a
 * RECORD with an object, a STATE or an ACTIVATE_VERSION.  The first byte
 * picks the format; the rest is the events, one a line.  A line the fast
 * reader (scan.h) takes is one jval_parse takes too, as the same tree.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "decode.h"
#include "exitcodes.h"
#include "fuzz.h"
#include "jval.h"
#include "message.h"
#include "onerror.h"
#include "scan.h"

int	LLVMFuzzerInitialize(int *, char ***);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int fd = open("/dev/null", O_WRONLY);

	(void)argc;
	(void)argv;
	/* What cdc-decode writes past its buffer: not the fuzzer's output. */
	if (fd >= 0) {
		(void)dup2(fd, STDOUT_FILENO);
		(void)close(fd);
	}
	return 0;
}

/* Every whole line of out is a Singer message. */
static void
check_output(const struct jbuf *out)
{
	struct jval_parser *p;
	const char *s, *end, *nl;
	const struct jval *v;
	struct message m;
	struct lib_err e;

	if (out->len == 0)
		return;
	p = jval_parser_new((size_t)1 << 22);
	s = out->p;
	end = out->p + out->len;
	for (; s < end; s = nl + 1) {
		if ((nl = memchr(s, '\n', (size_t)(end - s))) == NULL)
			break;
		jval_parser_rewind(p);
		v = jval_parse(p, s, (size_t)(nl - s), JVAL_KEEP_ALL, &e);
		FUZZ_CHECK(v != NULL, "a line written is JSON");
		FUZZ_CHECK(message_classify(v, 0, &m, &e) == 0 &&
		    m.kind != MSG_BARE, "a line written is a message");
	}
	jval_parser_free(p);
}

/* Whether the trees at a and b are the same, node for node. */
static int
same_tree(const struct jval *a, const struct jval *b)
{
	const struct jval *x, *y;

	if (a->type != b->type || a->len != b->len || a->keylen != b->keylen ||
	    (a->key == NULL) != (b->key == NULL) || (a->keylen > 0 &&
	    memcmp(a->key, b->key, a->keylen) != 0) || a->plain != b->plain ||
	    a->elided != b->elided || a->dups != b->dups ||
	    a->shadowed != b->shadowed || (a->str == NULL) != (b->str == NULL))
		return 0;
	/* Strings and numbers: the same bytes, in place in the line. */
	if (a->str != b->str)
		return 0;
	for (x = a->child, y = b->child; x != NULL && y != NULL;
	    x = x->next, y = y->next)
		if (!same_tree(x, y))
			return 0;
	return x == NULL && y == NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jval_parser *p;
	const struct jval *fast;
	struct scan scan;
	struct decode_opts o;
	struct decode d;
	struct cli c;
	struct cli_line l;
	struct lib_err e;
	const char *s, *end, *nl;

	if (size < 1)
		return 0;
	p = jval_parser_new((size_t)1 << 22);
	FUZZ_CHECK(p != NULL, "parser allocated");
	cli_init(&c, "cdc-decode");
	c.quiet = 1;
	FUZZ_CHECK(onerror_parse(&c.onerr, "skip", &e) == 0, "--on-error skip");
	memset(&o, 0, sizeof(o));
	o.format = data[0] & 1 ? DECODE_DEBEZIUM : DECODE_WAL2JSON;
	o.keys = data[0] & 2 ? "id" : NULL;
	o.qualify = (data[0] & 4) != 0;
	o.bookmark = "cdc";
	o.memory = (size_t)64 << 20;
	decode_init(&d, &c, &o);
	scan_init(&scan, (size_t)1 << 22);
	/* Some runs as after a load, with a bookmark to skip up to. */
	if (data[0] & 8) {
		d.committed = (uint64_t)data[0] << 4;
		d.have_committed = 1;
	}
	memset(&l, 0, sizeof(l));
	l.file = "fuzz";
	s = (const char *)data + 1;
	end = (const char *)data + size;
	for (; s < end; s = nl + 1) {
		if ((nl = memchr(s, '\n', (size_t)(end - s))) == NULL)
			nl = end;
		l.lineno++;
		l.text = s;
		l.len = (size_t)(nl - s);
		jval_parser_rewind(p);
		memset(&l.msg, 0, sizeof(l.msg));
		fast = scan_line(&scan, s, l.len);
		if ((l.msg.root = jval_parse(p, s, l.len, JVAL_KEEP_ALL, &e)) ==
		    NULL) {
			FUZZ_CHECK(fast == NULL, "a line scan_line takes is JSON");
			continue;
		}
		FUZZ_CHECK(fast == NULL || same_tree(fast, l.msg.root),
		    "scan_line makes jval_parse's tree");
		/* As cdc-decode does: the fast reader's tree when it has one. */
		if (fast != NULL)
			l.msg.root = fast;
		l.msg.kind = MSG_BARE;
		l.msg.record = l.msg.root;
		if (decode_line(&d, &l) == -1)
			break;
	}
	if (c.status == 0)
		(void)decode_finish(&d);
	FUZZ_CHECK(c.status == 0 || c.status == EX_DATAERR ||
	    c.status == EX_TEMPFAIL, "a failure is bad data, never a bug");
	check_output(&c.out);
	decode_free(&d);
	scan_free(&scan);
	jbuf_free(&c.out);
	jval_parser_free(p);
	return 0;
}
