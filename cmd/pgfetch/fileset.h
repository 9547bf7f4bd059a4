/*
 * The files sources name: a source itself, or, when the last segment of
 * a local path or an sftp:// URL holds a glob (*, ? or [...]), every file
 * that matches it, in name order (byte order, as ls(1) in the C locale).
 * A local glob is glob(3)'s; a remote one matches the names the SFTP
 * server lists for the directory (fnmatch(3)).  As in sh(1), a name that
 * starts with "." matches only a pattern that does.
 *
 * For incremental runs, each file also has its modification time, and
 * the set can be put in the order a file bookmark keeps, (time, name),
 * and cut to the files after a bookmark.
 */
#ifndef FILESET_H
#define FILESET_H

#include <stddef.h>

#include "http.h"
#include "liberr.h"

struct fileset_file {
	char		*name;		/* the path or URL to read */
	char		*shown;		/* as records and bookmarks name it: a
					 * URL without its credentials */
	long long	 mtime;		/* fileset_stat: seconds since the epoch */
};

struct fileset {
	struct fileset_file *files;
	size_t		 n;
};

/* 1 if the last path segment of src is a glob. */
int	fileset_is_glob(const char *src);

/*
 * Append the files src names to fs; h lists a remote directory.  -1 with
 * e set: EX_NOINPUT when no file matches, or what listing the directory
 * gave.
 */
int	fileset_add(struct http *h, const char *src, struct fileset *fs,
	    struct lib_err *e);

/*
 * The modification time of each file from the index from on (h asks a
 * remote one).  -1 with e set.
 */
int	fileset_stat(struct http *h, struct fileset *fs, size_t from,
	    struct lib_err *e);

/*
 * Oldest first, by modification time, then name: the order in which a
 * bookmark of the last file read, (time, name), says which were read.
 */
void	fileset_sort_by_time(struct fileset *fs);

/*
 * Only the files after the bookmark: modified later than mtime, or in
 * the same second with a name (shown) after name.
 */
void	fileset_after(struct fileset *fs, long long mtime, const char *name);

void	fileset_free(struct fileset *);

#endif
