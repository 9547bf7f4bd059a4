/*
 * Errors reported by lib/: a message and the exit status it maps to.
 * lib/ never prints and never exits; it fills a caller-owned lib_err and
 * returns -1, and the program decides what to do with it.
 */
#ifndef LIBERR_H
#define LIBERR_H

struct lib_err {
	int	 code;		/* an EX_* status from exitcodes.h */
	char	 msg[1024];
};

/* Set code and a printf-style message; returns -1 for "return liberr_set(...)". */
int	liberr_set(struct lib_err *, int code, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Prefix the current message with "fmt: "; returns -1. */
int	liberr_prefix(struct lib_err *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	liberr_clear(struct lib_err *);
/*
 * The exit status of a failed system call on an output: a disk that is
 * full for now (ENOSPC, EDQUOT) is EX_TEMPFAIL, worth a retry once space
 * is freed; any other errno gives otherwise (EX_IOERR for a write,
 * EX_CANTCREAT for a create).  The one place that makes this choice.
 */
int	liberr_errno_status(int errnum, int otherwise);

#endif
