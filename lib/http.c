#define _DEFAULT_SOURCE		/* timegm(3) */
#define _XOPEN_SOURCE 700	/* strptime(3) */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include <curl/curl.h>

#include "exitcodes.h"
#include "http.h"

#define BACKOFF_CAP	30.0
#define USER_AGENT	"sluice-pgfetch/" SLUICE_VERSION

struct http {
	struct http_opts o;
	CURL		*curl;
	struct curl_slist *headers;
	unsigned long	 requests;
	unsigned long	 retries;
	/* Per attempt, from the header callback. */
	double		 retry_after;	/* seconds, or -1 */
	int		 too_long;	/* the body passed max_body */
	long		 last_start;	/* ms, of the last request, for --rate */
	struct jbuf	 link;
	struct jbuf	*body;
	struct jbuf	 scratch;
};

static const char *const secret_names[] = {
	"token", "key", "api_key", "apikey", "access_token", "password",
	"secret", "signature", "client_secret", "auth"
};

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
	if ((h->curl = curl_easy_init()) == NULL) {
		free(h);
		(void)liberr_set(e, EX_OSERR, "cannot start libcurl");
		return NULL;
	}
	for (i = 0; i < o->nheaders; i++)
		h->headers = curl_slist_append(h->headers, o->headers[i]);
	return h;
}

void
http_free(struct http *h)
{
	if (h == NULL)
		return;
	curl_slist_free_all(h->headers);
	curl_easy_cleanup(h->curl);
	jbuf_free(&h->link);
	jbuf_free(&h->scratch);
	free(h);
	curl_global_cleanup();
}

void
http_response_free(struct http_response *r)
{
	jbuf_free(&r->body);
	free(r->next);
	r->next = NULL;
}

void
http_counts(const struct http *h, unsigned long *requests,
    unsigned long *retries)
{
	*requests = h->requests;
	*retries = h->retries;
}

static int
secret(const struct http *h, const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < sizeof(secret_names) / sizeof(secret_names[0]); i++)
		if (strlen(secret_names[i]) == n &&
		    strncasecmp(secret_names[i], name, n) == 0)
			return 1;
	for (i = 0; h != NULL && i < h->o.nsecret_params; i++)
		if (strlen(h->o.secret_params[i]) == n &&
		    strncmp(h->o.secret_params[i], name, n) == 0)
			return 1;
	return 0;
}

void
http_redact(const struct http *h, const char *url, struct jbuf *out)
{
	const char *p = url, *scheme, *at, *slash, *q, *amp, *eq;

	if ((scheme = strstr(p, "://")) != NULL) {
		scheme += 3;
		jbuf_put(out, p, (size_t)(scheme - p));
		slash = scheme + strcspn(scheme, "/?#");
		at = memchr(scheme, '@', (size_t)(slash - scheme));
		if (at != NULL) {
			jbuf_puts(out, "***");
			scheme = at;
		}
		p = scheme;
	}
	if ((q = strchr(p, '?')) == NULL) {
		jbuf_puts(out, p);
		return;
	}
	jbuf_put(out, p, (size_t)(q - p) + 1);
	for (p = q + 1; *p != '\0'; p = amp + (*amp != '\0')) {
		amp = p + strcspn(p, "&#");
		eq = memchr(p, '=', (size_t)(amp - p));
		if (eq != NULL && secret(h, p, (size_t)(eq - p))) {
			jbuf_put(out, p, (size_t)(eq - p) + 1);
			jbuf_puts(out, "***");
		} else
			jbuf_put(out, p, (size_t)(amp - p));
		if (*amp == '#') {
			jbuf_puts(out, amp);
			return;
		}
		if (*amp == '&')
			jbuf_putc(out, '&');
	}
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

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct http *h = arg;

	/* Memory stays bounded: a body past the limit ends the transfer. */
	if (h->o.max_body > 0 && h->body->len + size * n > h->o.max_body) {
		h->too_long = 1;
		return 0;
	}
	jbuf_put(h->body, p, size * n);
	return size * n;
}

/* The Link header's rel="next", and Retry-After. */
static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct http *h = arg;
	size_t len = size * n;
	const char *v, *end = p + len;

	if (len > 12 && strncasecmp(p, "retry-after:", 12) == 0) {
		char tmp[64];
		size_t k;
		time_t when;
		struct tm tm;

		for (v = p + 12; v < end && (*v == ' ' || *v == '\t'); v++)
			;
		k = (size_t)(end - v) < sizeof(tmp) - 1 ? (size_t)(end - v) :
		    sizeof(tmp) - 1;
		memcpy(tmp, v, k);
		tmp[k] = '\0';
		tmp[strcspn(tmp, "\r\n")] = '\0';
		if (tmp[0] >= '0' && tmp[0] <= '9')
			h->retry_after = strtod(tmp, NULL);
		else {
			/* An HTTP-date: Sun, 06 Nov 1994 08:49:37 GMT. */
			memset(&tm, 0, sizeof(tm));
			if (strptime(tmp, "%a, %d %b %Y %H:%M:%S GMT", &tm) != NULL &&
			    (when = timegm(&tm)) != (time_t)-1)
				h->retry_after = difftime(when, time(NULL));
		}
	} else if (len > 5 && strncasecmp(p, "link:", 5) == 0) {
		/* <url>; rel="next", <url>; rel="last" */
		for (v = p + 5; v < end; ) {
			const char *lt = memchr(v, '<', (size_t)(end - v)), *gt, *stop;

			if (lt == NULL || (gt = memchr(lt, '>', (size_t)(end - lt))) == NULL)
				break;
			stop = memchr(gt, ',', (size_t)(end - gt));
			if (stop == NULL)
				stop = end;
			jbuf_reset(&h->scratch);
			jbuf_put(&h->scratch, gt, (size_t)(stop - gt));
			if (strstr(jbuf_cstr(&h->scratch), "rel=\"next\"") != NULL ||
			    strstr(h->scratch.p, "rel=next") != NULL ||
			    strstr(h->scratch.p, " next") != NULL) {
				jbuf_reset(&h->link);
				jbuf_put(&h->link, lt + 1, (size_t)(gt - lt - 1));
			}
			v = stop + 1;
		}
	}
	return len;
}

static long
now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
pause_for(double seconds)
{
	struct timespec ts;

	if (seconds <= 0)
		return;
	ts.tv_sec = (time_t)seconds;
	ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) == -1)
		;
}

/* Full jitter: anywhere in [0, base * 2^attempt], capped. */
static double
backoff(const struct http *h, unsigned long attempt)
{
	double cap = h->o.backoff_base;
	unsigned int r = 0;
	unsigned long i;

	for (i = 1; i < attempt && cap < BACKOFF_CAP; i++)
		cap *= 2;
	if (cap > BACKOFF_CAP)
		cap = BACKOFF_CAP;
	if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
		r = 0x7fffffff;
	return cap * ((double)r / 4294967295.0);
}

void
http_trace(struct http *h, const char *url, const char *what)
{
	if (h->o.trace == NULL)
		return;
	jbuf_reset(&h->scratch);
	jbuf_puts(&h->scratch, "GET ");
	http_redact(h, url, &h->scratch);
	jbuf_puts(&h->scratch, " -> ");
	jbuf_puts(&h->scratch, what);
	h->o.trace(h->o.trace_arg, jbuf_cstr(&h->scratch));
}

/* The first bytes of a body, on one line, for an error message. */
static void
excerpt(const struct jbuf *body, char *out, size_t size)
{
	size_t i, n = body->len < size - 1 ? body->len : size - 1;

	if (n > 0)
		memcpy(out, body->p, n);
	for (i = 0; i < n; i++)
		if (out[i] == '\n' || out[i] == '\r' || out[i] == '\t')
			out[i] = ' ';
	while (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
}

int
http_get(struct http *h, const char *url, struct http_response *r,
    struct lib_err *e)
{
	char errbuf[CURL_ERROR_SIZE], what[CURL_ERROR_SIZE + 64], first[201];
	struct jbuf shown = JBUF_INIT;
	unsigned long attempt;
	long started;
	CURLcode cc;
	double wait;
	long status;
	int rc = -1;

	free(r->next);
	r->next = NULL;
	http_redact(h, url, &shown);
	for (attempt = 1; ; attempt++) {
		jbuf_reset(&r->body);
		jbuf_reset(&h->link);
		h->retry_after = -1;
		h->too_long = 0;
		h->body = &r->body;
		curl_easy_reset(h->curl);
		(void)curl_easy_setopt(h->curl, CURLOPT_URL, url);
		(void)curl_easy_setopt(h->curl, CURLOPT_USERAGENT, USER_AGENT);
		(void)curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, h->headers);
		(void)curl_easy_setopt(h->curl, CURLOPT_ACCEPT_ENCODING, "");
		(void)curl_easy_setopt(h->curl, CURLOPT_FOLLOWLOCATION, 1L);
		(void)curl_easy_setopt(h->curl, CURLOPT_MAXREDIRS, 10L);
		(void)curl_easy_setopt(h->curl, CURLOPT_TIMEOUT, h->o.timeout);
		(void)curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT,
		    h->o.connect_timeout);
		(void)curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
		(void)curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, on_body);
		(void)curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, h);
		(void)curl_easy_setopt(h->curl, CURLOPT_HEADERFUNCTION, on_header);
		(void)curl_easy_setopt(h->curl, CURLOPT_HEADERDATA, h);
		(void)curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, errbuf);
		(void)curl_easy_setopt(h->curl, CURLOPT_PROTOCOLS_STR, "http,https");
		(void)curl_easy_setopt(h->curl, CURLOPT_REDIR_PROTOCOLS_STR,
		    "http,https");
		if (h->o.insecure) {
			(void)curl_easy_setopt(h->curl, CURLOPT_SSL_VERIFYPEER, 0L);
			(void)curl_easy_setopt(h->curl, CURLOPT_SSL_VERIFYHOST, 0L);
		}
		if (h->o.user != NULL) {
			(void)curl_easy_setopt(h->curl, CURLOPT_USERNAME, h->o.user);
			(void)curl_easy_setopt(h->curl, CURLOPT_PASSWORD,
			    h->o.password);
		}
		errbuf[0] = '\0';
		/* --rate: space the requests, retries included. */
		if (h->o.rate > 0 && h->requests > 0) {
			long gap = (long)(1000.0 / h->o.rate), since = now_ms() -
			    h->last_start;

			if (since < gap)
				pause_for((double)(gap - since) / 1000.0);
		}
		h->requests++;
		started = h->last_start = now_ms();
		cc = curl_easy_perform(h->curl);
		r->ms = now_ms() - started;
		status = 0;
		if (cc == CURLE_OK)
			(void)curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE,
			    &status);
		r->status = status;
		r->attempts = attempt;
		if (cc != CURLE_OK)
			(void)snprintf(what, sizeof(what), "%s (%ld ms)",
			    errbuf[0] ? errbuf : curl_easy_strerror(cc), r->ms);
		else
			(void)snprintf(what, sizeof(what), "%ld (%ld ms)", status,
			    r->ms);
		if (h->too_long) {
			(void)liberr_set(e, EX_DATAERR, "%s: body longer than %zu "
			    "bytes", jbuf_cstr(&shown), h->o.max_body);
			break;
		}
		/* A good response is traced by the caller, with its records. */
		if (cc != CURLE_OK || status < 200 || status >= 300)
			http_trace(h, url, what);
		if (cc == CURLE_OK && status >= 200 && status < 300) {
			if (h->link.len > 0)
				r->next = strdup(jbuf_cstr(&h->link));
			rc = 0;
			break;
		}
		excerpt(&r->body, first, sizeof(first));
		if (cc == CURLE_OK && (status == 401 || status == 403)) {
			(void)liberr_set(e, EX_NOPERM, "%s: HTTP %ld: %s",
			    jbuf_cstr(&shown), status, first);
			break;
		}
		if (cc == CURLE_OK && status >= 400 && status < 500 &&
		    status != 408 && status != 429) {
			(void)liberr_set(e, EX_UNAVAILABLE, "%s: HTTP %ld: %s",
			    jbuf_cstr(&shown), status, first);
			break;
		}
		if (cc == CURLE_OK && status < 400 && status >= 300) {
			(void)liberr_set(e, EX_UNAVAILABLE, "%s: HTTP %ld",
			    jbuf_cstr(&shown), status);
			break;
		}
		if (attempt > (unsigned long)h->o.retries) {
			if (cc == CURLE_OK)
				(void)liberr_set(e, EX_UNAVAILABLE,
				    "%s: HTTP %ld after %lu attempts: %s",
				    jbuf_cstr(&shown), status, attempt, first);
			else
				(void)liberr_set(e, EX_UNAVAILABLE,
				    "%s: %s after %lu attempts", jbuf_cstr(&shown),
				    what, attempt);
			break;
		}
		/* Retry-After, but never less than the base: 0 is not "now". */
		wait = backoff(h, attempt);
		if (h->retry_after >= 0)
			wait = h->retry_after;
		if (wait < h->o.backoff_base)
			wait = h->o.backoff_base;
		if (wait > 3600)
			wait = 3600;
		h->retries++;
		pause_for(wait);
	}
	jbuf_free(&shown);
	return rc;
}
