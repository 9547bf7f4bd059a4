/*
 * The files a source names: itself, or, when the last segment of a local
 * path or an sftp:// URL holds a glob (*, ? or [...]), every file that
 * matches it, in name order (byte order, as ls(1) in the C locale).  A
 * local glob is glob(3)'s; a remote one matches the names the SFTP
 * server lists for the directory (fnmatch(3)).  As in sh(1), a name that
 * starts with "." matches only a pattern that does.
 */
#ifndef FILESET_H
#define FILESET_H

#include <stddef.h>

#include "http.h"
#include "liberr.h"

struct fileset {
	char		**names;	/* paths or URLs, allocated */
	size_t		 n;
};

/* 1 if the last path segment of src is a glob. */
int	fileset_is_glob(const char *src);

/*
 * The files src names into fs (emptied first); h lists a remote
 * directory.  -1 with e set: EX_NOINPUT when no file matches, or what
 * listing the directory gave.
 */
int	fileset_expand(struct http *h, const char *src, struct fileset *fs,
	    struct lib_err *e);

void	fileset_free(struct fileset *);

#endif
