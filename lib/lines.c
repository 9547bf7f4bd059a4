#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "exitcodes.h"
#include "jbuf.h"
#include "lines.h"
#include "ndjson.h"
#include "xalloc.h"

#define BATCH_MAX_LINES	8192
#define NO_SEQ		((unsigned long)-1)

enum batch_state { BATCH_FREE, BATCH_BUSY, BATCH_READY };

struct bline {
	size_t		 off;		/* of the text in the batch */
	size_t		 len;
	const char	*file;
	unsigned long	 lineno;
	const struct jval *root;	/* NULL when bad */
	int		 code;
	size_t		 msgoff;	/* of the message in msgs */
};

struct batch {
	enum batch_state state;
	unsigned long	 seq;
	struct jbuf	 text;
	struct bline	*lines;
	size_t		 n;
	size_t		 cap;
	struct jbuf	 msgs;
	struct jval_parser *parser;
	int		 fatal;		/* after the lines: input cannot go on */
	int		 fatal_code;
	char		 fatal_msg[512];
	int		 end;		/* the last batch */
	int		 paused;	/* cut where the input paused */
	unsigned long long bytes;	/* input read when it was cut */
};

struct lines {
	struct lines_opts opts;
	pthread_mutex_t	 mu;		/* batches' states, shutdown */
	pthread_cond_t	 cv;
	struct batch	*batches;
	int		 nbatches;
	pthread_t	*threads;
	int		 nthreads;
	int		 shutdown;
	atomic_int	 stopping;	/* shutdown, for a reader waiting on input */
	int		 no_more;	/* a batch has met the end of the input */

	/* The input, read by one worker at a time under src_mu. */
	pthread_mutex_t	 src_mu;
	int		 next_file;
	int		 reading;
	struct ndjson_reader reader;
	int		 src_done;
	unsigned long	 next_seq;
	unsigned long long bytes_closed;

	/* The consumer's place. */
	unsigned long	 want;
	struct batch	*cur;
	size_t		 cur_i;
	int		 ended;
	struct jbuf	 tmpmsg;
};

static void
bline_push(struct batch *b, const char *text, size_t len, const char *file,
    unsigned long lineno)
{
	struct bline *l;

	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 256;
		b->lines = xalloc_realloc(b->lines, b->cap, sizeof(*b->lines));
	}
	l = &b->lines[b->n++];
	memset(l, 0, sizeof(*l));
	l->off = b->text.len;
	l->len = len;
	l->file = file;
	l->lineno = lineno;
	jbuf_put(&b->text, text, len);
	/* A byte of room after each line: yajl never reads it, but safe. */
	jbuf_putc(&b->text, '\n');
}

static void
bline_error(struct batch *b, struct bline *l, int code, const char *msg)
{
	l->root = NULL;
	l->code = code;
	l->msgoff = b->msgs.len;
	jbuf_put(&b->msgs, msg, strlen(msg) + 1);
}

static void
set_fatal(struct lines *ls, struct batch *b, int code, const char *msg)
{
	b->fatal = 1;
	b->fatal_code = code;
	(void)strncpy(b->fatal_msg, msg, sizeof(b->fatal_msg) - 1);
	b->fatal_msg[sizeof(b->fatal_msg) - 1] = '\0';
	ls->src_done = 1;
}

/* The reader's stop question: is the program shutting us down? */
static int
stopping(void *arg)
{
	struct lines *ls = arg;

	return atomic_load(&ls->stopping);
}

/* Open the next input: 1, or 0 when there is none left (or on error). */
static int
open_next(struct lines *ls, struct batch *b)
{
	struct lib_err e;
	const char *name;
	char msg[1200];
	int fd, n = ls->opts.nfiles > 0 ? ls->opts.nfiles : 1;

	if (ls->next_file >= n)
		return 0;
	name = ls->opts.nfiles > 0 ? ls->opts.files[ls->next_file] : "-";
	ls->next_file++;
	if (strcmp(name, "-") == 0) {
		fd = STDIN_FILENO;
		name = "stdin";
	} else if ((fd = open(name, O_RDONLY | O_CLOEXEC)) == -1) {
		(void)snprintf(msg, sizeof(msg), "%s: %s", name, strerror(errno));
		set_fatal(ls, b, EX_NOINPUT, msg);
		return 0;
	}
	/* Workers block signals: a read is never interrupted. */
	if (ndjson_init(&ls->reader, fd, name, ls->opts.max_line, stopping,
	    ls, &e) == -1) {
		set_fatal(ls, b, e.code, e.msg);
		return 0;
	}
	ls->reading = 1;
	return 1;
}

static void
close_current(struct lines *ls)
{
	if (!ls->reading)
		return;
	ls->bytes_closed += ls->reader.bytes;
	if (ls->reader.fd != STDIN_FILENO)
		(void)close(ls->reader.fd);
	ndjson_free(&ls->reader);
	ls->reading = 0;
}

/* Fill b with the next lines of the input; under src_mu. */
static void
fill(struct lines *ls, struct batch *b)
{
	struct ndjson_line nl;
	struct lib_err e;
	char msg[1200];
	int rc;

	b->seq = ls->next_seq++;
	while (b->text.len < LINES_BATCH_BYTES && b->n < BATCH_MAX_LINES) {
		if (!ls->reading && !open_next(ls, b)) {
			ls->src_done = 1;
			break;
		}
		rc = ndjson_next(&ls->reader, &nl, &e);
		if (rc == 0) {
			close_current(ls);
			continue;
		}
		if (rc == -1 && e.code != EX_DATAERR) {
			(void)snprintf(msg, sizeof(msg), "%s: %s",
			    ls->reader.name, e.msg);
			set_fatal(ls, b, e.code, msg);
			break;
		}
		bline_push(b, nl.text, nl.len, ls->reader.name, nl.lineno);
		if (rc == -1)
			bline_error(b, &b->lines[b->n - 1], e.code, e.msg);
		/*
		 * A stream that pauses (a tail -f, a slow API) has its lines
		 * handed on now, not when a batch fills.
		 */
		if (ndjson_would_wait(&ls->reader)) {
			b->paused = 1;
			break;
		}
	}
	b->bytes = ls->bytes_closed + (ls->reading ? ls->reader.bytes : 0);
	b->end = ls->src_done;
}

/* Parse every line of b that is not already bad. */
static void
parse(struct lines *ls, struct batch *b)
{
	struct lib_err e;
	size_t i;

	if (ls->opts.keep_depth == LINES_UNPARSED)
		return;
	jval_parser_rewind(b->parser);
	for (i = 0; i < b->n; i++) {
		struct bline *l = &b->lines[i];

		if (l->code != 0)
			continue;
		l->root = jval_parse(b->parser, b->text.p + l->off, l->len,
		    ls->opts.keep_depth, &e);
		if (l->root == NULL)
			bline_error(b, l, e.code, e.msg);
	}
}

static void *
worker(void *arg)
{
	struct lines *ls = arg;
	struct batch *b;
	int i;

	for (;;) {
		(void)pthread_mutex_lock(&ls->mu);
		for (b = NULL; !ls->shutdown && !ls->no_more; ) {
			for (i = 0; i < ls->nbatches; i++)
				if (ls->batches[i].state == BATCH_FREE)
					break;
			if (i < ls->nbatches) {
				b = &ls->batches[i];
				b->state = BATCH_BUSY;
				break;
			}
			(void)pthread_cond_wait(&ls->cv, &ls->mu);
		}
		(void)pthread_mutex_unlock(&ls->mu);
		if (b == NULL)
			return NULL;

		jbuf_reset(&b->text);
		jbuf_reset(&b->msgs);
		b->n = 0;
		b->fatal = b->end = b->paused = 0;
		(void)pthread_mutex_lock(&ls->src_mu);
		if (ls->src_done)
			b->seq = NO_SEQ;
		else
			fill(ls, b);
		(void)pthread_mutex_unlock(&ls->src_mu);
		if (b->seq == NO_SEQ) {
			(void)pthread_mutex_lock(&ls->mu);
			b->state = BATCH_FREE;
			(void)pthread_cond_broadcast(&ls->cv);
			(void)pthread_mutex_unlock(&ls->mu);
			return NULL;
		}
		parse(ls, b);
		(void)pthread_mutex_lock(&ls->mu);
		if (b->end || b->fatal)
			ls->no_more = 1;
		b->state = BATCH_READY;
		(void)pthread_cond_broadcast(&ls->cv);
		(void)pthread_mutex_unlock(&ls->mu);
	}
}

struct lines *
lines_new(const struct lines_opts *o, struct lib_err *e)
{
	struct lines *ls;
	sigset_t all, old;
	int i;

	if ((ls = calloc(1, sizeof(*ls))) == NULL)
		return liberr_set(e, EX_OSERR, "out of memory"), NULL;
	ls->opts = *o;
	if (ls->opts.workers < 1)
		ls->opts.workers = 1;
	(void)pthread_mutex_init(&ls->mu, NULL);
	(void)pthread_mutex_init(&ls->src_mu, NULL);
	(void)pthread_cond_init(&ls->cv, NULL);
	/* Each worker one batch in hand and one ready, the consumer one. */
	ls->nbatches = 2 * ls->opts.workers + 1;
	if ((ls->batches = calloc((size_t)ls->nbatches, sizeof(*ls->batches))) ==
	    NULL || (ls->threads = calloc((size_t)ls->opts.workers,
	    sizeof(*ls->threads))) == NULL)
		goto oom;
	for (i = 0; i < ls->nbatches; i++) {
		/* A record may take several times its text in nodes. */
		ls->batches[i].parser = jval_parser_new(ls->opts.max_line * 8 +
		    ((size_t)1 << 20));
		if (ls->batches[i].parser == NULL)
			goto oom;
	}
	/* Signals are for the main thread: it decides what they mean. */
	(void)sigfillset(&all);
	(void)pthread_sigmask(SIG_BLOCK, &all, &old);
	for (i = 0; i < ls->opts.workers; i++) {
		if (pthread_create(&ls->threads[i], NULL, worker, ls) != 0)
			break;
		ls->nthreads++;
	}
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ls->nthreads == 0) {
		lines_free(ls);
		return liberr_set(e, EX_OSERR, "cannot start a thread"), NULL;
	}
	return ls;
oom:
	lines_free(ls);
	return liberr_set(e, EX_OSERR, "out of memory"), NULL;
}

/* Give the current batch back to the workers. */
static void
release(struct lines *ls)
{
	if (ls->cur == NULL)
		return;
	(void)pthread_mutex_lock(&ls->mu);
	ls->cur->state = BATCH_FREE;
	(void)pthread_cond_broadcast(&ls->cv);
	(void)pthread_mutex_unlock(&ls->mu);
	ls->cur = NULL;
}

/* Wait for the batch with sequence number want; NULL if interrupted. */
static struct batch *
await(struct lines *ls)
{
	struct batch *b = NULL;
	struct timespec ts;
	int i;

	(void)pthread_mutex_lock(&ls->mu);
	for (;;) {
		for (i = 0; i < ls->nbatches; i++)
			if (ls->batches[i].state == BATCH_READY &&
			    ls->batches[i].seq == ls->want) {
				b = &ls->batches[i];
				break;
			}
		if (b != NULL || (ls->opts.stop != NULL && *ls->opts.stop))
			break;
		/* Wake up now and then to see whether a signal came. */
		(void)clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100L * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		(void)pthread_cond_timedwait(&ls->cv, &ls->mu, &ts);
	}
	(void)pthread_mutex_unlock(&ls->mu);
	return b;
}

void
lines_next(struct lines *ls, struct lines_item *it)
{
	struct bline *l;

	memset(it, 0, sizeof(*it));
	for (;;) {
		if (ls->ended) {
			it->kind = LINES_END;
			return;
		}
		if (ls->cur == NULL) {
			if ((ls->cur = await(ls)) == NULL) {
				it->kind = LINES_FATAL;
				it->code = EX_TEMPFAIL;
				it->msg = "interrupted";
				return;
			}
			ls->want++;
			ls->cur_i = 0;
		}
		if (ls->cur_i < ls->cur->n)
			break;
		if (ls->cur->fatal) {
			jbuf_reset(&ls->tmpmsg);
			jbuf_puts(&ls->tmpmsg, ls->cur->fatal_msg);
			it->kind = LINES_FATAL;
			it->code = ls->cur->fatal_code;
			it->msg = jbuf_cstr(&ls->tmpmsg);
			ls->ended = 1;
			release(ls);
			return;
		}
		if (ls->cur->end)
			ls->ended = 1;
		release(ls);
	}
	l = &ls->cur->lines[ls->cur_i++];
	it->paused = ls->cur->paused && ls->cur_i == ls->cur->n;
	it->file = l->file;
	it->lineno = l->lineno;
	it->text = ls->cur->text.p + l->off;
	it->len = l->len;
	it->bytes = ls->cur->bytes;
	if (l->root != NULL || (ls->opts.keep_depth == LINES_UNPARSED &&
	    l->code == 0)) {
		it->kind = LINES_DOC;
		it->root = l->root;
	} else {
		it->kind = LINES_BAD;
		it->code = l->code;
		it->msg = ls->cur->msgs.p + l->msgoff;
	}
}

void
lines_free(struct lines *ls)
{
	int i;

	if (ls == NULL)
		return;
	/* A worker waiting on a pipe that never ends sees this within 100 ms. */
	atomic_store(&ls->stopping, 1);
	(void)pthread_mutex_lock(&ls->mu);
	ls->shutdown = 1;
	(void)pthread_cond_broadcast(&ls->cv);
	(void)pthread_mutex_unlock(&ls->mu);
	for (i = 0; i < ls->nthreads; i++)
		(void)pthread_join(ls->threads[i], NULL);
	close_current(ls);
	for (i = 0; ls->batches != NULL && i < ls->nbatches; i++) {
		jbuf_free(&ls->batches[i].text);
		jbuf_free(&ls->batches[i].msgs);
		free(ls->batches[i].lines);
		jval_parser_free(ls->batches[i].parser);
	}
	free(ls->batches);
	free(ls->threads);
	jbuf_free(&ls->tmpmsg);
	(void)pthread_mutex_destroy(&ls->mu);
	(void)pthread_mutex_destroy(&ls->src_mu);
	(void)pthread_cond_destroy(&ls->cv);
	free(ls);
}
