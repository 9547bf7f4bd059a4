#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clocks.h"
#include "exitcodes.h"
#include "stats.h"
#include "xalloc.h"

void
stats_init(struct stats *s, const char *program)
{
	memset(s, 0, sizeof(*s));
	s->program = program;
	s->started = clocks_monotonic();
}

/* The first live line comes after this long: a short run shows none. */
#define LIVE_PERIOD	0.5

struct stats_progress {
	pthread_t	 thread;
	pthread_mutex_t	 lock;		/* the line, and `to` while held */
	pthread_cond_t	 wake;		/* stop */
	int		 stop;
	int		 live;
	int		 shown;		/* a live line is on the terminal */
	double		 period;
	FILE		*to;
	const struct stats *s;
};

/* The line, from counters another thread writes whole. */
static void
draw(struct stats_progress *p)
{
	const struct stats *s = p->s;
	unsigned long records = __atomic_load_n(&s->records, __ATOMIC_RELAXED);
	unsigned long long bytes = __atomic_load_n(&s->bytes, __ATOMIC_RELAXED);
	double secs = clocks_monotonic() - s->started;
	double mb = (double)bytes / 1e6;

	if (secs <= 0)
		secs = 1e-9;
	(void)fprintf(p->to, "%s%s: %lu records, %.1f MB, %.0f records/s, "
	    "%.1f MB/s, %.1f s%s", p->live ? "\r" : "", s->program, records,
	    mb, (double)records / secs, mb / secs, secs,
	    p->live ? "\033[K" : "\n");
	(void)fflush(p->to);
	p->shown = p->live;
}

static void
clear(struct stats_progress *p)
{
	if (p->shown) {
		(void)fputs("\r\033[K", p->to);
		(void)fflush(p->to);
		p->shown = 0;
	}
}

static void *
run(void *arg)
{
	struct stats_progress *p = arg;
	struct timespec at;
	double next = p->s->started + p->period, whole;

	(void)pthread_mutex_lock(&p->lock);
	while (!p->stop) {
		at.tv_nsec = (long)(modf(next, &whole) * 1e9);
		at.tv_sec = (time_t)whole;
		if (pthread_cond_timedwait(&p->wake, &p->lock, &at) == 0 ||
		    p->stop)
			continue;
		if (clocks_monotonic() < next)
			continue;
		draw(p);
		next += p->period;
	}
	clear(p);
	(void)pthread_mutex_unlock(&p->lock);
	return NULL;
}

int
stats_progress_start(struct stats *s, FILE *to, int live, double interval,
    struct lib_err *e)
{
	struct stats_progress *p = xalloc_calloc(1, sizeof(*p));
	pthread_condattr_t attr;
	sigset_t all, old;
	int rc;

	p->to = to;
	p->live = live;
	p->period = live ? LIVE_PERIOD : interval;
	p->s = s;
	/* The deadlines are monotonic seconds, as clocks_monotonic gives. */
	if (pthread_condattr_init(&attr) != 0)
		goto fail;
	if (pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&p->wake, &attr) != 0) {
		(void)pthread_condattr_destroy(&attr);
		goto fail;
	}
	(void)pthread_condattr_destroy(&attr);
	if (pthread_mutex_init(&p->lock, NULL) != 0) {
		(void)pthread_cond_destroy(&p->wake);
		goto fail;
	}
	/* A caught signal must reach the thread that reads, not this one. */
	(void)sigfillset(&all);
	(void)pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&p->thread, NULL, run, p);
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc == 0) {
		s->progress = p;
		return 0;
	}
	(void)pthread_mutex_destroy(&p->lock);
	(void)pthread_cond_destroy(&p->wake);
fail:
	free(p);
	return liberr_set(e, EX_OSERR, "cannot start the progress thread");
}

void
stats_progress_stop(struct stats *s)
{
	struct stats_progress *p = s->progress;

	if (p == NULL)
		return;
	(void)pthread_mutex_lock(&p->lock);
	p->stop = 1;
	(void)pthread_cond_signal(&p->wake);
	(void)pthread_mutex_unlock(&p->lock);
	(void)pthread_join(p->thread, NULL);
	(void)pthread_cond_destroy(&p->wake);
	(void)pthread_mutex_destroy(&p->lock);
	free(p);
	s->progress = NULL;
}

void
stats_progress_hold(struct stats *s)
{
	if (s->progress == NULL)
		return;
	(void)pthread_mutex_lock(&s->progress->lock);
	clear(s->progress);
}

void
stats_progress_release(struct stats *s)
{
	if (s->progress != NULL)
		(void)pthread_mutex_unlock(&s->progress->lock);
}

void
stats_json(const struct stats *s, const char *extra, struct jbuf *b)
{
	char head[512];

	(void)snprintf(head, sizeof(head), "{\"program\":\"%s\",\"lines\":%lu,"
	    "\"records\":%lu,\"messages\":%lu,\"errors\":%lu,\"bytes\":%llu,"
	    "\"seconds\":%.3f", s->program, s->lines, s->records, s->messages,
	    s->errors, s->bytes, clocks_monotonic() - s->started);
	jbuf_puts(b, head);
	if (extra != NULL && *extra != '\0') {
		jbuf_putc(b, ',');
		jbuf_puts(b, extra);
	}
	jbuf_puts(b, "}\n");
}

int
stats_write(const struct stats *s, struct sidefile *f, const char *extra,
    struct lib_err *e)
{
	struct jbuf b = JBUF_INIT;
	int rc;

	stats_json(s, extra, &b);
	rc = sidefile_write(f, b.p, b.len, 0, e);
	jbuf_free(&b);
	/* After a failed write, this drops the file without a new error. */
	if (sidefile_close(f, e) == -1)
		rc = -1;
	return rc;
}
