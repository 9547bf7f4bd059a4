#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "detect.h"
#include "exitcodes.h"
#include "schema.h"
#include "xalloc.h"

static const char *const type_names[] = {
	"null", "bigint", "double", "bool", "text", "timestamp", "date", "json",
	"decimal"
};

const char *
schema_type_name(enum stype t)
{
	return type_names[t];
}

unsigned long long
schema_hash(const char *s, size_t n)
{
	unsigned long long h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* The keytab's key comparisons: columns by name, tables by name. */
static int
same_column(const void *owner, size_t pos, const void *name, size_t len)
{
	const struct schema_table *t = owner;
	const struct schema_column *c = &t->cols[pos];

	return c->namelen == len && memcmp(c->name, name, len) == 0;
}

static int
same_table(const void *owner, size_t pos, const void *name, size_t len)
{
	const struct schema_set *s = owner;
	const struct schema_table *t = s->tables[pos];

	return t->namelen == len && memcmp(t->name, name, len) == 0;
}

enum stype
schema_value_type(const struct jval *v, int detect)
{
	switch (v->type) {
	case JV_NULL:
		return ST_NONE;
	case JV_TRUE:
	case JV_FALSE:
		return ST_BOOL;
	case JV_NUMBER:
		if (jval_fits_int64(v))
			return ST_BIGINT;
		/* An integer too wide for 64 bits stays exact, as its digits. */
		if (memchr(v->str, '.', v->len) == NULL &&
		    memchr(v->str, 'e', v->len) == NULL &&
		    memchr(v->str, 'E', v->len) == NULL)
			return ST_DECIMAL;
		/*
		 * So does a number beyond a double's range (1e400): as a
		 * double it would be infinity, another value.  Only an
		 * exponent or a very long text can get there.
		 */
		if ((v->len > 300 || memchr(v->str, 'e', v->len) != NULL ||
		    memchr(v->str, 'E', v->len) != NULL) &&
		    isinf(jval_double(v)))
			return ST_DECIMAL;
		return ST_DOUBLE;
	case JV_STRING:
		if (!detect || v->len < 10 || v->str[0] < '0' || v->str[0] > '9')
			return ST_TEXT;
		switch (detect_temporal(v->str, v->len)) {
		case DETECT_DATE: return ST_DATE;
		case DETECT_TIMESTAMP: return ST_TIMESTAMP;
		default: return ST_TEXT;
		}
	default:
		return ST_JSON;
	}
}

/* Whether the declared type decl contains word, ignoring ASCII case. */
static int
has_word(const char *decl, const char *word)
{
	size_t n = strlen(word);

	for (; *decl != '\0'; decl++)
		if (strncasecmp(decl, word, n) == 0)
			return 1;
	return 0;
}

enum stype
schema_type_of_decl(const char *decl)
{
	if (decl == NULL || *decl == '\0')
		return ST_TEXT;
	if (has_word(decl, "DECIMAL TEXT"))
		return ST_DECIMAL;
	if (has_word(decl, "BOOL"))
		return ST_BOOL;
	if (has_word(decl, "TIMESTAMP") ||
	    has_word(decl, "DATETIME"))
		return ST_TIMESTAMP;
	if (has_word(decl, "DATE"))
		return ST_DATE;
	if (has_word(decl, "JSON"))
		return ST_JSON;
	if (has_word(decl, "INT"))
		return ST_BIGINT;
	if (has_word(decl, "REAL") || has_word(decl, "DOUB") ||
	    has_word(decl, "FLOA") || has_word(decl, "NUM") ||
	    has_word(decl, "DEC"))
		return ST_DOUBLE;
	return ST_TEXT;
}

/*
 * How a column of type have takes a value of type got: 0 as it is, 1 by
 * widening to *to, -1 not at all (a conflict).
 */
static int
widen(enum stype have, enum stype got, enum stype *to)
{
	*to = have;
	if (have == got)
		return 0;
	/*
	 * A decimal column holds any number exactly.  A bigint or double
	 * column cannot hold a decimal (a database would round it, or make
	 * it infinite): a conflict, so a variant column keeps it exact.
	 */
	if ((have == ST_DOUBLE && got == ST_BIGINT) ||
	    (have == ST_DECIMAL && (got == ST_BIGINT || got == ST_DOUBLE)) ||
	    (have == ST_TIMESTAMP && got == ST_DATE) ||
	    (have == ST_TEXT && (got == ST_TIMESTAMP || got == ST_DATE)))
		return 0;
	if ((have == ST_BIGINT && got == ST_DOUBLE) ||
	    (have == ST_DATE && got == ST_TIMESTAMP)) {
		*to = got;
		return 1;
	}
	return -1;
}

static void
change(struct schema_table *t, struct schema_changes *ch,
    enum schema_change_kind kind, size_t col, enum stype from, enum stype to)
{
	t->version++;
	if (ch == NULL)
		return;
	if (ch->n == ch->cap) {
		ch->cap = ch->cap ? ch->cap * 2 : 16;
		ch->v = xalloc_realloc(ch->v, ch->cap, sizeof(*ch->v));
	}
	ch->v[ch->n].kind = kind;
	ch->v[ch->n].col = col;
	ch->v[ch->n].from = from;
	ch->v[ch->n].to = to;
	ch->n++;
}

void
schema_changes_free(struct schema_changes *ch)
{
	free(ch->v);
	ch->v = NULL;
	ch->n = ch->cap = 0;
}

struct schema_table *
schema_table_new(const char *name, size_t len)
{
	struct schema_table *t;

	t = xalloc_calloc(1, sizeof(*t));
	t->name = xalloc_memdup(name, len);
	t->namelen = len;
	return t;
}

static void
keys_free(struct schema_table *t)
{
	size_t i;

	for (i = 0; i < t->nkeys; i++)
		free(t->keys[i]);
	free(t->keys);
	t->keys = NULL;
	t->nkeys = 0;
}

void
schema_table_free(struct schema_table *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->ncols; i++)
		free(t->cols[i].name);
	free(t->cols);
	keytab_free(&t->index);
	keys_free(t);
	free(t->name);
	free(t);
}

void
schema_table_set_keys_csv(struct schema_table *t, const char *csv)
{
	const char *p, *comma;

	keys_free(t);
	for (p = csv; p != NULL && *p != '\0'; p = comma ? comma + 1 : NULL) {
		comma = strchr(p, ',');
		t->keys = xalloc_realloc(t->keys, t->nkeys + 1, sizeof(*t->keys));
		t->keys[t->nkeys++] = xalloc_memdup(p,
		    comma ? (size_t)(comma - p) : strlen(p));
	}
	t->version++;
}

long
schema_table_find(const struct schema_table *t, const char *name, size_t len)
{
	return keytab_find(&t->index, keytab_hash(name, len), same_column, t,
	    name, len);
}

long
schema_table_add(struct schema_table *t, const char *name, size_t len,
    enum stype type, int nullable, struct lib_err *e)
{
	struct schema_column *c;
	uint64_t h = keytab_hash(name, len);
	size_t slot;
	long had;

	if (t->ncols >= SCHEMA_MAX_COLUMNS)
		return liberr_set(e, EX_DATAERR,
		    "stream %s: more than %d columns", t->name,
		    SCHEMA_MAX_COLUMNS);
	(void)keytab_reserve(&t->index, t->ncols + 1);
	had = keytab_find_position(&t->index, h, same_column, t, name, len,
	    &slot);
	if (t->ncols == t->capcols) {
		t->capcols = t->capcols ? t->capcols * 2 : 16;
		t->cols = xalloc_realloc(t->cols, t->capcols, sizeof(*t->cols));
	}
	c = &t->cols[t->ncols];
	c->name = xalloc_memdup(name, len);
	c->namelen = len;
	c->type = type;
	c->nullable = nullable;
	c->seen = t->records;
	/* A name added twice is found as its first column, as before. */
	if (had == -1)
		keytab_insert(&t->index, slot, h, t->ncols);
	return (long)t->ncols++;
}

void
schema_mark_take(const struct schema_table *t, struct schema_mark *m)
{
	if (m->cap < t->ncols) {
		m->cap = t->ncols + 64;
		m->cols = xalloc_realloc(m->cols, m->cap, sizeof(*m->cols));
	}
	if (t->ncols > 0)
		memcpy(m->cols, t->cols, t->ncols * sizeof(*m->cols));
	m->ncols = t->ncols;
	m->records = t->records;
	m->cursor = t->cursor;
}

void
schema_mark_restore(struct schema_table *t, const struct schema_mark *m)
{
	size_t i;

	if (t->ncols > m->ncols) {
		for (i = m->ncols; i < t->ncols; i++)
			free(t->cols[i].name);
		t->ncols = m->ncols;
		keytab_truncate(&t->index, t->ncols);
	}
	if (m->ncols > 0)
		memcpy(t->cols, m->cols, m->ncols * sizeof(*m->cols));
	t->records = m->records;
	t->cursor = m->cursor;
	t->version++;
}

void
schema_mark_free(struct schema_mark *m)
{
	free(m->cols);
	memset(m, 0, sizeof(*m));
}

void
schema_record_begin(struct schema_table *t)
{
	t->records++;
	t->cursor = 0;
}

/* The variant column for values of type got: "name__v_TYPE". */
static long
variant(struct schema_table *t, size_t base, enum stype got,
    struct schema_changes *ch, struct lib_err *e)
{
	char name[4096];
	size_t n;
	long col;

	n = t->cols[base].namelen;
	if (n > sizeof(name) - 32)
		n = sizeof(name) - 32;
	memcpy(name, t->cols[base].name, n);
	n += (size_t)snprintf(name + n, sizeof(name) - n, "__v_%s",
	    schema_type_name(got));
	if ((col = schema_table_find(t, name, n)) >= 0) {
		t->cols[col].seen = t->records;
		return col;
	}
	if ((col = schema_table_add(t, name, n, got, 1, e)) < 0)
		return -1;
	change(t, ch, SC_VARIANT, (size_t)col, t->cols[base].type, got);
	return col;
}

/*
 * A value of type got in the existing column col: the column it goes in
 * (col, or its variant on a type conflict), or -1 with e set.
 */
static long
observe_existing(struct schema_table *t, long col, enum stype got,
    const struct schema_opts *o, struct schema_changes *ch, struct lib_err *e)
{
	struct schema_column *c = &t->cols[col];
	enum stype to;

	c->seen = t->records;
	if (got == ST_NONE) {
		if (!c->nullable) {
			c->nullable = 1;
			change(t, ch, SC_NULLABLE, (size_t)col, c->type, c->type);
		}
		return col;
	}
	switch (widen(c->type, got, &to)) {
	case 0:
		return col;
	case 1:
		change(t, ch, SC_WIDEN, (size_t)col, c->type, to);
		c->type = to;
		return col;
	default:
		if (o->conflict_fail)
			return liberr_set(e, EX_DATAERR,
			    "stream %s: column \"%s\": %s value in a %s column",
			    t->name, c->name, schema_type_name(got),
			    schema_type_name(c->type));
		/* The base column gets null in this record. */
		if (!c->nullable) {
			c->nullable = 1;
			change(t, ch, SC_NULLABLE, (size_t)col, c->type, c->type);
		}
		return variant(t, (size_t)col, got, ch, e);
	}
}

int
schema_observe(struct schema_table *t, const char *name, size_t len,
    const struct jval *v, const struct schema_opts *o,
    struct schema_changes *ch, long *colp, struct lib_err *e)
{
	enum stype got;
	long col;

	*colp = SCHEMA_NO_COLUMN;
	got = schema_value_type(v, o->detect);
	/* Records of a stream mostly share a key order: try the next column. */
	if (t->cursor < t->ncols && t->cols[t->cursor].namelen == len &&
	    memcmp(t->cols[t->cursor].name, name, len) == 0)
		col = (long)t->cursor;
	else
		col = schema_table_find(t, name, len);
	t->cursor = col >= 0 ? (size_t)col + 1 : t->cursor;
	if (col >= 0) {
		if ((col = observe_existing(t, col, got, o, ch, e)) < 0)
			return -1;
	} else {
		/* A null never fixes a type: no column yet, nothing to store. */
		if (got == ST_NONE)
			return 0;
		if ((col = schema_table_add(t, name, len, got,
		    t->records > 1 || t->seeded, e)) < 0)
			return -1;
		if (t->records > 1 || t->seeded)
			change(t, ch, SC_NEW_COLUMN, (size_t)col, ST_NONE, got);
	}
	*colp = col;
	return 0;
}

void
schema_record_end(struct schema_table *t, struct schema_changes *ch)
{
	size_t i;

	if (t->records == 1 && !t->seeded) {
		change(t, ch, SC_NEW_TABLE, 0, ST_NONE, ST_NONE);
		return;
	}
	for (i = 0; i < t->ncols; i++)
		if (t->cols[i].seen != t->records && !t->cols[i].nullable) {
			t->cols[i].nullable = 1;
			change(t, ch, SC_NULLABLE, i, t->cols[i].type,
			    t->cols[i].type);
		}
}

/* The logical type a JSON Schema declares, and whether it allows null. */
static enum stype
json_schema_type(const struct jval *s, int *nullable)
{
	const struct jval *type, *format, *any, *m;
	enum stype t = ST_NONE, one;
	int nonnull = 0;

	*nullable = 0;
	if (s == NULL || s->type != JV_OBJECT)
		return ST_JSON;
	if ((any = jval_get(s, "anyOf")) != NULL ||
	    (any = jval_get(s, "oneOf")) != NULL) {
		int n;

		if (any->type != JV_ARRAY)
			return ST_JSON;
		for (m = any->child; m != NULL; m = m->next) {
			one = json_schema_type(m, &n);
			if (n)
				*nullable = 1;
			if (one != ST_NONE && t == ST_NONE)
				t = one;
		}
		return t == ST_NONE ? ST_JSON : t;
	}
	type = jval_get(s, "type");
	format = jval_get(s, "format");
	if (type == NULL)
		return ST_JSON;
	for (m = type->type == JV_ARRAY ? type->child : type; m != NULL;
	    m = type->type == JV_ARRAY ? m->next : NULL) {
		if (m->type != JV_STRING)
			continue;
		if (jval_streq(m, "null")) {
			*nullable = 1;
			continue;
		}
		if (jval_streq(m, "integer"))
			one = ST_BIGINT;
		else if (jval_streq(m, "number"))
			one = format != NULL && jval_streq(format, "decimal") ?
			    ST_DECIMAL : ST_DOUBLE;
		else if (jval_streq(m, "boolean"))
			one = ST_BOOL;
		else if (jval_streq(m, "string")) {
			one = ST_TEXT;
			if (format != NULL && format->type == JV_STRING) {
				if (jval_streq(format, "date-time"))
					one = ST_TIMESTAMP;
				else if (jval_streq(format, "date"))
					one = ST_DATE;
			}
		} else
			one = ST_JSON;
		if (nonnull++ == 0)
			t = one;
		else if (t != one) {
			enum stype w;

			/*
			 * ["integer","number"] is a number; other mixtures are
			 * JSON, which keeps each value's own type in SQLite.
			 */
			if (widen(t, one, &w) >= 0 || widen(one, t, &w) >= 0)
				t = w;
			else
				t = ST_JSON;
		}
	}
	return nonnull ? t : ST_NONE;
}

/*
 * Whether a declared column is the variant column NAME__v_TYPE of a
 * column NAME whose type takes values of that TYPE: a variant no value
 * would go to here, declared by a writer that saw NAME as another type
 * (schema-infer without the destination's schema).  Creating it would
 * leave a column that no row fills.
 */
static int
variant_takes_nothing(const struct schema_table *t, const char *name,
    size_t len, enum stype type)
{
	const char *tn = schema_type_name(type);
	size_t tl = strlen(tn);
	enum stype to;
	long base;

	if (len <= tl + 4 || memcmp(name + len - tl, tn, tl) != 0 ||
	    memcmp(name + len - tl - 4, "__v_", 4) != 0)
		return 0;
	if ((base = schema_table_find(t, name, len - tl - 4)) < 0 ||
	    t->cols[base].type == ST_NONE)
		return 0;
	return widen(t->cols[base].type, type, &to) >= 0;
}

int
schema_apply_json(struct schema_table *t, const struct jval *schema,
    const struct jval *keys, struct schema_changes *ch, struct lib_err *e)
{
	const struct jval *props, *p, *k;
	enum stype type, to;
	int nullable;
	long col;

	if (keys != NULL && keys->type == JV_ARRAY) {
		keys_free(t);
		for (k = keys->child; k != NULL; k = k->next) {
			if (k->type != JV_STRING)
				return liberr_set(e, EX_DATAERR,
				    "key_properties: not a list of strings");
			t->keys = xalloc_realloc(t->keys, t->nkeys + 1, sizeof(*t->keys));
			t->keys[t->nkeys++] = xalloc_memdup(k->str, k->len);
		}
	}
	if (schema == NULL)
		return 0;
	props = jval_get(schema, "properties");
	if (props != NULL && props->type != JV_OBJECT)
		return liberr_set(e, EX_DATAERR,
		    "schema: \"properties\" is not an object");
	for (p = props != NULL ? props->child : NULL; p != NULL; p = p->next) {
		type = json_schema_type(p, &nullable);
		if (type == ST_NONE)
			continue;
		if ((col = schema_table_find(t, p->key, p->keylen)) < 0) {
			if (variant_takes_nothing(t, p->key, p->keylen, type))
				continue;
			if ((col = schema_table_add(t, p->key, p->keylen, type,
			    nullable, e)) < 0)
				return -1;
			change(t, ch, SC_NEW_COLUMN, (size_t)col, ST_NONE, type);
			continue;
		}
		if (widen(t->cols[col].type, type, &to) == 1) {
			change(t, ch, SC_WIDEN, (size_t)col, t->cols[col].type, to);
			t->cols[col].type = to;
		}
		if (nullable && !t->cols[col].nullable) {
			t->cols[col].nullable = 1;
			change(t, ch, SC_NULLABLE, (size_t)col, to, to);
		}
	}
	/* A schema without columns (key_properties only) seeds nothing. */
	if (t->records == 0 && t->ncols > 0)
		t->seeded = 1;
	return 0;
}

static void
write_column_type(struct jbuf *b, const struct schema_column *c)
{
	static const char *const json_types[] = {
		"null", "integer", "number", "boolean", "string", "string",
		"string", NULL, "number"
	};

	jbuf_puts(b, "{\"type\":[");
	if (c->nullable)
		jbuf_puts(b, "\"null\",");
	if (c->type == ST_JSON)
		jbuf_puts(b, "\"object\",\"array\"]");
	else {
		jbuf_putc(b, '"');
		jbuf_puts(b, json_types[c->type]);
		jbuf_puts(b, "\"]");
	}
	if (c->type == ST_TIMESTAMP)
		jbuf_puts(b, ",\"format\":\"date-time\"");
	else if (c->type == ST_DATE)
		jbuf_puts(b, ",\"format\":\"date\"");
	else if (c->type == ST_DECIMAL)
		jbuf_puts(b, ",\"format\":\"decimal\"");
	jbuf_putc(b, '}');
}

void
schema_write_json(const struct schema_table *t, struct jbuf *b)
{
	size_t i;

	jbuf_puts(b, "{\"type\":\"object\",\"properties\":{");
	for (i = 0; i < t->ncols; i++) {
		if (i > 0)
			jbuf_putc(b, ',');
		jbuf_str(b, t->cols[i].name, t->cols[i].namelen);
		jbuf_putc(b, ':');
		write_column_type(b, &t->cols[i]);
	}
	jbuf_puts(b, "}}");
}

void
schema_write_message(const struct schema_table *t, struct jbuf *b)
{
	size_t i;

	jbuf_puts(b, "{\"type\":\"SCHEMA\",\"stream\":");
	jbuf_str(b, t->name, t->namelen);
	jbuf_puts(b, ",\"schema\":");
	schema_write_json(t, b);
	jbuf_puts(b, ",\"key_properties\":[");
	for (i = 0; i < t->nkeys; i++) {
		if (i > 0)
			jbuf_putc(b, ',');
		jbuf_str(b, t->keys[i], strlen(t->keys[i]));
	}
	jbuf_puts(b, "]}");
}

struct schema_table *
schema_set_get(struct schema_set *s, const char *name, size_t len, int create,
    struct lib_err *e)
{
	uint64_t h = keytab_hash(name, len);
	size_t slot;
	long i;

	if (!create) {
		i = keytab_find(&s->index, h, same_table, s, name, len);
		return i >= 0 ? s->tables[i] : NULL;
	}
	(void)keytab_reserve(&s->index, s->n + 1);
	if ((i = keytab_find_position(&s->index, h, same_table, s, name, len,
	    &slot)) >= 0)
		return s->tables[i];
	if (s->n >= SCHEMA_MAX_TABLES) {
		(void)liberr_set(e, EX_DATAERR, "more than %d streams",
		    SCHEMA_MAX_TABLES);
		return NULL;
	}
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 8;
		s->tables = xalloc_realloc(s->tables, s->cap,
		    sizeof(struct schema_table *));
	}
	s->tables[s->n] = schema_table_new(name, len);
	keytab_insert(&s->index, slot, h, s->n);
	return s->tables[s->n++];
}

void
schema_set_free(struct schema_set *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		schema_table_free(s->tables[i]);
	free(s->tables);
	keytab_free(&s->index);
	memset(s, 0, sizeof(*s));
}

static const char *const change_names[] = {
	"new_table", "new_column", "widen", "nullable", "variant"
};

static void
put_type_or_null(struct jbuf *b, enum stype t)
{
	if (t == ST_NONE)
		jbuf_puts(b, "null");
	else {
		jbuf_putc(b, '"');
		jbuf_puts(b, schema_type_name(t));
		jbuf_putc(b, '"');
	}
}

void
schema_change_event(const struct schema_table *t,
    const struct schema_change *c, unsigned long line, struct jbuf *b)
{
	schema_change_event_load(t, c, line, NULL, b);
}

void
schema_change_event_load(const struct schema_table *t,
    const struct schema_change *c, unsigned long line, const char *load_id,
    struct jbuf *b)
{
	char num[32];

	jbuf_puts(b, "{\"stream\":");
	jbuf_str(b, t->name, t->namelen);
	jbuf_puts(b, ",\"column\":");
	if (c->kind == SC_NEW_TABLE)
		jbuf_puts(b, "null");
	else
		jbuf_str(b, t->cols[c->col].name, t->cols[c->col].namelen);
	jbuf_puts(b, ",\"change\":\"");
	jbuf_puts(b, change_names[c->kind]);
	jbuf_puts(b, "\",\"from\":");
	if (c->kind == SC_NULLABLE)
		jbuf_puts(b, "\"required\",\"to\":\"nullable\"");
	else {
		put_type_or_null(b, c->from);
		jbuf_puts(b, ",\"to\":");
		put_type_or_null(b, c->to);
	}
	(void)snprintf(num, sizeof(num), ",\"line\":%lu", line);
	jbuf_puts(b, num);
	if (load_id != NULL) {
		jbuf_puts(b, ",\"load_id\":");
		jbuf_str(b, load_id, strlen(load_id));
	}
	jbuf_putc(b, '}');
}

void
schema_change_describe(const struct schema_table *t,
    const struct schema_change *c, struct jbuf *b)
{
	const struct schema_column *col = &t->cols[c->col];

	switch (c->kind) {
	case SC_NEW_TABLE:
		jbuf_puts(b, "new stream");
		return;
	case SC_NEW_COLUMN:
		jbuf_puts(b, "new column ");
		break;
	case SC_WIDEN:
		jbuf_puts(b, "widened column ");
		break;
	case SC_NULLABLE:
		jbuf_puts(b, "column ");
		break;
	case SC_VARIANT:
		jbuf_puts(b, "new variant column ");
		break;
	}
	jbuf_str(b, col->name, col->namelen);
	switch (c->kind) {
	case SC_NEW_COLUMN:
	case SC_VARIANT:
		jbuf_puts(b, " (");
		jbuf_puts(b, schema_type_name(c->to));
		jbuf_putc(b, ')');
		break;
	case SC_WIDEN:
		jbuf_puts(b, " from ");
		jbuf_puts(b, schema_type_name(c->from));
		jbuf_puts(b, " to ");
		jbuf_puts(b, schema_type_name(c->to));
		break;
	case SC_NULLABLE:
		jbuf_puts(b, " is now nullable");
		break;
	default:
		break;
	}
}
