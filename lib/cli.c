#include <assert.h>
#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "exitcodes.h"
#include "strtonum.h"

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
	struct timespec ts;
	const char *env;

	if (opt != NULL && *opt != '\0')
		return opt;
	if ((env = getenv("SLUICE_LOAD_ID")) != NULL && *env != '\0')
		return env;
	(void)clock_gettime(CLOCK_REALTIME, &ts);
	(void)snprintf(buf, size, "%lld.%06ld", (long long)ts.tv_sec,
	    ts.tv_nsec / 1000);
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
	int code;

	errno = 0;
	if (fclose(stdout) == 0)
		return;
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
	memset(c, 0, sizeof(*c));
	c->prog = prog;
	c->table = "data";
	c->max_line = DEFAULT_MAX_LINE;
	c->keep_depth = JVAL_KEEP_ALL;
	c->workers = 1;
}

void
cli_error(struct cli *c, int code, const char *fmt, ...)
{
	va_list ap;

	stats_progress_done(&c->stats);
	va_start(ap, fmt);
	(void)vsnprintf(c->last_error, sizeof(c->last_error), fmt, ap);
	va_end(ap);
	(void)fprintf(stderr, "%s: %s\n", c->prog, c->last_error);
	if (code != 0 && c->status == 0)
		c->status = code;
}

void
cli_warn_at(struct cli *c, const struct cli_line *l, const char *fmt, ...)
{
	va_list ap;

	size_t n;

	stats_progress_done(&c->stats);
	(void)snprintf(c->last_error, sizeof(c->last_error), "%s:%lu: ",
	    l->file, l->lineno);
	n = strlen(c->last_error);
	va_start(ap, fmt);
	(void)vsnprintf(c->last_error + n, sizeof(c->last_error) - n, fmt, ap);
	va_end(ap);
	(void)fprintf(stderr, "%s: %s\n", c->prog, c->last_error);
}

/*
 * The options every program has.  Those marked stream read NDJSON: a
 * program with spec->no_stream (pgfetch) has neither.
 */
static const struct {
	struct cli_opt	 opt;
	int		 stream;
} common[] = {
	{ { "table", 't', 0, "table",
	    "stream of bare records (default: data)", NULL, NULL }, 1 },
	{ { "raw", 0, CLI_OPT_RAW, NULL,
	    "no message detection: every line is a record", NULL, NULL }, 1 },
	{ { "on-error", 0, CLI_OPT_ON_ERROR, "policy",
	    "fail (default), skip or quarantine=FILE", NULL, NULL }, 0 },
	{ { "stats", 0, CLI_OPT_STATS, "file",
	    "write a JSON summary to FILE", NULL, NULL }, 0 },
	{ { "progress", 0, CLI_OPT_PROGRESS, NULL,
	    "show progress even when stderr is no terminal", NULL, NULL }, 0 },
	{ { "quiet", 'q', 0, NULL,
	    "no progress, notices or summary", NULL, NULL }, 0 },
	{ { "max-line-bytes", 0, CLI_OPT_MAX_LINE, "size",
	    "longest accepted line or record (default 64M)", NULL, NULL }, 0 },
	{ { "help", 'h', 0, NULL, "show this help", NULL, NULL }, 0 },
	{ { "version", 'V', 0, NULL, "show the version", NULL, NULL }, 0 },
};

#define NCOMMON		(sizeof(common) / sizeof(common[0]))
#define MAX_OPTS	96

/*
 * The program's options, its own then the common ones, as built from its
 * spec by the first cli_getopt: static, so that an exit from anywhere
 * leaves nothing allocated.
 */
static const struct cli_opt *all[MAX_OPTS];
static size_t nall;
static struct option longopts[MAX_OPTS + 1];
static char shortopts[2 * MAX_OPTS + 2];

static int
opt_id(const struct cli_opt *o)
{
	return o->id != 0 ? o->id : o->letter;
}

static void
build_options(const struct cli_spec *spec)
{
	const struct cli_opt *o;
	size_t i, ns = 0;

	nall = 0;
	for (o = spec->opts; o != NULL && o->name != NULL; o++)
		all[nall++] = o;
	for (i = 0; i < NCOMMON; i++)
		if (!(spec->no_stream && common[i].stream))
			all[nall++] = &common[i].opt;
	assert(nall <= MAX_OPTS);
	for (i = 0; i < nall; i++) {
		o = all[i];
		longopts[i].name = o->name;
		longopts[i].has_arg = o->arg != NULL ? required_argument :
		    no_argument;
		longopts[i].flag = NULL;
		longopts[i].val = opt_id(o);
		if (o->letter != 0) {
			shortopts[ns++] = (char)o->letter;
			if (o->arg != NULL)
				shortopts[ns++] = ':';
		}
	}
	memset(&longopts[nall], 0, sizeof(longopts[nall]));
	shortopts[ns] = '\0';
}

static const struct cli_opt *
find_id(int id)
{
	size_t i;

	for (i = 0; i < nall; i++)
		if (opt_id(all[i]) == id)
			return all[i];
	return NULL;
}

static const struct cli_opt *
find_name(const char *name)
{
	size_t i;

	for (i = 0; i < nall; i++)
		if (strcmp(all[i]->name, name) == 0)
			return all[i];
	return NULL;
}

static int	is_common(int);

/* Another name of a common option (--max-record-bytes): not in the synopsis. */
static int
is_alias(const struct cli_opt *o)
{
	size_t i;

	for (i = 0; i < NCOMMON; i++)
		if (o == &common[i].opt)
			return 0;
	return is_common(opt_id(o));
}

/*
 * The order of the manual's SYNOPSIS: by letter or else name, case aside;
 * whether a goes before b.
 */
static int
synopsis_before(const struct cli_opt *a, const struct cli_opt *b)
{
	char ka[2] = { (char)a->letter, '\0' }, kb[2] = { (char)b->letter, '\0' };
	int d;

	d = strcasecmp(a->letter != 0 ? ka : a->name,
	    b->letter != 0 ? kb : b->name);
	/* -v before -V */
	return d < 0 || (d == 0 && a->letter > b->letter);
}

/* One option as the synopsis writes it, without brackets. */
static void
synopsis_item(struct jbuf *b, const struct cli_opt *o)
{
	if (o->letter != 0) {
		jbuf_putc(b, '-');
		jbuf_putc(b, (char)o->letter);
	} else {
		jbuf_puts(b, "--");
		jbuf_puts(b, o->name);
	}
	if (o->arg != NULL) {
		jbuf_putc(b, ' ');
		jbuf_puts(b, o->arg);
	}
}

/* Append word to the synopsis in b, wrapped at 80 under the first one. */
static void
synopsis_word(struct jbuf *b, size_t *col, size_t indent, const char *word,
    size_t len)
{
	size_t i;

	if (*col + 1 + len > 79 && *col > indent) {
		jbuf_putc(b, '\n');
		for (i = 0; i < indent; i++)
			jbuf_putc(b, ' ');
		*col = indent;
	} else if (*col > indent) {
		jbuf_putc(b, ' ');
		(*col)++;
	}
	jbuf_put(b, word, len);
	*col += len;
}

/*
 * "usage: prog [-flags] [-x arg] ... operands": every option in the order
 * of the manual's SYNOPSIS, an option's alternative in its bracket, a
 * group as one [group].
 */
/* The option after prev (NULL: the first) in synopsis order, or NULL. */
static const struct cli_opt *
synopsis_next(const struct cli_opt *prev)
{
	const struct cli_opt *best = NULL;
	size_t i;

	for (i = 0; i < nall; i++)
		if ((prev == NULL || synopsis_before(prev, all[i])) &&
		    (best == NULL || synopsis_before(all[i], best)))
			best = all[i];
	return best;
}

/* Whether an option before all[n] in the table is in group. */
static int
group_seen(size_t n, const char *group)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (all[i]->group != NULL && strcmp(all[i]->group, group) == 0)
			return 1;
	return 0;
}

/* Whether another option names o as its alternative. */
static int
is_alternative(const struct cli_opt *o)
{
	size_t i;

	for (i = 0; i < nall; i++)
		if (all[i]->alt != NULL && strcmp(all[i]->alt, o->name) == 0)
			return 1;
	return 0;
}

static void
synopsis(const struct cli *c, struct jbuf *b)
{
	const struct cli_opt *o, *alt;
	const char *group;
	struct jbuf w = JBUF_INIT;
	size_t i, indent, col;

	jbuf_puts(b, "usage: ");
	jbuf_puts(b, c->prog);
	indent = col = strlen("usage: ") + strlen(c->prog) + 1;
	jbuf_puts(b, " ");
	jbuf_puts(&w, "[-");
	for (o = synopsis_next(NULL); o != NULL; o = synopsis_next(o))
		if (o->letter != 0 && o->arg == NULL && o->group == NULL)
			jbuf_putc(&w, (char)o->letter);
	jbuf_putc(&w, ']');
	if (w.len > 3)
		synopsis_word(b, &col, indent, w.p, w.len);
	for (o = synopsis_next(NULL); o != NULL; o = synopsis_next(o)) {
		/*
		 * Grouped, a letter without argument, an alias, the second
		 * of a pair: said elsewhere.
		 */
		if (o->group != NULL || (o->letter != 0 && o->arg == NULL) ||
		    is_alias(o) || is_alternative(o))
			continue;
		jbuf_reset(&w);
		jbuf_putc(&w, '[');
		synopsis_item(&w, o);
		if (o->alt != NULL && (alt = find_name(o->alt)) != NULL) {
			jbuf_puts(&w, " | ");
			synopsis_item(&w, alt);
		}
		jbuf_putc(&w, ']');
		synopsis_word(b, &col, indent, w.p, w.len);
	}
	/* Each group once, by its name, in the order of the table. */
	for (i = 0; i < nall; i++) {
		assert(all[i] != NULL);
		if ((group = all[i]->group) == NULL || group_seen(i, group))
			continue;
		jbuf_reset(&w);
		jbuf_putc(&w, '[');
		jbuf_puts(&w, group);
		jbuf_putc(&w, ']');
		synopsis_word(b, &col, indent, w.p, w.len);
	}
	if (c->spec->operands != NULL)
		synopsis_word(b, &col, indent, c->spec->operands,
		    strlen(c->spec->operands));
	jbuf_putc(b, '\n');
	if (c->spec->more_usage != NULL) {
		jbuf_puts(b, "       ");
		jbuf_puts(b, c->prog);
		jbuf_putc(b, ' ');
		jbuf_puts(b, c->spec->more_usage);
		jbuf_putc(b, '\n');
	}
	jbuf_free(&w);
}

void
cli_usage(struct cli *c)
{
	struct jbuf b = JBUF_INIT;

	synopsis(c, &b);
	(void)fputs(jbuf_cstr(&b), stderr);
	jbuf_free(&b);
	exit(EX_USAGE);
}

void
cli_usage_error(struct cli *c, const char *fmt, ...)
{
	va_list ap;

	stats_progress_done(&c->stats);
	va_start(ap, fmt);
	(void)vsnprintf(c->last_error, sizeof(c->last_error), fmt, ap);
	va_end(ap);
	(void)fprintf(stderr, "%s: %s\n", c->prog, c->last_error);
	c->status = EX_USAGE;
	cli_usage(c);
}

/*
 * An option's line of --help: "  -k, --key ARG" and its text from column
 * 26, on a line of its own when the option is longer; ARG in capitals
 * unless it lists its values.
 */
static void
help_option(struct jbuf *b, const struct cli_opt *o)
{
	const char *p, *nl;
	size_t start = b->len, col;
	int upper;
	char ch;

	if (o->letter != 0) {
		jbuf_puts(b, "  -");
		jbuf_putc(b, (char)o->letter);
		jbuf_puts(b, ", --");
	} else
		jbuf_puts(b, "      --");
	jbuf_puts(b, o->name);
	if (o->arg != NULL) {
		jbuf_putc(b, ' ');
		upper = strchr(o->arg, '|') == NULL;
		for (p = o->arg; *p != '\0'; p++) {
			ch = *p;
			if (upper && ch >= 'a' && ch <= 'z')
				ch = (char)(ch - 'a' + 'A');
			jbuf_putc(b, ch);
		}
	}
	col = b->len - start;
	for (p = o->help; p != NULL; p = nl != NULL ? nl + 1 : NULL) {
		if (col > 24) {
			jbuf_putc(b, '\n');
			col = 0;
		}
		for (; col < 26; col++)
			jbuf_putc(b, ' ');
		nl = strchr(p, '\n');
		jbuf_put(b, p, nl != NULL ? (size_t)(nl - p) : strlen(p));
		col = 80;
	}
	jbuf_putc(b, '\n');
}

/*
 * The synopsis, the paragraph, then every option: the program's own, the
 * common ones, then each group under its name.
 */
static void
help(struct cli *c)
{
	struct jbuf b = JBUF_INIT;
	const char *group;
	size_t i, j;

	synopsis(c, &b);
	jbuf_putc(&b, '\n');
	jbuf_puts(&b, c->spec->about);
	jbuf_putc(&b, '\n');
	for (i = 0; i < nall; i++)
		if (all[i]->group == NULL)
			help_option(&b, all[i]);
	for (i = 0; i < nall; i++) {
		if ((group = all[i]->group) == NULL || group_seen(i, group))
			continue;
		jbuf_putc(&b, '\n');
		jbuf_puts(&b, group);
		jbuf_puts(&b, ":\n");
		for (j = i; j < nall; j++)
			if (all[j]->group != NULL &&
			    strcmp(all[j]->group, group) == 0)
				help_option(&b, all[j]);
	}
	/* Checked at exit (close_stdout): a failed write is 74, not 0. */
	(void)fputs(jbuf_cstr(&b), stdout);
	jbuf_free(&b);
	exit(0);
}

/* A common option: handled here; a bad argument is a usage error. */
static void
common_option(struct cli *c, int id, const char *arg)
{
	struct lib_err e;

	switch (id) {
	case 't':
		if (*arg == '\0')
			cli_usage_error(c, "-t: empty table name");
		c->table = arg;
		break;
	case 'q':
		c->quiet = 1;
		break;
	case 'h':
		help(c);
		break;
	case 'V':
		(void)printf("%s (sluice) %s\n", c->prog, SLUICE_VERSION);
		exit(0);
	case CLI_OPT_RAW:
		c->raw = 1;
		break;
	case CLI_OPT_PROGRESS:
		c->progress = 1;
		break;
	case CLI_OPT_STATS:
		c->stats_path = arg;
		break;
	case CLI_OPT_ON_ERROR:
		if (onerror_parse(&c->onerr, arg, &e) == -1)
			cli_usage_error(c, "%s", e.msg);
		break;
	case CLI_OPT_MAX_LINE:
		/* --max-record-bytes speaks as the option it stands for. */
		c->optname = "max-line-bytes";
		c->max_line = cli_size(c, arg, 16, 1ULL << 40);
		break;
	default:
		assert(!"not a common option");
	}
}

static int
is_common(int id)
{
	size_t i;

	for (i = 0; i < NCOMMON; i++)
		if (opt_id(&common[i].opt) == id)
			return 1;
	return 0;
}

int
cli_getopt(struct cli *c, const struct cli_spec *spec, int argc, char **argv)
{
	const struct cli_opt *o;
	int id, idx;

	if (c->spec != spec) {
		c->spec = spec;
		build_options(spec);
	}
	for (;;) {
		idx = -1;
		if ((id = getopt_long(argc, argv, shortopts, longopts,
		    &idx)) == -1)
			return -1;
		/* The entry itself: two names may share an id. */
		if ((o = idx >= 0 ? all[idx] : find_id(id)) == NULL)
			cli_usage(c);	/* getopt_long said why */
		c->optname = o->name;
		if (!is_common(id))
			return id;
		common_option(c, id, optarg);
	}
}

long long
cli_num(struct cli *c, const char *arg, long long min, long long max)
{
	struct lib_err e;
	long long n;

	if (strtonum_ll(arg, min, max, &n, &e) == -1)
		cli_usage_error(c, "--%s: %s", c->optname, e.msg);
	return n;
}

unsigned long long
cli_size(struct cli *c, const char *arg, unsigned long long min,
    unsigned long long max)
{
	struct lib_err e;
	unsigned long long n;

	if (strtonum_size(arg, min, max, &n, &e) == -1)
		cli_usage_error(c, "--%s: %s", c->optname, e.msg);
	return n;
}

long double
cli_real(struct cli *c, const char *arg, long double min, int min_open,
    long double max)
{
	char *end;
	long double v;

	errno = 0;
	v = strtold(arg, &end);
	if (end == arg || *end != '\0' || errno != 0 || !isfinite(v) ||
	    (min_open ? !(v > min) : !(v >= min)) || v > max) {
		if (max == HUGE_VALL)
			cli_usage_error(c, "--%s: expected a number, %s%.10Lg%s",
			    c->optname, min_open ? "more than " : "", min,
			    min_open ? "" : " or more");
		cli_usage_error(c, "--%s: expected a number, %s%.10Lg%s%.10Lg",
		    c->optname, min_open ? "more than " : "", min,
		    min_open ? " and at most " : " to ", max);
	}
	return v;
}

const struct cli_choice cli_type_conflicts[] = {
	{ "variant", 0 }, { "fail", 1 }, { NULL, 0 }
};

int
cli_enum(struct cli *c, const char *arg, const struct cli_choice *choices)
{
	char list[256];
	size_t i, n, len = 0;

	for (n = 0; choices[n].name != NULL; n++)
		if (strcmp(arg, choices[n].name) == 0)
			return choices[n].value;
	for (i = 0; i < n && len < sizeof(list); i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
		    i == 0 ? "" : i + 1 == n ? " or " : ", ", choices[i].name);
	cli_usage_error(c, "--%s: '%s': expected %s", c->optname, arg, list);
}

int
cli_begin(struct cli *c)
{
	int show = !c->quiet && (c->progress || isatty(STDERR_FILENO));
	struct lib_err e;

	stats_init(&c->stats, c->prog, show ? stderr : NULL);
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
	lo.keep_depth = c->keep_depth;
	lo.workers = c->workers;
	lo.stop = &stop_reading;
	if ((c->lines = lines_new(&lo, &e)) == NULL) {
		cli_error(c, e.code, "%s", e.msg);
		return -1;
	}
	return 0;
}

/* A bad line: apply --on-error.  0 to go on, -1 to stop. */
static int
bad_line(struct cli *c, const struct cli_line *l, const char *reason)
{
	struct lib_err e;

	c->stats.errors++;
	liberr_clear(&e);
	if (onerror_reject(&c->onerr, l->file, l->lineno, reason, l->text,
	    l->len, &e) == 0) {
		if (c->onerr.mode == ONERROR_SKIP && !c->quiet)
			cli_warn_at(c, l, "%s (skipped)", reason);
		return 0;
	}
	if (e.code != 0) {
		cli_error(c, e.code, "%s", e.msg);
		return -1;
	}
	cli_warn_at(c, l, "%s", reason);
	if (c->status == 0)
		c->status = EX_DATAERR;
	return -1;
}

int
cli_reject(struct cli *c, const struct cli_line *l, const char *reason)
{
	struct cli_line kept;
	struct lib_err e;

	if (c->redact == NULL || l->msg.root == NULL)
		return bad_line(c, l, reason);
	jbuf_reset(&c->redacted);
	if (c->redact(c->redact_arg, l, &c->redacted, &e) == -1) {
		cli_error(c, e.code, "%s", e.msg);
		return -1;
	}
	kept = *l;
	kept.text = c->redacted.p;
	kept.len = c->redacted.len;
	return bad_line(c, &kept, reason);
}

int
cli_next(struct cli *c, struct cli_line *l)
{
	struct lines_item it;
	struct lib_err e;

	for (;;) {
		if (cli_signalled()) {
			c->status = 128 + cli_signalled();
			return -1;
		}
		lines_next(c->lines, &it);
		switch (it.kind) {
		case LINES_END:
			return 0;
		case LINES_FATAL:
			if (cli_signalled())
				c->status = 128 + cli_signalled();
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
		c->stats.lines++;
		c->stats.bytes = it.bytes;
		stats_tick(&c->stats);
		if (it.kind == LINES_DOC && c->arrays &&
		    it.root->type == JV_ARRAY) {
			memset(&l->msg, 0, sizeof(l->msg));
			l->msg.kind = MSG_BARE;
			l->msg.root = l->msg.record = it.root;
			c->stats.records++;
			return 1;
		}
		if (it.kind == LINES_BAD) {
			if (bad_line(c, l, it.msg) == -1)
				return -1;
			continue;
		}
		if (message_classify(it.root, c->raw, &l->msg, &e) == -1) {
			/* It parsed: cli_reject redacts it like any record. */
			memset(&l->msg, 0, sizeof(l->msg));
			l->msg.root = it.root;
			l->msg.record = it.root->type == JV_OBJECT ?
			    jval_get(it.root, "record") : NULL;
			if (cli_reject(c, l, e.msg) == -1)
				return -1;
			continue;
		}
		if (l->msg.kind == MSG_BARE || l->msg.kind == MSG_RECORD)
			c->stats.records++;
		else
			c->stats.messages++;
		return 1;
	}
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
	c->status = EX_DATAERR;
	if (l->msg.status != NULL && jval_int64(l->msg.status, &st) &&
	    st >= 64 && st <= 78)
		c->status = (int)st;
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
		c->status = EX_SOFTWARE;
		return -1;
	}
	return 0;
}

/* Write everything or fail; EPIPE means the reader left: die quietly. */
static int
write_all(struct cli *c, const char *p, size_t n)
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
			cli_error(c, liberr_errno_status(errno, EX_IOERR),
			    "stdout: %s", strerror(errno));
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
cli_flush(struct cli *c)
{
	int rc;

	/* After a failed write, the stream is broken: no more of it. */
	rc = c->out_failed ? -1 : write_all(c, c->out.p, c->out.len);
	jbuf_reset(&c->out);
	return rc;
}

int
cli_write(struct cli *c, const void *p, size_t n)
{
	if (c->out_failed)
		return -1;
	if (c->out.len + n > OUT_BLOCK && c->out.len > 0 && cli_flush(c) == -1)
		return -1;
	if (n >= OUT_BLOCK)
		return write_all(c, p, n);
	jbuf_put(&c->out, p, n);
	return 0;
}

int
cli_close_side_files(struct cli *c, const char *stats_extra)
{
	struct lib_err e;
	char extra[512];
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
	if (c->stats_file.fp == NULL)
		return rc;
	(void)snprintf(extra, sizeof(extra),
	    "\"skipped\":%lu,\"quarantined\":%lu%s%s",
	    c->onerr.mode == ONERROR_SKIP ? c->onerr.rejected : 0,
	    c->onerr.mode == ONERROR_QUARANTINE ? c->onerr.rejected : 0,
	    stats_extra != NULL && *stats_extra ? "," : "",
	    stats_extra != NULL ? stats_extra : "");
	if (stats_write(&c->stats, &c->stats_file, extra, &e) == -1) {
		cli_error(c, e.code, "%s", e.msg);
		rc = -1;
	}
	return rc;
}

int
cli_finish(struct cli *c, const char *stats_extra)
{
	lines_free(c->lines);
	c->lines = NULL;
	stats_progress_done(&c->stats);
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
