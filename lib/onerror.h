/*
 * The --on-error policy for bad input lines (sluice(7)): fail, skip, or
 * quarantine=FILE, where each rejected line is kept with its reason so that
 * nothing is lost.
 */
#ifndef ONERROR_H
#define ONERROR_H

#include "liberr.h"
#include "sidefile.h"

enum onerror_mode { ONERROR_FAIL, ONERROR_SKIP, ONERROR_QUARANTINE };

struct onerror {
	enum onerror_mode mode;
	const char	*path;		/* quarantine file */
	struct sidefile	 file;		/* the quarantine, from onerror_open */
	unsigned long	 rejected;
};

/*
 * Parse "fail", "skip" or "quarantine=FILE"; EX_USAGE on anything else,
 * "'SPEC': expected ...": the caller names its option.
 */
int	onerror_parse(struct onerror *, const char *spec, struct lib_err *);

/*
 * Open the quarantine file, before the first line is read, so that a path
 * that cannot be written fails the run before any output.  A file that
 * this run created is removed again at the close if no line was rejected.  0 for the other
 * policies; -1 with e set (EX_CANTCREAT, EX_TEMPFAIL).
 */
int	onerror_open(struct onerror *, struct lib_err *);

/*
 * Record a rejected line.  Returns 0 when processing goes on (skip and
 * quarantine), -1 with e set when it must stop: the fail policy
 * (EX_DATAERR, "FILE:LINE: reason") or a quarantine write error (EX_IOERR
 * or EX_TEMPFAIL): a line that cannot be kept stops the run, and it is not
 * counted.  Each line is flushed as it is written, so a write error shows
 * at the line that met it.  The quarantine line is
 * {"line":N,"file":F,"error":R,"input":S}, or "input_base64" when the line
 * is not valid UTF-8, so the bytes survive exactly.
 */
int	onerror_reject(struct onerror *, const char *file, unsigned long line,
	    const char *reason, const char *text, size_t len, struct lib_err *e);

/*
 * Make the quarantine durable (flush, fsync, close: sidefile_close), before
 * the run reports success; -1 with e set on a write error.
 */
int	onerror_close(struct onerror *, struct lib_err *);

#endif
