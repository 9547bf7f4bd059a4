/*
 * One source transaction's output, held until its commit: in memory up to
 * a cap, then in an unlinked temporary file, so that a transaction of ten
 * million rows neither fills memory nor reaches the loader in part.
 */
#ifndef TXN_H
#define TXN_H

#include <stdio.h>

#include "jbuf.h"
#include "liberr.h"

struct txn {
	struct jbuf	 mem;
	size_t		 cap;		/* bytes held in memory at most */
	FILE		*spill;		/* past cap, or NULL */
	unsigned long long bytes;	/* all of it, held and spilled */
	unsigned long	 changes;
};

/* The transaction's writer: 0, or -1 with e set. */
typedef int (*txn_out_fn)(void *arg, const char *p, size_t n,
    struct lib_err *e);

void	txn_init(struct txn *, size_t cap);
/* Append n bytes: 0, or -1 with e set (the spill file cannot be written). */
int	txn_put(struct txn *, const char *p, size_t n, struct lib_err *e);
/* Every byte put, in order, to out; then the transaction is empty. */
int	txn_write(struct txn *, txn_out_fn out, void *arg, struct lib_err *e);
/* Forget what was put (a transaction already loaded, or cut short). */
void	txn_drop(struct txn *);
void	txn_free(struct txn *);

#endif
