#include <stdio.h>
#include <string.h>

#include "clocks.h"
#include "stats.h"

void
stats_init(struct stats *s, const char *program, FILE *progress)
{
	memset(s, 0, sizeof(*s));
	s->program = program;
	s->progress = progress;
	s->started = s->last_progress = clocks_monotonic();
}

void
stats_tick(struct stats *s)
{
	double now, secs;

	if (s->progress == NULL || (s->lines & 4095) != 0)
		return;
	now = clocks_monotonic();
	if (now - s->last_progress < 0.5)
		return;
	s->last_progress = now;
	secs = now - s->started;
	(void)fprintf(s->progress, "\r%s: %lu lines, %.1f MiB, %.1f MiB/s ",
	    s->program, s->lines, (double)s->bytes / 1048576.0,
	    secs > 0 ? (double)s->bytes / 1048576.0 / secs : 0.0);
	(void)fflush(s->progress);
}

void
stats_progress_done(struct stats *s)
{
	if (s->progress != NULL && s->last_progress > s->started) {
		(void)fputs("\r\033[K", s->progress);
		(void)fflush(s->progress);
	}
}

int
stats_write(const struct stats *s, struct sidefile *f, const char *extra,
    struct lib_err *e)
{
	struct jbuf b = JBUF_INIT;
	char head[512];
	int rc;

	(void)snprintf(head, sizeof(head), "{\"program\":\"%s\",\"lines\":%lu,"
	    "\"records\":%lu,\"messages\":%lu,\"errors\":%lu,\"bytes\":%llu,"
	    "\"seconds\":%.3f", s->program, s->lines, s->records, s->messages,
	    s->errors, s->bytes, clocks_monotonic() - s->started);
	jbuf_puts(&b, head);
	if (extra != NULL && *extra != '\0') {
		jbuf_putc(&b, ',');
		jbuf_puts(&b, extra);
	}
	jbuf_puts(&b, "}\n");
	rc = sidefile_write(f, b.p, b.len, 0, e);
	jbuf_free(&b);
	/* After a failed write, this drops the file without a new error. */
	if (sidefile_close(f, e) == -1)
		rc = -1;
	return rc;
}
