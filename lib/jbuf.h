/*
 * A growable byte buffer and the JSON text written into it: string
 * literals, base64, the UTF-8 check.  A parsed value is written by
 * jval_write (jval.h), which builds on this and not the other way round.
 */
#ifndef JBUF_H
#define JBUF_H

#include <stddef.h>
#include <string.h>

struct jbuf {
	char	*p;
	size_t	 len;
	size_t	 cap;
};

#define JBUF_INIT	{ NULL, 0, 0 }

void	jbuf_free(struct jbuf *);		/* frees p; the struct is reusable */
void	jbuf_reset(struct jbuf *);		/* len = 0, keeps the memory */
/* Make room for n more bytes.  Aborts on out-of-memory, like xmalloc. */
void	jbuf_reserve(struct jbuf *, size_t n);
void	jbuf_grow(struct jbuf *, size_t n);	/* jbuf_reserve's slow path */
void	jbuf_puts(struct jbuf *, const char *);

/* The hot appends, inline: a copy when there is room, else a grow. */
static inline void
jbuf_put(struct jbuf *b, const void *s, size_t n)
{
	if (b->cap - b->len <= n)
		jbuf_grow(b, n);
	if (n > 0)
		memcpy(b->p + b->len, s, n);
	b->len += n;
}

static inline void
jbuf_putc(struct jbuf *b, char c)
{
	if (b->cap - b->len <= 1)
		jbuf_grow(b, 1);
	b->p[b->len++] = c;
}
/* NUL-terminate without counting the NUL in len; returns p. */
char	*jbuf_cstr(struct jbuf *);

/* A JSON string literal, quoted and escaped; bytes are copied as they are. */
void	jbuf_str(struct jbuf *, const char *, size_t);

/* 1 if the bytes are valid UTF-8 (no overlongs, no surrogates). */
int	jbuf_utf8_valid(const char *, size_t);

/*
 * The length (2 to 4) of the valid UTF-8 character of more than one byte
 * at s, of the n there, or 0: an ASCII byte, a stray continuation byte, an
 * overlong form, a surrogate, past U+10FFFF, or cut short.  Inline: the
 * readers of JSON text call it for every non-ASCII character.
 */
static inline size_t
jbuf_utf8_char(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];

	if (c >= 0xc2 && c <= 0xdf)
		return n >= 2 && (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if (n < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		/* E0 A0..BF: no overlong; ED 80..9F: no surrogate. */
		if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f))
			return 0;
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (n < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
		    (s[3] & 0xc0) != 0x80)
			return 0;
		/* F0 90..BF: no overlong; F4 80..8F: not past U+10FFFF. */
		if ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))
			return 0;
		return 4;
	}
	return 0;
}
/*
 * Append the file at path to b, stopping once more than max bytes have
 * come (a caller that finds b->len > max knows it was longer).  0; -1
 * when it cannot be opened, -2 when a read fails, with errno set.
 */
int	jbuf_read_file(struct jbuf *, const char *path, size_t max);

/* Standard base64 of the bytes, unquoted. */
void	jbuf_base64(struct jbuf *, const unsigned char *, size_t);

#endif
