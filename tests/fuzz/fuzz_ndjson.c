/*
 * The NDJSON line reader over a file descriptor: lines never hold a
 * newline, never exceed max_line, are never blank, and their numbers only
 * go up; every byte of a line comes from the input.
 */
#include <string.h>
#include <unistd.h>

#include "exitcodes.h"
#include "fuzz.h"
#include "ndjson.h"

#define MAX_LINE	64

static int
blank(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	struct ndjson_reader r;
	struct ndjson_line l;
	struct lib_err e;
	unsigned long last = 0;
	int rc;

	if (fd == -1) {
		FILE *f = tmpfile();

		FUZZ_CHECK(f != NULL, "temporary file");
		fd = fileno(f);
	}
	FUZZ_CHECK(ftruncate(fd, 0) == 0 && lseek(fd, 0, SEEK_SET) == 0 &&
	    write(fd, data, size) == (ssize_t)size &&
	    lseek(fd, 0, SEEK_SET) == 0, "input written");
	FUZZ_CHECK(ndjson_init(&r, fd, "fuzz", MAX_LINE, NULL, NULL, &e) == 0,
	    "reader initialised");
	while ((rc = ndjson_next(&r, &l, &e)) != 0) {
		if (rc == -1) {
			FUZZ_CHECK(e.code == EX_DATAERR, "only overlong lines fail");
			FUZZ_CHECK(l.len <= MAX_LINE, "overlong line cut");
			continue;
		}
		FUZZ_CHECK(l.len <= MAX_LINE, "line within max_line");
		FUZZ_CHECK(memchr(l.text, '\n', l.len) == NULL, "no newline");
		FUZZ_CHECK(l.lineno > last, "line numbers go up");
		FUZZ_CHECK(l.text >= r.buf && l.text + l.len <= r.buf + r.end,
		    "a line is inside the buffer");
		FUZZ_CHECK(!blank(l.text, l.len), "blank lines are skipped");
		last = l.lineno;
	}
	ndjson_free(&r);
	return 0;
}
