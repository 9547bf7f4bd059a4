#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jbuf.h"
#include "xalloc.h"

void
jbuf_free(struct jbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

void
jbuf_reset(struct jbuf *b)
{
	b->len = 0;
}

void
jbuf_reserve(struct jbuf *b, size_t n)
{
	if (b->cap - b->len <= n)
		jbuf_grow(b, n);
}

void
jbuf_grow(struct jbuf *b, size_t n)
{
	size_t cap;

	cap = b->cap ? b->cap : 256;
	while (cap - b->len <= n) {
		if (cap > SIZE_MAX / 2)
			xalloc_die();
		cap *= 2;
	}
	b->p = xalloc_realloc(b->p, cap, 1);
	b->cap = cap;
}

void
jbuf_puts(struct jbuf *b, const char *s)
{
	jbuf_put(b, s, strlen(s));
}

char *
jbuf_cstr(struct jbuf *b)
{
	jbuf_reserve(b, 1);
	b->p[b->len] = '\0';
	return b->p;
}

void
jbuf_str(struct jbuf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, run;

	jbuf_reserve(b, n + 2);
	b->p[b->len++] = '"';
	for (i = 0; i < n; i += run) {
		unsigned char c;

		/* Copy the longest run that needs no escape in one go. */
		for (run = 0; i + run < n; run++) {
			c = (unsigned char)s[i + run];
			if (c < 0x20 || c == '"' || c == '\\')
				break;
		}
		if (run > 0) {
			jbuf_put(b, s + i, run);
			continue;
		}
		c = (unsigned char)s[i];
		run = 1;
		jbuf_reserve(b, 6);
		b->p[b->len++] = '\\';
		switch (c) {
		case '"':  b->p[b->len++] = '"'; break;
		case '\\': b->p[b->len++] = '\\'; break;
		case '\n': b->p[b->len++] = 'n'; break;
		case '\r': b->p[b->len++] = 'r'; break;
		case '\t': b->p[b->len++] = 't'; break;
		case '\b': b->p[b->len++] = 'b'; break;
		case '\f': b->p[b->len++] = 'f'; break;
		default:
			b->p[b->len++] = 'u';
			b->p[b->len++] = '0';
			b->p[b->len++] = '0';
			b->p[b->len++] = hex[c >> 4];
			b->p[b->len++] = hex[c & 15];
			break;
		}
	}
	jbuf_putc(b, '"');
}

int
jbuf_utf8_valid(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		size_t k, need;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			cp = c & 0x07;
		} else
			return 0;
		if (n - i <= need)
			return 0;
		for (k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += need + 1;
	}
	return 1;
}

void
jbuf_base64(struct jbuf *b, const unsigned char *s, size_t n)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;

	jbuf_reserve(b, (n + 2) / 3 * 4);
	for (i = 0; i + 2 < n; i += 3) {
		b->p[b->len++] = tab[s[i] >> 2];
		b->p[b->len++] = tab[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
		b->p[b->len++] = tab[((s[i + 1] & 15) << 2) | (s[i + 2] >> 6)];
		b->p[b->len++] = tab[s[i + 2] & 63];
	}
	if (i + 1 == n) {
		b->p[b->len++] = tab[s[i] >> 2];
		b->p[b->len++] = tab[(s[i] & 3) << 4];
		b->p[b->len++] = '=';
		b->p[b->len++] = '=';
	} else if (i + 2 == n) {
		b->p[b->len++] = tab[s[i] >> 2];
		b->p[b->len++] = tab[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
		b->p[b->len++] = tab[(s[i + 1] & 15) << 2];
		b->p[b->len++] = '=';
	}
}
