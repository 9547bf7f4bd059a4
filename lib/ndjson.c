#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exitcodes.h"
#include "ndjson.h"

#define INITIAL_CAP	((size_t)256 * 1024)
#define BOM		"\xef\xbb\xbf"
/* The buffer holds a line (NDJSON_HELD), its "\n", and a byte-order mark. */
#define MAX_CAP(max_line)	(NDJSON_HELD(max_line) + 1 + 3)

int
ndjson_init(struct ndjson_reader *r, int fd, const char *name,
    size_t max_line, int (*stop)(void *), void *stop_arg, struct lib_err *e)
{
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->name = name;
	r->max_line = max_line;
	r->stop = stop;
	r->stop_arg = stop_arg;
	r->cap = MAX_CAP(max_line) < INITIAL_CAP ? MAX_CAP(max_line) :
	    INITIAL_CAP;
	if ((r->buf = malloc(r->cap)) == NULL)
		return liberr_set(e, EX_OSERR, "out of memory");
	return 0;
}

void
ndjson_free(struct ndjson_reader *r)
{
	free(r->buf);
	r->buf = NULL;
}

/* Wait until fd has input (or EOF), asking stop now and then: 0, or -1. */
static int
wait_input(struct ndjson_reader *r)
{
	struct pollfd pfd;

	pfd.fd = r->fd;
	pfd.events = POLLIN;
	for (;;) {
		if (r->stop(r->stop_arg))
			return -1;
		pfd.revents = 0;
		if (poll(&pfd, 1, 100) != 0)
			return 0;	/* ready, hung up, or an error read(2) tells */
	}
}

int
ndjson_would_wait(const struct ndjson_reader *r)
{
	struct pollfd pfd;

	if (r->eof || r->discarding ||
	    memchr(r->buf + r->start, '\n', r->end - r->start) != NULL)
		return 0;
	pfd.fd = r->fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	return poll(&pfd, 1, 0) == 0;
}

/* Read more bytes after r->end, compacting or growing first.  0 at EOF. */
static ssize_t
fill(struct ndjson_reader *r, struct lib_err *e)
{
	ssize_t n;

	if (r->start > 0 && (r->end == r->cap || r->start > r->cap / 2)) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
	}
	if (r->end == r->cap) {
		size_t cap = r->cap * 2;
		char *p;

		if (cap > MAX_CAP(r->max_line))
			cap = MAX_CAP(r->max_line);
		if (cap <= r->cap)
			return liberr_set(e, EX_SOFTWARE, "line buffer full");
		if ((p = realloc(r->buf, cap)) == NULL)
			return liberr_set(e, EX_OSERR, "out of memory");
		r->buf = p;
		r->cap = cap;
	}
	for (;;) {
		if (r->stop != NULL && wait_input(r) == -1)
			return liberr_set(e, EX_TEMPFAIL, "interrupted");
		n = read(r->fd, r->buf + r->end, r->cap - r->end);
		if (n >= 0)
			break;
		if (errno == EINTR || errno == EAGAIN)
			continue;
		return liberr_set(e, EX_IOERR, "read error: %s", strerror(errno));
	}
	r->end += (size_t)n;
	r->bytes += (unsigned long long)n;
	if (n == 0)
		r->eof = 1;
	return n;
}

int
ndjson_too_long(size_t max_line, struct lib_err *e)
{
	return liberr_set(e, EX_DATAERR, "line longer than %zu bytes", max_line);
}

int
ndjson_line(const char *text, size_t *len, size_t max_line,
    struct lib_err *e)
{
	size_t i;

	if (*len > 0 && text[*len - 1] == '\r')
		--*len;
	if (*len > max_line) {
		*len = max_line;
		return ndjson_too_long(max_line, e);
	}
	for (i = 0; i < *len; i++)
		if (text[i] != ' ' && text[i] != '\t')
			return 1;
	return 0;
}

int
ndjson_records(const struct jval *v, int arrays, struct lib_err *e)
{
	const struct jval *m;

	if (v->type == JV_OBJECT)
		return 0;
	if (v->type != JV_ARRAY || !arrays)
		return liberr_set(e, EX_DATAERR, "not a JSON object");
	for (m = v->child; m != NULL; m = m->next)
		if (m->type != JV_OBJECT)
			return liberr_set(e, EX_DATAERR,
			    "an element of the list is not an object");
	return 0;
}

/* The bytes of a byte-order mark that start the first line, not yet read. */
static size_t
bom_ahead(const struct ndjson_reader *r)
{
	return r->lineno == 0 && r->end - r->start >= 3 &&
	    memcmp(r->buf + r->start, BOM, 3) == 0 ? 3 : 0;
}

int
ndjson_next(struct ndjson_reader *r, struct ndjson_line *line,
    struct lib_err *e)
{
	char *nl;
	size_t len, bom;
	ssize_t n;
	int rc;

	for (;;) {
		nl = memchr(r->buf + r->start, '\n', r->end - r->start);
		if (r->discarding) {
			/* Drop the rest of a line that was too long. */
			if (nl == NULL) {
				r->start = r->end;
				if (r->eof || (n = fill(r, e)) == 0) {
					r->discarding = 0;
					return 0;
				}
				if (n < 0)
					return -1;
				continue;
			}
			r->start = (size_t)(nl - r->buf) + 1;
			r->discarding = 0;
			continue;
		}
		if (nl == NULL) {
			len = r->end - r->start;
			bom = bom_ahead(r);
			if (len > NDJSON_HELD(r->max_line) + bom) {
				r->lineno++;
				line->text = r->buf + r->start + bom;
				line->len = r->max_line;
				line->lineno = r->lineno;
				r->start = r->end;
				r->discarding = 1;
				return ndjson_too_long(r->max_line, e);
			}
			if (!r->eof) {
				if (fill(r, e) < 0)
					return -1;
				continue;
			}
			if (len == 0)
				return 0;
			/* The last line has no newline: take it as it is. */
			nl = r->buf + r->end;
		}
		r->lineno++;
		line->text = r->buf + r->start;
		line->len = (size_t)(nl - line->text);
		line->lineno = r->lineno;
		r->start = nl < r->buf + r->end ? (size_t)(nl - r->buf) + 1 : r->end;
		/* A UTF-8 byte-order mark before the first line is not data. */
		if (r->lineno == 1 && line->len >= 3 &&
		    memcmp(line->text, BOM, 3) == 0) {
			line->text += 3;
			line->len -= 3;
		}
		if ((rc = ndjson_line(line->text, &line->len, r->max_line,
		    e)) != 0)
			return rc;
	}
}
