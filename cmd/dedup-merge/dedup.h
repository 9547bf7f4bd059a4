/*
 * The dedup-merge filter: hold the records of every stream by key, keep
 * one version of each (the last, the first, or the greatest --latest-by
 * value), and at the end write the survivors in the order their keys
 * first appeared, each line byte for byte as it was read.  SCHEMA
 * messages pass at once; other messages follow the records.
 *
 * Memory is capped: past the cap the held records are sorted by key and
 * written as a run to a temporary file (spill.h); at the end the runs are
 * merged by key, the survivors sorted back into first-appearance order
 * (spilling again if need be) and written.  The output is the same bytes
 * whatever the cap.
 *
 * With --diff the input is two snapshots, OLD (the lines of the file
 * diff_old) and NEW (the rest): each is deduplicated on its own, and
 * only what changes OLD into NEW is written, in the same order: NEW's
 * record for a key that is new or whose row differs, a tombstone for a
 * key that NEW no longer has, nothing for an unchanged row.
 */
#ifndef DEDUP_H
#define DEDUP_H

#include <stddef.h>

#include "cli.h"
#include "cursor.h"
#include "transform.h"

enum dedup_rule { DEDUP_LAST, DEDUP_FIRST, DEDUP_LATEST };

struct dedup_opts {
	enum dedup_rule	 rule;
	const char	*latest_by;	/* dotted path, for DEDUP_LATEST */
	const char	*keys;		/* -k: comma-separated dotted paths */
	size_t		 memory;	/* bytes held at most, about */
	const char	*tmpdir;
	struct transform *del;		/* --delete-when, or NULL */
	int		 drop_deleted;
	struct cursor	*cursor;	/* --cursor, or NULL */
	enum cursor_missing on_missing;
	/*
	 * --diff: the path of OLD, as given to cli_start (lines are told
	 * apart by this pointer), or NULL.
	 */
	const char	*diff_old;
};

struct dedup;

/* The parse depth the paths of o need (for cli's keep_depth). */
int	dedup_keep_depth(const struct dedup_opts *o);

/* The options are copied; del and cursor stay the caller's. */
struct dedup *dedup_new(struct cli *, const struct dedup_opts *);
void	dedup_free(struct dedup *);

/* One input line; 0 to go on, -1 to stop (the cli's status says why). */
int	dedup_line(struct dedup *, struct cli_line *);
/* After the input: write the survivors, the held messages, the STATE. */
int	dedup_finish(struct dedup *);
/* The --stats members of the run, as "key":value,... into buf. */
void	dedup_stats(const struct dedup *, char *buf, size_t size);

#endif
