#include <stdlib.h>
#include <string.h>

#include <jq.h>

#include "exitcodes.h"
#include "transform.h"

struct transform {
	jq_state	*jq;
	char		 err[512];	/* jq's last complaint */
};

static void
on_error(void *arg, jv msg)
{
	struct transform *t = arg;
	jv text;

	/* The first complaint says what is wrong; "1 compile error" follows. */
	text = jv_get_kind(msg) == JV_KIND_STRING ? jv_copy(msg) :
	    jv_dump_string(jv_copy(msg), 0);
	if (t->err[0] == '\0') {
		(void)strncpy(t->err, jv_string_value(text), sizeof(t->err) - 1);
		t->err[sizeof(t->err) - 1] = '\0';
	}
	jv_free(text);
	jv_free(msg);
}

struct transform *
transform_new(const char *expr, struct lib_err *e)
{
	struct transform *t;

	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->jq = jq_init()) == NULL) {
		free(t);
		(void)liberr_set(e, EX_OSERR, "out of memory");
		return NULL;
	}
	jq_set_error_cb(t->jq, on_error, t);
	if (!jq_compile(t->jq, expr)) {
		(void)liberr_set(e, EX_USAGE, "%s",
		    t->err[0] ? t->err : "jq: cannot compile the program");
		transform_free(t);
		return NULL;
	}
	return t;
}

void
transform_free(struct transform *t)
{
	if (t == NULL)
		return;
	jq_teardown(&t->jq);
	free(t);
}

int
transform_run(struct transform *t, const char *json, size_t len,
    struct jbuf *outs, struct lib_err *e)
{
	size_t mark = outs->len;
	jv in, out, text;

	in = jv_parse_sized(json, (int)len);
	if (!jv_is_valid(in)) {
		jv_free(in);
		return liberr_set(e, EX_DATAERR, "jq cannot read the record");
	}
	jq_start(t->jq, in, 0);
	while (jv_is_valid(out = jq_next(t->jq))) {
		text = jv_dump_string(out, 0);
		jbuf_puts(outs, jv_string_value(text));
		jbuf_putc(outs, '\n');
		jv_free(text);
	}
	/* An invalid value with a message is an error; without, the end. */
	if (jv_invalid_has_msg(jv_copy(out))) {
		jv msg = jv_invalid_get_msg(out);

		outs->len = mark;
		if (jv_get_kind(msg) == JV_KIND_STRING)
			(void)liberr_set(e, EX_DATAERR, "jq: %s",
			    jv_string_value(msg));
		else
			(void)liberr_set(e, EX_DATAERR, "jq: error");
		jv_free(msg);
		return -1;
	}
	jv_free(out);
	return 0;
}
