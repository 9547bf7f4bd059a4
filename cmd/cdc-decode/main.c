/*
 * cdc-decode: change events of a database's log (wal2json format version
 * 2, or Debezium's) into sluice messages, a source transaction at a time,
 * each followed by the STATE of its commit position.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "decode.h"
#include "exitcodes.h"

enum {
	OPT_FORMAT = CLI_OPT_PRIVATE, OPT_QUALIFY, OPT_STATE_FROM,
	OPT_BOOKMARK, OPT_MEMORY
};

static const struct cli_opt options[] = {
	{ "format", 0, OPT_FORMAT, "wal2json|debezium",
	    "the events' format (default wal2json)", NULL, NULL },
	{ "key", 'k', 0, "col[,col]",
	    "debezium: the key columns of every table", NULL, NULL },
	{ "qualify", 0, OPT_QUALIFY, NULL,
	    "streams named schema__table", NULL, NULL },
	{ "state-from", 0, OPT_STATE_FROM, "db",
	    "skip the transactions DB has committed", NULL, NULL },
	{ "bookmark", 0, OPT_BOOKMARK, "name",
	    "the STATE's bookmarks.NAME (default cdc)", NULL, NULL },
	{ "memory", 0, OPT_MEMORY, "size",
	    "a transaction held in memory, then spilled (default 64M)", NULL,
	    NULL },
	{ NULL, 0, 0, NULL, NULL, NULL, NULL }
};

static const struct cli_spec spec = {
	options, "[file ...]", NULL,
	"Turn change events (wal2json, Debezium) into sluice messages, a "
	"transaction at a time.\n", CLI_NO_STREAM
};

static const struct cli_choice formats[] = {
	{ "wal2json", DECODE_WAL2JSON },
	{ "debezium", DECODE_DEBEZIUM },
	{ NULL, 0 }
};

static void
parse_options(struct cli *c, struct decode_opts *o, const char **state_from,
    int argc, char *argv[])
{
	int id;

	while ((id = cli_getopt(c, &spec, argc, argv)) != -1) {
		switch (id) {
		case OPT_FORMAT:
			o->format = cli_enum(c, optarg, formats);
			break;
		case 'k':
			if (*optarg == '\0')
				cli_usage_error(c, "-k: no column");
			o->keys = optarg;
			break;
		case OPT_QUALIFY:
			o->qualify = 1;
			break;
		case OPT_STATE_FROM:
			*state_from = optarg;
			break;
		case OPT_BOOKMARK:
			if (*optarg == '\0' || strchr(optarg, '.') != NULL)
				cli_usage_error(c, "--bookmark: a name without "
				    "dots");
			o->bookmark = optarg;
			break;
		case OPT_MEMORY:
			o->memory = (size_t)cli_size(c, optarg, 1 << 16,
			    (unsigned long long)1 << 40);
			break;
		default:
			cli_usage(c);
		}
	}
}

int
main(int argc, char *argv[])
{
	struct decode_opts o;
	struct decode d;
	struct cli c;
	struct cli_line l;
	const char *state_from = NULL;
	char extra[256];
	int rc;

	memset(&o, 0, sizeof(o));
	o.format = DECODE_WAL2JSON;
	o.bookmark = "cdc";
	o.memory = (size_t)64 << 20;
	cli_init(&c, "cdc-decode");
	c.filter = 1;
	c.raw = 1;		/* an event is no Singer message */
	cli_catch_signals();
	parse_options(&c, &o, &state_from, argc, argv);
	if (o.keys != NULL && o.format != DECODE_DEBEZIUM)
		cli_usage_error(&c, "-k: the key of Debezium events; wal2json "
		    "gives each table's (-o include-pk=1)");
	decode_init(&d, &c, &o);
	if (cli_start(&c, argv + optind, argc - optind) == -1)
		goto out;
	if (state_from != NULL && decode_state_from(&d, state_from) == -1)
		goto out;
	while ((rc = cli_next(&c, &l)) == 1)
		if (decode_line(&d, &l) == -1)
			break;
	if (rc == 0 && c.status == 0)
		(void)decode_finish(&d);
out:
	decode_stats(&d, extra, sizeof(extra));
	rc = cli_finish(&c, extra);
	decode_free(&d);
	cli_die_by_signal();
	return rc;
}
