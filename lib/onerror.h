/*
 * The --on-error policy for bad input lines (sluice(7)): fail, skip, or
 * quarantine=FILE, where each rejected line is kept with its reason so that
 * nothing is lost.
 */
#ifndef ONERROR_H
#define ONERROR_H

#include <stdio.h>

#include "liberr.h"

enum onerror_mode { ONERROR_FAIL, ONERROR_SKIP, ONERROR_QUARANTINE };

struct onerror {
	enum onerror_mode mode;
	const char	*path;		/* quarantine file */
	FILE		*fp;		/* opened on the first rejected line */
	unsigned long	 rejected;
};

/* Parse "fail", "skip" or "quarantine=FILE"; EX_USAGE on anything else. */
int	onerror_parse(struct onerror *, const char *spec, struct lib_err *);

/*
 * Record a rejected line.  Returns 0 when processing goes on (skip and
 * quarantine), -1 when it must stop: the fail policy (e is left as the
 * caller set it) or a quarantine write error (e set, EX_CANTCREAT or
 * EX_IOERR).  The quarantine line is
 * {"line":N,"file":F,"error":R,"input":S}, or "input_base64" when the line
 * is not valid UTF-8, so the bytes survive exactly.
 */
int	onerror_reject(struct onerror *, const char *file, unsigned long line,
	    const char *reason, const char *text, size_t len, struct lib_err *e);

/* Flush and close the quarantine file; -1 with e set on a write error. */
int	onerror_close(struct onerror *, struct lib_err *);

#endif
