#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "url.h"
#include "xalloc.h"

static const char *const secret_names[] = {
	"token", "key", "api_key", "apikey", "access_token", "password",
	"secret", "signature", "client_secret", "auth"
};

/* url parsed by CURLU, or NULL if it cannot be. */
static CURLU *
parsed(const char *url)
{
	CURLU *u = curl_url();

	if (u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
		curl_url_cleanup(u);
		u = NULL;
	}
	return u;
}

int
url_origin(const char *url, struct jbuf *out)
{
	CURLU *u = parsed(url);
	char *scheme = NULL, *host = NULL, *port = NULL;
	size_t i;
	int rc = -1;

	if (u != NULL &&
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
url_has_scheme(const char *url, const char *name)
{
	size_t n = strlen(name);

	return strncasecmp(url, name, n) == 0 && strncmp(url + n, "://", 3) == 0;
}

int
url_same_origin(const char *a, const char *b)
{
	struct jbuf oa = JBUF_INIT, ob = JBUF_INIT;
	int same;

	same = url_origin(a, &oa) == 0 && url_origin(b, &ob) == 0 &&
	    oa.len == ob.len && memcmp(oa.p, ob.p, oa.len) == 0;
	jbuf_free(&oa);
	jbuf_free(&ob);
	return same;
}

void
url_userinfo(const char *url, char **user, char **password)
{
	CURLU *u = parsed(url);
	char *cu = NULL, *cp = NULL;

	*user = *password = NULL;
	if (u == NULL || curl_url_get(u, CURLUPART_USER, &cu, CURLU_URLDECODE) !=
	    CURLUE_OK) {
		curl_url_cleanup(u);
		return;
	}
	*user = xalloc_memdup(cu, strlen(cu));
	if (curl_url_get(u, CURLUPART_PASSWORD, &cp, CURLU_URLDECODE) ==
	    CURLUE_OK)
		*password = xalloc_memdup(cp, strlen(cp));
	curl_free(cu);
	curl_free(cp);
	curl_url_cleanup(u);
}

/* 1 if the query parameter name (n bytes) holds a secret, as p says. */
static int
secret(const struct url_secret_params *p, const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < sizeof(secret_names) / sizeof(secret_names[0]); i++)
		if (strlen(secret_names[i]) == n &&
		    strncasecmp(secret_names[i], name, n) == 0)
			return 1;
	for (i = 0; p != NULL && i < p->n; i++)
		if (strlen(p->names[i]) == n &&
		    strncmp(p->names[i], name, n) == 0)
			return 1;
	if (p != NULL && p->key != NULL &&
	    strlen(p->key) == n && strncmp(p->key, name, n) == 0)
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
 * empty parameters go, and so does a "?" left with none (and then the
 * '&'s that ended the query, which would be the path's).  By hand: CURLU
 * gives the query whole, and refuses some URLs this must still show.
 */
static void
filter_query(const char *p, struct jbuf *out, judge_fn judge, const void *arg)
{
	const char *q, *amp, *eq, *fragment;
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
	if (sep == 0) {
		out->len = mark;	/* no parameter left: no "?" either */
		fragment = q + 1 + strcspn(q + 1, "#");
		jbuf_puts(out, fragment);
	} else
		jbuf_puts(out, amp);	/* a last '&' stays, as it was */
}

struct judged {
	const struct url_secret_params *p;
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

	if (value == NULL || !secret(j->p, name, n))
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
 * it is, its '@' included; 0 when it has none.  By hand, to hide it also
 * in a URL CURLU refuses: up to the last '@' of the authority, so that a
 * password with a bare '@' ("u:p@ss@h", which CURLU refuses) is hidden
 * whole.
 */
static size_t
userinfo_at(const char *url, size_t *at)
{
	const char *auth = strstr(url, "://"), *slash, *sign = NULL, *c;

	if (auth == NULL)
		return 0;
	auth += 3;
	slash = auth + strcspn(auth, "/?#");
	for (c = auth; c < slash; c++)
		if (*c == '@')
			sign = c;
	if (sign == NULL)
		return 0;
	*at = (size_t)(auth - url);
	return (size_t)(sign - auth) + 1;
}

/*
 * url into out without its secrets: user information and the values of
 * secret parameters become *** (MASK), or go (DROP).
 */
static void
scrub(const struct url_secret_params *p, const char *url, struct jbuf *out,
    enum verdict verdict)
{
	const struct judged j = { p, verdict, NULL };
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
url_redact(const struct url_secret_params *p, const char *url,
    struct jbuf *out)
{
	scrub(p, url, out, MASK);
}

void
url_strip(const struct url_secret_params *p, const char *url,
    struct jbuf *out)
{
	scrub(p, url, out, DROP);
}

void
url_drop_userinfo(const char *url, struct jbuf *out)
{
	size_t at = 0, n = userinfo_at(url, &at);

	jbuf_reset(out);
	jbuf_put(out, url, at);
	jbuf_puts(out, url + at + n);
	(void)jbuf_cstr(out);
}

void
url_secrets(const struct url_secret_params *p, const char *url,
    struct secrets *s)
{
	const struct judged j = { p, KEEP, s };
	struct jbuf ignored = JBUF_INIT;
	char *user, *password;

	url_userinfo(url, &user, &password);
	if (user != NULL) {
		/* A token may stand where the user name does. */
		if (password == NULL || *password == '\0')
			secrets_add(s, user, strlen(user));
		secrets_add_basic(s, user, strlen(user), password != NULL ?
		    password : "", password != NULL ? strlen(password) : 0);
	}
	free(user);
	free(password);
	filter_query(url, &ignored, judge_secret, &j);
	jbuf_free(&ignored);
}

void
url_drop_param(const char *url, const char *name, struct jbuf *out)
{
	jbuf_reset(out);
	filter_query(url, out, judge_name, name);
	(void)jbuf_cstr(out);
}

void
url_drop_known(const struct secrets *known, const char *url,
    struct jbuf *out)
{
	jbuf_reset(out);
	filter_query(url, out, judge_known, known);
	(void)jbuf_cstr(out);
}

/*
 * By hand, not CURLU_APPENDQUERY: the result keeps base's bytes (see
 * url.h), and the escape is curl_easy_escape's %20 for a space, not
 * CURLU_URLENCODE's "+".  The parameter goes at the end of the query,
 * before a fragment (which is never sent).
 */
void
url_add_param(const char *base, const char *name, const char *value,
    struct jbuf *out)
{
	size_t end = strcspn(base, "#");
	char *n, *v;

	jbuf_reset(out);
	jbuf_put(out, base, end);
	jbuf_putc(out, memchr(base, '?', end) != NULL ? '&' : '?');
	n = curl_easy_escape(NULL, name, 0);
	v = curl_easy_escape(NULL, value, 0);
	jbuf_puts(out, n != NULL ? n : "");
	jbuf_putc(out, '=');
	jbuf_puts(out, v != NULL ? v : "");
	jbuf_puts(out, base + end);
	curl_free(n);
	curl_free(v);
}

int
url_resolve(const char *base, const char *ref, struct jbuf *out)
{
	CURLU *u = parsed(base);
	char *s = NULL;
	int rc = -1;

	/* A handle holding base takes ref relative to it. */
	if (u != NULL && curl_url_set(u, CURLUPART_URL, ref, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_URL, &s, 0) == CURLUE_OK) {
		jbuf_reset(out);
		jbuf_puts(out, s);
		rc = 0;
	}
	curl_free(s);
	curl_url_cleanup(u);
	return rc;
}
