#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "baseline.h"
#include "exitcodes.h"
#include "infer.h"
#include "xalloc.h"

/* Per stream. */
struct infer_table {
	unsigned long	emitted;	/* the schema version last written */
	int		known;		/* in the baseline, or its new_table told */
	int		fresh;		/* new in this run: it evolves freely */
	char		*bookmarks;	/* upstream bookmark_properties, as JSON */
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

/* One change: an event to --events and a notice to stderr. */
static int
report_one(struct infer *in, struct schema_table *t,
    const struct schema_change *ch, const struct cli_line *l)
{
	struct infer_table *it = info(t);

	/* A table is new once: not again at its first record after a SCHEMA. */
	if (ch->kind == SC_NEW_TABLE) {
		if (it->known)
			return 0;
		it->known = 1;
	}
	if (in->opts.events.fp != NULL) {
		struct lib_err e;

		jbuf_reset(&in->buf);
		schema_change_event_load(t, ch, l->lineno, in->opts.load_id,
		    &in->buf);
		jbuf_putc(&in->buf, '\n');
		/* Flushed: a lost event stops the run at its line. */
		if (sidefile_write(&in->opts.events, in->buf.p, in->buf.len, 1,
		    &e) == -1) {
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
	return 0;
}

/* The changes in in->changes, then forget them. */
static int
report(struct infer *in, struct schema_table *t, const struct cli_line *l)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < in->changes.n && rc == 0; i++)
		rc = report_one(in, t, &in->changes.v[i], l);
	in->changes.n = 0;
	return rc;
}

/* The SCHEMA message of t, with the stream's upstream bookmark_properties. */
static void
write_schema(const struct schema_table *t, const struct infer_table *it,
    struct jbuf *b)
{
	schema_write_message(t, b);
	if (it->bookmarks == NULL)
		return;
	b->len--;	/* the closing brace */
	jbuf_puts(b, ",\"bookmark_properties\":");
	jbuf_puts(b, it->bookmarks);
	jbuf_putc(b, '}');
}

static int
emit_schema(struct infer *in, struct schema_table *t)
{
	struct infer_table *it = info(t);

	it->emitted = t->version;
	if (in->opts.final)
		return 0;
	jbuf_reset(&in->buf);
	write_schema(t, it, &in->buf);
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

/*
 * Take the schema before a record or SCHEMA that may be undone; undo puts
 * it back, and the version with it when nothing was written in between,
 * so that no SCHEMA message is repeated for nothing.
 */
static void
take(struct infer *in, struct schema_table *t)
{
	schema_mark_take(t, &in->mark);
	in->mark_version = t->version;
}

static void
undo(struct infer *in, struct schema_table *t)
{
	struct infer_table *it = info(t);

	schema_mark_restore(t, &in->mark);
	if (it->emitted == in->mark_version)
		it->emitted = t->version;
	in->changes.n = 0;
}

/* ---------------------------------------------------------------------
 * Data contracts.
 */

/*
 * What a change does, in words, into in->why: "contract: stream S: ...
 * (ENTITY=MODE)".  member names the column for changes a member made (the
 * base column of a variant), NULL for those of the record as a whole.
 */
static void
explain(struct infer *in, const struct schema_table *t,
    const struct jval *member, const struct schema_change *ch,
    enum contract_entity en)
{
	struct jbuf *b = &in->why;
	const struct schema_column *c = ch->kind == SC_NEW_TABLE ? NULL :
	    &t->cols[ch->col];

	jbuf_reset(b);
	jbuf_puts(b, "contract: stream ");
	jbuf_put(b, t->name, t->namelen);
	jbuf_puts(b, ": ");
	if (ch->kind != SC_NEW_TABLE) {
		jbuf_puts(b, "column ");
		if (member != NULL)
			jbuf_str(b, member->key, member->keylen);
		else
			jbuf_str(b, c->name, c->namelen);
		jbuf_puts(b, ": ");
	}
	switch (ch->kind) {
	case SC_NEW_TABLE:
		jbuf_puts(b, "new table");
		break;
	case SC_NEW_COLUMN:
		jbuf_puts(b, "new column, none -> ");
		jbuf_puts(b, schema_type_name(ch->to));
		break;
	case SC_WIDEN:
	case SC_VARIANT:
		jbuf_puts(b, "type ");
		jbuf_puts(b, schema_type_name(ch->from));
		jbuf_puts(b, " -> ");
		jbuf_puts(b, schema_type_name(ch->to));
		if (ch->kind == SC_WIDEN)
			break;
		jbuf_puts(b, " (a conflict: variant column ");
		jbuf_str(b, c->name, c->namelen);
		jbuf_putc(b, ')');
		break;
	case SC_NULLABLE:
		jbuf_puts(b, member != NULL ? "a null in a required column: " :
		    "missing from the record: ");
		jbuf_puts(b, schema_type_name(ch->from));
		jbuf_puts(b, " -> nullable ");
		jbuf_puts(b, schema_type_name(ch->from));
		break;
	}
	jbuf_puts(b, " (");
	jbuf_puts(b, contract_entity_name(en));
	jbuf_putc(b, '=');
	jbuf_puts(b, contract_mode_name(in->opts.contract.mode[en]));
	jbuf_putc(b, ')');
}

/* A freeze violated: the run fails at the line, with the reason in in->why. */
static int
violated(struct infer *in, const struct cli_line *l)
{
	cli_error(in->cli, EX_DATAERR, "%s:%lu: %s", l->file, l->lineno,
	    jbuf_cstr(&in->why));
	return -1;
}

/*
 * A record (or message) the contract dropped, or one of its values: kept
 * in the quarantine with the reason in in->why, or a notice.
 */
static int
discarded(struct infer *in, const struct cli_line *l, const char *what)
{
	struct cli *c = in->cli;
	struct lib_err e;

	jbuf_puts(&in->why, what);
	if (c->onerr.mode == ONERROR_QUARANTINE) {
		if (onerror_reject(&c->onerr, l->file, l->lineno,
		    jbuf_cstr(&in->why), l->text, l->len, &e) == -1) {
			cli_error(c, e.code, "%s", e.msg);
			return -1;
		}
	} else if (!c->quiet)
		cli_warn_at(c, l, "%s", jbuf_cstr(&in->why));
	return 0;
}

/*
 * A table the baseline does not have, met by a record (record set) or a
 * SCHEMA message: 1 when the tables contract lets it be made (it evolves
 * freely in this run from here), else 0 with the line's outcome in *rc:
 * a freeze violated, or the line dropped.
 */
static int
new_table_made(struct infer *in, struct schema_table *t,
    const struct cli_line *l, int record, int *rc)
{
	struct schema_change nt = { SC_NEW_TABLE, 0, ST_NONE, ST_NONE };

	switch (in->opts.contract.mode[CONTRACT_TABLES]) {
	case CONTRACT_FREEZE:
		explain(in, t, NULL, &nt, CONTRACT_TABLES);
		*rc = violated(in, l);
		return 0;
	case CONTRACT_DISCARD_ROW:
	case CONTRACT_DISCARD_VALUE:
		explain(in, t, NULL, &nt, CONTRACT_TABLES);
		if (record)
			in->discarded_rows++;
		*rc = discarded(in, l, record ? ": record dropped" :
		    ": SCHEMA message dropped");
		return 0;
	default:
		info(t)->fresh = 1;
		return 1;
	}
}

/* Room for n members' bookkeeping. */
static void
members_reserve(struct infer *in, size_t n)
{
	if (n < in->nmembers_cap)
		return;
	in->nmembers_cap = n + 64;
	in->first_change = xalloc_realloc(in->first_change, in->nmembers_cap,
	    sizeof(*in->first_change));
	in->dropped = xalloc_realloc(in->dropped, in->nmembers_cap, 1);
}

static size_t
count_members(const struct jval *record)
{
	const struct jval *v;
	size_t n = 0;

	for (v = jval_member(record, NULL); v != NULL; v = jval_member(record, v))
		n++;
	return n;
}

/*
 * Observe a record's members, but those dropped (when drop is set), noting
 * where each member's changes start; then the record's end.  -1 with e set.
 */
static int
observe(struct infer *in, struct schema_table *t, const struct jval *record,
    int track, int drop, struct lib_err *e)
{
	const struct jval *v;
	size_t i = 0;
	long col;

	schema_record_begin(t);
	/* A name twice: the last one wins, as everywhere. */
	for (v = jval_member(record, NULL); v != NULL;
	    v = jval_member(record, v), i++) {
		if (track)
			in->first_change[i] = in->changes.n;
		if (drop && in->dropped[i])
			continue;
		if (schema_observe(t, v->key, v->keylen, v, &in->opts.schema,
		    &in->changes, &col, e) == -1)
			return -1;
	}
	if (track)
		in->first_change[i] = in->changes.n;
	schema_record_end(t, &in->changes);
	return 0;
}

/* What the contract does with a record (or an upstream SCHEMA). */
enum verdict { KEEP, FAIL, DROP_ROW, DROP_VALUES };

/*
 * The changes one member made, from..to in in->changes, count as one: of
 * its data type when it widens its column or needs a variant column (its
 * base column's nullability with it), else of its column (new, or a null
 * in a required one).  *main is the change that names it.
 */
static enum contract_entity
member_change(const struct infer *in, size_t from, size_t to,
    const struct schema_change **main)
{
	enum contract_entity en = CONTRACT_COLUMNS;
	size_t m;

	*main = &in->changes.v[from];
	for (m = from; m < to; m++)
		if (contract_entity_of(in->changes.v[m].kind) ==
		    CONTRACT_DATA_TYPE) {
			*main = &in->changes.v[m];
			en = CONTRACT_DATA_TYPE;
		} else if (en == CONTRACT_COLUMNS &&
		    in->changes.v[m].kind == SC_NEW_COLUMN)
			*main = &in->changes.v[m];
	return en;
}

/* What judge has found so far. */
struct judgement {
	const struct schema_change *row_ch;	/* the first that drops the row */
	const struct jval	*row_member;
	enum contract_entity	 row_en;
	int			 ndrop;		/* members marked dropped */
};

/*
 * One change, of member i (member and i set) or of the record (member
 * NULL): 1 if it fails the run (the reason in in->why), else 0 with what
 * it does noted in j.
 */
static int
weigh(struct infer *in, const struct schema_table *t, const struct jval *member,
    size_t i, const struct schema_change *ch, enum contract_entity en,
    struct judgement *j)
{
	enum contract_mode mode = in->opts.contract.mode[en];

	switch (mode) {
	case CONTRACT_EVOLVE:
		return 0;
	case CONTRACT_FREEZE:
		explain(in, t, member, ch, en);
		return 1;
	case CONTRACT_DISCARD_VALUE:
		/* A null dropped leaves its column as empty: no help. */
		if (member != NULL && ch->kind != SC_NULLABLE) {
			explain(in, t, member, ch, en);
			jbuf_put(&in->dropped_why, in->why.p, in->why.len);
			jbuf_putc(&in->dropped_why, '\0');
			in->dropped[i] = 1;
			j->ndrop++;
			return 0;
		}
		/* FALLTHROUGH */
	default:
		if (j->row_ch == NULL) {
			j->row_ch = ch;
			j->row_member = member;
			j->row_en = en;
		}
		return 0;
	}
}

/*
 * The contract on the changes a record made (observe's, with
 * first_change): the first freeze violated fails the run, whatever else
 * the record did; else a change under discard_row drops the record, and
 * so does one discard_value cannot avoid (a required column left without
 * a value: dropping members leaves it so); else the members with changes
 * under discard_value are marked dropped.  The reason of a FAIL or
 * DROP_ROW is in in->why.
 */
static enum verdict
judge(struct infer *in, const struct schema_table *t, const struct jval *record,
    size_t nmembers)
{
	struct judgement j = { NULL, NULL, CONTRACT_COLUMNS, 0 };
	const struct schema_change *ch;
	const struct jval *v;
	enum contract_entity en;
	size_t i, c;

	for (i = 0, v = jval_member(record, NULL); v != NULL && i < nmembers;
	    i++, v = jval_member(record, v)) {
		if (in->first_change[i] == in->first_change[i + 1])
			continue;
		en = member_change(in, in->first_change[i],
		    in->first_change[i + 1], &ch);
		if (weigh(in, t, v, i, ch, en, &j))
			return FAIL;
	}
	/* The record's own: columns it lacks that every record had. */
	for (c = in->first_change[nmembers]; c < in->changes.n; c++) {
		ch = &in->changes.v[c];
		/* A baseline table without columns: its first record. */
		if (ch->kind == SC_NEW_TABLE)
			continue;
		if (weigh(in, t, NULL, 0, ch, contract_entity_of(ch->kind), &j))
			return FAIL;
	}
	if (j.row_ch != NULL) {
		explain(in, t, j.row_member, j.row_ch, j.row_en);
		return DROP_ROW;
	}
	return j.ndrop > 0 ? DROP_VALUES : KEEP;
}

/* The record without its dropped members, as the line to write. */
static int
write_without_dropped(struct infer *in, struct cli_line *l)
{
	const struct jval *v, *rec;
	size_t i = 0;
	int first = 1;

	if (cli_reparse(in->cli, l) == -1)
		return -1;
	rec = l->msg.record;
	jbuf_reset(&in->buf);
	if (l->msg.kind == MSG_BARE) {
		jbuf_puts(&in->buf, "{\"type\":\"RECORD\",\"stream\":");
		jbuf_str(&in->buf, in->cli->table, strlen(in->cli->table));
		jbuf_puts(&in->buf, ",\"record\":");
	} else {
		/* The message's other members as they were: "record" last. */
		jbuf_putc(&in->buf, '{');
		for (v = jval_member(l->msg.root, NULL); v != NULL;
		    v = jval_member(l->msg.root, v)) {
			if (v == rec)
				continue;
			jbuf_str(&in->buf, v->key, v->keylen);
			jbuf_putc(&in->buf, ':');
			jval_write(&in->buf, v);
			jbuf_putc(&in->buf, ',');
		}
		jbuf_puts(&in->buf, "\"record\":");
	}
	jbuf_putc(&in->buf, '{');
	for (v = jval_member(rec, NULL); v != NULL; v = jval_member(rec, v), i++) {
		if (in->dropped[i])
			continue;
		if (!first)
			jbuf_putc(&in->buf, ',');
		first = 0;
		jbuf_str(&in->buf, v->key, v->keylen);
		jbuf_putc(&in->buf, ':');
		jval_write(&in->buf, v);
	}
	jbuf_puts(&in->buf, "}}\n");
	return cli_write(in->cli, in->buf.p, in->buf.len);
}

/*
 * The reason a record fails or is dropped although its values were
 * dropped: the first value's reason, then why that was not enough.
 */
static void
after_dropping(struct infer *in, const struct schema_table *t)
{
	struct jbuf then = JBUF_INIT;
	size_t prefix = strlen("contract: stream ") + t->namelen + 2;

	jbuf_put(&then, in->why.p + prefix, in->why.len - prefix);
	jbuf_reset(&in->why);
	jbuf_puts(&in->why, in->dropped_why.p);
	jbuf_puts(&in->why, ", and without that value: ");
	jbuf_put(&in->why, then.p, then.len);
	jbuf_free(&then);
}

/*
 * The contract on a record of a table that existed before this run:
 * KEEP it as it is, FAIL (reported), DROP_ROW (quarantined), or
 * DROP_VALUES: the schema now holds the record without those members,
 * each quarantined.  -1 when the run must stop.
 */
static int
enforce(struct infer *in, struct schema_table *t, struct cli_line *l,
    enum verdict *out)
{
	const struct jval *rec = l->msg.record;
	struct lib_err e;
	size_t i, n = count_members(rec);
	const char *why;

	*out = KEEP;
	if (in->changes.n == 0)
		return 0;
	members_reserve(in, n + 1);
	memset(in->dropped, 0, n + 1);
	jbuf_reset(&in->dropped_why);
	if ((*out = judge(in, t, rec, n)) == KEEP)
		return 0;
	if (*out == DROP_VALUES) {
		/* Again without them: what is left must keep the contract too. */
		undo(in, t);
		take(in, t);
		if (observe(in, t, rec, 1, 1, &e) == -1) {
			undo(in, t);
			*out = DROP_ROW;
			return cli_reject(in->cli, l, e.msg);
		}
		switch (judge(in, t, rec, n)) {
		case KEEP:
			break;
		case FAIL:
			*out = FAIL;
			break;
		default:
			/* Nothing more to drop but the whole record. */
			*out = DROP_ROW;
		}
		if (*out != DROP_VALUES)
			after_dropping(in, t);
	}
	if (*out == FAIL) {
		undo(in, t);
		return violated(in, l);
	}
	if (*out == DROP_ROW) {
		undo(in, t);
		in->discarded_rows++;
		return discarded(in, l, ": record dropped");
	}
	/* The schema holds the record without them; each is kept. */
	for (i = 0, why = in->dropped_why.p; i < n; i++) {
		if (!in->dropped[i])
			continue;
		in->discarded_values++;
		jbuf_reset(&in->why);
		jbuf_puts(&in->why, why);
		why += strlen(why) + 1;
		if (discarded(in, l, ": value dropped") == -1)
			return -1;
	}
	return 0;
}

/* Observe a record; write a SCHEMA first if it changed the stream. */
static int
on_record(struct infer *in, struct cli_line *l)
{
	const struct message *m = &l->msg;
	struct schema_table *t;
	struct infer_table *it;
	struct lib_err e;
	enum verdict vd = KEEP;
	int guarded, undoable, rc;

	if (m->kind == MSG_BARE)
		t = stream_table(in, in->cli->table, strlen(in->cli->table));
	else
		t = stream_table(in, m->stream, m->streamlen);
	if (t == NULL)
		return -1;
	it = info(t);
	guarded = in->binds && !it->fresh;
	if (guarded && !it->known) {
		if (!new_table_made(in, t, l, 1, &rc))
			return rc;
		guarded = 0;
	}
	/* A rejected or dropped record leaves no trace in the schema. */
	undoable = guarded || in->cli->onerr.mode != ONERROR_FAIL;
	if (undoable)
		take(in, t);
	if (guarded)
		members_reserve(in, count_members(m->record) + 1);
	if (observe(in, t, m->record, guarded, 0, &e) == -1) {
		if (undoable)
			undo(in, t);
		in->changes.n = 0;
		return cli_reject(in->cli, l, e.msg);
	}
	if (guarded) {
		if (enforce(in, t, l, &vd) == -1)
			return -1;
		if (vd == DROP_ROW)
			return 0;
	}
	if (report(in, t, l) == -1)
		return -1;
	if (it->emitted != t->version && emit_schema(in, t) == -1)
		return -1;
	if (in->opts.final)
		return 0;
	if (vd == DROP_VALUES)
		return write_without_dropped(in, l);
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

/* An upstream SCHEMA's bookmark_properties, kept for ours. */
static void
keep_bookmarks(struct infer_table *it, const struct jval *root)
{
	const struct jval *b = jval_get(root, "bookmark_properties");
	struct jbuf text = JBUF_INIT;

	if (b == NULL || b->type != JV_ARRAY)
		return;
	jval_write(&text, b);
	free(it->bookmarks);
	it->bookmarks = xalloc_memdup(jbuf_cstr(&text), text.len + 1);
	jbuf_free(&text);
}

/*
 * The contract on what an upstream SCHEMA changed (in in->changes): KEEP,
 * FAIL with the reason in in->why, or DROP_ROW: its changes are not made.
 */
static enum verdict
judge_schema(struct infer *in, const struct schema_table *t)
{
	enum contract_entity en;
	enum contract_mode mode;
	enum verdict vd = KEEP;
	size_t i;

	for (i = 0; i < in->changes.n; i++) {
		en = contract_entity_of(in->changes.v[i].kind);
		mode = in->opts.contract.mode[en];
		if (mode == CONTRACT_FREEZE) {
			explain(in, t, NULL, &in->changes.v[i], en);
			return FAIL;
		}
		if (mode != CONTRACT_EVOLVE && vd == KEEP) {
			explain(in, t, NULL, &in->changes.v[i], en);
			vd = DROP_ROW;
		}
	}
	return vd;
}

/*
 * An upstream SCHEMA seeds the stream and passes through; ours follows it
 * when what we know of the stream says more than it does.  Under a
 * contract, a SCHEMA that would change the baseline fails the run, or is
 * dropped (all its changes: the records that carry them are judged on
 * their own), and only ours goes on.
 */
static int
on_schema(struct infer *in, struct cli_line *l, int seeding)
{
	struct schema_table *t, *up;
	struct infer_table *it;
	struct lib_err e;
	struct jbuf theirs = JBUF_INIT;
	struct schema_change nt = { SC_NEW_TABLE, 0, ST_NONE, ST_NONE };
	int had, guarded, rc = 0;

	if (cli_reparse(in->cli, l) == -1)
		return -1;
	if ((t = stream_table(in, l->msg.stream, l->msg.streamlen)) == NULL)
		return -1;
	it = info(t);
	guarded = !seeding && in->binds && !it->fresh;
	if (guarded && !it->known) {
		if (!new_table_made(in, t, l, 0, &rc))
			return rc;
		guarded = 0;
	}
	keep_bookmarks(it, l->msg.root);
	had = t->ncols > 0 || t->records > 0;
	if (guarded)
		take(in, t);
	if (schema_apply_json(t, l->msg.schema, l->msg.key_properties,
	    &in->changes, &e) == -1) {
		if (guarded)
			undo(in, t);
		in->changes.n = 0;
		return cli_reject(in->cli, l, e.msg);
	}
	if (guarded && in->changes.n > 0) {
		switch (judge_schema(in, t)) {
		case FAIL:
			undo(in, t);
			return violated(in, l);
		case DROP_ROW:
			undo(in, t);
			(void)schema_apply_json(t, NULL, l->msg.key_properties,
			    NULL, &e);
			if (in->opts.keys != NULL)
				schema_table_set_keys_csv(t, in->opts.keys);
			if (discarded(in, l, ": SCHEMA message dropped") == -1)
				return -1;
			return it->emitted != t->version ? emit_schema(in, t) : 0;
		default:
			break;
		}
	}
	if (in->opts.keys != NULL)
		schema_table_set_keys_csv(t, in->opts.keys);
	if (seeding) {
		in->changes.n = 0;
		it->known = 1;
		it->emitted = t->version - 1;	/* announce it once */
		return 0;
	}
	/* A stream a SCHEMA declares is new; its columns are no news. */
	if (!had)
		in->changes.n = 0;
	if (!it->known && report_one(in, t, &nt, l) == -1)
		return -1;
	if (report(in, t, l) == -1)
		return -1;
	if (pass_line(in, l) == -1)
		return -1;

	up = schema_table_new(t->name, t->namelen);
	(void)schema_apply_json(up, l->msg.schema, l->msg.key_properties,
	    NULL, &e);
	if (in->opts.keys != NULL)
		schema_table_set_keys_csv(up, in->opts.keys);
	write_schema(up, it, &theirs);
	jbuf_reset(&in->buf);
	write_schema(t, it, &in->buf);
	if (theirs.len == in->buf.len &&
	    memcmp(theirs.p, in->buf.p, theirs.len) == 0)
		it->emitted = t->version;
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

/* --schema-from DB: the tables of a sluice database seed their streams. */
int
infer_seed_db(struct infer *in, const char *path)
{
	struct lib_err e;
	struct schema_table *t;
	size_t i;

	if (baseline_read(path, &in->set, &e) == -1) {
		cli_error(in->cli, e.code, "--schema-from: %s", e.msg);
		return -1;
	}
	for (i = 0; i < in->set.n; i++) {
		t = in->set.tables[i];
		if (in->opts.keys != NULL)
			schema_table_set_keys_csv(t, in->opts.keys);
		info(t)->known = 1;
		info(t)->emitted = t->version - 1;	/* announce it once */
	}
	return 0;
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
	in->binds = contract_binds(&o->contract);
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
	struct infer_table *it;
	size_t i;

	for (i = 0; i < in->set.n; i++) {
		if ((it = in->set.tables[i]->user) != NULL)
			free(it->bookmarks);
		free(it);
	}
	schema_set_free(&in->set);
	schema_changes_free(&in->changes);
	schema_mark_free(&in->mark);
	free(in->first_change);
	free(in->dropped);
	jbuf_free(&in->buf);
	jbuf_free(&in->why);
	jbuf_free(&in->dropped_why);
}
