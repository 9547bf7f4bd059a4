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
#include "schema.h"

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

struct infer {
	struct cli		 cli;
	struct schema_set	 set;
	struct schema_opts	 opts;
	struct schema_changes	 changes;
	const char		*keys;		/* -k */
	int			 final;
	const char		*events_path;
	FILE			*events;
	struct jbuf		 buf;
};

/* Per stream: the schema version last written. */
struct infer_table {
	unsigned long	emitted;
};

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

static struct infer_table *
info(struct schema_table *t)
{
	if (t->user == NULL && (t->user = calloc(1, sizeof(struct infer_table))) == NULL)
		abort();
	return t->user;
}

static struct schema_table *
stream_table(struct infer *in, const char *name, size_t len)
{
	struct schema_table *t;
	struct lib_err e;

	if ((t = schema_set_get(&in->set, name, len, 0, &e)) != NULL)
		return t;
	if ((t = schema_set_get(&in->set, name, len, 1, &e)) == NULL) {
		cli_error(&in->cli, e.code, "%s", e.msg);
		return NULL;
	}
	if (in->keys != NULL)
		schema_table_set_keys_csv(t, in->keys);
	(void)info(t);
	return t;
}

/* Events to --events and notices to stderr, then forget the changes. */
static int
report(struct infer *in, struct schema_table *t, const struct cli_line *l)
{
	size_t i;

	for (i = 0; i < in->changes.n; i++) {
		const struct schema_change *ch = &in->changes.v[i];

		if (in->events != NULL) {
			jbuf_reset(&in->buf);
			schema_change_event(t, ch, l->lineno, &in->buf);
			jbuf_putc(&in->buf, '\n');
			if (fwrite(in->buf.p, 1, in->buf.len, in->events) !=
			    in->buf.len) {
				cli_error(&in->cli, EX_IOERR, "%s: %s",
				    in->events_path, strerror(errno));
				return -1;
			}
		}
		if (ch->kind != SC_NEW_TABLE && !in->cli.quiet) {
			jbuf_reset(&in->buf);
			schema_change_describe(t, ch, &in->buf);
			cli_warn_at(&in->cli, l, "stream %s: %s", t->name,
			    jbuf_cstr(&in->buf));
		}
	}
	in->changes.n = 0;
	return 0;
}

static int
emit_schema(struct infer *in, struct schema_table *t)
{
	struct infer_table *it = info(t);

	it->emitted = t->version;
	if (in->final)
		return 0;
	jbuf_reset(&in->buf);
	schema_write_message(t, &in->buf);
	jbuf_putc(&in->buf, '\n');
	return cli_write(&in->cli, in->buf.p, in->buf.len);
}

static int
pass_line(struct infer *in, const struct cli_line *l)
{
	if (in->final)
		return 0;
	if (cli_write(&in->cli, l->text, l->len) == -1 ||
	    cli_write(&in->cli, "\n", 1) == -1)
		return -1;
	return 0;
}

/* Observe a record; write a SCHEMA first if it changed the stream. */
static int
on_record(struct infer *in, const struct cli_line *l)
{
	const struct message *m = &l->msg;
	const struct jval *v;
	struct schema_table *t;
	struct lib_err e;

	if (m->kind == MSG_BARE)
		t = stream_table(in, in->cli.table, strlen(in->cli.table));
	else
		t = stream_table(in, m->stream, m->streamlen);
	if (t == NULL)
		return -1;
	schema_record_begin(t);
	for (v = m->record->child; v != NULL; v = v->next)
		if (schema_observe(t, v->key, v->keylen, v, &in->opts,
		    &in->changes, &e) == -2) {
			in->changes.n = 0;
			return cli_reject(&in->cli, l, e.msg);
		}
	schema_record_end(t, &in->changes);
	if (report(in, t, l) == -1)
		return -1;
	if (info(t)->emitted != t->version && emit_schema(in, t) == -1)
		return -1;
	if (in->final)
		return 0;
	if (m->kind == MSG_RECORD)
		return pass_line(in, l);
	/* A bare record travels on as a RECORD message of the -t stream. */
	jbuf_reset(&in->buf);
	jbuf_puts(&in->buf, "{\"type\":\"RECORD\",\"stream\":");
	jbuf_str(&in->buf, in->cli.table, strlen(in->cli.table));
	jbuf_puts(&in->buf, ",\"record\":");
	if (cli_write(&in->cli, in->buf.p, in->buf.len) == -1 ||
	    cli_write(&in->cli, l->text, l->len) == -1 ||
	    cli_write(&in->cli, "}\n", 2) == -1)
		return -1;
	return 0;
}

/*
 * An upstream SCHEMA seeds the stream and passes through; ours follows it
 * when what we know of the stream says more than it does.
 */
static int
on_schema(struct infer *in, struct cli_line *l, int seeding)
{
	struct schema_table *t, *up;
	struct lib_err e;
	struct jbuf theirs = JBUF_INIT;
	int had, rc = 0;

	if (cli_reparse(&in->cli, l) == -1)
		return -1;
	if ((t = stream_table(in, l->msg.stream, l->msg.streamlen)) == NULL)
		return -1;
	had = t->ncols > 0 || t->records > 0;
	if (schema_apply_json(t, l->msg.schema, l->msg.key_properties,
	    &in->changes, &e) == -1) {
		in->changes.n = 0;
		return cli_reject(&in->cli, l, e.msg);
	}
	if (in->keys != NULL)
		schema_table_set_keys_csv(t, in->keys);
	if (!had || seeding)
		in->changes.n = 0;
	if (report(in, t, l) == -1)
		return -1;
	if (seeding) {
		info(t)->emitted = t->version - 1;	/* announce it once */
		return 0;
	}
	if (pass_line(in, l) == -1)
		return -1;

	up = schema_table_new(t->name, t->namelen);
	(void)schema_apply_json(up, l->msg.schema, l->msg.key_properties,
	    NULL, &e);
	if (in->keys != NULL)
		schema_table_set_keys_csv(up, in->keys);
	schema_write_message(up, &theirs);
	jbuf_reset(&in->buf);
	schema_write_message(t, &in->buf);
	if (theirs.len == in->buf.len &&
	    memcmp(theirs.p, in->buf.p, theirs.len) == 0)
		info(t)->emitted = t->version;
	else
		rc = emit_schema(in, t);
	jbuf_free(&theirs);
	schema_table_free(up);
	return rc;
}

/* --schema FILE: the SCHEMA messages in it seed their streams. */
static int
load_schema_file(struct infer *in, char *path)
{
	struct cli sub;
	struct cli_line l;
	char *files[1];
	int rc;

	cli_init(&sub, in->cli.prog);
	sub.quiet = 1;
	files[0] = path;
	if (cli_start(&sub, files, 1) == -1)
		return -1;
	while ((rc = cli_next(&sub, JVAL_KEEP_ALL, &l)) == 1) {
		if (l.msg.kind != MSG_SCHEMA)
			continue;
		in->cli.parser = sub.parser;	/* on_schema reparses with it */
		rc = on_schema(in, &l, 1);
		in->cli.parser = NULL;
		if (rc == -1)
			break;
	}
	if (cli_finish(&sub, NULL) != 0 || in->cli.status != 0) {
		if (in->cli.status == 0) {
			in->cli.status = sub.status;
			memcpy(in->cli.last_error, sub.last_error,
			    sizeof(in->cli.last_error));
		}
		return -1;
	}
	return rc;
}

int
main(int argc, char *argv[])
{
	struct infer in;
	struct cli_line l;
	char *schema_path = NULL;
	size_t i;
	int ch, rc;

	memset(&in, 0, sizeof(in));
	cli_init(&in.cli, "schema-infer");
	in.cli.filter = 1;
	in.opts.detect = 1;
	while ((ch = getopt_long(argc, argv, CLI_SHORTOPTS "k:", longopts,
	    NULL)) != -1) {
		if ((rc = cli_option(&in.cli, ch, optarg)) == 1)
			continue;
		if (rc == -1)
			usage();
		switch (ch) {
		case 'h':
			help();
			break;
		case 'V':
			(void)printf("schema-infer (sluice) %s\n", SLUICE_VERSION);
			return 0;
		case 'k':
			in.keys = optarg;
			break;
		case OPT_FINAL:
			in.final = 1;
			break;
		case OPT_SCHEMA:
			schema_path = optarg;
			break;
		case OPT_EVENTS:
			in.events_path = optarg;
			break;
		case OPT_NO_DETECT:
			in.opts.detect = 0;
			break;
		case OPT_ON_TYPE_CONFLICT:
			if (strcmp(optarg, "variant") == 0)
				in.opts.conflict_fail = 0;
			else if (strcmp(optarg, "fail") == 0)
				in.opts.conflict_fail = 1;
			else {
				cli_error(&in.cli, EX_USAGE,
				    "--on-type-conflict: '%s': expected variant or fail",
				    optarg);
				usage();
			}
			break;
		default:
			usage();
		}
	}
	if (cli_start(&in.cli, argv + optind, argc - optind) == -1)
		goto out;
	if (schema_path != NULL) {
		struct jval_parser *mine = in.cli.parser;

		rc = load_schema_file(&in, schema_path);
		in.cli.parser = mine;
		if (rc == -1)
			goto out;
	}
	if (in.events_path != NULL &&
	    (in.events = fopen(in.events_path, "a")) == NULL) {
		cli_error(&in.cli, EX_CANTCREAT, "%s: %s", in.events_path,
		    strerror(errno));
		goto out;
	}
	/* Records' members are depth 1 (bare) or 2 (in a RECORD message). */
	while ((rc = cli_next(&in.cli, 2, &l)) == 1) {
		switch (l.msg.kind) {
		case MSG_BARE:
		case MSG_RECORD:
			rc = on_record(&in, &l);
			break;
		case MSG_SCHEMA:
			rc = on_schema(&in, &l, 0);
			break;
		case MSG_ABORT:
			/* Upstream failed: pass the news on and fail too. */
			in.cli.aborted = 1;
			(void)pass_line(&in, &l);
			cli_upstream_failed(&in.cli, &l);
			rc = -1;
			break;
		default:
			rc = pass_line(&in, &l);
			break;
		}
		if (rc == -1)
			break;
	}
	if (rc == 0 && in.final)
		for (i = 0; i < in.set.n; i++)
			if (in.set.tables[i]->ncols > 0 || in.set.tables[i]->records > 0) {
				in.final = 0;
				rc = emit_schema(&in, in.set.tables[i]);
				in.final = 1;
				if (rc == -1)
					break;
			}
out:
	if (in.events != NULL && fclose(in.events) != 0)
		cli_error(&in.cli, EX_IOERR, "%s: %s", in.events_path,
		    strerror(errno));
	rc = cli_finish(&in.cli, NULL);
	for (i = 0; i < in.set.n; i++)
		free(in.set.tables[i]->user);
	schema_set_free(&in.set);
	schema_changes_free(&in.changes);
	jbuf_free(&in.buf);
	cli_die_by_signal();
	return rc;
}
