#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exitcodes.h"
#include "extract.h"
#include "jbuf.h"
#include "jval.h"
#include "paginate.h"

int
paginate_mode(const char *name, enum page_mode *mode)
{
	static const struct {
		const char	*name;
		enum page_mode	 mode;
	} modes[] = {
		{ "auto", PAGE_AUTO }, { "none", PAGE_NONE }, { "page", PAGE_PAGE },
		{ "offset", PAGE_OFFSET }, { "cursor", PAGE_CURSOR },
		{ "next", PAGE_NEXT }, { "link", PAGE_LINK },
	};
	size_t i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (strcmp(name, modes[i].name) == 0) {
			*mode = modes[i].mode;
			return 0;
		}
	return -1;
}

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

int
paginate(struct http *h, const char *url, const struct page_opts *o,
    struct lib_err *e)
{
	struct http_response r;
	struct jval_parser *p;
	struct jbuf base = JBUF_INIT, req = JBUF_INIT, tmp = JBUF_INIT;
	struct jbuf cursor = JBUF_INIT, next = JBUF_INIT;
	const struct jval *root, *recs, *m, *v;
	enum page_mode mode = o->mode;
	unsigned long long pages = 0, total_seen = 0;
	long long page = o->start, offset = 0;
	char num[32], note[64];
	size_t i, count;
	int single, rc = -1, have_cursor = 0;

	memset(&r, 0, sizeof(r));
	if ((p = jval_parser_new(o->max_body * 8 + ((size_t)1 << 20))) == NULL)
		return liberr_set(e, EX_OSERR, "out of memory");
	/* The base request: the URL and every -p parameter. */
	jbuf_puts(&base, url);
	for (i = 0; i < o->nparams; i++) {
		const char *eq = strchr(o->params[i], '=');

		jbuf_reset(&tmp);
		jbuf_put(&tmp, o->params[i], (size_t)(eq - o->params[i]));
		http_add_param(jbuf_cstr(&base), jbuf_cstr(&tmp), eq + 1, &req);
		jbuf_reset(&base);
		jbuf_put(&base, req.p, req.len);
	}
	(void)jbuf_cstr(&base);

	for (;;) {
		/* This page's request. */
		switch (mode) {
		case PAGE_PAGE:
			(void)snprintf(num, sizeof(num), "%lld", page);
			http_add_param(base.p, o->page_param, num, &req);
			break;
		case PAGE_OFFSET:
			(void)snprintf(num, sizeof(num), "%lld", offset);
			http_add_param(base.p, o->offset_param, num, &tmp);
			(void)snprintf(num, sizeof(num), "%lld", o->limit);
			http_add_param(jbuf_cstr(&tmp), o->limit_param, num, &req);
			break;
		case PAGE_CURSOR:
			if (have_cursor)
				http_add_param(base.p, o->cursor_param,
				    jbuf_cstr(&cursor), &req);
			else {
				jbuf_reset(&req);
				jbuf_put(&req, base.p, base.len);
			}
			break;
		default:
			jbuf_reset(&req);
			if (pages > 0)
				jbuf_put(&req, next.p, next.len);
			else
				jbuf_put(&req, base.p, base.len);
			break;
		}
		if (http_get(h, jbuf_cstr(&req), &r, e) == -1)
			goto out;
		jval_parser_rewind(p);
		if (r.body.len > o->max_body) {
			(void)liberr_set(e, EX_DATAERR, "page %llu: body longer than "
			    "%zu bytes", pages + 1, o->max_body);
			goto out;
		}
		if ((root = jval_parse(p, r.body.p, r.body.len, JVAL_KEEP_ALL,
		    e)) == NULL || (recs = records_of(root, o->records, &single,
		    e)) == NULL) {
			(void)liberr_prefix(e, "page %llu", pages + 1);
			goto out;
		}
		/* The page arrived and parsed whole: now it may be written. */
		count = 0;
		for (m = single ? recs : recs->child; m != NULL;
		    m = single ? NULL : m->next) {
			if (m->type != JV_OBJECT) {
				(void)liberr_set(e, EX_DATAERR, "page %llu: record "
				    "%zu is not an object", pages + 1, count + 1);
				goto out;
			}
			jbuf_reset(&tmp);
			jbuf_value(&tmp, m);
			count++;
			if (o->record(o->arg, tmp.p, tmp.len) == -1) {
				rc = 0;
				goto out;
			}
		}
		(void)snprintf(note, sizeof(note), "%ld (%zu records, %ld ms)",
		    r.status, count, r.ms);
		http_trace(h, jbuf_cstr(&req), note);
		pages++;
		total_seen += count;
		if (o->max_pages > 0 && pages >= o->max_pages)
			break;

		if (mode == PAGE_AUTO) {
			if (r.next != NULL)
				mode = PAGE_LINK;
			else if (is_url(jval_get(root, o->next_path)))
				mode = PAGE_NEXT;
			else
				mode = PAGE_NONE;
			(void)snprintf(note, sizeof(note), "paginating by %s",
			    mode == PAGE_LINK ? "Link header" : mode == PAGE_NEXT ?
			    "the next URL in the body" : "nothing: one page");
			if (o->note != NULL)
				o->note(o->arg, note);
		}
		switch (mode) {
		case PAGE_PAGE:
		case PAGE_OFFSET:
			if (count == 0 ||
			    (mode == PAGE_OFFSET && (long long)count < o->limit))
				goto done;
			if (o->total_path != NULL && (v = jval_path(root, o->total_path)) !=
			    NULL && text_of(v, &tmp) == 0 &&
			    total_seen >= strtoull(tmp.p, NULL, 10))
				goto done;
			page++;
			offset += (long long)count;
			break;
		case PAGE_CURSOR:
			if (text_of(jval_path(root, o->cursor_path), &cursor) == -1)
				goto done;
			have_cursor = 1;
			break;
		case PAGE_NEXT:
			/* Any string: relative ones resolve against this page. */
			if (text_of(v = jval_path(root, o->next_path), &tmp) == -1 ||
			    v->type != JV_STRING ||
			    http_resolve(jbuf_cstr(&req), tmp.p, &next) == -1)
				goto done;
			break;
		case PAGE_LINK:
			if (r.next == NULL ||
			    http_resolve(jbuf_cstr(&req), r.next, &next) == -1)
				goto done;
			break;
		default:
			goto done;
		}
	}
done:
	rc = 0;
out:
	http_response_free(&r);
	jval_parser_free(p);
	jbuf_free(&base);
	jbuf_free(&req);
	jbuf_free(&tmp);
	jbuf_free(&cursor);
	jbuf_free(&next);
	return rc;
}
