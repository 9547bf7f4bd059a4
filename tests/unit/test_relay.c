/*
 * Unit tests of relay: every byte put reaches the sink once and in order,
 * across the ring's end and in chunks of every size; a sink that says -1
 * is called no more and the writer learns it; a writer blocked on a full
 * ring wakes when the sink stops; bytes that trickle in reach the sink
 * while the transfer goes on, not only at its end.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "relay.h"

/* What a sink saw: bytes compared with the pattern as they come. */
struct seen {
	unsigned long long n;		/* bytes taken */
	unsigned long long stop_at;	/* say -1 once this many came (0: never) */
	unsigned long	 calls_after;	/* calls after saying -1 */
	int		 said_stop;
	int		 wrong;		/* a byte not the pattern's */
	unsigned	 delay_us;	/* a slow reader */
};

static unsigned char
pattern(unsigned long long i)
{
	return (unsigned char)((i * 2654435761u) >> 13);
}

static int
sink(void *arg, const char *p, size_t n)
{
	struct seen *s = arg;
	size_t i;

	if (s->said_stop) {
		s->calls_after++;
		return -1;
	}
	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] != pattern(s->n + i))
			s->wrong = 1;
	s->n += n;
	if (s->delay_us > 0) {
		struct timespec ts = { 0, (long)s->delay_us * 1000 };

		(void)nanosleep(&ts, NULL);
	}
	if (s->stop_at > 0 && s->n >= s->stop_at) {
		s->said_stop = 1;
		return -1;
	}
	return 0;
}

/* Put total bytes of the pattern in chunks of 1..maxchunk; -1 once refused. */
static int
put_all(struct relay *r, unsigned long long total, size_t maxchunk,
    unsigned long long *put)
{
	static char buf[1 << 20];
	unsigned long long i = 0;
	unsigned seed = 7;
	size_t n, k;

	*put = 0;
	while (i < total) {
		seed = seed * 1103515245u + 12345u;
		n = 1 + (seed >> 8) % maxchunk;
		if (n > total - i)
			n = (size_t)(total - i);
		for (k = 0; k < n; k++)
			buf[k] = (char)pattern(i + k);
		if (relay_put(r, buf, n) == -1)
			return -1;
		i += n;
		*put = i;
	}
	return 0;
}

static void
test_order(void)
{
	static const size_t chunks[] = { 16, 4096, 100000, 1 << 20 };
	unsigned long long total = 3 * RELAY_BYTES + 12345, put;
	size_t i;

	for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		struct seen s;
		struct relay *r;

		memset(&s, 0, sizeof(s));
		/* Small chunks: fewer bytes, the same wraps of a slower pace. */
		if (chunks[i] == 16)
			total = RELAY_BYTES + 777;
		else
			total = 3 * RELAY_BYTES + 12345;
		r = relay_start(sink, &s);
		CHECK(r != NULL);
		if (r == NULL)
			continue;
		CHECK(put_all(r, total, chunks[i], &put) == 0);
		relay_finish(r);
		CHECK(s.n == total);
		CHECK(!s.wrong);
	}
}

/* The sink stops early: no call after, and the writer is told. */
static void
test_stop(void)
{
	unsigned long long put;
	struct seen s;
	struct relay *r;

	memset(&s, 0, sizeof(s));
	s.stop_at = 1000000;
	r = relay_start(sink, &s);
	CHECK(r != NULL);
	if (r == NULL)
		return;
	/* Far more than the ring holds: the writer must be let go. */
	CHECK(put_all(r, 10 * RELAY_BYTES, 65536, &put) == -1);
	relay_finish(r);
	CHECK(s.said_stop);
	CHECK(s.calls_after == 0);
	CHECK(s.n >= 1000000 && s.n < 1000000 + 256 * 1024 + 1);
	CHECK(!s.wrong);
	CHECK(put <= s.stop_at + RELAY_BYTES + 65536);
}

/* A slow reader: the writer waits on the full ring, nothing is lost. */
static void
test_slow_reader(void)
{
	unsigned long long put;
	struct seen s;
	struct relay *r;

	memset(&s, 0, sizeof(s));
	s.delay_us = 2000;
	r = relay_start(sink, &s);
	CHECK(r != NULL);
	if (r == NULL)
		return;
	CHECK(put_all(r, 2 * RELAY_BYTES + 3, 1 << 20, &put) == 0);
	relay_finish(r);
	CHECK(s.n == 2 * RELAY_BYTES + 3);
	CHECK(!s.wrong);
}

/* Nothing put: the sink is never called, finish returns. */
static void
test_empty(void)
{
	struct seen s;
	struct relay *r;

	memset(&s, 0, sizeof(s));
	s.stop_at = 1;
	r = relay_start(sink, &s);
	CHECK(r != NULL);
	if (r != NULL)
		relay_finish(r);
	CHECK(s.n == 0 && !s.said_stop);
}

/* A sink another thread watches: what came, under a lock. */
struct watched {
	pthread_mutex_t	 lock;
	pthread_cond_t	 came;
	size_t		 n;
};

static int
watched_sink(void *arg, const char *p, size_t n)
{
	struct watched *w = arg;

	(void)p;
	(void)pthread_mutex_lock(&w->lock);
	w->n += n;
	(void)pthread_cond_signal(&w->came);
	(void)pthread_mutex_unlock(&w->lock);
	return 0;
}

/* Whether the sink has had n bytes within two seconds. */
static int
arrives(struct watched *w, size_t n)
{
	struct timespec until;
	int rc = 0;

	(void)clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 2;
	(void)pthread_mutex_lock(&w->lock);
	while (w->n < n && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&w->came, &w->lock, &until);
	rc = w->n >= n;
	(void)pthread_mutex_unlock(&w->lock);
	return rc;
}

/*
 * A few bytes, far fewer than wake the reader at once, and then no more
 * for a while (a slow stream's record): the reader still takes them.
 */
static void
test_trickle(void)
{
	struct watched w;
	struct relay *r;

	memset(&w, 0, sizeof(w));
	(void)pthread_mutex_init(&w.lock, NULL);
	(void)pthread_cond_init(&w.came, NULL);
	r = relay_start(watched_sink, &w);
	CHECK(r != NULL);
	if (r == NULL)
		return;
	CHECK(relay_put(r, "{\"a\":1}\n", 8) == 0);
	CHECK(arrives(&w, 8));
	CHECK(relay_put(r, "{\"a\":2}\n", 8) == 0);
	CHECK(arrives(&w, 16));
	relay_finish(r);
	CHECK(w.n == 16);
	(void)pthread_cond_destroy(&w.came);
	(void)pthread_mutex_destroy(&w.lock);
}

int
main(void)
{
	test_order();
	test_stop();
	test_slow_reader();
	test_empty();
	test_trickle();
	(void)printf("unit relay: %d passed, %d failed\n", passed, failed);
	return failed != 0;
}
