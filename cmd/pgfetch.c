/*
 * pgfetch: records out of files (JSON Lines, JSON documents streamed,
 * CSV, gzip-compressed or not), as NDJSON on stdout.  HTTP(S) sources
 * come in a later version.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "cli.h"
#include "exitcodes.h"
#include "extract.h"
#include "strtonum.h"

enum {
	OPT_FORMAT = CLI_OPT_PRIVATE, OPT_RECORDS, OPT_DELIMITER, OPT_NO_HEADER,
	OPT_CSV_TYPES, OPT_MAX_RECORDS
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
	{ NULL, 0, NULL, 0 }
};

static const char synopsis[] =
"usage: pgfetch [-mqhV] [-s stream] [--format jsonl|json|csv|auto]\n"
"               [--records path] [--delimiter c] [--no-header] [--csv-types]\n"
"               [--max-records n] [--on-error policy] [--stats file] source\n";

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
	    "Write the records of a file as NDJSON: JSON Lines, a JSON document\n"
	    "(its array of records streamed), or CSV; gzip is undone.  SOURCE is\n"
	    "a path, - for stdin, or file://PATH.\n\n"
	    "  -m, --messages          write Singer RECORD messages\n"
	    "  -s, --stream NAME       their stream\n"
	    "      --format FORMAT     jsonl, json, csv or auto (default)\n"
	    "      --records PATH      json: the array of records, e.g. .data.items\n"
	    "      --delimiter C       csv: the field separator (default ,)\n"
	    "      --no-header         csv: no header row; keys are col_1...\n"
	    "      --csv-types         csv: numbers, booleans, empty is null\n"
	    "      --max-records N     stop after N records\n"
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
};

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

	memset(&l, 0, sizeof(l));
	l.text = text;
	l.len = len;
	l.file = f->name;
	l.lineno = line;
	return cli_reject(&f->cli, &l, why);
}

/* Read the source through zlib (which passes plain bytes as they are). */
static void
run(struct fetch *f, int fd, const struct extract_opts *xo)
{
	static char chunk[256 * 1024];
	struct extract *x;
	struct lib_err e = { 0, "" };
	gzFile gz;
	int n, errnum;

	if ((x = extract_new(xo, &e)) == NULL) {
		cli_error(&f->cli, e.code, "%s", e.msg);
		return;
	}
	if ((gz = gzdopen(fd, "rb")) == NULL) {
		cli_error(&f->cli, EX_OSERR, "out of memory");
		extract_free(x);
		return;
	}
	while ((n = gzread(gz, chunk, sizeof(chunk))) > 0) {
		f->cli.stats.bytes += (unsigned long long)n;
		if (extract_feed(x, chunk, (size_t)n, &e) == -1)
			break;
	}
	if (n < 0) {
		const char *m = gzerror(gz, &errnum);

		cli_error(&f->cli, errnum == Z_ERRNO ? EX_IOERR : EX_DATAERR,
		    "%s: %s", f->name, errnum == Z_ERRNO ? strerror(errno) : m);
	} else {
		/* Stopped early (n > 0), or at the end: finish the document. */
		if (n == 0)
			(void)extract_finish(x, &e);
		if (e.code != 0)
			cli_error(&f->cli, e.code, "%s:%s", f->name, e.msg);
	}
	(void)gzclose(gz);
	extract_free(x);
}

int
main(int argc, char *argv[])
{
	struct fetch f;
	struct extract_opts xo;
	struct lib_err e;
	struct timespec ts;
	struct stat sb;
	struct tm tm;
	const char *src, *path;
	long long ll;
	size_t n;
	int ch, fd, rc;

	memset(&f, 0, sizeof(f));
	memset(&xo, 0, sizeof(xo));
	xo.header = 1;
	cli_init(&f.cli, "pgfetch");
	f.cli.filter = 1;
	while ((ch = getopt_long(argc, argv, "mqs:hV", longopts, NULL)) != -1) {
		if ((rc = cli_option(&f.cli, ch, optarg)) == 1)
			continue;
		if (rc == -1)
			usage();
		switch (ch) {
		case 'h':
			help();
			break;
		case 'V':
			(void)printf("pgfetch (sluice) %s\n", SLUICE_VERSION);
			return 0;
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
				cli_error(&f.cli, EX_USAGE, "--format: '%s': expected "
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
				cli_error(&f.cli, EX_USAGE, "--delimiter: '%s': one "
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
				cli_error(&f.cli, EX_USAGE, "--max-records: %s", e.msg);
				usage();
			}
			f.max_records = (unsigned long long)ll;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 1)
		usage();
	if (f.messages && (f.stream == NULL || *f.stream == '\0')) {
		cli_error(&f.cli, EX_USAGE, "-m needs -s STREAM");
		usage();
	}
	src = argv[optind];
	cli_begin(&f.cli);
	if (strncmp(src, "http://", 7) == 0 || strncmp(src, "https://", 8) == 0) {
		/* No URL in the message: it may hold credentials. */
		cli_error(&f.cli, EX_UNAVAILABLE,
		    "http(s) sources are not supported yet");
		goto out;
	}
	path = strncmp(src, "file://", 7) == 0 ? src + 7 : src;
	if (strncmp(path, "localhost/", 10) == 0)
		path += 9;
	f.name = strcmp(path, "-") == 0 ? "stdin" : path;
	if (strcmp(path, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		cli_error(&f.cli, EX_NOINPUT, "%s: %s", path, strerror(errno));
		goto out;
	} else if (fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		cli_error(&f.cli, EX_NOINPUT, "%s: is a directory", path);
		(void)close(fd);
		goto out;
	}
	if (xo.format == EXTRACT_AUTO && fd != STDIN_FILENO)
		xo.format = extract_format_of(path);
	if (xo.format == EXTRACT_AUTO && xo.records != NULL)
		xo.format = EXTRACT_JSON;
	if (xo.records != NULL && xo.format != EXTRACT_JSON) {
		cli_error(&f.cli, EX_USAGE, "--records applies to JSON documents, "
		    "and %s is not one", f.name);
		goto out;
	}
	n = strlen(path);
	if (xo.delimiter == 0)
		xo.delimiter = (n > 4 && (strcmp(path + n - 4, ".tsv") == 0 ||
		    (n > 7 && strcmp(path + n - 7, ".tsv.gz") == 0))) ? '\t' : ',';
	xo.max_record = (size_t)f.cli.max_line;
	xo.record = on_record;
	xo.bad = on_bad;
	xo.arg = &f;
	(void)clock_gettime(CLOCK_REALTIME, &ts);
	(void)gmtime_r(&ts.tv_sec, &tm);
	n = strftime(f.extracted, sizeof(f.extracted), "%Y-%m-%dT%H:%M:%S", &tm);
	(void)snprintf(f.extracted + n, sizeof(f.extracted) - n, ".%06ldZ",
	    ts.tv_nsec / 1000);
	run(&f, fd, &xo);
out:
	rc = cli_finish(&f.cli, NULL);
	jbuf_free(&f.buf);
	return rc;
}
