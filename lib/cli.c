#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "clocks.h"
#include "exitcodes.h"
#include "xalloc.h"

#define DEFAULT_MAX_LINE	(64ULL << 20)
#define OUT_BLOCK		((size_t)128 * 1024)

static volatile sig_atomic_t caught;
static volatile int stop_reading;

/* For the exit handler: who we are, and the status cli_finish chose. */
static const char *exit_prog;
static int finish_status;

static void
on_signal(int sig)
{
	caught = sig;
	stop_reading = 1;
}

const char *
cli_load_id(const char *opt, char *buf, size_t size)
{
	const char *env;

	if (opt != NULL && *opt != '\0')
		return opt;
	if ((env = getenv("SLUICE_LOAD_ID")) != NULL && *env != '\0')
		return env;
	clocks_epoch(buf, size);
	return buf;
}

void
cli_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	(void)sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a blocked read(2) returns EINTR and we stop. */
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGHUP, &sa, NULL);
}

int
cli_signalled(void)
{
	return caught;
}

void
cli_die_by_signal(void)
{
	int sig = caught;

	if (sig == 0)
		return;
	(void)signal(sig, SIG_DFL);
	(void)raise(sig);
}

/*
 * At exit: stdio's stdout (--help, --version, anything printed) flushed
 * and closed, checked, so that output lost on a full or closed device is
 * an error and not a success.
 */
static void
close_stdout(void)
{
	int code, failed = ferror(stdout) != 0, written_errno = errno;

	/*
	 * A text longer than stdio's buffer (pgfetch --help) was partly
	 * written already: that write's failure is in ferror and errno, and
	 * fclose, with nothing left to flush, would say nothing.
	 */
	errno = 0;
	if (fclose(stdout) == 0 && !failed)
		return;
	if (errno == 0)
		errno = written_errno;
	if (errno == EPIPE) {
		/* The reader left: die quietly, as write_all does. */
		(void)signal(SIGPIPE, SIG_DFL);
		(void)raise(SIGPIPE);
	}
	code = liberr_errno_status(errno, EX_IOERR);
	(void)fprintf(stderr, "%s: stdout: %s\n", exit_prog,
	    errno != 0 ? strerror(errno) : "write error");
	_exit(finish_status != 0 ? finish_status : code);
}

/*
 * A closed standard descriptor would be taken by the next open(2), and
 * the data meant for stdout would land in the quarantine or the input
 * would be read from the database.  Hold each closed one with /dev/null
 * opened the wrong way round, so that using it fails with EBADF.
 */
static int held_std_fds;	/* bit 1 << fd for each held descriptor */

static void
hold_closed_std_fds(void)
{
	int fd, held;

	for (fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		held = open("/dev/null", fd == 0 ? O_WRONLY : O_RDONLY);
		if (held != -1 && held != fd)
			(void)close(held);
		else if (held == fd)
			held_std_fds |= 1 << fd;
	}
}

int
cli_closed_std_fds(void)
{
	return held_std_fds;
}

void
cli_init(struct cli *c, const char *prog)
{
	hold_closed_std_fds();
	if (exit_prog == NULL)
		(void)atexit(close_stdout);
	exit_prog = prog;
	xalloc_set_prog(prog);
	memset(c, 0, sizeof(*c));
	c->prog = prog;
	c->table = "data";
	c->max_line = DEFAULT_MAX_LINE;
	c->progress_interval = 10;
	c->types.detect = 1;
	c->keep_depth = JVAL_KEEP_ALL;
	c->workers = 1;
}

void
cli_set_status(struct cli *c, int code)
{
	if (code != 0 && c->status == 0)
		c->status = code;
}

void
cli_verror(struct cli *c, int code, const char *fmt, va_list ap)
{
	(void)vsnprintf(c->last_error, sizeof(c->last_error), fmt, ap);
	stats_progress_hold(&c->stats);
	(void)fprintf(stderr, "%s: %s\n", c->prog, c->last_error);
	stats_progress_release(&c->stats);
	cli_set_status(c, code);
}

void
cli_error(struct cli *c, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cli_verror(c, code, fmt, ap);
	va_end(ap);
}

void
cli_warn_at(struct cli *c, const struct cli_line *l, const char *fmt, ...)
{
	va_list ap;

	size_t n;

	(void)snprintf(c->last_error, sizeof(c->last_error), "%s:%lu: ",
	    l->file, l->lineno);
	n = strlen(c->last_error);
	va_start(ap, fmt);
	(void)vsnprintf(c->last_error + n, sizeof(c->last_error) - n, fmt, ap);
	va_end(ap);
	stats_progress_hold(&c->stats);
	(void)fprintf(stderr, "%s: %s\n", c->prog, c->last_error);
	stats_progress_release(&c->stats);
}

int
cli_begin(struct cli *c)
{
	int tty = isatty(STDERR_FILENO);
	struct lib_err e;
	struct stat st;

	stats_init(&c->stats, c->prog);
	/*
	 * On a terminal, a live line by default only from the last program
	 * of a pipeline (its stdout no pipe): five programs redrawing one
	 * line would garble it.  --progress asks for it anyway, as plain
	 * lines every --progress-interval seconds when stderr is a log.
	 */
	if (!c->quiet && (c->progress || (tty && !(fstat(STDOUT_FILENO,
	    &st) == 0 && S_ISFIFO(st.st_mode)))) &&
	    stats_progress_start(&c->stats, stderr, tty, c->progress_interval,
	    &e) == -1)
		cli_error(c, 0, "%s", e.msg);
	if (c->stats_path != NULL && c->stats_file.fp == NULL &&
	    sidefile_open(&c->stats_file, c->stats_path, SIDEFILE_REPLACE,
	    &e) == -1) {
		cli_error(c, e.code, "%s", e.msg);
		return -1;
	}
	if (onerror_open(&c->onerr, &e) == -1) {
		cli_error(c, e.code, "%s", e.msg);
		return -1;
	}
	return 0;
}

int
cli_start(struct cli *c, char **files, int nfiles)
{
	struct lines_opts lo;
	struct lib_err e;

	if (cli_begin(c) == -1)
		return -1;
	/* A record may take several times its text in nodes; bound that too. */
	c->parser = jval_parser_new(c->max_line * 8 + ((size_t)1 << 20));
	if (c->parser == NULL) {
		cli_error(c, EX_OSERR, "out of memory");
		return -1;
	}
	memset(&lo, 0, sizeof(lo));
	lo.files = files;
	lo.nfiles = nfiles;
	lo.max_line = (size_t)c->max_line;
	lo.keep_depth = c->unparsed ? LINES_UNPARSED : c->keep_depth;
	lo.workers = c->workers;
	lo.stop = &stop_reading;
	if ((c->lines = lines_new(&lo, &e)) == NULL) {
		cli_error(c, e.code, "%s", e.msg);
		return -1;
	}
	return 0;
}

/* A bad line: apply --on-error.  0 to go on, -1 to stop with e set. */
static int
bad_line(struct cli *c, const struct cli_line *l, const char *reason,
    struct lib_err *e)
{
	c->stats.errors++;
	if (onerror_reject(&c->onerr, l->file, l->lineno, reason, l->text,
	    l->len, e) == -1)
		return -1;
	if (c->onerr.mode == ONERROR_SKIP && !c->quiet)
		cli_warn_at(c, l, "%s (skipped)", reason);
	return 0;
}

int
cli_reject_err(struct cli *c, const struct cli_line *l, const char *reason,
    struct lib_err *e)
{
	struct cli_line kept;

	if (c->redact == NULL || l->msg.root == NULL)
		return bad_line(c, l, reason, e);
	jbuf_reset(&c->redacted);
	if (c->redact(c->redact_arg, l, &c->redacted, e) == -1)
		return -1;
	kept = *l;
	kept.text = c->redacted.p;
	kept.len = c->redacted.len;
	return bad_line(c, &kept, reason, e);
}

int
cli_reject(struct cli *c, const struct cli_line *l, const char *reason)
{
	struct lib_err e;

	if (cli_reject_err(c, l, reason, &e) == 0)
		return 0;
	cli_error(c, e.code, "%s", e.msg);
	return -1;
}

int
cli_next(struct cli *c, struct cli_line *l)
{
	struct lines_item it;
	struct lib_err e;
	int rc;

	for (;;) {
		if (cli_signalled()) {
			cli_set_status(c, 128 + cli_signalled());
			return -1;
		}
		/*
		 * The input paused after the line before: what it gave goes
		 * downstream now, before this waits for more.
		 */
		if (c->flush_at_pause) {
			c->flush_at_pause = 0;
			if (c->out.len > 0 && cli_flush(c) == -1)
				return -1;
		}
		lines_next(c->lines, &it);
		c->flush_at_pause = it.paused;
		switch (it.kind) {
		case LINES_END:
			return 0;
		case LINES_FATAL:
			if (cli_signalled())
				cli_set_status(c, 128 + cli_signalled());
			else
				cli_error(c, it.code, "%s", it.msg);
			return -1;
		default:
			break;
		}
		l->file = it.file;
		l->text = it.text;
		l->len = it.len;
		l->lineno = it.lineno;
		l->paused = it.paused;
		stats_add(&c->stats.lines, 1);
		stats_set_bytes(&c->stats, it.bytes);
		if (it.kind == LINES_DOC && c->arrays && it.root != NULL &&
		    it.root->type == JV_ARRAY) {
			memset(&l->msg, 0, sizeof(l->msg));
			l->msg.kind = MSG_BARE;
			l->msg.root = l->msg.record = it.root;
			stats_add(&c->stats.records, 1);
			return 1;
		}
		if (it.kind == LINES_BAD) {
			if (bad_line(c, l, it.msg, &e) == -1) {
				cli_error(c, e.code, "%s", e.msg);
				return -1;
			}
			continue;
		}
		if (it.root == NULL) {
			/* c->unparsed: the program parses it. */
			memset(&l->msg, 0, sizeof(l->msg));
			return 1;
		}
		if ((rc = cli_classify(c, l, it.root)) != 0)
			return rc;
	}
}

int
cli_classify(struct cli *c, struct cli_line *l, const struct jval *root)
{
	struct lib_err e;

	if (message_classify(root, c->raw, &l->msg, &e) == -1) {
		/* It parsed: cli_reject redacts it like any record. */
		memset(&l->msg, 0, sizeof(l->msg));
		l->msg.root = root;
		l->msg.record = root->type == JV_OBJECT ?
		    jval_get(root, "record") : NULL;
		return cli_reject(c, l, e.msg);
	}
	if (l->msg.kind == MSG_BARE || l->msg.kind == MSG_RECORD)
		stats_add(&c->stats.records, 1);
	else
		c->stats.messages++;
	return 1;
}

int
cli_parse_line(struct cli *c, struct cli_line *l)
{
	struct lib_err e, e2;
	const struct jval *root;

	jval_parser_rewind(c->parser);
	if ((root = jval_parse(c->parser, l->text, l->len, c->keep_depth,
	    &e)) == NULL) {
		/* As a line the reader found bad. */
		if (bad_line(c, l, e.msg, &e2) == -1) {
			cli_error(c, e2.code, "%s", e2.msg);
			return -1;
		}
		return 0;
	}
	return cli_classify(c, l, root);
}

void
cli_upstream_failed(struct cli *c, const struct cli_line *l)
{
	const struct jval *err = l->msg.error;
	long long st;

	if (err != NULL && err->type == JV_STRING)
		cli_warn_at(c, l, "upstream failed: %.*s", (int)err->len, err->str);
	else
		cli_warn_at(c, l, "upstream failed");
	cli_set_status(c, l->msg.status != NULL &&
	    jval_int64(l->msg.status, &st) && st >= 64 && st <= 78 ?
	    (int)st : EX_DATAERR);
}

int
cli_reparse(struct cli *c, struct cli_line *l)
{
	struct lib_err e;
	const struct jval *root;

	jval_parser_rewind(c->parser);
	root = jval_parse(c->parser, l->text, l->len, JVAL_KEEP_ALL, &e);
	if (root == NULL || message_classify(root, c->raw, &l->msg, &e) == -1) {
		cli_warn_at(c, l, "%s", e.msg);
		cli_set_status(c, EX_SOFTWARE);
		return -1;
	}
	return 0;
}

/*
 * Write everything or fail, with e set; EPIPE means the reader left: die
 * quietly.
 */
static int
write_all(struct cli *c, const char *p, size_t n, struct lib_err *e)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(STDOUT_FILENO, p, n)) < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EPIPE) {
				(void)signal(SIGPIPE, SIG_DFL);
				(void)raise(SIGPIPE);
			}
			c->out_failed = 1;
			return liberr_set(e, liberr_errno_status(errno, EX_IOERR),
			    "stdout: %s", strerror(errno));
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* After a failed write, the stream is broken: no more of it. */
static int
out_broken(const struct cli *c, struct lib_err *e)
{
	return liberr_set(e, c->status != 0 ? c->status : EX_IOERR,
	    "stdout: a write failed before");
}

int
cli_flush_err(struct cli *c, struct lib_err *e)
{
	int rc;

	rc = c->out_failed ? out_broken(c, e) :
	    write_all(c, c->out.p, c->out.len, e);
	jbuf_reset(&c->out);
	return rc;
}

int
cli_write_err(struct cli *c, const void *p, size_t n, struct lib_err *e)
{
	if (c->out_failed)
		return out_broken(c, e);
	if (c->out.len + n > OUT_BLOCK && c->out.len > 0 &&
	    cli_flush_err(c, e) == -1)
		return -1;
	if (n >= OUT_BLOCK)
		return write_all(c, p, n, e);
	jbuf_put(&c->out, p, n);
	return 0;
}

/* A failed write is said once: later ones fail quietly. */
int
cli_flush(struct cli *c)
{
	struct lib_err e;
	int failed = c->out_failed;

	if (cli_flush_err(c, &e) == 0)
		return 0;
	if (!failed)
		cli_error(c, e.code, "%s", e.msg);
	return -1;
}

int
cli_write(struct cli *c, const void *p, size_t n)
{
	struct lib_err e;
	int failed = c->out_failed;

	if (cli_write_err(c, p, n, &e) == 0)
		return 0;
	if (!failed)
		cli_error(c, e.code, "%s", e.msg);
	return -1;
}

int
cli_close_side_files(struct cli *c, const char *stats_extra)
{
	struct lib_err e;
	int rc = 0;

	if (c->side_closed)
		return 0;
	c->side_closed = 1;
	if (onerror_close(&c->onerr, &e) == -1) {
		cli_error(c, e.code, "%s", e.msg);
		rc = -1;
	} else if (c->onerr.rejected > 0 && !c->quiet)
		cli_error(c, 0, "%lu bad line%s %s%s", c->onerr.rejected,
		    c->onerr.rejected == 1 ? "" : "s",
		    c->onerr.mode == ONERROR_SKIP ? "skipped" : "quarantined in ",
		    c->onerr.mode == ONERROR_SKIP ? "" : c->onerr.path);
	if (c->stats_file.fp == NULL || c->stats_by_program)
		return rc;
	if (cli_write_stats(c, stats_extra, 1, &e) == -1) {
		cli_error(c, e.code, "%s", e.msg);
		rc = -1;
	}
	return rc;
}

int
cli_write_stats(struct cli *c, const char *stats_extra, int close,
    struct lib_err *e)
{
	struct jbuf b = JBUF_INIT, extra = JBUF_INIT;
	char counts[128];
	int rc;

	/* Not open, or its failure said already: nothing more to write. */
	if (c->stats_file.fp == NULL || c->stats_file.failed)
		return close ? sidefile_close(&c->stats_file, e) : 0;
	(void)snprintf(counts, sizeof(counts),
	    "\"skipped\":%lu,\"quarantined\":%lu",
	    c->onerr.mode == ONERROR_SKIP ? c->onerr.rejected : 0,
	    c->onerr.mode == ONERROR_QUARANTINE ? c->onerr.rejected : 0);
	jbuf_puts(&extra, counts);
	if (stats_extra != NULL && *stats_extra != '\0') {
		jbuf_putc(&extra, ',');
		jbuf_puts(&extra, stats_extra);
	}
	stats_json(&c->stats, jbuf_cstr(&extra), &b);
	/* Written before: this summary replaces that one. */
	rc = c->stats_file.written && sidefile_rewind(&c->stats_file, e) == -1 ?
	    -1 : sidefile_write(&c->stats_file, b.p, b.len, 1, e);
	jbuf_free(&b);
	jbuf_free(&extra);
	/* After a failed write, this drops the file without a new error. */
	if (close && sidefile_close(&c->stats_file, e) == -1)
		rc = -1;
	return rc;
}

int
cli_finish(struct cli *c, const char *stats_extra)
{
	lines_free(c->lines);
	c->lines = NULL;
	stats_progress_stop(&c->stats);
	/* Before the end of the stream: their failure must still abort it. */
	(void)cli_close_side_files(c, stats_extra);
	/*
	 * Every failure ends the stream with an abort, so that the loader
	 * rolls back; not a usage error (nothing was started, so nothing is
	 * half), not after stdout itself failed.  A caught signal aborts with
	 * 75: the run was stopped, not wrong, and a retry may succeed.
	 */
	if (c->filter && c->status != 0 && c->status != EX_USAGE &&
	    !c->aborted && !c->out_failed) {
		if (c->status >= 128)
			message_write_abort(&c->out, c->prog, EX_TEMPFAIL,
			    c->status - 128 == SIGINT ? "interrupted by SIGINT" :
			    c->status - 128 == SIGHUP ? "interrupted by SIGHUP" :
			    "interrupted by SIGTERM");
		else
			message_write_abort(&c->out, c->prog, c->status,
			    c->last_error);
	}
	if (c->out.len > 0)
		(void)cli_flush(c);
	jbuf_free(&c->out);
	jbuf_free(&c->redacted);
	jval_parser_free(c->parser);
	c->parser = NULL;
	finish_status = c->status;
	return c->status;
}
