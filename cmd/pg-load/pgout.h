/*
 * The PostgreSQL dialect of the loader core (lib/load.h), on libpq: rows
 * streamed with COPY, merges staged and applied as set operations, the
 * bookkeeping in the dataset's schema.
 */
#ifndef PGOUT_H
#define PGOUT_H

#include "jbuf.h"
#include "liberr.h"
#include "load.h"

extern const struct load_dialect pgout_dialect;

/*
 * The stored state at a dotted path, read in a connection of its own:
 * *found is 0 when the dataset, the state or the path does not exist.
 */
int	pgout_state_get(const char *conninfo, const char *dataset,
	    const char *dotted, struct jbuf *out, int *found, struct lib_err *);

/*
 * The connection string as messages show it: the password, if one is
 * there, left out.
 */
void	pgout_redact(const char *conninfo, struct jbuf *out);

/* A password written in the connection string blanked out, in place. */
void	pgout_scrub(char *conninfo);

#endif
