/*
 * Checked number parsing for option arguments: the whole string must be a
 * number within [min, max].  No atoi(3).
 */
#ifndef STRTONUM_H
#define STRTONUM_H

#include "liberr.h"

int	strtonum_ll(const char *s, long long min, long long max, long long *out,
	    struct lib_err *);
/* A byte size with an optional K, M or G suffix (powers of 1024). */
int	strtonum_size(const char *s, unsigned long long min,
	    unsigned long long max, unsigned long long *out, struct lib_err *);

#endif
