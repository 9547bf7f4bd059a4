/*
 * pg-load: load records and Singer messages into PostgreSQL, in one
 * transaction, with the load's state and bookkeeping in the dataset's
 * schema.  sqlite-load's sibling: the same loader core (lib/load.h) in
 * the PostgreSQL dialect (pgout.c), the same front-end (lib/loadmain.h).
 */
#include "loadmain.h"
#include "pgout.h"

static const struct cli_opt options[] = {
	{ "dataset", 0, LOADMAIN_OPT_DATASET, "schema",
	    "load into this schema (default: public)", NULL, NULL },
	{ NULL, 0, 0, NULL, NULL, NULL, NULL }
};

static const struct loadmain_program pg_load = {
	"pg-load", &pgout_dialect, "conninfo",
	"Load NDJSON records and Singer messages into PostgreSQL, in one\n"
	"transaction.  The password comes from PGPASSWORD, ~/.pgpass or a\n"
	"service file.\n", options, pgout_state_get, pgout_redact, pgout_scrub
};

int
main(int argc, char *argv[])
{
	return loadmain_run(&pg_load, argc, argv);
}
