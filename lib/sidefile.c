#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exitcodes.h"
#include "sidefile.h"
#include "xalloc.h"

/* A new file beside path, created exclusively with the usual mode. */
static int
create_temp(struct sidefile *f, struct lib_err *e)
{
	size_t size = strlen(f->path) + 48;
	int fd, i;

	f->tmp = xalloc_realloc(NULL, size, 1);
	for (i = 0; i < 100; i++) {
		(void)snprintf(f->tmp, size, "%s.tmp-%ld-%d", f->path,
		    (long)getpid(), i);
		fd = open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (fd != -1 || errno != EEXIST)
			break;
	}
	if (fd == -1) {
		(void)liberr_set(e, liberr_errno_status(errno, EX_CANTCREAT),
		    "%s: %s", f->path, strerror(errno));
		free(f->tmp);
		f->tmp = NULL;
		return -1;
	}
	if ((f->fp = fdopen(fd, "w")) == NULL) {
		(void)liberr_set(e, EX_OSERR, "%s: %s", f->path, strerror(errno));
		(void)close(fd);
		(void)unlink(f->tmp);
		free(f->tmp);
		f->tmp = NULL;
		return -1;
	}
	return 0;
}

/* Append, knowing whether this open created the file. */
static int
open_append_some(struct sidefile *f, struct lib_err *e)
{
	int fd;

	fd = open(f->path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC,
	    0666);
	if (fd != -1)
		f->drop_empty = 1;
	else if (errno == EEXIST)
		fd = open(f->path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd == -1)
		return liberr_set(e, liberr_errno_status(errno, EX_CANTCREAT),
		    "%s: %s", f->path, strerror(errno));
	if ((f->fp = fdopen(fd, "a")) == NULL) {
		(void)liberr_set(e, EX_OSERR, "%s: %s", f->path,
		    strerror(errno));
		(void)close(fd);
		if (f->drop_empty)
			(void)unlink(f->path);
		return -1;
	}
	return 0;
}

int
sidefile_open(struct sidefile *f, const char *path, enum sidefile_mode mode,
    struct lib_err *e)
{
	struct stat sb;

	memset(f, 0, sizeof(*f));
	f->path = path;
	/* A symbolic link is written through, not replaced by a file. */
	if (mode == SIDEFILE_REPLACE &&
	    (lstat(path, &sb) == -1 ? errno == ENOENT : S_ISREG(sb.st_mode)))
		return create_temp(f, e);
	if (mode == SIDEFILE_APPEND_SOME)
		return open_append_some(f, e);
	if ((f->fp = fopen(path, mode == SIDEFILE_APPEND ? "a" : "w")) == NULL)
		return liberr_set(e, liberr_errno_status(errno, EX_CANTCREAT),
		    "%s: %s", path, strerror(errno));
	return 0;
}

static int
write_error(struct sidefile *f, int errnum, struct lib_err *e)
{
	f->failed = 1;
	return liberr_set(e, liberr_errno_status(errnum, EX_IOERR), "%s: %s",
	    f->path, errnum != 0 ? strerror(errnum) : "write error");
}

int
sidefile_write(struct sidefile *f, const void *p, size_t n, int flush,
    struct lib_err *e)
{
	f->written |= n > 0;
	errno = 0;
	if (fwrite(p, 1, n, f->fp) != n || (flush && fflush(f->fp) != 0))
		return write_error(f, errno, e);
	return 0;
}

int
sidefile_close(struct sidefile *f, struct lib_err *e)
{
	struct stat sb;
	int rc = 0;

	if (f->fp == NULL)
		return 0;
	if (f->failed) {
		(void)fclose(f->fp);
		f->fp = NULL;
		if (f->tmp != NULL)
			(void)unlink(f->tmp);
		free(f->tmp);
		f->tmp = NULL;
		return 0;
	}
	errno = 0;
	/* fsync only means something for a file: a device or FIFO says EINVAL. */
	if (fflush(f->fp) != 0 || ferror(f->fp) ||
	    (fstat(fileno(f->fp), &sb) == 0 && S_ISREG(sb.st_mode) &&
	    fsync(fileno(f->fp)) != 0))
		rc = write_error(f, errno, e);
	if (fclose(f->fp) != 0 && rc == 0)
		rc = write_error(f, errno, e);
	f->fp = NULL;
	if (rc == 0 && f->drop_empty && !f->written)
		(void)unlink(f->path);
	if (f->tmp != NULL) {
		if (rc == 0 && rename(f->tmp, f->path) != 0)
			rc = liberr_set(e, liberr_errno_status(errno,
			    EX_CANTCREAT), "%s: %s", f->path, strerror(errno));
		if (rc != 0)
			(void)unlink(f->tmp);
		free(f->tmp);
		f->tmp = NULL;
	}
	return rc;
}

int
sidefile_rewind(struct sidefile *f, struct lib_err *e)
{
	if (f->fp == NULL || f->tmp == NULL)
		return liberr_set(e, EX_IOERR, "%s: cannot be written again",
		    f->path);
	errno = 0;
	if (fflush(f->fp) != 0 || ftruncate(fileno(f->fp), 0) != 0 ||
	    fseek(f->fp, 0, SEEK_SET) != 0)
		return write_error(f, errno, e);
	f->written = 0;
	f->failed = 0;
	return 0;
}
