/*
 * Inside pg-load's PostgreSQL dialect: what pgout.c (the connection, the
 * tables, the bookkeeping) and pgrows.c (rows: COPY, the merge's staging
 * and its set operations) share.
 */
#ifndef PGOUT_INT_H
#define PGOUT_INT_H

#include <libpq-fe.h>

#include "load_int.h"
#include "pgout.h"

/* The connection: l->conn. */
struct pgout {
	PGconn		*pg;
	struct jbuf	 schema;	/* the dataset, quoted: "public" */
	/* This load's state, merged so far, and its row (0: none yet). */
	struct jbuf	 state;
	long long	 state_id;
	unsigned long	 seq;		/* staged rows so far */
	unsigned long	 group;		/* the seq of the last staged root */
	unsigned long	 nstages;	/* staging tables made */
	int		 flush_each;	/* a record at a time (savepoints) */
	int		 in_savepoint;
	/* The COPY open, of the table's rows so far (NULL: none). */
	struct schema_table *copying;
	int		 copy_staged;	/* into its staging table */
	size_t		 copy_ncols;
	size_t		 copy_rows;	/* sent in it */
	int		 rejects;	/* the rejected ids' table exists */
};

/* A table's rows on their way: ti->dd. */
struct pgout_table {
	struct jbuf	 copy;		/* COPY text not sent yet */
	size_t		 nrows;
	size_t		 nsent;		/* rows sent in the open COPY */
	size_t		 ncols;		/* columns the buffered rows have */
	int		 root, child;	/* load_is_root; has _sluice_root_id */
	const char	**files;	/* where each row sent in the open
					   COPY and each buffered row came from */
	unsigned long	*lines;
	size_t		 linecap;
	int		 staged;	/* merge: rows go to the staging table */
	int		 stage_made;
	int		 stage_in_sp;	/* made in the record's savepoint */
	char		 stage[40];	/* its name, pg_temp's */
	int		 pending;	/* staged rows not applied yet */
	int		 locked;	/* this load holds the table's lock */
};

struct pgout *pgout_conn(const struct loader *);
struct pgout_table *pgout_rows(struct schema_table *);
/*
 * Run sql with n text parameters (NULL: SQL NULL): the result, or NULL
 * with e set (the exit status from the SQLSTATE).  PQclear it.
 */
PGresult *pgout_exec(struct loader *, const char *sql, int n,
	    const char *const *params, const char *what, struct lib_err *);
/* As pgout_exec for a command: 0, or -1. */
int	pgout_command(struct loader *, const char *sql, int n,
	    const char *const *params, const char *what, struct lib_err *);
/* The failure of res (or of the connection) into e: -1. */
int	pgout_fail(struct loader *, PGresult *res, const char *what,
	    struct lib_err *);
/* "dataset"."name" appended to b. */
void	pgout_qname(const struct loader *, struct jbuf *b, const char *name,
	    size_t len);

/* Run l->sql with n parameters: the rows it changed into *changed. */
int	pgout_exec_count(struct loader *, int n, const char *const *params,
	    const char *what, unsigned long *changed, struct lib_err *);

/* pgrows.c */
/* --scd2-retire-absent, at the commit: the versions the load did not see end. */
int	pgrows_scd2_retire_absent(struct loader *, struct lib_err *);
int	pgrows_insert(struct loader *, struct schema_table *, struct lib_err *);
int	pgrows_upsert(struct loader *, struct schema_table *, struct lib_err *);
int	pgrows_delete_key(struct loader *, struct schema_table *,
	    struct lib_err *);
/* Every buffered row sent and every staged one applied. */
int	pgrows_flush(struct loader *, struct lib_err *);
/* The open COPY ends: 0, or -1 with the first row it refused. */
int	pgrows_copy_end(struct loader *, struct lib_err *);
/* t's buffered rows sent (to its table or its staging table). */
int	pgrows_send(struct loader *, struct schema_table *, struct lib_err *);
/* The record's savepoint ends: released, or rolled back with what it made. */
void	pgrows_savepoint_end(struct loader *, int rolled_back);
void	pgrows_free(struct pgout_table *);

#endif
