/*
 * The NDJSON line reader: one line at a time from a file descriptor, with a
 * buffer that grows to the longest line seen and never past max_line, so
 * memory is bounded whatever the input size.
 *
 * The rules of a line are here once (sluice(5), "Lines"), for this reader
 * and for pgfetch's reader of JSON Lines files, which gets its bytes in
 * chunks (cmd/pgfetch/extract.c):
 *   - a line ends with "\n"; a "\r" before it is dropped; the last line
 *     needs no newline;
 *   - a blank line (empty, or only spaces and tabs) is skipped, and counts
 *     for line numbers;
 *   - a line longer than max_line bytes (its "\r\n" aside) is bad data,
 *     "line longer than N bytes", and its first max_line bytes are what
 *     --on-error keeps; a reader holds at most NDJSON_HELD(max_line) bytes
 *     of a line before its newline comes, one more than that and the line
 *     is too long whatever follows;
 *   - a UTF-8 byte-order mark before the first line is dropped;
 *   - the line is then parsed as one JSON value (jval: invalid UTF-8, a NUL
 *     byte, bad JSON are bad data, with jval's messages), which must be an
 *     object (ndjson_records).
 * One difference is intended: a line holding an array is a list of
 * records for the readers that take lists (pgfetch, jsonl-normalize),
 * and bad data ("not a JSON object") for the others.
 */
#ifndef NDJSON_H
#define NDJSON_H

#include <stddef.h>

#include "jval.h"
#include "liberr.h"

struct ndjson_reader {
	int		 fd;
	const char	*name;		/* for messages: a path or "stdin" */
	char		*buf;
	size_t		 cap;
	size_t		 start;		/* first unread byte */
	size_t		 end;		/* one past the last read byte */
	size_t		 max_line;
	unsigned long	 lineno;	/* of the line last returned */
	unsigned long long bytes;	/* read so far */
	int		 eof;
	int		 discarding;	/* skipping the rest of an overlong line */
	int		(*stop)(void *);	/* asked while waiting for input */
	void		*stop_arg;
};

struct ndjson_line {
	char		*text;		/* not NUL-terminated; valid until the next call */
	size_t		 len;		/* without the "\n" or "\r\n" */
	unsigned long	 lineno;
};

/*
 * fd is not closed by the reader.  While it waits for input, the reader
 * asks stop(stop_arg) every 100 ms and gives up (EX_TEMPFAIL) when it says
 * so; stop may be NULL.
 */
int	ndjson_init(struct ndjson_reader *, int fd, const char *name,
	    size_t max_line, int (*stop)(void *), void *stop_arg,
	    struct lib_err *);
void	ndjson_free(struct ndjson_reader *);

/*
 * The next non-blank line: 1, or 0 at the end of input, or -1 with e set:
 * EX_DATAERR for a line longer than max_line (its first max_line bytes are
 * in *line, and the next call resumes after it), EX_IOERR for a read error.
 */
int	ndjson_next(struct ndjson_reader *, struct ndjson_line *line,
	    struct lib_err *e);

/*
 * 1 when the next ndjson_next would wait for input: no whole line held,
 * and none waiting on fd (a pipe whose writer pauses; a file never does).
 */
int	ndjson_would_wait(const struct ndjson_reader *);

/* The bytes of a line a reader holds at most before its "\n" comes. */
#define NDJSON_HELD(max_line)	((max_line) + 1)

/*
 * One line, text[0..*len) without its "\n", by the rules above: its "\r"
 * dropped from *len, then 1: a line to parse; 0: blank, to skip; -1 with
 * e set (EX_DATAERR) when it is longer than max_line, *len then max_line.
 */
int	ndjson_line(const char *text, size_t *len, size_t max_line,
	    struct lib_err *e);
/* -1 with e set: the message of a line longer than max_line. */
int	ndjson_too_long(size_t max_line, struct lib_err *e);

/*
 * The records a line's value v holds: 0 when v is an object, or an array
 * of objects and arrays is set; else -1 with e set (EX_DATAERR, "not a
 * JSON object" or "an element of the list is not an object").
 */
int	ndjson_records(const struct jval *v, int arrays, struct lib_err *e);

#endif
