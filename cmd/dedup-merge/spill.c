#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exitcodes.h"
#include "jbuf.h"
#include "spill.h"
#include "xalloc.h"

/* Runs read at once; more are merged into longer runs first. */
#define FANIN		64
#define MIN_BUF		((size_t)4096)
#define WRITE_BLOCK	((size_t)64 * 1024)

struct run {
	int		 fd;
	char		*buf;
	size_t		 size;
	size_t		 pos;
	size_t		 len;
	struct jbuf	 cur;		/* the current record, header and bytes */
};

struct spill {
	char		*dir;
	int		(*cmp)(const struct spill_rec *, const struct spill_rec *);
	struct run	*runs;
	size_t		 n;
	size_t		 cap;
	size_t		*heap;		/* indexes of runs with a record */
	size_t		 nheap;
	int		 pending;	/* the top was handed out: advance it */
	struct jbuf	 wbuf;
	unsigned long long bytes;
};

int
spill_tmpfd(const char *dir, struct lib_err *e)
{
	struct jbuf path = JBUF_INIT;
	int fd, saved;

	jbuf_puts(&path, dir);
	jbuf_puts(&path, "/sluice-dedup.XXXXXX");
	if ((fd = mkstemp(jbuf_cstr(&path))) == -1) {
		saved = errno;
		(void)liberr_set(e, liberr_errno_status(saved, EX_CANTCREAT),
		    "%s: %s", path.p, strerror(saved));
		jbuf_free(&path);
		return -1;
	}
	/* Nothing can remain after any exit: the name goes at once. */
	(void)unlink(path.p);
	jbuf_free(&path);
	return fd;
}

struct spill *
spill_new(const char *tmpdir,
    int (*cmp)(const struct spill_rec *, const struct spill_rec *),
    struct lib_err *e)
{
	struct spill *s;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		(void)liberr_set(e, EX_OSERR, "out of memory");
		return NULL;
	}
	s->dir = xalloc_memdup(tmpdir, strlen(tmpdir));
	s->cmp = cmp;
	return s;
}

static void
run_close(struct run *r)
{
	if (r->fd != -1)
		(void)close(r->fd);
	r->fd = -1;
	free(r->buf);
	r->buf = NULL;
	jbuf_free(&r->cur);
}

void
spill_free(struct spill *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++)
		run_close(&s->runs[i]);
	free(s->runs);
	free(s->heap);
	jbuf_free(&s->wbuf);
	free(s->dir);
	free(s);
}

size_t
spill_nruns(const struct spill *s)
{
	return s->n;
}

unsigned long long
spill_bytes(const struct spill *s)
{
	return s->bytes;
}

static int
write_all(struct spill *s, int fd, struct lib_err *e)
{
	const char *p = s->wbuf.p;
	size_t n = s->wbuf.len;
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) < 0) {
			if (errno == EINTR)
				continue;
			return liberr_set(e, liberr_errno_status(errno, EX_IOERR),
			    "%s: temporary file: %s", s->dir, strerror(errno));
		}
		p += w;
		n -= (size_t)w;
	}
	s->bytes += s->wbuf.len;
	jbuf_reset(&s->wbuf);
	return 0;
}

static int
put_rec(struct spill *s, int fd, const struct spill_rec *r, struct lib_err *e)
{
	struct spill_rec h = *r;

	h.cap = (uint32_t)SPILL_SIZE(r);
	jbuf_put(&s->wbuf, &h, sizeof(h));
	jbuf_put(&s->wbuf, SPILL_KEY(r), SPILL_SIZE(r));
	if (s->wbuf.len >= WRITE_BLOCK)
		return write_all(s, fd, e);
	return 0;
}

static void
add_run(struct spill *s, int fd)
{
	struct run *r;

	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->runs = xalloc_realloc(s->runs, s->cap, sizeof(*s->runs));
	}
	r = &s->runs[s->n++];
	memset(r, 0, sizeof(*r));
	r->fd = fd;
}

int
spill_run(struct spill *s, struct spill_rec *const *v, size_t n,
    struct lib_err *e)
{
	size_t i;
	int fd;

	if ((fd = spill_tmpfd(s->dir, e)) == -1)
		return -1;
	add_run(s, fd);
	for (i = 0; i < n; i++)
		if (put_rec(s, fd, v[i], e) == -1)
			return -1;
	return write_all(s, fd, e);
}

/* Read n bytes of the run into dst; 1, 0 at a clean end, -1 on error. */
static int
run_read(struct run *r, void *dst, size_t n, const char *dir,
    struct lib_err *e)
{
	char *d = dst;
	size_t k, want = n;
	ssize_t got;

	while (n > 0) {
		if (r->pos == r->len) {
			do
				got = read(r->fd, r->buf, r->size);
			while (got < 0 && errno == EINTR);
			if (got < 0)
				return liberr_set(e, EX_IOERR,
				    "%s: temporary file: %s", dir,
				    strerror(errno));
			if (got == 0) {
				if (n == want)
					return 0;
				return liberr_set(e, EX_IOERR,
				    "%s: temporary file: truncated", dir);
			}
			r->pos = 0;
			r->len = (size_t)got;
		}
		k = r->len - r->pos < n ? r->len - r->pos : n;
		memcpy(d, r->buf + r->pos, k);
		r->pos += k;
		d += k;
		n -= k;
	}
	return 1;
}

/* The run's next record into r->cur: 1, 0 at its end, -1 on error. */
static int
run_next(struct run *r, const char *dir, struct lib_err *e)
{
	struct spill_rec h;
	int rc;

	memset(&h, 0, sizeof(h));
	jbuf_reset(&r->cur);
	if ((rc = run_read(r, &h, sizeof(h), dir, e)) != 1)
		return rc;
	jbuf_reserve(&r->cur, sizeof(h) + h.cap);
	memcpy(r->cur.p, &h, sizeof(h));
	r->cur.len = sizeof(h) + h.cap;
	if (h.cap == 0)
		return 1;
	if ((rc = run_read(r, r->cur.p + sizeof(h), h.cap, dir, e)) == 0)
		return liberr_set(e, EX_IOERR, "%s: temporary file: truncated",
		    dir);
	return rc;
}

static const struct spill_rec *
top_rec(const struct spill *s, size_t i)
{
	return (const struct spill_rec *)(void *)s->runs[s->heap[i]].cur.p;
}

static int
less(const struct spill *s, size_t i, size_t j)
{
	int c = s->cmp(top_rec(s, i), top_rec(s, j));

	return c < 0 || (c == 0 && s->heap[i] < s->heap[j]);
}

static void
sift_down(struct spill *s, size_t i)
{
	size_t l, m, t;

	for (;;) {
		l = 2 * i + 1;
		m = i;
		if (l < s->nheap && less(s, l, m))
			m = l;
		if (l + 1 < s->nheap && less(s, l + 1, m))
			m = l + 1;
		if (m == i)
			return;
		t = s->heap[i];
		s->heap[i] = s->heap[m];
		s->heap[m] = t;
		i = m;
	}
}

/* Read buffers and the first record of every run; build the heap. */
static int
open_runs(struct spill *s, size_t bufbytes, struct lib_err *e)
{
	size_t i, size;
	int rc;

	size = s->n > 0 ? bufbytes / s->n : MIN_BUF;
	size = size < MIN_BUF ? MIN_BUF : size > SPILL_MAX_BUF ? SPILL_MAX_BUF : size;
	s->heap = xalloc_realloc(s->heap, s->n + 1, sizeof(*s->heap));
	s->nheap = 0;
	s->pending = 0;
	for (i = 0; i < s->n; i++) {
		struct run *r = &s->runs[i];

		if (lseek(r->fd, 0, SEEK_SET) == -1)
			return liberr_set(e, EX_IOERR, "%s: temporary file: %s",
			    s->dir, strerror(errno));
		r->buf = xalloc_realloc(r->buf, size, 1);
		r->size = size;
		r->pos = r->len = 0;
		if ((rc = run_next(r, s->dir, e)) == -1)
			return -1;
		if (rc == 1)
			s->heap[s->nheap++] = i;
	}
	for (i = s->nheap / 2; i-- > 0;)
		sift_down(s, i);
	return 0;
}

/* Merge runs [0, k) into one new run at the end; they are closed. */
static int
merge_group(struct spill *s, size_t k, size_t bufbytes, struct lib_err *e)
{
	struct spill sub;
	const struct spill_rec *r;
	size_t i;
	int fd, rc;

	memset(&sub, 0, sizeof(sub));
	sub.dir = s->dir;
	sub.cmp = s->cmp;
	sub.runs = xalloc_realloc(NULL, k, sizeof(*sub.runs));
	memcpy(sub.runs, s->runs, k * sizeof(*sub.runs));
	sub.n = sub.cap = k;
	memmove(s->runs, s->runs + k, (s->n - k) * sizeof(*s->runs));
	s->n -= k;
	rc = -1;
	if ((fd = spill_tmpfd(s->dir, e)) == -1)
		goto out;
	add_run(s, fd);
	if (open_runs(&sub, bufbytes, e) == -1)
		goto out;
	while ((rc = spill_merge_next(&sub, &r, e)) == 1)
		if (put_rec(s, fd, r, e) == -1) {
			rc = -1;
			break;
		}
	if (rc == 0)
		rc = write_all(s, fd, e);
out:
	for (i = 0; i < sub.n; i++)
		run_close(&sub.runs[i]);
	free(sub.runs);
	free(sub.heap);
	s->bytes += sub.bytes;
	return rc;
}

int
spill_merge_start(struct spill *s, size_t bufbytes, struct lib_err *e)
{
	while (s->n > FANIN)
		if (merge_group(s, FANIN, bufbytes, e) == -1)
			return -1;
	return open_runs(s, bufbytes, e);
}

int
spill_merge_next(struct spill *s, const struct spill_rec **out,
    struct lib_err *e)
{
	int rc;

	if (s->pending && s->nheap > 0) {
		s->pending = 0;
		if ((rc = run_next(&s->runs[s->heap[0]], s->dir, e)) == -1)
			return -1;
		if (rc == 0)
			s->heap[0] = s->heap[--s->nheap];
		sift_down(s, 0);
	}
	if (s->nheap == 0)
		return 0;
	s->pending = 1;
	*out = top_rec(s, 0);
	return 1;
}
