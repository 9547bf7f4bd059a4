/*
 * The NDJSON line reader: one line at a time from a file descriptor, with a
 * buffer that grows to the longest line seen and never past max_line, so
 * memory is bounded whatever the input size.  "\r\n" is accepted, blank
 * lines are skipped, and a UTF-8 byte-order mark before the first line is
 * dropped.
 */
#ifndef NDJSON_H
#define NDJSON_H

#include <stddef.h>

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

#endif
