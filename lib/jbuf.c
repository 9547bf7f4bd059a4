#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jbuf.h"
#include "xalloc.h"

int
jbuf_read_file(struct jbuf *b, const char *path, size_t max)
{
	char chunk[4096];
	ssize_t n;
	int fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	while (b->len <= max && (n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			saved = errno;
			(void)close(fd);
			errno = saved;
			return -2;
		}
		jbuf_put(b, chunk, (size_t)n);
	}
	(void)close(fd);
	return 0;
}

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
	size_t i = 0, k;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((k = jbuf_utf8_char(s + i, n - i)) == 0)
			return 0;
		i += k;
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
