/*
 * A fast reader of the plain JSON that wal2json writes: no whitespace, no
 * escapes, UTF-8 strings, little nesting.  Such a line becomes the very
 * tree jval_parse would make of it (the same nodes, members, names and
 * flags), in a node array reused from line to line, without yajl and its
 * callbacks: most of cdc-decode's work was parsing.  Any other line, bad
 * JSON included, is left to jval_parse (scan_line returns NULL), so that
 * what is accepted, and every message about what is not, stays jval's.
 */
#ifndef SCAN_H
#define SCAN_H

#include <stddef.h>

#include "jval.h"

struct scan {
	struct jval	*nodes;
	size_t		 n;
	size_t		 cap;
	size_t		 max_nodes;	/* what jval_parse surely has room for */
};

/* arena_limit: that of the jval_parser the other lines go to. */
void	scan_init(struct scan *, size_t arena_limit);
void	scan_free(struct scan *);

/*
 * The tree of the n bytes at text, valid until the next call (its strings
 * point into text); NULL when the line is not plain JSON of that kind.
 */
const struct jval *scan_line(struct scan *, const char *text, size_t n);

#endif
