/*
 * schema-infer: pass records through, inserting a Singer SCHEMA message
 * before each stream's first record and whenever its schema evolves.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "exitcodes.h"
#include "infer.h"

enum {
	OPT_FINAL = CLI_OPT_PRIVATE, OPT_SCHEMA, OPT_NO_DETECT,
	OPT_ON_TYPE_CONFLICT, OPT_EVENTS
};

static const struct option longopts[] = {
	CLI_LONGOPTS,
	{ "key",		required_argument,	NULL, 'k' },
	{ "final",		no_argument,		NULL, OPT_FINAL },
	{ "schema",		required_argument,	NULL, OPT_SCHEMA },
	{ "no-detect",		no_argument,		NULL, OPT_NO_DETECT },
	{ "on-type-conflict",	required_argument,	NULL, OPT_ON_TYPE_CONFLICT },
	{ "events",		required_argument,	NULL, OPT_EVENTS },
	{ NULL, 0, NULL, 0 }
};

static const char synopsis[] =
"usage: schema-infer [-qhV] [-t table] [-k col[,col]] [--final] [--schema file]\n"
"                    [--no-detect] [--on-type-conflict variant|fail]\n"
"                    [--events file] [--on-error policy] [--stats file] [file ...]\n";

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
	    "Insert Singer SCHEMA messages into an NDJSON stream of records.\n\n"
	    "  -k, --key COL[,COL]     key_properties of the schemas written\n"
	    "      --final             write only the final SCHEMA of each stream\n"
	    "      --schema FILE       start from the SCHEMA messages in FILE\n"
	    "      --no-detect         strings are text: no timestamp/date detection\n"
	    "      --on-type-conflict variant|fail\n"
	    "                          odd values go to COL__v_TYPE (default) or stop\n"
	    "      --events FILE       append schema-change events to FILE\n"
	    "%s", synopsis, CLI_USAGE_COMMON);
	exit(0);
}

int
main(int argc, char *argv[])
{
	struct cli c;
	struct cli_line l;
	struct infer in;
	struct infer_opts opts;
	struct lib_err e;
	char *schema_path = NULL;
	int ch, rc;

	memset(&opts, 0, sizeof(opts));
	opts.schema.detect = 1;
	cli_init(&c, "schema-infer");
	c.filter = 1;
	cli_catch_signals();
	while ((ch = getopt_long(argc, argv, CLI_SHORTOPTS "k:", longopts,
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
		case OPT_FINAL:
			opts.final = 1;
			break;
		case OPT_SCHEMA:
			schema_path = optarg;
			break;
		case OPT_EVENTS:
			opts.events_path = optarg;
			break;
		case OPT_NO_DETECT:
			opts.schema.detect = 0;
			break;
		case OPT_ON_TYPE_CONFLICT:
			if (cli_type_conflict(&c, optarg,
			    &opts.schema.conflict_fail) == -1)
				usage();
			break;
		default:
			usage();
		}
	}
	infer_init(&in, &c, &opts);
	/* Records' members are depth 1 (bare) or 2 (in a RECORD message). */
	c.keep_depth = 2;
	/* Parsing is most of the work: both cores parse while we infer. */
	c.workers = 2;
	if (cli_start(&c, argv + optind, argc - optind) == -1)
		goto out;
	if (schema_path != NULL && infer_seed_file(&in, schema_path) == -1)
		goto out;
	/* Opened before the first record: an unwritable path fails first. */
	if (opts.events_path != NULL && sidefile_open(&in.opts.events,
	    opts.events_path, SIDEFILE_APPEND, &e) == -1) {
		cli_error(&c, e.code, "%s", e.msg);
		goto out;
	}
	while ((rc = cli_next(&c, &l)) == 1)
		if (infer_line(&in, &l) == -1)
			break;
	if (rc == 0 && c.status == 0)
		(void)infer_finish(&in);
out:
	/* Durable before cli_finish ends the stream, or aborts it. */
	if (sidefile_close(&in.opts.events, &e) == -1)
		cli_error(&c, e.code, "%s", e.msg);
	rc = cli_finish(&c, NULL);
	infer_free(&in);
	cli_die_by_signal();
	return rc;
}
