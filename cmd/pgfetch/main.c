/*
 * pgfetch: records out of an API (paginated, retried, in parallel when
 * asked) or out of files (JSON Lines, JSON documents streamed, CSV,
 * gzip-compressed or not; local, over HTTP or over SSH), as NDJSON on
 * stdout.  Here: the options, the credentials from the environment, then
 * the run (fetch.c).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "exitcodes.h"
#include "fetch.h"
#include "secrets.h"
#include "source.h"
#include "xalloc.h"

enum {
	OPT_FORMAT = CLI_OPT_PRIVATE, OPT_RECORDS, OPT_DELIMITER, OPT_NO_HEADER,
	OPT_CSV_TYPES, OPT_MAX_RECORDS, OPT_PAGINATE, OPT_PAGE_PARAM, OPT_START,
	OPT_OFFSET_PARAM, OPT_LIMIT_PARAM, OPT_LIMIT, OPT_CURSOR_PATH,
	OPT_CURSOR_PARAM, OPT_NEXT_PATH, OPT_TOTAL_PATH, OPT_MAX_PAGES,
	OPT_HEADER_FILE, OPT_BEARER_ENV, OPT_BASIC_ENV, OPT_API_KEY_ENV,
	OPT_API_KEY_HEADER, OPT_API_KEY_PARAM, OPT_RETRIES, OPT_BACKOFF,
	OPT_TIMEOUT, OPT_CONNECT_TIMEOUT, OPT_INSECURE, OPT_SINCE, OPT_SINCE_PARAM,
	OPT_RATE, OPT_PARALLEL, OPT_CHECKPOINT, OPT_RECORDS_JQ, OPT_SSH_KEY,
	OPT_SSH_PASSPHRASE_ENV, OPT_SSH_PASSWORD_ENV, OPT_KNOWN_HOSTS,
	OPT_FILE_COLUMN, OPT_STATE_FROM, OPT_STATE, OPT_PARSE_THREAD
};

#define PAGINATOR	"paginator options"
#define AUTH		"auth options"
#define SSH		"ssh options"

static const struct cli_opt options[] = {
	{ "messages", 'm', 0, NULL, "write Singer RECORD messages", NULL, NULL },
	{ "stream", 's', 0, "stream", "their stream", NULL, NULL },
	{ "format", 0, OPT_FORMAT, "jsonl|json|csv|auto",
	    "the format of SOURCE (default auto)", NULL, NULL },
	{ "records", 0, OPT_RECORDS, "path",
	    "json: the array of records, e.g. .data.items", "records-jq", NULL },
	{ "records-jq", 0, OPT_RECORDS_JQ, "expr",
	    "API pages: a jq program that yields them", NULL, NULL },
	{ "delimiter", 0, OPT_DELIMITER, "c",
	    "csv: the field separator (default ,)", NULL, NULL },
	{ "no-header", 0, OPT_NO_HEADER, NULL,
	    "csv: no header row; keys are col_1...", NULL, NULL },
	{ "csv-types", 0, OPT_CSV_TYPES, NULL,
	    "csv: numbers, booleans, empty is null", NULL, NULL },
	{ "max-records", 0, OPT_MAX_RECORDS, "n", "stop after N records", NULL,
	    NULL },
	{ "file-column", 0, OPT_FILE_COLUMN, "name",
	    "add the file's name to each record as NAME", NULL, NULL },
	{ "state-from", 0, OPT_STATE_FROM, "db",
	    "files: skip those at or before the bookmark\nsqlite-load committed in DB",
	    "state", NULL },
	{ "state", 0, OPT_STATE, "file",
	    "files: the same, the bookmark in a state\ndocument (pg-load --state-get .)",
	    NULL, NULL },
	{ "paginate", 0, OPT_PAGINATE, "mode",
	    "page, offset, cursor, next, link, none, auto", NULL, NULL },
	{ "max-pages", 0, OPT_MAX_PAGES, "n", "stop after N pages", NULL, NULL },
	{ "parallel", 0, OPT_PARALLEL, "n",
	    "page, offset: N requests in flight", NULL, NULL },
	{ "checkpoint", 0, OPT_CHECKPOINT, "file",
	    "resume an unfinished extraction from FILE", NULL, NULL },
	{ "parse-thread", 0, OPT_PARSE_THREAD, "auto|always|never",
	    "a file over the network: parse it on a\nthread of its own (auto: with more than\n2 CPUs)",
	    NULL, NULL },
	{ "param", 'p', 0, "name=value", "a query parameter", NULL, NULL },
	{ "header", 'H', 0, "header", "a request header, 'Name: value'", NULL,
	    NULL },
	{ "retries", 0, OPT_RETRIES, "n", "retries of a request (5)", NULL, NULL },
	{ "backoff-base", 0, OPT_BACKOFF, "s",
	    "the base of the waits between retries (0.5)", NULL, NULL },
	{ "timeout", 0, OPT_TIMEOUT, "s", "the longest a request takes (60)",
	    NULL, NULL },
	{ "connect-timeout", 0, OPT_CONNECT_TIMEOUT, "s",
	    "the longest a connection takes (10)", NULL, NULL },
	{ "insecure", 0, OPT_INSECURE, NULL,
	    "do not verify TLS certificates or SSH host\nkeys", NULL, NULL },
	{ "rate", 0, OPT_RATE, "n", "at most N requests a second", NULL, NULL },
	{ "since", 0, OPT_SINCE, "value",
	    "incremental: --since-param NAME=VALUE\n(an empty VALUE adds nothing)",
	    NULL, NULL },
	{ "since-param", 0, OPT_SINCE_PARAM, "name",
	    "the query parameter of --since", NULL, NULL },
	{ "verbose", 'v', 0, NULL, "one line per request on stderr", NULL, NULL },
	{ "page-param", 0, OPT_PAGE_PARAM, "name",
	    "page: the page number's parameter (page)", NULL, PAGINATOR },
	{ "start", 0, OPT_START, "n", "page: the first page's number (1)", NULL,
	    PAGINATOR },
	{ "offset-param", 0, OPT_OFFSET_PARAM, "name",
	    "offset: the offset's parameter (offset)", NULL, PAGINATOR },
	{ "limit-param", 0, OPT_LIMIT_PARAM, "name",
	    "offset: the page size's parameter (limit)", NULL, PAGINATOR },
	{ "limit", 0, OPT_LIMIT, "n", "offset: the page size (100)", NULL,
	    PAGINATOR },
	{ "cursor-path", 0, OPT_CURSOR_PATH, "path",
	    "cursor: where the body has the next cursor", NULL, PAGINATOR },
	{ "cursor-param", 0, OPT_CURSOR_PARAM, "name",
	    "cursor: the cursor's parameter (cursor)", NULL, PAGINATOR },
	{ "next-path", 0, OPT_NEXT_PATH, "path",
	    "next: where the body has the next URL (next)", NULL, PAGINATOR },
	{ "total-path", 0, OPT_TOTAL_PATH, "path",
	    "page, offset: where the body has the total", NULL, PAGINATOR },
	{ "header-file", 0, OPT_HEADER_FILE, "file",
	    "the request headers in FILE, one a line", NULL, AUTH },
	{ "bearer-env", 0, OPT_BEARER_ENV, "var",
	    "Authorization: Bearer $VAR", NULL, AUTH },
	{ "basic-env", 0, OPT_BASIC_ENV, "uvar:pvar",
	    "basic auth from $UVAR and $PVAR", NULL, AUTH },
	{ "api-key-env", 0, OPT_API_KEY_ENV, "var",
	    "an API key from $VAR, sent as one of:", NULL, AUTH },
	{ "api-key-header", 0, OPT_API_KEY_HEADER, "name",
	    "the header NAME", NULL, AUTH },
	{ "api-key-param", 0, OPT_API_KEY_PARAM, "name",
	    "the query parameter NAME", NULL, AUTH },
	{ "ssh-key", 0, OPT_SSH_KEY, "file",
	    "the private key (default: the first of\n~/.ssh/id_ed25519, "
	    "id_ecdsa, id_rsa),\nthen ssh-agent", NULL, SSH },
	{ "ssh-passphrase-env", 0, OPT_SSH_PASSPHRASE_ENV, "var",
	    "the key's passphrase from $VAR", NULL, SSH },
	{ "ssh-password-env", 0, OPT_SSH_PASSWORD_ENV, "var",
	    "a password from $VAR", NULL, SSH },
	{ "known-hosts", 0, OPT_KNOWN_HOSTS, "file",
	    "the host keys to trust\n(default ~/.ssh/known_hosts)", NULL, SSH },
	{ NULL, 0, 0, NULL, NULL, NULL, NULL }
};

static const struct cli_spec spec = {
	options, "source ...", NULL,
	"Write the records behind an API, or in files, as NDJSON.  A SOURCE is\n"
	"an http(s) URL, an sftp:// or scp:// URL, a path, - for stdin, or\n"
	"file://PATH; a glob in the last segment of a path or an sftp:// URL\n"
	"names the files that match.  Files are JSON Lines, a JSON document\n"
	"(its array of records streamed) or CSV; gzip is undone.\n",
	CLI_NO_STREAM
};

static const struct cli_choice formats[] = {
	{ "jsonl", EXTRACT_JSONL }, { "json", EXTRACT_JSON },
	{ "csv", EXTRACT_CSV }, { "auto", EXTRACT_AUTO }, { NULL, 0 }
};

static const struct cli_choice parse_threads[] = {
	{ "auto", PARSE_THREAD_AUTO }, { "always", PARSE_THREAD_ALWAYS },
	{ "never", PARSE_THREAD_NEVER }, { NULL, 0 }
};

static const struct cli_choice page_modes[] = {
	{ "page", PAGE_PAGE }, { "offset", PAGE_OFFSET },
	{ "cursor", PAGE_CURSOR }, { "next", PAGE_NEXT }, { "link", PAGE_LINK },
	{ "none", PAGE_NONE }, { "auto", PAGE_AUTO }, { NULL, 0 }
};

static const char **
push(const char **v, size_t *n, const char *s)
{
	const char **nv;

	nv = xalloc_realloc(v, *n + 1, sizeof(*v));
	nv[(*n)++] = s;
	return nv;
}

/* A secret from the environment; NULL after a message when it is unset. */
static const char *
secret_env(struct fetch *f, const char *var, const char *opt)
{
	const char *v = getenv(var);

	if (v == NULL || *v == '\0') {
		fetch_say(f, EX_USAGE, "%s: $%s is not set", opt, var);
		return NULL;
	}
	return v;
}

/* --header-file: one header a line; blank lines and # comments skipped. */
static int
header_file(struct fetch *f, const char *path)
{
	FILE *fp;
	char *line = NULL, *copy, **owned;
	size_t cap = 0;
	ssize_t n;

	if ((fp = fopen(path, "r")) == NULL) {
		fetch_say(f, EX_NOINPUT, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((n = getline(&line, &cap, fp)) != -1) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0 || line[0] == '#')
			continue;
		copy = xalloc_strdup(line);
		/* The place for secrets: none goes to another host. */
		f->secret_headers = push(f->secret_headers, &f->nsecret_headers,
		    copy);
		owned = xalloc_realloc(f->owned, f->nowned + 1, sizeof(*owned));
		f->owned = owned;
		f->owned[f->nowned++] = copy;
	}
	free(line);
	(void)fclose(fp);
	return 0;
}

/* One option that sets something of f or xo; usage errors exit 64. */
static void
set_option(struct fetch *f, struct extract_opts *xo, int id, const char *arg)
{
	struct cli *c = &f->cli;
	long long n;

	switch (id) {
	case 'm':
		f->messages = 1;
		break;
	case 's':
		f->stream = arg;
		break;
	case 'v':
		f->verbose = 1;
		break;
	case OPT_FORMAT:
		xo->format = cli_enum(c, arg, formats);
		break;
	case OPT_RECORDS:
		xo->records = arg;
		break;
	case OPT_DELIMITER:
		if (strcmp(arg, "\\t") == 0 || strcmp(arg, "tab") == 0)
			xo->delimiter = '\t';
		else if (strlen(arg) == 1)
			xo->delimiter = arg[0];
		else
			cli_usage_error(c, "--delimiter: '%s': one character, "
			    "or \\t", arg);
		break;
	case OPT_NO_HEADER:
		xo->header = 0;
		break;
	case OPT_CSV_TYPES:
		xo->csv_types = 1;
		break;
	case OPT_MAX_RECORDS:
		f->max_records = (unsigned long long)cli_num(c, arg, 1, 1LL << 62);
		break;
	case OPT_PAGINATE:
		f->page.mode = cli_enum(c, arg, page_modes);
		break;
	case OPT_PAGE_PARAM:
		f->page.page_param = arg;
		break;
	case OPT_START:
		f->page.start = cli_num(c, arg, 0, 1LL << 40);
		break;
	case OPT_OFFSET_PARAM:
		f->page.offset_param = arg;
		break;
	case OPT_LIMIT_PARAM:
		f->page.limit_param = arg;
		break;
	case OPT_LIMIT:
		f->page.limit = cli_num(c, arg, 1, 1LL << 40);
		break;
	case OPT_CURSOR_PATH:
		f->page.cursor_path = arg;
		break;
	case OPT_CURSOR_PARAM:
		f->page.cursor_param = arg;
		break;
	case OPT_NEXT_PATH:
		f->page.next_path = arg;
		break;
	case OPT_TOTAL_PATH:
		f->page.total_path = arg;
		break;
	case OPT_MAX_PAGES:
		f->page.max_pages = (unsigned long long)cli_num(c, arg, 1,
		    1LL << 40);
		break;
	case OPT_PARALLEL:
		f->page.parallel = (unsigned int)cli_num(c, arg, 1, 64);
		break;
	case OPT_PARSE_THREAD:
		f->parse_thread = cli_enum(c, arg, parse_threads);
		break;
	case OPT_CHECKPOINT:
		f->checkpoint = arg;
		break;
	case OPT_RETRIES:
		n = cli_num(c, arg, 0, 1LL << 40);
		f->http.retries = (int)(n > 100 ? 100 : n);
		break;
	case OPT_BACKOFF:
		f->http.backoff_base = (double)cli_real(c, arg, 0, 0, 60);
		break;
	case OPT_TIMEOUT:
		f->http.timeout = (long)cli_num(c, arg, 1, 1LL << 40);
		break;
	case OPT_CONNECT_TIMEOUT:
		f->http.connect_timeout = (long)cli_num(c, arg, 1, 1LL << 40);
		break;
	case OPT_INSECURE:
		f->http.insecure = 1;
		break;
	case OPT_SSH_KEY:
		f->http.ssh_key = arg;
		break;
	case OPT_KNOWN_HOSTS:
		f->http.known_hosts = arg;
		break;
	case OPT_STATE_FROM:
		f->state_from = arg;
		break;
	case OPT_STATE:
		f->state_file = arg;
		break;
	case OPT_FILE_COLUMN:
		if (*arg == '\0')
			cli_usage_error(c, "--file-column: an empty name");
		f->file_column = arg;
		break;
	case OPT_RATE:
		f->http.rate = (double)cli_real(c, arg, 0, 1, 1e6);
		break;
	case 'p':
		if (strchr(arg, '=') == NULL || arg[0] == '=')
			cli_usage_error(c, "-p: '%s': NAME=VALUE", arg);
		f->params = push(f->params, &f->nparams, arg);
		break;
	case 'H':
		if (strchr(arg, ':') == NULL)
			cli_usage_error(c, "-H: 'Name: value'");
		if (secrets_header_is_secret(arg))
			f->secret_headers = push(f->secret_headers,
			    &f->nsecret_headers, arg);
		else
			f->headers = push(f->headers, &f->nheaders, arg);
		break;
	default:
		cli_usage(c);
	}
}

/*
 * The options into f, xo and a, checked alone and together: usage errors
 * exit 64.  -1 when a --header-file cannot be read (f->cli.status).
 */
static int
parse_options(struct fetch *f, struct extract_opts *xo, struct args *a,
    int argc, char *argv[])
{
	struct cli *c = &f->cli;
	const char *since = NULL, *since_param = NULL;
	int id;

	while ((id = cli_getopt(c, &spec, argc, argv)) != -1) {
		switch (id) {
		case OPT_HEADER_FILE:
			if (header_file(f, optarg) == -1)
				return -1;
			break;
		case OPT_BEARER_ENV:
			a->bearer_env = optarg;
			break;
		case OPT_BASIC_ENV:
			a->basic_env = optarg;
			break;
		case OPT_API_KEY_ENV:
			a->key_env = optarg;
			break;
		case OPT_API_KEY_HEADER:
			a->key_header = optarg;
			break;
		case OPT_API_KEY_PARAM:
			a->key_param = optarg;
			break;
		case OPT_RECORDS_JQ:
			a->records_jq = optarg;
			break;
		case OPT_SSH_PASSPHRASE_ENV:
			a->ssh_passphrase_env = optarg;
			break;
		case OPT_SSH_PASSWORD_ENV:
			a->ssh_password_env = optarg;
			break;
		case OPT_SINCE:
			since = optarg;
			break;
		case OPT_SINCE_PARAM:
			since_param = optarg;
			break;
		default:
			set_option(f, xo, id, optarg);
		}
	}
	if (argc - optind < 1)
		cli_usage(c);
	a->sources = argv + optind;
	a->nsources = argc - optind;
	if ((since != NULL) != (since_param != NULL))
		cli_usage_error(c, "--since and --since-param go together");
	/* The first run has no cursor yet: an empty value adds nothing. */
	if (since != NULL && *since != '\0') {
		f->since = fetch_joined(since_param, "=", since);
		f->params = push(f->params, &f->nparams, f->since);
	}
	if (f->page.parallel > 1 && f->page.mode != PAGE_PAGE &&
	    f->page.mode != PAGE_OFFSET)
		cli_usage_error(c, "--parallel needs --paginate page or "
		    "offset: other pages are known only from the one before");
	if (a->records_jq != NULL && xo->records != NULL)
		cli_usage_error(c, "--records and --records-jq: one or the "
		    "other");
	if (f->page.mode == PAGE_CURSOR && f->page.cursor_path == NULL)
		cli_usage_error(c, "--paginate cursor needs --cursor-path");
	if (f->messages && (f->stream == NULL || *f->stream == '\0'))
		cli_usage_error(c, "-m needs -s STREAM");
	if (f->state_from != NULL && f->state_file != NULL)
		cli_usage_error(c, "--state-from and --state: one or the other");
	if ((f->state_from != NULL || f->state_file != NULL) && !f->messages)
		cli_usage_error(c, "%s needs -m -s STREAM: the bookmark is the "
		    "stream's", f->state_from != NULL ? "--state-from" : "--state");
	return 0;
}

/*
 * The credentials, from the environment, never from the command line;
 * -1 after a message (64: a variable unset, an option missing).
 */
static int
credentials(struct fetch *f, const struct args *a)
{
	const char *v;
	char *colon;

	if (a->ssh_passphrase_env != NULL && (f->http.ssh_passphrase =
	    secret_env(f, a->ssh_passphrase_env, "--ssh-passphrase-env")) == NULL)
		return -1;
	if (a->ssh_password_env != NULL && (f->http.ssh_password =
	    secret_env(f, a->ssh_password_env, "--ssh-password-env")) == NULL)
		return -1;
	if (a->bearer_env != NULL) {
		if ((v = secret_env(f, a->bearer_env, "--bearer-env")) == NULL)
			return -1;
		f->secrets[0] = fetch_joined("Authorization: Bearer ", v, "");
		f->secret_headers = push(f->secret_headers, &f->nsecret_headers,
		    f->secrets[0]);
	}
	if (a->basic_env != NULL) {
		f->secrets[1] = xalloc_memdup(a->basic_env,
		    strlen(a->basic_env));
		if ((colon = strchr(f->secrets[1], ':')) == NULL) {
			fetch_say(f, EX_USAGE, "--basic-env: USERVAR:PASSVAR");
			return -1;
		}
		*colon = '\0';
		if ((f->http.user = secret_env(f, f->secrets[1],
		    "--basic-env")) == NULL || (f->http.password =
		    secret_env(f, colon + 1, "--basic-env")) == NULL)
			return -1;
	}
	if (a->key_env == NULL)
		return 0;
	if ((a->key_header == NULL) == (a->key_param == NULL)) {
		fetch_say(f, EX_USAGE, "--api-key-env needs one of --api-key-header "
		    "or --api-key-param");
		return -1;
	}
	if ((v = secret_env(f, a->key_env, "--api-key-env")) == NULL)
		return -1;
	if (a->key_header != NULL) {
		f->secrets[2] = fetch_joined(a->key_header, ": ", v);
		f->secret_headers = push(f->secret_headers, &f->nsecret_headers,
		    f->secrets[2]);
	} else {
		f->http.key_param = a->key_param;
		f->http.key_value = v;
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	struct fetch f;
	struct extract_opts xo;
	struct args a;
	int rc;

	fetch_init(&f, &xo, &a);
	if (parse_options(&f, &xo, &a, argc, argv) == 0 &&
	    credentials(&f, &a) == 0 && fetch_check_sources(&f, &xo, &a) == 0)
		fetch_sources(&f, &xo, &a);
	else if (f.cli.status == EX_USAGE) {
		/* Nothing began: no --stats, no abort line, as after usage. */
		fetch_free(&f);
		return EX_USAGE;
	} else
		/* Another early error (--header-file): a summary of nothing. */
		(void)cli_begin(&f.cli);
	rc = cli_finish(&f.cli, f.statsx[0] != '\0' ? f.statsx : NULL);
	fetch_free(&f);
	return rc;
}
