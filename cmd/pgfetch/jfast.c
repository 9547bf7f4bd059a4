#include <stdint.h>
#include <string.h>

#include "jbuf.h"
#include "jfast.h"
#include "jval.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

struct scan {
	const unsigned char *end;
	const unsigned char *kept;	/* the first byte not yet in out */
	struct jbuf	*out;
	int		 rewrote;	/* out holds the text, not the line */
};

/*
 * The line's bytes from sc->kept to at go to out as they are, then the
 * bytes that replace those from at to resume (none for whitespace).
 */
static void
replace(struct scan *sc, const unsigned char *at, const unsigned char *resume)
{
	jbuf_put(sc->out, sc->kept, (size_t)(at - sc->kept));
	sc->kept = resume;
	sc->rewrote = 1;
}

/* JSON's whitespace (jval_text_check refuses form feeds and vertical tabs). */
static inline int
blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Past any whitespace at p, which jval_write does not write. */
static inline const unsigned char *
skip_blank(struct scan *sc, const unsigned char *p)
{
	const unsigned char *q = p;

	/* Most tokens follow one another with no blank: one comparison. */
	if (q == sc->end || *q > ' ' || !blank(*q))
		return p;
	while (q < sc->end && blank(*q))
		q++;
	replace(sc, p, q);
	return q;
}

/*
 * The bytes of plain string text from p: up to the first '"', '\\' or
 * control character (or end).  Non-ASCII bytes are plain here: the whole
 * line's UTF-8 is checked once, up front (utf8_line).  SSE2 takes sixteen
 * at a time: a byte is a control when max(byte, 0x1f) is 0x1f.
 */
static inline size_t
plain_run(const unsigned char *p, const unsigned char *end)
{
	const unsigned char *q = p;
#if defined(__SSE2__)
	const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\'),
	    last_control = _mm_set1_epi8(0x1f);
	__m128i v;
	unsigned int stop;

	while (end - q >= 16) {
		v = _mm_loadu_si128((const __m128i *)(const void *)q);
		stop = (unsigned int)_mm_movemask_epi8(_mm_or_si128(
		    _mm_or_si128(_mm_cmpeq_epi8(v, quote),
		    _mm_cmpeq_epi8(v, backslash)), _mm_cmpeq_epi8(
		    _mm_max_epu8(v, last_control), last_control)));
		if (stop != 0)
			return (size_t)(q - p) + (size_t)__builtin_ctz(stop);
		q += 16;
	}
#endif
	while (q < end && *q != '"' && *q != '\\' && *q >= 0x20)
		q++;
	return (size_t)(q - p);
}

/* The ASCII bytes from p: up to the first non-ASCII byte (or end). */
static inline size_t
ascii_run(const unsigned char *p, const unsigned char *end)
{
	const unsigned char *q = p;
#if defined(__SSE2__)
	unsigned int high;

	while (end - q >= 16) {
		high = (unsigned int)_mm_movemask_epi8(_mm_loadu_si128(
		    (const __m128i *)(const void *)q));
		if (high != 0)
			return (size_t)(q - p) + (size_t)__builtin_ctz(high);
		q += 16;
	}
#endif
	while (q < end && *q < 0x80)
		q++;
	return (size_t)(q - p);
}

/*
 * Whether the line from p to end is valid UTF-8, by the rule of every
 * reader (jbuf_utf8_char).  JSON's own bytes are ASCII, so this is the
 * check of every string's text at once; a non-ASCII byte outside a
 * string is refused by the scan itself.
 */
static int
utf8_line(const unsigned char *p, const unsigned char *end)
{
	size_t k;

	while ((p += ascii_run(p, end)) < end) {
		do {
			if ((k = jbuf_utf8_char(p, (size_t)(end - p))) == 0)
				return 0;
			p += k;
		} while (p < end && *p >= 0x80);
	}
	return 1;
}

/* The UTF-8 bytes of a code point that is no surrogate: their count. */
static size_t
utf8_encode(unsigned long cp, unsigned char *u)
{
	if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		u[0] = (unsigned char)(0xc0 | cp >> 6);
		u[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		u[0] = (unsigned char)(0xe0 | cp >> 12);
		u[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		u[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	u[0] = (unsigned char)(0xf0 | cp >> 18);
	u[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
	u[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
	u[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * An escape at p that jbuf_str would not write as it is: past it, having
 * written in its place what jbuf_str writes for the character it stands
 * for, or NULL when the slow path must judge it.
 */
static const unsigned char *
rewrite_escape(struct scan *sc, const unsigned char *p)
{
	const unsigned char *q;
	unsigned char u[4];
	long cp, low;
	size_t n, at;

	switch (p[1]) {
	case '/':
		cp = '/';
		q = p + 2;
		break;
	case 'u':
		if (sc->end - p < 6 || (cp = jval_hex4(p + 2)) == -1)
			return NULL;
		q = p + 6;
		/* A lone surrogate is an error jval_parse words. */
		if (cp >= 0xdc00 && cp <= 0xdfff)
			return NULL;
		if (cp >= 0xd800 && cp <= 0xdbff) {
			if (sc->end - q < 6 || q[0] != '\\' || q[1] != 'u' ||
			    (low = jval_hex4(q + 2)) < 0xdc00 || low > 0xdfff)
				return NULL;
			cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
			q += 6;
		}
		break;
	default:
		return NULL;
	}
	replace(sc, p, q);
	n = utf8_encode((unsigned long)cp, u);
	if (cp >= 0x80) {
		/* JSON escapes controls, quotes and backslashes, never these. */
		jbuf_put(sc->out, u, n);
		return q;
	}
	/*
	 * What jbuf_str writes for an ASCII character, its quotes left out:
	 * the escape may be written so already, but saying so would be a
	 * second copy of jbuf_str's rules.
	 */
	at = sc->out->len;
	jbuf_str(sc->out, (const char *)u, n);
	memmove(sc->out->p + at, sc->out->p + at + 1, sc->out->len - at - 2);
	sc->out->len -= 2;
	return q;
}

/*
 * The escape at p (a backslash inside a string): past it, or NULL when
 * the slow path must judge it.  Those jbuf_str writes itself stay (most
 * of them, and cheap to pass); any other is rewritten.
 */
static inline const unsigned char *
escape(struct scan *sc, const unsigned char *p)
{
	if (sc->end - p < 2)
		return NULL;
	switch (p[1]) {
	case '"': case '\\': case 'b': case 'f': case 'n': case 'r': case 't':
		/* jbuf_str's own escapes of '"', '\\' and those controls. */
		return p + 2;
	default:
		return rewrite_escape(sc, p);
	}
}

/*
 * The string whose text starts at p (past its opening quote): past its
 * closing quote, or NULL.  Its UTF-8 was checked with the line's, and the
 * escapes are ASCII that stand for whole characters.
 */
static inline const unsigned char *
string_end(struct scan *sc, const unsigned char *p)
{
	for (;;) {
		p += plain_run(p, sc->end);
		if (p == sc->end)
			return NULL;
		if (*p == '"')
			return p + 1;
		if (*p == '\\') {
			if ((p = escape(sc, p)) == NULL)
				return NULL;
		} else
			return NULL;	/* a raw control character is not JSON */
	}
}

/*
 * A number, true, false or null at p: past it, or NULL.  Of a number, its
 * longest valid start: what follows must be whitespace, a comma or a
 * closing bracket, so "007" or "1.2.3" are declined by the caller.
 */
static inline const unsigned char *
scalar_end(const unsigned char *p, const unsigned char *end)
{
	size_t left = (size_t)(end - p), n;

	switch (*p) {
	case 't':
		return left >= 4 && memcmp(p, "true", 4) == 0 ? p + 4 : NULL;
	case 'f':
		return left >= 5 && memcmp(p, "false", 5) == 0 ? p + 5 : NULL;
	case 'n':
		return left >= 4 && memcmp(p, "null", 4) == 0 ? p + 4 : NULL;
	default:
		break;
	}
	n = jval_number_len((const char *)p, left);
	return n > 0 ? p + n : NULL;
}

/*
 * Whether the container open at depth (the one around a container just
 * closed) is an object, by its bit; the top level, depth 0, counts as
 * one.
 */
static inline int
is_object_at(const uint64_t *object, size_t depth)
{
	return depth == 0 ||
	    ((object[(depth - 1) / 64] >> (depth - 1) % 64) & 1) != 0;
}

int
jfast_object(const char *s, size_t n, struct jbuf *out, struct jfast *r)
{
	/* Bit d: the container open at depth d is an object. */
	uint64_t object[JVAL_MAX_DEPTH / 64] = { 0 };
	const unsigned char *p = (const unsigned char *)s;
	struct scan sc;
	size_t depth = 0, values = 0;
	int is_object = 0;	/* of the container open at depth (0: none) */

	jbuf_reset(out);
	sc.end = p + n;
	sc.kept = p;
	sc.out = out;
	sc.rewrote = 0;
	if (!utf8_line(p, sc.end))
		return 0;
	p = skip_blank(&sc, p);
	if (p == sc.end || *p != '{')
		return 0;
	/*
	 * One turn per value: in an object its member's name and colon
	 * first; then the value, a container opened or a scalar passed; then
	 * the closings that follow it, up to the comma before the next.
	 */
	for (;;) {
		if (is_object) {
			p = skip_blank(&sc, p);
			if (p == sc.end || *p != '"' ||
			    (p = string_end(&sc, p + 1)) == NULL)
				return 0;
			p = skip_blank(&sc, p);
			if (p == sc.end || *p != ':')
				return 0;
			p++;
		}
		p = skip_blank(&sc, p);
		if (p == sc.end)
			return 0;
		values++;
		if (*p == '{' || *p == '[') {
			/* jval_parse refuses a container this deep. */
			if (depth >= JVAL_MAX_DEPTH)
				return 0;
			is_object = *p == '{';
			if (is_object)
				object[depth / 64] |= (uint64_t)1 << depth % 64;
			else
				object[depth / 64] &= ~((uint64_t)1 << depth % 64);
			depth++;
			p = skip_blank(&sc, p + 1);
			if (p == sc.end)
				return 0;
			if (*p != (is_object ? '}' : ']'))
				continue;	/* its first value */
			/* Empty: closed below, at once. */
		} else {
			if (*p == '"')
				p = string_end(&sc, p + 1);
			else
				p = scalar_end(p, sc.end);
			if (p == NULL)
				return 0;
			p = skip_blank(&sc, p);
			if (p == sc.end)
				return 0;
		}
		while (*p != ',') {
			if (*p != (is_object ? '}' : ']'))
				return 0;
			is_object = is_object_at(object, --depth);
			p++;
			if (depth == 0)
				break;
			p = skip_blank(&sc, p);
			if (p == sc.end)
				return 0;
		}
		if (depth == 0)
			break;
		p++;
	}
	/* The object is whole: only whitespace may follow it. */
	if (skip_blank(&sc, p) != sc.end)
		return 0;
	if (sc.rewrote) {
		jbuf_put(out, sc.kept, (size_t)(sc.end - sc.kept));
		r->text = out->p;
		r->len = out->len;
	} else {
		r->text = s;
		r->len = n;
	}
	r->values = values;
	return 1;
}
