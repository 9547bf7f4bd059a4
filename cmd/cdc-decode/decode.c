#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "decode_int.h"
#include "exitcodes.h"
#include "hash.h"
#include "pgtype.h"
#include "state.h"
#include "xalloc.h"

void
decode_init(struct decode *d, struct cli *c, const struct decode_opts *o)
{
	const char *p, *comma;

	memset(d, 0, sizeof(*d));
	d->cli = c;
	d->opts = *o;
	txn_init(&d->txn, o->memory);
	for (p = o->keys; p != NULL; p = comma != NULL ? comma + 1 : NULL) {
		comma = strchr(p, ',');
		d->keys = xalloc_realloc(d->keys, d->nkeys + 1,
		    sizeof(*d->keys));
		d->keys[d->nkeys++] = xalloc_memdup(p, comma != NULL ?
		    (size_t)(comma - p) : strlen(p));
	}
}

void
decode_free(struct decode *d)
{
	size_t i;

	txn_free(&d->txn);
	for (i = 0; i < d->nsigs; i++) {
		free(d->sigs[i]);
		jbuf_free(&d->shapes[i]);
	}
	free(d->sigs);
	free(d->shapes);
	for (i = 0; i < d->nkeys; i++)
		free(d->keys[i]);
	free(d->keys);
	strmap_free(&d->streams);
	jbuf_free(&d->txid);
	jbuf_free(&d->position);
	jbuf_free(&d->out);
	jbuf_free(&d->stream);
	jbuf_free(&d->sig);
	jbuf_free(&d->props);
	jbuf_free(&d->keyprops);
	jbuf_free(&d->shape);
}

int
decode_lsn(const char *s, size_t n, uint64_t *out)
{
	uint64_t hi = 0, lo = 0, *part = &hi;
	size_t i, digits = 0;
	int c;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c == '/' && part == &hi && digits > 0) {
			part = &lo;
			digits = 0;
			continue;
		}
		if (++digits > 8)
			return -1;
		if (c >= '0' && c <= '9')
			*part = *part * 16 + (uint64_t)(c - '0');
		else if (c >= 'A' && c <= 'F')
			*part = *part * 16 + (uint64_t)(c - 'A' + 10);
		else if (c >= 'a' && c <= 'f')
			*part = *part * 16 + (uint64_t)(c - 'a' + 10);
		else
			return -1;
	}
	if (part != &lo || digits == 0)
		return -1;
	*out = hi << 32 | lo;
	return 0;
}

int
decode_state_from(struct decode *d, const char *from, int in_file)
{
	struct jbuf path = JBUF_INIT, value = JBUF_INIT;
	struct lib_err e;
	int found, rc = 0;

	jbuf_puts(&path, "bookmarks.");
	jbuf_puts(&path, d->opts.bookmark);
	jbuf_puts(&path, ".lsn");
	if (in_file ? state_file_get(from, jbuf_cstr(&path), &value, &found,
	    &e) : state_get(from, jbuf_cstr(&path), &value, &found, &e)) {
		if (in_file)
			(void)liberr_prefix(&e, "--state");
		cli_error(d->cli, e.code, "%s", e.msg);
		rc = -1;
	} else if (found) {
		if (decode_lsn(value.p, value.len, &d->committed) == -1) {
			cli_error(d->cli, EX_DATAERR, "%s: the bookmark %s is "
			    "no LSN: %.*s", from, path.p, (int)(value.len > 40 ?
			    40 : value.len), value.p);
			rc = -1;
		} else
			d->have_committed = 1;
	}
	jbuf_free(&path);
	jbuf_free(&value);
	return rc;
}

/* The stream's name: the table's, or schema__table. */
static void
stream_name(struct decode *d, const struct jval *schema,
    const struct jval *table)
{
	jbuf_reset(&d->stream);
	if (d->opts.qualify && schema != NULL && schema->type == JV_STRING) {
		jbuf_put(&d->stream, schema->str, schema->len);
		jbuf_puts(&d->stream, "__");
	}
	jbuf_put(&d->stream, table->str, table->len);
}

int
decode_put(struct decode *d, const char *p, size_t n)
{
	struct lib_err e;

	if (txn_put(&d->txn, p, n, &e) == -1) {
		cli_error(d->cli, e.code, "%s", e.msg);
		return -1;
	}
	return 0;
}

static int
put_out(struct decode *d)
{
	return decode_put(d, d->out.p, d->out.len);
}

/*
 * The SCHEMA of the stream in d->stream, its properties in d->props and
 * its key's names in d->keyprops (JSON members and strings, comma
 * separated), when it is not the one last written for the stream.
 */
int
decode_schema(struct decode *d)
{
	long i;

	jbuf_reset(&d->sig);
	jbuf_puts(&d->sig, "{\"type\":\"SCHEMA\",\"stream\":");
	jbuf_str(&d->sig, d->stream.p, d->stream.len);
	jbuf_puts(&d->sig, ",\"schema\":{\"type\":\"object\",\"properties\":{");
	jbuf_put(&d->sig, d->props.p, d->props.len);
	jbuf_puts(&d->sig, "}},\"key_properties\":[");
	jbuf_put(&d->sig, d->keyprops.p, d->keyprops.len);
	jbuf_puts(&d->sig, "]}\n");
	if ((i = strmap_get(&d->streams, d->stream.p, d->stream.len)) != -1 &&
	    strcmp(d->sigs[i], jbuf_cstr(&d->sig)) == 0)
		return 0;
	if (i == -1) {
		d->sigs = xalloc_realloc(d->sigs, d->nsigs + 1, sizeof(*d->sigs));
		d->shapes = xalloc_realloc(d->shapes, d->nsigs + 1,
		    sizeof(*d->shapes));
		i = (long)d->nsigs++;
		d->sigs[i] = NULL;
		d->shapes[i] = (struct jbuf)JBUF_INIT;
		strmap_put(&d->streams, d->stream.p, d->stream.len, (size_t)i);
	}
	free(d->sigs[i]);
	d->sigs[i] = xalloc_strdup(jbuf_cstr(&d->sig));
	return decode_put(d, d->sig.p, d->sig.len);
}

/* A string into a shape: its length, then its bytes. */
static void
shape_put(struct jbuf *b, const char *s, size_t n)
{
	jbuf_put(b, (const char *)&n, sizeof(n));
	jbuf_put(b, s, n);
}

/*
 * The columns' names and types and the keys' names, as a string: the
 * same as the last change's of the stream, its SCHEMA is the same too,
 * and is not made again (most changes of a table have the same columns).
 * Comparing them costs less than making the SCHEMA, or hashing them.
 */
static void
shape_of(struct jbuf *b, const struct jval *cols, const struct jval *keys)
{
	const struct jval *c, *m;
	static const size_t keys_begin = (size_t)-1;

	jbuf_reset(b);
	for (c = cols != NULL ? cols->child : NULL; c != NULL; c = c->next)
		for (m = c->child; m != NULL; m = m->next)
			if (m->keylen == 4 && (memcmp(m->key, "name", 4) == 0 ||
			    memcmp(m->key, "type", 4) == 0) &&
			    m->type == JV_STRING)
				shape_put(b, m->str, m->len);
	/* No string has this length: the keys begin here. */
	jbuf_put(b, (const char *)&keys_begin, sizeof(keys_begin));
	for (c = keys != NULL ? keys->child : NULL; c != NULL; c = c->next)
		if ((m = jval_get(c, "name")) != NULL && m->type == JV_STRING)
			shape_put(b, m->str, m->len);
}

/* wal2json: the SCHEMA from the columns' names and types, keys' names. */
static int
schema_if_new(struct decode *d, const struct jval *cols,
    const struct jval *keys)
{
	const struct jval *c, *name, *type;
	long i;
	int first = 1;

	shape_of(&d->shape, cols, keys);
	if ((i = strmap_get(&d->streams, d->stream.p, d->stream.len)) != -1 &&
	    d->shapes[i].len == d->shape.len &&
	    memcmp(d->shapes[i].p, d->shape.p, d->shape.len) == 0)
		return 0;

	jbuf_reset(&d->props);
	for (c = cols != NULL ? cols->child : NULL; c != NULL; c = c->next) {
		name = jval_get(c, "name");
		type = jval_get(c, "type");
		if (name == NULL || name->type != JV_STRING || type == NULL ||
		    type->type != JV_STRING)
			continue;
		if (!first)
			jbuf_putc(&d->props, ',');
		first = 0;
		jbuf_str(&d->props, name->str, name->len);
		jbuf_putc(&d->props, ':');
		pgtype_schema(pgtype_kind(type->str, type->len), &d->props);
	}
	jbuf_reset(&d->keyprops);
	first = 1;
	for (c = keys != NULL ? keys->child : NULL; c != NULL; c = c->next) {
		name = jval_get(c, "name");
		if (name == NULL || name->type != JV_STRING)
			continue;
		if (!first)
			jbuf_putc(&d->keyprops, ',');
		first = 0;
		jbuf_str(&d->keyprops, name->str, name->len);
	}
	if (decode_schema(d) == -1)
		return -1;
	i = strmap_get(&d->streams, d->stream.p, d->stream.len);
	jbuf_reset(&d->shapes[i]);
	jbuf_put(&d->shapes[i], d->shape.p, d->shape.len);
	return 0;
}

/* Whether the stream in d->stream has had a SCHEMA. */
static int
known_stream(const struct decode *d)
{
	return strmap_get(&d->streams, d->stream.p, d->stream.len) != -1;
}

/*
 * A column's name, type and value: the last member of each name, as
 * jval_get has it, in one pass (a change has many columns).
 */
static void
column_members(const struct jval *c, const struct jval **name,
    const struct jval **type, const struct jval **value)
{
	const struct jval *m;

	*name = *type = *value = NULL;
	if (c->type != JV_OBJECT)
		return;
	for (m = c->child; m != NULL; m = m->next)
		if (m->keylen == 4 && memcmp(m->key, "name", 4) == 0)
			*name = m;
		else if (m->keylen == 4 && memcmp(m->key, "type", 4) == 0)
			*type = m;
		else if (m->keylen == 5 && memcmp(m->key, "value", 5) == 0)
			*value = m;
}

/* The members of cols ({"name","type","value"} objects) into d->out. */
static int
members(struct decode *d, const struct jval *cols, struct lib_err *e)
{
	const struct jval *c, *name, *type, *value;
	enum pgkind kind;
	int first = 1;

	for (c = cols->child; c != NULL; c = c->next) {
		column_members(c, &name, &type, &value);
		if (name == NULL || name->type != JV_STRING || type == NULL ||
		    type->type != JV_STRING || value == NULL)
			return liberr_set(e, EX_DATAERR, "a column without "
			    "name, type or value (wal2json: -o "
			    "format-version=2)");
		if (!first)
			jbuf_putc(&d->out, ',');
		first = 0;
		/* As jbuf_str would write it, the copy of plain names spared. */
		jval_write(&d->out, name);
		jbuf_putc(&d->out, ':');
		kind = pgtype_kind(type->str, type->len);
		if (pgtype_value(kind, kind == PG_ARRAY ? pgtype_elem_kind(
		    type->str, type->len) : kind, value, &d->out, e) == -1)
			return liberr_prefix(e, "column %.*s (%.*s)",
			    (int)name->len, name->str, (int)type->len,
			    type->str);
	}
	return 0;
}

void
decode_version(struct decode *d, uint64_t lsn)
{
	char num[24], *p = num + sizeof(num);

	/* Its decimal digits, as printf's PRIu64 has them, without printf. */
	do
		*--p = (char)('0' + lsn % 10);
	while ((lsn /= 10) > 0);
	jbuf_put(&d->out, ",\"version\":", 11);
	jbuf_put(&d->out, p, (size_t)(num + sizeof(num) - p));
}

/* The members of a wal2json event that count. */
struct event {
	const struct jval *action, *lsn, *schema, *table, *columns,
			*identity, *pk;
};

/*
 * The members of ev, in one pass: the last one of each name, as jval_get
 * has it (an event has few members, but there is one an event).
 */
static void
event_members(const struct jval *ev, struct event *f)
{
	const struct jval *m;

	memset(f, 0, sizeof(*f));
	if (ev->type != JV_OBJECT)
		return;
	for (m = ev->child; m != NULL; m = m->next) {
		switch (m->keylen) {
		case 2:
			if (memcmp(m->key, "pk", 2) == 0)
				f->pk = m;
			break;
		case 3:
			if (memcmp(m->key, "lsn", 3) == 0)
				f->lsn = m;
			break;
		case 5:
			if (memcmp(m->key, "table", 5) == 0)
				f->table = m;
			break;
		case 6:
			if (memcmp(m->key, "action", 6) == 0)
				f->action = m;
			else if (memcmp(m->key, "schema", 6) == 0)
				f->schema = m;
			break;
		case 7:
			if (memcmp(m->key, "columns", 7) == 0)
				f->columns = m;
			break;
		case 8:
			if (memcmp(m->key, "identity", 8) == 0)
				f->identity = m;
			break;
		default:
			break;
		}
	}
}

/* An event's "lsn" as a number: 1, 0 when it has none, -1 when bad. */
static int
event_lsn(const struct jval *v, uint64_t *lsn)
{
	if (v == NULL)
		return 0;
	if (v->type != JV_STRING || decode_lsn(v->str, v->len, lsn) == -1)
		return -1;
	return 1;
}

/* A transaction's end: its changes, then its bookmark, written. */
static int
out_cli(void *arg, const char *p, size_t n, struct lib_err *e)
{
	return cli_write_err(arg, p, n, e);
}

int
decode_commit(struct decode *d, const char *lsn, size_t len)
{
	struct lib_err e;

	if (lsn != NULL) {
		jbuf_reset(&d->out);
		jbuf_puts(&d->out, "{\"type\":\"STATE\",\"value\":"
		    "{\"bookmarks\":{");
		jbuf_str(&d->out, d->opts.bookmark, strlen(d->opts.bookmark));
		jbuf_puts(&d->out, ":{\"lsn\":");
		jbuf_str(&d->out, lsn, len);
		jbuf_puts(&d->out, "}}}}\n");
		if (put_out(d) == -1)
			return -1;
	}
	if (txn_write(&d->txn, out_cli, d->cli, &e) == -1) {
		cli_error(d->cli, e.code, "%s", e.msg);
		return -1;
	}
	d->txns++;
	return 0;
}

int
decode_loaded(const struct decode *d, uint64_t lsn)
{
	return d->have_committed && lsn <= d->committed;
}

/*
 * I, U, D or T into the transaction, its lsn read already (has_lsn: 1,
 * or 0 when it has none); 0, or -1 with e set.
 */
static int
change(struct decode *d, const struct event *ev, char action, int has_lsn,
    uint64_t lsn, struct lib_err *e)
{
	const struct jval *table = ev->table, *cols = ev->columns;
	const struct jval *ident = ev->identity, *pk = ev->pk;

	if (table == NULL || table->type != JV_STRING)
		return liberr_set(e, EX_DATAERR, "a change without a table");
	if (pk != NULL && pk->type != JV_ARRAY)
		pk = NULL;
	stream_name(d, ev->schema, table);
	d->changes++;
	d->txn.changes++;
	jbuf_reset(&d->out);
	switch (action) {
	case 'I':
	case 'U':
		if (cols == NULL || cols->type != JV_ARRAY)
			return liberr_set(e, EX_DATAERR, "an insert or update "
			    "without columns");
		/* Without include-pk, an update's identity names the key. */
		if (schema_if_new(d, cols, pk != NULL ? pk : action == 'U' &&
		    ident != NULL && ident->type == JV_ARRAY ? ident : NULL) == -1)
			return -2;
		jbuf_puts(&d->out, "{\"type\":\"RECORD\",\"stream\":");
		jbuf_str(&d->out, d->stream.p, d->stream.len);
		jbuf_puts(&d->out, ",\"record\":{");
		if (members(d, cols, e) == -1)
			return -1;
		jbuf_putc(&d->out, '}');
		break;
	case 'D':
		if (ident == NULL || ident->type != JV_ARRAY ||
		    ident->child == NULL)
			return liberr_set(e, EX_DATAERR, "a delete without "
			    "identity: the table has no primary key or "
			    "replica identity");
		if (!known_stream(d) && schema_if_new(d, ident, pk != NULL ?
		    pk : ident) == -1)
			return -2;
		jbuf_puts(&d->out, "{\"type\":\"RECORD\",\"stream\":");
		jbuf_str(&d->out, d->stream.p, d->stream.len);
		jbuf_puts(&d->out, ",\"record\":{");
		if (members(d, ident, e) == -1)
			return -1;
		jbuf_puts(&d->out, ",\"_sluice_deleted\":true}");
		break;
	case 'T':
		if (!has_lsn)
			return liberr_set(e, EX_DATAERR, "a TRUNCATE without "
			    "its lsn (wal2json: -o include-lsn=1)");
		jbuf_puts(&d->out, "{\"type\":\"ACTIVATE_VERSION\",\"stream\":");
		jbuf_str(&d->out, d->stream.p, d->stream.len);
		decode_version(d, lsn);
		jbuf_puts(&d->out, "}\n");
		return put_out(d) == -1 ? -2 : 0;
	default:
		return liberr_set(e, EX_DATAERR, "unknown action \"%c\"",
		    action);
	}
	if (has_lsn)
		decode_version(d, lsn);
	jbuf_puts(&d->out, "}\n");
	return put_out(d) == -1 ? -2 : 0;
}

static int
wal2json_line(struct decode *d, struct cli_line *l)
{
	const struct jval *action, *lsnv;
	struct event ev;
	struct lib_err e;
	uint64_t lsn = 0;
	int rc, has_lsn;
	char a;

	event_members(l->msg.root, &ev);
	action = ev.action;
	lsnv = ev.lsn;
	if (action == NULL || action->type != JV_STRING || action->len != 1)
		return cli_reject(d->cli, l, "not a wal2json change (format "
		    "version 2): no action");
	a = action->str[0];
	if ((has_lsn = event_lsn(lsnv, &lsn)) == -1)
		return cli_reject(d->cli, l, "an lsn that is no LSN");
	switch (a) {
	case 'B':
		if (d->in_txn) {
			cli_warn_at(d->cli, l, "a BEGIN inside the transaction "
			    "begun at line %lu: that one is dropped, cut short",
			    d->begin_line);
			txn_drop(&d->txn);
		}
		d->in_txn = 1;
		d->begin_line = l->lineno;
		/* A BEGIN names its transaction's commit position. */
		d->skipping = has_lsn && decode_loaded(d, lsn);
		return 0;
	case 'C':
		if (!d->in_txn)
			return cli_reject(d->cli, l, "a COMMIT without its "
			    "BEGIN");
		d->in_txn = 0;
		if (!has_lsn || d->skipping || decode_loaded(d, lsn)) {
			if (d->skipping || decode_loaded(d, lsn))
				d->skipped++;
			txn_drop(&d->txn);
			d->skipping = 0;
			if (!has_lsn)
				return cli_reject(d->cli, l, "a COMMIT without "
				    "its lsn: no bookmark (wal2json: -o "
				    "include-lsn=1)");
			return 0;
		}
		return decode_commit(d, lsnv->str, lsnv->len);
	case 'M':
		return 0;	/* a logical decoding message: not a change */
	default:
		break;
	}
	if (d->in_txn && d->skipping)
		return 0;
	/* Without include-transaction, each change commits alone. */
	if (!d->in_txn && has_lsn && decode_loaded(d, lsn)) {
		d->skipped++;
		return 0;
	}
	if ((rc = change(d, &ev, a, has_lsn, lsn, &e)) == -2)
		return -1;
	if (rc == -1) {
		if (!d->in_txn)
			txn_drop(&d->txn);
		return cli_reject(d->cli, l, e.msg);
	}
	if (!d->in_txn) {
		if (!has_lsn) {
			txn_drop(&d->txn);
			return cli_reject(d->cli, l, "a change outside a "
			    "transaction without its lsn: no bookmark "
			    "(wal2json: -o include-lsn=1)");
		}
		return decode_commit(d, lsnv->str, lsnv->len);
	}
	return 0;
}

int
decode_line(struct decode *d, struct cli_line *l)
{
	if (d->opts.format == DECODE_DEBEZIUM)
		return debezium_line(d, l);
	return wal2json_line(d, l);
}

int
decode_finish(struct decode *d)
{
	if (d->opts.format == DECODE_DEBEZIUM)
		return debezium_finish(d);
	if (d->in_txn && !d->skipping && !d->cli->quiet)
		cli_error(d->cli, 0, "the input ended inside the transaction "
		    "begun at line %lu: none of it written (%lu changes); "
		    "it is read again from its BEGIN next time",
		    d->begin_line, d->txn.changes);
	txn_drop(&d->txn);
	d->in_txn = 0;
	return 0;
}

void
decode_stats(const struct decode *d, char *buf, size_t size)
{
	(void)snprintf(buf, size, "\"transactions\":%lu,\"skipped\":%lu,"
	    "\"changes\":%lu", d->txns, d->skipped, d->changes);
}
