/*
 * PostgreSQL's column types, as wal2json names them, mapped to the types of
 * a sluice SCHEMA, and a value of each as a record holds it: integers and
 * exact decimals keep their text (a numeric is never rounded through a
 * double), timestamps become ISO-8601 UTC, json and jsonb their JSON, and
 * arrays JSON arrays.
 */
#ifndef PGTYPE_H
#define PGTYPE_H

#include "jbuf.h"
#include "jval.h"
#include "liberr.h"

enum pgkind {
	PG_TEXT,	/* text, varchar, char, uuid, and any type not below */
	PG_INT,		/* smallint, integer, bigint, oid */
	PG_NUMERIC,	/* numeric, decimal, money-free exact numbers */
	PG_FLOAT,	/* real, double precision */
	PG_BOOL,
	PG_TIMESTAMPTZ,
	PG_TIMESTAMP,	/* without time zone: taken as UTC */
	PG_DATE,
	PG_JSON,	/* json, jsonb */
	PG_ARRAY	/* any type ending in [] */
};

/* The kind of a type name as wal2json writes it ("numeric(12,2)"). */
enum pgkind	pgtype_kind(const char *name, size_t len);

/* The JSON Schema of a column of that kind, nullable, into b. */
void	pgtype_schema(enum pgkind, struct jbuf *b);

/*
 * The value v (as wal2json wrote it) of a column of that kind (elem: the
 * kind of an array's elements), written to b as the record's value.  0,
 * or -1 with e set (EX_DATAERR) for a value that is not of its type (a
 * timestamp that is no timestamp, an array literal that does not parse);
 * a null is null whatever the kind.
 */
int	pgtype_value(enum pgkind, enum pgkind elem, const struct jval *v,
	    struct jbuf *b, struct lib_err *e);

/* The kind of an array type's elements ("integer[]": PG_INT). */
enum pgkind	pgtype_elem_kind(const char *name, size_t len);

/*
 * "2024-05-01 10:00:00.5+02" (or "T", "Z", "+05:30", no zone) as UTC:
 * "2024-05-01T08:00:00.5Z" into b.  0, or -1 when it is no timestamp.
 */
int	pgtype_timestamp_utc(const char *s, size_t n, struct jbuf *b);

#endif
