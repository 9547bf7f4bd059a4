/*
 * The SQLite destination of sqlite-load: tables created and evolved from
 * the schema model, records written in one transaction per load (append,
 * replace or merge), and the load's bookkeeping (_sluice_loads,
 * _sluice_state, _sluice_schemas) in that same transaction.
 */
#ifndef SQLOUT_H
#define SQLOUT_H

#include "jbuf.h"
#include "jval.h"
#include "liberr.h"
#include "schema.h"

/*
 * SQLOUT_KEYED, the default, is merge for a stream with a key and append
 * for one without, as a Singer target loads.
 */
enum sqlout_mode {
	SQLOUT_KEYED, SQLOUT_APPEND, SQLOUT_REPLACE, SQLOUT_MERGE, SQLOUT_SCD2
};

struct sqlout_opts {
	enum sqlout_mode mode;
	const char	*keys;		/* -k: comma-separated; the key of the
					   streams whose SCHEMA names none */
	const char	*load_id;
	int		 busy_timeout_ms;
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

struct sqlout;

/*
 * Open or create the database and begin the load's transaction.  Errors:
 * EX_CANTCREAT (cannot open or create), EX_TEMPFAIL (locked past the busy
 * timeout).  *out is NULL on failure.
 */
int	sqlout_open(struct sqlout **out, const char *path,
	    const struct sqlout_opts *, struct lib_err *);

/*
 * Apply a SCHEMA message to the stream's table (create or add columns).
 * A table created with all its key columns known gets the key as its
 * PRIMARY KEY (NOT NULL).  A stream named _sluice_* or sqlite_* (any
 * case), or differing only in case from another table, is EX_DATAERR.
 */
int	sqlout_schema(struct sqlout *, const char *stream, size_t len,
	    const struct jval *schema, const struct jval *key_properties,
	    struct lib_err *);

/*
 * Load one record into the stream's table.  version, when not NULL, is a
 * Singer RECORD's version, stored in _sluice_version.  EX_DATAERR errors
 * concern this record alone (a type conflict under conflict_fail, a key
 * without a value, a constraint): the caller may skip it and go on, and
 * with opts.atomic_records the record has then changed nothing.
 */
int	sqlout_record(struct sqlout *, const char *stream, size_t len,
	    const struct jval *record, const struct jval *version,
	    struct lib_err *);

/*
 * Where the next message comes from.  A table's first records may be held
 * back and written later (sqlout_flush, and any other message does it):
 * when such a write fails, sqlout_error_origin gives 1 and that record's
 * place.
 */
void	sqlout_origin(struct sqlout *, const char *file, unsigned long lineno);
int	sqlout_error_origin(const struct sqlout *, const char **file,
	    unsigned long *lineno);
/* Write the records held back. */
int	sqlout_flush(struct sqlout *, struct lib_err *);

/*
 * ACTIVATE_VERSION: the rows of older versions are deleted, or marked in
 * _sluice_deleted_at (opts.soft_activate).  Rows without a version are
 * older only in a stream whose records carry versions and when none of
 * this load's records lacked one; else they stay, and *kept says how
 * many.  A stream without a table gets none.
 */
int	sqlout_activate_version(struct sqlout *, const char *stream, size_t len,
	    const struct jval *version, unsigned long *kept, struct lib_err *);

/* Merge a STATE value into the stored state (RFC 7396 merge patch). */
int	sqlout_state(struct sqlout *, const struct jval *value, struct lib_err *);

/* Record the load and commit.  A summary of what was written goes to b. */
/*
 * What the load did to each table so far, as _sluice_loads.tables holds
 * it: {"T":{"inserted":N,"updated":N,"unchanged":N,"deleted":N},...}
 * (o may be NULL: {}).
 */
void	sqlout_tables_json(const struct sqlout *, struct jbuf *);
int	sqlout_commit(struct sqlout *, struct jbuf *summary, struct lib_err *);
/*
 * Members left out because a later member of the same record had the same
 * name (the last one wins, sluice(5)).
 */
/*
 * After a commit, the next load in the same connection (a micro-batch of
 * a stream): a new transaction under load_id (kept by the caller), the
 * counts from zero.  0, or -1 with e set (a load id used before).
 */
int	sqlout_next_load(struct sqlout *, const char *load_id, struct lib_err *);
unsigned long sqlout_duplicate_members(const struct sqlout *);
/* Roll back (if a transaction is open) and close.  NULL is a no-op. */
void	sqlout_close(struct sqlout *);

#endif
