#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "clocks.h"
#include "exitcodes.h"
#include "pgtype.h"

/*
 * Whether the n bytes at s are the type name t (a string literal), alone
 * or followed by "(": its length known when compiled, no strlen a column.
 */
#define NAMED(s, n, t) named(s, n, t, sizeof(t) - 1)

static inline int
named(const char *s, size_t n, const char *t, size_t k)
{
	return n >= k && memcmp(s, t, k) == 0 && (n == k || s[k] == '(');
}

/*
 * No name is another's prefix followed by "(", so at most one matches:
 * the first letter picks the few to try.
 */
enum pgkind
pgtype_kind(const char *s, size_t n)
{
	if (n >= 2 && s[n - 2] == '[' && s[n - 1] == ']')
		return PG_ARRAY;
	switch (n > 0 ? s[0] : '\0') {
	case 'b':
		if (NAMED(s, n, "bigint"))
			return PG_INT;
		if (NAMED(s, n, "boolean") || NAMED(s, n, "bool"))
			return PG_BOOL;
		break;
	case 'd':
		if (NAMED(s, n, "decimal"))
			return PG_NUMERIC;
		if (NAMED(s, n, "double precision"))
			return PG_FLOAT;
		if (NAMED(s, n, "date"))
			return PG_DATE;
		break;
	case 'f':
		if (NAMED(s, n, "float4") || NAMED(s, n, "float8"))
			return PG_FLOAT;
		break;
	case 'i':
		if (NAMED(s, n, "integer") || NAMED(s, n, "int2") ||
		    NAMED(s, n, "int4") || NAMED(s, n, "int8"))
			return PG_INT;
		break;
	case 'j':
		if (NAMED(s, n, "json") || NAMED(s, n, "jsonb"))
			return PG_JSON;
		break;
	case 'n':
		if (NAMED(s, n, "numeric"))
			return PG_NUMERIC;
		break;
	case 'o':
		if (NAMED(s, n, "oid"))
			return PG_INT;
		break;
	case 'r':
		if (NAMED(s, n, "real"))
			return PG_FLOAT;
		break;
	case 's':
		if (NAMED(s, n, "smallint"))
			return PG_INT;
		break;
	case 't':
		if (NAMED(s, n, "timestamp with time zone") ||
		    NAMED(s, n, "timestamptz"))
			return PG_TIMESTAMPTZ;
		if (NAMED(s, n, "timestamp without time zone") ||
		    NAMED(s, n, "timestamp"))
			return PG_TIMESTAMP;
		break;
	default:
		break;
	}
	return PG_TEXT;
}

enum pgkind
pgtype_elem_kind(const char *s, size_t n)
{
	while (n >= 2 && s[n - 2] == '[' && s[n - 1] == ']')
		n -= 2;
	return pgtype_kind(s, n);
}

void
pgtype_schema(enum pgkind k, struct jbuf *b)
{
	switch (k) {
	case PG_INT:
		jbuf_puts(b, "{\"type\":[\"integer\",\"null\"]}");
		break;
	case PG_NUMERIC:
		jbuf_puts(b, "{\"type\":[\"number\",\"null\"],"
		    "\"format\":\"decimal\"}");
		break;
	case PG_FLOAT:
		jbuf_puts(b, "{\"type\":[\"number\",\"null\"]}");
		break;
	case PG_BOOL:
		jbuf_puts(b, "{\"type\":[\"boolean\",\"null\"]}");
		break;
	case PG_TIMESTAMPTZ:
	case PG_TIMESTAMP:
		jbuf_puts(b, "{\"type\":[\"string\",\"null\"],"
		    "\"format\":\"date-time\"}");
		break;
	case PG_DATE:
		jbuf_puts(b, "{\"type\":[\"string\",\"null\"],"
		    "\"format\":\"date\"}");
		break;
	case PG_JSON:
	case PG_ARRAY:
		jbuf_puts(b, "{\"type\":[\"object\",\"array\",\"string\","
		    "\"number\",\"boolean\",\"null\"]}");
		break;
	case PG_TEXT:
	default:
		jbuf_puts(b, "{\"type\":[\"string\",\"null\"]}");
		break;
	}
}

static int
month_days(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };

	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		return 29;
	return days[m - 1];
}

/* n digits at *p as a number: 0, or -1 when they are not all digits. */
static int
digits(const char **p, const char *end, int n, int *out)
{
	int v = 0;

	if (end - *p < n)
		return -1;
	while (n-- > 0) {
		if (!isdigit((unsigned char)**p))
			return -1;
		v = v * 10 + (**p - '0');
		(*p)++;
	}
	*out = v;
	return 0;
}

/* c, then v in two digits, at p. */
static void
two_digits(char *p, char c, int v)
{
	p[0] = c;
	p[1] = (char)('0' + v / 10);
	p[2] = (char)('0' + v % 10);
}

int
pgtype_timestamp_utc(const char *s, size_t n, struct jbuf *b)
{
	const char *p, *end, *frac = NULL;
	size_t fraclen = 0;
	long long t, days, year;
	int y, mo, d, h, mi, sec, oh = 0, om = 0, os = 0, sign = 0;
	char out[16], *o;

	if (s == NULL || n == 0)
		return -1;
	p = s;
	end = s + n;

	if (digits(&p, end, 4, &y) == -1 || p == end || *p++ != '-' ||
	    digits(&p, end, 2, &mo) == -1 || p == end || *p++ != '-' ||
	    digits(&p, end, 2, &d) == -1 || p == end ||
	    (*p != ' ' && *p != 'T') || (p++, digits(&p, end, 2, &h)) == -1 ||
	    p == end || *p++ != ':' || digits(&p, end, 2, &mi) == -1 ||
	    p == end || *p++ != ':' || digits(&p, end, 2, &sec) == -1)
		return -1;
	if (p < end && *p == '.') {
		frac = ++p;
		while (p < end && isdigit((unsigned char)*p))
			p++;
		fraclen = (size_t)(p - frac);
		if (fraclen == 0 || fraclen > 9)
			return -1;
	}
	if (p < end && *p == 'Z')
		p++;
	else if (p < end && (*p == '+' || *p == '-')) {
		sign = *p++ == '-' ? -1 : 1;
		if (digits(&p, end, 2, &oh) == -1)
			return -1;
		if (p < end && *p == ':')
			p++;
		if (p < end && digits(&p, end, 2, &om) == -1)
			return -1;
		if (p < end && *p == ':')
			p++;
		if (p < end && digits(&p, end, 2, &os) == -1)
			return -1;
	}
	if (p != end || mo < 1 || mo > 12 || d < 1 ||
	    d > month_days(y, mo) || h > 23 || mi > 59 || sec > 59)
		return -1;
	t = clocks_days_from_civil(y, mo, d) * 86400 + (long long)h * 3600 +
	    (long long)mi * 60 + sec;
	t -= (long long)sign * ((long long)oh * 3600 + (long long)om * 60 + os);
	/* The UTC date and time of t: gmtime's, at a fraction of its cost. */
	days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
	t -= days * 86400;
	clocks_civil_from_days(days, &year, &mo, &d);
	if (year < 1 || year > 9999)
		return -1;
	jbuf_putc(b, '"');
	/* strftime's %Y: no zeros before a year under 1000. */
	o = out + 4;
	do
		*--o = (char)('0' + year % 10);
	while ((year /= 10) > 0);
	jbuf_put(b, o, (size_t)(out + 4 - o));
	two_digits(out, '-', mo);
	two_digits(out + 3, '-', d);
	two_digits(out + 6, 'T', (int)(t / 3600));
	two_digits(out + 9, ':', (int)(t / 60 % 60));
	two_digits(out + 12, ':', (int)(t % 60));
	jbuf_put(b, out, 15);
	if (frac != NULL) {
		jbuf_putc(b, '.');
		jbuf_put(b, frac, fraclen);
	}
	jbuf_puts(b, "Z\"");
	return 0;
}

/* ---- array literals: {a,"b c",NULL,{1,2}} ---------------------------- */

struct lit {
	const char	*p;
	const char	*end;
	struct jbuf	 tok;
};

static void
skip_space(struct lit *l)
{
	while (l->p < l->end && isspace((unsigned char)*l->p))
		l->p++;
}

/* One element's text, unquoted: *quoted says it was in quotes. */
static int
element(struct lit *l, int *quoted)
{
	jbuf_reset(&l->tok);
	*quoted = 0;
	if (l->p < l->end && *l->p == '"') {
		*quoted = 1;
		for (l->p++; l->p < l->end && *l->p != '"'; l->p++) {
			if (*l->p == '\\' && ++l->p == l->end)
				return -1;
			jbuf_putc(&l->tok, *l->p);
		}
		if (l->p == l->end)
			return -1;
		l->p++;
		return 0;
	}
	while (l->p < l->end && *l->p != ',' && *l->p != '}') {
		if (*l->p == '"' || *l->p == '{' || *l->p == '\\')
			return -1;
		jbuf_putc(&l->tok, *l->p++);
	}
	/* Unquoted elements lose the space around them. */
	while (l->tok.len > 0 && isspace((unsigned char)l->tok.p[l->tok.len - 1]))
		l->tok.len--;
	return l->tok.len > 0 ? 0 : -1;
}

static int
scalar(struct lit *l, enum pgkind elem, int quoted, struct jbuf *b)
{
	/* A quoted "" element holds no bytes, and jbuf then no memory. */
	const char *s = l->tok.len > 0 ? l->tok.p : "";
	size_t n = l->tok.len;

	if (!quoted && n == 4 && strncasecmp(s, "null", 4) == 0) {
		jbuf_puts(b, "null");
		return 0;
	}
	switch (elem) {
	case PG_INT:
	case PG_NUMERIC:
	case PG_FLOAT:
		if (!jval_is_number(s, n))
			break;		/* NaN, Infinity: as text */
		jbuf_put(b, s, n);
		return 0;
	case PG_BOOL:
		if (n == 1 && (*s == 't' || *s == 'f')) {
			jbuf_puts(b, *s == 't' ? "true" : "false");
			return 0;
		}
		return -1;
	case PG_TIMESTAMPTZ:
	case PG_TIMESTAMP:
		return pgtype_timestamp_utc(s, n, b);
	default:
		break;
	}
	if (!jbuf_utf8_valid(s, n))
		return -1;
	jbuf_str(b, s, n);
	return 0;
}

static int
array(struct lit *l, enum pgkind elem, struct jbuf *b, int depth)
{
	int quoted, first = 1;

	if (depth > 6 || l->p == l->end || *l->p++ != '{')
		return -1;
	jbuf_putc(b, '[');
	skip_space(l);
	if (l->p < l->end && *l->p == '}') {
		l->p++;
		jbuf_putc(b, ']');
		return 0;
	}
	for (;;) {
		skip_space(l);
		if (!first)
			jbuf_putc(b, ',');
		first = 0;
		if (l->p < l->end && *l->p == '{') {
			if (array(l, elem, b, depth + 1) == -1)
				return -1;
		} else if (element(l, &quoted) == -1 ||
		    scalar(l, elem, quoted, b) == -1)
			return -1;
		skip_space(l);
		if (l->p == l->end)
			return -1;
		if (*l->p == '}') {
			l->p++;
			jbuf_putc(b, ']');
			return 0;
		}
		if (*l->p++ != ',')
			return -1;
	}
}

/* ---- values ------------------------------------------------------------ */

static int
bad(struct lib_err *e, const char *what)
{
	return liberr_set(e, EX_DATAERR, "not a %s value", what);
}

int
pgtype_value(enum pgkind k, enum pgkind elem, const struct jval *v,
    struct jbuf *b, struct lib_err *e)
{
	struct jval_parser *p;
	const struct jval *doc;
	struct lit l;
	int rc;

	if (v->type == JV_NULL) {
		jbuf_puts(b, "null");
		return 0;
	}
	switch (k) {
	case PG_INT:
	case PG_NUMERIC:
		/* The number's own text: exact, however many digits. */
		if (v->type == JV_NUMBER) {
			jval_write(b, v);
			return 0;
		}
		return bad(e, k == PG_INT ? "integer" : "numeric");
	case PG_FLOAT:
		/* wal2json writes NaN and Infinity as strings: kept so. */
		if (v->type == JV_NUMBER || v->type == JV_STRING) {
			jval_write(b, v);
			return 0;
		}
		return bad(e, "floating-point");
	case PG_BOOL:
		if (v->type == JV_TRUE || v->type == JV_FALSE) {
			jval_write(b, v);
			return 0;
		}
		return bad(e, "boolean");
	case PG_TIMESTAMPTZ:
	case PG_TIMESTAMP:
		if (v->type == JV_STRING &&
		    pgtype_timestamp_utc(v->str, v->len, b) == 0)
			return 0;
		return bad(e, "timestamp");
	case PG_JSON:
		if (v->type != JV_STRING)
			return bad(e, "json");
		if ((p = jval_parser_new(v->len * 8 + 4096)) == NULL)
			return liberr_set(e, EX_OSERR, "out of memory");
		if ((doc = jval_parse(p, v->str, v->len, JVAL_KEEP_ALL, e)) !=
		    NULL)
			jval_write(b, doc);
		jval_parser_free(p);
		return doc != NULL ? 0 : bad(e, "json");
	case PG_ARRAY:
		if (v->type != JV_STRING)
			return bad(e, "array");
		memset(&l, 0, sizeof(l));
		l.p = v->str;
		l.end = v->str + v->len;
		rc = array(&l, elem, b, 0);
		if (rc == 0 && l.p != l.end)
			rc = -1;
		jbuf_free(&l.tok);
		return rc == 0 ? 0 : bad(e, "array");
	case PG_DATE:
	case PG_TEXT:
	default:
		jval_write(b, v);
		return 0;
	}
}
