/*
 * Change events into sluice messages, a source transaction at a time:
 * its changes are held (txn.h) until its commit, then written whole and
 * followed by a STATE whose bookmark is the commit's position, which
 * sqlite-load commits with the rows.  A transaction at or before the
 * bookmark the destination holds is read and dropped: replaying a spool,
 * or a slot that sends again, loads nothing twice.
 *
 * For each source table, a stream (the table's name; schema__table with
 * qualify); a SCHEMA before its first change and whenever its columns
 * change, with the primary key as key_properties; a RECORD for an insert
 * or an update (the new row), a tombstone for a delete (the key and
 * "_sluice_deleted": true), an ACTIVATE_VERSION for a TRUNCATE.  Each
 * RECORD carries the change's position as its version, so that the
 * ACTIVATE_VERSION of a TRUNCATE removes exactly the rows before it.
 */
#ifndef DECODE_H
#define DECODE_H

#include <stdint.h>

#include "cli.h"
#include "jbuf.h"
#include "strmap.h"
#include "txn.h"

enum decode_format { DECODE_WAL2JSON, DECODE_DEBEZIUM };

struct decode_opts {
	enum decode_format format;
	int		 qualify;	/* streams as schema__table */
	const char	*bookmark;	/* the STATE's bookmarks.NAME */
	size_t		 memory;	/* a transaction held in memory at most */
	const char	*keys;		/* Debezium: -k, the key columns */
};

struct decode {
	struct cli	*cli;
	struct decode_opts opts;
	struct txn	 txn;
	int		 in_txn;	/* a BEGIN was read, its COMMIT not yet */
	int		 skipping;	/* that transaction was loaded already */
	unsigned long	 begin_line;
	uint64_t	 committed;	/* the destination's bookmark */
	int		 have_committed;
	struct strmap	 streams;	/* name: index in sigs */
	char		**sigs;		/* each stream's last SCHEMA, as text */
	struct jbuf	*shapes;	/* wal2json: the columns' shape behind it */
	size_t		 nsigs;
	char		**keys;		/* Debezium: -k split */
	size_t		 nkeys;
	/* Debezium: the transaction being held, by id and position. */
	struct jbuf	 txid;
	struct jbuf	 position;	/* its bookmark value, as JSON */
	uint64_t	 position_lsn;
	int		 has_lsn;
	/* Scratch. */
	struct jbuf	 out;
	struct jbuf	 stream;
	struct jbuf	 sig;
	struct jbuf	 props;
	struct jbuf	 keyprops;
	struct jbuf	 shape;
	/* Counts for --stats. */
	unsigned long	 txns;		/* written */
	unsigned long	 skipped;	/* already loaded */
	unsigned long	 changes;
};

void	decode_init(struct decode *, struct cli *, const struct decode_opts *);
void	decode_free(struct decode *);
/*
 * --state-from DB, or --state FILE (in_file): the bookmark the destination
 * committed.  0, or -1 after saying why (a database or file that cannot be
 * read, a bookmark that is no LSN).
 */
int	decode_state_from(struct decode *, const char *from, int in_file);
/* One input line: 0, or -1 to stop (said already). */
int	decode_line(struct decode *, struct cli_line *);
/* The end of the input: a transaction still open is dropped, said so. */
int	decode_finish(struct decode *);
/* "\"transactions\":N,..." for --stats. */
void	decode_stats(const struct decode *, char *buf, size_t size);

/* "16/B374D848" as a number; -1 when it is not an LSN. */
int	decode_lsn(const char *s, size_t n, uint64_t *out);

#endif
