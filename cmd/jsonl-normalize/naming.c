#include <string.h>

#include "naming.h"

static int
is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

static int
is_upper(unsigned char c)
{
	return c >= 'A' && c <= 'Z';
}

static int
is_lower(unsigned char c)
{
	return c >= 'a' && c <= 'z';
}

static int
is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	    c == '\v';
}

void
naming_snake(const char *str, size_t n, struct jbuf *out)
{
	const unsigned char *s = (const unsigned char *)str;
	struct jbuf a = JBUF_INIT, b = JBUF_INIT;
	size_t i, j, start = out->len, trailing;
	unsigned char c;

	while (n > 0 && is_space(s[0]))
		s++, n--;
	while (n > 0 && is_space(s[n - 1]))
		n--;

	/* The reduced alphabet, then non-alphanumeric runs to one '_'. */
	for (i = 0; i < n; i++) {
		c = s[i];
		switch (c) {
		case '+': case '*': c = 'x'; break;
		case '-': c = '_'; break;
		case '@': c = 'a'; break;
		case '|': c = 'l'; break;
		default: break;
		}
		if (is_alnum(c) || c == '_')
			jbuf_putc(&a, (char)c);
		else if (a.len == 0 || i == 0 || is_alnum(s[i - 1]) ||
		    strchr("_+*-@|", s[i - 1]) != NULL)
			jbuf_putc(&a, '_');
	}

	/* ([^_])([A-Z][a-z]+) -> \1_\2, left to right as re.sub does. */
	for (i = 0; i < a.len; ) {
		c = (unsigned char)a.p[i];
		if (c != '_' && i + 2 < a.len && is_upper((unsigned char)a.p[i + 1]) &&
		    is_lower((unsigned char)a.p[i + 2])) {
			for (j = i + 2; j < a.len && is_lower((unsigned char)a.p[j]); j++)
				;
			jbuf_putc(&b, (char)c);
			jbuf_putc(&b, '_');
			jbuf_put(&b, a.p + i + 1, j - i - 1);
			i = j;
		} else {
			jbuf_putc(&b, (char)c);
			i++;
		}
	}

	/* ([a-z0-9])([A-Z]) -> \1_\2, then lower case. */
	jbuf_reset(&a);
	for (i = 0; i < b.len; ) {
		c = (unsigned char)b.p[i];
		if ((is_lower(c) || (c >= '0' && c <= '9')) && i + 1 < b.len &&
		    is_upper((unsigned char)b.p[i + 1])) {
			jbuf_putc(&a, (char)c);
			jbuf_putc(&a, '_');
			jbuf_putc(&a, (char)(b.p[i + 1] - 'A' + 'a'));
			i += 2;
		} else {
			jbuf_putc(&a, (char)(is_upper(c) ? c - 'A' + 'a' : c));
			i++;
		}
	}

	if (a.len == 0) {
		jbuf_putc(out, 'x');
		goto out;
	}
	/* A leading digit gets '_'; each trailing '_' becomes 'x'. */
	if (a.p[0] >= '0' && a.p[0] <= '9')
		jbuf_putc(out, '_');
	for (trailing = 0; trailing < a.len && a.p[a.len - 1 - trailing] == '_';
	    trailing++)
		;
	/* Runs of '_' collapse, so a name never holds the "__" separator. */
	for (i = 0; i + trailing < a.len; i++) {
		if (a.p[i] == '_' && out->len > start && out->p[out->len - 1] == '_')
			continue;
		jbuf_putc(out, a.p[i]);
	}
	for (i = 0; i < trailing; i++)
		jbuf_putc(out, 'x');
out:
	jbuf_free(&a);
	jbuf_free(&b);
}
