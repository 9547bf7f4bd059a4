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
#include "clocks.h"
#include "decode.h"
#include "exitcodes.h"
#include "jval.h"
#include "replication.h"
#include "scan.h"
#include "stats.h"

enum {
	OPT_FORMAT = CLI_OPT_PRIVATE, OPT_QUALIFY, OPT_STATE_FROM, OPT_STATE,
	OPT_BOOKMARK, OPT_MEMORY, OPT_SLOT, OPT_CREATE_SLOT
};

static const struct cli_opt options[] = {
	{ "format", 0, OPT_FORMAT, "wal2json|debezium",
	    "the events' format (default wal2json)", NULL, NULL },
	{ "key", 'k', 0, "col[,col]",
	    "debezium: the key columns of every table", NULL, NULL },
	{ "qualify", 0, OPT_QUALIFY, NULL,
	    "streams named schema__table", NULL, NULL },
	{ "state-from", 0, OPT_STATE_FROM, "db",
	    "skip the transactions DB has committed", "state", NULL },
	{ "state", 0, OPT_STATE, "file",
	    "the same, the bookmark in a state document\n(pg-load --state-get .)",
	    NULL, NULL },
	{ "bookmark", 0, OPT_BOOKMARK, "name",
	    "the STATE's bookmarks.NAME (default cdc)", NULL, NULL },
	{ "memory", 0, OPT_MEMORY, "size",
	    "a transaction held in memory, then spilled (default 64M)", NULL,
	    NULL },
	{ "slot", 0, OPT_SLOT, "name",
	    "live: stream the slot of the server conninfo names", NULL, NULL },
	{ "create-slot", 0, OPT_CREATE_SLOT, NULL,
	    "live: make the slot (wal2json) if it is not there", NULL, NULL },
	{ NULL, 0, 0, NULL, NULL, NULL, NULL }
};

static const struct cli_spec spec = {
	options, "[file ...]", "--slot name --state-from db [options] conninfo",
	"Turn change events (wal2json, Debezium) into sluice messages, a "
	"transaction at a time.\n", CLI_NO_STREAM
};

static const struct cli_choice formats[] = {
	{ "wal2json", DECODE_WAL2JSON },
	{ "debezium", DECODE_DEBEZIUM },
	{ NULL, 0 }
};

/* Live mode: the slot to stream. */
struct live {
	const char	*slot;
	int		 create;
};

/* Where the committed bookmark is: --state-from DB or --state FILE. */
struct bookmark_from {
	const char	*db;
	const char	*file;
};

static void
parse_options(struct cli *c, struct decode_opts *o, struct bookmark_from *from,
    struct live *live, int argc, char *argv[])
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
			from->db = optarg;
			break;
		case OPT_STATE:
			from->file = optarg;
			break;
		case OPT_BOOKMARK:
			if (*optarg == '\0' || strchr(optarg, '.') != NULL)
				cli_usage_error(c, "--bookmark: a name without "
				    "dots");
			o->bookmark = optarg;
			break;
		case OPT_SLOT:
			live->slot = optarg;
			break;
		case OPT_CREATE_SLOT:
			live->create = 1;
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

/*
 * Live: the slot's changes as the server commits them.  Only what the
 * destination has committed (the bookmark in state_from, read again each
 * second) is confirmed to the server, so a crash of any program loses
 * nothing: the server sends the rest again, and what was loaded already
 * is dropped.  Each transaction is written through at its commit.
 */
static void
stream_live(struct cli *c, struct decode *d, const char *conninfo,
    const struct live *live, const char *state_from)
{
	struct jval_parser *p;
	struct cli_line l;
	struct repl *r;
	struct lib_err e;
	const char *data;
	size_t len;
	double last = 0;
	char *shown;
	int rc, reply, confirm;

	if ((r = repl_open(conninfo, live->slot, live->create, &e)) == NULL) {
		shown = repl_redact(conninfo);
		cli_error(c, e.code, "%s: %s", shown, e.msg);
		free(shown);
		return;
	}
	p = jval_parser_new((size_t)c->max_line * 8 + ((size_t)1 << 20));
	memset(&l, 0, sizeof(l));
	l.file = live->slot;
	while (!cli_signalled()) {
		confirm = 0;
		if (clocks_monotonic() - last >= 1.0) {
			/* What the destination holds now. */
			if (decode_state_from(d, state_from, 0) == -1)
				break;
			last = clocks_monotonic();
			confirm = 1;
		}
		if ((rc = repl_next(r, &data, &len, &reply, 1000, &e)) == -1) {
			cli_error(c, e.code, "%s", e.msg);
			break;
		}
		if ((confirm || reply) && repl_confirm(r, d->have_committed ?
		    d->committed : 0, &e) == -1) {
			cli_error(c, e.code, "%s", e.msg);
			break;
		}
		if (rc == 0)
			continue;
		l.lineno++;
		l.text = data;
		l.len = len;
		jval_parser_rewind(p);
		memset(&l.msg, 0, sizeof(l.msg));
		if ((l.msg.root = jval_parse(p, data, len, JVAL_KEEP_ALL,
		    &e)) == NULL) {
			if (cli_reject(c, &l, e.msg) == -1)
				break;
			continue;
		}
		l.msg.kind = MSG_BARE;
		l.msg.record = l.msg.root;
		stats_add(&c->stats.lines, 1);
		if (decode_line(d, &l) == -1)
			break;
		/* A transaction written: downstream has it now. */
		if (c->out.len > 0 && !d->in_txn && cli_flush(c) == -1)
			break;
	}
	jval_parser_free(p);
	repl_close(r);
	if (cli_signalled())
		cli_set_status(c, 128 + cli_signalled());
}

/*
 * The event of the line cli_next gave: most lines are plain JSON that
 * scan_line reads fast, the others go to jval_parse; either way the same
 * tree, and a line that is no JSON goes through --on-error as any
 * program's.  1: an event; 0: rejected, go on; -1: stop.
 */
static int
parse_event(struct cli *c, struct scan *scan, struct cli_line *l)
{
	const struct jval *root = scan_line(scan, l->text, l->len);

	return root != NULL ? cli_classify(c, l, root) : cli_parse_line(c, l);
}

int
main(int argc, char *argv[])
{
	struct decode_opts o;
	struct decode d;
	struct live live;
	struct cli c;
	struct cli_line l;
	struct bookmark_from from = { NULL, NULL };
	struct scan scan;
	size_t arena_limit;
	char extra[256];
	int rc;

	memset(&o, 0, sizeof(o));
	memset(&live, 0, sizeof(live));
	o.format = DECODE_WAL2JSON;
	o.bookmark = "cdc";
	o.memory = (size_t)64 << 20;
	cli_init(&c, "cdc-decode");
	c.filter = 1;
	c.raw = 1;		/* an event is no Singer message */
	c.unparsed = 1;		/* parse_event reads the events */
	cli_catch_signals();
	parse_options(&c, &o, &from, &live, argc, argv);
	if (from.db != NULL && from.file != NULL)
		cli_usage_error(&c, "--state-from and --state: one or the other");
	if (o.keys != NULL && o.format != DECODE_DEBEZIUM)
		cli_usage_error(&c, "-k: the key of Debezium events; wal2json "
		    "gives each table's (-o include-pk=1)");
	if (live.create && live.slot == NULL)
		cli_usage_error(&c, "--create-slot: with --slot");
	if (live.slot != NULL && (from.db == NULL ||
	    o.format != DECODE_WAL2JSON || argc - optind != 1))
		cli_usage_error(&c, "--slot: one connection string, wal2json, "
		    "and --state-from DB, the destination whose committed "
		    "position is confirmed to the server (read again each "
		    "second: --state FILE is read once)");
	decode_init(&d, &c, &o);
	/* That of cli's parser (cli_start), which the other lines go to. */
	arena_limit = (size_t)c.max_line * 8 + ((size_t)1 << 20);
	if (live.slot != NULL) {
		if (cli_begin(&c) == 0 &&
		    decode_state_from(&d, from.db, 0) == 0)
			stream_live(&c, &d, argv[optind], &live, from.db);
		goto out;
	}
	if (cli_start(&c, argv + optind, argc - optind) == -1)
		goto out;
	if (from.db != NULL && decode_state_from(&d, from.db, 0) == -1)
		goto out;
	if (from.file != NULL && decode_state_from(&d, from.file, 1) == -1)
		goto out;
	scan_init(&scan, arena_limit);
	while ((rc = cli_next(&c, &l)) == 1) {
		if ((rc = parse_event(&c, &scan, &l)) == -1)
			break;
		if (rc == 1 && decode_line(&d, &l) == -1)
			break;
	}
	scan_free(&scan);
	if (rc == 0 && c.status == 0)
		(void)decode_finish(&d);
out:
	decode_stats(&d, extra, sizeof(extra));
	rc = cli_finish(&c, extra);
	decode_free(&d);
	cli_die_by_signal();
	return rc;
}
