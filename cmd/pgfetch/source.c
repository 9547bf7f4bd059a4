#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "exitcodes.h"
#include "gunzip.h"
#include "relay.h"
#include "source.h"
#include "url.h"

#define SOURCE_CHUNK	((size_t)256 * 1024)

struct source {
	struct extract	*x;
	struct gunzip	*gz;
	struct stats	*stats;		/* bytes counted for the progress line */
	struct lib_err	 err;		/* why the bytes stopped, if they failed */
	int		 stopped;	/* no more bytes wanted */
	int		 whole;		/* err is the extractor's: named already */
};

/* 0 go on, 1 the extractor has enough, -1 it failed (e, named already). */
static int
to_extract(void *arg, const char *p, size_t n, struct lib_err *e)
{
	struct source *s = arg;
	int rc;

	if ((rc = extract_feed(s->x, p, n, e)) != 0)
		s->whole = 1;
	return rc;
}

/* A sink of http_stream's: 0 go on, -1 no more bytes (s->err says why). */
static int
to_gunzip(void *arg, const char *p, size_t n)
{
	struct source *s = arg;

	stats_set_bytes(s->stats, s->stats->bytes + n);
	if (gunzip_feed(s->gz, p, n, &s->err) != 0) {
		s->stopped = 1;
		return -1;
	}
	return 0;
}

/* The extractor reads for name, which its messages give. */
static int
begin(struct source *s, const struct extract_opts *xo, const char *name,
    struct stats *stats, struct lib_err *e)
{
	struct extract_opts named = *xo;

	memset(s, 0, sizeof(*s));
	s->stats = stats;
	named.name = name;
	if ((s->x = extract_new(&named, e)) == NULL)
		return -1;
	s->gz = gunzip_new(to_extract, s);
	return 0;
}

/* The end of the bytes: a document or gzip stream cut short is bad. */
static int
end(struct source *s, int complete, const char *name, struct lib_err *e)
{
	if (complete && !s->stopped && gunzip_finish(s->gz, &s->err) == 0 &&
	    extract_finish(s->x, &s->err) != 0)
		s->whole = 1;
	gunzip_free(s->gz);
	extract_free(s->x);
	if (s->err.code == 0)
		return 0;
	if (s->whole) {
		*e = s->err;
		return -1;
	}
	/* gunzip's: "name: why". */
	return liberr_set(e, s->err.code, "%s: %s", name, s->err.msg);
}

/* 1 when a read of fd would wait: nothing there yet, no end either. */
static int
would_wait(int fd)
{
	struct pollfd pfd;

	pfd.fd = fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	return poll(&pfd, 1, 0) == 0;
}

int
source_fd(const struct extract_opts *xo, int fd, const char *name,
    struct stats *stats, struct lib_err *e)
{
	static char chunk[SOURCE_CHUNK];
	struct source s;
	ssize_t n;

	liberr_clear(e);
	if (begin(&s, xo, name, stats, e) == -1)
		return -1;
	for (;;) {
		if (xo->paused != NULL && would_wait(fd) &&
		    xo->paused(xo->arg, e) == -1) {
			(void)end(&s, 0, name, e);
			return -1;
		}
		if ((n = read(fd, chunk, sizeof(chunk))) == 0)
			break;
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			(void)liberr_set(e, EX_IOERR, "%s: %s", name, strerror(errno));
			(void)end(&s, 0, name, e);
			return -1;
		}
		if (to_gunzip(&s, chunk, (size_t)n) == -1)
			break;
	}
	return end(&s, 1, name, e);
}

/*
 * Whether a second thread pays for the parse.  Over SSH or TLS the
 * transfer is one CPU's work, decrypting; the parse on a thread of its
 * own overlaps it where another CPU is free.  With two CPUs or fewer none
 * is: the pipeline's other programs (and an SSH server on the same
 * machine) want them, and the threads' sharing cost more than the overlap
 * gained: tests/bench/sftp.sh measured 0.85x curl's rate on one thread
 * and 0.76x on two, on a machine of 2 CPUs, and a pipeline into
 * sqlite-load 4% faster on one.
 */
static int
thread_pays(enum parse_thread when)
{
	long cpus;

	if (when != PARSE_THREAD_AUTO)
		return when == PARSE_THREAD_ALWAYS;
	cpus = sysconf(_SC_NPROCESSORS_ONLN);
	return cpus > 2;
}

int
source_url(const struct extract_opts *xo, struct http *h, const char *url,
    enum parse_thread when, struct stats *stats, struct lib_err *e)
{
	struct jbuf shown = JBUF_INIT;
	struct relay *relay = NULL;
	struct source s;
	int rc;

	liberr_clear(e);
	url_redact(http_secret_params(h), url, &shown);
	if (begin(&s, xo, jbuf_cstr(&shown), stats, e) == -1) {
		jbuf_free(&shown);
		return -1;
	}
	if (thread_pays(when) && (relay = relay_start(to_gunzip, &s)) != NULL) {
		rc = http_stream(h, url, relay_put, relay, e);
		relay_finish(relay);
		/*
		 * The reader stopped on bytes that came before whatever
		 * ended the transfer: its word is the one that counts, as
		 * when it stopped the transfer on a single thread.
		 */
		if (s.stopped)
			rc = 0;
	} else
		rc = http_stream(h, url, to_gunzip, &s, e);
	if (rc == -1) {
		struct lib_err ignored;

		/* The transfer failed: that, not what the reader made of it. */
		(void)end(&s, 0, jbuf_cstr(&shown), &ignored);
		rc = -1;
	} else
		rc = end(&s, 1, jbuf_cstr(&shown), e);
	jbuf_free(&shown);
	return rc;
}

enum extract_format
source_format_of_url(const char *url, struct jbuf *path)
{
	const char *p = strstr(url, "://");
	size_t n;

	p = p != NULL ? p + 3 : url;
	p += strcspn(p, "/?#");
	jbuf_reset(path);
	jbuf_put(path, p, strcspn(p, "?#"));
	(void)jbuf_cstr(path);
	n = path->len;
	if (n > 5 && strcmp(path->p + n - 5, ".json") == 0)
		return EXTRACT_AUTO;
	return extract_format_of(path->p);
}

enum extract_format
source_format_of_type(const char *content_type)
{
	if (strstr(content_type, "csv") != NULL ||
	    strstr(content_type, "tab-separated") != NULL)
		return EXTRACT_CSV;
	if (strstr(content_type, "gzip") != NULL)
		return EXTRACT_AUTO;
	return EXTRACT_JSONL;
}
