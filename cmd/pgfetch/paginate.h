/*
 * Walking a paginated API: ask for a page (http.c), take its records
 * out of the body, write them, work out the next request from the page
 * (page number, offset, a cursor or a next URL in the body, the Link
 * header), until the API says there is no more.
 */
#ifndef PAGINATE_H
#define PAGINATE_H

#include "http.h"
#include "liberr.h"
#include "transform.h"

enum page_mode {
	PAGE_AUTO, PAGE_NONE, PAGE_PAGE, PAGE_OFFSET, PAGE_CURSOR, PAGE_NEXT,
	PAGE_LINK
};

/* Where a walk stands after a page was written: what a checkpoint keeps. */
struct page_mark {
	enum page_mode	 mode;		/* auto, once resolved */
	unsigned long long pages;	/* written so far */
	unsigned long long records;
	long long	 page;		/* page: the next page's number */
	long long	 offset;	/* offset: the next offset */
	const char	*cursor;	/* cursor: the next cursor, or NULL */
	const char	*next;		/* next, link: the next URL, or NULL */
};

struct page_opts {
	enum page_mode	 mode;
	const char	*page_param;	/* page */
	long long	 start;
	const char	*offset_param;	/* offset */
	const char	*limit_param;
	long long	 limit;
	const char	*cursor_path;	/* cursor */
	const char	*cursor_param;
	const char	*next_path;	/* next */
	const char	*total_path;	/* page, offset: the total in the body */
	const char	*records;	/* where the records are in a body */
	struct transform *records_jq;	/* or a jq program that yields them */
	unsigned int	 parallel;	/* page, offset: requests in flight */
	const struct page_mark *resume;	/* go on from there, or NULL */
	unsigned long long max_pages;
	const char	*const *params;	/* NAME=VALUE query parameters */
	size_t		 nparams;
	size_t		 max_body;	/* bytes of one parsed body */
	/*
	 * The callbacks are the program's.  A record: 0 go on; 1 stop, as
	 * a success (enough records: no further page is asked for); -1
	 * stop, failed, with e set (a write error), which paginate returns.
	 */
	int		(*record)(void *arg, const char *json, size_t len,
			    struct lib_err *e);
	/*
	 * A record that is not an object: 0 to go on without it, -1 to stop
	 * with e set (--on-error fail).  NULL: such a record fails the run.
	 */
	int		(*bad)(void *arg, const char *json, size_t len,
			    unsigned long n, const char *why, struct lib_err *e);
	/* A page was written (mark says where the walk stands); -1 with e set. */
	int		(*mark)(void *arg, const struct page_mark *mark,
			    struct lib_err *e);
	/*
	 * auto and none: the first answer's Content-Type says it is a file
	 * (JSON Lines, CSV, gzip), to be streamed instead; nothing was
	 * written.  NULL: every answer is a page.
	 */
	void		(*file)(void *arg, const char *content_type);
	/* A remark for stderr, e.g. the paginator auto chose. */
	void		(*note)(void *arg, const char *msg);
	void		*arg;
};

/*
 * 0 when the last page was read, or --max-pages, or record said it has
 * enough; -1 with e set: the walk's own failure ("page N: why" for a bad
 * page), or a callback's as the callback set it.
 */
int	paginate(struct http *, const char *url, const struct page_opts *,
	    struct lib_err *e);

/* "page", "offset"... into *mode; -1 if the name is none of them. */
int	paginate_mode(const char *name, enum page_mode *mode);
const char *paginate_mode_name(enum page_mode);

/* url with the NAME=VALUE query parameters added (escaped), into out. */
void	paginate_base(const char *url, const char *const *params, size_t n,
	    struct jbuf *out);

#endif
