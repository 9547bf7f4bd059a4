/*
 * sqlite-load: load records and Singer messages into a SQLite database,
 * in one transaction, with the load's state and bookkeeping.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "exitcodes.h"
#include "sqlout.h"
#include "state.h"
#include "stats.h"
#include "strtonum.h"

enum {
	OPT_STATE_GET = CLI_OPT_PRIVATE, OPT_LOAD_ID, OPT_BUSY_TIMEOUT,
	OPT_NO_DETECT, OPT_ON_TYPE_CONFLICT, OPT_SCD2_RETIRE_ABSENT
};

static const struct option longopts[] = {
	CLI_LONGOPTS,
	{ "key",		required_argument,	NULL, 'k' },
	{ "mode",		required_argument,	NULL, 'm' },
	{ "state-get",		required_argument,	NULL, OPT_STATE_GET },
	{ "load-id",		required_argument,	NULL, OPT_LOAD_ID },
	{ "busy-timeout",	required_argument,	NULL, OPT_BUSY_TIMEOUT },
	{ "no-detect",		no_argument,		NULL, OPT_NO_DETECT },
	{ "on-type-conflict",	required_argument,	NULL, OPT_ON_TYPE_CONFLICT },
	{ "scd2-retire-absent",	no_argument,		NULL, OPT_SCD2_RETIRE_ABSENT },
	{ NULL, 0, NULL, 0 }
};

static const char synopsis[] =
"usage: sqlite-load [-qhV] [-t table] [-k col[,col]]\n"
"                   [-m append|replace|merge|scd2] [--scd2-retire-absent]\n"
"                   [--load-id id] [--busy-timeout ms] [--on-error policy]\n"
"                   [--stats file] db [file ...]\n"
"       sqlite-load db --state-get path\n";

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
	    "Load NDJSON records and Singer messages into a SQLite database,\n"
	    "in one transaction.\n\n"
	    "  -k, --key COL[,COL]     primary key (default: SCHEMA key_properties)\n"
	    "  -m, --mode MODE         append (default), replace, merge or scd2\n"
	    "      --scd2-retire-absent  scd2: a key the load lacks is retired\n"
	    "      --state-get PATH    print the stored state at a dotted path\n"
	    "      --load-id ID        the load's id (default: $SLUICE_LOAD_ID or\n"
	    "                          the time)\n"
	    "      --busy-timeout MS   wait this long for a locked database\n"
	    "      --no-detect         strings are text: no timestamp/date detection\n"
	    "      --on-type-conflict variant|fail\n"
	    "%s", synopsis, CLI_USAGE_COMMON);
	exit(0);
}

static int
state_get(const char *db, const char *path, int quiet)
{
	struct jbuf out = JBUF_INIT;
	struct lib_err e;
	int found, rc = 0;

	if (sqlout_state_get(db, path, &out, &found, &e) == -1) {
		(void)fprintf(stderr, "sqlite-load: %s\n", e.msg);
		rc = e.code;
	} else if (found) {
		jbuf_putc(&out, '\n');
		if (fwrite(out.p, 1, out.len, stdout) != out.len ||
		    fflush(stdout) != 0) {
			(void)fprintf(stderr, "sqlite-load: stdout: write error\n");
			rc = EX_IOERR;
		}
	} else if (!quiet)
		(void)fprintf(stderr, "sqlite-load: %s: no state at %s\n", db,
		    path);
	jbuf_free(&out);
	return rc;
}

/* Whether the input list reads the standard input. */
static int
reads_stdin(char **files, int n)
{
	int i;

	if (n == 0)
		return 1;
	for (i = 0; i < n; i++)
		if (strcmp(files[i], "-") == 0)
			return 1;
	return 0;
}

/* A failed step: the line is bad data (policy decides) or the load stops. */
static int
failed(struct cli *c, const struct cli_line *l, const struct lib_err *e)
{
	if (e->code == EX_DATAERR)
		return cli_reject(c, l, e->msg);
	cli_warn_at(c, l, "%s", e->msg);
	if (c->status == 0)
		c->status = e->code;
	return -1;
}

/* As failed(), at the line of the record the error is about. */
static int
failed_at(struct cli *c, const struct cli_line *l, const struct sqlout *out,
    const struct lib_err *e)
{
	struct cli_line at = *l;

	(void)sqlout_error_origin(out, &at.file, &at.lineno);
	return failed(c, &at, e);
}

int
main(int argc, char *argv[])
{
	struct cli c;
	struct cli_line l;
	struct sqlout_opts opts;
	struct sqlout *out = NULL;
	struct lib_err e;
	struct jbuf state = JBUF_INIT, summary = JBUF_INIT;
	const char *state_path = NULL, *db;
	char load_id[64], extra[64];
	unsigned long dups;
	long long ms;
	int ch, rc, closed;

	memset(&opts, 0, sizeof(opts));
	opts.mode = SQLOUT_APPEND;
	opts.busy_timeout_ms = 5000;
	opts.infer.detect = 1;
	cli_init(&c, "sqlite-load");
	closed = cli_closed_std_fds();
	while ((ch = getopt_long(argc, argv, CLI_SHORTOPTS "k:m:", longopts,
	    NULL)) != -1) {
		if ((rc = cli_option(&c, ch, optarg)) == 1)
			continue;
		if (rc == -1)
			usage();
		switch (ch) {
		case 'h':
			help();
			break;
		case 'k':
			opts.keys = optarg;
			break;
		case 'm':
			if (strcmp(optarg, "append") == 0)
				opts.mode = SQLOUT_APPEND;
			else if (strcmp(optarg, "replace") == 0)
				opts.mode = SQLOUT_REPLACE;
			else if (strcmp(optarg, "merge") == 0)
				opts.mode = SQLOUT_MERGE;
			else if (strcmp(optarg, "scd2") == 0)
				opts.mode = SQLOUT_SCD2;
			else {
				cli_error(&c, EX_USAGE, "--mode: '%s': expected "
				    "append, replace, merge or scd2", optarg);
				usage();
			}
			break;
		case OPT_STATE_GET:
			state_path = optarg;
			break;
		case OPT_SCD2_RETIRE_ABSENT:
			opts.scd2_retire_absent = 1;
			break;
		case OPT_LOAD_ID:
			opts.load_id = optarg;
			break;
		case OPT_BUSY_TIMEOUT:
			if (strtonum_ll(optarg, 0, 86400000, &ms, &e) == -1) {
				cli_error(&c, EX_USAGE, "--busy-timeout: %s", e.msg);
				usage();
			}
			opts.busy_timeout_ms = (int)ms;
			break;
		case OPT_NO_DETECT:
			opts.infer.detect = 0;
			break;
		case OPT_ON_TYPE_CONFLICT:
			if (cli_type_conflict(&c, optarg,
			    &opts.infer.conflict_fail) == -1)
				usage();
			break;
		default:
			usage();
		}
	}
	if (optind >= argc)
		usage();
	db = argv[optind++];
	if (state_path != NULL) {
		if (optind < argc)
			usage();
		return state_get(db, state_path, c.quiet);
	}
	if (opts.scd2_retire_absent && opts.mode != SQLOUT_SCD2) {
		cli_error(&c, EX_USAGE, "--scd2-retire-absent needs --mode scd2");
		usage();
	}
	opts.load_id = cli_load_id(opts.load_id, load_id, sizeof(load_id));
	opts.atomic_records = c.onerr.mode != ONERROR_FAIL;

	if ((closed & 1) && reads_stdin(argv + optind, argc - optind)) {
		/* Not an empty input: nothing to load is not a load. */
		cli_error(&c, EX_IOERR, "stdin: read error: %s", strerror(EBADF));
		goto out;
	}
	cli_catch_signals();
	if (cli_start(&c, argv + optind, argc - optind) == -1)
		goto out;
	if (sqlout_open(&out, db, &opts, &e) == -1) {
		cli_error(&c, e.code, "%s", e.msg);
		goto out;
	}
	while ((rc = cli_next(&c, &l)) == 1) {
		const struct message *m = &l.msg;

		sqlout_origin(out, l.file, l.lineno);
		switch (m->kind) {
		case MSG_BARE:
			rc = sqlout_record(out, c.table, strlen(c.table),
			    m->record, NULL, &e);
			break;
		case MSG_RECORD:
			rc = sqlout_record(out, m->stream, m->streamlen,
			    m->record, m->version, &e);
			break;
		case MSG_SCHEMA:
			rc = sqlout_schema(out, m->stream, m->streamlen,
			    m->schema, m->key_properties, &e);
			break;
		case MSG_STATE:
			rc = sqlout_state(out, m->value, &e);
			if (rc == 0) {
				/* Echoed only once the commit has succeeded. */
				jbuf_reset(&state);
				jbuf_put(&state, l.text, l.len);
				jbuf_putc(&state, '\n');
			}
			break;
		case MSG_ACTIVATE_VERSION:
			rc = sqlout_activate_version(out, m->stream,
			    m->streamlen, m->version, &e);
			break;
		case MSG_ABORT:
			/* What came before it is half a stream: keep none of it. */
			cli_upstream_failed(&c, &l);
			rc = -1;
			break;
		}
		if (m->kind == MSG_ABORT)
			break;
		if (rc == -1 && failed_at(&c, &l, out, &e) == -1)
			break;
	}
	/* The end of the input: what the loader held back is written now. */
	if (rc == 0 && c.status == 0 && !cli_signalled() &&
	    sqlout_flush(out, &e) == -1) {
		(void)failed_at(&c, &l, out, &e);
		rc = -1;
	}
	if (rc == 0 && c.status == 0 && !cli_signalled()) {
		(void)snprintf(extra, sizeof(extra), "\"duplicate_members\":%lu",
		    sqlout_duplicate_members(out));
		errno = 0;
		/* Side files before the commit: one that fails stops it. */
		if (cli_close_side_files(&c, extra) == -1)
			cli_error(&c, 0, "%s: load rolled back", db);
		else if (sqlout_commit(out, &summary, &e) == -1)
			cli_error(&c, e.code, "%s: %s", db, e.msg);
		else {
			if (!c.quiet)
				cli_error(&c, 0, "load %s: %s committed",
				    opts.load_id, summary.len ? jbuf_cstr(&summary) :
				    "no rows,");
			if (state.len > 0 && (closed & 2))
				cli_error(&c, EX_IOERR, "stdout: %s: the STATE "
				    "is committed but not written",
				    strerror(EBADF));
			else if (state.len > 0)
				(void)cli_write(&c, state.p, state.len);
		}
	} else if (c.status != 0 && c.status < 128)
		cli_error(&c, 0, "%s: load rolled back", db);
out:
	/* A repeated member: the last one is the value (sluice(5)). */
	if ((dups = sqlout_duplicate_members(out)) > 0 && !c.quiet)
		cli_error(&c, 0, "%lu repeated member%s left out: the last "
		    "of each name is the value", dups, dups == 1 ? "" : "s");
	(void)snprintf(extra, sizeof(extra), "\"duplicate_members\":%lu", dups);
	sqlout_close(out);
	if (cli_signalled() && c.status == 0)
		c.status = 128 + cli_signalled();
	rc = cli_finish(&c, extra);
	jbuf_free(&state);
	jbuf_free(&summary);
	cli_die_by_signal();
	return rc;
}
