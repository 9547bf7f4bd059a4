/*
 * Recognising ISO-8601 dates and timestamps in strings, for type inference.
 */
#ifndef DETECT_H
#define DETECT_H

#include <stddef.h>

enum detect_kind { DETECT_NONE, DETECT_DATE, DETECT_TIMESTAMP };

/*
 * DETECT_DATE for YYYY-MM-DD; DETECT_TIMESTAMP for YYYY-MM-DD followed by
 * 'T' or ' ', HH:MM:SS[.fraction] and an optional 'Z' or +HH:MM / -HH:MM
 * / +HHMM offset; DETECT_NONE for anything else, including impossible
 * fields such as month 13 or hour 24.
 */
enum detect_kind detect_temporal(const char *s, size_t n);

#endif
