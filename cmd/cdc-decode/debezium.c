/*
 * Debezium's change events, as a Kafka consumer such as kcat writes them:
 * {"before","after","op","source",...}, bare or in Kafka Connect's
 * {"schema","payload"} envelope, whose field schemas give the columns'
 * types (exact decimals, dates and timestamps as numbers since the epoch).
 *
 * Debezium events carry no commit: the events of one source transaction
 * (source.txId, or the transaction block's id) are held until the next
 * transaction begins or the input ends, then written with the STATE of
 * the last one's source.lsn, the PostgreSQL connector's position.  Events
 * without a position are written without a STATE, and --state-from cannot
 * skip them.
 */
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clocks.h"
#include "decode_int.h"
#include "exitcodes.h"
#include "pgtype.h"

#define DBZ "io.debezium."
#define KC "org.apache.kafka.connect.data."

/* The field schema named name among fields (an array), or NULL. */
static const struct jval *
field_of(const struct jval *fields, const char *name, size_t len)
{
	const struct jval *f, *n;

	for (f = fields != NULL ? fields->child : NULL; f != NULL; f = f->next) {
		n = jval_get(f, "field");
		if (n != NULL && n->type == JV_STRING && n->len == len &&
		    memcmp(n->str, name, len) == 0)
			return f;
	}
	return NULL;
}

/* Whether the field's logical name is one of the names given. */
static int
logical(const struct jval *field, const char *a, const char *b)
{
	const struct jval *n = field != NULL ? jval_get(field, "name") : NULL;

	return n != NULL && n->type == JV_STRING &&
	    (jval_streq(n, a) || (b != NULL && jval_streq(n, b)));
}

static int
is_decimal(const struct jval *f)
{
	return logical(f, KC "Decimal", DBZ "data.VariableScaleDecimal");
}

static int
is_date(const struct jval *f)
{
	return logical(f, DBZ "time.Date", KC "Date");
}

/* The divisor of an epoch timestamp's number: 0 when it is none. */
static long long
timestamp_unit(const struct jval *f)
{
	if (logical(f, DBZ "time.Timestamp", KC "Timestamp"))
		return 1000;
	if (logical(f, DBZ "time.MicroTimestamp", NULL))
		return 1000000;
	if (logical(f, DBZ "time.NanoTimestamp", NULL))
		return 1000000000;
	return 0;
}

/* The column's kind, by its field schema's logical name, then its type. */
static enum pgkind
kind_of(const struct jval *f)
{
	const struct jval *type = f != NULL ? jval_get(f, "type") : NULL;

	if (is_decimal(f))
		return PG_NUMERIC;
	if (is_date(f))
		return PG_DATE;
	if (timestamp_unit(f) != 0 ||
	    logical(f, DBZ "time.ZonedTimestamp", NULL))
		return PG_TIMESTAMPTZ;
	if (logical(f, DBZ "data.Json", NULL) || type == NULL ||
	    type->type != JV_STRING)
		return PG_JSON;
	if (jval_streq(type, "int8") || jval_streq(type, "int16") ||
	    jval_streq(type, "int32") || jval_streq(type, "int64"))
		return PG_INT;
	if (jval_streq(type, "float32") || jval_streq(type, "float64") ||
	    jval_streq(type, "double") || jval_streq(type, "float"))
		return PG_FLOAT;
	if (jval_streq(type, "boolean"))
		return PG_BOOL;
	if (jval_streq(type, "string") || jval_streq(type, "bytes"))
		return PG_TEXT;
	return PG_JSON;		/* array, map, struct */
}

static void
property(const struct jval *f, struct jbuf *b)
{
	pgtype_schema(kind_of(f), b);
}

static int
date_value(long long days, struct jbuf *b)
{
	char out[32];
	long long y;
	int m, d;

	clocks_civil_from_days(days, &y, &m, &d);
	if (y < 1 || y > 9999)
		return -1;
	(void)snprintf(out, sizeof(out), "\"%04lld-%02d-%02d\"", y, m, d);
	jbuf_puts(b, out);
	return 0;
}

/* n units of 1/unit second since the epoch, as ISO 8601 UTC. */
static int
timestamp_value(long long n, long long unit, struct jbuf *b)
{
	long long secs = n / unit, frac = n % unit, days, rem, y;
	int m, d, digits = unit == 1000 ? 3 : unit == 1000000 ? 6 : 9;
	char out[64];

	if (frac < 0) {
		frac += unit;
		secs--;
	}
	days = secs / 86400;
	rem = secs % 86400;
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	clocks_civil_from_days(days, &y, &m, &d);
	if (y < 1 || y > 9999)
		return -1;
	(void)snprintf(out, sizeof(out), "\"%04lld-%02d-%02dT%02d:%02d:%02d.%0*lldZ\"",
	    y, m, d, (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60),
	    digits, frac);
	jbuf_puts(b, out);
	return 0;
}

/*
 * Kafka Connect's Decimal: the unscaled value as big-endian two's
 * complement bytes in base64, and its scale: exact decimal text.
 */
static int
decimal_value(const char *b64, size_t len, long long scale, struct jbuf *b)
{
	unsigned char bin[256], digits[700];
	size_t n, i, nd = 0, start;
	int neg, rem, carry, nonzero;

	if (scale < 0 || scale > 600 || sodium_base642bin(bin, sizeof(bin),
	    b64, len, NULL, &n, NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
		return -1;
	neg = n > 0 && (bin[0] & 0x80);
	if (neg) {
		/* The magnitude: invert and add one. */
		for (carry = 1, i = n; i-- > 0;) {
			bin[i] = (unsigned char)~bin[i];
			if (carry && ++bin[i] != 0)
				carry = 0;
		}
	}
	/* Divide by ten until nothing is left: the digits, last first. */
	start = 0;
	do {
		rem = 0;
		nonzero = 0;
		for (i = start; i < n; i++) {
			int cur = rem * 256 + bin[i];

			bin[i] = (unsigned char)(cur / 10);
			rem = cur % 10;
			if (bin[i] != 0)
				nonzero = 1;
		}
		if (nd == sizeof(digits))
			return -1;
		digits[nd++] = (unsigned char)('0' + rem);
		while (start < n && bin[start] == 0)
			start++;
	} while (nonzero);
	while (nd <= (size_t)scale) {
		if (nd == sizeof(digits))
			return -1;
		digits[nd++] = '0';
	}
	if (neg)
		jbuf_putc(b, '-');
	for (i = nd; i-- > 0;) {
		jbuf_putc(b, (char)digits[i]);
		if (i == (size_t)scale && scale > 0)
			jbuf_putc(b, '.');
	}
	return 0;
}

static int
bad(struct lib_err *e, const char *what, const struct jval *f)
{
	const struct jval *n = f != NULL ? jval_get(f, "field") : NULL;

	if (n != NULL && n->type == JV_STRING)
		return liberr_set(e, EX_DATAERR, "column %.*s: not a %s value",
		    (int)n->len, n->str, what);
	return liberr_set(e, EX_DATAERR, "not a %s value", what);
}

/* A value by its field schema f (NULL: as it is). */
static int
value(const struct jval *f, const struct jval *v, struct jbuf *b,
    struct lib_err *e)
{
	const struct jval *params, *scale, *num;
	long long n = 0, s = 0, unit;

	if (v->type == JV_NULL) {
		jbuf_puts(b, "null");
		return 0;
	}
	if (is_decimal(f)) {
		if (v->type == JV_OBJECT) {	/* VariableScaleDecimal */
			scale = jval_get(v, "scale");
			num = jval_get(v, "value");
		} else {
			params = jval_get(f, "parameters");
			scale = params != NULL ? jval_get(params, "scale") : NULL;
			num = v;
		}
		/* decimal.handling.mode=string or double: as it is. */
		if (num != NULL && num->type != JV_STRING) {
			jval_write(b, num);
			return 0;
		}
		if (scale != NULL && scale->type == JV_STRING) {
			char tmp[24];

			(void)snprintf(tmp, sizeof(tmp), "%.*s", (int)(scale->len <
			    20 ? scale->len : 20), scale->str);
			s = strtoll(tmp, NULL, 10);
		} else if (scale != NULL && jval_int64(scale, &s) == -1)
			return bad(e, "decimal", f);
		if (num == NULL || decimal_value(num->str, num->len, s, b) == -1)
			return bad(e, "decimal", f);
		return 0;
	}
	if (is_date(f) && v->type == JV_NUMBER) {
		if (jval_int64(v, &n) == -1 || date_value(n, b) == -1)
			return bad(e, "date", f);
		return 0;
	}
	if ((unit = timestamp_unit(f)) != 0 && v->type == JV_NUMBER) {
		if (jval_int64(v, &n) == -1 || timestamp_value(n, unit, b) == -1)
			return bad(e, "timestamp", f);
		return 0;
	}
	if (logical(f, DBZ "time.ZonedTimestamp", NULL) &&
	    v->type == JV_STRING) {
		if (pgtype_timestamp_utc(v->str, v->len, b) == -1)
			return bad(e, "timestamp", f);
		return 0;
	}
	if (logical(f, DBZ "data.Json", NULL) && v->type == JV_STRING)
		return pgtype_value(PG_JSON, PG_JSON, v, b, e) == -1 ?
		    bad(e, "json", f) : 0;
	jval_write(b, v);
	return 0;
}

/* The after (or before) object's field schemas, from the envelope. */
static const struct jval *
row_fields(const struct jval *schema, const char *which)
{
	const struct jval *f;

	if (schema == NULL || schema->type != JV_OBJECT)
		return NULL;
	f = field_of(jval_get(schema, "fields"), which, strlen(which));
	return f != NULL ? jval_get(f, "fields") : NULL;
}

/* The position of an event: source.lsn, the PostgreSQL connector's. */
static int
position(const struct jval *source, uint64_t *lsn)
{
	const struct jval *v = jval_get(source, "lsn");
	long long n;

	if (v == NULL || v->type != JV_NUMBER || !jval_int64(v, &n) ||
	    n < 0)
		return 0;
	*lsn = (uint64_t)n;
	return 1;
}

/* The transaction an event belongs to, as text; empty when none. */
static void
txid_of(const struct jval *ev, const struct jval *source, struct jbuf *out)
{
	const struct jval *t = jval_get(ev, "transaction"), *id = NULL;

	jbuf_reset(out);
	if (t != NULL && t->type == JV_OBJECT)
		id = jval_get(t, "id");
	if (id == NULL || id->type == JV_NULL)
		id = jval_get(source, "txId");
	if (id == NULL || id->type == JV_NULL)
		id = jval_get(source, "gtid");
	if (id != NULL && (id->type == JV_STRING || id->type == JV_NUMBER))
		jbuf_put(out, id->str, id->len);
}

/* The held transaction, written with the STATE of its last position. */
static int
flush(struct decode *d)
{
	char lsn[32];
	int rc;

	if (!d->in_txn)
		return 0;
	d->in_txn = 0;
	if (d->skipping) {
		d->skipping = 0;
		d->skipped++;
		txn_drop(&d->txn);
		return 0;
	}
	if (!d->has_lsn)
		return decode_commit(d, NULL, 0);
	(void)snprintf(lsn, sizeof(lsn), "%" PRIX64 "/%" PRIX64,
	    d->position_lsn >> 32, d->position_lsn & 0xffffffffu);
	rc = decode_commit(d, lsn, strlen(lsn));
	return rc;
}

/* The key's members of row (before or after) into d->out. */
static int
key_members(struct decode *d, const struct jval *row, const struct jval *fields,
    struct lib_err *e)
{
	const struct jval *v;
	size_t i;

	for (i = 0; i < d->nkeys; i++) {
		if ((v = jval_get(row, d->keys[i])) == NULL)
			return liberr_set(e, EX_DATAERR, "a delete whose before "
			    "has no key column %s", d->keys[i]);
		jbuf_str(&d->out, d->keys[i], strlen(d->keys[i]));
		jbuf_putc(&d->out, ':');
		if (value(field_of(fields, d->keys[i], strlen(d->keys[i])), v,
		    &d->out, e) == -1)
			return -1;
		jbuf_putc(&d->out, ',');
	}
	return 0;
}

/* The SCHEMA of a row: its fields' types when the envelope gives them. */
static int
row_schema(struct decode *d, const struct jval *row, const struct jval *fields)
{
	const struct jval *m;
	size_t i;
	int first = 1;

	jbuf_reset(&d->props);
	if (fields != NULL)
		for (m = row->child; m != NULL; m = m->next) {
			if (!first)
				jbuf_putc(&d->props, ',');
			first = 0;
			jbuf_str(&d->props, m->key, m->keylen);
			jbuf_putc(&d->props, ':');
			property(field_of(fields, m->key, m->keylen), &d->props);
		}
	jbuf_reset(&d->keyprops);
	for (i = 0; i < d->nkeys; i++) {
		if (i > 0)
			jbuf_putc(&d->keyprops, ',');
		jbuf_str(&d->keyprops, d->keys[i], strlen(d->keys[i]));
	}
	return decode_schema(d);
}

/* One change into the held transaction: 0, -1 with e set, -2 said. */
static int
change(struct decode *d, const struct jval *ev, const struct jval *schema,
    char op, int has_lsn, uint64_t lsn, struct lib_err *e)
{
	const struct jval *row, *fields, *m;
	int first = 1;

	jbuf_reset(&d->out);
	switch (op) {
	case 'c':
	case 'u':
	case 'r':
		row = jval_get(ev, "after");
		if (row == NULL || row->type != JV_OBJECT)
			return liberr_set(e, EX_DATAERR, "an \"%c\" event "
			    "without after", op);
		fields = row_fields(schema, "after");
		if (row_schema(d, row, fields) == -1)
			return -2;
		jbuf_puts(&d->out, "{\"type\":\"RECORD\",\"stream\":");
		jbuf_str(&d->out, d->stream.p, d->stream.len);
		jbuf_puts(&d->out, ",\"record\":{");
		for (m = row->child; m != NULL; m = m->next) {
			if (!first)
				jbuf_putc(&d->out, ',');
			first = 0;
			jbuf_str(&d->out, m->key, m->keylen);
			jbuf_putc(&d->out, ':');
			if (value(field_of(fields, m->key, m->keylen), m,
			    &d->out, e) == -1)
				return -1;
		}
		jbuf_putc(&d->out, '}');
		break;
	case 'd':
		row = jval_get(ev, "before");
		if (d->nkeys == 0)
			return liberr_set(e, EX_DATAERR, "a delete: name the "
			    "key columns with -k");
		if (row == NULL || row->type != JV_OBJECT)
			return liberr_set(e, EX_DATAERR, "a delete without "
			    "before");
		fields = row_fields(schema, "before");
		if (strmap_get(&d->streams, d->stream.p, d->stream.len) == -1 &&
		    row_schema(d, row, fields) == -1)
			return -2;
		jbuf_puts(&d->out, "{\"type\":\"RECORD\",\"stream\":");
		jbuf_str(&d->out, d->stream.p, d->stream.len);
		jbuf_puts(&d->out, ",\"record\":{");
		if (key_members(d, row, fields, e) == -1)
			return -1;
		jbuf_puts(&d->out, "\"_sluice_deleted\":true}");
		break;
	case 't':
		if (!has_lsn)
			return liberr_set(e, EX_DATAERR, "a truncate without "
			    "source.lsn");
		jbuf_puts(&d->out, "{\"type\":\"ACTIVATE_VERSION\","
		    "\"stream\":");
		jbuf_str(&d->out, d->stream.p, d->stream.len);
		decode_version(d, lsn);
		jbuf_puts(&d->out, "}\n");
		return decode_put(d, d->out.p, d->out.len) == -1 ? -2 : 0;
	default:
		return liberr_set(e, EX_DATAERR, "unknown op \"%c\"", op);
	}
	if (has_lsn)
		decode_version(d, lsn);
	jbuf_puts(&d->out, "}\n");
	return decode_put(d, d->out.p, d->out.len) == -1 ? -2 : 0;
}

int
debezium_line(struct decode *d, struct cli_line *l)
{
	const struct jval *root = l->msg.root, *ev = root, *schema = NULL;
	const struct jval *op, *source, *table, *ns, *payload;
	struct jbuf txid = JBUF_INIT;
	struct lib_err e;
	uint64_t lsn = 0;
	int has_lsn, rc, same;

	payload = jval_get(root, "payload");
	if (payload != NULL && payload->type == JV_OBJECT &&
	    jval_get(root, "schema") != NULL) {
		ev = payload;
		schema = jval_get(root, "schema");
	}
	op = jval_get(ev, "op");
	source = jval_get(ev, "source");
	if (op == NULL || op->type != JV_STRING || op->len != 1 ||
	    source == NULL || source->type != JV_OBJECT)
		return cli_reject(d->cli, l, "not a Debezium change event: no "
		    "op or source");
	if (op->str[0] == 'm')
		return 0;	/* a logical decoding message: no change */
	table = jval_get(source, "table");
	if (table == NULL || table->type != JV_STRING)
		return cli_reject(d->cli, l, "a change event whose source "
		    "names no table");
	has_lsn = position(source, &lsn);
	txid_of(ev, source, &txid);
	/* A new transaction (or none): the one held is over. */
	same = d->in_txn && txid.len > 0 && txid.len == d->txid.len &&
	    memcmp(txid.p, d->txid.p, txid.len) == 0;
	if (!same && flush(d) == -1) {
		jbuf_free(&txid);
		return -1;
	}
	if (!d->in_txn) {
		d->in_txn = 1;
		d->begin_line = l->lineno;
		d->has_lsn = 0;
		d->skipping = has_lsn && decode_loaded(d, lsn);
		jbuf_reset(&d->txid);
		jbuf_put(&d->txid, txid.p, txid.len);
	}
	jbuf_free(&txid);
	if (has_lsn && (!d->has_lsn || lsn > d->position_lsn)) {
		d->position_lsn = lsn;
		d->has_lsn = 1;
	}
	if (has_lsn && decode_loaded(d, lsn))
		return 0;
	d->skipping = 0;
	ns = jval_get(source, "schema");
	if (ns == NULL || ns->type != JV_STRING)
		ns = jval_get(source, "db");
	jbuf_reset(&d->stream);
	if (d->opts.qualify && ns != NULL && ns->type == JV_STRING) {
		jbuf_put(&d->stream, ns->str, ns->len);
		jbuf_puts(&d->stream, "__");
	}
	jbuf_put(&d->stream, table->str, table->len);
	d->changes++;
	d->txn.changes++;
	if ((rc = change(d, ev, schema, op->str[0], has_lsn, lsn, &e)) == -2)
		return -1;
	if (rc == -1)
		return cli_reject(d->cli, l, e.msg);
	/* No transaction id: each event is its own. */
	if (d->txid.len == 0)
		return flush(d);
	return 0;
}

int
debezium_finish(struct decode *d)
{
	/* The events carry no commit: the input's end ends the last one. */
	return flush(d);
}
