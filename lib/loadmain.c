/*
 * The loaders' front-end: records and Singer messages into a database
 * through the loader core, in one transaction a load, with the load's
 * state and bookkeeping; micro-batches for streams that do not end.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "clocks.h"
#include "exitcodes.h"
#include "load.h"
#include "loadmain.h"
#include "stats.h"
#include "xalloc.h"

enum {
	OPT_STATE_GET = CLI_OPT_PRIVATE, OPT_LOAD_ID,
	OPT_SCD2_RETIRE_ABSENT, OPT_ACTIVATE_VERSION, OPT_COMMIT_EVERY,
	OPT_COMMIT_INTERVAL
};

static const struct cli_opt common_options[] = {
	{ "key", 'k', 0, "col[,col]",
	    "primary key (default: SCHEMA key_properties)", NULL, NULL },
	{ "mode", 'm', 0, "append|replace|merge|scd2",
	    "default: merge a stream with a key, append\n"
	    "one without", NULL, NULL },
	{ "activate-version", 0, OPT_ACTIVATE_VERSION, "hard|soft",
	    "older versions' rows: deleted (default)\nor marked _sluice_deleted_at",
	    NULL, NULL },
	{ "scd2-retire-absent", 0, OPT_SCD2_RETIRE_ABSENT, NULL,
	    "scd2: a key the load lacks is retired", NULL, NULL },
	{ "state-get", 0, OPT_STATE_GET, "path",
	    "print the stored state at a dotted path", NULL, NULL },
	{ "load-id", 0, OPT_LOAD_ID, "id",
	    "the load's id (default: $SLUICE_LOAD_ID or\nthe time)", NULL,
	    NULL },
	{ "commit-every", 0, OPT_COMMIT_EVERY, "n",
	    "commit at the first STATE after n records", NULL, NULL },
	{ "commit-interval", 0, OPT_COMMIT_INTERVAL, "seconds",
	    "commit at the first STATE after this long,\nor where the input "
	    "pauses", NULL, NULL },
	{ NULL, 0, 0, NULL, NULL, NULL, NULL }
};


static const struct cli_choice activations[] = {
	{ "hard", 0 }, { "soft", 1 }, { NULL, 0 }
};

static const struct cli_choice modes[] = {
	{ "append", LOAD_APPEND }, { "replace", LOAD_REPLACE },
	{ "merge", LOAD_MERGE }, { "scd2", LOAD_SCD2 }, { NULL, 0 }
};

/* Micro-batches: a stream that never ends commits as it goes. */
struct batching {
	unsigned long	 every;		/* records; 0: not by count */
	double		 interval;	/* seconds; 0: not by time */
	unsigned long	 records;	/* in the current load */
	double		 started;	/* of the current load, monotonic */
	unsigned long	 loads;		/* committed so far */
	char		 id[96];	/* the current load's id */
	const char	*base;		/* the id the user gave, or NULL */
	unsigned long	 lines;		/* read in the current load */
};

/*
 * The options into opts and *state_path, checked; returns the database
 * named, and leaves optind at the first input.  Usage errors exit 64.
 */
static const char *
parse_options(struct cli *c, const struct cli_spec *spec,
    struct load_opts *opts, const char **state_path, struct batching *b,
    int argc, char *argv[])
{
	int id;

	while ((id = cli_getopt(c, spec, argc, argv)) != -1) {
		switch (id) {
		case 'k':
			opts->keys = optarg;
			break;
		case 'm':
			opts->mode = cli_enum(c, optarg, modes);
			break;
		case OPT_STATE_GET:
			*state_path = optarg;
			break;
		case OPT_ACTIVATE_VERSION:
			opts->soft_activate = cli_enum(c, optarg, activations);
			break;
		case OPT_SCD2_RETIRE_ABSENT:
			opts->scd2_retire_absent = 1;
			break;
		case OPT_LOAD_ID:
			opts->load_id = optarg;
			break;
		case LOADMAIN_OPT_DATASET:
			opts->dataset = optarg;
			break;
		case LOADMAIN_OPT_BUSY_TIMEOUT:
			opts->busy_timeout_ms = (int)cli_num(c, optarg, 0,
			    86400000);
			break;
		case OPT_COMMIT_EVERY:
			b->every = (unsigned long)cli_num(c, optarg, 1,
			    1000000000000LL);
			break;
		case OPT_COMMIT_INTERVAL:
			b->interval = (double)cli_real(c, optarg, 0, 1, 86400);
			break;
		default:
			cli_usage(c);
		}
	}
	if (optind >= argc)
		cli_usage(c);
	/* --state-get reads; it takes no input. */
	if (*state_path != NULL && optind + 1 < argc)
		cli_usage(c);
	if (*state_path == NULL && opts->scd2_retire_absent &&
	    opts->mode != LOAD_SCD2)
		cli_usage_error(c, "--scd2-retire-absent needs --mode scd2");
	/* A load that must see the whole stream cannot commit a part. */
	if ((b->every > 0 || b->interval > 0) &&
	    (opts->mode == LOAD_REPLACE || opts->scd2_retire_absent))
		cli_usage_error(c, "--commit-every and --commit-interval commit "
		    "parts of the stream: not with --mode replace or "
		    "--scd2-retire-absent, which need all of it");
	return argv[optind++];
}

static int
print_state(struct cli *c, const struct loadmain_program *p, const char *db,
    const char *shown, const char *dataset, const char *path)
{
	struct jbuf out = JBUF_INIT;
	struct lib_err e;
	int found;

	if (p->state_get(db, dataset, path, &out, &found, &e) == -1)
		cli_error(c, e.code, "%s", e.msg);
	else if (found) {
		jbuf_putc(&out, '\n');
		if (cli_write(c, out.p, out.len) == 0)
			(void)cli_flush(c);
	} else if (!c->quiet)
		cli_error(c, 0, "%s: no state at %s", shown, path);
	jbuf_free(&out);
	return c->status;
}

/* Whether the input list reads the standard input. */
static int
reads_stdin(char **files, int n)
{
	int i;

	if (n == 0)
		return 1;
	for (i = 0; i < n; i++)
		if (strcmp(files[i], "-") == 0)
			return 1;
	return 0;
}

/* A failed step: the line is bad data (policy decides) or the load stops. */
static int
failed(struct cli *c, const struct cli_line *l, const struct lib_err *e)
{
	if (e->code == EX_DATAERR)
		return cli_reject(c, l, e->msg);
	cli_warn_at(c, l, "%s", e->msg);
	cli_set_status(c, e->code);
	return -1;
}

/* As failed(), at the line of the record the error is about. */
static int
failed_at(struct cli *c, const struct cli_line *l, const struct loader *out,
    const struct lib_err *e)
{
	struct cli_line at = *l;

	(void)load_error_origin(out, &at.file, &at.lineno);
	return failed(c, &at, e);
}

/* One line into the database; MSG_ABORT is the caller's. */
static int
load_line(struct cli *c, struct loader *out, const struct cli_line *l,
    struct jbuf *state, struct lib_err *e)
{
	const struct message *m = &l->msg;
	unsigned long kept;

	load_origin(out, l->file, l->lineno);
	switch (m->kind) {
	case MSG_BARE:
		return load_record(out, c->table, strlen(c->table), m->record,
		    NULL, e);
	case MSG_RECORD:
		return load_record(out, m->stream, m->streamlen, m->record,
		    m->version, e);
	case MSG_SCHEMA:
		return load_schema(out, m->stream, m->streamlen, m->schema,
		    m->key_properties, e);
	case MSG_STATE:
		if (load_state(out, m->value, e) == -1)
			return -1;
		/* Echoed only once the commit has succeeded. */
		jbuf_reset(state);
		jbuf_put(state, l->text, l->len);
		jbuf_putc(state, '\n');
		return 0;
	case MSG_ACTIVATE_VERSION:
		if (load_activate_version(out, m->stream, m->streamlen,
		    m->version, &kept, e) == -1)
			return -1;
		/* A tap's full refresh must not empty a table by surprise. */
		if (kept > 0)
			cli_warn_at(c, l, "stream %.*s: ACTIVATE_VERSION %.*s: %lu "
			    "row%s without a version kept: its records carry no "
			    "version", (int)m->streamlen, m->stream,
			    (int)m->version->len, m->version->str, kept,
			    kept == 1 ? "" : "s");
		return 0;
	default:
		return 0;
	}
}

/*
 * --stats of sqlite-load: the load's id, whether it committed, when it
 * started and finished, and what it did to each table (its error when it
 * rolled back).  Written before the commit, so that a summary that cannot
 * be written stops the load, and again once the outcome is known.
 */
struct load_report {
	const char	*load_id;
	char		 started_at[40];
	char		 error[512];	/* why it rolled back */
	struct jbuf	 extra;
};

/* A run of sqlite-load: one load, or one a micro-batch. */
struct run {
	const char	*db;
	const char	*shown;		/* db as messages show it */
	struct load_report r;
	struct batching	 b;
	struct jbuf	 state;		/* the last STATE line, to echo */
	int		 closed;	/* cli_closed_std_fds */
};

/* The load rolls back: why, for the summary, then said on stderr. */
static void
rolled_back(struct cli *c, struct load_report *r, const char *db)
{
	if (r->error[0] == '\0')
		(void)snprintf(r->error, sizeof(r->error), "%s", c->last_error);
	cli_error(c, 0, "%s: load rolled back", db);
}

static int
report(struct cli *c, struct loader *out, struct load_report *r,
    const char *status, int close, struct lib_err *e)
{
	char finished[40], num[64];

	clocks_utc(finished, sizeof(finished), 1);
	jbuf_reset(&r->extra);
	jbuf_puts(&r->extra, "\"load_id\":");
	jbuf_str(&r->extra, r->load_id, strlen(r->load_id));
	jbuf_puts(&r->extra, ",\"status\":\"");
	jbuf_puts(&r->extra, status);
	jbuf_puts(&r->extra, "\",\"started_at\":\"");
	jbuf_puts(&r->extra, r->started_at);
	jbuf_puts(&r->extra, "\",\"finished_at\":\"");
	jbuf_puts(&r->extra, finished);
	jbuf_puts(&r->extra, "\",\"tables\":");
	load_tables_json(out, &r->extra);
	(void)snprintf(num, sizeof(num), ",\"duplicate_members\":%lu",
	    load_duplicate_members(out));
	jbuf_puts(&r->extra, num);
	if (strcmp(status, "committed") != 0) {
		if (r->error[0] == '\0')
			(void)snprintf(r->error, sizeof(r->error), "%s",
			    cli_signalled() ? "interrupted by a signal" :
			    c->last_error);
		jbuf_puts(&r->extra, ",\"error\":");
		jbuf_str(&r->extra, r->error, strlen(r->error));
	}
	return cli_write_stats(c, jbuf_cstr(&r->extra), close, e);
}

/*
 * A load that read all its input: the side files made durable, then the
 * commit, then the last STATE echoed (unless stdout was closed: the
 * closed descriptors as cli_closed_std_fds gives them).  1 when it
 * committed.
 */
static int
commit(struct cli *c, struct loader *out, struct run *run)
{
	struct load_report *r = &run->r;
	const struct jbuf *state = &run->state;
	const char *db = run->shown;
	int closed = run->closed;
	struct jbuf summary = JBUF_INIT;
	struct cli_line at;
	struct lib_err e;
	int done = 0;

	errno = 0;
	/* Side files before the commit: one that fails stops it. */
	if (cli_close_side_files(c, NULL) == -1)
		rolled_back(c, r, db);
	else if (report(c, out, r, "committed", 0, &e) == -1) {
		cli_error(c, e.code, "%s", e.msg);
		rolled_back(c, r, db);
	} else if (load_commit(out, &summary, &e) == -1) {
		/* Rows a dialect held back fail at the commit: at their line. */
		memset(&at, 0, sizeof(at));
		if (load_error_origin(out, &at.file, &at.lineno)) {
			cli_warn_at(c, &at, "%s", e.msg);
			cli_set_status(c, e.code);
		} else
			cli_error(c, e.code, "%s: %s", db, e.msg);
		rolled_back(c, r, db);
	} else {
		done = 1;
		if (!c->quiet)
			cli_error(c, 0, "load %s: %s committed", r->load_id,
			    summary.len ? jbuf_cstr(&summary) : "no rows,");
		if (state->len > 0 && (closed & 2))
			cli_error(c, EX_IOERR, "stdout: %s: the STATE is "
			    "committed but not written", strerror(EBADF));
		else if (state->len > 0)
			(void)cli_write(c, state->p, state->len);
	}
	jbuf_free(&summary);
	return done;
}

/* The next load's id: the user's with a number, or the time. */
static void
next_id(struct batching *b)
{
	b->loads++;
	if (b->base != NULL)
		(void)snprintf(b->id, sizeof(b->id), "%s.%lu", b->base,
		    b->loads + 1);
	else
		clocks_epoch(b->id, sizeof(b->id));
}

/*
 * A STATE ends a micro-batch when enough records came, or time passed,
 * or the input paused after it: the load commits, its STATE is echoed
 * and flushed, and the next load begins.  0, or -1 (c->status).
 */
static int
boundary(struct cli *c, struct loader *out, struct run *run,
    const struct cli_line *l)
{
	struct batching *b = &run->b;
	struct lib_err e;

	if ((b->every == 0 && b->interval == 0) ||
	    !(l->paused || (b->every > 0 && b->records >= b->every) ||
	    (b->interval > 0 && clocks_monotonic() - b->started >=
	    b->interval)))
		return 0;
	if (!commit(c, out, run))
		return -1;
	if (cli_flush(c) == -1)
		return -1;
	jbuf_reset(&run->state);
	next_id(b);
	run->r.load_id = b->id;
	clocks_utc(run->r.started_at, sizeof(run->r.started_at), 1);
	run->r.error[0] = '\0';
	b->records = 0;
	b->lines = 0;
	b->started = clocks_monotonic();
	if (load_next_load(out, b->id, &e) == -1) {
		cli_error(c, e.code, "%s: %s", run->shown, e.msg);
		return -1;
	}
	return 0;
}

/*
 * Every line of the input into the database, then what the loader held
 * back: 0, or -1 when the load must roll back (c->status).
 */
static int
load(struct cli *c, struct loader *out, struct run *run)
{
	struct cli_line l;
	struct lib_err e;
	int rc;

	memset(&l, 0, sizeof(l));
	while ((rc = cli_next(c, &l)) == 1) {
		if (l.msg.kind == MSG_ABORT) {
			/* What came before it is half a stream: keep none of it. */
			cli_upstream_failed(c, &l);
			return -1;
		}
		run->b.lines++;
		if (l.msg.kind == MSG_RECORD || l.msg.kind == MSG_BARE)
			run->b.records++;
		if (load_line(c, out, &l, &run->state, &e) == -1 &&
		    failed_at(c, &l, out, &e) == -1)
			return -1;
		if (l.msg.kind == MSG_STATE && c->status == 0 &&
		    boundary(c, out, run, &l) == -1)
			return -1;
	}
	/* The end of the input: what the loader held back is written now. */
	if (rc == 0 && c->status == 0 && !cli_signalled() &&
	    load_flush(out, &e) == -1) {
		(void)failed_at(c, &l, out, &e);
		return -1;
	}
	return rc;
}

/* The common options, then the program's own. */
#define MAX_OPTIONS	32

int
loadmain_run(const struct loadmain_program *p, int argc, char *argv[])
{
	struct cli_opt options[MAX_OPTIONS];
	struct cli_spec spec;
	struct cli c;
	struct load_opts opts;
	struct loader *out = NULL;
	struct lib_err e;
	struct run run;
	struct jbuf operands = JBUF_INIT, more = JBUF_INIT, shown = JBUF_INIT;
	char *target = NULL;
	const char *state_path = NULL;
	char load_id[64];
	unsigned long dups;
	size_t n, k;
	int rc, committed = 0, tail_empty = 0;

	for (n = 0; common_options[n].name != NULL; n++)
		options[n] = common_options[n];
	for (k = 0; p->opts[k].name != NULL && n + 1 < MAX_OPTIONS; k++)
		options[n++] = p->opts[k];
	memset(&options[n], 0, sizeof(options[n]));
	jbuf_puts(&operands, p->target);
	jbuf_puts(&operands, " [file ...]");
	jbuf_puts(&more, "[-q] ");
	jbuf_puts(&more, p->target);
	jbuf_puts(&more, " --state-get path");
	memset(&spec, 0, sizeof(spec));
	spec.opts = options;
	spec.operands = jbuf_cstr(&operands);
	spec.more_usage = jbuf_cstr(&more);
	spec.about = p->about;
	spec.flags = CLI_TYPES;

	memset(&opts, 0, sizeof(opts));
	memset(&run, 0, sizeof(run));
	opts.mode = LOAD_KEYED;
	opts.busy_timeout_ms = 5000;
	cli_init(&c, p->name);
	run.closed = cli_closed_std_fds();
	run.db = parse_options(&c, &spec, &opts, &state_path, &run.b, argc,
	    argv);
	if (p->scrub != NULL) {
		target = xalloc_memdup(run.db, strlen(run.db) + 1);
		p->scrub(argv[optind - 1]);
		run.db = target;
	}
	p->redact(run.db, &shown);
	run.shown = jbuf_cstr(&shown);
	opts.infer = c.types;
	if (state_path != NULL) {
		(void)print_state(&c, p, run.db, run.shown, opts.dataset,
		    state_path);
		rc = cli_finish(&c, NULL);
		goto done;
	}
	opts.load_id = cli_load_id(opts.load_id, load_id, sizeof(load_id));
	opts.atomic_records = c.onerr.mode != ONERROR_FAIL;
	run.r.load_id = opts.load_id;
	run.b.base = opts.load_id != load_id ? opts.load_id : NULL;
	run.b.started = clocks_monotonic();
	clocks_utc(run.r.started_at, sizeof(run.r.started_at), 1);
	c.stats_by_program = 1;

	if ((run.closed & 1) && reads_stdin(argv + optind, argc - optind)) {
		/* Not an empty input: nothing to load is not a load. */
		cli_error(&c, EX_IOERR, "stdin: read error: %s", strerror(EBADF));
		goto out;
	}
	cli_catch_signals();
	if (cli_start(&c, argv + optind, argc - optind) == -1)
		goto out;
	if (load_open(&out, p->dialect, run.db, &opts, &e) == -1) {
		cli_error(&c, e.code, "%s", e.msg);
		goto out;
	}
	if (load(&c, out, &run) == 0 && c.status == 0 && !cli_signalled()) {
		/*
		 * After micro-batches, an empty rest is no load of its own:
		 * the summary of the last one stays as it was written.
		 */
		if (run.b.loads > 0 && run.b.lines == 0)
			tail_empty = committed = 1;
		else
			committed = commit(&c, out, &run);
	} else if (c.status != 0 && c.status < 128)
		rolled_back(&c, &run.r, run.shown);
out:
	/* A repeated member: the last one is the value (sluice(5)). */
	if ((dups = load_duplicate_members(out)) > 0 && !c.quiet)
		cli_error(&c, 0, "%lu repeated member%s left out: the last "
		    "of each name is the value", dups, dups == 1 ? "" : "s");
	cli_set_status(&c, cli_signalled() ? 128 + cli_signalled() : 0);
	/* The summary says how it ended, rolled back ones too. */
	if (tail_empty ? sidefile_close(&c.stats_file, &e) == -1 :
	    report(&c, out, &run.r, committed ? "committed" : "rolled_back",
	    1, &e) == -1)
		cli_error(&c, e.code, "%s", e.msg);
	load_close(out);
	rc = cli_finish(&c, NULL);
	jbuf_free(&run.r.extra);
	jbuf_free(&run.state);
	cli_die_by_signal();
done:
	free(target);
	jbuf_free(&operands);
	jbuf_free(&more);
	jbuf_free(&shown);
	return rc;
}
