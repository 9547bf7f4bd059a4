/*
 * A file's records, wherever the file is: a descriptor read to its end,
 * or a URL (http, https, sftp, scp) whose body streams in as it arrives.
 * Either way the bytes go through gunzip (gzip undone when the content
 * says so) into the extractor (JSON Lines, a JSON document streamed, CSV),
 * whose callbacks get the records.  Memory stays bounded whatever the
 * file's size.  A URL's bytes are read on a thread of their own (relay.h):
 * its callbacks run on that thread while the transfer goes on.
 */
#ifndef SOURCE_H
#define SOURCE_H

#include "extract.h"
#include "http.h"
#include "jbuf.h"
#include "liberr.h"
#include "stats.h"

/*
 * Read fd (named name in messages) into xo's callbacks, adding the bytes
 * read to stats (on the thread that reads them).  0 at the end, or when a
 * record callback said it has enough; -1 with e set: "name: strerror"
 * (EX_IOERR), "name:LINE: why" for bad data, or a callback's failure as
 * the callback set it.
 */
int	source_fd(const struct extract_opts *xo, int fd, const char *name,
	    struct stats *stats, struct lib_err *e);

/* --parse-thread: whether a body is parsed on a thread of its own. */
enum parse_thread {
	PARSE_THREAD_AUTO,	/* with more than two CPUs online */
	PARSE_THREAD_ALWAYS,
	PARSE_THREAD_NEVER
};

/*
 * The same for the body of url, fetched with h (retries resume where the
 * body was cut), parsed on a thread of its own as when says (relay.c).
 * Messages name the URL redacted.
 */
int	source_url(const struct extract_opts *xo, struct http *h,
	    const char *url, enum parse_thread when, struct stats *stats,
	    struct lib_err *e);

/*
 * The format a URL's path names (its query aside) when it names a file:
 * .jsonl, .ndjson, .csv, .tsv, any of them .gz, and .json.gz; else
 * EXTRACT_AUTO.  A plain .json is an API's page (/issues.json).  The
 * path goes into path.
 */
enum extract_format source_format_of_url(const char *url, struct jbuf *path);

/* The format a file-like Content-Type names (gzip: EXTRACT_AUTO). */
enum extract_format source_format_of_type(const char *content_type);

#endif
