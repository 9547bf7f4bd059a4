/*
 * sqlite-load: load records and Singer messages into a SQLite database,
 * in one transaction, with the load's state and bookkeeping.  The load
 * itself is the loader core's (lib/load.h) in the SQLite dialect
 * (sqlout.c); the front-end is the loaders' (lib/loadmain.h).
 */
#include "jbuf.h"
#include "loadmain.h"
#include "sqlout.h"
#include "state.h"

static const struct cli_opt options[] = {
	{ "busy-timeout", 0, LOADMAIN_OPT_BUSY_TIMEOUT, "ms",
	    "wait this long for a locked database", NULL, NULL },
	{ NULL, 0, 0, NULL, NULL, NULL, NULL }
};

static int
get_state(const char *db, const char *dataset, const char *path,
    struct jbuf *out, int *found, struct lib_err *e)
{
	(void)dataset;
	return state_get(db, path, out, found, e);
}

/* A file's name holds no secret. */
static void
shown(const char *db, struct jbuf *out)
{
	jbuf_puts(out, db);
}

static const struct loadmain_program sqlite_load = {
	"sqlite-load", &sqlout_dialect, "db",
	"Load NDJSON records and Singer messages into a SQLite database,\n"
	"in one transaction.\n", options, get_state, shown, NULL
};

int
main(int argc, char *argv[])
{
	return loadmain_run(&sqlite_load, argc, argv);
}
