/*
 * JSON merge patch (RFC 7396), as SQLite's json_patch() applies it: the
 * loaders merge each STATE into the stored state with it.
 */
#ifndef JPATCH_H
#define JPATCH_H

#include "jbuf.h"
#include "jval.h"

/*
 * The patch applied to target (NULL: none), written to out: an object
 * patch sets its members, removes those it gives as null, and merges
 * objects within; any other patch replaces the target.
 */
void	jpatch_write(struct jbuf *out, const struct jval *target,
	    const struct jval *patch);

#endif
