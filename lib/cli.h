/*
 * The command-line front shared by every sluice program: its options from
 * one table (cliopt.c: getopt_long, usage, --help, the common options,
 * typed helpers), the input loop over FILE... (parse, classify,
 * --on-error), the checked writes to stdout, --stats and signals (cli.c).
 * This is the one lib/ module that writes to stderr, in the
 * "prog: file:line: what" form, so that every program reports the same
 * way.
 */
#ifndef CLI_H
#define CLI_H

#include <getopt.h>
#include <stdarg.h>
#include <stddef.h>

#include "jbuf.h"
#include "jval.h"
#include "message.h"
#include "lines.h"
#include "onerror.h"
#include "schema.h"
#include "sidefile.h"
#include "stats.h"

enum {
	CLI_OPT_RAW = 0x100, CLI_OPT_ON_ERROR, CLI_OPT_STATS, CLI_OPT_PROGRESS,
	CLI_OPT_MAX_LINE, CLI_OPT_NO_DETECT, CLI_OPT_ON_TYPE_CONFLICT,
	CLI_OPT_PROGRESS_INTERVAL,
	CLI_OPT_PRIVATE = 0x200		/* programs number their own from here */
};

/*
 * One option of a program.  From a table of these, cli builds the
 * options getopt_long takes, the usage synopsis (sorted as in the manual
 * page) and the --help text; the common options come from cli's own
 * table.  An entry whose id is a common one (CLI_OPT_MAX_LINE) is another
 * name for that option, handled by cli.
 */
struct cli_opt {
	const char	*name;		/* long name without "--"; NULL ends */
	int		 letter;	/* the short option, or 0 */
	int		 id;		/* what cli_getopt returns; 0: the letter */
	const char	*arg;		/* the argument as the synopsis names it */
	const char	*help;		/* --help text, lines split by '\n' */
	const char	*alt;		/* synopsis: [this | --alt], one bracket */
	const char	*group;		/* synopsis: one [group] for all of it */
};

/* What a program is, for its usage and --help. */
struct cli_spec {
	const struct cli_opt *opts;	/* the program's own */
	const char	*operands;	/* after the options: "[file ...]" */
	const char	*more_usage;	/* another form, "db --state-get path" */
	const char	*about;		/* --help's paragraph, '\n' ended */
	int		 flags;		/* CLI_NO_STREAM, CLI_TYPES */
};

/* What a program is, for the common options it has (cli_spec.flags). */
enum {
	CLI_NO_STREAM = 1,	/* reads no NDJSON: no -t, no --raw */
	CLI_TYPES = 2		/* infers types: --no-detect, --on-type-conflict */
};

/* One value of an enumerated option's argument (cli_enum). */
struct cli_choice {
	const char	*name;		/* NULL ends */
	int		 value;
};

struct cli_line {
	const char	*text;		/* the raw line, without "\r\n" */
	size_t		 len;
	const char	*file;		/* "stdin" or the path */
	unsigned long	 lineno;
	int		 paused;	/* the input paused after this line */
	struct message	 msg;
};

struct cli {
	const char	*prog;
	const struct cli_spec *spec;	/* as cli_getopt was given it */
	const char	*optname;	/* "--name" of the option cli_getopt returned */
	const char	*table;		/* -t */
	int		 raw;
	int		 quiet;
	int		 progress;	/* --progress */
	double		 progress_interval; /* --progress-interval, seconds */
	const char	*stats_path;
	struct onerror	 onerr;
	unsigned long long max_line;
	struct schema_opts types;	/* --no-detect, --on-type-conflict */
	int		 status;	/* exit status: read it, set it by cli_set_status */
	int		 filter;	/* writes a stream: end it with an abort on failure */
	int		 aborted;	/* an upstream abort was passed on */
	int		 side_closed;	/* cli_close_side_files has run */
	int		 out_failed;	/* a write to stdout failed: write no more */
	int		 flush_at_pause; /* the input paused: flush before reading */
	int		 stats_by_program; /* --stats: cli_write_stats, not the close */
	char		 last_error[512];

	int		 keep_depth;	/* of the documents cli_next gives */
	int		 unparsed;	/* cli_next gives lines, cli_parse_line parses */
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
 * The next option of the program's own (its id), or -1 after the last
 * one (optind then indexes the operands).  The common options are
 * handled here: -h prints the help to stdout and -V the version, and
 * both exit 0; a bad common option, an unknown one or a missing argument
 * is a usage error (cli_usage).  c->optname is set for the typed helpers
 * and cli_usage_error.
 */
int	cli_getopt(struct cli *, const struct cli_spec *, int argc, char **argv);
/* The usage synopsis on stderr, and exit 64. */
void	cli_usage(struct cli *) __attribute__((noreturn));
/* "prog: msg" on stderr, then cli_usage. */
void	cli_usage_error(struct cli *, const char *fmt, ...)
	    __attribute__((noreturn, format(printf, 2, 3)));
/*
 * The argument of the current option as a number in [min, max], a size
 * with K, M or G in [min, max], a finite real number (above min when
 * min_open, at most max), or one of choices (its value); any other is a
 * usage error that names the option.
 */
long long cli_num(struct cli *, const char *arg, long long min, long long max);
unsigned long long cli_size(struct cli *, const char *arg,
	    unsigned long long min, unsigned long long max);
long double cli_real(struct cli *, const char *arg, long double min,
	    int min_open, long double max);
int	cli_enum(struct cli *, const char *arg, const struct cli_choice *choices);

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
/*
 * With c->unparsed, cli_next gives each line without its document
 * (l->msg.root NULL), for a program with a faster reader of its own for
 * the lines it expects.  cli_classify takes the document that reader made
 * of the line, cli_parse_line parses the others as cli_next would have:
 * either way the line then is what cli_next gives, counted and classified,
 * or it went through --on-error.  1: a message; 0: rejected, go on; -1:
 * the program must stop (c->status says why).  (c->arrays does not apply.)
 */
int	cli_classify(struct cli *, struct cli_line *, const struct jval *root);
int	cli_parse_line(struct cli *, struct cli_line *);
/* Parse the current line again, keeping the whole tree. */
int	cli_reparse(struct cli *, struct cli_line *);
/*
 * Reject the current line for a reason found by the program (a type
 * conflict, a missing key).  0: go on without it; -1: stop (c->status).
 */
int	cli_reject(struct cli *, const struct cli_line *, const char *reason);
/*
 * cli_reject with the failure in e instead of a message, for a program
 * that reports it after unwinding (pgfetch's callbacks): -1 with e set,
 * "FILE:LINE: reason" (65) under --on-error fail, or the quarantine's.
 */
int	cli_reject_err(struct cli *, const struct cli_line *, const char *reason,
	    struct lib_err *e);

/*
 * The exit status, set here only: the first failure decides it (the
 * later ones follow from it: "load rolled back", the abort passed on), a
 * caught signal N counting as 128 + N; code 0 sets nothing.
 */
void	cli_set_status(struct cli *, int code);
/* "prog: msg" on stderr, and cli_set_status(code). */
void	cli_error(struct cli *, int code, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* cli_error with a va_list, for the front-end's own wrappers. */
void	cli_verror(struct cli *, int code, const char *fmt, va_list)
	    __attribute__((format(printf, 3, 0)));
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
 * The same with the failure in e ("stdout: why": 74, or 75 for a full
 * disk) instead of a message: the caller reports it once.
 */
int	cli_write_err(struct cli *, const void *, size_t, struct lib_err *e);
int	cli_flush_err(struct cli *, struct lib_err *e);

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
 * --stats for a program that writes it itself (stats_by_program): the
 * counters, skipped and quarantined, and stats_extra (further "key":value
 * members), replacing what an earlier call wrote; close puts the file in
 * place.  0 (also without --stats), or -1 with e set.
 */
int	cli_write_stats(struct cli *, const char *stats_extra, int close,
	    struct lib_err *e);

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
