/*
 * pgfetch: records out of an API (paginated, retried, in parallel when
 * asked) or out of a file (JSON Lines, JSON documents streamed, CSV,
 * gzip-compressed or not; local or over HTTP), as NDJSON on stdout.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "checkpoint.h"
#include "cli.h"
#include "exitcodes.h"
#include "extract.h"
#include "http.h"
#include "paginate.h"
#include "secrets.h"
#include "source.h"
#include "strtonum.h"
#include "xalloc.h"

enum {
	OPT_FORMAT = CLI_OPT_PRIVATE, OPT_RECORDS, OPT_DELIMITER, OPT_NO_HEADER,
	OPT_CSV_TYPES, OPT_MAX_RECORDS, OPT_PAGINATE, OPT_PAGE_PARAM, OPT_START,
	OPT_OFFSET_PARAM, OPT_LIMIT_PARAM, OPT_LIMIT, OPT_CURSOR_PATH,
	OPT_CURSOR_PARAM, OPT_NEXT_PATH, OPT_TOTAL_PATH, OPT_MAX_PAGES,
	OPT_HEADER_FILE, OPT_BEARER_ENV, OPT_BASIC_ENV, OPT_API_KEY_ENV,
	OPT_API_KEY_HEADER, OPT_API_KEY_PARAM, OPT_RETRIES, OPT_BACKOFF,
	OPT_TIMEOUT, OPT_CONNECT_TIMEOUT, OPT_INSECURE, OPT_SINCE, OPT_SINCE_PARAM,
	OPT_RATE, OPT_PARALLEL, OPT_CHECKPOINT, OPT_RECORDS_JQ
};

static const struct option longopts[] = {
	{ "on-error",		required_argument,	NULL, CLI_OPT_ON_ERROR },
	{ "stats",		required_argument,	NULL, CLI_OPT_STATS },
	{ "progress",		no_argument,		NULL, CLI_OPT_PROGRESS },
	{ "quiet",		no_argument,		NULL, 'q' },
	{ "max-line-bytes",	required_argument,	NULL, CLI_OPT_MAX_LINE },
	{ "help",		no_argument,		NULL, 'h' },
	{ "version",		no_argument,		NULL, 'V' },
	{ "messages",		no_argument,		NULL, 'm' },
	{ "stream",		required_argument,	NULL, 's' },
	{ "format",		required_argument,	NULL, OPT_FORMAT },
	{ "records",		required_argument,	NULL, OPT_RECORDS },
	{ "delimiter",		required_argument,	NULL, OPT_DELIMITER },
	{ "no-header",		no_argument,		NULL, OPT_NO_HEADER },
	{ "csv-types",		no_argument,		NULL, OPT_CSV_TYPES },
	{ "max-records",	required_argument,	NULL, OPT_MAX_RECORDS },
	{ "paginate",		required_argument,	NULL, OPT_PAGINATE },
	{ "page-param",		required_argument,	NULL, OPT_PAGE_PARAM },
	{ "start",		required_argument,	NULL, OPT_START },
	{ "offset-param",	required_argument,	NULL, OPT_OFFSET_PARAM },
	{ "limit-param",	required_argument,	NULL, OPT_LIMIT_PARAM },
	{ "limit",		required_argument,	NULL, OPT_LIMIT },
	{ "cursor-path",	required_argument,	NULL, OPT_CURSOR_PATH },
	{ "cursor-param",	required_argument,	NULL, OPT_CURSOR_PARAM },
	{ "next-path",		required_argument,	NULL, OPT_NEXT_PATH },
	{ "total-path",		required_argument,	NULL, OPT_TOTAL_PATH },
	{ "max-pages",		required_argument,	NULL, OPT_MAX_PAGES },
	{ "param",		required_argument,	NULL, 'p' },
	{ "header",		required_argument,	NULL, 'H' },
	{ "header-file",	required_argument,	NULL, OPT_HEADER_FILE },
	{ "bearer-env",		required_argument,	NULL, OPT_BEARER_ENV },
	{ "basic-env",		required_argument,	NULL, OPT_BASIC_ENV },
	{ "api-key-env",	required_argument,	NULL, OPT_API_KEY_ENV },
	{ "api-key-header",	required_argument,	NULL, OPT_API_KEY_HEADER },
	{ "api-key-param",	required_argument,	NULL, OPT_API_KEY_PARAM },
	{ "retries",		required_argument,	NULL, OPT_RETRIES },
	{ "backoff-base",	required_argument,	NULL, OPT_BACKOFF },
	{ "timeout",		required_argument,	NULL, OPT_TIMEOUT },
	{ "connect-timeout",	required_argument,	NULL, OPT_CONNECT_TIMEOUT },
	{ "insecure",		no_argument,		NULL, OPT_INSECURE },
	{ "since",		required_argument,	NULL, OPT_SINCE },
	{ "since-param",	required_argument,	NULL, OPT_SINCE_PARAM },
	{ "rate",		required_argument,	NULL, OPT_RATE },
	{ "parallel",		required_argument,	NULL, OPT_PARALLEL },
	{ "checkpoint",		required_argument,	NULL, OPT_CHECKPOINT },
	{ "records-jq",		required_argument,	NULL, OPT_RECORDS_JQ },
	{ "verbose",		no_argument,		NULL, 'v' },
	{ NULL, 0, NULL, 0 }
};

static const char synopsis[] =
"usage: pgfetch [-mqvhV] [-s stream] [--format jsonl|json|csv|auto]\n"
"               [--records path | --records-jq expr] [--delimiter c]\n"
"               [--no-header] [--csv-types] [--paginate mode]\n"
"               [paginator options] [--parallel n] [--checkpoint file]\n"
"               [-p name=value] [-H header] [--bearer-env var]\n"
"               [--basic-env uvar:pvar]\n"
"               [--api-key-env var --api-key-header|--api-key-param name]\n"
"               [--retries n] [--timeout s] [--max-pages n] [--max-records n]\n"
"               [--on-error policy] [--stats file] source\n";

static void
usage(void)
{
	(void)fputs(synopsis, stderr);
	exit(EX_USAGE);
}

static void
help(void)
{
	(void)printf("%s\n"
	    "Write the records behind an API, or in a file, as NDJSON.  SOURCE is\n"
	    "an http(s) URL, a path, - for stdin, or file://PATH.  Files are JSON\n"
	    "Lines, a JSON document (its array of records streamed) or CSV;\n"
	    "gzip is undone.\n\n"
	    "  -m, --messages          write Singer RECORD messages\n"
	    "  -s, --stream NAME       their stream\n"
	    "      --format FORMAT     jsonl, json, csv or auto (default)\n"
	    "      --records PATH      json: the array of records, e.g. .data.items\n"
	    "      --records-jq EXPR   API pages: a jq program that yields them\n"
	    "      --delimiter C       csv: the field separator (default ,)\n"
	    "      --no-header         csv: no header row; keys are col_1...\n"
	    "      --csv-types         csv: numbers, booleans, empty is null\n"
	    "      --max-records N     stop after N records\n"
	    "      --paginate MODE     page, offset, cursor, next, link, none, auto\n"
	    "      --page-param NAME --start N      (page)\n"
	    "      --offset-param NAME --limit-param NAME --limit N      (offset)\n"
	    "      --cursor-path PATH --cursor-param NAME      (cursor)\n"
	    "      --next-path PATH    (next)   --total-path PATH   --max-pages N\n"
	    "      --parallel N        page, offset: N requests in flight\n"
	    "      --checkpoint FILE   resume an unfinished extraction from FILE\n"
	    "  -p, --param NAME=VALUE  a query parameter\n"
	    "  -H, --header 'N: V'     a request header; --header-file FILE\n"
	    "      --bearer-env VAR    Authorization: Bearer $VAR\n"
	    "      --basic-env U:P     basic auth from $U and $P\n"
	    "      --api-key-env VAR   with --api-key-header NAME or --api-key-param NAME\n"
	    "      --retries N         (5)  --backoff-base S (0.5)  --timeout S (60)\n"
	    "      --connect-timeout S (10)  --insecure\n"
	    "      --rate N            at most N requests a second\n"
	    "      --since VALUE --since-param NAME   incremental: NAME=VALUE\n"
	    "                          (an empty VALUE adds nothing)\n"
	    "  -v, --verbose           one line per request on stderr\n"
	    "      --on-error POLICY   fail (default), skip or quarantine=FILE\n"
	    "      --stats FILE        write a JSON summary to FILE\n"
	    "      --progress          show progress even when stderr is no terminal\n"
	    "  -q, --quiet             no progress or notices\n"
	    "      --max-line-bytes N  longest record or line (default 64M)\n"
	    "  -h, --help              show this help\n"
	    "  -V, --version           show the version\n", synopsis);
	exit(0);
}

struct fetch {
	struct cli	 cli;
	const char	*name;		/* the source, for messages */
	int		 messages;
	const char	*stream;
	char		 extracted[40];
	unsigned long long max_records;
	struct jbuf	 buf;
	char		 statsx[96];	/* --stats members of HTTP */
	/* HTTP */
	struct page_opts page;
	struct http_opts http;
	const char	**params;
	size_t		 nparams;
	const char	**headers;
	size_t		 nheaders;
	const char	**secret_headers;
	size_t		 nsecret_headers;
	const char	*checkpoint;	/* --checkpoint FILE */
	struct jbuf	 source;	/* the API as the checkpoint names it */
	struct jbuf	 shown;		/* the URL as messages name it: redacted */
	struct jbuf	 mark_next;	/* a checkpoint's next URL, key dropped */
	char		*secrets[4];	/* strings that hold a secret, to free */
	char		**owned;	/* header-file lines, to free */
	size_t		 nowned;
	int		 verbose;
	char		*file_type;	/* an API URL that answered with a file */
	char		*since;		/* NAME=VALUE of --since */
	/* Every secret value known: masked in all that is printed or written. */
	struct secrets	*known;
	struct jbuf	 masked;
	struct jbuf	 masked2;
	struct jbuf	 masked3;
};

/* text with the secrets masked, in out (until its next use). */
static const char *
masked(const struct fetch *f, const char *text, size_t n, struct jbuf *out)
{
	jbuf_reset(out);
	secrets_mask(f->known, text, n, 0, out);
	return jbuf_cstr(out);
}

/*
 * Every message of pgfetch goes through here, to stderr and to the abort
 * line: formatted whole, then its secrets masked, then cut to length.
 */
static void __attribute__((format(printf, 3, 4)))
say(struct fetch *f, int code, const char *fmt, ...)
{
	struct jbuf out = JBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	secrets_vformat(f->known, &out, fmt, ap);
	va_end(ap);
	cli_error(&f->cli, code, "%s", jbuf_cstr(&out));
	jbuf_free(&out);
}

static int
on_record(void *arg, const char *json, size_t len, unsigned long line)
{
	struct fetch *f = arg;

	(void)line;
	f->cli.stats.records++;
	f->cli.stats.lines++;
	stats_tick(&f->cli.stats);
	if (!f->messages) {
		if (cli_write(&f->cli, json, len) == -1 ||
		    cli_write(&f->cli, "\n", 1) == -1)
			return -1;
		/* The last one wanted: stop before reading any further. */
		return f->max_records > 0 &&
		    f->cli.stats.records >= f->max_records ? -1 : 0;
	}
	jbuf_reset(&f->buf);
	jbuf_puts(&f->buf, "{\"type\":\"RECORD\",\"stream\":");
	jbuf_str(&f->buf, f->stream, strlen(f->stream));
	jbuf_puts(&f->buf, ",\"record\":");
	jbuf_put(&f->buf, json, len);
	jbuf_puts(&f->buf, ",\"time_extracted\":\"");
	jbuf_puts(&f->buf, f->extracted);
	jbuf_puts(&f->buf, "\"}\n");
	if (cli_write(&f->cli, f->buf.p, f->buf.len) == -1)
		return -1;
	return f->max_records > 0 && f->cli.stats.records >= f->max_records ?
	    -1 : 0;
}

static int
on_bad(void *arg, const char *text, size_t len, unsigned long line,
    const char *why)
{
	struct fetch *f = arg;
	struct cli_line l;

	/* Into the quarantine file and the messages: the secrets masked. */
	memset(&l, 0, sizeof(l));
	l.text = masked(f, text, len, &f->masked);
	l.len = f->masked.len;
	l.file = masked(f, f->name, strlen(f->name), &f->masked2);
	l.lineno = line;
	return cli_reject(&f->cli, &l, masked(f, why, strlen(why),
	    &f->masked3));
}

/* --stats: what went over the wire. */
static void
http_counts_stats(struct fetch *f, const struct http *h)
{
	unsigned long requests, retries;
	unsigned long long bytes;

	http_counts(h, &requests, &retries, &bytes);
	f->cli.stats.bytes = bytes;
	(void)snprintf(f->statsx, sizeof(f->statsx),
	    "\"requests\":%lu,\"retries\":%lu", requests, retries);
}

/* A file, local (fd) or over HTTP (url): its records, gzip undone. */
static void
run(struct fetch *f, int fd, const char *url, const struct extract_opts *xo)
{
	struct http *h;
	struct lib_err e;

	if (url == NULL) {
		if (source_fd(xo, fd, f->name, &f->cli.stats.bytes, &e) == -1)
			say(f, e.code, "%s", e.msg);
		return;
	}
	if ((h = http_new(&f->http, &e)) == NULL) {
		say(f, e.code, "%s", e.msg);
		return;
	}
	http_redact(h, url, &f->shown);
	f->name = jbuf_cstr(&f->shown);
	if (source_url(xo, h, url, &e) == -1)
		say(f, e.code, "%s", e.msg);
	http_counts_stats(f, h);
	http_free(h);
}

static const char **
push(const char **v, size_t *n, const char *s)
{
	const char **nv;

	if ((nv = realloc(v, (*n + 1) * sizeof(*v))) == NULL)
		abort();
	nv[(*n)++] = s;
	return nv;
}

/* A secret from the environment; NULL after a message when it is unset. */
static const char *
secret_env(struct fetch *f, const char *var, const char *opt)
{
	const char *v = getenv(var);

	if (v == NULL || *v == '\0') {
		say(f, EX_USAGE, "%s: $%s is not set", opt, var);
		return NULL;
	}
	return v;
}

static char *
joined(const char *a, const char *b, const char *c)
{
	size_t n = strlen(a) + strlen(b) + strlen(c) + 1;
	char *s;

	if ((s = malloc(n)) == NULL)
		abort();
	(void)snprintf(s, n, "%s%s%s", a, b, c);
	return s;
}

static int
page_record(void *arg, const char *json, size_t len)
{
	return on_record(arg, json, len, 0);
}

static void
note(void *arg, const char *msg)
{
	struct fetch *f = arg;

	if (!f->cli.quiet)
		say(f, 0, "%s", msg);
}

static void
trace(void *arg, const char *line)
{
	struct fetch *f = arg;

	if (f->verbose)
		say(f, 0, "%s", line);
}

/* --header-file: one header a line; blank lines and # comments skipped. */
static int
header_file(struct fetch *f, const char *path)
{
	FILE *fp;
	char *line = NULL, *copy, **owned;
	size_t cap = 0;
	ssize_t n;

	if ((fp = fopen(path, "r")) == NULL) {
		say(f, EX_NOINPUT, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((n = getline(&line, &cap, fp)) != -1) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0 || line[0] == '#')
			continue;
		if ((copy = strdup(line)) == NULL)
			abort();
		/* The place for secrets: none goes to another host. */
		f->secret_headers = push(f->secret_headers, &f->nsecret_headers,
		    copy);
		if ((owned = realloc(f->owned, (f->nowned + 1) *
		    sizeof(*owned))) == NULL)
			abort();
		f->owned = owned;
		f->owned[f->nowned++] = copy;
	}
	free(line);
	(void)fclose(fp);
	return 0;
}

/* A page's record that is not an object: the --on-error policy. */
static int
page_bad(void *arg, const char *json, size_t len, unsigned long n,
    const char *why)
{
	return on_bad(arg, json, len, n, why);
}

/* After each page: the checkpoint, when one is kept. */
static int
page_mark(void *arg, const struct page_mark *m, struct lib_err *e)
{
	struct fetch *f = arg;
	struct page_mark kept = *m;

	if (f->checkpoint == NULL)
		return 0;
	/* "Written" means handed to the kernel, not held in our buffer. */
	if (cli_flush(&f->cli) == -1)
		return liberr_set(e, 0, "stdout"), -1;
	/*
	 * An API that echoes the key into its next URL: not into the file, as
	 * the key goes with the request anyway; any other secret is masked.
	 */
	if (kept.next != NULL && f->http.key_param != NULL) {
		http_drop_param(kept.next, f->http.key_param, &f->mark_next);
		kept.next = f->mark_next.p;
	}
	if (kept.next != NULL)
		kept.next = masked(f, kept.next, strlen(kept.next), &f->masked);
	if (kept.cursor != NULL)
		kept.cursor = masked(f, kept.cursor, strlen(kept.cursor),
		    &f->masked2);
	return checkpoint_save(f->checkpoint, masked(f, f->source.p,
	    f->source.len, &f->masked3), &kept, e);
}

/* The first answer is a file: remember its type, stream it after. */
static void
page_file(void *arg, const char *content_type)
{
	struct fetch *f = arg;

	free(f->file_type);
	f->file_type = xalloc_memdup(content_type, strlen(content_type));
	if (!f->cli.quiet)
		say(f, 0, "%s is a file (Content-Type %s): streaming "
		    "it", f->name, content_type);
}

/* HTTP(S): walk the pages. */
static void
fetch_url(struct fetch *f, const char *url, const char *records)
{
	struct checkpoint cp;
	struct http *h;
	struct lib_err e;
	int found = 0;

	memset(&cp, 0, sizeof(cp));
	f->page.params = f->params;
	f->page.nparams = f->nparams;
	f->page.records = records;
	f->page.max_body = (size_t)f->cli.max_line;
	f->page.record = page_record;
	f->page.bad = page_bad;
	f->page.mark = page_mark;
	f->page.file = f->page.records_jq == NULL ? page_file : NULL;
	f->page.note = note;
	f->page.arg = f;
	if ((h = http_new(&f->http, &e)) == NULL) {
		say(f, e.code, "%s", e.msg);
		return;
	}
	http_redact(h, url, &f->shown);
	f->name = jbuf_cstr(&f->shown);
	if (f->checkpoint != NULL) {
		/* The checkpoint names the API without its secrets. */
		paginate_base(url, f->params, f->nparams, &f->buf);
		http_strip(h, jbuf_cstr(&f->buf), &f->source);
		(void)jbuf_cstr(&f->source);
		if (checkpoint_load(f->checkpoint, masked(f, f->source.p,
		    f->source.len, &f->masked3), &cp, &found, &e) == -1) {
			say(f, e.code, "%s", e.msg);
			goto out;
		}
		if (found && f->page.mode != PAGE_AUTO &&
		    f->page.mode != cp.mark.mode) {
			say(f, EX_USAGE, "--checkpoint %s was written for "
			    "--paginate %s; remove it to start over", f->checkpoint,
			    paginate_mode_name(cp.mark.mode));
			goto out;
		}
		if (found) {
			f->page.resume = &cp.mark;
			note(f, "resuming from the checkpoint");
		}
	}
	if (paginate(h, url, &f->page, &e) == -1) {
		if (e.code != 0)
			say(f, e.code, "%s", e.msg);
	} else if (f->checkpoint != NULL && f->cli.status == 0 &&
	    checkpoint_remove(f->checkpoint, &e) == -1)
		say(f, e.code, "%s", e.msg);
out:
	http_counts_stats(f, h);
	checkpoint_free(&cp);
	http_free(h);
}

/* What a file's name and the options say of how to read it. */
static int
file_opts(struct fetch *f, struct extract_opts *xo, const char *path)
{
	size_t n = strlen(path);

	if (xo->format == EXTRACT_AUTO && xo->records != NULL)
		xo->format = EXTRACT_JSON;
	if (xo->records != NULL && xo->format != EXTRACT_JSON) {
		say(f, EX_USAGE, "--records applies to JSON documents, "
		    "and %s is not one", f->name);
		return -1;
	}
	if (xo->delimiter == 0)
		xo->delimiter = (n > 4 && (strcmp(path + n - 4, ".tsv") == 0 ||
		    (n > 7 && strcmp(path + n - 7, ".tsv.gz") == 0))) ? '\t' : ',';
	xo->max_record = (size_t)f->cli.max_line;
	xo->record = on_record;
	xo->bad = on_bad;
	xo->arg = f;
	return 0;
}

int
main(int argc, char *argv[])
{
	struct fetch f;
	struct extract_opts xo;
	struct lib_err e;
	struct jbuf withparams = JBUF_INIT;
	struct stat sb;
	const char *src, *path, *v;
	const char *bearer_env = NULL, *basic_env = NULL, *key_env = NULL;
	const char *key_header = NULL, *key_param = NULL;
	const char *since = NULL, *since_param = NULL, *records_jq = NULL;
	char *end;
	long long ll;
	int ch, fd, rc, http, file, begun = 0;

	memset(&f, 0, sizeof(f));
	f.known = secrets_new();
	memset(&xo, 0, sizeof(xo));
	xo.header = 1;
	f.page.mode = PAGE_AUTO;
	f.page.page_param = "page";
	f.page.start = 1;
	f.page.offset_param = "offset";
	f.page.limit_param = "limit";
	f.page.limit = 100;
	f.page.cursor_param = "cursor";
	f.page.next_path = "next";
	f.http.timeout = 60;
	f.http.connect_timeout = 10;
	f.http.retries = 5;
	f.http.backoff_base = 0.5;
	cli_init(&f.cli, "pgfetch");
	f.cli.filter = 1;
	while ((ch = getopt_long(argc, argv, "mqvs:p:H:hV", longopts,
	    NULL)) != -1) {
		if ((rc = cli_option(&f.cli, ch, optarg)) == 1)
			continue;
		if (rc == -1)
			usage();
		switch (ch) {
		case 'h':
			help();
			break;
		case 'm':
			f.messages = 1;
			break;
		case 's':
			f.stream = optarg;
			break;
		case OPT_FORMAT:
			if (strcmp(optarg, "jsonl") == 0)
				xo.format = EXTRACT_JSONL;
			else if (strcmp(optarg, "json") == 0)
				xo.format = EXTRACT_JSON;
			else if (strcmp(optarg, "csv") == 0)
				xo.format = EXTRACT_CSV;
			else if (strcmp(optarg, "auto") == 0)
				xo.format = EXTRACT_AUTO;
			else {
				say(&f, EX_USAGE, "--format: '%s': expected "
				    "jsonl, json, csv or auto", optarg);
				usage();
			}
			break;
		case OPT_RECORDS:
			xo.records = optarg;
			break;
		case OPT_DELIMITER:
			if (strcmp(optarg, "\\t") == 0 || strcmp(optarg, "tab") == 0)
				xo.delimiter = '\t';
			else if (strlen(optarg) == 1)
				xo.delimiter = optarg[0];
			else {
				say(&f, EX_USAGE, "--delimiter: '%s': one "
				    "character, or \\t", optarg);
				usage();
			}
			break;
		case OPT_NO_HEADER:
			xo.header = 0;
			break;
		case OPT_CSV_TYPES:
			xo.csv_types = 1;
			break;
		case OPT_MAX_RECORDS:
			if (strtonum_ll(optarg, 1, (1LL << 62), &ll, &e) == -1) {
				say(&f, EX_USAGE, "--max-records: %s", e.msg);
				usage();
			}
			f.max_records = (unsigned long long)ll;
			break;
		case OPT_PAGINATE:
			if (paginate_mode(optarg, &f.page.mode) == -1) {
				say(&f, EX_USAGE, "--paginate: '%s'", optarg);
				usage();
			}
			break;
		case OPT_PAGE_PARAM:
			f.page.page_param = optarg;
			break;
		case OPT_START:
		case OPT_LIMIT:
		case OPT_MAX_PAGES:
		case OPT_RETRIES:
		case OPT_TIMEOUT:
		case OPT_CONNECT_TIMEOUT:
			if (strtonum_ll(optarg, ch == OPT_START || ch == OPT_RETRIES ?
			    0 : 1, 1LL << 40, &ll, &e) == -1) {
				say(&f, EX_USAGE, "%s: %s", argv[optind - 1],
				    e.msg);
				usage();
			}
			if (ch == OPT_START)
				f.page.start = ll;
			else if (ch == OPT_LIMIT)
				f.page.limit = ll;
			else if (ch == OPT_MAX_PAGES)
				f.page.max_pages = (unsigned long long)ll;
			else if (ch == OPT_RETRIES)
				f.http.retries = (int)(ll > 100 ? 100 : ll);
			else if (ch == OPT_TIMEOUT)
				f.http.timeout = (long)ll;
			else
				f.http.connect_timeout = (long)ll;
			break;
		case OPT_BACKOFF:
			f.http.backoff_base = strtod(optarg, &end);
			if (*end != '\0' || f.http.backoff_base < 0 ||
			    f.http.backoff_base > 60) {
				say(&f, EX_USAGE, "--backoff-base: '%s'", optarg);
				usage();
			}
			break;
		case OPT_OFFSET_PARAM:
			f.page.offset_param = optarg;
			break;
		case OPT_LIMIT_PARAM:
			f.page.limit_param = optarg;
			break;
		case OPT_CURSOR_PATH:
			f.page.cursor_path = optarg;
			break;
		case OPT_CURSOR_PARAM:
			f.page.cursor_param = optarg;
			break;
		case OPT_NEXT_PATH:
			f.page.next_path = optarg;
			break;
		case OPT_TOTAL_PATH:
			f.page.total_path = optarg;
			break;
		case 'p':
			if (strchr(optarg, '=') == NULL || optarg[0] == '=') {
				say(&f, EX_USAGE, "-p: '%s': NAME=VALUE",
				    optarg);
				usage();
			}
			f.params = push(f.params, &f.nparams, optarg);
			break;
		case 'H':
			if (strchr(optarg, ':') == NULL) {
				say(&f, EX_USAGE, "-H: 'Name: value'");
				usage();
			}
			if (http_secret_header(optarg))
				f.secret_headers = push(f.secret_headers,
				    &f.nsecret_headers, optarg);
			else
				f.headers = push(f.headers, &f.nheaders, optarg);
			break;
		case OPT_HEADER_FILE:
			if (header_file(&f, optarg) == -1)
				goto out;
			break;
		case OPT_BEARER_ENV:
			bearer_env = optarg;
			break;
		case OPT_BASIC_ENV:
			basic_env = optarg;
			break;
		case OPT_API_KEY_ENV:
			key_env = optarg;
			break;
		case OPT_API_KEY_HEADER:
			key_header = optarg;
			break;
		case OPT_API_KEY_PARAM:
			key_param = optarg;
			break;
		case OPT_INSECURE:
			f.http.insecure = 1;
			break;
		case OPT_SINCE:
			since = optarg;
			break;
		case OPT_SINCE_PARAM:
			since_param = optarg;
			break;
		case OPT_RATE:
			f.http.rate = strtod(optarg, &end);
			if (*end != '\0' || !(f.http.rate > 0) || f.http.rate > 1e6) {
				say(&f, EX_USAGE, "--rate: '%s': requests a "
				    "second, more than 0", optarg);
				usage();
			}
			break;
		case OPT_PARALLEL:
			if (strtonum_ll(optarg, 1, 64, &ll, &e) == -1) {
				say(&f, EX_USAGE, "--parallel: %s", e.msg);
				usage();
			}
			f.page.parallel = (unsigned int)ll;
			break;
		case OPT_CHECKPOINT:
			f.checkpoint = optarg;
			break;
		case OPT_RECORDS_JQ:
			records_jq = optarg;
			break;
		case 'v':
			f.verbose = 1;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 1)
		usage();
	if ((since != NULL) != (since_param != NULL)) {
		say(&f, EX_USAGE, "--since and --since-param go together");
		usage();
	}
	/* The first run has no cursor yet: an empty value adds nothing. */
	if (since != NULL && *since != '\0') {
		f.since = joined(since_param, "=", since);
		f.params = push(f.params, &f.nparams, f.since);
	}
	if (f.page.parallel > 1 && f.page.mode != PAGE_PAGE &&
	    f.page.mode != PAGE_OFFSET) {
		say(&f, EX_USAGE, "--parallel needs --paginate page or "
		    "offset: other pages are known only from the one before");
		usage();
	}
	if (records_jq != NULL && xo.records != NULL) {
		say(&f, EX_USAGE, "--records and --records-jq: one or "
		    "the other");
		usage();
	}
	if (f.page.mode == PAGE_CURSOR && f.page.cursor_path == NULL) {
		say(&f, EX_USAGE, "--paginate cursor needs --cursor-path");
		usage();
	}
	/* Secrets come from the environment, never from the command line. */
	if (bearer_env != NULL) {
		if ((v = secret_env(&f, bearer_env, "--bearer-env")) == NULL)
			goto out;
		f.secrets[0] = joined("Authorization: Bearer ", v, "");
		f.secret_headers = push(f.secret_headers, &f.nsecret_headers,
		    f.secrets[0]);
	}
	if (basic_env != NULL) {
		char *colon;

		if ((f.secrets[1] = strdup(basic_env)) == NULL)
			abort();
		if ((colon = strchr(f.secrets[1], ':')) == NULL) {
			say(&f, EX_USAGE, "--basic-env: USERVAR:PASSVAR");
			goto out;
		}
		*colon = '\0';
		if ((f.http.user = secret_env(&f, f.secrets[1], "--basic-env")) ==
		    NULL || (f.http.password = secret_env(&f, colon + 1,
		    "--basic-env")) == NULL)
			goto out;
	}
	if (key_env != NULL) {
		if ((key_header == NULL) == (key_param == NULL)) {
			say(&f, EX_USAGE, "--api-key-env needs one of "
			    "--api-key-header or --api-key-param");
			goto out;
		}
		if ((v = secret_env(&f, key_env, "--api-key-env")) == NULL)
			goto out;
		if (key_header != NULL) {
			f.secrets[2] = joined(key_header, ": ", v);
			f.secret_headers = push(f.secret_headers,
			    &f.nsecret_headers, f.secrets[2]);
		} else {
			f.http.key_param = key_param;
			f.http.key_value = v;
		}
	}
	src = argv[optind];
	http = strncmp(src, "http://", 7) == 0 || strncmp(src, "https://", 8) == 0;
	/*
	 * The credentials are for the origin of the URL given; every secret
	 * the options and that URL hold is masked in all pgfetch writes.
	 */
	f.http.origin = src;
	f.http.headers = f.headers;
	f.http.nheaders = f.nheaders;
	f.http.secret_headers = f.secret_headers;
	f.http.nsecret_headers = f.nsecret_headers;
	if (http)
		paginate_base(src, f.params, f.nparams, &withparams);
	http_secrets(&f.http, http ? jbuf_cstr(&withparams) : NULL, f.known);
	f.http.secrets = f.known;
	if (f.messages && (f.stream == NULL || *f.stream == '\0')) {
		say(&f, EX_USAGE, "-m needs -s STREAM");
		usage();
	}
	/* f.buf: the URL's path, for the file options. */
	file = !http || source_format_of_url(src, &f.buf) != EXTRACT_AUTO ||
	    xo.format != EXTRACT_AUTO;
	if (records_jq != NULL && file) {
		say(&f, EX_USAGE, "--records-jq applies to the pages of "
		    "an API, and %s is a file", src);
		goto out;
	}
	if (f.checkpoint != NULL && file) {
		say(&f, EX_USAGE, "--checkpoint applies to the pages of "
		    "an API, and %s is a file", src);
		goto out;
	}
	if (records_jq != NULL &&
	    (f.page.records_jq = transform_new(records_jq, &e)) == NULL) {
		say(&f, e.code, "--records-jq: %s", e.msg);
		goto out;
	}
	f.http.trace = trace;
	f.http.trace_arg = &f;
	f.http.max_body = (size_t)f.cli.max_line;
	begun = 1;
	if (cli_begin(&f.cli) == -1)
		goto out;
	stats_utc_now(f.extracted, sizeof(f.extracted));
	if (!file) {
		fetch_url(&f, src, xo.records);
		if (f.file_type == NULL)
			goto out;
		if (f.checkpoint != NULL && !f.cli.quiet)
			say(&f, 0, "--checkpoint does not apply to a file: "
			    "it is read from the start");
		/* Its Content-Type said file: the other way, then. */
		if (xo.format == EXTRACT_AUTO)
			xo.format = source_format_of_type(f.file_type);
		if (strstr(f.file_type, "tab-separated") != NULL &&
		    xo.delimiter == 0)
			xo.delimiter = '\t';
	}
	if (http) {
		/* A file over HTTP: streamed, with the file options. */
		f.name = src;
		if (xo.format == EXTRACT_AUTO)
			xo.format = source_format_of_url(src, &f.buf);
		if (file_opts(&f, &xo, jbuf_cstr(&f.buf)) == -1)
			goto out;
		run(&f, -1, src, &xo);
		goto out;
	}
	path = strncmp(src, "file://", 7) == 0 ? src + 7 : src;
	if (strncmp(path, "localhost/", 10) == 0)
		path += 9;
	f.name = strcmp(path, "-") == 0 ? "stdin" : path;
	if (strcmp(path, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		say(&f, EX_NOINPUT, "%s: %s", path, strerror(errno));
		goto out;
	} else if (fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		say(&f, EX_NOINPUT, "%s: is a directory", path);
		(void)close(fd);
		goto out;
	}
	if (xo.format == EXTRACT_AUTO && fd != STDIN_FILENO)
		xo.format = extract_format_of(path);
	if (file_opts(&f, &xo, path) == -1)
		goto out;
	run(&f, fd, NULL, &xo);
out:
	/*
	 * Stopped before the run began: a usage error writes no --stats (as
	 * usage() does not), any other error (an unreadable --header-file) a
	 * summary of nothing done.
	 */
	if (!begun) {
		if (f.cli.status == EX_USAGE)
			f.cli.stats_path = NULL;
		else
			cli_begin(&f.cli);
	}
	rc = cli_finish(&f.cli, f.statsx[0] ? f.statsx : NULL);
	jbuf_free(&f.buf);
	for (ch = 0; ch < 4; ch++)
		free(f.secrets[ch]);
	free(f.since);
	free(f.params);
	free(f.headers);
	free(f.secret_headers);
	free(f.file_type);
	jbuf_free(&f.shown);
	jbuf_free(&f.mark_next);
	transform_free(f.page.records_jq);
	jbuf_free(&f.source);
	while (f.nowned > 0)
		free(f.owned[--f.nowned]);
	free(f.owned);
	jbuf_free(&withparams);
	jbuf_free(&f.masked);
	jbuf_free(&f.masked2);
	jbuf_free(&f.masked3);
	secrets_free(f.known);
	return rc;
}
