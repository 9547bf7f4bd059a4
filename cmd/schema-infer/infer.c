#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "exitcodes.h"
#include "infer.h"
#include "xalloc.h"

/* Per stream: the schema version last written. */
struct infer_table {
	unsigned long	emitted;
};

static struct infer_table *
info(struct schema_table *t)
{
	if (t->user == NULL)
		t->user = xalloc_calloc(1, sizeof(struct infer_table));
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
		cli_error(in->cli, e.code, "%s", e.msg);
		return NULL;
	}
	if (in->opts.keys != NULL)
		schema_table_set_keys_csv(t, in->opts.keys);
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

		if (in->opts.events.fp != NULL) {
			struct lib_err e;

			jbuf_reset(&in->buf);
			schema_change_event(t, ch, l->lineno, &in->buf);
			jbuf_putc(&in->buf, '\n');
			/* Flushed: a lost event stops the run at its line. */
			if (sidefile_write(&in->opts.events, in->buf.p,
			    in->buf.len, 1, &e) == -1) {
				cli_error(in->cli, e.code, "%s", e.msg);
				return -1;
			}
		}
		if (ch->kind != SC_NEW_TABLE && !in->cli->quiet) {
			jbuf_reset(&in->buf);
			schema_change_describe(t, ch, &in->buf);
			cli_warn_at(in->cli, l, "stream %s: %s", t->name,
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
	if (in->opts.final)
		return 0;
	jbuf_reset(&in->buf);
	schema_write_message(t, &in->buf);
	jbuf_putc(&in->buf, '\n');
	return cli_write(in->cli, in->buf.p, in->buf.len);
}

static int
pass_line(struct infer *in, const struct cli_line *l)
{
	if (in->opts.final)
		return 0;
	if (cli_write(in->cli, l->text, l->len) == -1 ||
	    cli_write(in->cli, "\n", 1) == -1)
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
	long col;

	if (m->kind == MSG_BARE)
		t = stream_table(in, in->cli->table, strlen(in->cli->table));
	else
		t = stream_table(in, m->stream, m->streamlen);
	if (t == NULL)
		return -1;
	schema_record_begin(t);
	/* A name twice: the last one wins, as everywhere. */
	for (v = jval_member(m->record, NULL); v != NULL;
	    v = jval_member(m->record, v))
		if (schema_observe(t, v->key, v->keylen, v, &in->opts.schema,
		    &in->changes, &col, &e) == -1) {
			in->changes.n = 0;
			return cli_reject(in->cli, l, e.msg);
		}
	schema_record_end(t, &in->changes);
	if (report(in, t, l) == -1)
		return -1;
	if (info(t)->emitted != t->version && emit_schema(in, t) == -1)
		return -1;
	if (in->opts.final)
		return 0;
	if (m->kind == MSG_RECORD)
		return pass_line(in, l);
	/* A bare record travels on as a RECORD message of the -t stream. */
	jbuf_reset(&in->buf);
	jbuf_puts(&in->buf, "{\"type\":\"RECORD\",\"stream\":");
	jbuf_str(&in->buf, in->cli->table, strlen(in->cli->table));
	jbuf_puts(&in->buf, ",\"record\":");
	if (cli_write(in->cli, in->buf.p, in->buf.len) == -1 ||
	    cli_write(in->cli, l->text, l->len) == -1 ||
	    cli_write(in->cli, "}\n", 2) == -1)
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

	if (cli_reparse(in->cli, l) == -1)
		return -1;
	if ((t = stream_table(in, l->msg.stream, l->msg.streamlen)) == NULL)
		return -1;
	had = t->ncols > 0 || t->records > 0;
	if (schema_apply_json(t, l->msg.schema, l->msg.key_properties,
	    &in->changes, &e) == -1) {
		in->changes.n = 0;
		return cli_reject(in->cli, l, e.msg);
	}
	if (in->opts.keys != NULL)
		schema_table_set_keys_csv(t, in->opts.keys);
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
	if (in->opts.keys != NULL)
		schema_table_set_keys_csv(up, in->opts.keys);
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
int
infer_seed_file(struct infer *in, char *path)
{
	struct cli sub;
	struct cli_line l;
	struct jval_parser *mine = in->cli->parser;
	char *files[1];
	int rc;

	cli_init(&sub, in->cli->prog);
	sub.quiet = 1;
	sub.keep_depth = JVAL_KEEP_ALL;
	files[0] = path;
	if (cli_start(&sub, files, 1) == -1)
		return -1;
	while ((rc = cli_next(&sub, &l)) == 1) {
		if (l.msg.kind != MSG_SCHEMA)
			continue;
		in->cli->parser = sub.parser;	/* on_schema reparses with it */
		rc = on_schema(in, &l, 1);
		in->cli->parser = mine;
		if (rc == -1)
			break;
	}
	if (cli_finish(&sub, NULL) != 0 || in->cli->status != 0) {
		if (in->cli->status == 0) {
			cli_set_status(in->cli, sub.status);
			memcpy(in->cli->last_error, sub.last_error,
			    sizeof(in->cli->last_error));
		}
		return -1;
	}
	return rc;
}

int
infer_line(struct infer *in, struct cli_line *l)
{
	switch (l->msg.kind) {
	case MSG_BARE:
	case MSG_RECORD:
		return on_record(in, l);
	case MSG_SCHEMA:
		return on_schema(in, l, 0);
	case MSG_ABORT:
		/* Upstream failed: pass the news on and fail too. */
		in->cli->aborted = 1;
		(void)pass_line(in, l);
		cli_upstream_failed(in->cli, l);
		return -1;
	default:
		return pass_line(in, l);
	}
}

void
infer_init(struct infer *in, struct cli *c, const struct infer_opts *o)
{
	memset(in, 0, sizeof(*in));
	in->cli = c;
	in->opts = *o;
}

int
infer_finish(struct infer *in)
{
	size_t i;
	int rc = 0;

	if (!in->opts.final)
		return 0;
	in->opts.final = 0;
	for (i = 0; i < in->set.n && rc == 0; i++)
		if (in->set.tables[i]->ncols > 0 || in->set.tables[i]->records > 0)
			rc = emit_schema(in, in->set.tables[i]);
	in->opts.final = 1;
	return rc;
}

void
infer_free(struct infer *in)
{
	size_t i;

	for (i = 0; i < in->set.n; i++)
		free(in->set.tables[i]->user);
	schema_set_free(&in->set);
	schema_changes_free(&in->changes);
	jbuf_free(&in->buf);
}
