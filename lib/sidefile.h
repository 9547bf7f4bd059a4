/*
 * Side files: the outputs next to the data stream (--stats, the
 * quarantine of --on-error, schema-infer's --events).  Each is opened
 * before the first record, so that a path that cannot be written fails
 * the run before any output; written with checked errors; and made
 * durable (flushed, fsync'ed, closed, all checked) before the program
 * reports success, so that a side file is never lost behind a success.
 */
#ifndef SIDEFILE_H
#define SIDEFILE_H

#include <stddef.h>
#include <stdio.h>

#include "liberr.h"

enum sidefile_mode {
	SIDEFILE_APPEND,	/* lines added to what the file holds */
	SIDEFILE_APPEND_SOME,	/* the same, but a file that this open created
				   and nothing was written to is removed at the
				   close: it exists only when it has lines */
	SIDEFILE_REPLACE	/* the whole file, replaced at once at the end */
};

struct sidefile {
	const char	*path;		/* borrowed */
	char		*tmp;		/* SIDEFILE_REPLACE: written here, renamed */
	FILE		*fp;		/* NULL when not open */
	int		 failed;	/* a write failed and said so */
	int		 drop_empty;	/* SIDEFILE_APPEND_SOME, and we created it */
	int		 written;	/* something was written */
};

/*
 * Open path.  SIDEFILE_REPLACE writes a temporary file beside it that
 * sidefile_close renames over it, so readers never see half a file; a
 * path that exists and is no regular file (a device, a FIFO, a symbolic
 * link) is written in place.  -1 with e set: EX_CANTCREAT, or EX_TEMPFAIL for a full disk.
 */
int	sidefile_open(struct sidefile *, const char *path, enum sidefile_mode,
	    struct lib_err *);
/*
 * Write n bytes; flush also pushes them to the file at once, so that a
 * failure shows at this write.  -1 with e set (EX_IOERR, EX_TEMPFAIL).
 */
int	sidefile_write(struct sidefile *, const void *, size_t, int flush,
	    struct lib_err *);
/*
 * Make what was written durable: flush, fsync (a regular file), close,
 * and rename the temporary file into place.  On failure the temporary
 * file is removed and the destination is as it was.  A file that is not
 * open is a success, and so is one whose write already failed with its
 * error given to the caller: it is closed and dropped without a second
 * one.  -1 with e set (EX_IOERR, EX_TEMPFAIL).
 */
int	sidefile_close(struct sidefile *, struct lib_err *);
/*
 * SIDEFILE_REPLACE: forget what was written, to write it again (a
 * summary whose outcome changed); the file in place is untouched until
 * the close.  -1 with e set (EX_IOERR), or for a file written in place.
 */
int	sidefile_rewind(struct sidefile *, struct lib_err *);

#endif
