/*
 * pgfetch --checkpoint FILE: where an extraction stood after its last page
 * was written (the next page, offset, cursor or URL), so that a run after
 * a crash goes on from there instead of from the start.  The file is one
 * JSON object, replaced atomically (a temporary file synced, then renamed
 * over it), so a crash leaves the old mark or the new one, never half.
 */
#ifndef CHECKPOINT_H
#define CHECKPOINT_H

#include "jbuf.h"
#include "liberr.h"
#include "paginate.h"

struct checkpoint {
	struct page_mark mark;
	char		*cursor;	/* mark.cursor and mark.next point here */
	char		*next;
};

/*
 * Read path into cp.  0 with *found = 0 when there is no such file; -1
 * with e set when it cannot be read, is not a checkpoint, or was written
 * for another source (EX_USAGE: the user must remove it to start over).
 */
int	checkpoint_load(const char *path, const char *source,
	    struct checkpoint *cp, int *found, struct lib_err *e);
void	checkpoint_free(struct checkpoint *);

/* Replace path with the mark of source.  -1 with e set (EX_CANTCREAT). */
int	checkpoint_save(const char *path, const char *source,
	    const struct page_mark *, struct lib_err *e);

/* The extraction is over: the file goes.  -1 with e set. */
int	checkpoint_remove(const char *path, struct lib_err *e);

#endif
