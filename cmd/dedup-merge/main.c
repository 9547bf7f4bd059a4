/*
 * dedup-merge: one row per key out of records and Singer messages, the
 * last, first or latest version of each; deletes as tombstones; an
 * incremental cursor with a STATE message; memory capped with spill to
 * disk.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cursor.h"
#include "dedup.h"
#include "exitcodes.h"
#include "strtonum.h"
#include "transform.h"

enum {
	OPT_LATEST_BY = CLI_OPT_PRIVATE, OPT_FIRST, OPT_DELETE_WHEN,
	OPT_DROP_DELETED, OPT_CURSOR, OPT_SINCE, OPT_STATE_FROM, OPT_LAG,
	OPT_ON_MISSING, OPT_BOUNDARY_MAX, OPT_MEMORY, OPT_TMPDIR
};

static const struct option longopts[] = {
	CLI_LONGOPTS,
	{ "key",		required_argument,	NULL, 'k' },
	{ "latest-by",		required_argument,	NULL, OPT_LATEST_BY },
	{ "first",		no_argument,		NULL, OPT_FIRST },
	{ "delete-when",	required_argument,	NULL, OPT_DELETE_WHEN },
	{ "drop-deleted",	no_argument,		NULL, OPT_DROP_DELETED },
	{ "cursor",		required_argument,	NULL, OPT_CURSOR },
	{ "since",		required_argument,	NULL, OPT_SINCE },
	{ "state-from",		required_argument,	NULL, OPT_STATE_FROM },
	{ "lag",		required_argument,	NULL, OPT_LAG },
	{ "on-missing-cursor",	required_argument,	NULL, OPT_ON_MISSING },
	{ "boundary-max",	required_argument,	NULL, OPT_BOUNDARY_MAX },
	{ "memory",		required_argument,	NULL, OPT_MEMORY },
	{ "tmpdir",		required_argument,	NULL, OPT_TMPDIR },
	{ NULL, 0, NULL, 0 }
};

static const char synopsis[] =
"usage: dedup-merge [-qhV] [-t table] [-k path[,path]] [--first | --latest-by path]\n"
"                   [--delete-when expr [--drop-deleted]]\n"
"                   [--cursor path [--since value | --state-from db] [--lag n]\n"
"                   [--on-missing-cursor fail|include|exclude] [--boundary-max n]]\n"
"                   [--memory size] [--tmpdir dir] [--on-error policy]\n"
"                   [--stats file] [file ...]\n";

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
	    "Keep one record per key: merge a snapshot with a delta, drop what an\n"
	    "earlier run loaded, turn deleted rows into tombstones.\n\n"
	    "  -k, --key PATH[,PATH]   the key (default: the SCHEMA's key_properties)\n"
	    "      --first             keep the first version (default: the last)\n"
	    "      --latest-by PATH    keep the version with the greatest PATH\n"
	    "      --delete-when EXPR  jq predicate: the survivor becomes a tombstone\n"
	    "      --drop-deleted      leave deleted keys out instead\n"
	    "      --cursor PATH       incremental: drop records below the bookmark\n"
	    "      --since VALUE       the last cursor value\n"
	    "      --state-from DB     the bookmark that sqlite-load stored in DB\n"
	    "      --lag N             reload N (seconds for timestamps) below it\n"
	    "      --on-missing-cursor fail|include|exclude\n"
	    "                          a record without a cursor value (default fail)\n"
	    "      --boundary-max N    keys kept at the last value (default 10000)\n"
	    "      --memory SIZE       memory cap (default 256M, at least 1M)\n"
	    "      --tmpdir DIR        where to spill (default $TMPDIR or /tmp)\n"
	    "%s", synopsis, CLI_USAGE_COMMON);
	exit(0);
}

/* A checked option value, or usage. */
static void
bad(struct cli *c, const char *opt, const char *msg)
{
	cli_error(c, EX_USAGE, "%s: %s", opt, msg);
	usage();
}

static long double
parse_lag(struct cli *c, const char *s)
{
	char *end;
	long double v;

	errno = 0;
	v = strtold(s, &end);
	if (end == s || *end != '\0' || errno != 0 || !(v >= 0))
		bad(c, "--lag", "expected a number, 0 or more");
	return v;
}

int
main(int argc, char *argv[])
{
	struct cli c;
	struct cli_line l;
	struct dedup_opts o;
	struct cursor_opts co;
	struct dedup *d = NULL;
	struct lib_err e;
	const char *del = NULL, *tmp;
	unsigned long long size;
	long long n;
	char extra[512];
	int ch, rc, depth, missing_set = 0;

	memset(&o, 0, sizeof(o));
	memset(&co, 0, sizeof(co));
	o.memory = (size_t)256 << 20;
	co.boundary_max = 10000;
	cli_init(&c, "dedup-merge");
	c.filter = 1;
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
			if (*optarg == '\0' || strstr(optarg, ",,") != NULL ||
			    optarg[strlen(optarg) - 1] == ',' || *optarg == ',')
				bad(&c, "-k", "an empty path");
			o.keys = optarg;
			break;
		case OPT_LATEST_BY:
			if (*optarg == '\0')
				bad(&c, "--latest-by", "an empty path");
			o.latest_by = optarg;
			break;
		case OPT_FIRST:
			o.rule = DEDUP_FIRST;
			break;
		case OPT_DELETE_WHEN:
			del = optarg;
			break;
		case OPT_DROP_DELETED:
			o.drop_deleted = 1;
			break;
		case OPT_CURSOR:
			if (*optarg == '\0')
				bad(&c, "--cursor", "an empty path");
			co.path = optarg;
			break;
		case OPT_SINCE:
			co.since = optarg;
			break;
		case OPT_STATE_FROM:
			co.state_db = optarg;
			break;
		case OPT_LAG:
			co.lag = parse_lag(&c, optarg);
			co.has_lag = 1;
			break;
		case OPT_ON_MISSING:
			missing_set = 1;
			if (strcmp(optarg, "fail") == 0)
				o.on_missing = CURSOR_FAIL;
			else if (strcmp(optarg, "include") == 0)
				o.on_missing = CURSOR_INCLUDE;
			else if (strcmp(optarg, "exclude") == 0)
				o.on_missing = CURSOR_EXCLUDE;
			else
				bad(&c, "--on-missing-cursor",
				    "expected fail, include or exclude");
			break;
		case OPT_BOUNDARY_MAX:
			if (strtonum_ll(optarg, 0, 100000000, &n, &e) == -1)
				bad(&c, "--boundary-max", e.msg);
			co.boundary_max = (size_t)n;
			break;
		case OPT_MEMORY:
			if (strtonum_size(optarg, 1ULL << 20, 1ULL << 40, &size,
			    &e) == -1)
				bad(&c, "--memory", e.msg);
			o.memory = (size_t)size;
			break;
		case OPT_TMPDIR:
			if (*optarg == '\0')
				bad(&c, "--tmpdir", "an empty name");
			o.tmpdir = optarg;
			break;
		default:
			usage();
		}
	}
	if (o.rule == DEDUP_FIRST && o.latest_by != NULL)
		bad(&c, "--first", "not with --latest-by");
	if (o.latest_by != NULL)
		o.rule = DEDUP_LATEST;
	if (o.drop_deleted && del == NULL)
		bad(&c, "--drop-deleted", "needs --delete-when");
	if (co.path == NULL && (co.since != NULL || co.state_db != NULL ||
	    co.has_lag || missing_set))
		bad(&c, "--since, --state-from, --lag, --on-missing-cursor",
		    "need --cursor");
	if (co.since != NULL && co.state_db != NULL)
		bad(&c, "--since", "not with --state-from");
	if (o.tmpdir == NULL)
		o.tmpdir = (tmp = getenv("TMPDIR")) != NULL && *tmp != '\0' ?
		    tmp : "/tmp";
	if (del != NULL && (o.del = transform_new(del, &e)) == NULL)
		bad(&c, "--delete-when", e.msg);
	if (co.path != NULL)
		o.cursor = cursor_new(&co);

	depth = dedup_keep_depth(&o);
	if (1 + jval_path_depth(co.path) > depth)
		depth = 1 + jval_path_depth(co.path);
	c.keep_depth = depth;
	c.workers = 2;
	d = dedup_new(&c, &o);
	cli_catch_signals();
	if (cli_start(&c, argv + optind, argc - optind) == -1)
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
	cli_die_by_signal();
	return rc;
}
