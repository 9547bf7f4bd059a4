/*
 * HTTP GET with the reliability a 3 a.m. extraction needs (libcurl's multi
 * interface): a response is taken only when it arrived whole; connection
 * errors, timeouts, truncated bodies, 5xx, 408 and 429 are retried with
 * exponential backoff and full jitter, honouring Retry-After; the other
 * 4xx fail at once.  Several requests can be in flight at once (--parallel);
 * a streamed body goes to a sink as it arrives, and a retry skips the bytes
 * the sink already took.  Nothing here prints: -v lines go through a
 * callback.
 */
#ifndef HTTP_H
#define HTTP_H

#include "jbuf.h"
#include "liberr.h"
#include "secrets.h"
#include "url.h"

struct http_opts {
	long		 timeout;	/* seconds for a whole request; 0: none */
	long		 connect_timeout;
	int		 insecure;	/* TLS verification, SSH host keys: off */
	int		 retries;
	double		 backoff_base;	/* seconds; doubles each retry, cap 30 s */
	const char	*const *headers;	/* "Name: value" */
	size_t		 nheaders;
	/*
	 * The credentials (these headers, user and password, the key
	 * parameter, the user information of origin) go to the origin of
	 * origin only: its scheme, host and port, default ports made explicit
	 * and the host in any case.  Any other URL, reached by a redirect or
	 * asked for as a next page, is asked without them, and stays so
	 * through later redirects.  origin NULL: the first URL asked.
	 */
	const char	*origin;
	const char	*const *secret_headers;
	size_t		 nsecret_headers;
	size_t		 max_body;	/* longest body held; 0: no limit */
	double		 rate;		/* requests a second at most; 0: no cap */
	const char	*user;		/* basic auth, or NULL */
	const char	*password;
	/* A query parameter added to every request to the origin. */
	const char	*key_param;
	const char	*key_value;
	const char	*const *secret_params;	/* redacted in messages */
	size_t		 nsecret_params;
	/*
	 * Masked in every message and -v line (borrowed); NULL: the secrets
	 * these options and origin hold (http_secrets).
	 */
	const struct secrets *secrets;
	/*
	 * sftp:// and scp:// URLs (libcurl's libssh2 backend): the private
	 * key file (its .pub beside it, if there is one) or NULL, its
	 * passphrase, a password, the user when the URL names none, and the
	 * known_hosts file that must hold the server's host key (unless
	 * insecure).  ssh-agent is asked when a key does not do.
	 */
	const char	*ssh_key;
	const char	*ssh_passphrase;
	const char	*ssh_password;
	const char	*ssh_user;
	const char	*known_hosts;
	/* One line per attempt (already redacted), for -v; may be NULL. */
	void		(*trace)(void *arg, const char *line);
	void		*trace_arg;
};

struct http_response {
	long		 status;
	struct jbuf	 body;
	char		*next;		/* the Link header's rel="next", or NULL */
	unsigned long	 attempts;
	long		 ms;		/* the last attempt took */
	/*
	 * With http_probe_files on: the Content-Type of a body that is a
	 * file (JSON Lines, CSV, gzip), not a page; the body was not read.
	 */
	char		*file_type;
	long long	 mtime;		/* http_mtime: seconds since the epoch, or -1 */
};

/* Bytes of a streamed body, in order, each byte once.  -1 stops it. */
typedef int (*http_sink_fn)(void *arg, const char *p, size_t n);

struct http;

struct http	*http_new(const struct http_opts *, struct lib_err *);
void		 http_free(struct http *);

/*
 * GET url into r (whose previous contents are replaced), with nothing else
 * in flight.  -1 with e set: EX_NOPERM for 401/403, EX_UNAVAILABLE for
 * other 4xx and what no retry can mend, EX_TEMPFAIL when the retries of a
 * connection error, a timeout, 5xx, 408 or 429 are spent; the message
 * names the redacted URL, the status and the first bytes of the body,
 * secrets masked.
 */
int	http_get(struct http *, const char *url, struct http_response *r,
	    struct lib_err *e);

/*
 * The names in the directory an sftp:// URL ending in "/" names, one a
 * line, into r->body (as http_get); "." and ".." among them.
 */
int	http_list(struct http *, const char *url, struct http_response *r,
	    struct lib_err *e);
/*
 * The modification time of the file an sftp:// or scp:// URL names, in
 * seconds since the epoch (-1 when the server gives none); its body is
 * not read.  -1 with e set as http_get.
 */
int	http_mtime(struct http *, const char *url, long long *mtime,
	    struct lib_err *e);
/*
 * GET url and hand its body to sink as it arrives, holding none of it.
 * 0 when the body ended or the sink stopped it; -1 with e set as http_get.
 */
int	http_stream(struct http *, const char *url, http_sink_fn sink,
	    void *arg, struct lib_err *e);

/*
 * Requests in flight together: http_add queues one under a tag, http_next
 * waits until one of them is over (its retries included).  http_next: 1
 * with *tag and r filled, -1 when the request of *tag failed (e set; the
 * others go on), 0 when none is left.  http_cancel drops them all.
 */
void	http_add(struct http *, const char *url, size_t tag);
int	http_next(struct http *, size_t *tag, struct http_response *r,
	    struct lib_err *e);
void	http_cancel(struct http *);

void	http_response_free(struct http_response *);

/*
 * While on, a request whose response says it is a file (Content-Type
 * application/x-ndjson, application/jsonl, text/csv, application/gzip...)
 * ends at its headers with r->file_type set, so that it can be streamed.
 */
void	http_probe_files(struct http *, int on);

/* A -v line "GET URL -> what", the URL redacted. */
void	http_trace(struct http *, const char *url, const char *what);

/* Requests made, retries spent and body bytes received so far. */
void	http_counts(const struct http *, unsigned long *requests,
	    unsigned long *retries, unsigned long long *bytes);

/*
 * The query parameters whose values the opts make secret (secret_params,
 * key_param), for url_redact and url_strip; NULL for a NULL client.
 */
const struct url_secret_params *http_secret_params(const struct http *);

/*
 * Every secret o and url (may be NULL) hold, into s: the values of the
 * secret headers, the password and base64 credentials of basic auth, the
 * key value, and url's (url_secrets).
 */
void	http_secrets(const struct http_opts *o, const char *url,
	    struct secrets *s);

/*
 * The retry policy, apart from the transfers (and so testable without a
 * server): how an attempt ended, and what to do about it.
 */
struct http_ending {
	int		 curl_code;	/* the transfer's CURLcode */
	long		 status;	/* HTTP status; 0: none came */
	int		 no_status;	/* sftp, scp: CURLE_OK is success */
	double		 retry_after;	/* seconds, or -1: no Retry-After */
	int		 location;	/* a 3xx named where to go */
	unsigned int	 redirects;	/* followed so far */
	unsigned long	 attempt;	/* 1 for the first */
	int		 stopped;	/* the sink, or a file's headers, ended it */
	int		 too_long;	/* the body passed max_body */
	int		 streamed;	/* the body went to a sink... */
	unsigned long long pos;		/* ...this attempt's bytes of it */
	unsigned long long taken;	/* ...and all attempts' */
	double		 jitter;	/* uniform in [0, 1], for the backoff */
};

enum http_action { HTTP_TAKE, HTTP_REDIRECT, HTTP_RETRY, HTTP_FAIL };

/* Why HTTP_FAIL, which picks its message. */
enum http_failure {
	HTTP_FAIL_NONE,
	HTTP_FAIL_TOO_LONG,	/* the body passed max_body */
	HTTP_FAIL_SHORTER,	/* a retried body ended before the bytes taken */
	HTTP_FAIL_REDIRECTS,	/* too many of them */
	HTTP_FAIL_REFUSED,	/* a 4xx no retry mends */
	HTTP_FAIL_STATUS,	/* neither success, nor error, nor redirect */
	HTTP_FAIL_TRANSPORT,	/* a bad URL, a certificate refused */
	HTTP_FAIL_SPENT		/* the retries are spent */
};

struct http_verdict {
	enum http_action action;
	enum http_failure why;	/* HTTP_FAIL */
	int		 code;	/* HTTP_FAIL: the exit code (exitcodes.h) */
	double		 wait;	/* HTTP_RETRY: seconds, base to 3600 */
};

/*
 * What to do after attempt a, with retries retries allowed and the
 * backoff starting at backoff_base seconds.  Connection errors, timeouts,
 * truncated bodies, 5xx, 408 and 429 are retried after Retry-After or
 * the jittered backoff (never less than the base); 401 and 403 fail with
 * EX_NOPERM, the other 4xx with EX_UNAVAILABLE.
 */
struct http_verdict http_classify(const struct http_ending *a, int retries,
	    double backoff_base);

#endif
