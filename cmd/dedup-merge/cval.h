/*
 * Comparable values: a JSON value (a --latest-by or --cursor value)
 * encoded as a short byte string that sorts by what the value means, so
 * that dedup-merge can keep it beside a held record, write it to a spill
 * run, and compare two of them without the parsed tree.
 *
 * The order is total: missing or null < false < true < numbers < ISO 8601
 * dates and timestamps < other strings < objects and arrays (all equal).
 * Numbers compare as numbers: integer literals that fit in 64 bits
 * exactly, others as long double.  Timestamps compare as instants (to the
 * nanosecond; a date is midnight UTC).  Other strings compare bytewise,
 * after unescaping.
 */
#ifndef CVAL_H
#define CVAL_H

#include <stddef.h>

#include "jbuf.h"
#include "jval.h"

/* The longest encoding of a number or timestamp; strings are longer. */
#define CVAL_FIXED_MAX	24

/* Append the encoding of v (NULL: missing) to out. */
void	cval_encode(struct jbuf *out, const struct jval *v);
/*
 * Append the encoding of an option's text: a number when the whole text
 * looks like a JSON number, else a string (a timestamp if it is one).
 */
void	cval_encode_text(struct jbuf *out, const char *s, size_t n);
/* <0, 0 or >0 as a sorts before, with, or after b. */
int	cval_cmp(const char *a, size_t alen, const char *b, size_t blen);
/* 1 if the encoded value is missing or null; 1 if it is a number. */
int	cval_is_null(const char *a, size_t alen);
int	cval_is_number(const char *a, size_t alen);
/*
 * Append to out the value a less d (a number, or seconds for a
 * timestamp).  Returns 0, or -1 (out unchanged) when a is neither.
 */
int	cval_minus(struct jbuf *out, const char *a, size_t alen, long double d);
/*
 * The instant of an ISO 8601 date or timestamp (YYYY-MM-DD, or that with
 * T or space, HH:MM:SS, an optional fraction and Z, +HH:MM, +HHMM or +HH):
 * seconds since 1970 UTC and nanoseconds.  -1 when s is not one.
 */
int	cval_instant(const char *s, size_t n, long long *sec, long *nsec);

#endif
