/*
 * The secret values a run knows (tokens, passwords, API key values, the
 * values of credential headers, the base64 of basic credentials), and the
 * one function that masks them as *** in any text a program prints or
 * writes: messages, -v lines, the abort line, quarantine and checkpoint
 * files.  It masks by value, not by place, so that a secret a server
 * echoes back (into an error body, a Location, a next URL) is masked too.
 */
#ifndef SECRETS_H
#define SECRETS_H

#include <stdarg.h>
#include <stddef.h>

#include "jbuf.h"

#define SECRETS_MASK	"***"

struct secrets;

struct secrets	*secrets_new(void);
void		 secrets_free(struct secrets *);

/*
 * A secret value, and the forms it travels in: as it is, %-escaped (as in
 * a URL or a form) and JSON-escaped.  An empty value is ignored.
 */
void	secrets_add(struct secrets *, const char *value, size_t len);
/* Basic credentials: the password, and the base64 of user:password. */
void	secrets_add_basic(struct secrets *, const char *user, size_t ulen,
	    const char *password, size_t plen);
/*
 * A credential header "Name: value": its value, and the value's last word
 * (the token of "Bearer TOKEN").
 */
void	secrets_add_header(struct secrets *, const char *header);

/*
 * 1 if a "Name: value" header looks like a credential: Authorization,
 * Cookie, or a name holding key, token, secret or auth (in any case).
 */
int	secrets_header_is_secret(const char *header);

/* 1 if any secret occurs in the n bytes at text. */
int	secrets_in(const struct secrets *, const char *text, size_t n);

/*
 * text with every occurrence of a secret replaced by ***, appended to out
 * (the longest secret first where several match).  When text is the start
 * of something longer (prefix != 0), an end of text that may be the start
 * of a secret is masked as well.  s may be NULL: text is copied.
 */
void	secrets_mask(const struct secrets *s, const char *text, size_t n,
	    int prefix, struct jbuf *out);
/*
 * A message as vprintf(3) makes it, formatted whole and then masked (so
 * that no cut to length leaves a part of a secret), appended to out.
 */
void	secrets_vformat(const struct secrets *s, struct jbuf *out,
	    const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));

#endif
