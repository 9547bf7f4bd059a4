/*
 * Sorted runs on disk and their k-way merge, for dedup-merge's bounded
 * memory.  A run is a file of records written in the order the caller
 * sorted them; the merge reads every run at once through small buffers
 * and hands back the records in the caller's order.
 *
 * Every temporary file is unlinked as soon as it is created and used
 * through its descriptor only: whatever way the program ends, even by
 * SIGKILL, the kernel frees the space and nothing is left in the
 * directory.
 */
#ifndef SPILL_H
#define SPILL_H

#include <stddef.h>
#include <stdint.h>

#include "liberr.h"

/*
 * One held record: a header and its bytes (key, value, line) right after
 * it.  cap is the room for bytes after the header, for the caller's use
 * in memory; the merge gives records whose cap is their size.
 */
struct spill_rec {
	uint64_t	 seq;		/* input sequence number of this version */
	uint64_t	 first;		/* of the key's first appearance */
	uint32_t	 stream;
	uint32_t	 keylen;
	uint32_t	 vallen;
	uint32_t	 linelen;
	uint32_t	 cap;
	uint32_t	 flags;
};

#define SPILL_KEY(r)	((const char *)((r) + 1))
#define SPILL_VAL(r)	(SPILL_KEY(r) + (r)->keylen)
#define SPILL_LINE(r)	(SPILL_VAL(r) + (r)->vallen)
/* The same, to write into a record that is not const. */
#define SPILL_KEYW(r)	((char *)((r) + 1))
#define SPILL_VALW(r)	(SPILL_KEYW(r) + (r)->keylen)
#define SPILL_LINEW(r)	(SPILL_VALW(r) + (r)->vallen)
#define SPILL_SIZE(r)	((size_t)(r)->keylen + (r)->vallen + (r)->linelen)

/* The most read buffer a run gets in a merge. */
#define SPILL_MAX_BUF	((size_t)1 << 20)

struct spill;

/*
 * A set of runs in the directory tmpdir, ordered by cmp.  NULL with e set
 * (EX_OSERR) when out of memory.
 */
struct spill *spill_new(const char *tmpdir,
	    int (*cmp)(const struct spill_rec *, const struct spill_rec *),
	    struct lib_err *e);
/* Close and free every run.  NULL is a no-op. */
void	spill_free(struct spill *);

/*
 * Write the n records of v, already sorted by cmp, as a new run.  -1 with
 * e set (EX_CANTCREAT when no file can be created in tmpdir, EX_IOERR on
 * a write error such as a full disk).
 */
int	spill_run(struct spill *, struct spill_rec *const *v, size_t n,
	    struct lib_err *e);
size_t	spill_nruns(const struct spill *);
/* Bytes written to runs so far. */
unsigned long long spill_bytes(const struct spill *);

/*
 * Begin merging, with about bufbytes of read buffers in all.  With too
 * many runs to read at once, merges groups of them into longer runs
 * first.  No run can be added after this.
 */
int	spill_merge_start(struct spill *, size_t bufbytes, struct lib_err *e);
/*
 * The next record in cmp order into *out, valid until the next call:
 * 1, 0 at the end, -1 with e set on a read error.
 */
int	spill_merge_next(struct spill *, const struct spill_rec **out,
	    struct lib_err *e);

/* An unlinked temporary file in dir, open for reading and writing; -1 with e set. */
int	spill_tmpfd(const char *dir, struct lib_err *e);

#endif
