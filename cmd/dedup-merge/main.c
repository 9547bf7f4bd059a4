/*
 * dedup-merge: one row per key out of records and Singer messages, the
 * last, first or latest version of each; deletes as tombstones; an
 * incremental cursor with a STATE message; the changes between two
 * snapshots (--diff); memory capped with spill to disk.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cursor.h"
#include "dedup.h"
#include "exitcodes.h"
#include "transform.h"
#include "xalloc.h"

enum {
	OPT_LATEST_BY = CLI_OPT_PRIVATE, OPT_FIRST, OPT_DELETE_WHEN,
	OPT_DROP_DELETED, OPT_CURSOR, OPT_SINCE, OPT_STATE_FROM, OPT_LAG,
	OPT_ON_MISSING, OPT_BOUNDARY_MAX, OPT_MEMORY, OPT_TMPDIR, OPT_DIFF
};

static const struct cli_opt options[] = {
	{ "key", 'k', 0, "path[,path]",
	    "the key (default: the SCHEMA's key_properties)", NULL, NULL },
	{ "first", 0, OPT_FIRST, NULL,
	    "keep the first version (default: the last)", "latest-by", NULL },
	{ "latest-by", 0, OPT_LATEST_BY, "path",
	    "keep the version with the greatest PATH", NULL, NULL },
	{ "delete-when", 0, OPT_DELETE_WHEN, "expr",
	    "jq predicate: the survivor becomes a tombstone", NULL, NULL },
	{ "diff", 0, OPT_DIFF, "old",
	    "write what changes snapshot OLD into the input", NULL, NULL },
	{ "drop-deleted", 0, OPT_DROP_DELETED, NULL,
	    "leave deleted keys out instead", NULL, NULL },
	{ "cursor", 0, OPT_CURSOR, "path",
	    "incremental: drop records below the bookmark", NULL, NULL },
	{ "since", 0, OPT_SINCE, "value", "the last cursor value",
	    "state-from", NULL },
	{ "state-from", 0, OPT_STATE_FROM, "db",
	    "the bookmark that sqlite-load stored in DB", NULL, NULL },
	{ "lag", 0, OPT_LAG, "n",
	    "reload N (seconds for timestamps) below it", NULL, NULL },
	{ "on-missing-cursor", 0, OPT_ON_MISSING, "fail|include|exclude",
	    "a record without a cursor value (default fail)", NULL, NULL },
	{ "boundary-max", 0, OPT_BOUNDARY_MAX, "n",
	    "keys kept at the last value (default 10000)", NULL, NULL },
	{ "memory", 0, OPT_MEMORY, "size",
	    "memory cap (default 256M, at least 1M)", NULL, NULL },
	{ "tmpdir", 0, OPT_TMPDIR, "dir",
	    "where to spill (default $TMPDIR or /tmp)", NULL, NULL },
	{ NULL, 0, 0, NULL, NULL, NULL, NULL }
};

static const struct cli_spec spec = {
	options, "[file ...]", NULL,
	"Keep one record per key: merge a snapshot with a delta, drop what an\n"
	"earlier run loaded, turn deleted rows into tombstones, or write the\n"
	"changes between two snapshots.\n", 0
};

static const struct cli_choice on_missing[] = {
	{ "fail", CURSOR_FAIL }, { "include", CURSOR_INCLUDE },
	{ "exclude", CURSOR_EXCLUDE }, { NULL, 0 }
};

/* An argument that must name something; else a usage error. */
static const char *
nonempty(struct cli *c, const char *arg, const char *what)
{
	if (*arg == '\0')
		cli_usage_error(c, "--%s: an empty %s", c->optname, what);
	return arg;
}

/*
 * The options into o and co, checked alone and together; the --delete-when
 * predicate compiled; *old is --diff's OLD or NULL.  Usage errors exit 64.
 */
static void
parse_options(struct cli *c, struct dedup_opts *o, struct cursor_opts *co,
    char **old, int argc, char *argv[])
{
	struct lib_err e;
	const char *del = NULL, *tmp;
	int id, missing_set = 0;

	while ((id = cli_getopt(c, &spec, argc, argv)) != -1) {
		switch (id) {
		case 'k':
			if (*optarg == '\0' || strstr(optarg, ",,") != NULL ||
			    optarg[strlen(optarg) - 1] == ',' || *optarg == ',')
				cli_usage_error(c, "-k: an empty path");
			o->keys = optarg;
			break;
		case OPT_LATEST_BY:
			o->latest_by = nonempty(c, optarg, "path");
			break;
		case OPT_FIRST:
			o->rule = DEDUP_FIRST;
			break;
		case OPT_DELETE_WHEN:
			del = optarg;
			break;
		case OPT_DROP_DELETED:
			o->drop_deleted = 1;
			break;
		case OPT_CURSOR:
			co->path = nonempty(c, optarg, "path");
			break;
		case OPT_SINCE:
			co->since = optarg;
			break;
		case OPT_STATE_FROM:
			co->state_db = optarg;
			break;
		case OPT_LAG:
			co->lag = cli_real(c, optarg, 0, 0, HUGE_VALL);
			co->has_lag = 1;
			break;
		case OPT_ON_MISSING:
			missing_set = 1;
			o->on_missing = cli_enum(c, optarg, on_missing);
			break;
		case OPT_BOUNDARY_MAX:
			co->boundary_max = (size_t)cli_num(c, optarg, 0, 100000000);
			break;
		case OPT_MEMORY:
			o->memory = (size_t)cli_size(c, optarg, 1ULL << 20,
			    1ULL << 40);
			break;
		case OPT_TMPDIR:
			o->tmpdir = nonempty(c, optarg, "name");
			break;
		case OPT_DIFF:
			if (strcmp(nonempty(c, optarg, "name"), "-") == 0)
				cli_usage_error(c, "--diff: OLD is a file; NEW is "
				    "the files or the standard input");
			*old = optarg;
			break;
		default:
			cli_usage(c);
		}
	}
	if (o->rule == DEDUP_FIRST && o->latest_by != NULL)
		cli_usage_error(c, "--first: not with --latest-by");
	if (o->latest_by != NULL)
		o->rule = DEDUP_LATEST;
	if (o->drop_deleted && del == NULL)
		cli_usage_error(c, "--drop-deleted: needs --delete-when");
	if (co->path == NULL && (co->since != NULL || co->state_db != NULL ||
	    co->has_lag || missing_set))
		cli_usage_error(c, "--since, --state-from, --lag, "
		    "--on-missing-cursor: need --cursor");
	if (*old != NULL && (co->path != NULL || o->drop_deleted))
		cli_usage_error(c, "--diff: not with --cursor or "
		    "--drop-deleted");
	if (co->since != NULL && co->state_db != NULL)
		cli_usage_error(c, "--since: not with --state-from");
	if (o->tmpdir == NULL)
		o->tmpdir = (tmp = getenv("TMPDIR")) != NULL && *tmp != '\0' ?
		    tmp : "/tmp";
	if (del != NULL && (o->del = transform_new(del, &e)) == NULL)
		cli_usage_error(c, "--delete-when: %s", e.msg);
}

int
main(int argc, char *argv[])
{
	struct cli c;
	struct cli_line l;
	struct dedup_opts o;
	struct cursor_opts co;
	struct dedup *d = NULL;
	static char dash[] = "-";
	char extra[512], **files, *old = NULL;
	int rc, depth, nfiles;

	memset(&o, 0, sizeof(o));
	memset(&co, 0, sizeof(co));
	o.memory = (size_t)256 << 20;
	co.boundary_max = 10000;
	cli_init(&c, "dedup-merge");
	c.filter = 1;
	parse_options(&c, &o, &co, &old, argc, argv);
	files = argv + optind;
	nfiles = argc - optind;
	if (old != NULL) {
		/* OLD is read first, then NEW: the files, or stdin. */
		o.diff_old = old;
		files = xalloc_realloc(NULL, (size_t)nfiles + 2, sizeof(*files));
		files[0] = old;
		memcpy(files + 1, argv + optind, (size_t)nfiles * sizeof(*files));
		if (nfiles == 0) {
			files[1] = dash;
			nfiles = 1;
		}
		nfiles++;
	}
	if (co.path != NULL)
		o.cursor = cursor_new(&co);

	depth = dedup_keep_depth(&o);
	if (1 + jval_path_depth(co.path) > depth)
		depth = 1 + jval_path_depth(co.path);
	c.keep_depth = depth;
	c.workers = 2;
	d = dedup_new(&c, &o);
	cli_catch_signals();
	if (cli_start(&c, files, nfiles) == -1)
		goto out;
	while ((rc = cli_next(&c, &l)) == 1)
		if (dedup_line(d, &l) == -1)
			break;
	if (rc == 0 && c.status == 0)
		(void)dedup_finish(d);
out:
	dedup_stats(d, extra, sizeof(extra));
	rc = cli_finish(&c, extra);
	dedup_free(d);
	cursor_free(o.cursor);
	transform_free(o.del);
	if (old != NULL)
		free(files);
	cli_die_by_signal();
	return rc;
}
