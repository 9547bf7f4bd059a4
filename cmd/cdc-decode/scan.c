#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scan.h"
#include "xalloc.h"

/*
 * Deeper lines are rare enough to leave to jval_parse, which has its own
 * limit (JVAL_MAX_DEPTH) and message.
 */
#define SCAN_MAX_DEPTH	64
/* jval_parse's arena takes a node in this many bytes (16-byte aligned). */
#define ARENA_NODE	((sizeof(struct jval) + 15) & ~(size_t)15)
/*
 * The most members an object may have here: jval_parse marks repeated
 * names pair by pair up to 16, and past that by a hash set.
 */
#define SCAN_MAX_MEMBERS 16

struct cursor {
	const unsigned char *p;
	const unsigned char *end;
	struct scan	*s;
};

void
scan_init(struct scan *s, size_t arena_limit)
{
	memset(s, 0, sizeof(*s));
	/*
	 * jval_parse fails a line whose nodes outgrow its arena; when the
	 * arena is checked depends on its chunks, so lines anywhere near
	 * that (two chunks' worth) are left to it.
	 */
	s->max_nodes = arena_limit > ((size_t)256 << 10) ?
	    (arena_limit - ((size_t)256 << 10)) / ARENA_NODE : 0;
}

void
scan_free(struct scan *s)
{
	free(s->nodes);
	memset(s, 0, sizeof(*s));
}

static struct jval *
new_node(struct cursor *c, unsigned char type)
{
	struct jval *v;

	/*
	 * scan_line made room for the most nodes a line can hold, or for
	 * max_nodes, the most jval_parse surely has room for.
	 */
	if (c->s->n >= c->s->cap)
		return NULL;
	v = &c->s->nodes[c->s->n++];
	memset(v, 0, sizeof(*v));
	v->type = type;
	return v;
}

/*
 * The bytes of the 8 in w (read little-endian) that may end a plain run
 * of string, as their high bits: a control character, a quote, a
 * backslash, a byte past ASCII.  The classic "has a zero byte" tests
 * (on w ^ each) may mark bytes above a match too, never below: the
 * lowest mark is exact.
 */
static inline uint64_t
stops(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ULL;
	const uint64_t highs = 0x8080808080808080ULL;
	uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');

	return (((w - ones * 0x20) & ~w) | ((q - ones) & ~q) |
	    ((b - ones) & ~b) | w) & highs;
}

/* The first byte from p on that may end a plain run (or end). */
static const unsigned char *
run_end(const unsigned char *p, const unsigned char *end)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint64_t w, m;

	for (; end - p >= 8; p += 8) {
		memcpy(&w, p, 8);
		if ((m = stops(w)) != 0)
			return p + __builtin_ctzll(m) / 8;
	}
#endif
	while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
		p++;
	return p;
}

/*
 * A string without escapes or control characters, *c->p its opening
 * quote: its bytes in place, as yajl hands them to jval.  Bytes past
 * ASCII must be UTF-8 as jval_utf8_ok has it (which yajl's looser check
 * then accepts too).
 */
static int
string(struct cursor *c, const char **str, size_t *len)
{
	const unsigned char *p = c->p + 1;
	int high = 0;

	for (;;) {
		p = run_end(p, c->end);
		if (p == c->end || *p < 0x20 || *p == '\\')
			return -1;
		if (*p == '"')
			break;
		high = 1;	/* past ASCII: the string is checked whole */
		p++;
	}
	*str = (const char *)c->p + 1;
	*len = (size_t)(p - c->p - 1);
	if (high && !jval_utf8_ok(*str, *len))
		return -1;
	c->p = p + 1;
	return 0;
}

static const unsigned char *
digits(const unsigned char *p, const unsigned char *end)
{
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	return p;
}

/* A number as RFC 8259 has it: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static int
number(struct cursor *c)
{
	const unsigned char *p = c->p, *end = c->end, *q;

	if (p < end && *p == '-')
		p++;
	if (p < end && *p == '0')
		p++;
	else if ((q = digits(p, end)) == p)
		return -1;
	else
		p = q;
	if (p < end && *p == '.') {
		p++;
		if ((q = digits(p, end)) == p)
			return -1;
		p = q;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		if (++p < end && (*p == '+' || *p == '-'))
			p++;
		if ((q = digits(p, end)) == p)
			return -1;
		p = q;
	}
	c->p = p;
	return 0;
}

static int
literal(struct cursor *c, const char *word, size_t n)
{
	if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0)
		return -1;
	c->p += n;
	return 0;
}

/* What jval_parse marks of an object: members a later one overrides. */
static void
mark_repeats(struct jval *obj)
{
	struct jval *a, *b;

	for (a = obj->child; a != NULL; a = a->next)
		for (b = a->next; b != NULL; b = b->next)
			if (a->keylen == b->keylen &&
			    memcmp(a->key, b->key, a->keylen) == 0) {
				a->shadowed = 1;
				obj->dups = 1;
				break;
			}
}

static struct jval *value(struct cursor *, int depth);

/* The members of a container, *c->p its opening bracket. */
static struct jval *
container(struct cursor *c, unsigned char type, int depth)
{
	unsigned char close = type == JV_OBJECT ? '}' : ']';
	struct jval *v, *m, *last = NULL;
	const char *key = NULL;
	size_t keylen = 0;

	if (depth >= SCAN_MAX_DEPTH || (v = new_node(c, type)) == NULL)
		return NULL;
	if (++c->p < c->end && *c->p == close) {
		c->p++;
		return v;
	}
	for (;;) {
		if (type == JV_OBJECT) {
			if (c->p == c->end || *c->p != '"' ||
			    string(c, &key, &keylen) == -1 ||
			    c->p == c->end || *c->p++ != ':' ||
			    v->len == SCAN_MAX_MEMBERS)
				return NULL;
		}
		if ((m = value(c, depth + 1)) == NULL)
			return NULL;
		m->key = key;
		m->keylen = keylen;
		if (last == NULL)
			v->child = m;
		else
			last->next = m;
		last = m;
		v->len++;
		if (c->p == c->end)
			return NULL;
		if (*c->p == close)
			break;
		if (*c->p++ != ',')
			return NULL;
	}
	c->p++;
	if (type == JV_OBJECT && v->len > 1)
		mark_repeats(v);
	return v;
}

static struct jval *
value(struct cursor *c, int depth)
{
	struct jval *v;
	const unsigned char *start = c->p;
	unsigned char type;
	int rc;

	if (c->p == c->end)
		return NULL;
	switch (*c->p) {
	case '{':
		return container(c, JV_OBJECT, depth);
	case '[':
		return container(c, JV_ARRAY, depth);
	case '"':
		if ((v = new_node(c, JV_STRING)) == NULL ||
		    string(c, &v->str, &v->len) == -1)
			return NULL;
		v->plain = 1;	/* no escapes: jval marks it so */
		return v;
	case 't':
		type = JV_TRUE;
		rc = literal(c, "true", 4);
		break;
	case 'f':
		type = JV_FALSE;
		rc = literal(c, "false", 5);
		break;
	case 'n':
		type = JV_NULL;
		rc = literal(c, "null", 4);
		break;
	default:
		type = JV_NUMBER;
		rc = number(c);
		break;
	}
	if (rc == -1 || (v = new_node(c, type)) == NULL)
		return NULL;
	if (type == JV_NUMBER) {
		/* Its text in place, as jval keeps it. */
		v->str = (const char *)start;
		v->len = (size_t)(c->p - start);
		v->plain = 1;
	}
	return v;
}

const struct jval *
scan_line(struct scan *s, const char *text, size_t n)
{
	struct cursor c;
	struct jval *root;
	size_t need;

	/* Each node takes a byte of the text at least, and one to part it. */
	need = n / 2 + 2;
	if (need > s->max_nodes)
		need = s->max_nodes;
	if (need > s->cap) {
		free(s->nodes);
		s->nodes = xalloc_calloc(need, sizeof(*s->nodes));
		s->cap = need;
	}
	s->n = 0;
	/* An event is an object: no bare value, whose end yajl sees late. */
	if (n == 0 || text[0] != '{')
		return NULL;
	c.p = (const unsigned char *)text;
	c.end = c.p + n;
	c.s = s;
	if ((root = value(&c, 0)) == NULL || c.p != c.end)
		return NULL;
	return root;
}
