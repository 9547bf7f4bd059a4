#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clocks.h"
#include "cval.h"
#include "detect.h"
#include "xalloc.h"

/* The first byte of an encoding: its rank in the order. */
enum {
	R_NULL, R_FALSE, R_TRUE, R_NUMBER, R_TIME, R_STRING, R_CONTAINER
};

/* After R_NUMBER: an exact 64-bit integer, or a long double. */
#define N_INT	'i'
#define N_REAL	'd'

static int
num2(const char *s)
{
	return (s[0] - '0') * 10 + (s[1] - '0');
}

int
cval_instant(const char *s, size_t n, long long *sec, long *nsec)
{
	enum detect_kind k = detect_temporal(s, n);
	long long t;
	long frac = 0, scale = 100000000;
	size_t i;
	int off = 0;

	if (k == DETECT_NONE)
		return -1;
	t = clocks_days_from_civil((s[0] - '0') * 1000 + (s[1] - '0') * 100 +
	    num2(s + 2), num2(s + 5), num2(s + 8)) * 86400;
	if (k == DETECT_TIMESTAMP) {
		t += num2(s + 11) * 3600 + num2(s + 14) * 60 + num2(s + 17);
		i = 19;
		if (i < n && (s[i] == '.' || s[i] == ',')) {
			/* Nanoseconds: further digits do not count. */
			for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
				frac += (s[i] - '0') * scale;
				scale /= 10;
			}
		}
		if (i < n && (s[i] == '+' || s[i] == '-')) {
			off = num2(s + i + 1) * 3600;
			if (n - i == 6)
				off += num2(s + i + 4) * 60;
			else if (n - i == 5)
				off += num2(s + i + 3) * 60;
			if (s[i] == '-')
				off = -off;
		}
	}
	*sec = t - off;
	*nsec = frac;
	return 0;
}

static void
put_real(struct jbuf *out, long double d)
{
	jbuf_putc(out, R_NUMBER);
	jbuf_putc(out, N_REAL);
	jbuf_put(out, &d, sizeof(d));
}

static void
put_int(struct jbuf *out, long long v)
{
	jbuf_putc(out, R_NUMBER);
	jbuf_putc(out, N_INT);
	jbuf_put(out, &v, sizeof(v));
}

static void
put_time(struct jbuf *out, long long sec, long nsec)
{
	int32_t ns = (int32_t)nsec;

	jbuf_putc(out, R_TIME);
	jbuf_put(out, &sec, sizeof(sec));
	jbuf_put(out, &ns, sizeof(ns));
}

static void
encode_number(struct jbuf *out, const char *s, size_t n)
{
	struct jval v;
	long long i;
	char small[128], *buf;

	memset(&v, 0, sizeof(v));
	v.type = JV_NUMBER;
	v.str = s;
	v.len = n;
	if (jval_int64(&v, &i)) {
		put_int(out, i);
		return;
	}
	buf = n < sizeof(small) ? small : xalloc_malloc(n + 1, 1);
	memcpy(buf, s, n);
	buf[n] = '\0';
	put_real(out, strtold(buf, NULL));
	if (buf != small)
		free(buf);
}

static void
encode_string(struct jbuf *out, const char *s, size_t n)
{
	long long sec;
	long nsec;

	if (cval_instant(s, n, &sec, &nsec) == 0) {
		put_time(out, sec, nsec);
		return;
	}
	jbuf_putc(out, R_STRING);
	jbuf_put(out, s, n);
}

void
cval_encode(struct jbuf *out, const struct jval *v)
{
	if (v == NULL) {
		jbuf_putc(out, R_NULL);
		return;
	}
	switch (v->type) {
	case JV_NULL:
		jbuf_putc(out, R_NULL);
		break;
	case JV_FALSE:
		jbuf_putc(out, R_FALSE);
		break;
	case JV_TRUE:
		jbuf_putc(out, R_TRUE);
		break;
	case JV_NUMBER:
		encode_number(out, v->str, v->len);
		break;
	case JV_STRING:
		encode_string(out, v->str, v->len);
		break;
	default:
		jbuf_putc(out, R_CONTAINER);
		break;
	}
}

void
cval_encode_text(struct jbuf *out, const char *s, size_t n)
{
	if (jval_is_number(s, n))
		encode_number(out, s, n);
	else
		encode_string(out, s, n);
}

int
cval_is_null(const char *a, size_t alen)
{
	return alen == 0 || a[0] == R_NULL;
}

int
cval_is_number(const char *a, size_t alen)
{
	return alen > 0 && a[0] == R_NUMBER;
}

static long double
real_of(const char *p)
{
	long double d;
	long long i;

	if (p[0] == N_INT) {
		memcpy(&i, p + 1, sizeof(i));
		return (long double)i;
	}
	memcpy(&d, p + 1, sizeof(d));
	return d;
}

static int
cmp_number(const char *a, const char *b)
{
	long long x, y;
	long double dx, dy;

	if (a[0] == N_INT && b[0] == N_INT) {
		memcpy(&x, a + 1, sizeof(x));
		memcpy(&y, b + 1, sizeof(y));
		return (x > y) - (x < y);
	}
	dx = real_of(a);
	dy = real_of(b);
	return (dx > dy) - (dx < dy);
}

static int
cmp_time(const char *a, const char *b)
{
	long long x, y;
	int32_t nx, ny;

	memcpy(&x, a, sizeof(x));
	memcpy(&y, b, sizeof(y));
	if (x != y)
		return (x > y) - (x < y);
	memcpy(&nx, a + sizeof(x), sizeof(nx));
	memcpy(&ny, b + sizeof(y), sizeof(ny));
	return (nx > ny) - (nx < ny);
}

int
cval_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int ra = alen == 0 ? R_NULL : a[0], rb = blen == 0 ? R_NULL : b[0];
	size_t n;
	int c;

	if (ra != rb)
		return (ra > rb) - (ra < rb);
	switch (ra) {
	case R_NUMBER:
		return cmp_number(a + 1, b + 1);
	case R_TIME:
		return cmp_time(a + 1, b + 1);
	case R_STRING:
		n = alen < blen ? alen : blen;
		if ((c = memcmp(a + 1, b + 1, n - 1)) != 0)
			return c;
		return (alen > blen) - (alen < blen);
	default:
		return 0;
	}
}

int
cval_minus(struct jbuf *out, const char *a, size_t alen, long double d)
{
	long long sec, whole, i;
	int32_t ns;
	long nsec;

	if (alen == 0)
		return -1;
	if (a[0] == R_NUMBER) {
		if (a[1] == N_INT && d == (long double)(long long)d) {
			memcpy(&i, a + 2, sizeof(i));
			whole = (long long)d;
			if ((whole >= 0 && i >= LLONG_MIN + whole) ||
			    (whole < 0 && i <= LLONG_MAX + whole)) {
				put_int(out, i - whole);
				return 0;
			}
		}
		put_real(out, real_of(a + 1) - d);
		return 0;
	}
	if (a[0] == R_TIME) {
		memcpy(&sec, a + 1, sizeof(sec));
		memcpy(&ns, a + 1 + sizeof(sec), sizeof(ns));
		whole = (long long)d;
		nsec = (long)ns - (long)((d - (long double)whole) * 1e9L);
		sec -= whole;
		while (nsec < 0) {
			nsec += 1000000000L;
			sec--;
		}
		put_time(out, sec, nsec);
		return 0;
	}
	return -1;
}
