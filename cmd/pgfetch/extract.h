/*
 * Records out of a byte stream in one of the file formats pgfetch reads:
 * JSON Lines, a JSON document whose array of records is streamed (as
 * Python's ijson does: a 2 GB array is never held whole), or CSV through
 * libcsv.  Bytes go in by extract_feed in chunks of any size; each record
 * comes out as one line of compact JSON, numbers exactly as written.
 */
#ifndef EXTRACT_H
#define EXTRACT_H

#include <stddef.h>

#include "liberr.h"

enum extract_format { EXTRACT_AUTO, EXTRACT_JSONL, EXTRACT_JSON, EXTRACT_CSV };

/*
 * The callbacks are the program's.  A record: its JSON text and the line
 * it started on.  0 go on; 1 stop, as a success (enough records: nothing
 * more is read); -1 stop, failed, with e set (a write error), which
 * extract_feed or extract_finish then returns as it is.
 */
typedef int (*extract_record_fn)(void *arg, const char *json, size_t len,
    unsigned long line, struct lib_err *e);
/*
 * A record that cannot be had (why says why): 0 to go on without it, -1
 * to stop with e set (--on-error fail: "FILE:LINE: why").
 */
typedef int (*extract_bad_fn)(void *arg, const char *text, size_t len,
    unsigned long line, const char *why, struct lib_err *e);

struct extract_opts {
	const char	*name;		/* the input, for messages; NULL: "-" */
	enum extract_format format;	/* AUTO: by the first byte */
	const char	*records;	/* json: dotted path of the array, or NULL */
	char		 delimiter;	/* csv */
	int		 header;	/* csv: the first row names the fields */
	int		 csv_types;	/* csv: numbers, booleans and nulls */
	size_t		 max_record;	/* bytes of one record (or line) */
	extract_record_fn record;
	extract_bad_fn	 bad;
	/*
	 * The input paused (a pipe whose writer waits): the records so far
	 * should go on downstream now.  0, or -1 with e set; may be NULL.
	 * Called by source_fd, between reads.
	 */
	int		(*paused)(void *arg, struct lib_err *e);
	void		*arg;
};

struct extract;

/*
 * A function here returns 0, or -1 with e set, whose message is whole:
 * "NAME:LINE: why" for bad data (EX_DATAERR).  extract_feed and
 * extract_finish also return 1 when a record callback said stop (1):
 * nothing more is read, and that is no failure.
 */

/* NULL with e set: EX_USAGE for a bad records path (as extract_path_check). */
struct extract	*extract_new(const struct extract_opts *, struct lib_err *e);
void		 extract_free(struct extract *);

/*
 * Whether records (".data.items") is a dotted path of member names: 0, or
 * -1 with e set (EX_USAGE, "'PATH': not a path"; the caller names its
 * option).
 */
int	extract_path_check(const char *records, struct lib_err *e);

/*
 * Feed the next bytes: 0, 1 when a callback said stop, or -1 with e set
 * when the stream cannot go on (malformed JSON or CSV: EX_DATAERR) or a
 * callback failed (its e).
 */
int	extract_feed(struct extract *, const char *, size_t, struct lib_err *e);
/* The end of the stream, as extract_feed: a truncated document is bad. */
int	extract_finish(struct extract *, struct lib_err *e);

/*
 * 1 if an object member of this name holds the records when no path is
 * given: data, items, results or records (an API's envelope).
 */
int	extract_envelope(const char *key, size_t n);

/* The format a file name implies (".gz" aside), or EXTRACT_AUTO. */
enum extract_format extract_format_of(const char *name);

#endif
