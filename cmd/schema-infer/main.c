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
	OPT_FINAL = CLI_OPT_PRIVATE, OPT_SCHEMA, OPT_EVENTS
};

static const struct cli_opt options[] = {
	{ "key", 'k', 0, "col[,col]", "key_properties of the schemas written",
	    NULL, NULL },
	{ "final", 0, OPT_FINAL, NULL,
	    "write only the final SCHEMA of each stream", NULL, NULL },
	{ "schema", 0, OPT_SCHEMA, "file",
	    "start from the SCHEMA messages in FILE", NULL, NULL },
	{ "events", 0, OPT_EVENTS, "file",
	    "append schema-change events to FILE", NULL, NULL },
	{ NULL, 0, 0, NULL, NULL, NULL, NULL }
};

static const struct cli_spec spec = {
	options, "[file ...]", NULL,
	"Insert Singer SCHEMA messages into an NDJSON stream of records.\n", CLI_TYPES
};

/* The options into opts; usage errors exit 64. */
static void
parse_options(struct cli *c, struct infer_opts *opts, char **schema_path,
    int argc, char *argv[])
{
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
			*schema_path = optarg;
			break;
		case OPT_EVENTS:
			opts->events_path = optarg;
			break;
		default:
			cli_usage(c);
		}
	}
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
	int rc;

	memset(&opts, 0, sizeof(opts));
	cli_init(&c, "schema-infer");
	c.filter = 1;
	cli_catch_signals();
	parse_options(&c, &opts, &schema_path, argc, argv);
	opts.schema = c.types;
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
