/*
 * The schema-infer filter: watch records go by, keep each stream's schema
 * (lib/schema.h), and insert a Singer SCHEMA message before a stream's
 * first record and before any record that changes its schema.  Records
 * and other messages pass through unchanged; bare records are wrapped as
 * RECORD messages of the default stream.  Under a data contract
 * (contract.h), a record that would change the baseline's schema fails
 * the run, is dropped, or loses the members that would change it.
 */
#ifndef INFER_H
#define INFER_H

#include <stdio.h>

#include "cli.h"
#include "contract.h"
#include "schema.h"

struct infer_opts {
	const char		*keys;		/* -k: key_properties to announce */
	int			 final;		/* only the final schemas, at the end */
	struct schema_opts	 schema;
	const char		*events_path;	/* --events, or NULL */
	struct sidefile		 events;	/* open when events_path is set */
	const char		*load_id;	/* in every event */
	struct contract		 contract;	/* --contract */
};

struct infer {
	struct cli		*cli;
	struct infer_opts	 opts;
	int			 binds;		/* the contract is not all evolve */
	struct schema_set	 set;
	struct schema_changes	 changes;
	struct schema_mark	 mark;		/* the schema before this record */
	unsigned long		 mark_version;	/* its version */
	size_t			*first_change;	/* per member: its changes from */
	unsigned char		*dropped;	/* per member: discard_value'd */
	size_t			 nmembers_cap;
	unsigned long		 discarded_rows;
	unsigned long		 discarded_values;
	struct jbuf		 buf;
	struct jbuf		 why;		/* a contract's reason */
	struct jbuf		 dropped_why;	/* each dropped value's, NUL-ended */
};

void	infer_init(struct infer *, struct cli *, const struct infer_opts *);
/* Seed the streams with the SCHEMA messages of a file (--schema). */
int	infer_seed_file(struct infer *, char *path);
/* Seed the streams with the tables of a sluice database (--schema-from). */
int	infer_seed_db(struct infer *, const char *path);
/* One input line; 0 to go on, -1 to stop (the cli's status says why). */
int	infer_line(struct infer *, struct cli_line *);
/* At the end: with opts.final, one SCHEMA message per stream. */
int	infer_finish(struct infer *);
void	infer_free(struct infer *);

#endif
