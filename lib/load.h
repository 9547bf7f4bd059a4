/*
 * The loader core that sqlite-load and pg-load share: a load planned once
 * (streams to tables, schema evolution, the modes, child tables, tombstones,
 * unchanged rows, state and bookkeeping, the counts) and written through a
 * dialect, the SQL and the transport of one database (load_int.h).  One
 * load is one transaction; the bookkeeping (_sluice_loads, _sluice_state,
 * _sluice_schemas) is written in it.
 */
#ifndef LOAD_H
#define LOAD_H

#include "jbuf.h"
#include "jval.h"
#include "liberr.h"
#include "schema.h"

/*
 * LOAD_KEYED, the default, is merge for a stream with a key and append
 * for one without, as a Singer target loads.
 */
enum load_mode {
	LOAD_KEYED, LOAD_APPEND, LOAD_REPLACE, LOAD_MERGE, LOAD_SCD2
};

struct load_opts {
	enum load_mode	 mode;
	const char	*keys;		/* -k: comma-separated; the key of the
					   streams whose SCHEMA names none */
	const char	*load_id;
	int		 busy_timeout_ms;	/* SQLite: wait for the lock */
	const char	*dataset;	/* PostgreSQL: the schema loaded into */
	int		 scd2_retire_absent;	/* a full snapshot: absent keys end */
	int		 soft_activate;	/* ACTIVATE_VERSION marks, not deletes */
	/*
	 * A rejected record is skipped and the load goes on (--on-error
	 * skip or quarantine): each record runs in a SAVEPOINT so that one
	 * that fails leaves no trace.  Off, a failure ends the load anyway.
	 */
	int		 atomic_records;
	struct schema_opts infer;	/* for records that come without a schema */
};

struct loader;
struct load_dialect;

/*
 * Open or create the destination and begin the load's transaction.
 * Errors: EX_CANTCREAT (cannot open or create), EX_TEMPFAIL (locked past
 * the busy timeout, a server that cannot be reached), EX_USAGE (a load id
 * used before).  *out is NULL on failure.
 */
int	load_open(struct loader **out, const struct load_dialect *,
	    const char *target, const struct load_opts *, struct lib_err *);

/*
 * Apply a SCHEMA message to the stream's table (create or add columns).
 * A table created with all its key columns known gets the key as its
 * PRIMARY KEY (NOT NULL).  A stream named _sluice_* or with the
 * database's own prefix (any case) is EX_DATAERR.
 */
int	load_schema(struct loader *, const char *stream, size_t len,
	    const struct jval *schema, const struct jval *key_properties,
	    struct lib_err *);

/*
 * Load one record into the stream's table.  version, when not NULL, is a
 * Singer RECORD's version, stored in _sluice_version.  EX_DATAERR errors
 * concern this record alone (a type conflict under conflict_fail, a key
 * without a value, a constraint): the caller may skip it and go on, and
 * with opts.atomic_records the record has then changed nothing.
 */
int	load_record(struct loader *, const char *stream, size_t len,
	    const struct jval *record, const struct jval *version,
	    struct lib_err *);

/*
 * Where the next message comes from.  A table's first records may be held
 * back and written later (load_flush, and any other message does it):
 * when such a write fails, load_error_origin gives 1 and that record's
 * place.
 */
void	load_origin(struct loader *, const char *file, unsigned long lineno);
int	load_error_origin(const struct loader *, const char **file,
	    unsigned long *lineno);
/* Write the records held back. */
int	load_flush(struct loader *, struct lib_err *);

/*
 * ACTIVATE_VERSION: the rows of older versions are deleted, or marked in
 * _sluice_deleted_at (opts.soft_activate).  Rows without a version are
 * older only in a stream whose records carry versions and when none of
 * this load's records lacked one; else they stay, and *kept says how
 * many.  A stream without a table gets none.
 */
int	load_activate_version(struct loader *, const char *stream, size_t len,
	    const struct jval *version, unsigned long *kept, struct lib_err *);

/* Merge a STATE value into the stored state (RFC 7396 merge patch). */
int	load_state(struct loader *, const struct jval *value, struct lib_err *);

/*
 * What the load did to each table so far, as _sluice_loads.tables holds
 * it: {"T":{"inserted":N,"updated":N,"unchanged":N,"deleted":N},...}
 * (the loader may be NULL: {}).
 */
void	load_tables_json(const struct loader *, struct jbuf *);
/* Record the load and commit.  A summary of what was written goes to b. */
int	load_commit(struct loader *, struct jbuf *summary, struct lib_err *);
/*
 * After a commit, the next load in the same connection (a micro-batch of
 * a stream): a new transaction under load_id (kept by the caller), the
 * counts from zero.  0, or -1 with e set (a load id used before).
 */
int	load_next_load(struct loader *, const char *load_id, struct lib_err *);
/*
 * Members left out because a later member of the same record had the same
 * name (the last one wins, sluice(5)).
 */
unsigned long load_duplicate_members(const struct loader *);
/* Roll back (if a transaction is open) and close.  NULL is a no-op. */
void	load_close(struct loader *);

#endif
