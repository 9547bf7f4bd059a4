#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exitcodes.h"
#include "extract.h"
#include "jbuf.h"
#include "jval.h"
#include "paginate.h"
#include "url.h"
#include "xalloc.h"

static const struct {
	const char	*name;
	enum page_mode	 mode;
} modes[] = {
	{ "auto", PAGE_AUTO }, { "none", PAGE_NONE }, { "page", PAGE_PAGE },
	{ "offset", PAGE_OFFSET }, { "cursor", PAGE_CURSOR },
	{ "next", PAGE_NEXT }, { "link", PAGE_LINK },
};

int
paginate_mode(const char *name, enum page_mode *mode)
{
	size_t i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (strcmp(name, modes[i].name) == 0) {
			*mode = modes[i].mode;
			return 0;
		}
	return -1;
}

const char *
paginate_mode_name(enum page_mode mode)
{
	size_t i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (modes[i].mode == mode)
			return modes[i].name;
	return "?";
}

/* Where APIs put the next page's URL, for auto when --next-path finds none. */
static const char *const next_places[] = {
	"next", "links.next", "paging.next", "meta.next", "pagination.next",
	"next_page_url", "_links.next.href", "@odata.nextLink"
};

/* One walk over the pages of an API. */
struct walk {
	struct http	*h;
	const struct page_opts *o;
	struct jval_parser *p;
	struct jval_parser *jq_parser;	/* the arrays --records-jq yields */
	enum page_mode	 mode;
	struct page_mark at;		/* where the walk stands */
	struct jbuf	 base;		/* the URL with every -p parameter */
	struct jbuf	 req;		/* this page's request */
	struct jbuf	 tmp;
	struct jbuf	 cursor;	/* cursor: the next one */
	struct jbuf	 next;		/* next, link: the next URL */
	struct jbuf	 jq_out;
	int		 have_cursor;
};

/*
 * The records of a body: the array at --records, a top-level array, an
 * envelope's data/items/results/records array, or the object itself.
 */
static const struct jval *
records_of(const struct jval *root, const char *path, int *single,
    struct lib_err *e)
{
	const struct jval *m, *v = NULL;

	*single = 0;
	if (path != NULL) {
		if ((v = jval_path(root, path)) == NULL || v->type != JV_ARRAY)
			return liberr_set(e, EX_DATAERR, "no array at --records %s",
			    path), NULL;
		return v;
	}
	if (root->type == JV_ARRAY)
		return root;
	if (root->type != JV_OBJECT)
		return liberr_set(e, EX_DATAERR,
		    "the body is neither an object nor an array"), NULL;
	/* The first envelope member, as a streamed file would give. */
	for (m = root->child; m != NULL && v == NULL; m = m->next)
		if (m->type == JV_ARRAY && extract_envelope(m->key, m->keylen))
			v = m;
	if (v != NULL)
		return v;
	*single = 1;
	return root;
}

/* A scalar's text: a string's bytes, a number's text; else nothing. */
static int
text_of(const struct jval *v, struct jbuf *out)
{
	jbuf_reset(out);
	if (v == NULL || (v->type != JV_STRING && v->type != JV_NUMBER) ||
	    v->len == 0)
		return -1;
	jbuf_put(out, v->str, v->len);
	(void)jbuf_cstr(out);
	return 0;
}

static int
is_url(const struct jval *v)
{
	return v != NULL && v->type == JV_STRING && v->len > 0 &&
	    (v->str[0] == '/' || (v->len > 4 && memcmp(v->str, "http", 4) == 0));
}

/* auto: a next URL in the body, at --next-path or a usual place. */
static const char *
next_place(const struct walk *w, const struct jval *root)
{
	size_t i;

	if (is_url(jval_path(root, w->o->next_path)))
		return w->o->next_path;
	for (i = 0; i < sizeof(next_places) / sizeof(next_places[0]); i++)
		if (is_url(jval_path(root, next_places[i])))
			return next_places[i];
	return NULL;
}

/* The request for the page k places after the next one, into w->req. */
static void
request(struct walk *w, unsigned long long k)
{
	const struct page_opts *o = w->o;
	char num[32];

	switch (w->mode) {
	case PAGE_PAGE:
		(void)snprintf(num, sizeof(num), "%lld", w->at.page + (long long)k);
		url_add_param(w->base.p, o->page_param, num, &w->req);
		break;
	case PAGE_OFFSET:
		(void)snprintf(num, sizeof(num), "%lld",
		    w->at.offset + (long long)k * o->limit);
		url_add_param(w->base.p, o->offset_param, num, &w->tmp);
		(void)snprintf(num, sizeof(num), "%lld", o->limit);
		url_add_param(jbuf_cstr(&w->tmp), o->limit_param, num, &w->req);
		break;
	case PAGE_CURSOR:
		if (w->have_cursor)
			url_add_param(w->base.p, o->cursor_param,
			    jbuf_cstr(&w->cursor), &w->req);
		else {
			jbuf_reset(&w->req);
			jbuf_put(&w->req, w->base.p, w->base.len);
		}
		break;
	default:
		jbuf_reset(&w->req);
		if (w->next.len > 0)
			jbuf_put(&w->req, w->next.p, w->next.len);
		else
			jbuf_put(&w->req, w->base.p, w->base.len);
		break;
	}
	(void)jbuf_cstr(&w->req);
}

/*
 * How writing a page's records went.  A page is taken in two passes, so
 * that it is written whole or not at all: the first puts each element
 * that is not an object through --on-error, which may stop the run; the
 * second writes the objects.
 */
enum records {
	RECORDS_WRITTEN,
	RECORDS_ENOUGH,		/* record said it has enough */
	RECORDS_FAILED		/* e set, whole: a callback's, or "page N: ..." */
};

/* What a page leads to. */
enum step {
	STEP_MORE,		/* another page to ask for */
	STEP_LAST,		/* that was the last, or record had enough */
	STEP_FAILED		/* e set */
};

/* One record of a page, in the first pass (write 0) or the second. */
static enum records
emit(struct walk *w, const char *json, size_t len, int object,
    unsigned long n, int write, struct lib_err *e)
{
	char why[96];
	int rc;

	if (!write) {
		if (object)
			return RECORDS_WRITTEN;
		(void)snprintf(why, sizeof(why), "page %llu: record %lu is not an "
		    "object", w->at.pages + 1, n);
		if (w->o->bad == NULL) {
			(void)liberr_set(e, EX_DATAERR, "%s", why);
			return RECORDS_FAILED;
		}
		return w->o->bad(w->o->arg, json, len, n, why, e) == -1 ?
		    RECORDS_FAILED : RECORDS_WRITTEN;
	}
	if (!object)
		return RECORDS_WRITTEN;
	if ((rc = w->o->record(w->o->arg, json, len, e)) == 0)
		return RECORDS_WRITTEN;
	return rc == 1 ? RECORDS_ENOUGH : RECORDS_FAILED;
}

/* --records-jq: every output an object is a record; an array, several. */
static enum records
emit_jq(struct walk *w, unsigned long *count, int write, struct lib_err *e)
{
	const struct jval *root, *m;
	const char *line, *nl, *end;
	enum records rc;

	end = w->jq_out.p + w->jq_out.len;
	*count = 0;
	for (line = w->jq_out.p; line < end; line = nl + 1) {
		nl = memchr(line, '\n', (size_t)(end - line));
		if (*line != '[') {
			if ((rc = emit(w, line, (size_t)(nl - line), *line == '{',
			    ++*count, write, e)) != RECORDS_WRITTEN)
				return rc;
			continue;
		}
		jval_parser_rewind(w->jq_parser);
		if ((root = jval_parse(w->jq_parser, line, (size_t)(nl - line),
		    JVAL_KEEP_ALL, e)) == NULL) {
			(void)liberr_prefix(e, "page %llu", w->at.pages + 1);
			return RECORDS_FAILED;
		}
		for (m = root->child; m != NULL; m = m->next) {
			jbuf_reset(&w->tmp);
			jval_write(&w->tmp, m);
			if ((rc = emit(w, w->tmp.p, w->tmp.len, m->type ==
			    JV_OBJECT, ++*count, write, e)) != RECORDS_WRITTEN)
				return rc;
		}
	}
	return RECORDS_WRITTEN;
}

/* The records of a page (found as records_of says), one pass. */
static enum records
emit_found(struct walk *w, const struct jval *recs, int single,
    unsigned long *count, int write, struct lib_err *e)
{
	const struct jval *m;
	enum records rc = RECORDS_WRITTEN;

	*count = 0;
	for (m = single ? recs : recs->child; m != NULL &&
	    rc == RECORDS_WRITTEN; m = single ? NULL : m->next) {
		jbuf_reset(&w->tmp);
		jval_write(&w->tmp, m);
		rc = emit(w, w->tmp.p, w->tmp.len, m->type == JV_OBJECT, ++*count,
		    write, e);
	}
	return rc;
}

/* --records-jq: the records its output holds, both passes. */
static enum records
write_jq(struct walk *w, const struct http_response *r,
    const struct jval *root, unsigned long *count, unsigned long *listed,
    struct lib_err *e)
{
	const struct page_opts *o = w->o;
	const struct jval *recs, *m;
	enum records rc;
	int single = 0;

	jbuf_reset(&w->jq_out);
	if (transform_run(o->records_jq, r->body.p, r->body.len, &w->jq_out,
	    e) == -1) {
		(void)liberr_prefix(e, "page %llu", w->at.pages + 1);
		return RECORDS_FAILED;
	}
	if ((rc = emit_jq(w, count, 0, e)) == RECORDS_WRITTEN)
		rc = emit_jq(w, count, 1, e);
	if (rc == RECORDS_FAILED)
		return rc;
	/* An empty page is one whose array is, when it has one. */
	*listed = *count;
	if ((recs = records_of(root, o->records, &single, e)) != NULL &&
	    !single)
		for (*listed = 0, m = recs->child; m != NULL; m = m->next)
			++*listed;
	return rc;
}

/*
 * The records of a page that arrived whole: parsed (into *root), then
 * written, *count of them, and the -v line said.  *listed: the elements
 * of its array, which say whether it was the last.
 */
static enum records
write_page(struct walk *w, const struct http_response *r,
    const struct jval **root, unsigned long *listed, struct lib_err *e)
{
	const struct page_opts *o = w->o;
	const struct jval *recs = NULL;
	unsigned long count = 0;
	char note[64];
	int single = 0;
	enum records rc;

	liberr_clear(e);
	jval_parser_rewind(w->p);
	if (r->body.len > o->max_body) {
		(void)liberr_set(e, EX_DATAERR, "page %llu: body longer than "
		    "%zu bytes", w->at.pages + 1, o->max_body);
		return RECORDS_FAILED;
	}
	if ((*root = jval_parse(w->p, r->body.p, r->body.len, JVAL_KEEP_ALL,
	    e)) == NULL || (o->records_jq == NULL && (recs = records_of(*root,
	    o->records, &single, e)) == NULL)) {
		(void)liberr_prefix(e, "page %llu", w->at.pages + 1);
		return RECORDS_FAILED;
	}
	/* The page arrived and parsed whole: now it may be written. */
	if (o->records_jq != NULL)
		rc = write_jq(w, r, *root, &count, listed, e);
	else {
		if ((rc = emit_found(w, recs, single, &count, 0, e)) ==
		    RECORDS_WRITTEN)
			rc = emit_found(w, recs, single, &count, 1, e);
		*listed = count;
	}
	if (rc == RECORDS_FAILED)
		return rc;
	liberr_clear(e);
	(void)snprintf(note, sizeof(note), "%ld (%lu records, %ld ms)",
	    r->status, count, r->ms);
	http_trace(w->h, jbuf_cstr(&w->req), note);
	if (rc == RECORDS_WRITTEN) {
		w->at.pages++;
		w->at.records += count;
	}
	return rc;
}

/* auto: the first page says how to paginate: a Link, a next URL, none. */
static void
choose_mode(struct walk *w, const struct http_response *r,
    const struct jval *root)
{
	const struct page_opts *o = w->o;
	char note[64];

	if (r->next != NULL)
		w->mode = PAGE_LINK;
	else if (next_place(w, root) != NULL)
		w->mode = PAGE_NEXT;
	else
		w->mode = PAGE_NONE;
	(void)snprintf(note, sizeof(note), "paginating by %s",
	    w->mode == PAGE_LINK ? "Link header" : w->mode == PAGE_NEXT ?
	    "the next URL in the body" : "nothing: one page");
	if (o->note != NULL)
		o->note(o->arg, note);
	w->at.mode = w->mode;
}

/*
 * After a page that was written (root its body, listed the elements of
 * its array): where the next request goes, in w->at, w->cursor or
 * w->next.  STEP_MORE if there is one, else STEP_LAST.
 */
static enum step
next_request(struct walk *w, const struct http_response *r,
    const struct jval *root, unsigned long listed)
{
	const struct page_opts *o = w->o;
	const struct jval *v;
	const char *place;

	if (w->mode == PAGE_AUTO)
		choose_mode(w, r, root);
	switch (w->mode) {
	case PAGE_PAGE:
	case PAGE_OFFSET:
		w->at.page++;
		w->at.offset += (long long)listed;
		if (listed == 0 ||
		    (w->mode == PAGE_OFFSET && (long long)listed < o->limit))
			return STEP_LAST;
		if (o->total_path != NULL && (v = jval_path(root, o->total_path)) !=
		    NULL && text_of(v, &w->tmp) == 0 &&
		    w->at.records >= strtoull(w->tmp.p, NULL, 10))
			return STEP_LAST;
		return STEP_MORE;
	case PAGE_CURSOR:
		if (text_of(jval_path(root, o->cursor_path), &w->cursor) == -1)
			return STEP_LAST;
		w->have_cursor = 1;
		return STEP_MORE;
	case PAGE_NEXT:
		/* Any string: relative ones resolve against this page. */
		v = jval_path(root, o->next_path);
		if ((v == NULL || v->type != JV_STRING) &&
		    (place = next_place(w, root)) != NULL)
			v = jval_path(root, place);
		if (v == NULL || v->type != JV_STRING ||
		    text_of(v, &w->tmp) == -1 ||
		    url_resolve(jbuf_cstr(&w->req), w->tmp.p, &w->next) == -1)
			return STEP_LAST;
		return STEP_MORE;
	case PAGE_LINK:
		if (r->next == NULL ||
		    url_resolve(jbuf_cstr(&w->req), r->next, &w->next) == -1)
			return STEP_LAST;
		return STEP_MORE;
	default:
		return STEP_LAST;
	}
}

/* A page arrived whole: write its records, then work out the next request. */
static enum step
take(struct walk *w, const struct http_response *r, struct lib_err *e)
{
	const struct jval *root = NULL;
	unsigned long listed = 0;

	switch (write_page(w, r, &root, &listed, e)) {
	case RECORDS_WRITTEN:
		return next_request(w, r, root, listed);
	case RECORDS_ENOUGH:
		return STEP_LAST;
	case RECORDS_FAILED:
	default:
		return STEP_FAILED;
	}
}

/* After a page: the checkpoint, and --max-pages. */
static enum step
marked(struct walk *w, enum step step, struct lib_err *e)
{
	w->at.cursor = w->have_cursor ? jbuf_cstr(&w->cursor) : NULL;
	w->at.next = w->next.len > 0 ? jbuf_cstr(&w->next) : NULL;
	if (w->o->mark != NULL && w->o->mark(w->o->arg, &w->at, e) == -1)
		return STEP_FAILED;
	if (step == STEP_MORE && w->o->max_pages > 0 &&
	    w->at.pages >= w->o->max_pages)
		return STEP_LAST;
	return step;
}

/* A page taken and marked. */
static enum step
take_marked(struct walk *w, const struct http_response *r, struct lib_err *e)
{
	enum step step = take(w, r, e);

	if (step == STEP_MORE || step == STEP_LAST)
		step = marked(w, step, e);
	return step;
}

/* paginate's return: 0 after the last page, -1 with e set. */
static int
walked(enum step step)
{
	return step == STEP_FAILED ? -1 : 0;
}

static int
sequential(struct walk *w, struct lib_err *e)
{
	struct http_response r;
	enum step step;

	memset(&r, 0, sizeof(r));
	do {
		request(w, 0);
		/* A first answer that says it is a file goes to o->file. */
		http_probe_files(w->h, w->o->file != NULL && w->at.pages == 0 &&
		    (w->mode == PAGE_AUTO || w->mode == PAGE_NONE));
		if (http_get(w->h, w->req.p, &r, e) == -1) {
			step = STEP_FAILED;
			break;
		}
		http_probe_files(w->h, 0);
		if (r.file_type != NULL && w->o->file != NULL) {
			w->o->file(w->o->arg, r.file_type);
			step = STEP_LAST;
			break;
		}
		step = take_marked(w, &r, e);
	} while (step == STEP_MORE);
	http_response_free(&r);
	return walked(step);
}

/*
 * --parallel N for page and offset: N requests in flight, pages written in
 * order as each next one arrives.  The page that ends the walk drops the
 * ones asked for beyond it, whatever they held (an error past the end, a
 * 404 from an API that has no such page, is no error).
 */
struct slot {
	struct http_response r;
	int		 state;		/* 0 asked, 1 arrived, -1 failed */
	struct lib_err	 err;
};

static int
parallel(struct walk *w, struct lib_err *e)
{
	unsigned int n = w->o->parallel;
	struct slot *slots = xalloc_realloc(NULL, n, sizeof(*slots)), *s;
	struct http_response r, swap;
	unsigned long long asked = 0, written = 0, k, limit = ~0ULL;
	struct lib_err err;
	size_t tag;
	enum step step = STEP_MORE;
	int rc;

	memset(slots, 0, n * sizeof(*slots));
	memset(&r, 0, sizeof(r));
	if (w->o->max_pages > 0)
		limit = w->o->max_pages - w->at.pages;
	while (step == STEP_MORE) {
		/* Keep N pages asked for beyond the last one written. */
		for (; asked < written + n && asked < limit; asked++) {
			request(w, asked - written);
			slots[asked % n].state = 0;
			http_add(w->h, w->req.p, (size_t)asked);
		}
		liberr_clear(&err);
		if ((rc = http_next(w->h, &tag, &r, &err)) == 0)
			break;
		s = &slots[tag % n];
		swap = s->r;
		s->r = r;
		r = swap;
		s->state = rc == 1 ? 1 : -1;
		s->err = err;
		/* Write what arrived in order. */
		while (step == STEP_MORE &&
		    (s = &slots[written % n])->state != 0) {
			request(w, 0);
			if (s->state == -1) {
				*e = s->err;
				step = STEP_FAILED;
			} else
				step = take_marked(w, &s->r, e);
			s->state = 0;
			written++;
		}
	}
	http_cancel(w->h);
	for (k = 0; k < n; k++)
		http_response_free(&slots[k].r);
	http_response_free(&r);
	free(slots);
	return walked(step);
}

void
paginate_base(const char *url, const char *const *params, size_t n,
    struct jbuf *out)
{
	struct jbuf name = JBUF_INIT, with = JBUF_INIT;
	size_t i;

	jbuf_reset(out);
	jbuf_puts(out, url);
	for (i = 0; i < n; i++) {
		const char *eq = strchr(params[i], '=');

		jbuf_reset(&name);
		jbuf_put(&name, params[i], (size_t)(eq - params[i]));
		url_add_param(jbuf_cstr(out), jbuf_cstr(&name), eq + 1, &with);
		jbuf_reset(out);
		jbuf_put(out, with.p, with.len);
	}
	(void)jbuf_cstr(out);
	jbuf_free(&name);
	jbuf_free(&with);
}

int
paginate(struct http *h, const char *url, const struct page_opts *o,
    struct lib_err *e)
{
	struct walk w;
	int rc;

	memset(&w, 0, sizeof(w));
	w.h = h;
	w.o = o;
	w.mode = o->mode;
	if ((w.p = jval_parser_new(o->max_body * 8 + ((size_t)1 << 20))) ==
	    NULL || (w.jq_parser = jval_parser_new(o->max_body * 8 +
	    ((size_t)1 << 20))) == NULL) {
		jval_parser_free(w.p);
		return liberr_set(e, EX_OSERR, "out of memory");
	}
	paginate_base(url, o->params, o->nparams, &w.base);
	w.at.mode = w.mode;
	w.at.page = o->start;
	if (o->resume != NULL) {
		/* A checkpoint: go on after the last page it saw written. */
		w.at = *o->resume;
		w.mode = w.at.mode;
		if (w.at.cursor != NULL) {
			jbuf_puts(&w.cursor, w.at.cursor);
			w.have_cursor = 1;
		}
		if (w.at.next != NULL)
			jbuf_puts(&w.next, w.at.next);
		w.at.cursor = w.at.next = NULL;
	}
	if (o->parallel > 1 && (w.mode == PAGE_PAGE || w.mode == PAGE_OFFSET))
		rc = parallel(&w, e);
	else
		rc = sequential(&w, e);
	jval_parser_free(w.p);
	jval_parser_free(w.jq_parser);
	jbuf_free(&w.base);
	jbuf_free(&w.req);
	jbuf_free(&w.tmp);
	jbuf_free(&w.cursor);
	jbuf_free(&w.next);
	jbuf_free(&w.jq_out);
	return rc;
}
