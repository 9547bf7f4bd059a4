/*
 * The input lines of a program, read and parsed ahead by worker threads.
 *
 * Parsing JSON is most of a filter's work, and a pipeline stage has the
 * rest of its own to do (inference, SQLite): workers take batches of whole
 * lines from the inputs in turn, parse them into documents, and the
 * program takes them back strictly in input order.  Memory stays bounded:
 * a fixed number of batches, each about LINES_BATCH_BYTES of text (or one
 * longer line), whatever the input size.
 */
#ifndef LINES_H
#define LINES_H

#include <stddef.h>

#include "jval.h"
#include "liberr.h"

#define LINES_BATCH_BYTES	((size_t)512 * 1024)
/*
 * keep_depth for a program that parses its lines itself: they are split
 * and checked as lines, not parsed, and come as LINES_DOC without a root.
 */
#define LINES_UNPARSED	(-2)

struct lines_opts {
	char		**files;	/* none means stdin; "-" is stdin */
	int		 nfiles;
	size_t		 max_line;
	int		 keep_depth;	/* as for jval_parse, or LINES_UNPARSED */
	int		 workers;	/* parsing threads, at least 1 */
	volatile int	*stop;		/* set by a signal handler, or NULL */
};

enum lines_kind {
	LINES_DOC,	/* a parsed line */
	LINES_BAD,	/* a line that is bad data: text, code and msg */
	LINES_FATAL,	/* input cannot go on: code and msg */
	LINES_END
};

struct lines_item {
	enum lines_kind	 kind;
	const char	*file;		/* "stdin" or the path */
	unsigned long	 lineno;
	const char	*text;		/* without "\r\n"; valid until the next call */
	size_t		 len;
	const struct jval *root;	/* LINES_DOC; NULL when LINES_UNPARSED */
	int		 code;		/* LINES_BAD, LINES_FATAL: an EX_* status */
	const char	*msg;
	unsigned long long bytes;	/* input bytes read so far, about */
	int		 paused;	/* the input paused after this line */
};

struct lines;

/* NULL with e set when threads or memory cannot be had. */
struct lines	*lines_new(const struct lines_opts *, struct lib_err *e);
/* The next item in input order; LINES_END (again and again) at the end. */
void		 lines_next(struct lines *, struct lines_item *);
/* Stop the workers and free everything.  NULL is a no-op. */
void		 lines_free(struct lines *);

#endif
