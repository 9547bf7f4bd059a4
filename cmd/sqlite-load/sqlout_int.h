/*
 * Inside sqlite-load's SQLite destination: what sqlout.c (tables and
 * the load's bookkeeping) and sqlmerge.c (the dispositions that
 * change stored rows: merge, tombstones, SCD2) share.  The two files are
 * one module and call each other only through this header, as SQLite's
 * files do through sqliteInt.h; main.c sees sqlout.h alone.
 */
#ifndef SQLOUT_INT_H
#define SQLOUT_INT_H

#include <sys/types.h>

#include <sqlite3.h>

#include "jbuf.h"
#include "jval.h"
#include "liberr.h"
#include "schema.h"
#include "sqlout.h"
#include "strmap.h"

/* What sqlite-load knows of one table during a load. */
struct table {
	size_t		 ncols_db;	/* columns that exist in SQLite */
	int		 exists;
	int		 keyed;		/* the merge key's unique index exists */
	int		 schema_keys;	/* a SCHEMA's key_properties name the key */
	/* Column names folded to ASCII lower case, as SQLite compares them. */
	struct strmap	 folded;
	size_t		 nfolded;	/* the columns folded so far */
	unsigned long	 synced;	/* schema version the SQL matches */
	sqlite3_stmt	*insert;
	sqlite3_stmt	*update;
	size_t		 stmt_ncols;	/* columns the statements cover */
	size_t		*update_cols;	/* the column of each UPDATE parameter */
	size_t		 update_nparams;
	int		 same_order;	/* SQL columns in the schema's order */
	long		 load_id_col;	/* _sluice_load_id's column, or -1 */
	unsigned long	 load_id_version; /* the schema version it was found in */
	long		*keycols;	/* column index of each key */
	const struct jval **vals;	/* the current row, by column */
	size_t		 valscap;
	unsigned long	 inserted, updated, deleted;
	unsigned long	 unchanged;	/* merged rows equal to the stored ones */
	sqlite3_stmt	*hash_get;	/* the stored _sluice_row_hash of a key */
	/* This load's records with and without a Singer version. */
	unsigned long	 versioned, unversioned;
	/* A root table's rows own the rows of its child tables. */
	sqlite3_stmt	*old_id;	/* the _sluice_id of the row a key names */
	sqlite3_stmt	*del_root;	/* as a child: delete by _sluice_root_id */
	size_t		*children;	/* child tables, as indexes in o->set */
	size_t		 nchildren;
	unsigned long	 children_gen;	/* o->ddl_gen when they were found */
	/* Tombstones and SCD2 (sqlmerge.c). */
	sqlite3_stmt	*del_key;	/* delete the row a key names */
	int		 scd2;		/* versioned: a root table in scd2 mode */
	int		 scd2_known;	/* scd2 was decided for this load */
	long		 scd2_cols[3];	/* valid_from, valid_to, row_hash */
	sqlite3_stmt	*current;	/* rowid, hash of a key's current version */
	sqlite3_stmt	*retire;	/* set valid_to of a rowid */
	sqlite3_stmt	*relink;	/* set _sluice_id of a rowid */
	sqlite3_stmt	*seen;		/* note a rowid as seen by this load */
	struct jval	 scd2_vals[2];	/* the load's time, the row's hash */
	char		 hash_text[33];
};

struct sqlout {
	sqlite3			*db;
	struct sqlout_opts	 opts;
	int			 in_txn;
	char			 started_at[40];
	struct schema_set	 set;
	struct schema_changes	 changes;
	struct jbuf		 sql;
	struct jbuf		 tmp;
	long long		 state_rowid;	/* this load's state row, or 0 */
	unsigned long		 ddl_gen;	/* bumped by every CREATE TABLE */
	/* opts.atomic_records: a savepoint a record, and what to restore. */
	sqlite3_stmt		*sp_begin, *sp_release, *sp_rollback;
	struct schema_mark	 mark;
	/*
	 * The _sluice_id of each rejected record, in a temporary table: a
	 * child row whose parent was rejected is rejected with it.
	 */
	sqlite3_stmt		*rej_add, *rej_find;
	unsigned long		 nrejected;
	/* Objects that repeat a member: the last of each is the value. */
	unsigned long		 dup_members;	/* earlier ones left out */
	struct jval		 load_id_val;	/* opts.load_id, for _sluice_load_id */
	/*
	 * Records of a table that does not exist yet, held so that it is
	 * created once with all their columns: SQLite reads the whole schema
	 * again after each ALTER TABLE, so adding columns one record at a
	 * time would cost the square of their number.
	 */
	struct deferred		*deferred;
	size_t			 ndeferred, deferredcap, deferred_bytes;
	const char		*file;		/* where the current message is */
	unsigned long		 lineno;
	/*
	 * The database file did not exist before this load: a load that
	 * does not commit removes it again, not leaving an empty database.
	 */
	char			*created;	/* its path, or NULL */
	int			 is_file;	/* not :memory: nor temporary */
	dev_t			 dev;		/* the file it opened */
	ino_t			 ino;
	/* A deferred record whose write failed: where it was. */
	const char		*err_file;
	unsigned long		 err_lineno;
	/*
	 * Merge: a root record and the child rows that follow it, held until
	 * the next root, then written only when their hash differs from the
	 * one stored with the row (sqlout.c, "Unchanged rows").
	 */
	struct held_record	*group;
	size_t			 ngroup, groupcap, group_bytes;
	struct jbuf		 group_hash;
};

/* A record held back with its place, a copy of its own. */
struct held_record {
	struct schema_table	*t;
	struct jval		*record, *version;
	const char		*file;
	unsigned long		 lineno;
	size_t			 size;
	struct jval		 hash;		/* a root's _sluice_row_hash */
	char			 hash_text[33];
};

int	sqlout_fail(struct sqlout *, int rc, const char *what, struct lib_err *);
int	sqlout_exec(struct sqlout *, const char *sql, struct lib_err *);
int	sqlout_prepare(struct sqlout *, const char *sql, sqlite3_stmt **,
	    struct lib_err *);
/* Step a statement that returns no row, and reset it. */
int	sqlout_step(struct sqlout *, sqlite3_stmt *, const char *what,
	    struct lib_err *);
/* A quoted identifier: "a""b". */
void	sqlout_ident(struct jbuf *, const char *, size_t);
struct table *sqlout_tinfo(struct schema_table *);
/* Bind the current row's values (ti->vals), parameter ?N for column N-1. */
int	sqlout_bind_row(struct sqlout *, struct schema_table *, sqlite3_stmt *,
	    struct lib_err *);
/* CREATE [UNIQUE] INDEX IF NOT EXISTS "T<suffix>"; an SQLite code. */
int	sqlout_create_index(struct sqlout *, const struct schema_table *,
	    const char *suffix, int unique, const char *const *cols,
	    size_t ncols);
struct schema_table *sqlout_table_for(struct sqlout *, const char *stream,
	    size_t len, struct lib_err *);

/* sqlmerge.c */
/*
 * The hash of a held root record with its child rows, as 32 hex digits
 * into out: each row canonical (members sorted, sluice's own and nulls
 * left out) after its table's name and before its Singer version, in the
 * order they came.
 */
void	sqlmerge_group_hash(struct sqlout *, const struct held_record *,
	    size_t n, struct jbuf *out);
/*
 * The child tables of t in the database (T__... with _sluice_root_id), as
 * n NUL-terminated names one after the other in names.
 */
int	sqlmerge_child_names(struct sqlout *, const struct schema_table *,
	    struct jbuf *names, size_t *n, struct lib_err *);
/* " WHERE k1=?i AND k2=?j" for the key columns, appended to b. */
void	sqlmerge_key_where(const struct schema_table *, struct jbuf *b);
/* Merge: a root row about to be replaced loses its stored child rows. */
int	sqlmerge_replace_children(struct sqlout *, struct schema_table *,
	    struct lib_err *);
/* 1 if the record is a tombstone: "_sluice_deleted": true. */
int	sqlmerge_is_tombstone(const struct jval *record);
/* A tombstone, its key values in ti->vals: delete (merge) or retire (SCD2). */
int	sqlmerge_delete(struct sqlout *, struct schema_table *, struct lib_err *);
/* SCD2: the table gets its validity columns; 1 if it is versioned. */
int	sqlmerge_scd2_columns(struct sqlout *, struct schema_table *,
	    struct lib_err *);
/* SCD2: the record in ti->vals becomes the current version if it changed. */
int	sqlmerge_scd2_write(struct sqlout *, struct schema_table *,
	    const struct jval *record, struct lib_err *);
/* SCD2 --scd2-retire-absent, at commit: retire what the load did not see. */
int	sqlmerge_scd2_retire_absent(struct sqlout *, struct lib_err *);
void	sqlmerge_finalize(struct table *);

#endif
