/*
 * The steps of a pgfetch run (fetch.h): sources classified and read,
 * records written, file bookmarks kept.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint.h"
#include "clocks.h"
#include "exitcodes.h"
#include "fetch.h"
#include "fileset.h"
#include "source.h"
#include "state.h"
#include "url.h"
#include "xalloc.h"

/* text with the secrets masked, in out (until its next use). */
static const char *
masked(const struct fetch *f, const char *text, size_t n, struct jbuf *out)
{
	jbuf_reset(out);
	secrets_mask(f->known, text, n, 0, out);
	return jbuf_cstr(out);
}

/*
 * Every message of pgfetch goes through here, to stderr and to the abort
 * line: formatted whole, then its secrets masked, then cut to length.
 */
void __attribute__((format(printf, 3, 4)))
fetch_say(struct fetch *f, int code, const char *fmt, ...)
{
	struct jbuf out = JBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	secrets_vformat(f->known, &out, fmt, ap);
	va_end(ap);
	(void)pthread_mutex_lock(&f->say_lock);
	cli_error(&f->cli, code, "%s", jbuf_cstr(&out));
	(void)pthread_mutex_unlock(&f->say_lock);
	jbuf_free(&out);
}

/* Whether the n bytes at s hold the m bytes at t (memmem(3) is GNU's). */
static int
contains(const char *s, size_t n, const char *t, size_t m)
{
	size_t i;

	for (i = 0; m > 0 && i + m <= n; i++)
		if (s[i] == t[0] && memcmp(s + i, t, m) == 0)
			return 1;
	return 0;
}

/*
 * --file-column: the record with the file's name as its last member, in
 * f->with_file.  A member of that name the record had is left out (the
 * file says where the record came from, not the record): found by its
 * quoted name, then the record parsed and written again without it.
 */
static int
with_file(struct fetch *f, const char *json, size_t len, struct lib_err *e)
{
	const struct jval *root, *m;
	size_t n = strlen(f->file_column);
	int first = 1;

	assert(len >= 2 && json[0] == '{' && json[len - 1] == '}');
	/* file_value starts with the quoted name. */
	if (!contains(json, len, f->file_value.p, f->file_keylen)) {
		jbuf_reset(&f->with_file);
		jbuf_put(&f->with_file, json, len - 1);
		if (len > 2)
			jbuf_putc(&f->with_file, ',');
		jbuf_put(&f->with_file, f->file_value.p, f->file_value.len);
		return 0;
	}
	/* As cli bounds a record's nodes: by the longest line. */
	if (f->parser == NULL && (f->parser = jval_parser_new(
	    (size_t)f->cli.max_line * 8 + ((size_t)1 << 20))) == NULL)
		return liberr_set(e, EX_OSERR, "out of memory");
	jval_parser_rewind(f->parser);
	if ((root = jval_parse(f->parser, json, len, JVAL_KEEP_ALL, e)) == NULL)
		return -1;
	jbuf_reset(&f->with_file);
	jbuf_putc(&f->with_file, '{');
	for (m = root->child; m != NULL; m = m->next) {
		if (m->keylen == n && memcmp(m->key, f->file_column, n) == 0)
			continue;
		if (!first)
			jbuf_putc(&f->with_file, ',');
		first = 0;
		jbuf_str(&f->with_file, m->key, m->keylen);
		jbuf_putc(&f->with_file, ':');
		jval_write(&f->with_file, m);
	}
	if (!first)
		jbuf_putc(&f->with_file, ',');
	jbuf_put(&f->with_file, f->file_value.p, f->file_value.len);
	return 0;
}

/*
 * A record to stdout: 0, 1 after the last one --max-records wants (stop
 * before reading any further), -1 with e set on a write error, which the
 * caller of extract or paginate reports.
 */
static int
on_record(void *arg, const char *json, size_t len, unsigned long line,
    struct lib_err *e)
{
	struct fetch *f = arg;

	(void)line;
	if (f->file_column != NULL) {
		if (with_file(f, json, len, e) == -1)
			return -1;
		json = f->with_file.p;
		len = f->with_file.len;
	}
	stats_add(&f->cli.stats.records, 1);
	stats_add(&f->cli.stats.lines, 1);
	if (!f->messages) {
		if (cli_write_err(&f->cli, json, len, e) == -1 ||
		    cli_write_err(&f->cli, "\n", 1, e) == -1)
			return -1;
		return f->max_records > 0 &&
		    f->cli.stats.records >= f->max_records ? 1 : 0;
	}
	jbuf_reset(&f->rec);
	jbuf_puts(&f->rec, "{\"type\":\"RECORD\",\"stream\":");
	jbuf_str(&f->rec, f->stream, strlen(f->stream));
	jbuf_puts(&f->rec, ",\"record\":");
	jbuf_put(&f->rec, json, len);
	jbuf_puts(&f->rec, ",\"time_extracted\":\"");
	jbuf_puts(&f->rec, f->extracted);
	jbuf_puts(&f->rec, "\"}\n");
	if (cli_write_err(&f->cli, f->rec.p, f->rec.len, e) == -1)
		return -1;
	return f->max_records > 0 && f->cli.stats.records >= f->max_records ?
	    1 : 0;
}

/* The input paused: the records so far go downstream now. */
static int
on_paused(void *arg, struct lib_err *e)
{
	struct fetch *f = arg;

	return f->cli.out.len > 0 ? cli_flush_err(&f->cli, e) : 0;
}

/* --on-error: 0 to go on without it, -1 with e set (reported by the caller). */
static int
on_bad(void *arg, const char *text, size_t len, unsigned long line,
    const char *why, struct lib_err *e)
{
	struct fetch *f = arg;
	struct cli_line l;
	int rc;

	/* Into the quarantine file and the messages: the secrets masked. */
	memset(&l, 0, sizeof(l));
	l.text = masked(f, text, len, &f->masked);
	l.len = f->masked.len;
	l.file = masked(f, f->name, strlen(f->name), &f->masked2);
	l.lineno = line;
	(void)pthread_mutex_lock(&f->say_lock);
	rc = cli_reject_err(&f->cli, &l, masked(f, why, strlen(why),
	    &f->masked3), e);
	(void)pthread_mutex_unlock(&f->say_lock);
	return rc;
}

/* --stats: what went over the wire. */
static void
http_counts_stats(struct fetch *f, const struct http *h)
{
	unsigned long requests, retries;
	unsigned long long bytes;

	http_counts(h, &requests, &retries, &bytes);
	stats_set_bytes(&f->cli.stats, bytes);
	(void)snprintf(f->statsx, sizeof(f->statsx),
	    "\"requests\":%lu,\"retries\":%lu", requests, retries);
}

/* A file, local (fd) or over HTTP (url): its records, gzip undone. */
static void
run(struct fetch *f, int fd, const char *url, const struct extract_opts *xo)
{
	struct http *h;
	struct lib_err e;

	if (url == NULL) {
		if (source_fd(xo, fd, f->name, &f->cli.stats, &e) == -1)
			fetch_say(f, e.code, "%s", e.msg);
		return;
	}
	if ((h = http_new(&f->http, &e)) == NULL) {
		fetch_say(f, e.code, "%s", e.msg);
		return;
	}
	url_redact(http_secret_params(h), url, &f->shown);
	f->name = jbuf_cstr(&f->shown);
	if (source_url(xo, h, url, f->parse_thread, &f->cli.stats, &e) == -1)
		fetch_say(f, e.code, "%s", e.msg);
	http_counts_stats(f, h);
	http_free(h);
}

char *
fetch_joined(const char *a, const char *b, const char *c)
{
	size_t n = strlen(a) + strlen(b) + strlen(c) + 1;
	char *s;

	s = xalloc_malloc(n, 1);
	(void)snprintf(s, n, "%s%s%s", a, b, c);
	return s;
}

static int
page_record(void *arg, const char *json, size_t len, struct lib_err *e)
{
	return on_record(arg, json, len, 0, e);
}

static void
note(void *arg, const char *msg)
{
	struct fetch *f = arg;

	if (!f->cli.quiet)
		fetch_say(f, 0, "%s", msg);
}

static void
trace(void *arg, const char *line)
{
	struct fetch *f = arg;

	if (f->verbose)
		fetch_say(f, 0, "%s", line);
}

/* A page's record that is not an object: the --on-error policy. */
static int
page_bad(void *arg, const char *json, size_t len, unsigned long n,
    const char *why, struct lib_err *e)
{
	return on_bad(arg, json, len, n, why, e);
}

/* After each page: the checkpoint, when one is kept. */
static int
page_mark(void *arg, const struct page_mark *m, struct lib_err *e)
{
	struct fetch *f = arg;
	struct page_mark kept = *m;

	if (f->checkpoint == NULL)
		return 0;
	/* "Written" means handed to the kernel, not held in our buffer. */
	if (cli_flush_err(&f->cli, e) == -1)
		return -1;
	/*
	 * An API that echoes the key into its next URL: not into the file, as
	 * the key goes with the request anyway; any other secret is masked.
	 */
	if (kept.next != NULL && f->http.key_param != NULL) {
		url_drop_param(kept.next, f->http.key_param, &f->mark_next);
		kept.next = f->mark_next.p;
	}
	if (kept.next != NULL)
		kept.next = masked(f, kept.next, strlen(kept.next), &f->masked);
	if (kept.cursor != NULL)
		kept.cursor = masked(f, kept.cursor, strlen(kept.cursor),
		    &f->masked2);
	return checkpoint_save(f->checkpoint, masked(f, f->source.p,
	    f->source.len, &f->masked3), &kept, e);
}

/* The first answer is a file: remember its type, stream it after. */
static void
page_file(void *arg, const char *content_type)
{
	struct fetch *f = arg;

	free(f->file_type);
	f->file_type = xalloc_memdup(content_type, strlen(content_type));
	if (!f->cli.quiet)
		fetch_say(f, 0, "%s is a file (Content-Type %s): streaming "
		    "it", f->name, content_type);
}

/* HTTP(S): walk the pages. */
static void
fetch_url(struct fetch *f, const char *url, const char *records)
{
	struct checkpoint cp;
	struct jbuf base = JBUF_INIT;
	struct http *h;
	struct lib_err e;
	int found = 0;

	memset(&cp, 0, sizeof(cp));
	f->page.params = f->params;
	f->page.nparams = f->nparams;
	f->page.records = records;
	f->page.max_body = (size_t)f->cli.max_line;
	f->page.record = page_record;
	f->page.bad = page_bad;
	f->page.mark = page_mark;
	f->page.file = f->page.records_jq == NULL ? page_file : NULL;
	f->page.note = note;
	f->page.arg = f;
	if ((h = http_new(&f->http, &e)) == NULL) {
		fetch_say(f, e.code, "%s", e.msg);
		return;
	}
	url_redact(http_secret_params(h), url, &f->shown);
	f->name = jbuf_cstr(&f->shown);
	if (f->checkpoint != NULL) {
		/* The checkpoint names the API without its secrets. */
		paginate_base(url, f->params, f->nparams, &base);
		url_strip(http_secret_params(h), jbuf_cstr(&base), &f->source);
		(void)jbuf_cstr(&f->source);
		if (checkpoint_load(f->checkpoint, masked(f, f->source.p,
		    f->source.len, &f->masked3), &cp, &found, &e) == -1) {
			fetch_say(f, e.code, "%s", e.msg);
			goto out;
		}
		if (found && f->page.mode != PAGE_AUTO &&
		    f->page.mode != cp.mark.mode) {
			fetch_say(f, EX_USAGE, "--checkpoint %s was written for "
			    "--paginate %s; remove it to start over", f->checkpoint,
			    paginate_mode_name(cp.mark.mode));
			goto out;
		}
		if (found) {
			f->page.resume = &cp.mark;
			note(f, "resuming from the checkpoint");
		}
	}
	/* A walk that ended well has no use for its checkpoint. */
	if (paginate(h, url, &f->page, &e) == -1 ||
	    (f->checkpoint != NULL && f->cli.status == 0 &&
	    checkpoint_remove(f->checkpoint, &e) == -1))
		fetch_say(f, e.code, "%s", e.msg);
out:
	http_counts_stats(f, h);
	checkpoint_free(&cp);
	jbuf_free(&base);
	http_free(h);
}

/* What a file's name and the options say of how to read it. */
static int
file_opts(struct fetch *f, struct extract_opts *xo, const char *path)
{
	struct lib_err e;
	size_t n = strlen(path);

	if (xo->format == EXTRACT_AUTO && xo->records != NULL)
		xo->format = EXTRACT_JSON;
	if (xo->records != NULL && xo->format != EXTRACT_JSON) {
		fetch_say(f, EX_USAGE, "--records applies to JSON documents, "
		    "and %s is not one", f->name);
		return -1;
	}
	if (xo->records != NULL && extract_path_check(xo->records, &e) == -1) {
		fetch_say(f, e.code, "--records: %s", e.msg);
		return -1;
	}
	if (xo->delimiter == 0)
		xo->delimiter = (n > 4 && (strcmp(path + n - 4, ".tsv") == 0 ||
		    (n > 7 && strcmp(path + n - 7, ".tsv.gz") == 0))) ? '\t' : ',';
	xo->max_record = (size_t)f->cli.max_line;
	xo->record = on_record;
	xo->bad = on_bad;
	xo->paused = on_paused;
	xo->arg = f;
	return 0;
}

/* The defaults, before the options. */
void
fetch_init(struct fetch *f, struct extract_opts *xo, struct args *a)
{
	memset(f, 0, sizeof(*f));
	memset(xo, 0, sizeof(*xo));
	memset(a, 0, sizeof(*a));
	f->known = secrets_new();
	xo->header = 1;
	f->page.mode = PAGE_AUTO;
	f->page.page_param = "page";
	f->page.start = 1;
	f->page.offset_param = "offset";
	f->page.limit_param = "limit";
	f->page.limit = 100;
	f->page.cursor_param = "cursor";
	f->page.next_path = "next";
	f->http.timeout = 60;
	f->http.connect_timeout = 10;
	f->http.retries = 5;
	f->http.backoff_base = 0.5;
	cli_init(&f->cli, "pgfetch");
	f->cli.filter = 1;
	(void)pthread_mutex_init(&f->say_lock, NULL);
}

static int
is_http(const char *src)
{
	return strncmp(src, "http://", 7) == 0 || strncmp(src, "https://", 8) == 0;
}

static int
is_ssh(const char *src)
{
	return url_has_scheme(src, "sftp") || url_has_scheme(src, "scp");
}

/*
 * A URL of a scheme pgfetch does not read ("ftp://...") is a usage error:
 * never a local path that happens to look like one.
 */
static int
unknown_scheme(struct fetch *f, const char *src)
{
	size_t n = strspn(src, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU"
	    "VWXYZ0123456789+.-");

	if (n == 0 || strncmp(src + n, "://", 3) != 0 || is_http(src) ||
	    is_ssh(src) || url_has_scheme(src, "file"))
		return 0;
	fetch_say(f, EX_USAGE, "%.*s://: not a scheme pgfetch reads (http, https, "
	    "sftp, scp, file)", (int)n, src);
	return 1;
}

/* $HOME/.ssh/name, allocated; NULL without $HOME. */
static char *
in_ssh_dir(const char *name)
{
	const char *home = getenv("HOME");

	return home != NULL && *home != '\0' ? fetch_joined(home, "/.ssh/", name) :
	    NULL;
}

/*
 * SSH as ssh(1) would: the user of the URL, else $USER; the first of the
 * keys OpenSSH tries that exists, else ssh-agent alone; the host key
 * checked against ~/.ssh/known_hosts unless --insecure, which says so.
 */
static void
ssh_defaults(struct fetch *f, const char *src)
{
	static const char *const keys[] = { "id_ed25519", "id_ecdsa", "id_rsa" };
	size_t i;

	f->http.ssh_user = getenv("USER");
	for (i = 0; f->http.ssh_key == NULL && i < 3; i++) {
		f->ssh_key = in_ssh_dir(keys[i]);
		if (f->ssh_key != NULL && access(f->ssh_key, R_OK) == 0)
			f->http.ssh_key = f->ssh_key;
		else {
			free(f->ssh_key);
			f->ssh_key = NULL;
		}
	}
	if (f->http.known_hosts == NULL)
		f->http.known_hosts = f->known_hosts = in_ssh_dir("known_hosts");
	if (f->http.insecure && !f->cli.quiet)
		fetch_say(f, 0, "%s: --insecure: the host key is not checked", src);
}

/* A file (local, or a URL whose name or --format says so), not an API. */
static int
is_file(const struct extract_opts *xo, const char *src)
{
	struct jbuf path = JBUF_INIT;
	int file;

	file = !is_http(src) || xo->format != EXTRACT_AUTO ||
	    source_format_of_url(src, &path) != EXTRACT_AUTO;
	jbuf_free(&path);
	return file;
}

/*
 * The transfers' options for src: its origin is the one the credentials
 * go to, and every secret the options and the URL hold is masked in all
 * pgfetch writes.
 */
static void
origin_for(struct fetch *f, const char *src)
{
	struct jbuf withparams = JBUF_INIT;
	int http = is_http(src);

	f->http.origin = src;
	if (http)
		paginate_base(src, f->params, f->nparams, &withparams);
	http_secrets(&f->http, http ? jbuf_cstr(&withparams) :
	    is_ssh(src) ? src : NULL, f->known);
	jbuf_free(&withparams);
}

/*
 * A source checked before anything is read: a scheme pgfetch reads, and
 * options that apply to it (an API's or a file's); -1 after a message
 * (64).
 */
static int
check_source(struct fetch *f, const struct extract_opts *xo,
    const struct args *a, const char *src)
{
	struct lib_err e;
	int file = is_file(xo, src);

	if (unknown_scheme(f, src))
		return -1;
	if (is_ssh(src) && !f->ssh_ready) {
		ssh_defaults(f, src);
		f->ssh_ready = 1;
	}
	origin_for(f, src);
	if (a->records_jq != NULL && file) {
		fetch_say(f, EX_USAGE, "--records-jq applies to the pages of an API, "
		    "and %s is a file", src);
		return -1;
	}
	if (f->checkpoint != NULL && file) {
		fetch_say(f, EX_USAGE, "--checkpoint applies to the pages of an API, "
		    "and %s is a file", src);
		return -1;
	}
	if (!file && a->nsources > 1) {
		fetch_say(f, EX_USAGE, "%s is an API: with several sources, each is "
		    "a file", src);
		return -1;
	}
	if (!file && (f->state_from != NULL || f->state_file != NULL)) {
		fetch_say(f, EX_USAGE, "%s applies to files, and %s is an API "
		    "(see --since)", f->state_from != NULL ? "--state-from" :
		    "--state", src);
		return -1;
	}
	if (!file && f->file_column != NULL) {
		fetch_say(f, EX_USAGE, "--file-column applies to files, and %s is "
		    "an API", src);
		return -1;
	}
	if (a->records_jq != NULL && f->page.records_jq == NULL &&
	    (f->page.records_jq = transform_new(a->records_jq, &e)) == NULL) {
		fetch_say(f, e.code, "--records-jq: %s", e.msg);
		return -1;
	}
	return 0;
}

/* --file-column: the member each record of the file named name gets. */
static void
file_value(struct fetch *f, const char *name)
{
	if (f->file_column == NULL)
		return;
	jbuf_reset(&f->file_value);
	jbuf_str(&f->file_value, f->file_column, strlen(f->file_column));
	f->file_keylen = f->file_value.len;
	jbuf_putc(&f->file_value, ':');
	jbuf_str(&f->file_value, name, strlen(name));
	jbuf_putc(&f->file_value, '}');
}

/* A file over HTTP: streamed, with the file options. */
static void
fetch_file_url(struct fetch *f, struct extract_opts *xo, const char *url)
{
	struct jbuf path = JBUF_INIT;
	enum extract_format named = source_format_of_url(url, &path);

	/* Over SSH there are no API pages: a .json is a document. */
	if (is_ssh(url))
		named = extract_format_of(jbuf_cstr(&path));
	f->name = url;
	if (xo->format == EXTRACT_AUTO)
		xo->format = named;
	if (file_opts(f, xo, jbuf_cstr(&path)) == 0)
		run(f, -1, url, xo);
	jbuf_free(&path);
}

/* A local file, file://PATH or - for the standard input. */
static void
fetch_file_local(struct fetch *f, struct extract_opts *xo, const char *src)
{
	const char *path = strncmp(src, "file://", 7) == 0 ? src + 7 : src;
	struct stat sb;
	int fd;

	if (strncmp(path, "localhost/", 10) == 0)
		path += 9;
	f->name = strcmp(path, "-") == 0 ? "stdin" : path;
	if (strcmp(path, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		fetch_say(f, EX_NOINPUT, "%s: %s", path, strerror(errno));
		return;
	} else if (fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		fetch_say(f, EX_NOINPUT, "%s: is a directory", path);
		(void)close(fd);
		return;
	}
	if (xo->format == EXTRACT_AUTO && fd != STDIN_FILENO)
		xo->format = extract_format_of(path);
	if (file_opts(f, xo, path) == 0)
		run(f, fd, NULL, xo);
}

/*
 * The run: an API's pages, unless it answers with a file, which is read
 * like a local one.
 */
static void
dispatch(struct fetch *f, struct extract_opts *xo, const char *src, int file)
{
	if (!file) {
		fetch_url(f, src, xo->records);
		if (f->file_type == NULL)
			return;
		if (f->checkpoint != NULL && !f->cli.quiet)
			fetch_say(f, 0, "--checkpoint does not apply to a file: it is "
			    "read from the start");
		/* Its Content-Type said file: the other way, then. */
		if (xo->format == EXTRACT_AUTO)
			xo->format = source_format_of_type(f->file_type);
		if (strstr(f->file_type, "tab-separated") != NULL &&
		    xo->delimiter == 0)
			xo->delimiter = '\t';
	}
	if (is_http(src) || is_ssh(src))
		fetch_file_url(f, xo, src);
	else
		fetch_file_local(f, xo, src);
}

/* --max-records has all it wants. */
static int
enough(const struct fetch *f)
{
	return f->max_records > 0 && f->cli.stats.records >= f->max_records;
}

/*
 * One file of a set, read as its own source (its origin is the one its
 * credentials go to); --file-column names it as the set shows it.
 */
static void
fetch_file(struct fetch *f, const struct extract_opts *xo,
    const struct fileset_file *file)
{
	struct extract_opts x = *xo;

	origin_for(f, file->name);
	file_value(f, file->shown);
	dispatch(f, &x, file->name, 1);
}

/*
 * The files of one source into fs (appended), the modification times too
 * when stat; -1 after a message.  missing_ok: a glob that matches nothing
 * adds nothing (an incremental run with no new file).
 */
static int
add_files(struct fetch *f, const char *src, struct fileset *fs, int stat,
    int missing_ok)
{
	struct http *h = NULL;
	struct lib_err e;
	size_t from = fs->n;
	int rc = 0;

	origin_for(f, src);
	if (is_ssh(src) && (h = http_new(&f->http, &e)) == NULL) {
		fetch_say(f, e.code, "%s", e.msg);
		return -1;
	}
	if (fileset_add(h, src, fs, &e) == -1) {
		if (!(missing_ok && e.code == EX_NOINPUT &&
		    fileset_is_glob(src))) {
			fetch_say(f, e.code, "%s", e.msg);
			rc = -1;
		}
	} else if (stat && fileset_stat(h, fs, from, &e) == -1) {
		fetch_say(f, e.code, "%s", e.msg);
		rc = -1;
	}
	http_free(h);
	return rc;
}

/*
 * Every source in order, each glob's files in name order, until one
 * fails or --max-records has enough.
 */
static void
fetch_files(struct fetch *f, const struct extract_opts *xo, struct args *a)
{
	struct fileset fs = { NULL, 0 };
	size_t j;
	int i;

	for (i = 0; i < a->nsources && f->cli.status == 0 && !enough(f); i++) {
		if (add_files(f, a->sources[i], &fs, 0, 0) == -1)
			break;
		for (j = 0; j < fs.n && f->cli.status == 0 && !enough(f); j++)
			fetch_file(f, xo, &fs.files[j]);
		fileset_free(&fs);
	}
	fileset_free(&fs);
}

/*
 * The bookmark of the last file read, from --state-from's database or
 * --state's document: (*mtime, name); *mtime -1 when there is none (a
 * first run).  -1 after a message.
 */
static int
file_bookmark(struct fetch *f, long long *mtime, struct jbuf *name)
{
	struct jbuf path = JBUF_INIT, value = JBUF_INIT;
	struct jval_parser *p = NULL;
	const struct jval *root, *t, *n;
	struct lib_err e;
	const char *from;
	int found, rc = -1;

	*mtime = -1;
	if (f->state_from == NULL && f->state_file == NULL)
		return 0;
	jbuf_puts(&path, "bookmarks.");
	jbuf_puts(&path, f->stream);
	from = f->state_from != NULL ? f->state_from : f->state_file;
	if (f->state_file != NULL ? state_file_get(f->state_file,
	    jbuf_cstr(&path), &value, &found, &e) : state_get(f->state_from,
	    jbuf_cstr(&path), &value, &found, &e)) {
		if (f->state_file != NULL)
			(void)liberr_prefix(&e, "--state");
		fetch_say(f, e.code, "%s", e.msg);
		goto out;
	}
	if (!found)
		rc = 0;
	else if ((p = jval_parser_new(value.len * 8 + 4096)) == NULL)
		fetch_say(f, EX_OSERR, "out of memory");
	else if ((root = jval_parse(p, value.p, value.len, JVAL_KEEP_ALL,
	    &e)) == NULL || (t = jval_get(root, "file_mtime")) == NULL ||
	    !jval_int64(t, mtime) || (n = jval_get(root, "file_name")) == NULL ||
	    n->type != JV_STRING)
		fetch_say(f, EX_DATAERR, "%s: %s: not a file bookmark "
		    "({\"file_mtime\":N,\"file_name\":\"...\"})",
		    from, jbuf_cstr(&path));
	else {
		jbuf_put(name, n->str, n->len);
		rc = 0;
	}
out:
	jval_parser_free(p);
	jbuf_free(&path);
	jbuf_free(&value);
	return rc;
}

/* After a whole file: the STATE whose bookmark it is. */
static int
write_bookmark(struct fetch *f, const struct fileset_file *file)
{
	char mtime[32];

	jbuf_reset(&f->rec);
	jbuf_puts(&f->rec, "{\"type\":\"STATE\",\"value\":{\"bookmarks\":{");
	jbuf_str(&f->rec, f->stream, strlen(f->stream));
	(void)snprintf(mtime, sizeof(mtime), ":{\"file_mtime\":%lld,",
	    file->mtime);
	jbuf_puts(&f->rec, mtime);
	jbuf_puts(&f->rec, "\"file_name\":");
	jbuf_str(&f->rec, file->shown, strlen(file->shown));
	jbuf_puts(&f->rec, "}}}}\n");
	return cli_write(&f->cli, f->rec.p, f->rec.len);
}

/*
 * An incremental run over a set of files: every file of every source,
 * oldest first, but those at or before the bookmark; after each whole
 * file, a STATE with its bookmark, (modification time, name), which
 * sqlite-load commits with its rows.  No new file: no record, exit 0.
 */
static void
fetch_new_files(struct fetch *f, const struct extract_opts *xo,
    struct args *a)
{
	struct fileset fs = { NULL, 0 };
	struct jbuf name = JBUF_INIT;
	long long mtime;
	size_t j;
	int i;

	if (file_bookmark(f, &mtime, &name) == -1)
		goto out;
	for (i = 0; i < a->nsources; i++)
		if (add_files(f, a->sources[i], &fs, 1, 1) == -1)
			goto out;
	fileset_sort_by_time(&fs);
	if (mtime >= 0)
		fileset_after(&fs, mtime, jbuf_cstr(&name));
	if (fs.n == 0 && !f->cli.quiet)
		fetch_say(f, 0, "no new file");
	for (j = 0; j < fs.n && f->cli.status == 0; j++) {
		fetch_file(f, xo, &fs.files[j]);
		if (f->cli.status != 0 || write_bookmark(f, &fs.files[j]) == -1)
			break;
	}
out:
	fileset_free(&fs);
	jbuf_free(&name);
}

/* With -m, a set of files or --state-from: a run with file bookmarks. */
static int
bookmarked(const struct fetch *f, const struct args *a)
{
	return f->messages && (f->state_from != NULL || f->state_file != NULL ||
	    a->nsources > 1 || fileset_is_glob(a->sources[0]));
}

/*
 * Every source in order, as one stream: an API's pages, or files; with
 * -m and a set of files (a glob, several sources) or --state-from, an
 * incremental run with file bookmarks.
 */
void
fetch_sources(struct fetch *f, const struct extract_opts *xo, struct args *a)
{
	struct extract_opts x = *xo;

	if (cli_begin(&f->cli) == -1)
		return;
	clocks_utc(f->extracted, sizeof(f->extracted), 1);
	if (!is_file(xo, a->sources[0])) {
		origin_for(f, a->sources[0]);
		dispatch(f, &x, a->sources[0], 0);
	} else if (bookmarked(f, a))
		fetch_new_files(f, xo, a);
	else
		fetch_files(f, xo, a);
}

/*
 * Every source checked before any is read: a usage error stops the run
 * before its first record.
 */
int
fetch_check_sources(struct fetch *f, const struct extract_opts *xo, struct args *a)
{
	int i;

	/* What every transfer shares, whatever its source. */
	f->http.headers = f->headers;
	f->http.nheaders = f->nheaders;
	f->http.secret_headers = f->secret_headers;
	f->http.nsecret_headers = f->nsecret_headers;
	f->http.secrets = f->known;
	f->http.trace = trace;
	f->http.trace_arg = f;
	f->http.max_body = (size_t)f->cli.max_line;
	for (i = 0; i < a->nsources; i++)
		if (check_source(f, xo, a, a->sources[i]) == -1)
			return -1;
	/* No bookmark could say where in a file the records stopped. */
	if (f->max_records > 0 && bookmarked(f, a)) {
		fetch_say(f, EX_USAGE, "--max-records cuts a file short, and "
		    "the bookmarks of a set of files keep whole files");
		return -1;
	}
	return 0;
}

void
fetch_free(struct fetch *f)
{
	size_t i;

	jbuf_free(&f->rec);
	for (i = 0; i < sizeof(f->secrets) / sizeof(f->secrets[0]); i++)
		free(f->secrets[i]);
	free(f->since);
	free(f->params);
	free(f->headers);
	free(f->secret_headers);
	free(f->file_type);
	free(f->ssh_key);
	free(f->known_hosts);
	jbuf_free(&f->file_value);
	jbuf_free(&f->with_file);
	jval_parser_free(f->parser);
	jbuf_free(&f->shown);
	jbuf_free(&f->mark_next);
	transform_free(f->page.records_jq);
	jbuf_free(&f->source);
	while (f->nowned > 0)
		free(f->owned[--f->nowned]);
	free(f->owned);
	jbuf_free(&f->masked);
	jbuf_free(&f->masked2);
	jbuf_free(&f->masked3);
	secrets_free(f->known);
	(void)pthread_mutex_destroy(&f->say_lock);
}
