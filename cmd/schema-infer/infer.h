/*
 * The schema-infer filter: watch records go by, keep each stream's schema
 * (lib/schema.h), and insert a Singer SCHEMA message before a stream's
 * first record and before any record that changes its schema.  Records
 * and other messages pass through unchanged; bare records are wrapped as
 * RECORD messages of the default stream.
 */
#ifndef INFER_H
#define INFER_H

#include <stdio.h>

#include "cli.h"
#include "schema.h"

struct infer_opts {
	const char		*keys;		/* -k: key_properties to announce */
	int			 final;		/* only the final schemas, at the end */
	struct schema_opts	 schema;
	const char		*events_path;	/* --events, or NULL */
	struct sidefile		 events;	/* open when events_path is set */
};

struct infer {
	struct cli		*cli;
	struct infer_opts	 opts;
	struct schema_set	 set;
	struct schema_changes	 changes;
	struct jbuf		 buf;
};

void	infer_init(struct infer *, struct cli *, const struct infer_opts *);
/* Seed the streams with the SCHEMA messages of a file (--schema). */
int	infer_seed_file(struct infer *, char *path);
/* One input line; 0 to go on, -1 to stop (the cli's status says why). */
int	infer_line(struct infer *, struct cli_line *);
/* At the end: with opts.final, one SCHEMA message per stream. */
int	infer_finish(struct infer *);
void	infer_free(struct infer *);

#endif
