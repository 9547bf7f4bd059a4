/*
 * Unit tests for side files (lib/sidefile.h) and the one errno-to-status
 * mapping (liberr_errno_status): a replaced file appears whole or not at
 * all, a failed write is reported once, a full disk is temporary.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "exitcodes.h"
#include "liberr.h"
#include "sidefile.h"

/* The whole content of path, or "" when it cannot be read. */
static const char *
content(const char *path)
{
	static char buf[256];
	FILE *fp;
	size_t n = 0;

	buf[0] = '\0';
	if ((fp = fopen(path, "r")) != NULL) {
		n = fread(buf, 1, sizeof(buf) - 1, fp);
		(void)fclose(fp);
	}
	buf[n] = '\0';
	return buf;
}

static void
test_errno_status(void)
{
	CHECK(liberr_errno_status(ENOSPC, EX_IOERR) == EX_TEMPFAIL);
#ifdef EDQUOT
	CHECK(liberr_errno_status(EDQUOT, EX_IOERR) == EX_TEMPFAIL);
#endif
	CHECK(liberr_errno_status(EIO, EX_IOERR) == EX_IOERR);
	CHECK(liberr_errno_status(EBADF, EX_IOERR) == EX_IOERR);
	CHECK(liberr_errno_status(ENOENT, EX_CANTCREAT) == EX_CANTCREAT);
	CHECK(liberr_errno_status(ENOSPC, EX_CANTCREAT) == EX_TEMPFAIL);
}

static void
test_replace(const char *dir)
{
	struct sidefile f;
	struct lib_err e;
	char path[512];
	FILE *fp;

	(void)snprintf(path, sizeof(path), "%s/st.json", dir);
	fp = fopen(path, "w");
	CHECK(fp != NULL);
	if (fp == NULL)
		return;
	(void)fputs("old\n", fp);
	(void)fclose(fp);

	/* Until the close, readers see the old file. */
	CHECK(sidefile_open(&f, path, SIDEFILE_REPLACE, &e) == 0);
	CHECK(f.tmp != NULL);
	CHECK(sidefile_write(&f, "new\n", 4, 0, &e) == 0);
	CHECK(strcmp(content(path), "old\n") == 0);
	CHECK(sidefile_close(&f, &e) == 0);
	CHECK(strcmp(content(path), "new\n") == 0);
	CHECK(f.fp == NULL && f.tmp == NULL);
	/* Closing again is harmless. */
	CHECK(sidefile_close(&f, &e) == 0);

	/* A symbolic link is written through and stays a link. */
	{
		char link[512];
		struct stat sb;

		(void)snprintf(link, sizeof(link), "%s/link.json", dir);
		CHECK(symlink("st.json", link) == 0);
		CHECK(sidefile_open(&f, link, SIDEFILE_REPLACE, &e) == 0);
		CHECK(f.tmp == NULL);
		CHECK(sidefile_write(&f, "via\n", 4, 0, &e) == 0);
		CHECK(sidefile_close(&f, &e) == 0);
		CHECK(lstat(link, &sb) == 0 && S_ISLNK(sb.st_mode));
		CHECK(strcmp(content(path), "via\n") == 0);
	}

	/* A directory that does not exist: EX_CANTCREAT at the open. */
	(void)snprintf(path, sizeof(path), "%s/no/such/st.json", dir);
	liberr_clear(&e);
	CHECK(sidefile_open(&f, path, SIDEFILE_REPLACE, &e) == -1);
	CHECK(e.code == EX_CANTCREAT && strstr(e.msg, "st.json") != NULL);
}

static void
test_append(const char *dir)
{
	struct sidefile f;
	struct lib_err e;
	char path[512];

	(void)snprintf(path, sizeof(path), "%s/q.jsonl", dir);
	CHECK(sidefile_open(&f, path, SIDEFILE_APPEND, &e) == 0);
	CHECK(f.tmp == NULL);
	CHECK(sidefile_write(&f, "a\n", 2, 1, &e) == 0);
	CHECK(strcmp(content(path), "a\n") == 0);
	CHECK(sidefile_close(&f, &e) == 0);
	CHECK(sidefile_open(&f, path, SIDEFILE_APPEND, &e) == 0);
	CHECK(sidefile_write(&f, "b\n", 2, 0, &e) == 0);
	CHECK(sidefile_close(&f, &e) == 0);
	CHECK(strcmp(content(path), "a\nb\n") == 0);
}

/* A quarantine exists only when it has lines, unless it was there before. */
static void
test_append_some(const char *dir)
{
	struct sidefile f;
	struct lib_err e;
	char path[512];
	FILE *fp;

	(void)snprintf(path, sizeof(path), "%s/dead.jsonl", dir);
	CHECK(sidefile_open(&f, path, SIDEFILE_APPEND_SOME, &e) == 0);
	CHECK(access(path, F_OK) == 0);
	CHECK(sidefile_close(&f, &e) == 0);
	CHECK(access(path, F_OK) == -1 && errno == ENOENT);

	CHECK(sidefile_open(&f, path, SIDEFILE_APPEND_SOME, &e) == 0);
	CHECK(sidefile_write(&f, "a\n", 2, 1, &e) == 0);
	CHECK(sidefile_close(&f, &e) == 0);
	CHECK(strcmp(content(path), "a\n") == 0);

	/* There before, empty: kept. */
	(void)unlink(path);
	if ((fp = fopen(path, "w")) != NULL)
		(void)fclose(fp);
	CHECK(sidefile_open(&f, path, SIDEFILE_APPEND_SOME, &e) == 0);
	CHECK(sidefile_close(&f, &e) == 0);
	CHECK(access(path, F_OK) == 0);
}

static void
test_full(void)
{
	struct sidefile f;
	struct lib_err e;

	if (access("/dev/full", W_OK) != 0)
		return;
	/* A device is written in place, never replaced by a rename. */
	CHECK(sidefile_open(&f, "/dev/full", SIDEFILE_REPLACE, &e) == 0);
	CHECK(f.tmp == NULL);
	/* Buffered: the error shows at the close, as a full disk. */
	CHECK(sidefile_write(&f, "x\n", 2, 0, &e) == 0);
	liberr_clear(&e);
	CHECK(sidefile_close(&f, &e) == -1);
	CHECK(e.code == EX_TEMPFAIL);

	/* Flushed: the error shows at the write, and only there. */
	CHECK(sidefile_open(&f, "/dev/full", SIDEFILE_APPEND, &e) == 0);
	liberr_clear(&e);
	CHECK(sidefile_write(&f, "x\n", 2, 1, &e) == -1);
	CHECK(e.code == EX_TEMPFAIL && strstr(e.msg, "/dev/full") != NULL);
	liberr_clear(&e);
	CHECK(sidefile_close(&f, &e) == 0 && e.code == 0);
}

int
main(void)
{
	char dir[] = "/tmp/sluice-unit-XXXXXX";
	char cmd[64];

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_errno_status();
	test_replace(dir);
	test_append(dir);
	test_append_some(dir);
	test_full();
	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		failed++;
	(void)printf("unit sidefile: %d passed, %d failed\n", passed, failed);
	return failed != 0;
}
