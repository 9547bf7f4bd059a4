/*
 * gunzip: the input itself, fed in chunks, never crashes, and bytes without
 * gzip's magic pass through unchanged; the input gzip-compressed by zlib
 * (one member, or two with trailing zero padding when the first byte says
 * so) comes back byte for byte.
 */
#include <string.h>
#define ZLIB_CONST
#include <zlib.h>

#include "exitcodes.h"
#include "fuzz.h"
#include "gunzip.h"
#include "jbuf.h"

static int
collect(void *arg, const char *p, size_t n, struct lib_err *e)
{
	(void)e;
	jbuf_put(arg, p, n);
	return 0;
}

/* Feed in chunks of the given size; 0 or -1 as gunzip said. */
static int
run(const unsigned char *p, size_t n, size_t chunk, struct jbuf *out,
    struct lib_err *e)
{
	struct gunzip *g = gunzip_new(collect, out);
	size_t off;
	int rc = 0;

	FUZZ_CHECK(g != NULL, "gunzip allocated");
	for (off = 0; off < n && rc == 0; off += chunk)
		rc = gunzip_feed(g, (const char *)p + off,
		    n - off < chunk ? n - off : chunk, e);
	if (rc == 0)
		rc = gunzip_finish(g, e);
	gunzip_free(g);
	return rc;
}

/* Append data gzip-compressed (one member) to z. */
static void
gzip_member(const unsigned char *data, size_t size, struct jbuf *z)
{
	z_stream s;
	unsigned char buf[4096];
	int rc;

	memset(&s, 0, sizeof(s));
	FUZZ_CHECK(deflateInit2(&s, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + 15,
	    8, Z_DEFAULT_STRATEGY) == Z_OK, "deflate initialised");
	s.next_in = data;
	s.avail_in = (uInt)size;
	do {
		s.next_out = buf;
		s.avail_out = sizeof(buf);
		rc = deflate(&s, Z_FINISH);
		FUZZ_CHECK(rc == Z_OK || rc == Z_STREAM_END, "deflate");
		jbuf_put(z, buf, sizeof(buf) - s.avail_out);
	} while (rc != Z_STREAM_END);
	(void)deflateEnd(&s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jbuf out = JBUF_INIT, z = JBUF_INIT;
	struct lib_err e;
	size_t chunk, half;
	int twice, rc;

	if (size < 1)
		return 0;
	chunk = (size_t)data[0] % 97 + 1;
	twice = data[0] & 1;
	/* 1. The bytes as they are. */
	rc = run(data, size, chunk, &out, &e);
	if (rc == -1)
		FUZZ_CHECK(e.code == EX_DATAERR, "corrupt gzip is bad data");
	if (!(size >= 2 && data[0] == 0x1f && data[1] == 0x8b)) {
		FUZZ_CHECK(rc == 0, "plain bytes are accepted");
		FUZZ_CHECK(out.len == size && memcmp(out.p, data, size) == 0,
		    "plain bytes pass through unchanged");
	}
	/* 2. The bytes compressed: they come back. */
	jbuf_reset(&out);
	half = twice ? size / 2 : size;
	gzip_member(data, half, &z);
	if (twice) {
		gzip_member(data + half, size - half, &z);
		jbuf_put(&z, "\0\0\0\0", 4);
	}
	rc = run((const unsigned char *)z.p, z.len, chunk, &out, &e);
	FUZZ_CHECK(rc == 0, "zlib's gzip is accepted");
	FUZZ_CHECK(out.len == size && memcmp(out.p, data, size) == 0,
	    "gzip round trip");
	jbuf_free(&out);
	jbuf_free(&z);
	return 0;
}
