/*
 * The options of a program, from its table (struct cli_spec in cli.h):
 * getopt_long's options, the usage synopsis in the order of the manual's
 * SYNOPSIS, the --help text, the common options handled once, and the
 * typed helpers that make a checked option one line.
 */
#include <assert.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "exitcodes.h"
#include "strtonum.h"

/*
 * The options every program has.  Those for streams read NDJSON: a
 * program with CLI_NO_STREAM (pgfetch) has none of them; those for types
 * only a program with CLI_TYPES (schema-infer, sqlite-load).
 */
enum common_kind { FOR_ALL, FOR_STREAMS, FOR_TYPES };

static const struct {
	struct cli_opt	 opt;
	enum common_kind kind;
} common[] = {
	{ { "table", 't', 0, "table",
	    "stream of bare records (default: data)", NULL, NULL }, FOR_STREAMS },
	{ { "raw", 0, CLI_OPT_RAW, NULL,
	    "no message detection: every line is a record", NULL, NULL },
	    FOR_STREAMS },
	{ { "on-error", 0, CLI_OPT_ON_ERROR, "policy",
	    "fail (default), skip or quarantine=FILE", NULL, NULL }, FOR_ALL },
	{ { "stats", 0, CLI_OPT_STATS, "file",
	    "write a JSON summary to FILE", NULL, NULL }, FOR_ALL },
	{ { "progress", 0, CLI_OPT_PROGRESS, NULL,
	    "show progress even in a pipe or a log", NULL, NULL }, FOR_ALL },
	{ { "progress-interval", 0, CLI_OPT_PROGRESS_INTERVAL, "seconds",
	    "between progress lines in a log (default 10)", NULL, NULL },
	    FOR_ALL },
	{ { "quiet", 'q', 0, NULL,
	    "no progress, notices or summary", NULL, NULL }, FOR_ALL },
	{ { "max-line-bytes", 0, CLI_OPT_MAX_LINE, "size",
	    "longest accepted line or record (default 64M)", NULL, NULL }, FOR_ALL },
	{ { "no-detect", 0, CLI_OPT_NO_DETECT, NULL,
	    "strings are text: no timestamp/date detection", NULL, NULL },
	    FOR_TYPES },
	{ { "on-type-conflict", 0, CLI_OPT_ON_TYPE_CONFLICT, "variant|fail",
	    "odd values go to COL__v_TYPE (default) or stop", NULL, NULL },
	    FOR_TYPES },
	{ { "help", 'h', 0, NULL, "show this help", NULL, NULL }, FOR_ALL },
	{ { "version", 'V', 0, NULL, "show the version", NULL, NULL }, FOR_ALL },
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
	for (o = spec->opts; o != NULL && o->name != NULL; o++) {
		assert(nall < MAX_OPTS - NCOMMON);
		all[nall++] = o;
	}
	for (i = 0; i < NCOMMON; i++)
		if ((common[i].kind == FOR_STREAMS &&
		    !(spec->flags & CLI_NO_STREAM)) ||
		    (common[i].kind == FOR_TYPES && (spec->flags & CLI_TYPES)) ||
		    common[i].kind == FOR_ALL)
			all[nall++] = &common[i].opt;
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

static const struct cli_choice type_conflicts[] = {
	{ "variant", 0 }, { "fail", 1 }, { NULL, 0 }
};

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

	va_start(ap, fmt);
	cli_verror(c, EX_USAGE, fmt, ap);
	va_end(ap);
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
	case CLI_OPT_PROGRESS_INTERVAL:
		c->progress_interval = (double)cli_real(c, arg, 0, 1, 86400);
		break;
	case CLI_OPT_STATS:
		c->stats_path = arg;
		break;
	case CLI_OPT_ON_ERROR:
		if (onerror_parse(&c->onerr, arg, &e) == -1)
			cli_usage_error(c, "--%s: %s", c->optname, e.msg);
		break;
	case CLI_OPT_NO_DETECT:
		c->types.detect = 0;
		break;
	case CLI_OPT_ON_TYPE_CONFLICT:
		c->types.conflict_fail = cli_enum(c, arg, type_conflicts);
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
