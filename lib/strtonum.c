#include <errno.h>
#include <stdlib.h>

#include "exitcodes.h"
#include "strtonum.h"

int
strtonum_ll(const char *s, long long min, long long max, long long *out,
    struct lib_err *e)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s || *end != '\0')
		return liberr_set(e, EX_USAGE, "'%s': not a number", s);
	if (errno == ERANGE || v < min || v > max)
		return liberr_set(e, EX_USAGE, "'%s': out of range %lld..%lld",
		    s, min, max);
	*out = v;
	return 0;
}

int
strtonum_size(const char *s, unsigned long long min, unsigned long long max,
    unsigned long long *out, struct lib_err *e)
{
	char *end;
	unsigned long long v, mul = 1;

	errno = 0;
	if (*s == '-')
		return liberr_set(e, EX_USAGE, "'%s': not a size", s);
	v = strtoull(s, &end, 10);
	if (end == s)
		return liberr_set(e, EX_USAGE, "'%s': not a size", s);
	switch (*end) {
	case 'k': case 'K': mul = 1ULL << 10; end++; break;
	case 'm': case 'M': mul = 1ULL << 20; end++; break;
	case 'g': case 'G': mul = 1ULL << 30; end++; break;
	default: break;
	}
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end != '\0')
		return liberr_set(e, EX_USAGE, "'%s': not a size", s);
	if (errno == ERANGE || v > max / mul || v * mul < min || v * mul > max)
		return liberr_set(e, EX_USAGE, "'%s': out of range %llu..%llu",
		    s, min, max);
	*out = v * mul;
	return 0;
}
