/*
 * jsonl-normalize: nested JSON records into the rows of relational tables,
 * as Singer RECORD messages, one stream per table.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "clocks.h"
#include "exitcodes.h"
#include "normalize.h"
#include "transform.h"
#include "xalloc.h"

enum {
	OPT_MAX_NESTING = CLI_OPT_PRIVATE, OPT_NAMING, OPT_LOAD_ID,
	OPT_EXTRACTED_AT, OPT_JQ, OPT_DROP, OPT_HASH, OPT_SALT_ENV,
	OPT_MAX_RECORD
};

static const struct cli_opt options[] = {
	{ "key", 'k', 0, "col[,col]",
	    "root key: stable ids, announced in SCHEMA", NULL, NULL },
	{ "max-nesting", 0, OPT_MAX_NESTING, "n",
	    "deeper objects and arrays stay JSON", NULL, NULL },
	{ "naming", 0, OPT_NAMING, "snake|keep",
	    "dlt's snake_case names (default) or as is", NULL, NULL },
	{ "load-id", 0, OPT_LOAD_ID, "id",
	    "_sluice_load_id (default: $SLUICE_LOAD_ID\nor the time)", NULL,
	    NULL },
	{ "extracted-at", 0, OPT_EXTRACTED_AT, NULL,
	    "add _sluice_extracted_at to root rows", NULL, NULL },
	{ "jq", 0, OPT_JQ, "expr", "transform each record with jq first", NULL,
	    NULL },
	{ "drop", 0, OPT_DROP, "path", "remove a field (a.b.c)", NULL, NULL },
	{ "hash", 0, OPT_HASH, "path",
	    "replace a field by its HMAC-SHA256 token", NULL, NULL },
	{ "salt-env", 0, OPT_SALT_ENV, "var",
	    "the environment variable holding the key", NULL, NULL },
	/* Another name of the common option: cli handles it. */
	{ "max-record-bytes", 0, CLI_OPT_MAX_LINE, "size",
	    "the same as --max-line-bytes", NULL, NULL },
	{ NULL, 0, 0, NULL, NULL, NULL, NULL }
};

static const struct cli_spec spec = {
	options, "[file ...]", NULL,
	"Normalize nested JSON records into rows of a root table and its\n"
	"child tables, as Singer RECORD messages.\n", 0
};

static const struct cli_choice namings[] = {
	{ "snake", 0 }, { "keep", 1 }, { NULL, 0 }
};

/* Split a comma-separated list in place. */
static char **
split_keys(char *csv, size_t *n)
{
	char **v = NULL, **nv, *p;

	for (*n = 0; csv != NULL; csv = p) {
		if ((p = strchr(csv, ',')) != NULL)
			*p++ = '\0';
		nv = xalloc_realloc(v, *n + 1, sizeof(*v));
		v = nv;
		v[(*n)++] = csv;
	}
	return v;
}

/* --drop or --hash PATH, appended to v; a bad path is a usage error. */
static void
add_path(struct cli *c, struct norm_path **v, size_t *n, const char *arg)
{
	struct norm_path *nv;

	nv = xalloc_realloc(*v, *n + 1, sizeof(**v));
	*v = nv;
	if (norm_path_parse(&(*v)[*n], arg) == -1)
		cli_usage_error(c, "--%s: '%s': not a path", c->optname, arg);
	(*n)++;
}

struct run {
	struct cli		 cli;
	struct normalizer	*norm;
	struct transform	*jq;
	struct jval_parser	*jqparser;	/* reads what jq wrote */
	struct jbuf		 out;
	struct jbuf		 warn;
	struct jbuf		 jqout;
};

/* Normalize one record or a list of them; any failure rejects the line. */
static int
records(struct run *r, const char *stream, size_t len, const struct jval *v,
    const struct jval *version, struct lib_err *e)
{
	const struct jval *m;

	if (v->type == JV_OBJECT)
		return norm_record(r->norm, stream, len, v, version, &r->out,
		    &r->warn, e);
	if (v->type != JV_ARRAY)
		return liberr_set(e, EX_DATAERR, "not a JSON object");
	for (m = v->child; m != NULL; m = m->next) {
		if (m->type != JV_OBJECT)
			return liberr_set(e, EX_DATAERR,
			    "an element of the list is not an object");
		if (norm_record(r->norm, stream, len, m, version, &r->out,
		    &r->warn, e) == -1)
			return -1;
	}
	return 0;
}

/* With --jq: the program's outputs are the records. */
static int
transformed(struct run *r, const char *stream, size_t len,
    const struct cli_line *l, struct lib_err *e)
{
	const struct jval *v;
	const char *p, *nl;

	jbuf_reset(&r->jqout);
	if (l->msg.kind == MSG_BARE) {
		if (transform_run(r->jq, l->text, l->len, &r->jqout, e) == -1)
			return -1;
	} else {
		jbuf_reset(&r->warn);
		jval_write(&r->warn, l->msg.record);
		if (transform_run(r->jq, r->warn.p, r->warn.len, &r->jqout,
		    e) == -1)
			return -1;
		jbuf_reset(&r->warn);
	}
	jval_parser_rewind(r->jqparser);
	for (p = r->jqout.p; p != NULL && p < r->jqout.p + r->jqout.len;
	    p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(r->jqout.p + r->jqout.len - p));
		if ((v = jval_parse(r->jqparser, p, (size_t)(nl - p),
		    JVAL_KEEP_ALL, e)) == NULL || records(r, stream, len, v,
		    l->msg.kind == MSG_RECORD ? l->msg.version : NULL, e) == -1)
			return -1;
	}
	return 0;
}

/*
 * What --on-error keeps of a rejected line that parsed (cli_reject): the
 * fields of --drop dropped and of --hash hashed, as the rows would have.
 */
static int
redact_line(void *arg, const struct cli_line *l, struct jbuf *out,
    struct lib_err *e)
{
	struct run *r = arg;

	return norm_redact(r->norm, l->msg.root, l->msg.record, out, e);
}

/* The warnings a line gave, unless -q. */
static void
warn_lines(struct run *r, const struct cli_line *l)
{
	const char *w, *nl;

	for (w = r->warn.p; !r->cli.quiet && w != NULL &&
	    w < r->warn.p + r->warn.len; w = nl + 1) {
		nl = memchr(w, '\n', (size_t)(r->warn.p + r->warn.len - w));
		cli_warn_at(&r->cli, l, "%.*s", (int)(nl - w), w);
	}
}

/* An upstream SCHEMA: its stream's key_properties are kept. */
static int
on_schema(struct run *r, const struct cli_line *l)
{
	struct lib_err e;
	int rc;

	jbuf_reset(&r->warn);
	rc = norm_schema(r->norm, l->msg.stream, l->msg.streamlen,
	    l->msg.key_properties, &r->warn, &e);
	warn_lines(r, l);
	return rc == -1 ? cli_reject(&r->cli, l, e.msg) : 0;
}

/*
 * An ACTIVATE_VERSION names the stream's root table, as its RECORDs now
 * do: byte for byte when that is the stream's own name.
 */
static int
on_activate(struct run *r, const struct cli_line *l)
{
	const char *name;
	size_t namelen;

	norm_root_name(r->norm, l->msg.stream, l->msg.streamlen, &name,
	    &namelen);
	jbuf_reset(&r->out);
	if (namelen == l->msg.streamlen &&
	    memcmp(name, l->msg.stream, namelen) == 0)
		jbuf_put(&r->out, l->text, l->len);
	else {
		jbuf_puts(&r->out, "{\"type\":\"ACTIVATE_VERSION\",\"stream\":");
		jbuf_str(&r->out, name, namelen);
		jbuf_puts(&r->out, ",\"version\":");
		jval_write(&r->out, l->msg.version);
		jbuf_putc(&r->out, '}');
	}
	jbuf_putc(&r->out, '\n');
	return cli_write(&r->cli, r->out.p, r->out.len);
}

static int
on_line(struct run *r, const struct cli_line *l)
{
	const char *stream = r->cli.table;
	size_t len = strlen(stream);
	struct lib_err e;
	int rc;

	if (l->msg.kind == MSG_RECORD) {
		stream = l->msg.stream;
		len = l->msg.streamlen;
	}
	jbuf_reset(&r->out);
	jbuf_reset(&r->warn);
	rc = r->jq != NULL ? transformed(r, stream, len, l, &e) :
	    records(r, stream, len, l->msg.record, l->msg.kind == MSG_RECORD ?
	    l->msg.version : NULL, &e);
	warn_lines(r, l);
	if (rc == -1)
		return cli_reject(&r->cli, l, e.msg);
	return cli_write(&r->cli, r->out.p, r->out.len);
}

/*
 * The end of a run that read all its input.  A path of --drop or --hash
 * that named no member is said even with -q: a misspelt path leaves
 * personal data in clear.  Members hidden by a later one of the same name
 * are counted.  Both go to --stats as well.
 */
static void
report(struct run *r, const struct norm_opts *o, struct jbuf *extra)
{
	const struct norm_path *p;
	unsigned long dups = norm_duplicates(r->norm);
	size_t i, n = 0;
	char num[24];

	jbuf_puts(extra, "\"unmatched_paths\":[");
	for (i = 0; i < o->ndrop + o->nhash; i++) {
		if (norm_path_matched(r->norm, i))
			continue;
		p = i < o->ndrop ? &o->drop[i] : &o->hash[i - o->ndrop];
		cli_error(&r->cli, 0, "%s %s matched no member",
		    i < o->ndrop ? "--drop" : "--hash", p->dotted);
		if (n++ > 0)
			jbuf_putc(extra, ',');
		jbuf_puts(extra, i < o->ndrop ? "{\"option\":\"--drop\",\"path\":" :
		    "{\"option\":\"--hash\",\"path\":");
		jbuf_str(extra, p->dotted, strlen(p->dotted));
		jbuf_putc(extra, '}');
	}
	(void)snprintf(num, sizeof(num), "%lu", dups);
	jbuf_puts(extra, "],\"duplicate_members\":");
	jbuf_puts(extra, num);
	if (dups > 0 && !r->cli.quiet)
		cli_error(&r->cli, 0, "%lu duplicate member%s: the last of each "
		    "name in its object was kept", dups, dups == 1 ? "" : "s");
}

/*
 * Every line: records normalized, a SCHEMA dropped (schema-infer makes
 * the new ones), other messages passed on, an upstream abort passed on
 * and the run stopped.
 */
static void
normalize_all(struct run *r)
{
	struct cli_line l;
	int rc;

	while (cli_next(&r->cli, &l) == 1) {
		switch (l.msg.kind) {
		case MSG_BARE:
		case MSG_RECORD:
			rc = on_line(r, &l);
			break;
		case MSG_SCHEMA:
			/*
			 * Its columns are not ours (schema-infer makes new
			 * ones), its key is: the message itself is dropped.
			 */
			rc = on_schema(r, &l);
			break;
		case MSG_ACTIVATE_VERSION:
			rc = on_activate(r, &l);
			break;
		case MSG_ABORT:
			r->cli.aborted = 1;
			(void)cli_write(&r->cli, l.text, l.len);
			(void)cli_write(&r->cli, "\n", 1);
			cli_upstream_failed(&r->cli, &l);
			rc = -1;
			break;
		default:
			if ((rc = cli_write(&r->cli, l.text, l.len)) == 0)
				rc = cli_write(&r->cli, "\n", 1);
			break;
		}
		if (rc == -1)
			break;
	}
}

static void
run_free(struct run *r, struct norm_opts *o)
{
	size_t i;

	norm_free(r->norm);
	transform_free(r->jq);
	jval_parser_free(r->jqparser);
	jbuf_free(&r->out);
	jbuf_free(&r->warn);
	jbuf_free(&r->jqout);
	for (i = 0; i < o->ndrop; i++)
		norm_path_free(&o->drop[i]);
	for (i = 0; i < o->nhash; i++)
		norm_path_free(&o->hash[i]);
	free(o->drop);
	free(o->hash);
	free(o->keys);
}

/*
 * The options into r and o, checked; the --jq program compiled, the keys
 * split, the load id and the time of --extracted-at chosen (into idbuf
 * and now).  Usage errors exit 64.
 */
static void
parse_options(struct run *r, struct norm_opts *o, char *idbuf, size_t idsize,
    char *now, size_t nowsize, int argc, char *argv[])
{
	struct cli *c = &r->cli;
	struct lib_err e;
	const char *salt_env = NULL, *load_id = NULL;
	char *keys = NULL;
	int id, extracted = 0;

	while ((id = cli_getopt(c, &spec, argc, argv)) != -1) {
		switch (id) {
		case 'k':
			keys = optarg;
			break;
		case OPT_MAX_NESTING:
			o->max_nesting = (int)cli_num(c, optarg, 0, JVAL_MAX_DEPTH);
			break;
		case OPT_NAMING:
			o->keep_names = cli_enum(c, optarg, namings);
			break;
		case OPT_LOAD_ID:
			load_id = optarg;
			break;
		case OPT_EXTRACTED_AT:
			extracted = 1;
			break;
		case OPT_JQ:
			/* A second --jq replaces the first. */
			transform_free(r->jq);
			if ((r->jq = transform_new(optarg, &e)) == NULL) {
				cli_error(c, e.code, "--jq: %s", e.msg);
				cli_usage(c);
			}
			break;
		case OPT_DROP:
			add_path(c, &o->drop, &o->ndrop, optarg);
			break;
		case OPT_HASH:
			add_path(c, &o->hash, &o->nhash, optarg);
			break;
		case OPT_SALT_ENV:
			salt_env = optarg;
			break;
		default:
			cli_usage(c);
		}
	}
	/* A hash without a secret salt is a lookup table away from the PII. */
	if (o->nhash > 0) {
		if (salt_env == NULL || (o->salt = getenv(salt_env)) == NULL ||
		    *o->salt == '\0')
			cli_usage_error(c, "--hash needs --salt-env VAR with "
			    "VAR set to a secret salt");
		o->saltlen = strlen(o->salt);
	}
	if (keys != NULL)
		o->keys = split_keys(keys, &o->nkeys);
	o->load_id = cli_load_id(load_id, idbuf, idsize);
	if (extracted) {
		clocks_utc(now, nowsize, 0);
		o->extracted_at = now;
	}
}

int
main(int argc, char *argv[])
{
	struct run r;
	struct norm_opts opts;
	struct jbuf stats_extra = JBUF_INIT;
	struct lib_err e;
	char idbuf[64], now[32];
	int rc;

	memset(&r, 0, sizeof(r));
	memset(&opts, 0, sizeof(opts));
	opts.max_nesting = -1;
	liberr_clear(&e);
	cli_init(&r.cli, "jsonl-normalize");
	r.cli.filter = 1;
	r.cli.arrays = 1;
	/* Parsing costs about what normalizing does: two parse ahead. */
	r.cli.workers = 2;
	parse_options(&r, &opts, idbuf, sizeof(idbuf), now, sizeof(now), argc,
	    argv);
	if ((r.norm = norm_new(&opts, &e)) == NULL) {
		cli_error(&r.cli, e.code, "%s", e.msg);
		goto out;
	}
	if (opts.ndrop + opts.nhash > 0) {
		r.cli.redact = redact_line;
		r.cli.redact_arg = &r;
	}
	if ((r.jqparser = jval_parser_new((size_t)1 << 30)) == NULL) {
		cli_error(&r.cli, EX_OSERR, "out of memory");
		goto out;
	}
	if (cli_start(&r.cli, argv + optind, argc - optind) == -1)
		goto out;
	normalize_all(&r);
	if (r.cli.status == 0)
		report(&r, &opts, &stats_extra);
out:
	rc = cli_finish(&r.cli, stats_extra.len > 0 ? jbuf_cstr(&stats_extra) :
	    NULL);
	jbuf_free(&stats_extra);
	run_free(&r, &opts);
	cli_die_by_signal();
	return rc;
}
