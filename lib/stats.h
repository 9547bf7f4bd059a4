/*
 * Counters every program keeps, the --stats JSON summary, and the progress
 * line shown on a terminal.
 */
#ifndef STATS_H
#define STATS_H

#include <stdio.h>

#include "jbuf.h"
#include "liberr.h"
#include "sidefile.h"

struct stats {
	const char	*program;
	unsigned long	 lines;		/* non-blank lines read */
	unsigned long	 records;
	unsigned long	 messages;	/* other than RECORD */
	unsigned long	 errors;	/* rejected lines */
	unsigned long long bytes;	/* bytes read */
	double		 started;	/* monotonic seconds */
	double		 last_progress;
	FILE		*progress;	/* where progress goes, or NULL */
};

void	stats_init(struct stats *, const char *program, FILE *progress);
/* Every few thousand lines, redraw the progress line if one is wanted. */
void	stats_tick(struct stats *);
/* Clear the progress line before other output on the terminal. */
void	stats_progress_done(struct stats *);
/*
 * Write the summary to the side file that --stats opened (sidefile_open,
 * SIDEFILE_REPLACE, before the run) and close it, which puts the whole
 * file in place at once: the counters, seconds, and extra (a string of
 * further "key":value members, or NULL).  -1 with e set.
 */
int	stats_write(const struct stats *, struct sidefile *, const char *extra,
	    struct lib_err *);

#endif
