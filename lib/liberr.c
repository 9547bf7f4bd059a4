#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "exitcodes.h"
#include "liberr.h"

int
liberr_set(struct lib_err *e, int code, const char *fmt, ...)
{
	va_list ap;

	e->code = code;
	va_start(ap, fmt);
	(void)vsnprintf(e->msg, sizeof(e->msg), fmt, ap); /* NOLINT(clang-analyzer-valist.Uninitialized): va_start is right above */
	va_end(ap);
	return -1;
}

int
liberr_prefix(struct lib_err *e, const char *fmt, ...)
{
	char old[sizeof(e->msg)];
	size_t n;
	va_list ap;

	memcpy(old, e->msg, sizeof(old));
	va_start(ap, fmt);
	(void)vsnprintf(e->msg, sizeof(e->msg), fmt, ap); /* NOLINT(clang-analyzer-valist.Uninitialized): va_start is right above */
	va_end(ap);
	n = strlen(e->msg);
	(void)snprintf(e->msg + n, sizeof(e->msg) - n, ": %s", old);
	return -1;
}

void
liberr_clear(struct lib_err *e)
{
	e->code = 0;
	e->msg[0] = '\0';
}

int
liberr_errno_status(int errnum, int otherwise)
{
	if (errnum == ENOSPC)
		return EX_TEMPFAIL;
#ifdef EDQUOT
	if (errnum == EDQUOT)
		return EX_TEMPFAIL;
#endif
	return otherwise;
}
