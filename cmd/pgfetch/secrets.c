#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secrets.h"
#include "xalloc.h"

struct form {
	char		*p;
	size_t		 n;
};

/* The forms of every secret, longest first: the first match is the longest. */
struct secrets {
	struct form	*forms;
	size_t		 n;
};

struct secrets *
secrets_new(void)
{
	struct secrets *s = xalloc_realloc(NULL, 1, sizeof(*s));

	memset(s, 0, sizeof(*s));
	return s;
}

void
secrets_free(struct secrets *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++)
		free(s->forms[i].p);
	free(s->forms);
	free(s);
}

/* One form, kept once, in its place by length. */
static void
add_form(struct secrets *s, const char *p, size_t n)
{
	size_t i, at;

	if (n == 0)
		return;
	for (i = 0; i < s->n; i++)
		if (s->forms[i].n == n && memcmp(s->forms[i].p, p, n) == 0)
			return;
	for (at = 0; at < s->n && s->forms[at].n >= n; at++)
		;
	s->forms = xalloc_realloc(s->forms, s->n + 1, sizeof(*s->forms));
	memmove(s->forms + at + 1, s->forms + at, (s->n - at) *
	    sizeof(*s->forms));
	s->forms[at].p = xalloc_memdup(p, n);
	s->forms[at].n = n;
	s->n++;
}

/* RFC 3986's unreserved bytes stay; the others are %XX (space: plus). */
static void
escaped(const char *p, size_t n, int plus, struct jbuf *out)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char c;
	size_t i;

	for (i = 0; i < n; i++) {
		c = (unsigned char)p[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
		    c == '~')
			jbuf_putc(out, (char)c);
		else if (c == ' ' && plus)
			jbuf_putc(out, '+');
		else {
			jbuf_putc(out, '%');
			jbuf_putc(out, hex[c >> 4]);
			jbuf_putc(out, hex[c & 15]);
		}
	}
}

void
secrets_add(struct secrets *s, const char *v, size_t n)
{
	struct jbuf b = JBUF_INIT;
	size_t i;

	if (n == 0)
		return;
	add_form(s, v, n);
	escaped(v, n, 0, &b);
	add_form(s, b.p, b.len);
	jbuf_reset(&b);
	escaped(v, n, 1, &b);
	add_form(s, b.p, b.len);
	/* JSON-escaped, without its quotes; and with "/" as "\/", as some write it. */
	jbuf_reset(&b);
	jbuf_str(&b, v, n);
	add_form(s, b.p + 1, b.len - 2);
	if (memchr(v, '/', n) != NULL) {
		struct jbuf slash = JBUF_INIT;

		for (i = 1; i + 1 < b.len; i++) {
			if (b.p[i] == '/')
				jbuf_putc(&slash, '\\');
			jbuf_putc(&slash, b.p[i]);
		}
		add_form(s, slash.p, slash.len);
		jbuf_free(&slash);
	}
	jbuf_free(&b);
}

void
secrets_add_basic(struct secrets *s, const char *user, size_t ulen,
    const char *password, size_t plen)
{
	struct jbuf pair = JBUF_INIT, b64 = JBUF_INIT;

	secrets_add(s, password, plen);
	jbuf_put(&pair, user, ulen);
	jbuf_putc(&pair, ':');
	jbuf_put(&pair, password, plen);
	jbuf_base64(&b64, (const unsigned char *)pair.p, pair.len);
	secrets_add(s, b64.p, b64.len);
	/* Unpadded, as a few servers print it. */
	while (b64.len > 0 && b64.p[b64.len - 1] == '=')
		b64.len--;
	secrets_add(s, b64.p, b64.len);
	jbuf_free(&pair);
	jbuf_free(&b64);
}

void
secrets_add_header(struct secrets *s, const char *h)
{
	const char *v = strchr(h, ':'), *end, *word;

	if (v == NULL)
		return;
	for (v++; *v == ' ' || *v == '\t'; v++)
		;
	end = v + strlen(v);
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	secrets_add(s, v, (size_t)(end - v));
	for (word = end; word > v && word[-1] != ' ' && word[-1] != '\t'; word--)
		;
	if (word > v)
		secrets_add(s, word, (size_t)(end - word));
}

int
secrets_header_is_secret(const char *h)
{
	static const char *const words[] = {
		"authorization", "cookie", "key", "token", "secret", "auth"
	};
	char name[128];
	size_t i, n = strcspn(h, ":");

	if (n >= sizeof(name))
		return 1;
	for (i = 0; i < n; i++)
		name[i] = (char)tolower((unsigned char)h[i]);
	name[n] = '\0';
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strstr(name, words[i]) != NULL)
			return 1;
	return 0;
}

/* The form of a secret at text[i], the longest; NULL if none. */
static const struct form *
match(const struct secrets *s, const char *text, size_t n, size_t i,
    int prefix)
{
	const struct form *f;
	size_t k, left = n - i;

	for (k = 0; k < s->n; k++) {
		f = &s->forms[k];
		if (f->p[0] != text[i])
			continue;
		if (f->n <= left && memcmp(f->p, text + i, f->n) == 0)
			return f;
		/* The text stops inside what may be this secret. */
		if (prefix && f->n > left && memcmp(f->p, text + i, left) == 0)
			return f;
	}
	return NULL;
}

int
secrets_in(const struct secrets *s, const char *text, size_t n)
{
	size_t i;

	for (i = 0; s != NULL && i < n; i++)
		if (match(s, text, n, i, 0) != NULL)
			return 1;
	return 0;
}

void
secrets_mask(const struct secrets *s, const char *text, size_t n, int prefix,
    struct jbuf *out)
{
	const struct form *f;
	size_t i, from = 0;

	for (i = 0; s != NULL && i < n; ) {
		if ((f = match(s, text, n, i, prefix)) == NULL) {
			i++;
			continue;
		}
		jbuf_put(out, text + from, i - from);
		jbuf_puts(out, SECRETS_MASK);
		i += f->n < n - i ? f->n : n - i;
		from = i;
	}
	jbuf_put(out, text + from, n - from);
}

void
secrets_vformat(const struct secrets *s, struct jbuf *out, const char *fmt,
    va_list ap)
{
	struct jbuf text = JBUF_INIT;
	va_list again;
	int n;

	va_copy(again, ap);
	if ((n = vsnprintf(NULL, 0, fmt, ap)) < 0)
		n = 0;
	jbuf_reserve(&text, (size_t)n + 1);
	(void)vsnprintf(text.p, (size_t)n + 1, fmt, again);
	va_end(again);
	text.len = (size_t)n;
	secrets_mask(s, text.p, text.len, 0, out);
	jbuf_free(&text);
}
