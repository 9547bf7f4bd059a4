#include <string.h>

#include "exitcodes.h"
#include "jbuf.h"
#include "onerror.h"

int
onerror_parse(struct onerror *o, const char *spec, struct lib_err *e)
{
	memset(o, 0, sizeof(*o));
	if (strcmp(spec, "fail") == 0)
		o->mode = ONERROR_FAIL;
	else if (strcmp(spec, "skip") == 0)
		o->mode = ONERROR_SKIP;
	else if (strncmp(spec, "quarantine=", 11) == 0 && spec[11] != '\0') {
		o->mode = ONERROR_QUARANTINE;
		o->path = spec + 11;
	} else
		return liberr_set(e, EX_USAGE,
		    "'%s': expected fail, skip or quarantine=FILE", spec);
	return 0;
}

int
onerror_open(struct onerror *o, struct lib_err *e)
{
	if (o->mode != ONERROR_QUARANTINE || o->file.fp != NULL)
		return 0;
	return sidefile_open(&o->file, o->path, SIDEFILE_APPEND_SOME, e);
}

int
onerror_reject(struct onerror *o, const char *file, unsigned long line,
    const char *reason, const char *text, size_t len, struct lib_err *e)
{
	struct jbuf b = JBUF_INIT;
	char num[32];
	int rc = 0;

	if (o->mode == ONERROR_FAIL)
		return liberr_set(e, EX_DATAERR, "%s:%lu: %s", file, line,
		    reason);
	if (o->mode == ONERROR_SKIP) {
		o->rejected++;
		return 0;
	}
	if (onerror_open(o, e) == -1)
		return -1;
	(void)snprintf(num, sizeof(num), "%lu", line);
	jbuf_puts(&b, "{\"line\":");
	jbuf_puts(&b, num);
	jbuf_puts(&b, ",\"file\":");
	jbuf_str(&b, file, strlen(file));
	jbuf_puts(&b, ",\"error\":");
	jbuf_str(&b, reason, strlen(reason));
	if (jbuf_utf8_valid(text, len)) {
		jbuf_puts(&b, ",\"input\":");
		jbuf_str(&b, text, len);
	} else {
		jbuf_puts(&b, ",\"input_base64\":\"");
		jbuf_base64(&b, (const unsigned char *)text, len);
		jbuf_putc(&b, '"');
	}
	jbuf_puts(&b, "}\n");
	if ((rc = sidefile_write(&o->file, b.p, b.len, 1, e)) == 0)
		o->rejected++;
	jbuf_free(&b);
	return rc;
}

int
onerror_close(struct onerror *o, struct lib_err *e)
{
	return sidefile_close(&o->file, e);
}
