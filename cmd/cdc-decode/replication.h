/*
 * A logical replication connection of PostgreSQL's, through libpq: the
 * changes of a slot, decoded by wal2json, as they are committed, and the
 * position the consumer confirms, which the server may then forget.
 * cdc-decode confirms only what the destination has committed, so a
 * crash anywhere loses nothing: the server sends again what was not
 * confirmed, and cdc-decode --state-from drops what was loaded.
 */
#ifndef REPLICATION_H
#define REPLICATION_H

#include <stddef.h>
#include <stdint.h>

#include "liberr.h"

struct repl;

/*
 * Connect to conninfo (a libpq string or URI; the password from
 * PGPASSWORD, ~/.pgpass or a service file) for logical replication, make
 * the slot with wal2json when create is set and it does not exist, and
 * start streaming from it (format version 2, with primary keys and
 * positions).  NULL with e set: EX_TEMPFAIL when the server cannot be
 * reached, EX_NOPERM when it refuses us, EX_DATAERR for another refusal
 * (no such slot, not logical); messages never hold the password.
 */
struct repl	*repl_open(const char *conninfo, const char *slot, int create,
		    struct lib_err *e);
void		 repl_close(struct repl *);

/*
 * The next change event (one line of wal2json's, valid until the next
 * call) within timeout_ms: 1 with *data and *len set, 0 when none came,
 * or -1 with e set (EX_TEMPFAIL: the connection was lost).  *reply is set
 * when the server asks for a status update at once.
 */
int	repl_next(struct repl *, const char **data, size_t *len, int *reply,
	    int timeout_ms, struct lib_err *e);

/*
 * Tell the server that everything up to lsn is stored for good (0: no
 * position yet, only a sign of life).  0, or -1 with e set.
 */
int	repl_confirm(struct repl *, uint64_t lsn, struct lib_err *e);

/* The connection string with its password, if any, masked (to free). */
char	*repl_redact(const char *conninfo);

#endif
