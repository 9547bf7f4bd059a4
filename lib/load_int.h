/*
 * Inside the loader core (load.c) and its dialects (cmd/sqlite-load's
 * sqlout.c and sqlmerge.c, cmd/pg-load's pgout.c): the load's tables, the
 * loader, and the operations a dialect gives.  The core decides what
 * happens to each record; a dialect says it in its SQL.  The programs'
 * front-end sees load.h alone.
 */
#ifndef LOAD_INT_H
#define LOAD_INT_H

#include "jbuf.h"
#include "jval.h"
#include "liberr.h"
#include "load.h"
#include "schema.h"
#include "strmap.h"

/* What the loader knows of one table during a load. */
struct load_table {
	size_t		 ncols_db;	/* columns that exist in the database */
	int		 exists;
	int		 keyed;		/* the merge key's unique index exists */
	int		 schema_keys;	/* a SCHEMA's key_properties name the key */
	/* Column names folded to ASCII lower case (names_fold_case). */
	struct strmap	 folded;
	size_t		 nfolded;	/* the columns checked so far */
	unsigned long	 synced;	/* schema version the SQL matches */
	size_t		 stmt_ncols;	/* columns the dialect's statements
					   cover; 0: none made */
	int		 stmts_keyed;	/* they include the merge's */
	int		 same_order;	/* SQL columns in the schema's order */
	long		 load_id_col;	/* _sluice_load_id's column, or -1 */
	unsigned long	 load_id_version; /* the schema version it was found in */
	long		*keycols;	/* column index of each key */
	const struct jval **vals;	/* the current row, by column */
	size_t		 valscap;
	unsigned long	 inserted, updated, deleted;
	unsigned long	 unchanged;	/* merged rows equal to the stored ones */
	/* This load's records with and without a Singer version. */
	unsigned long	 versioned, unversioned;
	/* A root table's rows own the rows of its child tables. */
	size_t		*children;	/* child tables, as indexes in l->set */
	size_t		 nchildren;
	unsigned long	 children_gen;	/* l->ddl_gen when they were found */
	/* SCD2. */
	int		 scd2;		/* versioned: a root table in scd2 mode */
	int		 scd2_known;	/* scd2 was decided for this load */
	long		 scd2_cols[3];	/* valid_from, valid_to, row_hash */
	struct jval	 scd2_vals[2];	/* the load's time, the row's hash */
	char		 hash_text[33];
	void		*dd;		/* the dialect's own (statements) */
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

struct deferred;

struct loader {
	const struct load_dialect *d;
	void			*conn;		/* the dialect's connection */
	struct load_opts	 opts;
	int			 in_txn;
	char			 started_at[40];
	struct schema_set	 set;
	struct schema_changes	 changes;
	struct jbuf		 sql;
	struct jbuf		 tmp;
	unsigned long		 ddl_gen;	/* bumped by every CREATE TABLE */
	struct schema_mark	 mark;
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
	/* A deferred record whose write failed: where it was. */
	const char		*err_file;
	unsigned long		 err_lineno;
	/*
	 * Merge: a root record and the child rows that follow it, held until
	 * the next root, then written only when their hash differs from the
	 * one stored with the row (load.c, "Unchanged rows").
	 */
	struct held_record	*group;
	size_t			 ngroup, groupcap, group_bytes;
	struct jbuf		 group_hash;
};

/* Which rows of a table an operation names (ACTIVATE_VERSION, replace). */
enum load_rows {
	LOAD_ROWS_ALL,
	LOAD_ROWS_OLDER,		/* _sluice_version below the version */
	LOAD_ROWS_OLDER_OR_NONE,	/* ... or without one */
	LOAD_ROWS_VERSIONED,		/* with a _sluice_version */
	LOAD_ROWS_UNVERSIONED		/* without */
};

enum load_savepoint { LOAD_SP_BEGIN, LOAD_SP_RELEASE, LOAD_SP_ROLLBACK };

/* load_dialect.create_index: the unique index found duplicate keys. */
#define LOAD_DUPLICATES	1

/*
 * A database's SQL and transport.  Each operation returns 0, or -1 with e
 * set, unless it says otherwise; the row operations take the row in
 * ti->vals (by column) and count what they did in the table's counters.
 */
struct load_dialect {
	const char	*name;		/* "SQLite": in messages */
	const char	*reserved_prefix;	/* its own tables: "sqlite_" */
	int		 names_fold_case;	/* "A" and "a" name one table */
	size_t		 max_name;	/* bytes in a name; 0: no limit */

	/* Connect, begin the transaction, make the bookkeeping tables. */
	int	(*open)(struct loader *, const char *target, struct lib_err *);
	int	(*begin)(struct loader *, struct lib_err *);
	/* Whether _sluice_loads has the load id: 1, 0, or -1. */
	int	(*load_known)(struct loader *, const char *load_id,
		    struct lib_err *);
	/* The stream's name is taken by another spelling of it (0 if fine). */
	int	(*name_clash)(struct loader *, const char *stream, size_t len,
		    struct lib_err *);
	/* 1 if the table exists, 0 if not, -1. */
	int	(*table_exists)(struct loader *, const char *name, size_t len,
		    struct lib_err *);
	/* The last schema _sluice_schemas holds for t, into b: 1, 0 none, -1. */
	int	(*stored_schema)(struct loader *, const struct schema_table *,
		    struct jbuf *b, struct lib_err *);
	/* Each column of t's table, in its order: name and declared type. */
	int	(*columns)(struct loader *, const struct schema_table *,
		    int (*each)(void *, const char *, size_t, const char *,
		    struct lib_err *), void *arg, struct lib_err *);
	/* Its PRIMARY KEY columns as "a,b" into csv (empty: none). */
	int	(*primary_key)(struct loader *, const struct schema_table *,
		    struct jbuf *csv, struct lib_err *);
	/* 1 if the PRIMARY KEY is exactly t's key, else 0. */
	int	(*key_is_primary)(struct loader *, const struct schema_table *);
	/* The child tables of t (T__... with _sluice_root_id): n names,
	   each NUL-terminated. */
	int	(*child_names)(struct loader *, const struct schema_table *,
		    struct jbuf *names, size_t *n, struct lib_err *);
	int	(*create_table)(struct loader *, struct schema_table *,
		    int primary_key, struct lib_err *);
	int	(*add_column)(struct loader *, struct schema_table *,
		    size_t col, struct lib_err *);
	/* CREATE [UNIQUE] INDEX "T<suffix>": 0, LOAD_DUPLICATES, or -1. */
	int	(*create_index)(struct loader *, const struct schema_table *,
		    const char *suffix, int unique, const char *const *cols,
		    size_t ncols, struct lib_err *);
	/* Statements for t's current columns (load_merges: the merge's). */
	int	(*prepare)(struct loader *, struct schema_table *,
		    struct lib_err *);
	/* Forget t's statements: its columns changed, or a commit comes. */
	void	(*unprepare)(struct loader *, struct schema_table *);
	/*
	 * Forget all the dialect holds of t: the load committed or ended, or
	 * a record's savepoint rolled back what it made.
	 */
	void	(*forget)(struct loader *, struct schema_table *);

	int	(*insert)(struct loader *, struct schema_table *,
		    struct lib_err *);
	/* Merge: the row replaces the one its key names, child rows too. */
	int	(*upsert)(struct loader *, struct schema_table *,
		    struct lib_err *);
	/* A tombstone, its key in ti->vals: delete (merge) or retire (SCD2). */
	int	(*delete_key)(struct loader *, struct schema_table *,
		    struct lib_err *);
	/* SCD2: the row becomes the key's current version if it changed. */
	int	(*scd2_write)(struct loader *, struct schema_table *,
		    struct lib_err *);
	/* --scd2-retire-absent, at commit. */
	int	(*scd2_retire_absent)(struct loader *, struct lib_err *);
	/*
	 * Whether the stored row of the root's key has this hash: 1 the
	 * same, 0 not (or unknown yet: the dialect compares later), -1.
	 */
	int	(*stored_same)(struct loader *, struct schema_table *,
		    const struct jval *root, const char *hash, struct lib_err *);

	/* Rows of t: counted, deleted (ti->deleted), or marked deleted. */
	int	(*count_rows)(struct loader *, const struct schema_table *,
		    enum load_rows, int unmarked, const struct jval *version,
		    long long *n, struct lib_err *);
	int	(*delete_rows)(struct loader *, struct schema_table *,
		    enum load_rows, const struct jval *version,
		    struct lib_err *);
	/* The rows of child table c whose root is one of t's rows named. */
	int	(*delete_children)(struct loader *, const struct schema_table *t,
		    struct schema_table *c, enum load_rows,
		    const struct jval *version, struct lib_err *);
	int	(*mark_deleted)(struct loader *, struct schema_table *,
		    enum load_rows, const struct jval *version,
		    struct lib_err *);

	int	(*savepoint)(struct loader *, enum load_savepoint,
		    struct lib_err *);
	/* A rejected record's _sluice_id, noted and looked up (1 found). */
	int	(*reject_note)(struct loader *, const struct jval *id,
		    struct lib_err *);
	int	(*reject_find)(struct loader *, const struct jval *id,
		    struct lib_err *);

	/* STATE merged into the load's state row (RFC 7396). */
	int	(*state_merge)(struct loader *, const char *json, size_t len,
		    struct lib_err *);
	int	(*save_schema)(struct loader *, const char *hash,
		    const struct schema_table *, const char *json, size_t len,
		    const char *now, struct lib_err *);
	/* Write what the load holds back (before counts are read). */
	int	(*flush)(struct loader *, struct lib_err *);
	int	(*record_load)(struct loader *, const char *finished,
		    const char *tables, const char *schema_version,
		    struct lib_err *);
	int	(*commit)(struct loader *, struct lib_err *);
	/* Roll back if l->in_txn, undo what open made, disconnect. */
	void	(*close)(struct loader *);
};

struct load_table *load_tinfo(struct schema_table *);
/* The stream's table, attached on first use (load.c). */
struct schema_table *load_table_for(struct loader *, const char *stream,
	    size_t len, struct lib_err *);
/* Whether t's rows are merged on the key (SCD2: its children). */
int	load_merges(const struct loader *, const struct schema_table *);
/* The column of each key in ti->keycols: 0, or -1 if one is not known yet. */
int	load_find_keys(struct schema_table *);
/* 1 if the record is a tombstone: "_sluice_deleted": true. */
int	load_is_tombstone(const struct jval *record);
/* 1 if t is a root table: it has _sluice_id and no _sluice_parent_id. */
int	load_is_root(const struct schema_table *);
/* Find t's child tables into ti->children (cached for l->ddl_gen). */
int	load_find_children(struct loader *, struct schema_table *,
	    struct lib_err *);
/* Whether column col is one of t's key columns. */
int	load_is_key(const struct schema_table *, size_t col);
/*
 * CREATE TABLE qualifier"T" (columns of types[type], the key NOT NULL and
 * the PRIMARY KEY when pk) into b: the dialects' one statement.
 */
void	load_create_table_sql(struct jbuf *b, const char *qualifier,
	    const struct schema_table *, const char *const *types, int pk);
/* CREATE [UNIQUE] INDEX IF NOT EXISTS "name" ON qualifier"T" (cols) into b. */
void	load_create_index_sql(struct jbuf *b, const char *qualifier,
	    const struct schema_table *, const char *name, size_t namelen,
	    int unique, const char *const *cols, size_t ncols);
/* A quoted identifier: "a""b". */
void	load_ident(struct jbuf *, const char *, size_t);

#endif
