#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "exitcodes.h"
#include "jval.h"
#include "xalloc.h"

#define CHECKPOINT_MAX	((size_t)1 << 20)	/* bytes: a mark is small */

static int
number(const struct jval *o, const char *key, long long *out)
{
	const struct jval *v = jval_get(o, key);
	char buf[32];

	if (v == NULL || v->type != JV_NUMBER || v->len >= sizeof(buf))
		return -1;
	memcpy(buf, v->str, v->len);
	buf[v->len] = '\0';
	*out = strtoll(buf, NULL, 10);
	return 0;
}

static char *
string(const struct jval *o, const char *key)
{
	const struct jval *v = jval_get(o, key);

	if (v == NULL || v->type != JV_STRING)
		return NULL;
	return xalloc_memdup(v->str, v->len);
}

int
checkpoint_load(const char *path, const char *source, struct checkpoint *cp,
    int *found, struct lib_err *e)
{
	struct jval_parser *p = NULL;
	const struct jval *root, *v;
	struct jbuf text = JBUF_INIT;
	char mode[16];
	long long pages = 0, records = 0;
	int rc = -1;

	memset(cp, 0, sizeof(*cp));
	*found = 0;
	switch (jbuf_read_file(&text, path, CHECKPOINT_MAX)) {
	case -1:
		if (errno == ENOENT)
			return 0;
		return liberr_set(e, EX_NOINPUT, "--checkpoint %s: %s", path,
		    strerror(errno));
	case -2:
		(void)liberr_set(e, EX_IOERR, "--checkpoint %s: %s", path,
		    strerror(errno));
		goto out;
	default:
		break;
	}
	*found = 1;
	if ((p = jval_parser_new(CHECKPOINT_MAX * 8)) == NULL) {
		(void)liberr_set(e, EX_OSERR, "out of memory");
		goto out;
	}
	if ((root = jval_parse(p, text.p, text.len, JVAL_KEEP_ALL, e)) == NULL ||
	    root->type != JV_OBJECT ||
	    (v = jval_get(root, "paginate")) == NULL || v->type != JV_STRING ||
	    number(root, "pages", &pages) == -1 ||
	    number(root, "records", &records) == -1) {
		(void)liberr_set(e, EX_DATAERR, "--checkpoint %s: not a pgfetch "
		    "checkpoint", path);
		goto out;
	}
	/* The parsed strings may point into text: the name goes elsewhere. */
	(void)snprintf(mode, sizeof(mode), "%.*s", (int)(v->len < 15 ? v->len :
	    15), v->str);
	if (paginate_mode(mode, &cp->mark.mode) == -1) {
		(void)liberr_set(e, EX_DATAERR, "--checkpoint %s: paginator '%s'",
		    path, mode);
		goto out;
	}
	if ((v = jval_get(root, "source")) == NULL || v->type != JV_STRING ||
	    strlen(source) != v->len || memcmp(source, v->str, v->len) != 0) {
		(void)liberr_set(e, EX_USAGE, "--checkpoint %s was written for "
		    "another source; remove it to start over", path);
		goto out;
	}
	cp->mark.pages = (unsigned long long)pages;
	cp->mark.records = (unsigned long long)records;
	(void)number(root, "page", &cp->mark.page);
	(void)number(root, "offset", &cp->mark.offset);
	cp->mark.cursor = cp->cursor = string(root, "cursor");
	cp->mark.next = cp->next = string(root, "next");
	rc = 0;
out:
	jval_parser_free(p);
	jbuf_free(&text);
	return rc;
}

void
checkpoint_free(struct checkpoint *cp)
{
	free(cp->cursor);
	free(cp->next);
	memset(cp, 0, sizeof(*cp));
}

int
checkpoint_save(const char *path, const char *source,
    const struct page_mark *m, struct lib_err *e)
{
	struct jbuf text = JBUF_INIT, tmp = JBUF_INIT;
	char num[160];
	int fd, ok, saved, rc = -1;

	jbuf_puts(&text, "{\"source\":");
	jbuf_str(&text, source, strlen(source));
	(void)snprintf(num, sizeof(num), ",\"pages\":%llu,\"records\":%llu,"
	    "\"page\":%lld,\"offset\":%lld", m->pages, m->records, m->page,
	    m->offset);
	jbuf_puts(&text, ",\"paginate\":\"");
	jbuf_puts(&text, paginate_mode_name(m->mode));
	jbuf_putc(&text, '"');
	jbuf_puts(&text, num);
	if (m->cursor != NULL) {
		jbuf_puts(&text, ",\"cursor\":");
		jbuf_str(&text, m->cursor, strlen(m->cursor));
	}
	if (m->next != NULL) {
		jbuf_puts(&text, ",\"next\":");
		jbuf_str(&text, m->next, strlen(m->next));
	}
	jbuf_puts(&text, "}\n");

	/* Beside the file, so that rename(2) replaces it in one step. */
	jbuf_puts(&tmp, path);
	jbuf_puts(&tmp, ".tmp");
	if ((fd = open(jbuf_cstr(&tmp), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) != -1) {
		ok = write(fd, text.p, text.len) == (ssize_t)text.len &&
		    fsync(fd) == 0;
		ok = close(fd) == 0 && ok && rename(tmp.p, path) == 0;
		if (ok)
			rc = 0;
		else {
			saved = errno;
			(void)unlink(tmp.p);
			errno = saved;
		}
	}
	if (rc == -1)
		(void)liberr_set(e, EX_CANTCREAT, "--checkpoint %s: %s", path,
		    strerror(errno));
	jbuf_free(&text);
	jbuf_free(&tmp);
	return rc;
}

int
checkpoint_remove(const char *path, struct lib_err *e)
{
	if (unlink(path) == -1 && errno != ENOENT)
		return liberr_set(e, EX_CANTCREAT, "--checkpoint %s: %s", path,
		    strerror(errno));
	return 0;
}
