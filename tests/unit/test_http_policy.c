/*
 * Unit tests of pgfetch's retry policy (http_classify), without a server:
 * what each way an attempt can end leads to, and how long a retry waits.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "check.h"
#include "exitcodes.h"
#include "http.h"

#define RETRIES	3
#define BASE	0.5

/* A first attempt that got status, with no Retry-After. */
static struct http_ending
answered(long status)
{
	struct http_ending a;

	memset(&a, 0, sizeof(a));
	a.curl_code = CURLE_OK;
	a.status = status;
	a.retry_after = -1;
	a.attempt = 1;
	a.jitter = 0.5;
	return a;
}

/* A first attempt that got no response: curl said cc. */
static struct http_ending
unanswered(CURLcode cc)
{
	struct http_ending a = answered(0);

	a.curl_code = cc;
	return a;
}

static int
retried(const struct http_ending *a, double wait)
{
	struct http_verdict v = http_classify(a, RETRIES, BASE);

	return v.action == HTTP_RETRY && fabs(v.wait - wait) < 1e-9;
}

static int
gave_up(const struct http_ending *a, enum http_failure why, int code)
{
	struct http_verdict v = http_classify(a, RETRIES, BASE);

	return v.action == HTTP_FAIL && v.why == why && v.code == code;
}

static void
test_take(void)
{
	struct http_ending a = answered(200);

	CHECK(http_classify(&a, RETRIES, BASE).action == HTTP_TAKE);
	a = answered(204);
	CHECK(http_classify(&a, RETRIES, BASE).action == HTTP_TAKE);
	/* A sink that said stop ends the transfer with an error: taken. */
	a = unanswered(CURLE_WRITE_ERROR);
	a.status = 200;
	a.stopped = 1;
	CHECK(http_classify(&a, RETRIES, BASE).action == HTTP_TAKE);
	/* A retried stream that passed the bytes taken before. */
	a = answered(200);
	a.streamed = 1;
	a.pos = 100;
	a.taken = 100;
	CHECK(http_classify(&a, RETRIES, BASE).action == HTTP_TAKE);
	a.pos = 99;
	CHECK(gave_up(&a, HTTP_FAIL_SHORTER, EX_TEMPFAIL));
}

static void
test_429(void)
{
	struct http_ending a = answered(429);

	/* Without Retry-After: the jittered backoff, base * 2^(attempt - 1). */
	a.attempt = 3;
	CHECK(retried(&a, 1.0));
	a.jitter = 1.0;
	a.attempt = 2;
	CHECK(retried(&a, 1.0));
	/* Full jitter may say 0: never less than the base. */
	a.jitter = 0.0;
	CHECK(retried(&a, BASE));
	/* With Retry-After: what it says... */
	a.retry_after = 7;
	CHECK(retried(&a, 7.0));
	/* ...but 0 is not "now", and an hour at most. */
	a.retry_after = 0;
	CHECK(retried(&a, BASE));
	a.retry_after = 86400;
	CHECK(retried(&a, 3600.0));
	/* 408 alike. */
	a = answered(408);
	CHECK(retried(&a, BASE));
}

static void
test_backoff_cap(void)
{
	struct http_ending a = answered(503);
	struct http_verdict v;

	/* base * 2^(attempt - 1), capped at 30 s, times the jitter. */
	a.jitter = 1.0;
	a.attempt = 3;
	CHECK(retried(&a, 2.0));
	a.attempt = 20;
	v = http_classify(&a, 100, BASE);
	CHECK(v.action == HTTP_RETRY && fabs(v.wait - 30.0) < 1e-9);
}

static void
test_5xx(void)
{
	static const long statuses[] = { 500, 502, 503, 504, 599 };
	struct http_ending a;
	size_t i;

	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		a = answered(statuses[i]);
		CHECK(retried(&a, BASE));
	}
}

static void
test_transport(void)
{
	static const CURLcode retryable[] = {
		CURLE_COULDNT_CONNECT, CURLE_RECV_ERROR, CURLE_SEND_ERROR,
		CURLE_OPERATION_TIMEDOUT, CURLE_COULDNT_RESOLVE_HOST,
		CURLE_PARTIAL_FILE, CURLE_GOT_NOTHING
	};
	struct http_ending a;
	size_t i;

	for (i = 0; i < sizeof(retryable) / sizeof(retryable[0]); i++) {
		a = unanswered(retryable[i]);
		CHECK(retried(&a, BASE));
	}
	/* A body cut short after a 200 came: retried too. */
	a = unanswered(CURLE_PARTIAL_FILE);
	a.status = 200;
	CHECK(retried(&a, BASE));
	a = unanswered(CURLE_URL_MALFORMAT);
	CHECK(gave_up(&a, HTTP_FAIL_TRANSPORT, EX_UNAVAILABLE));
	a = unanswered(CURLE_UNSUPPORTED_PROTOCOL);
	CHECK(gave_up(&a, HTTP_FAIL_TRANSPORT, EX_UNAVAILABLE));
	a = unanswered(CURLE_PEER_FAILED_VERIFICATION);
	CHECK(gave_up(&a, HTTP_FAIL_TRANSPORT, EX_NOPERM));
}

static void
test_4xx(void)
{
	static const long statuses[] = { 400, 404, 410, 422, 499 };
	struct http_ending a;
	size_t i;

	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		a = answered(statuses[i]);
		CHECK(gave_up(&a, HTTP_FAIL_REFUSED, EX_UNAVAILABLE));
	}
	a = answered(401);
	CHECK(gave_up(&a, HTTP_FAIL_REFUSED, EX_NOPERM));
	a = answered(403);
	/* A Retry-After does not make a 403 worth retrying. */
	a.retry_after = 1;
	CHECK(gave_up(&a, HTTP_FAIL_REFUSED, EX_NOPERM));
	/* Neither success, error nor a redirect with a place to go. */
	a = answered(304);
	CHECK(gave_up(&a, HTTP_FAIL_STATUS, EX_UNAVAILABLE));
	a = answered(101);
	CHECK(gave_up(&a, HTTP_FAIL_STATUS, EX_UNAVAILABLE));
}

static void
test_spent(void)
{
	struct http_ending a = answered(503);

	a.attempt = RETRIES;
	CHECK(retried(&a, 0.5 * 2 * 2 * 0.5));
	a.attempt = RETRIES + 1;
	CHECK(gave_up(&a, HTTP_FAIL_SPENT, EX_TEMPFAIL));
	a = answered(429);
	a.retry_after = 1;
	a.attempt = RETRIES + 1;
	CHECK(gave_up(&a, HTTP_FAIL_SPENT, EX_TEMPFAIL));
	a = unanswered(CURLE_COULDNT_CONNECT);
	a.attempt = RETRIES + 1;
	CHECK(gave_up(&a, HTTP_FAIL_SPENT, EX_TEMPFAIL));
	/* --retries 0: the first failure is the last. */
	a.attempt = 1;
	CHECK(http_classify(&a, 0, BASE).action == HTTP_FAIL);
	/* A 4xx fails as itself, whatever the attempt. */
	a = answered(404);
	a.attempt = RETRIES + 1;
	CHECK(gave_up(&a, HTTP_FAIL_REFUSED, EX_UNAVAILABLE));
}

static void
test_redirect(void)
{
	struct http_ending a = answered(302);

	a.location = 1;
	CHECK(http_classify(&a, RETRIES, BASE).action == HTTP_REDIRECT);
	a.status = 301;
	a.redirects = 9;
	CHECK(http_classify(&a, RETRIES, BASE).action == HTTP_REDIRECT);
	a.redirects = 10;
	CHECK(gave_up(&a, HTTP_FAIL_REDIRECTS, EX_UNAVAILABLE));
	/* No Location: nowhere to go. */
	a = answered(302);
	CHECK(gave_up(&a, HTTP_FAIL_STATUS, EX_UNAVAILABLE));
}

static void
test_too_long(void)
{
	struct http_ending a = unanswered(CURLE_WRITE_ERROR);

	a.status = 200;
	a.too_long = 1;
	CHECK(gave_up(&a, HTTP_FAIL_TOO_LONG, EX_DATAERR));
	/* Not retried: the next answer would be as long. */
	a.status = 503;
	CHECK(gave_up(&a, HTTP_FAIL_TOO_LONG, EX_DATAERR));
}

/* SFTP and SCP: no status; CURLE_OK is success, as ssh(1) means it. */
static void
test_ssh(void)
{
	struct http_ending a = unanswered(CURLE_OK);

	a.no_status = 1;
	CHECK(http_classify(&a, RETRIES, BASE).action == HTTP_TAKE);
	/* The same ending over HTTP (no status came) is no success. */
	a.no_status = 0;
	CHECK(gave_up(&a, HTTP_FAIL_STATUS, EX_UNAVAILABLE));
	/* A resumed SFTP body shorter than what was taken: later. */
	a = unanswered(CURLE_OK);
	a.no_status = 1;
	a.streamed = 1;
	a.pos = 10;
	a.taken = 20;
	CHECK(gave_up(&a, HTTP_FAIL_SHORTER, EX_TEMPFAIL));
	/* What no retry mends: the key, the host key, the file. */
	a = unanswered(CURLE_LOGIN_DENIED);
	a.no_status = 1;
	CHECK(gave_up(&a, HTTP_FAIL_TRANSPORT, EX_NOPERM));
	a.curl_code = CURLE_PEER_FAILED_VERIFICATION;
	CHECK(gave_up(&a, HTTP_FAIL_TRANSPORT, EX_NOPERM));
	a.curl_code = CURLE_REMOTE_ACCESS_DENIED;
	CHECK(gave_up(&a, HTTP_FAIL_TRANSPORT, EX_NOPERM));
	a.curl_code = CURLE_REMOTE_FILE_NOT_FOUND;
	CHECK(gave_up(&a, HTTP_FAIL_TRANSPORT, EX_NOINPUT));
	/* A connection dropped mid-file: retried with the HTTP backoff. */
	a.curl_code = CURLE_SSH;
	CHECK(retried(&a, BASE));
	a.curl_code = CURLE_RECV_ERROR;
	CHECK(retried(&a, BASE));
	a.attempt = RETRIES + 1;
	CHECK(gave_up(&a, HTTP_FAIL_SPENT, EX_TEMPFAIL));
}

int
main(void)
{
	test_take();
	test_429();
	test_backoff_cap();
	test_5xx();
	test_transport();
	test_4xx();
	test_spent();
	test_redirect();
	test_too_long();
	test_ssh();
	(void)printf("unit http policy: %d passed, %d failed\n", passed, failed);
	return failed != 0;
}
