/*
 * Inside sqlite-load's SQLite dialect: what sqlout.c (tables, rows and the
 * load's bookkeeping) and sqlmerge.c (the dispositions that change stored
 * rows: merge, tombstones, SCD2) share.  The two files are one module and
 * call each other only through this header, as SQLite's files do through
 * sqliteInt.h.
 */
#ifndef SQLOUT_INT_H
#define SQLOUT_INT_H

#include <sys/types.h>

#include <sqlite3.h>

#include "load_int.h"
#include "sqlout.h"

/* The connection: l->conn. */
struct sqlout {
	sqlite3		*db;
	long long	 state_rowid;	/* this load's state row, or 0 */
	/* opts.atomic_records: a savepoint a record. */
	sqlite3_stmt	*sp[3];		/* by enum load_savepoint */
	/*
	 * The _sluice_id of each rejected record, in a temporary table: a
	 * child row whose parent was rejected is rejected with it.
	 */
	sqlite3_stmt	*rej_add, *rej_find;
	/*
	 * The database file did not exist before this load: a load that
	 * does not commit removes it again, not leaving an empty database.
	 */
	char		*created;	/* its path, or NULL */
	int		 is_file;	/* not :memory: nor temporary */
	dev_t		 dev;		/* the file it opened */
	ino_t		 ino;
};

/* A table's statements: ti->dd. */
struct sqlout_table {
	sqlite3_stmt	*insert;
	sqlite3_stmt	*update;
	size_t		*update_cols;	/* the column of each UPDATE parameter */
	size_t		 update_nparams;
	sqlite3_stmt	*hash_get;	/* the stored _sluice_row_hash of a key */
	sqlite3_stmt	*old_id;	/* the _sluice_id of the row a key names */
	sqlite3_stmt	*del_root;	/* as a child: delete by _sluice_root_id */
	sqlite3_stmt	*del_key;	/* delete the row a key names */
	sqlite3_stmt	*current;	/* rowid, hash of a key's current version */
	sqlite3_stmt	*retire;	/* set valid_to of a rowid */
	sqlite3_stmt	*relink;	/* set _sluice_id of a rowid */
	sqlite3_stmt	*seen;		/* note a rowid as seen by this load */
};

sqlite3	*sqlout_db(const struct loader *);
/* The table's statements, made on first use. */
struct sqlout_table *sqlout_stmts(struct schema_table *);
int	sqlout_fail(const struct loader *, int rc, const char *what,
	    struct lib_err *);
int	sqlout_exec(struct loader *, const char *sql, struct lib_err *);
int	sqlout_prepare(struct loader *, const char *sql, sqlite3_stmt **,
	    struct lib_err *);
/* Step a statement that returns no row, and reset it. */
int	sqlout_step(struct loader *, sqlite3_stmt *, const char *what,
	    struct lib_err *);
/* Bind the current row's values (ti->vals), parameter ?N for column N-1. */
int	sqlout_bind_row(struct loader *, struct schema_table *, sqlite3_stmt *,
	    struct lib_err *);
/* Bind one value as the column's type asks; an SQLite code. */
int	sqlout_bind_value(struct loader *, sqlite3_stmt *, int idx,
	    const struct jval *v, enum stype type);
/* CREATE [UNIQUE] INDEX IF NOT EXISTS "T<suffix>": 0, LOAD_DUPLICATES, -1. */
int	sqlout_create_index(struct loader *, const struct schema_table *,
	    const char *suffix, int unique, const char *const *cols,
	    size_t ncols, struct lib_err *);

/* sqlmerge.c */
int	sqlmerge_child_names(struct loader *, const struct schema_table *,
	    struct jbuf *names, size_t *n, struct lib_err *);
/* " WHERE k1=?i AND k2=?j" for the key columns, appended to b. */
void	sqlmerge_key_where(const struct schema_table *, struct jbuf *b);
int	sqlmerge_upsert(struct loader *, struct schema_table *,
	    struct lib_err *);
int	sqlmerge_stored_same(struct loader *, struct schema_table *,
	    const struct jval *root, const char *hash, struct lib_err *);
int	sqlmerge_delete(struct loader *, struct schema_table *,
	    struct lib_err *);
int	sqlmerge_scd2_write(struct loader *, struct schema_table *,
	    struct lib_err *);
int	sqlmerge_scd2_retire_absent(struct loader *, struct lib_err *);
void	sqlmerge_finalize(struct sqlout_table *);

#endif
