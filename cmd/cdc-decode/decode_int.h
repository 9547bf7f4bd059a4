/*
 * What the two readers of change events (wal2json in decode.c, Debezium in
 * debezium.c) share: the held transaction, the SCHEMA of a stream written
 * when it changes, the version of a RECORD, the commit with its STATE.
 * Each returns 0, or -1 after saying why (the run stops).
 */
#ifndef DECODE_INT_H
#define DECODE_INT_H

#include <stdint.h>

#include "decode.h"

/* n bytes into the held transaction. */
int	decode_put(struct decode *, const char *p, size_t n);
/* The SCHEMA of d->stream from d->props and d->keyprops, if it changed. */
int	decode_schema(struct decode *);
/* ,"version":N into d->out. */
void	decode_version(struct decode *, uint64_t position);
/*
 * The held transaction, then the STATE of the position lsn ("0/16B3"); no
 * STATE when lsn is NULL (events that carry no position).
 */
int	decode_commit(struct decode *, const char *lsn, size_t len);
/* Whether the position is at or before the destination's bookmark. */
int	decode_loaded(const struct decode *, uint64_t position);

int	debezium_line(struct decode *, struct cli_line *);
int	debezium_finish(struct decode *);

#endif
