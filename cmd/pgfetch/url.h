/*
 * URLs as pgfetch handles them: their origin (the credentials go to one),
 * their secrets (user information and the values of secret query
 * parameters, hidden in every message), and the query edits pagination and
 * the key parameter make.  Nothing here prints or fails but by a return.
 *
 * libcurl's URL API (CURLU, libcurl 7.62 and later; Debian 12 has 7.88)
 * parses wherever a parse is all that is needed: the origin, the user
 * information and the resolution of a relative reference.  The editing
 * functions (redact, strip, add and drop a parameter) work on the bytes as
 * given, by hand, for two reasons: a URL CURLU refuses (a space, a bad
 * host, "u:p@ss@h") must still be shown without its secrets, and CURLU
 * rewrites the URL it gives back (lower-case scheme, "/" for an empty
 * path, dot segments gone, an empty "?" or "#" dropped, a space as "+"
 * with CURLU_URLENCODE), while the result names the source in checkpoint
 * files, where another spelling is another source.
 */
#ifndef URL_H
#define URL_H

#include <stddef.h>

#include "jbuf.h"
#include "secrets.h"

/*
 * The query parameters whose values are secrets: token, key, api_key,
 * apikey, access_token, password, secret, signature, client_secret and
 * auth in any case, and these names as they are spelled.
 */
struct url_secret_params {
	const char	*const *names;
	size_t		 n;
	const char	*key;	/* the key parameter, or NULL */
};

/*
 * url's origin, "scheme://host:port" in lower case with the port always
 * given (a default one made explicit), into out (replaced); -1 if CURLU
 * cannot parse url.
 */
int	url_origin(const char *url, struct jbuf *out);

/* 1 if url begins with the scheme name and "://" (in any case). */
int	url_has_scheme(const char *url, const char *name);

/*
 * 1 if a and b have one origin: scheme, host (in any case) and port (a
 * default port or none being the same).
 */
int	url_same_origin(const char *a, const char *b);

/*
 * The user information of url, %-decoded, into *user and *password
 * (allocated, for free(3)); both NULL when it has none or CURLU cannot
 * parse url, *password NULL when there is a user but no ':'.
 */
void	url_userinfo(const char *url, char **user, char **password);

/*
 * url with its user information and the values of secret query
 * parameters (p may be NULL: the usual names only) replaced by ***,
 * appended to out.
 */
void	url_redact(const struct url_secret_params *p, const char *url,
	    struct jbuf *out);
/* url without its user information and secret query parameters, appended. */
void	url_strip(const struct url_secret_params *p, const char *url,
	    struct jbuf *out);
/* url without its user information, into out (replaced). */
void	url_drop_userinfo(const char *url, struct jbuf *out);

/*
 * The secrets url holds, into s: its user information (the password, the
 * user name when it stands alone as a token, the basic credentials) and
 * the values of its secret query parameters, as written and decoded.
 */
void	url_secrets(const struct url_secret_params *p, const char *url,
	    struct secrets *s);

/* url without any query parameter called name, into out (replaced). */
void	url_drop_param(const char *url, const char *name, struct jbuf *out);
/*
 * url without any query parameter whose value carries a secret of known,
 * into out (replaced).
 */
void	url_drop_known(const struct secrets *known, const char *url,
	    struct jbuf *out);
/* base with the query parameter name=value added (both escaped), into out. */
void	url_add_param(const char *base, const char *name, const char *value,
	    struct jbuf *out);

/*
 * ref resolved against base (RFC 3986) by CURLU, into out (replaced); -1,
 * out untouched, if base or ref cannot be parsed.
 */
int	url_resolve(const char *base, const char *ref, struct jbuf *out);

#endif
