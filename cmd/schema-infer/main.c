/*
 * schema-infer: pass records through, inserting a Singer SCHEMA message
 * before each stream's first record and whenever its schema evolves;
 * under a data contract, against a baseline schema, a change fails the
 * run or drops what would make it.
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
	OPT_FINAL = CLI_OPT_PRIVATE, OPT_SCHEMA, OPT_EVENTS, OPT_CONTRACT,
	OPT_SCHEMA_FROM, OPT_LOAD_ID
};

static const struct cli_opt options[] = {
	{ "key", 'k', 0, "col[,col]", "key_properties of the schemas written",
	    NULL, NULL },
	{ "final", 0, OPT_FINAL, NULL,
	    "write only the final SCHEMA of each stream", NULL, NULL },
	{ "schema", 0, OPT_SCHEMA, "file",
	    "start from the SCHEMA messages in FILE", NULL, NULL },
	{ "schema-from", 0, OPT_SCHEMA_FROM, "db",
	    "start from the tables of the sluice database DB", NULL, NULL },
	{ "contract", 0, OPT_CONTRACT, "spec",
	    "MODE or tables=MODE,columns=MODE,data_type=MODE; modes:\n"
	    "evolve, freeze, discard_row, discard_value", NULL, NULL },
	{ "events", 0, OPT_EVENTS, "file",
	    "append schema-change events to FILE", NULL, NULL },
	{ "load-id", 0, OPT_LOAD_ID, "id",
	    "the load id of the events (default: $SLUICE_LOAD_ID\nor the time)",
	    NULL, NULL },
	{ NULL, 0, 0, NULL, NULL, NULL, NULL }
};

static const struct cli_spec spec = {
	options, "[file ...]", NULL,
	"Insert Singer SCHEMA messages into an NDJSON stream of records.\n", CLI_TYPES
};

struct paths {
	char		*schema;	/* --schema */
	const char	*schema_from;	/* --schema-from */
	const char	*load_id;	/* --load-id */
	int		 contract;	/* --contract given */
};

/* The options into opts; usage errors exit 64. */
static void
parse_options(struct cli *c, struct infer_opts *opts, struct paths *p,
    int argc, char *argv[])
{
	struct lib_err e;
	int id;

	while ((id = cli_getopt(c, &spec, argc, argv)) != -1) {
		switch (id) {
		case 'k':
			opts->keys = optarg;
			break;
		case OPT_FINAL:
			opts->final = 1;
			break;
		case OPT_SCHEMA:
			p->schema = optarg;
			break;
		case OPT_SCHEMA_FROM:
			p->schema_from = optarg;
			break;
		case OPT_CONTRACT:
			if (contract_parse(&opts->contract, optarg, &e) == -1)
				cli_usage_error(c, "--contract: %s", e.msg);
			p->contract = 1;
			break;
		case OPT_EVENTS:
			opts->events_path = optarg;
			break;
		case OPT_LOAD_ID:
			p->load_id = optarg;
			break;
		default:
			cli_usage(c);
		}
	}
	/* A contract protects a schema: without one, every table is new. */
	if (contract_binds(&opts->contract) && p->schema == NULL &&
	    p->schema_from == NULL)
		cli_usage_error(c, "--contract: needs a baseline: --schema-from "
		    "DB (the destination) or --schema FILE");
}

int
main(int argc, char *argv[])
{
	struct cli c;
	struct cli_line l;
	struct infer in;
	struct infer_opts opts;
	struct paths p;
	struct lib_err e;
	char load_id[64], extra[128];
	int rc;

	memset(&opts, 0, sizeof(opts));
	memset(&p, 0, sizeof(p));
	cli_init(&c, "schema-infer");
	c.filter = 1;
	cli_catch_signals();
	parse_options(&c, &opts, &p, argc, argv);
	opts.schema = c.types;
	opts.load_id = cli_load_id(p.load_id, load_id, sizeof(load_id));
	infer_init(&in, &c, &opts);
	/* Records' members are depth 1 (bare) or 2 (in a RECORD message). */
	c.keep_depth = 2;
	/* Parsing is most of the work: both cores parse while we infer. */
	c.workers = 2;
	if (cli_start(&c, argv + optind, argc - optind) == -1)
		goto out;
	if (p.schema_from != NULL && infer_seed_db(&in, p.schema_from) == -1)
		goto out;
	if (p.schema != NULL && infer_seed_file(&in, p.schema) == -1)
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
	if ((in.discarded_rows > 0 || in.discarded_values > 0) && !c.quiet)
		cli_error(&c, 0, "contract: %lu record%s and %lu value%s "
		    "discarded", in.discarded_rows,
		    in.discarded_rows == 1 ? "" : "s", in.discarded_values,
		    in.discarded_values == 1 ? "" : "s");
	extra[0] = '\0';
	if (p.contract)
		(void)snprintf(extra, sizeof(extra), "\"discarded_rows\":%lu,"
		    "\"discarded_values\":%lu", in.discarded_rows,
		    in.discarded_values);
	rc = cli_finish(&c, extra);
	infer_free(&in);
	cli_die_by_signal();
	return rc;
}
