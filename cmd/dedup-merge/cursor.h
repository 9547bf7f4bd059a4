/*
 * The incremental cursor of dedup-merge, like dlt's incremental: drop the
 * records already loaded by an earlier run, by comparing a cursor value
 * of each record (cval.h) with the last value of the stream's bookmark,
 * and at the end make the Singer STATE message that holds the new
 * bookmarks:
 *
 *   {"type":"STATE","value":{"bookmarks":{"S":{"replication_key":"P",
 *    "replication_key_value":V,"sluice_boundary_keys":[K,...]}}}}
 *
 * The boundary keys are the keys of the records loaded at exactly the
 * last value, so that a re-run drops those and keeps a new record that
 * carries the same value.
 */
#ifndef CURSOR_H
#define CURSOR_H

#include <stddef.h>

#include "jbuf.h"
#include "jval.h"
#include "liberr.h"

enum cursor_missing { CURSOR_FAIL, CURSOR_INCLUDE, CURSOR_EXCLUDE };
enum cursor_verdict { CURSOR_KEEP, CURSOR_DROP, CURSOR_MISSING };

struct cursor_opts {
	const char	*path;		/* --cursor: a dotted path */
	const char	*since;		/* --since, or NULL */
	const char	*state_db;	/* --state-from, or NULL */
	long double	 lag;		/* --lag */
	int		 has_lag;
	size_t		 boundary_max;	/* --boundary-max */
};

struct cursor;

struct cursor *cursor_new(const struct cursor_opts *);
void	cursor_free(struct cursor *);

/*
 * Judge one record of stream number i, named by the n bytes at name (its
 * bookmark is read on first use), whose key text is key.  *verdict is
 * CURSOR_MISSING when the record has no cursor value (or null): the
 * caller decides.  -1 with e set when the bookmark cannot be read.
 */
int	cursor_check(struct cursor *, size_t i, const char *name, size_t n,
	    const struct jval *record, const char *key, size_t keylen,
	    enum cursor_verdict *verdict, struct lib_err *e);

/*
 * Append the STATE message, with its newline, to out: a bookmark for
 * every stream judged, or for the stream dflt when there was none.
 * Warnings (too many boundary keys) are appended to warn, one a line.
 */
int	cursor_state(struct cursor *, const char *dflt, struct jbuf *out,
	    struct jbuf *warn, struct lib_err *e);

#endif
