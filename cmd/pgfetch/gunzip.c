#include <stdlib.h>
#include <string.h>

#define ZLIB_CONST	/* next_in is const */
#include <zlib.h>

#include "exitcodes.h"
#include "gunzip.h"
#include "xalloc.h"

#define GUNZIP_CHUNK	((size_t)256 * 1024)

struct gunzip {
	gunzip_out_fn	 out;
	void		*arg;
	int		 decided;	/* the first two bytes were seen */
	int		 gzip;		/* they were gzip's magic */
	int		 in_member;	/* inside a gzip member */
	size_t		 nmagic;	/* bytes of the next member's magic seen */
	int		 trailing;	/* past the last member: ignored */
	unsigned char	 head[2];
	size_t		 nhead;
	z_stream	 z;
	char		*buf;
};

struct gunzip *
gunzip_new(gunzip_out_fn out, void *arg)
{
	struct gunzip *g = xalloc_realloc(NULL, 1, sizeof(*g));

	memset(g, 0, sizeof(*g));
	g->out = out;
	g->arg = arg;
	return g;
}

void
gunzip_free(struct gunzip *g)
{
	if (g == NULL)
		return;
	if (g->gzip)
		(void)inflateEnd(&g->z);
	free(g->buf);
	free(g);
}

/* Inflate until the input is used up or the member ends: *used bytes. */
static int
inflate_in(struct gunzip *g, const unsigned char *p, size_t n, size_t *used,
    struct lib_err *e)
{
	int zrc, rc;

	*used = 0;
	g->z.next_in = p;
	g->z.avail_in = (uInt)n;
	do {
		g->z.next_out = (unsigned char *)g->buf;
		g->z.avail_out = (uInt)GUNZIP_CHUNK;
		zrc = inflate(&g->z, Z_NO_FLUSH);
		if (zrc != Z_OK && zrc != Z_STREAM_END && zrc != Z_BUF_ERROR)
			return liberr_set(e, EX_DATAERR, "gzip: %s",
			    g->z.msg != NULL ? g->z.msg : "corrupt data");
		if (GUNZIP_CHUNK - g->z.avail_out > 0 && (rc = g->out(g->arg,
		    g->buf, GUNZIP_CHUNK - g->z.avail_out, e)) != 0)
			return rc;
		if (zrc == Z_STREAM_END) {
			g->in_member = 0;
			break;
		}
	} while (zrc != Z_BUF_ERROR && (g->z.avail_in > 0 ||
	    g->z.avail_out == 0));
	*used = n - g->z.avail_in;
	return 0;
}

/*
 * gzip data: members one after the other.  After a complete member,
 * anything that does not start with gzip's magic (zero padding, as tape
 * and some writers leave) is ignored, as zlib's gzread(3) and zcat do;
 * a member cut short stays an error (gunzip_finish).
 */
static int
inflate_some(struct gunzip *g, const unsigned char *p, size_t n,
    struct lib_err *e)
{
	static const unsigned char magic[2] = { 0x1f, 0x8b };
	size_t used;
	int rc;

	while (n > 0 && !g->trailing) {
		if (g->in_member) {
			if ((rc = inflate_in(g, p, n, &used, e)) != 0)
				return rc;
			p += used;
			n -= used;
			continue;
		}
		if (*p != magic[g->nmagic]) {
			g->trailing = 1;
			break;
		}
		p++;
		n--;
		if (++g->nmagic < 2)
			continue;
		g->nmagic = 0;
		if (inflateReset(&g->z) != Z_OK)
			return liberr_set(e, EX_SOFTWARE, "zlib: reset");
		g->in_member = 1;
		if ((rc = inflate_in(g, magic, 2, &used, e)) != 0)
			return rc;
	}
	return 0;
}

int
gunzip_feed(struct gunzip *g, const char *p, size_t n, struct lib_err *e)
{
	const unsigned char *u = (const unsigned char *)p;
	int rc;

	if (!g->decided) {
		while (n > 0 && g->nhead < 2) {
			g->head[g->nhead++] = *u++;
			n--;
		}
		if (g->nhead < 2)
			return 0;
		g->decided = 1;
		g->gzip = g->head[0] == 0x1f && g->head[1] == 0x8b;
		if (g->gzip) {
			g->buf = xalloc_realloc(NULL, GUNZIP_CHUNK, 1);
			memset(&g->z, 0, sizeof(g->z));
			/* 16 + MAX_WBITS: a gzip header and trailer. */
			if (inflateInit2(&g->z, 16 + MAX_WBITS) != Z_OK)
				return liberr_set(e, EX_OSERR, "zlib: out of memory");
			if ((rc = inflate_some(g, g->head, 2, e)) != 0)
				return rc;
		} else if ((rc = g->out(g->arg, (const char *)g->head, 2, e)) != 0)
			return rc;
	}
	if (n == 0)
		return 0;
	if (g->gzip)
		return inflate_some(g, u, n, e);
	return g->out(g->arg, (const char *)u, n, e);
}

int
gunzip_finish(struct gunzip *g, struct lib_err *e)
{
	int rc;

	if (!g->decided && g->nhead > 0 && (rc = g->out(g->arg,
	    (const char *)g->head, g->nhead, e)) != 0)
		return rc;
	if (g->gzip && g->in_member)
		return liberr_set(e, EX_DATAERR, "gzip: unexpected end of file");
	return 0;
}
