/*
 * The command-line front shared by every sluice program: the common
 * options, the input loop over FILE... (parse, classify, --on-error), the
 * checked writes to stdout, --stats and signals.  This is the one lib/
 * module that writes to stderr, in the "prog: file:line: what" form, so
 * that every program reports the same way.
 */
#ifndef CLI_H
#define CLI_H

#include <getopt.h>
#include <stddef.h>

#include "jbuf.h"
#include "jval.h"
#include "message.h"
#include "lines.h"
#include "onerror.h"
#include "sidefile.h"
#include "stats.h"

enum {
	CLI_OPT_RAW = 0x100, CLI_OPT_ON_ERROR, CLI_OPT_STATS, CLI_OPT_PROGRESS,
	CLI_OPT_MAX_LINE,
	CLI_OPT_PRIVATE = 0x200		/* programs number their own from here */
};

#define CLI_SHORTOPTS	"t:qhV"
#define CLI_LONGOPTS \
	{ "table",		required_argument,	NULL, 't' }, \
	{ "raw",		no_argument,		NULL, CLI_OPT_RAW }, \
	{ "on-error",		required_argument,	NULL, CLI_OPT_ON_ERROR }, \
	{ "stats",		required_argument,	NULL, CLI_OPT_STATS }, \
	{ "progress",		no_argument,		NULL, CLI_OPT_PROGRESS }, \
	{ "quiet",		no_argument,		NULL, 'q' }, \
	{ "max-line-bytes",	required_argument,	NULL, CLI_OPT_MAX_LINE }, \
	{ "help",		no_argument,		NULL, 'h' }, \
	{ "version",		no_argument,		NULL, 'V' }

/* The usage text of the common options, for each program's --help. */
#define CLI_USAGE_COMMON \
"  -t, --table NAME        stream of bare records (default: data)\n" \
"      --raw               no message detection: every line is a record\n" \
"      --on-error POLICY   fail (default), skip or quarantine=FILE\n" \
"      --stats FILE        write a JSON summary to FILE\n" \
"      --progress          show progress even when stderr is no terminal\n" \
"  -q, --quiet             no progress, notices or summary\n" \
"      --max-line-bytes N  longest accepted line (default 64M)\n" \
"  -h, --help              show this help\n" \
"  -V, --version           show the version\n"

struct cli_line {
	const char	*text;		/* the raw line, without "\r\n" */
	size_t		 len;
	const char	*file;		/* "stdin" or the path */
	unsigned long	 lineno;
	struct message	 msg;
};

struct cli {
	const char	*prog;
	const char	*table;		/* -t */
	int		 raw;
	int		 quiet;
	int		 progress;
	const char	*stats_path;
	struct onerror	 onerr;
	unsigned long long max_line;
	int		 status;	/* exit status once something failed */
	int		 filter;	/* writes a stream: end it with an abort on failure */
	int		 aborted;	/* an upstream abort was passed on */
	int		 side_closed;	/* cli_close_side_files has run */
	int		 out_failed;	/* a write to stdout failed: write no more */
	char		 last_error[512];

	int		 keep_depth;	/* of the documents cli_next gives */
	int		 workers;	/* threads parsing ahead */
	int		 arrays;	/* a top-level array is a list of records */
	struct lines	*lines;
	struct jval_parser *parser;	/* for cli_reparse */
	struct stats	 stats;
	struct sidefile	 stats_file;	/* --stats, open from cli_begin on */
	struct jbuf	 out;		/* pending stdout bytes */
	/*
	 * Set by a program that keeps fields out of its output (--drop,
	 * --hash): every rejected line that parsed is rewritten by it into
	 * out before --on-error keeps it; -1 with e set stops the run.
	 */
	int		(*redact)(void *arg, const struct cli_line *l,
			    struct jbuf *out, struct lib_err *e);
	void		*redact_arg;
	struct jbuf	 redacted;
};

/*
 * Before anything else.  A closed standard descriptor is held with
 * /dev/null opened the wrong way round, so that no file the program opens
 * takes its number and using it fails.  At exit, stdio's stdout (--help,
 * --version) is flushed and closed, checked: a failed write exits 74, or
 * 75 for a full disk (liberr_errno_status), never 0.
 */
void	cli_init(struct cli *, const char *prog);
/*
 * Handle a common option: 1 if it was one, 0 if it is the program's own,
 * -1 after printing why the argument is wrong (the caller shows usage).
 * -V prints the version and exits.
 */
int	cli_option(struct cli *, int opt, const char *arg);
/* --on-type-conflict variant|fail into *fail; -1 after a message. */
int	cli_type_conflict(struct cli *, const char *arg, int *fail);

/*
 * After option parsing, for a program that reads no NDJSON: stats,
 * progress, and the side files (--stats, the quarantine) opened, so that
 * one that cannot be written fails before any output.  -1 on failure
 * (c->status).
 */
int	cli_begin(struct cli *);
/* After option parsing: cli_begin, the inputs (none means stdin).  -1 on failure. */
int	cli_start(struct cli *, char **files, int nfiles);

/*
 * The next good line, parsed (nodes kept to c->keep_depth, which the
 * program sets before cli_start, as it may c->workers) and classified.
 * Bad lines go through --on-error here.  Returns 1, 0 at the end of the
 * input, or -1 when the program must stop (c->status says why).
 */
int	cli_next(struct cli *, struct cli_line *);
/* Parse the current line again, keeping the whole tree. */
int	cli_reparse(struct cli *, struct cli_line *);
/*
 * Reject the current line for a reason found by the program (a type
 * conflict, a missing key).  0: go on without it; -1: stop (c->status).
 */
int	cli_reject(struct cli *, const struct cli_line *, const char *reason);

/* "prog: msg" on stderr, and c->status = code when code != 0. */
void	cli_error(struct cli *, int code, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* "prog: file:line: msg" on stderr. */
void	cli_warn_at(struct cli *, const struct cli_line *, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/*
 * An upstream abort message arrived: say so with its error, and take its
 * status (65 when it carries none) as ours.
 */
void	cli_upstream_failed(struct cli *, const struct cli_line *);

/*
 * Queue bytes for stdout; written in large blocks.  -1 on a write error,
 * after a message and c->status set (74, or 75 for a full disk).
 */
int	cli_write(struct cli *, const void *, size_t);
int	cli_flush(struct cli *);

/*
 * Make the quarantine durable and write --stats (extra as in
 * stats_write), once: a loader calls it before its commit, so that a side
 * file that cannot be kept stops the load; cli_finish calls it otherwise.
 * -1 after a message and c->status set.
 */
int	cli_close_side_files(struct cli *, const char *stats_extra);

/*
 * The standard descriptors that were closed when cli_init ran, as bits
 * 1 << fd; each is held open the wrong way round, so using it fails.
 */
int	cli_closed_std_fds(void);

/*
 * The end: make the quarantine durable and write --stats (extra as in
 * stats_write), then flush stdout: a filter that failed for any reason,
 * a side file that could not be kept or a caught signal included, ends it
 * with an abort message (unless stdout itself failed, or for a usage
 * error); free everything; returns the exit status to use.
 */
int	cli_finish(struct cli *, const char *stats_extra);

/*
 * The load id: opt if given, else $SLUICE_LOAD_ID, else the time as
 * "SECONDS.MICROSECONDS", sortable like dlt's; buf holds a generated one.
 */
const char *cli_load_id(const char *opt, char *buf, size_t size);

/* SIGINT, SIGTERM and SIGHUP set a flag instead of killing at once. */
void	cli_catch_signals(void);
int	cli_signalled(void);		/* the signal caught, or 0 */
/* Die by the caught signal with its default action. */
void	cli_die_by_signal(void);

#endif
