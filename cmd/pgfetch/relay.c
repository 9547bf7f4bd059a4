#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "relay.h"
#include "xalloc.h"

/* The most the reader takes at once: the sink sees chunks, not the ring. */
#define RELAY_SPAN	((size_t)256 * 1024)

/*
 * The reader is woken when this much waits, not at every put: libcurl
 * hands over an SFTP file 8 KB at a time, and a wake-up per put cost
 * more context switches than curl(1) makes in the whole transfer, taking
 * the CPU from the transfer and the server.  Bytes that trickle in wait
 * at most RELAY_LINGER_NS for the reader to look.
 */
#define RELAY_WAKE	((size_t)128 * 1024)
#define RELAY_LINGER_NS	20000000L

/*
 * A ring of RELAY_BYTES: len bytes from head are the reader's.  The writer
 * copies into the free part and the reader sinks from its part without
 * the lock: each part belongs to one thread until len moves.
 */
struct relay {
	pthread_mutex_t	 lock;
	pthread_cond_t	 more;		/* bytes came, or the end */
	pthread_cond_t	 room;		/* bytes went, or the sink stopped */
	char		*ring;
	size_t		 head;
	size_t		 len;
	int		 closed;	/* no more bytes will come */
	int		 stopped;	/* the sink said -1 */
	int		 idle;		/* the reader waits on more */
	http_sink_fn	 sink;
	void		*arg;
	pthread_t	 thread;
};

/*
 * With the lock held: wait until RELAY_WAKE bytes are in, or the end, or
 * some bytes have waited RELAY_LINGER_NS.
 */
static void
await_bytes(struct relay *r)
{
	struct timespec until;

	r->idle = 1;
	while (r->len == 0 && !r->closed)
		(void)pthread_cond_wait(&r->more, &r->lock);
	if (r->len < RELAY_WAKE && !r->closed &&
	    clock_gettime(CLOCK_MONOTONIC, &until) == 0) {
		until.tv_nsec += RELAY_LINGER_NS;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		while (r->len < RELAY_WAKE && !r->closed &&
		    pthread_cond_timedwait(&r->more, &r->lock, &until) !=
		    ETIMEDOUT)
			;
	}
	r->idle = 0;
}

static void *
reader(void *arg)
{
	struct relay *r = arg;
	size_t n;
	int rc;

	(void)pthread_mutex_lock(&r->lock);
	for (;;) {
		if (r->len < RELAY_WAKE && !r->closed)
			await_bytes(r);
		if (r->len == 0)
			break;
		if (r->stopped) {
			/* What came after the sink said -1 is not wanted. */
			r->head = (r->head + r->len) % RELAY_BYTES;
			r->len = 0;
			(void)pthread_cond_signal(&r->room);
			continue;
		}
		n = RELAY_BYTES - r->head;
		if (n > r->len)
			n = r->len;
		if (n > RELAY_SPAN)
			n = RELAY_SPAN;
		(void)pthread_mutex_unlock(&r->lock);
		rc = r->sink(r->arg, r->ring + r->head, n);
		(void)pthread_mutex_lock(&r->lock);
		if (rc == -1)
			r->stopped = 1;
		r->head = (r->head + n) % RELAY_BYTES;
		r->len -= n;
		(void)pthread_cond_signal(&r->room);
	}
	(void)pthread_mutex_unlock(&r->lock);
	return NULL;
}

struct relay *
relay_start(http_sink_fn sink, void *arg)
{
	struct relay *r = xalloc_calloc(1, sizeof(*r));
	pthread_condattr_t monotonic;
	int ok;

	r->ring = xalloc_malloc(RELAY_BYTES, 1);
	r->sink = sink;
	r->arg = arg;
	if (pthread_mutex_init(&r->lock, NULL) != 0)
		goto no_lock;
	/* The reader's linger is timed on a clock that is never set back. */
	if (pthread_condattr_init(&monotonic) != 0)
		goto no_more;
	ok = pthread_condattr_setclock(&monotonic, CLOCK_MONOTONIC) == 0 &&
	    pthread_cond_init(&r->more, &monotonic) == 0;
	(void)pthread_condattr_destroy(&monotonic);
	if (!ok)
		goto no_more;
	if (pthread_cond_init(&r->room, NULL) != 0)
		goto no_room;
	if (pthread_create(&r->thread, NULL, reader, r) == 0)
		return r;
	(void)pthread_cond_destroy(&r->room);
no_room:
	(void)pthread_cond_destroy(&r->more);
no_more:
	(void)pthread_mutex_destroy(&r->lock);
no_lock:
	free(r->ring);
	free(r);
	return NULL;
}

int
relay_put(void *relay, const char *p, size_t n)
{
	struct relay *r = relay;
	size_t tail, k, before;
	int rc;

	(void)pthread_mutex_lock(&r->lock);
	while (n > 0 && !r->stopped) {
		while (r->len == RELAY_BYTES && !r->stopped)
			(void)pthread_cond_wait(&r->room, &r->lock);
		if (r->stopped)
			break;
		tail = (r->head + r->len) % RELAY_BYTES;
		k = RELAY_BYTES - tail;
		if (k > RELAY_BYTES - r->len)
			k = RELAY_BYTES - r->len;
		if (k > n)
			k = n;
		/* The free part is the writer's: copy without the lock. */
		(void)pthread_mutex_unlock(&r->lock);
		memcpy(r->ring + tail, p, k);
		(void)pthread_mutex_lock(&r->lock);
		before = r->len;
		r->len += k;
		p += k;
		n -= k;
		/* The first bytes start the reader's linger; enough end it. */
		if (r->idle && (before == 0 || r->len >= RELAY_WAKE))
			(void)pthread_cond_signal(&r->more);
	}
	rc = r->stopped ? -1 : 0;
	(void)pthread_mutex_unlock(&r->lock);
	return rc;
}

void
relay_finish(struct relay *r)
{
	(void)pthread_mutex_lock(&r->lock);
	r->closed = 1;
	(void)pthread_cond_signal(&r->more);
	(void)pthread_mutex_unlock(&r->lock);
	(void)pthread_join(r->thread, NULL);
	(void)pthread_cond_destroy(&r->room);
	(void)pthread_cond_destroy(&r->more);
	(void)pthread_mutex_destroy(&r->lock);
	free(r->ring);
	free(r);
}
