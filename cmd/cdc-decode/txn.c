#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exitcodes.h"
#include "txn.h"

void
txn_init(struct txn *t, size_t cap)
{
	memset(t, 0, sizeof(*t));
	t->cap = cap;
}

/* A temporary file in $TMPDIR (or /tmp), already unlinked. */
static FILE *
spill_open(struct lib_err *e)
{
	const char *dir = getenv("TMPDIR");
	struct jbuf path = JBUF_INIT;
	FILE *fp = NULL;
	int fd;

	jbuf_puts(&path, dir != NULL && *dir != '\0' ? dir : "/tmp");
	jbuf_puts(&path, "/cdc-decode.XXXXXX");
	if ((fd = mkstemp(jbuf_cstr(&path))) == -1)
		(void)liberr_set(e, EX_CANTCREAT, "%s: %s", path.p,
		    strerror(errno));
	else {
		(void)unlink(path.p);
		if ((fp = fdopen(fd, "w+")) == NULL) {
			(void)liberr_set(e, EX_OSERR, "%s", strerror(errno));
			(void)close(fd);
		}
	}
	jbuf_free(&path);
	return fp;
}

static int
spill_write(struct txn *t, const char *p, size_t n, struct lib_err *e)
{
	if (n > 0 && fwrite(p, 1, n, t->spill) != n)
		return liberr_set(e, liberr_errno_status(errno, EX_IOERR),
		    "temporary file: %s", strerror(errno));
	return 0;
}

int
txn_put(struct txn *t, const char *p, size_t n, struct lib_err *e)
{
	t->bytes += n;
	if (t->spill == NULL && t->mem.len + n <= t->cap) {
		jbuf_put(&t->mem, p, n);
		return 0;
	}
	if (t->spill == NULL) {
		/* Past the cap: what is held goes first, then the rest. */
		if ((t->spill = spill_open(e)) == NULL ||
		    spill_write(t, t->mem.p, t->mem.len, e) == -1)
			return -1;
		jbuf_free(&t->mem);
	}
	return spill_write(t, p, n, e);
}

int
txn_write(struct txn *t, txn_out_fn out, void *arg, struct lib_err *e)
{
	char buf[64 * 1024];
	size_t n;
	int rc = 0;

	if (t->spill != NULL) {
		if (fflush(t->spill) != 0 || fseek(t->spill, 0, SEEK_SET) != 0)
			rc = liberr_set(e, liberr_errno_status(errno, EX_IOERR),
			    "temporary file: %s", strerror(errno));
		while (rc == 0 && (n = fread(buf, 1, sizeof(buf), t->spill)) > 0)
			rc = out(arg, buf, n, e);
		if (rc == 0 && ferror(t->spill))
			rc = liberr_set(e, EX_IOERR, "temporary file: read error");
	} else if (t->mem.len > 0)
		rc = out(arg, t->mem.p, t->mem.len, e);
	txn_drop(t);
	return rc;
}

void
txn_drop(struct txn *t)
{
	if (t->spill != NULL) {
		(void)fclose(t->spill);
		t->spill = NULL;
	}
	jbuf_reset(&t->mem);
	t->bytes = 0;
	t->changes = 0;
}

void
txn_free(struct txn *t)
{
	txn_drop(t);
	jbuf_free(&t->mem);
}
