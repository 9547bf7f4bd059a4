#define _DEFAULT_SOURCE		/* timegm(3) */
#define _XOPEN_SOURCE 700	/* strptime(3) */

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "exitcodes.h"
#include "http.h"
#include "xalloc.h"

#define BACKOFF_CAP	30.0
#define MAX_REDIRECTS	10
#define EXCERPT_BYTES	4096	/* of an error body, when the body streams */
#define USER_AGENT	"sluice-pgfetch/" SLUICE_VERSION

enum { SSH_NONE, SSH_SFTP, SSH_SCP };

/* One request and its attempts, retries and redirects. */
struct xfer {
	struct http	*h;
	CURL		*easy;
	char		*url;		/* as asked: named in messages */
	char		*at;		/* where it goes now (redirects) */
	size_t		 tag;
	unsigned long	 attempt;
	unsigned int	 redirects;
	int		 foreign;	/* not at the origin: no credentials */
	int		 ssh;		/* SSH_SFTP, SSH_SCP: no HTTP status */
	int		 hostkey;	/* ssh: CURLKHMATCH_* of the host key, or -1 */
	int		 listing;	/* ssh: the names in a directory */
	int		 stat;		/* the modification time, no body */
	int		 told;		/* -v said so */
	int		 running;	/* in the multi handle */
	long		 not_before;	/* ms: backoff, a redirect */
	long		 started;
	long		 ms;
	long		 status;
	/* Per attempt, from the callbacks. */
	double		 retry_after;	/* seconds, or -1 */
	int		 too_long;	/* the body passed max_body */
	int		 stopped;	/* the sink said stop */
	int		 probe;		/* stop at a file's headers */
	char		 ctype[128];	/* Content-Type, when it names a file */
	int		 body_cut;	/* the error body held is its start */
	struct jbuf	 body;
	struct jbuf	 link;
	struct jbuf	 scratch;
	/* Streamed bodies. */
	http_sink_fn	 sink;
	void		*sink_arg;
	unsigned long long taken;	/* bytes the sink took, all attempts */
	unsigned long long pos;		/* bytes of this attempt's body */
	/* The outcome. */
	int		 failed;
	CURLcode	 result;	/* the last attempt's result */
	struct lib_err	 err;
	char		 errbuf[CURL_ERROR_SIZE];
	struct xfer	*next;
};

struct http {
	struct http_opts o;
	CURLM		*multi;
	struct curl_slist *headers;	/* all of them */
	struct curl_slist *public_headers;	/* the secret ones left out */
	struct url_secret_params params;	/* o's, for url_redact */
	struct jbuf	 origin;	/* scheme://host:port, lower case */
	struct jbuf	 there;		/* another URL's, to compare */
	int		 have_origin;
	char		*url_user;	/* the origin URL's user information */
	char		*url_password;
	char		*ssh_pubkey;	/* o.ssh_key's .pub, if there is one */
	const struct secrets *secrets;	/* masked in messages and -v lines */
	struct secrets	*own_secrets;
	struct xfer	*active;	/* waiting or running, in the order added */
	struct xfer	*done;		/* over, in the order they ended */
	unsigned long	 requests;
	unsigned long	 retries;
	unsigned long long bytes;
	long		 last_start;	/* ms, of the last request, for --rate */
	int		 probe;		/* http_probe_files */
	struct jbuf	 scratch;
};

/* Content-Types of files rather than pages (parameters aside). */
static const char *const file_types[] = {
	"application/x-ndjson", "application/ndjson", "application/jsonl",
	"application/x-jsonlines", "application/jsonlines", "text/csv",
	"text/tab-separated-values", "application/gzip", "application/x-gzip"
};

/* The query parameters o makes secret. */
static struct url_secret_params
secret_params_of(const struct http_opts *o)
{
	struct url_secret_params p;

	p.names = o->secret_params;
	p.n = o->nsecret_params;
	p.key = o->key_param;
	return p;
}

void
http_secrets(const struct http_opts *o, const char *url, struct secrets *s)
{
	struct url_secret_params p = secret_params_of(o);
	size_t i;

	for (i = 0; i < o->nsecret_headers; i++)
		secrets_add_header(s, o->secret_headers[i]);
	if (o->user != NULL && o->password != NULL)
		secrets_add_basic(s, o->user, strlen(o->user), o->password,
		    strlen(o->password));
	if (o->key_value != NULL)
		secrets_add(s, o->key_value, strlen(o->key_value));
	if (o->ssh_passphrase != NULL)
		secrets_add(s, o->ssh_passphrase, strlen(o->ssh_passphrase));
	if (o->ssh_password != NULL)
		secrets_add(s, o->ssh_password, strlen(o->ssh_password));
	if (url != NULL)
		url_secrets(&p, url, s);
}

const struct url_secret_params *
http_secret_params(const struct http *h)
{
	return h != NULL ? &h->params : NULL;
}

/* The credentials go to url's origin, its user information with them. */
static void
set_origin(struct http *h, const char *url)
{
	h->have_origin = 1;
	if (url_origin(url, &h->origin) == -1)
		jbuf_reset(&h->origin);	/* no URL is at it */
	url_userinfo(url, &h->url_user, &h->url_password);
	if (h->o.secrets == NULL) {
		secrets_free(h->own_secrets);
		h->own_secrets = secrets_new();
		http_secrets(&h->o, url, h->own_secrets);
		h->secrets = h->own_secrets;
	}
}

/* 1 if url is at the origin the credentials are for. */
static int
at_origin(struct http *h, const char *url)
{
	return h->origin.len > 0 && url_origin(url, &h->there) == 0 &&
	    h->there.len == h->origin.len &&
	    memcmp(h->there.p, h->origin.p, h->origin.len) == 0;
}

/* 1 if there are credentials to keep from another origin. */
static int
credentials(const struct http *h)
{
	return h->o.nsecret_headers > 0 || h->o.user != NULL ||
	    h->o.key_param != NULL || h->url_user != NULL;
}

struct http *
http_new(const struct http_opts *o, struct lib_err *e)
{
	struct http *h;
	size_t i;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (h = calloc(1, sizeof(*h))) == NULL) {
		(void)liberr_set(e, EX_OSERR, "cannot start libcurl");
		return NULL;
	}
	h->o = *o;
	h->params = secret_params_of(o);
	if ((h->multi = curl_multi_init()) == NULL) {
		free(h);
		(void)liberr_set(e, EX_OSERR, "cannot start libcurl");
		return NULL;
	}
	for (i = 0; i < o->nheaders; i++) {
		h->headers = curl_slist_append(h->headers, o->headers[i]);
		h->public_headers = curl_slist_append(h->public_headers,
		    o->headers[i]);
	}
	for (i = 0; i < o->nsecret_headers; i++)
		h->headers = curl_slist_append(h->headers, o->secret_headers[i]);
	h->secrets = o->secrets;
	if (o->ssh_key != NULL) {
		h->ssh_pubkey = xalloc_malloc(strlen(o->ssh_key) + 5, 1);
		(void)snprintf(h->ssh_pubkey, strlen(o->ssh_key) + 5, "%s.pub",
		    o->ssh_key);
		if (access(h->ssh_pubkey, R_OK) == -1) {
			free(h->ssh_pubkey);
			h->ssh_pubkey = NULL;
		}
	}
	if (o->origin != NULL)
		set_origin(h, o->origin);
	return h;
}

static void
xfer_free(struct xfer *x)
{
	if (x->running)
		(void)curl_multi_remove_handle(x->h->multi, x->easy);
	curl_easy_cleanup(x->easy);
	free(x->url);
	free(x->at);
	jbuf_free(&x->body);
	jbuf_free(&x->link);
	jbuf_free(&x->scratch);
	free(x);
}

void
http_cancel(struct http *h)
{
	struct xfer *x;

	while ((x = h->active) != NULL) {
		h->active = x->next;
		xfer_free(x);
	}
	while ((x = h->done) != NULL) {
		h->done = x->next;
		xfer_free(x);
	}
}

void
http_free(struct http *h)
{
	if (h == NULL)
		return;
	http_cancel(h);
	curl_multi_cleanup(h->multi);
	curl_slist_free_all(h->headers);
	curl_slist_free_all(h->public_headers);
	jbuf_free(&h->scratch);
	jbuf_free(&h->origin);
	jbuf_free(&h->there);
	free(h->url_user);
	free(h->ssh_pubkey);
	free(h->url_password);
	secrets_free(h->own_secrets);
	free(h);
	curl_global_cleanup();
}

void
http_response_free(struct http_response *r)
{
	jbuf_free(&r->body);
	free(r->next);
	free(r->file_type);
	r->next = r->file_type = NULL;
}

void
http_probe_files(struct http *h, int on)
{
	h->probe = on;
}

void
http_counts(const struct http *h, unsigned long *requests,
    unsigned long *retries, unsigned long long *bytes)
{
	*requests = h->requests;
	*retries = h->retries;
	*bytes = h->bytes;
}

static long
now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A number uniform in [0, 1], for the backoff's full jitter. */
static double
jitter(void)
{
	unsigned int r = 0;

	if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
		r = 0x7fffffff;
	return (double)r / 4294967295.0;
}

/* Full jitter: anywhere in [0, base * 2^attempt], capped. */
static double
backoff(double base, unsigned long attempt, double fraction)
{
	double cap = base;
	unsigned long i;

	for (i = 1; i < attempt && cap < BACKOFF_CAP; i++)
		cap *= 2;
	if (cap > BACKOFF_CAP)
		cap = BACKOFF_CAP;
	return cap * fraction;
}

/* 1 for the curl results no retry can mend. */
static int
unretryable(int curl_code, int *code)
{
	switch (curl_code) {
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		/* A URL that cannot be asked for. */
		*code = EX_UNAVAILABLE;
		return 1;
	case CURLE_PEER_FAILED_VERIFICATION:
		/* A certificate refused, like an SSH host key. */
	case CURLE_LOGIN_DENIED:
	case CURLE_REMOTE_ACCESS_DENIED:
		/* SSH: no key or password let us in; a file we may not read. */
		*code = EX_NOPERM;
		return 1;
	case CURLE_REMOTE_FILE_NOT_FOUND:
		*code = EX_NOINPUT;
		return 1;
	default:
		return 0;
	}
}

struct http_verdict
http_classify(const struct http_ending *a, int retries, double backoff_base)
{
	struct http_verdict v = { HTTP_FAIL, HTTP_FAIL_NONE, 0, 0 };
	int ok = a->curl_code == CURLE_OK;

	if (a->stopped) {
		/* The sink said stop, or a file's headers came: enough. */
		v.action = HTTP_TAKE;
	} else if (a->too_long) {
		v.why = HTTP_FAIL_TOO_LONG;
		v.code = EX_DATAERR;
	} else if (ok && (a->no_status ||
	    (a->status >= 200 && a->status < 300))) {
		if (!a->streamed || a->pos >= a->taken)
			v.action = HTTP_TAKE;
		else {
			/* A file that changed, or a server in trouble: later. */
			v.why = HTTP_FAIL_SHORTER;
			v.code = EX_TEMPFAIL;
		}
	} else if (ok && a->status >= 300 && a->status < 400 && a->location) {
		if (a->redirects + 1 > MAX_REDIRECTS) {
			v.why = HTTP_FAIL_REDIRECTS;
			v.code = EX_UNAVAILABLE;
		} else
			v.action = HTTP_REDIRECT;
	} else if (ok && (a->status == 401 || a->status == 403)) {
		v.why = HTTP_FAIL_REFUSED;
		v.code = EX_NOPERM;
	} else if (ok && a->status >= 400 && a->status < 500 &&
	    a->status != 408 && a->status != 429) {
		v.why = HTTP_FAIL_REFUSED;
		v.code = EX_UNAVAILABLE;
	} else if (ok && a->status < 400) {
		v.why = HTTP_FAIL_STATUS;
		v.code = EX_UNAVAILABLE;
	} else if (unretryable(a->curl_code, &v.code)) {
		v.why = HTTP_FAIL_TRANSPORT;
	} else if (a->attempt > (unsigned long)retries) {
		/* Refused, timed out, 5xx, 408, 429: worth a run later. */
		v.why = HTTP_FAIL_SPENT;
		v.code = EX_TEMPFAIL;
	} else {
		/* Retry-After, but never less than the base: 0 is not "now". */
		v.action = HTTP_RETRY;
		v.wait = a->retry_after >= 0 ? a->retry_after :
		    backoff(backoff_base, a->attempt, a->jitter);
		if (v.wait < backoff_base)
			v.wait = backoff_base;
		if (v.wait > 3600)
			v.wait = 3600;
	}
	return v;
}

/*
 * e = code and the message fmt says, with the secrets masked: formatted
 * whole first, so that no cut can leave a part of one.
 */
static void __attribute__((format(printf, 4, 5)))
set_err(const struct http *h, struct lib_err *e, int code, const char *fmt,
    ...)
{
	struct jbuf masked = JBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	secrets_vformat(h->secrets, &masked, fmt, ap);
	va_end(ap);
	(void)liberr_set(e, code, "%s", jbuf_cstr(&masked));
	jbuf_free(&masked);
}

/* A -v line; the key parameter shows (as ***) where it was sent. */
static void
trace(struct http *h, const char *url, int foreign, const char *what)
{
	struct jbuf sent = JBUF_INIT, masked = JBUF_INIT;

	if (h->o.trace == NULL)
		return;
	if (h->o.key_param != NULL && !foreign) {
		url_add_param(url, h->o.key_param, "", &sent);
		url = jbuf_cstr(&sent);
	}
	jbuf_reset(&h->scratch);
	jbuf_puts(&h->scratch, "GET ");
	url_redact(&h->params, url, &h->scratch);
	jbuf_free(&sent);
	jbuf_puts(&h->scratch, " -> ");
	jbuf_puts(&h->scratch, what);
	secrets_mask(h->secrets, h->scratch.p, h->scratch.len, 0, &masked);
	h->o.trace(h->o.trace_arg, jbuf_cstr(&masked));
	jbuf_free(&masked);
}

void
http_trace(struct http *h, const char *url, const char *what)
{
	trace(h, url, !at_origin(h, url), what);
}

/*
 * The first bytes of an error body, on one line, for a message: masked
 * before it is cut, so that the cut leaves no part of a secret.
 */
static void
excerpt(const struct http *h, const struct xfer *x, char *out, size_t size)
{
	struct jbuf masked = JBUF_INIT;
	size_t i, n = x->body.len < EXCERPT_BYTES ? x->body.len : EXCERPT_BYTES;

	/* Its start is enough for the bytes shown, and bounds the work. */
	secrets_mask(h->secrets, x->body.p, n, x->body_cut || n < x->body.len,
	    &masked);
	n = masked.len < size - 1 ? masked.len : size - 1;
	if (n > 0)
		memcpy(out, masked.p, n);
	jbuf_free(&masked);
	for (i = 0; i < n; i++)
		if (out[i] == '\n' || out[i] == '\r' || out[i] == '\t')
			out[i] = ' ';
	while (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * n, skip = 0;
	long status = 0;

	x->h->bytes += len;
	if (x->sink != NULL) {
		if (!x->ssh)
			(void)curl_easy_getinfo(x->easy,
			    CURLINFO_RESPONSE_CODE, &status);
		if (!x->ssh && (status < 200 || status >= 300)) {
			/* An error page: keep its start for the message. */
			if (x->body.len < EXCERPT_BYTES)
				jbuf_put(&x->body, p, len < EXCERPT_BYTES -
				    x->body.len ? len : EXCERPT_BYTES - x->body.len);
			if (x->body.len >= EXCERPT_BYTES)
				x->body_cut = 1;
			return len;
		}
		/* A retry sends the body again: skip what the sink took. */
		if (x->pos < x->taken)
			skip = x->taken - x->pos < len ? (size_t)(x->taken -
			    x->pos) : len;
		x->pos += len;
		if (len > skip) {
			if (x->sink(x->sink_arg, p + skip, len - skip) == -1) {
				x->stopped = 1;
				return 0;
			}
			x->taken += len - skip;
		}
		return len;
	}
	/* A file where a page was asked for: its headers are enough. */
	if (x->ctype[0] != '\0') {
		(void)curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
		if (status >= 200 && status < 300) {
			x->stopped = 1;
			return 0;
		}
	}
	/* Memory stays bounded: a body past the limit ends the transfer. */
	if (x->h->o.max_body > 0 && x->body.len + len > x->h->o.max_body) {
		x->too_long = 1;
		return 0;
	}
	jbuf_put(&x->body, p, len);
	return len;
}

static void
retry_after(struct xfer *x, const char *v, const char *end)
{
	char tmp[64];
	size_t k;
	time_t when;
	struct tm tm;

	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	k = (size_t)(end - v) < sizeof(tmp) - 1 ? (size_t)(end - v) :
	    sizeof(tmp) - 1;
	memcpy(tmp, v, k);
	tmp[k] = '\0';
	tmp[strcspn(tmp, "\r\n")] = '\0';
	if (tmp[0] >= '0' && tmp[0] <= '9')
		x->retry_after = strtod(tmp, NULL);
	else {
		/* An HTTP-date: Sun, 06 Nov 1994 08:49:37 GMT. */
		memset(&tm, 0, sizeof(tm));
		if (strptime(tmp, "%a, %d %b %Y %H:%M:%S GMT", &tm) != NULL &&
		    (when = timegm(&tm)) != (time_t)-1)
			x->retry_after = difftime(when, time(NULL));
	}
}

/* A Content-Type that names a file goes into x->ctype, lower-cased. */
static void
content_type(struct xfer *x, const char *v, const char *end)
{
	size_t i, n;

	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	for (n = 0; v + n < end && v[n] != ';' && v[n] != ' ' && v[n] != '\r' &&
	    v[n] != '\n' && n < sizeof(x->ctype) - 1; n++)
		x->ctype[n] = (char)tolower((unsigned char)v[n]);
	x->ctype[n] = '\0';
	for (i = 0; i < sizeof(file_types) / sizeof(file_types[0]); i++)
		if (strcmp(x->ctype, file_types[i]) == 0)
			return;
	x->ctype[0] = '\0';
}

/* The Link header's rel="next", and Retry-After. */
static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * n;
	const char *v, *end = p + len;

	if (len > 12 && strncasecmp(p, "retry-after:", 12) == 0)
		retry_after(x, p + 12, end);
	else if (x->probe && len > 13 && strncasecmp(p, "content-type:", 13) == 0)
		content_type(x, p + 13, end);
	else if (len > 5 && strncasecmp(p, "link:", 5) == 0) {
		/* <url>; rel="next", <url>; rel="last" */
		for (v = p + 5; v < end; ) {
			const char *lt = memchr(v, '<', (size_t)(end - v)), *gt, *stop;

			if (lt == NULL || (gt = memchr(lt, '>', (size_t)(end - lt))) == NULL)
				break;
			stop = memchr(gt, ',', (size_t)(end - gt));
			if (stop == NULL)
				stop = end;
			jbuf_reset(&x->scratch);
			jbuf_put(&x->scratch, gt, (size_t)(stop - gt));
			if (strstr(jbuf_cstr(&x->scratch), "rel=\"next\"") != NULL ||
			    strstr(x->scratch.p, "rel=next") != NULL ||
			    strstr(x->scratch.p, " next") != NULL) {
				jbuf_reset(&x->link);
				jbuf_put(&x->link, lt + 1, (size_t)(gt - lt - 1));
			}
			v = stop + 1;
		}
	}
	return len;
}

/* -v: once a request, that it goes without credentials, and why. */
static void
withheld(struct http *h, struct xfer *x)
{
	struct jbuf what = JBUF_INIT, other = JBUF_INIT;

	if (x->told || !credentials(h))
		return;
	x->told = 1;
	jbuf_puts(&what, "sent without credentials: its origin ");
	if (url_origin(x->at, &other) == 0)
		jbuf_put(&what, other.p, other.len);
	else
		jbuf_puts(&what, "(none)");
	jbuf_puts(&what, " is not ");
	jbuf_puts(&what, h->origin.len > 0 ? jbuf_cstr(&h->origin) : "(none)");
	trace(h, x->at, 1, jbuf_cstr(&what));
	jbuf_free(&what);
	jbuf_free(&other);
}

/*
 * The URL an attempt asks for, into out.  Never its user information:
 * credentials go by the options, to the origin only.  At the origin, the
 * key parameter once (even when the server echoed it into a next URL);
 * elsewhere, no parameter that carries a known secret.
 */
static void
request_url(struct http *h, const struct xfer *x, struct jbuf *out)
{
	const char *url;

	url_drop_userinfo(x->at, &h->scratch);
	url = h->scratch.p;
	if (!x->foreign && h->o.key_param != NULL) {
		struct jbuf without = JBUF_INIT;

		url_drop_param(url, h->o.key_param, &without);
		url_add_param(without.p, h->o.key_param, h->o.key_value, out);
		jbuf_free(&without);
	} else if (x->foreign && h->secrets != NULL)
		url_drop_known(h->secrets, url, out);
	else {
		jbuf_reset(out);
		jbuf_puts(out, url);
	}
	(void)jbuf_cstr(out);
}

/*
 * The server's host key against known_hosts: only a key found there for
 * this host and port is accepted (OpenSSH's StrictHostKeyChecking).
 */
static int
on_hostkey(CURL *easy, const struct curl_khkey *known,
    const struct curl_khkey *found, enum curl_khmatch match, void *arg)
{
	struct xfer *x = arg;

	(void)easy;
	(void)known;
	(void)found;
	x->hostkey = (int)match;
	return match == CURLKHMATCH_OK ? CURLKHSTAT_FINE : CURLKHSTAT_REJECT;
}

/*
 * An attempt over SSH: the key, agent and password, the host key check,
 * and an SFTP retry that resumes after the bytes the sink took (SCP
 * cannot: its retry skips them as an HTTP one does).
 */
static void
ssh_options(struct http *h, struct xfer *x)
{
	CURL *c = x->easy;
	long auth = CURLSSH_AUTH_PUBLICKEY | CURLSSH_AUTH_AGENT;

	(void)curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "sftp,scp");
	/*
	 * libcurl asks libssh2 for a buffer at a time: curl(1)'s 100 KB,
	 * not the library's 16 KB, keeps SFTP reads in flight as curl does.
	 */
	(void)curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 102400L);
	if (h->o.ssh_key != NULL) {
		(void)curl_easy_setopt(c, CURLOPT_SSH_PRIVATE_KEYFILE,
		    h->o.ssh_key);
		/* "": libssh2 derives the public key from the private one. */
		(void)curl_easy_setopt(c, CURLOPT_SSH_PUBLIC_KEYFILE,
		    h->ssh_pubkey != NULL ? h->ssh_pubkey : "");
	}
	if (h->o.ssh_passphrase != NULL)
		(void)curl_easy_setopt(c, CURLOPT_KEYPASSWD,
		    h->o.ssh_passphrase);
	if (h->url_user == NULL && h->o.ssh_user != NULL)
		(void)curl_easy_setopt(c, CURLOPT_USERNAME, h->o.ssh_user);
	if (h->o.ssh_password != NULL) {
		auth |= CURLSSH_AUTH_PASSWORD | CURLSSH_AUTH_KEYBOARD;
		(void)curl_easy_setopt(c, CURLOPT_PASSWORD, h->o.ssh_password);
	}
	(void)curl_easy_setopt(c, CURLOPT_SSH_AUTH_TYPES, auth);
	x->hostkey = -1;
	if (!h->o.insecure) {
		(void)curl_easy_setopt(c, CURLOPT_SSH_KNOWNHOSTS,
		    h->o.known_hosts != NULL ? h->o.known_hosts : "");
		(void)curl_easy_setopt(c, CURLOPT_SSH_KEYFUNCTION, on_hostkey);
		(void)curl_easy_setopt(c, CURLOPT_SSH_KEYDATA, x);
	}
	if (x->listing)
		(void)curl_easy_setopt(c, CURLOPT_DIRLISTONLY, 1L);
	if (x->stat) {
		(void)curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
		(void)curl_easy_setopt(c, CURLOPT_FILETIME, 1L);
	}
	if (x->ssh == SSH_SFTP && x->taken > 0) {
		(void)curl_easy_setopt(c, CURLOPT_RESUME_FROM_LARGE,
		    (curl_off_t)x->taken);
		x->pos = x->taken;
	}
}

/* Begin an attempt: every option anew, the body emptied. */
static void
start(struct http *h, struct xfer *x)
{
	CURL *c = x->easy;

	jbuf_reset(&x->body);
	x->body_cut = 0;
	jbuf_reset(&x->link);
	x->retry_after = -1;
	x->too_long = 0;
	x->ctype[0] = '\0';
	x->pos = 0;
	x->errbuf[0] = '\0';
	curl_easy_reset(c);
	if (x->foreign)
		withheld(h, x);
	request_url(h, x, &x->scratch);
	(void)curl_easy_setopt(c, CURLOPT_URL, x->scratch.p);
	(void)curl_easy_setopt(c, CURLOPT_PRIVATE, x);
	(void)curl_easy_setopt(c, CURLOPT_USERAGENT, USER_AGENT);
	(void)curl_easy_setopt(c, CURLOPT_HTTPHEADER, x->foreign ?
	    h->public_headers : h->headers);
	(void)curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	/* Redirects are followed here, to keep secrets off other hosts. */
	(void)curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	if (x->sink != NULL) {
		/* A long download is fine while bytes keep coming. */
		(void)curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
		(void)curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, h->o.timeout);
	} else
		(void)curl_easy_setopt(c, CURLOPT_TIMEOUT, h->o.timeout);
	(void)curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, h->o.connect_timeout);
	(void)curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	(void)curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	(void)curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
	(void)curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	(void)curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
	(void)curl_easy_setopt(c, CURLOPT_ERRORBUFFER, x->errbuf);
	(void)curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	if (h->o.insecure) {
		(void)curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		(void)curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (!x->foreign && h->o.user != NULL) {
		(void)curl_easy_setopt(c, CURLOPT_USERNAME, h->o.user);
		(void)curl_easy_setopt(c, CURLOPT_PASSWORD, h->o.password);
	} else if (!x->foreign && h->url_user != NULL) {
		(void)curl_easy_setopt(c, CURLOPT_USERNAME, h->url_user);
		(void)curl_easy_setopt(c, CURLOPT_PASSWORD, h->url_password);
	}
	/* After the URL's credentials: a --ssh-password-env password wins. */
	if (x->ssh)
		ssh_options(h, x);
	h->requests++;
	x->started = h->last_start = now_ms();
	x->running = 1;
	(void)curl_multi_add_handle(h->multi, c);
}

/*
 * Start the requests that are due, in the order they were added, --rate
 * spacing them.  The ms until the next one is due, or -1 if none waits.
 */
static long
start_due(struct http *h)
{
	struct xfer *x;
	long now = now_ms(), due, wait = -1;

	for (x = h->active; x != NULL; x = x->next) {
		if (x->running)
			continue;
		due = x->not_before;
		if (h->o.rate > 0 && h->requests > 0 &&
		    due < h->last_start + (long)(1000.0 / h->o.rate))
			due = h->last_start + (long)(1000.0 / h->o.rate);
		if (due <= now) {
			start(h, x);
			now = now_ms();
		} else if (wait == -1 || due - now < wait)
			wait = due - now;
	}
	return wait;
}

/* The request is over: off the active list, onto the done one. */
static void
retire(struct http *h, struct xfer *x)
{
	struct xfer **pp, **tail;

	for (pp = &h->active; *pp != NULL && *pp != x; pp = &(*pp)->next)
		;
	if (*pp == x)
		*pp = x->next;
	x->next = NULL;
	for (tail = &h->done; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = x;
}

/* The request failed for good: x->err says why. */
static void
give_up(struct http *h, struct xfer *x)
{
	x->failed = 1;
	retire(h, x);
}

/* x->err: why the request failed, as verdict v says. */
static void
fail_message(struct http *h, struct xfer *x, const struct http_verdict *v,
    const char *shown, const char *what)
{
	char first[201];

	switch (v->why) {
	case HTTP_FAIL_TOO_LONG:
		set_err(h, &x->err, v->code, "%s: body longer than %zu bytes",
		    shown, h->o.max_body);
		break;
	case HTTP_FAIL_SHORTER:
		set_err(h, &x->err, v->code, "%s: the body is shorter than on "
		    "an earlier attempt (%llu of %llu bytes)", shown, x->pos,
		    x->taken);
		break;
	case HTTP_FAIL_REDIRECTS:
		set_err(h, &x->err, v->code, "%s: more than %d redirects",
		    shown, MAX_REDIRECTS);
		break;
	case HTTP_FAIL_REFUSED:
		excerpt(h, x, first, sizeof(first));
		set_err(h, &x->err, v->code, "%s: HTTP %ld: %s", shown,
		    x->status, first);
		break;
	case HTTP_FAIL_STATUS:
		set_err(h, &x->err, v->code, "%s: HTTP %ld", shown, x->status);
		break;
	case HTTP_FAIL_TRANSPORT:
		set_err(h, &x->err, v->code, "%s: %s", shown, what);
		break;
	case HTTP_FAIL_SPENT:
		excerpt(h, x, first, sizeof(first));
		if (x->result == CURLE_OK)
			set_err(h, &x->err, v->code, "%s: HTTP %ld after %lu "
			    "attempt%s: %s", shown, x->status, x->attempt,
			    x->attempt == 1 ? "" : "s", first);
		else
			set_err(h, &x->err, v->code, "%s: %s after %lu "
			    "attempt%s", shown, what, x->attempt,
			    x->attempt == 1 ? "" : "s");
		break;
	case HTTP_FAIL_NONE:
		break;
	}
}

/* How x's attempt ended, for http_classify; location: a 3xx said where. */
static void
ending_of(const struct xfer *x, int location, struct http_ending *a)
{
	memset(a, 0, sizeof(*a));
	a->curl_code = x->result;
	a->status = x->status;
	a->no_status = x->ssh;
	a->retry_after = x->retry_after;
	a->location = location;
	a->redirects = x->redirects;
	a->attempt = x->attempt;
	a->stopped = x->stopped;
	a->too_long = x->too_long;
	a->streamed = x->sink != NULL;
	a->pos = x->pos;
	a->taken = x->taken;
	a->jitter = jitter();
}

/*
 * What an SSH failure means, in words a user of ssh(1) knows, into what;
 * 0 when libcurl's own words will do.
 */
static int
ssh_failure(const struct http *h, const struct xfer *x, CURLcode cc,
    char *what, size_t size)
{
	const char *known = h->o.known_hosts != NULL ? h->o.known_hosts :
	    "known_hosts";

	switch (cc) {
	case CURLE_PEER_FAILED_VERIFICATION:
		if (x->hostkey == CURLKHMATCH_MISMATCH)
			(void)snprintf(what, size, "the host key does not match "
			    "the one in %s: the connection may be intercepted",
			    known);
		else
			(void)snprintf(what, size, "the host key is not in %s",
			    known);
		return 1;
	case CURLE_LOGIN_DENIED:
		(void)snprintf(what, size, "authentication refused (%s%s)",
		    h->o.ssh_key != NULL ? "key, agent" : "agent",
		    h->o.ssh_password != NULL ? ", password" : "");
		return 1;
	case CURLE_REMOTE_FILE_NOT_FOUND:
		(void)snprintf(what, size, "no such file");
		return 1;
	case CURLE_REMOTE_ACCESS_DENIED:
		(void)snprintf(what, size, "permission denied");
		return 1;
	default:
		return 0;
	}
}

/* How the attempt ended, for -v and messages: "200 (12 ms)", an error. */
static void
outcome(const struct http *h, const struct xfer *x, CURLcode cc, char *what,
    size_t size)
{
	if (x->ssh && ssh_failure(h, x, cc, what, size))
		return;
	if (cc != CURLE_OK)
		(void)snprintf(what, size, "%s (%ld ms)",
		    x->errbuf[0] ? x->errbuf : curl_easy_strerror(cc), x->ms);
	else
		(void)snprintf(what, size, "%ld (%ld ms)", x->status, x->ms);
}

/*
 * An attempt ended: classify how (http_classify), then act once: take it,
 * follow a redirect, retry, or fail.
 */
static void
ended(struct http *h, struct xfer *x, CURLcode cc)
{
	struct http_ending a;
	struct http_verdict v;
	struct jbuf shown = JBUF_INIT;
	char what[CURL_ERROR_SIZE + 64];
	const char *loc = NULL;
	long status = 0;

	(void)curl_multi_remove_handle(h->multi, x->easy);
	x->running = 0;
	x->ms = now_ms() - x->started;
	/* Also when a sink stopped the body: the status had come. */
	(void)curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	x->status = status;
	x->result = cc;
	if (cc != CURLE_OK || status < 300 || status >= 400 ||
	    curl_easy_getinfo(x->easy, CURLINFO_REDIRECT_URL, &loc) != CURLE_OK)
		loc = NULL;
	ending_of(x, loc != NULL, &a);
	v = http_classify(&a, h->o.retries, h->o.backoff_base);
	outcome(h, x, cc, what, sizeof(what));
	/*
	 * -v: every attempt not taken, but for a body refused as too long
	 * or shorter than before; a good response is traced by the caller,
	 * with its records.
	 */
	if (v.action != HTTP_TAKE && v.why != HTTP_FAIL_TOO_LONG &&
	    v.why != HTTP_FAIL_SHORTER)
		trace(h, x->at, x->foreign, what);
	switch (v.action) {
	case HTTP_TAKE:
		retire(h, x);
		break;
	case HTTP_REDIRECT:
		if (loc == NULL)	/* never: a.location said there was one */
			break;
		x->redirects++;
		/* Credentials stay with their origin, the way back included. */
		if (!at_origin(h, loc))
			x->foreign = 1;
		free(x->at);
		x->at = xalloc_memdup(loc, strlen(loc));
		x->not_before = 0;
		break;
	case HTTP_RETRY:
		h->retries++;
		x->attempt++;
		x->not_before = now_ms() + (long)(v.wait * 1000.0);
		break;
	case HTTP_FAIL:
		url_redact(&h->params, x->url, &shown);
		fail_message(h, x, &v, jbuf_cstr(&shown), what);
		give_up(h, x);
		break;
	}
	jbuf_free(&shown);
}

static struct xfer *
add(struct http *h, const char *url, size_t tag)
{
	struct xfer *x, **tail;

	x = xalloc_realloc(NULL, 1, sizeof(*x));
	memset(x, 0, sizeof(*x));
	/* libcurl's global init is done: only memory can be lacking. */
	if ((x->easy = curl_easy_init()) == NULL)
		xalloc_die();
	x->h = h;
	x->url = xalloc_memdup(url, strlen(url));
	x->at = xalloc_memdup(url, strlen(url));
	x->tag = tag;
	x->attempt = 1;
	x->probe = h->probe;
	x->ssh = url_has_scheme(url, "sftp") ? SSH_SFTP :
	    url_has_scheme(url, "scp") ? SSH_SCP : SSH_NONE;
	if (!h->have_origin)
		set_origin(h, url);
	x->foreign = !at_origin(h, url);
	for (tail = &h->active; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = x;
	return x;
}

void
http_add(struct http *h, const char *url, size_t tag)
{
	(void)add(h, url, tag);
}

/* The next request that is over, or NULL when none is left. */
static struct xfer *
wait_one(struct http *h)
{
	struct xfer *x;
	CURLMsg *m;
	CURLcode cc;
	CURL *easy;
	long wait;
	int still, left;

	while (h->done == NULL && h->active != NULL) {
		(void)start_due(h);
		(void)curl_multi_perform(h->multi, &still);
		while ((m = curl_multi_info_read(h->multi, &left)) != NULL) {
			if (m->msg != CURLMSG_DONE)
				continue;
			easy = m->easy_handle;
			cc = m->data.result;
			x = NULL;
			(void)curl_easy_getinfo(easy, CURLINFO_PRIVATE, &x);
			if (x != NULL)
				ended(h, x, cc);
		}
		if (h->done != NULL)
			break;
		if ((wait = start_due(h)) == 0)
			continue;	/* a redirect or a retry is due now */
		if (wait < 0 || wait > 1000)
			wait = 1000;
		(void)curl_multi_poll(h->multi, NULL, 0, (int)wait, NULL);
	}
	if ((x = h->done) != NULL)
		h->done = x->next;
	return x;
}

int
http_next(struct http *h, size_t *tag, struct http_response *r,
    struct lib_err *e)
{
	struct xfer *x;
	struct jbuf swap;
	int rc = 1;

	if ((x = wait_one(h)) == NULL)
		return 0;
	*tag = x->tag;
	free(r->next);
	free(r->file_type);
	r->next = r->file_type = NULL;
	if (!x->failed && x->ctype[0] != '\0')
		r->file_type = xalloc_memdup(x->ctype, strlen(x->ctype));
	r->status = x->status;
	r->attempts = x->attempt;
	r->ms = x->ms;
	r->mtime = -1;
	if (!x->failed && x->stat) {
		curl_off_t t = -1;

		(void)curl_easy_getinfo(x->easy, CURLINFO_FILETIME_T, &t);
		r->mtime = (long long)t;
	}
	if (x->failed) {
		*e = x->err;
		rc = -1;
	} else {
		swap = r->body;
		r->body = x->body;
		x->body = swap;
		jbuf_reset(&x->body);
		if (x->link.len > 0)
			r->next = xalloc_memdup(x->link.p, x->link.len);
	}
	xfer_free(x);
	return rc;
}

int
http_get(struct http *h, const char *url, struct http_response *r,
    struct lib_err *e)
{
	size_t tag;

	http_add(h, url, 0);
	return http_next(h, &tag, r, e) == 1 ? 0 : -1;
}

int
http_list(struct http *h, const char *url, struct http_response *r,
    struct lib_err *e)
{
	struct xfer *x = add(h, url, 0);
	size_t tag;

	x->listing = 1;
	return http_next(h, &tag, r, e) == 1 ? 0 : -1;
}

int
http_mtime(struct http *h, const char *url, long long *mtime,
    struct lib_err *e)
{
	struct xfer *x = add(h, url, 0);
	struct http_response r;
	size_t tag;
	int rc;

	x->stat = 1;
	memset(&r, 0, sizeof(r));
	rc = http_next(h, &tag, &r, e) == 1 ? 0 : -1;
	*mtime = r.mtime;
	http_response_free(&r);
	return rc;
}

int
http_stream(struct http *h, const char *url, http_sink_fn sink, void *arg,
    struct lib_err *e)
{
	struct xfer *x = add(h, url, 0);
	struct http_response r;
	char what[96], status[24];
	size_t tag;
	int rc, no_status = x->ssh != SSH_NONE;

	x->sink = sink;
	x->sink_arg = arg;
	memset(&r, 0, sizeof(r));
	rc = http_next(h, &tag, &r, e);
	if (rc == 1) {
		/* SFTP and SCP have no status: "ok", the file came whole. */
		if (no_status)
			(void)snprintf(status, sizeof(status), "ok");
		else
			(void)snprintf(status, sizeof(status), "%ld", r.status);
		(void)snprintf(what, sizeof(what), "%s (%llu bytes, %ld ms)",
		    status, h->bytes, r.ms);
		http_trace(h, url, what);
	}
	http_response_free(&r);
	return rc == 1 ? 0 : -1;
}
