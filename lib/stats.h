/*
 * Counters every program keeps, the --stats JSON summary, and the progress
 * line: live on a terminal, or a plain line every few seconds in a log.
 */
#ifndef STATS_H
#define STATS_H

#include <stdio.h>

#include "jbuf.h"
#include "liberr.h"
#include "sidefile.h"

struct stats_progress;

/*
 * The counters are written by the program's one thread that counts, and
 * read by the progress thread: through stats_add and stats_set_bytes, so
 * that each write is whole (a relaxed atomic store: a plain move here).
 */
struct stats {
	const char	*program;
	unsigned long	 lines;		/* non-blank lines read */
	unsigned long	 records;
	unsigned long	 messages;	/* other than RECORD */
	unsigned long	 errors;	/* rejected lines */
	unsigned long long bytes;	/* bytes read */
	double		 started;	/* monotonic seconds */
	struct stats_progress *progress; /* the thread that shows it, or NULL */
};

void	stats_init(struct stats *, const char *program);

static inline void
stats_add(unsigned long *counter, unsigned long n)
{
	__atomic_store_n(counter, *counter + n, __ATOMIC_RELAXED);
}

static inline void
stats_set_bytes(struct stats *s, unsigned long long n)
{
	__atomic_store_n(&s->bytes, n, __ATOMIC_RELAXED);
}

/*
 * Show the progress on `to` from a thread of its own, which takes no
 * signal, so that the line moves on while the program waits for input.
 * live (a terminal): one line redrawn in place every half second from the
 * first half second on, cleared at the end.  Else (a log): a plain line
 * every interval seconds, no escape codes.  0, or -1 with e set when no
 * thread can be had (the caller goes on without progress).
 */
int	stats_progress_start(struct stats *, FILE *to, int live,
	    double interval, struct lib_err *e);
/* The thread ended, a live line cleared.  Nothing when none was started. */
void	stats_progress_stop(struct stats *);
/*
 * Around any other write to `to`: the live line cleared and the thread
 * held until release, so that a message never lands inside the line.
 */
void	stats_progress_hold(struct stats *);
void	stats_progress_release(struct stats *);
/*
 * Write the summary to the side file that --stats opened (sidefile_open,
 * SIDEFILE_REPLACE, before the run) and close it, which puts the whole
 * file in place at once: the counters, seconds, and extra (a string of
 * further "key":value members, or NULL).  -1 with e set.
 */
int	stats_write(const struct stats *, struct sidefile *, const char *extra,
	    struct lib_err *);
/* The summary stats_write writes, with its newline, into out. */
void	stats_json(const struct stats *, const char *extra, struct jbuf *out);

#endif
