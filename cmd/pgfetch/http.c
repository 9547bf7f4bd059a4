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

#include <curl/curl.h>

#include "exitcodes.h"
#include "http.h"
#include "xalloc.h"

#define BACKOFF_CAP	30.0
#define MAX_REDIRECTS	10
#define EXCERPT_BYTES	4096	/* of an error body, when the body streams */
#define USER_AGENT	"sluice-pgfetch/" SLUICE_VERSION

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
	struct jbuf	 origin;	/* scheme://host:port, lower case */
	struct jbuf	 there;		/* another URL's, to compare */
	int		 have_origin;
	char		*url_user;	/* the origin URL's user information */
	char		*url_password;
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

static const char *const secret_names[] = {
	"token", "key", "api_key", "apikey", "access_token", "password",
	"secret", "signature", "client_secret", "auth"
};

/*
 * url's origin, "scheme://host:port" in lower case with the port always
 * given, into out; -1 if url is not one curl can parse.
 */
static int
origin_of(const char *url, struct jbuf *out)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL;
	size_t i;
	int rc = -1;

	if (u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) ==
	    CURLUE_OK) {
		jbuf_reset(out);
		jbuf_puts(out, scheme);
		jbuf_puts(out, "://");
		jbuf_puts(out, host);
		jbuf_putc(out, ':');
		jbuf_puts(out, port);
		for (i = 0; i < out->len; i++)
			out->p[i] = (char)tolower((unsigned char)out->p[i]);
		(void)jbuf_cstr(out);
		rc = 0;
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return rc;
}

int
http_same_origin(const char *a, const char *b)
{
	struct jbuf oa = JBUF_INIT, ob = JBUF_INIT;
	int same;

	same = origin_of(a, &oa) == 0 && origin_of(b, &ob) == 0 &&
	    oa.len == ob.len && memcmp(oa.p, ob.p, oa.len) == 0;
	jbuf_free(&oa);
	jbuf_free(&ob);
	return same;
}

/* The user information of url, decoded, into *user and *password. */
static void
userinfo(const char *url, char **user, char **password)
{
	CURLU *u = curl_url();

	*user = *password = NULL;
	if (u == NULL || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_USER, user, CURLU_URLDECODE) !=
	    CURLUE_OK)
		*user = NULL;
	if (*user != NULL && curl_url_get(u, CURLUPART_PASSWORD, password,
	    CURLU_URLDECODE) != CURLUE_OK)
		*password = NULL;
	curl_url_cleanup(u);
}

/* The credentials go to url's origin, its user information with them. */
static void
set_origin(struct http *h, const char *url)
{
	char *user, *password;

	h->have_origin = 1;
	if (origin_of(url, &h->origin) == -1)
		jbuf_reset(&h->origin);	/* no URL is at it */
	userinfo(url, &user, &password);
	if (user != NULL) {
		h->url_user = xalloc_memdup(user, strlen(user));
		if (password != NULL)
			h->url_password = xalloc_memdup(password, strlen(password));
	}
	curl_free(user);
	curl_free(password);
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
	return h->origin.len > 0 && origin_of(url, &h->there) == 0 &&
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

static int
secret(const struct http_opts *o, const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < sizeof(secret_names) / sizeof(secret_names[0]); i++)
		if (strlen(secret_names[i]) == n &&
		    strncasecmp(secret_names[i], name, n) == 0)
			return 1;
	for (i = 0; o != NULL && i < o->nsecret_params; i++)
		if (strlen(o->secret_params[i]) == n &&
		    strncmp(o->secret_params[i], name, n) == 0)
			return 1;
	if (o != NULL && o->key_param != NULL &&
	    strlen(o->key_param) == n && strncmp(o->key_param, name, n) == 0)
		return 1;
	return 0;
}

enum verdict { KEEP, MASK, DROP };

/*
 * What becomes of a query parameter: its name is n bytes; its value (after
 * the '=') vn bytes at value, or value is NULL when it has no '='.
 */
typedef enum verdict (*judge_fn)(const void *arg, const char *name, size_t n,
    const char *value, size_t vn);

/*
 * The rest of a URL from p (its path, query and fragment) into out, each
 * query parameter kept, its value masked as ***, or dropped as judge says;
 * empty parameters go, and so does a "?" left with none.
 */
static void
filter_query(const char *p, struct jbuf *out, judge_fn judge, const void *arg)
{
	const char *q, *amp, *eq;
	enum verdict v;
	size_t mark;
	int sep = 0;

	if ((q = strchr(p, '?')) == NULL) {
		jbuf_puts(out, p);
		return;
	}
	jbuf_put(out, p, (size_t)(q - p));
	mark = out->len;
	jbuf_putc(out, '?');
	for (p = amp = q + 1; *p != '\0' && *p != '#'; p = amp + (*amp == '&')) {
		amp = p + strcspn(p, "&#");
		if (amp == p)
			continue;
		eq = memchr(p, '=', (size_t)(amp - p));
		v = judge(arg, p, (size_t)((eq != NULL ? eq : amp) - p),
		    eq != NULL ? eq + 1 : NULL, eq != NULL ? (size_t)(amp - eq -
		    1) : 0);
		if (v == DROP)
			continue;
		if (sep++)
			jbuf_putc(out, '&');
		if (v == MASK) {
			jbuf_put(out, p, (size_t)(eq - p) + 1);
			jbuf_puts(out, SECRETS_MASK);
		} else
			jbuf_put(out, p, (size_t)(amp - p));
	}
	if (sep == 0)
		out->len = mark;	/* no parameter left: no "?" either */
	jbuf_puts(out, amp);
}

struct judged {
	const struct http_opts *o;
	enum verdict	 verdict;	/* for a secret's value */
	struct secrets	*collect;	/* not NULL: the secret values go here */
};

static enum verdict
judge_secret(const void *arg, const char *name, size_t n, const char *value,
    size_t vn)
{
	const struct judged *j = arg;
	char *plain;
	int len = 0;

	if (value == NULL || !secret(j->o, name, n))
		return KEEP;
	if (j->collect != NULL) {
		/* As it is in the URL, and as it is sent. */
		secrets_add(j->collect, value, vn);
		if ((plain = curl_easy_unescape(NULL, value, (int)vn, &len)) !=
		    NULL)
			secrets_add(j->collect, plain, (size_t)len);
		curl_free(plain);
	}
	return j->verdict;
}

static enum verdict
judge_name(const void *arg, const char *name, size_t n, const char *value,
    size_t vn)
{
	(void)value;
	(void)vn;
	return strlen(arg) == n && strncmp(arg, name, n) == 0 ? DROP : KEEP;
}

/* A parameter that carries a known secret goes. */
static enum verdict
judge_known(const void *arg, const char *name, size_t n, const char *value,
    size_t vn)
{
	const struct secrets *known = arg;
	char *plain;
	int len = 0, in;

	(void)name;
	(void)n;
	if (value == NULL)
		return KEEP;
	in = secrets_in(known, value, vn);
	if (!in && (plain = curl_easy_unescape(NULL, value, (int)vn, &len)) !=
	    NULL) {
		in = secrets_in(known, plain, (size_t)len);
		curl_free(plain);
	}
	return in ? DROP : KEEP;
}

/*
 * The user information of url: where it begins (after "://") and how long
 * it is, its '@' included; 0 when it has none.
 */
static size_t
userinfo_at(const char *url, size_t *at)
{
	const char *auth = strstr(url, "://"), *slash, *sign;

	if (auth == NULL)
		return 0;
	auth += 3;
	slash = auth + strcspn(auth, "/?#");
	if ((sign = memchr(auth, '@', (size_t)(slash - auth))) == NULL)
		return 0;
	*at = (size_t)(auth - url);
	return (size_t)(sign - auth) + 1;
}

/*
 * url into out without its secrets: user information and the values of
 * secret parameters become *** (MASK), or go (DROP).
 */
static void
scrub(const struct http_opts *o, const char *url, struct jbuf *out,
    enum verdict verdict)
{
	const struct judged j = { o, verdict, NULL };
	size_t at = 0, n = userinfo_at(url, &at);

	if (n > 0) {
		jbuf_put(out, url, at);
		if (verdict == MASK)
			jbuf_puts(out, SECRETS_MASK "@");
		url += at + n;
	}
	filter_query(url, out, judge_secret, &j);
}

void
http_redact(const struct http *h, const char *url, struct jbuf *out)
{
	scrub(h != NULL ? &h->o : NULL, url, out, MASK);
}

void
http_strip(const struct http *h, const char *url, struct jbuf *out)
{
	scrub(h != NULL ? &h->o : NULL, url, out, DROP);
}

void
http_secrets(const struct http_opts *o, const char *url, struct secrets *s)
{
	const struct judged j = { o, KEEP, s };
	struct jbuf ignored = JBUF_INIT;
	char *user, *password;
	size_t i;

	for (i = 0; i < o->nsecret_headers; i++)
		secrets_add_header(s, o->secret_headers[i]);
	if (o->user != NULL && o->password != NULL)
		secrets_add_basic(s, o->user, strlen(o->user), o->password,
		    strlen(o->password));
	if (o->key_value != NULL)
		secrets_add(s, o->key_value, strlen(o->key_value));
	if (url == NULL)
		return;
	userinfo(url, &user, &password);
	if (user != NULL) {
		/* A token may stand where the user name does. */
		if (password == NULL || *password == '\0')
			secrets_add(s, user, strlen(user));
		secrets_add_basic(s, user, strlen(user), password != NULL ?
		    password : "", password != NULL ? strlen(password) : 0);
	}
	curl_free(user);
	curl_free(password);
	filter_query(url, &ignored, judge_secret, &j);
	jbuf_free(&ignored);
}

int
http_secret_header(const char *h)
{
	static const char *const words[] = {
		"authorization", "cookie", "key", "token", "secret", "auth"
	};
	char name[128];
	size_t i, n = strcspn(h, ":");

	if (n >= sizeof(name))
		return 1;
	for (i = 0; i < n; i++)
		name[i] = (char)tolower((unsigned char)h[i]);
	name[n] = '\0';
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strstr(name, words[i]) != NULL)
			return 1;
	return 0;
}

void
http_drop_param(const char *url, const char *name, struct jbuf *out)
{
	jbuf_reset(out);
	filter_query(url, out, judge_name, name);
	(void)jbuf_cstr(out);
}

void
http_add_param(const char *base, const char *name, const char *value,
    struct jbuf *out)
{
	char *n, *v;

	jbuf_reset(out);
	jbuf_puts(out, base);
	jbuf_putc(out, strchr(base, '?') != NULL ? '&' : '?');
	n = curl_easy_escape(NULL, name, 0);
	v = curl_easy_escape(NULL, value, 0);
	jbuf_puts(out, n != NULL ? n : "");
	jbuf_putc(out, '=');
	jbuf_puts(out, v != NULL ? v : "");
	curl_free(n);
	curl_free(v);
}

int
http_resolve(const char *base, const char *ref, struct jbuf *out)
{
	CURLU *u;
	char *s = NULL;
	int rc = -1;

	if ((u = curl_url()) == NULL)
		return -1;
	if (curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_URL, ref, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_URL, &s, 0) == CURLUE_OK) {
		jbuf_reset(out);
		jbuf_puts(out, s);
		rc = 0;
	}
	curl_free(s);
	curl_url_cleanup(u);
	return rc;
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
		*code = EX_NOPERM;
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
	} else if (ok && a->status >= 200 && a->status < 300) {
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
		http_add_param(url, h->o.key_param, "", &sent);
		url = jbuf_cstr(&sent);
	}
	jbuf_reset(&h->scratch);
	jbuf_puts(&h->scratch, "GET ");
	http_redact(h, url, &h->scratch);
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
		(void)curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
		if (status < 200 || status >= 300) {
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
	if (origin_of(x->at, &other) == 0)
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
	const char *url = x->at;
	size_t at = 0, n = userinfo_at(url, &at);

	jbuf_reset(&h->scratch);
	jbuf_put(&h->scratch, url, at);
	jbuf_puts(&h->scratch, url + at + n);
	url = jbuf_cstr(&h->scratch);
	jbuf_reset(out);
	if (!x->foreign && h->o.key_param != NULL) {
		struct jbuf without = JBUF_INIT;

		http_drop_param(url, h->o.key_param, &without);
		http_add_param(without.p, h->o.key_param, h->o.key_value, out);
		jbuf_free(&without);
	} else if (x->foreign && h->secrets != NULL)
		filter_query(url, out, judge_known, h->secrets);
	else
		jbuf_puts(out, url);
	(void)jbuf_cstr(out);
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
	if (cc != CURLE_OK)
		(void)snprintf(what, sizeof(what), "%s (%ld ms)",
		    x->errbuf[0] ? x->errbuf : curl_easy_strerror(cc), x->ms);
	else
		(void)snprintf(what, sizeof(what), "%ld (%ld ms)", status, x->ms);
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
		http_redact(h, x->url, &shown);
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
http_stream(struct http *h, const char *url, http_sink_fn sink, void *arg,
    struct lib_err *e)
{
	struct xfer *x = add(h, url, 0);
	struct http_response r;
	char what[96];
	size_t tag;
	int rc;

	x->sink = sink;
	x->sink_arg = arg;
	memset(&r, 0, sizeof(r));
	rc = http_next(h, &tag, &r, e);
	if (rc == 1) {
		(void)snprintf(what, sizeof(what), "%ld (%llu bytes, %ld ms)",
		    r.status, h->bytes, r.ms);
		http_trace(h, url, what);
	}
	http_response_free(&r);
	return rc == 1 ? 0 : -1;
}
