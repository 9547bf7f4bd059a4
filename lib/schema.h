/*
 * The schema model shared by schema-infer and sqlite-load: streams made of
 * typed, nullable columns, inferred from JSON values, widened as data
 * evolves, with variant columns for values no widening can hold, and
 * written and read as Singer SCHEMA messages (JSON Schema).
 */
#ifndef SCHEMA_H
#define SCHEMA_H

#include <stddef.h>

#include "jbuf.h"
#include "jval.h"
#include "keytab.h"
#include "liberr.h"

enum stype {
	ST_NONE,	/* only nulls seen: no type yet */
	ST_BIGINT, ST_DOUBLE, ST_BOOL, ST_TEXT, ST_TIMESTAMP, ST_DATE, ST_JSON,
	/*
	 * Exact numbers as their decimal text: integers beyond 64 bits, and
	 * whatever number a column of them receives later.
	 */
	ST_DECIMAL
};

/* SQLite allows 2000 columns a table by default; so do we. */
#define SCHEMA_MAX_COLUMNS	2000
#define SCHEMA_MAX_TABLES	10000

struct schema_column {
	char		*name;		/* NUL-terminated copy */
	size_t		 namelen;
	enum stype	 type;
	int		 nullable;
	unsigned long	 seen;		/* the record that last had it */
};

struct schema_table {
	char		*name;		/* the stream */
	size_t		 namelen;
	struct schema_column *cols;	/* in first-seen order */
	size_t		 ncols;
	size_t		 capcols;
	struct keytab	 index;		/* columns by name */
	char		**keys;		/* key_properties */
	size_t		 nkeys;
	unsigned long	 records;	/* records observed */
	int		 seeded;	/* had a schema before its first record */
	unsigned long	 version;	/* bumped by every change */
	size_t		 cursor;	/* the column the next member likely is */
	void		*user;		/* the owner's per-table data */
};

enum schema_change_kind {
	SC_NEW_TABLE, SC_NEW_COLUMN, SC_WIDEN, SC_NULLABLE, SC_VARIANT
};

struct schema_change {
	enum schema_change_kind	 kind;
	size_t			 col;		/* unused for SC_NEW_TABLE */
	enum stype		 from;
	enum stype		 to;
};

struct schema_changes {
	struct schema_change	*v;
	size_t			 n;
	size_t			 cap;
};

struct schema_opts {
	int	detect;		/* recognise timestamps and dates in strings */
	int	conflict_fail;	/* a type conflict is an error, not a variant */
};

/* A set of tables by stream name. */
struct schema_set {
	struct schema_table **tables;
	size_t		 n;
	size_t		 cap;
	struct keytab	 index;		/* tables by name */
};

const char	*schema_type_name(enum stype);
/*
 * The logical type of a column an SQL table declares (DECIMAL TEXT,
 * INTEGER, TIMESTAMP, ...), as sqlite-load declares them and SQLite's
 * affinity rules read others; text for none.
 */
enum stype	 schema_type_of_decl(const char *decl);
/* The type a JSON value suggests; ST_NONE for null. */
enum stype	 schema_value_type(const struct jval *, int detect);

/* The table of a stream, created empty when create is set (else NULL). */
struct schema_table *schema_set_get(struct schema_set *, const char *name,
		    size_t len, int create, struct lib_err *);
void		 schema_set_free(struct schema_set *);	/* frees the tables */

struct schema_table *schema_table_new(const char *name, size_t len);
void		 schema_table_free(struct schema_table *);
/* Replace key_properties with the comma-separated list (or NULL: none). */
void		 schema_table_set_keys_csv(struct schema_table *, const char *);
/* -1 if absent. */
long		 schema_table_find(const struct schema_table *, const char *,
		    size_t);
/*
 * Add a column of a known type (from an existing table); no change
 * recorded.  Its index, or -1 with e set (too many columns).
 */
long		 schema_table_add(struct schema_table *, const char *, size_t,
		    enum stype, int nullable, struct lib_err *);

void		 schema_changes_free(struct schema_changes *);

/*
 * What a record can change in a table, taken before it and put back if
 * the record is rejected, so that a rejected record leaves no trace:
 * columns it added go, types and nullability return.  The version is
 * bumped on restore, so that whoever follows it sees a change.
 */
struct schema_mark {
	size_t		 ncols;
	unsigned long	 records;
	size_t		 cursor;
	struct schema_column *cols;	/* copies; names are not owned */
	size_t		 cap;
};
void		 schema_mark_take(const struct schema_table *,
		    struct schema_mark *);
void		 schema_mark_restore(struct schema_table *,
		    const struct schema_mark *);
void		 schema_mark_free(struct schema_mark *);

/*
 * Observing records: call record_begin, observe for each member, then
 * record_end.  observe sets *col to the index of the column the value
 * belongs in (the member's own column, or its variant column on a type
 * conflict), or to SCHEMA_NO_COLUMN when the value is null and the column
 * has no type yet (nothing to store), and returns 0; or it returns -1
 * with e set (EX_DATAERR: conflict under conflict_fail, too many
 * columns).  Changes are appended to ch.
 */
#define SCHEMA_NO_COLUMN	(-1L)
void		 schema_record_begin(struct schema_table *);
int		 schema_observe(struct schema_table *, const char *name,
		    size_t len, const struct jval *value,
		    const struct schema_opts *, struct schema_changes *ch,
		    long *col, struct lib_err *);
void		 schema_record_end(struct schema_table *, struct schema_changes *);

/*
 * Merge a Singer SCHEMA message's schema and key_properties (either may be
 * NULL) into t.  Declared columns are added or widened; a declared type
 * that conflicts with a known one is ignored (values then go to variants),
 * and so is a declared variant column COL__v_TYPE whose base column COL
 * takes values of TYPE: no value would ever go to it.
 */
int		 schema_apply_json(struct schema_table *, const struct jval *schema,
		    const struct jval *keys, struct schema_changes *ch,
		    struct lib_err *);

/* The SCHEMA message for t, on one line without the newline. */
void		 schema_write_message(const struct schema_table *, struct jbuf *);
/* The "schema" object alone. */
void		 schema_write_json(const struct schema_table *, struct jbuf *);
/* A 64-bit FNV-1a hash of bytes, for schema versions. */
unsigned long long schema_hash(const char *, size_t);

/* One change as an event line {"stream","column","change","from","to","line"}. */
void		 schema_change_event(const struct schema_table *,
		    const struct schema_change *, unsigned long line,
		    struct jbuf *);
/* The same with a last member "load_id" when load_id is not NULL. */
void		 schema_change_event_load(const struct schema_table *,
		    const struct schema_change *, unsigned long line,
		    const char *load_id, struct jbuf *);
/* One change in words, for a notice: "new column \"c\" (text)". */
void		 schema_change_describe(const struct schema_table *,
		    const struct schema_change *, struct jbuf *);

#endif
