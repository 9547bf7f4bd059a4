#include <fnmatch.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "exitcodes.h"
#include "fileset.h"
#include "url.h"
#include "xalloc.h"

/* The last path segment of src: after its last '/'. */
static const char *
last_segment(const char *src)
{
	const char *slash = strrchr(src, '/');

	return slash != NULL ? slash + 1 : src;
}

/* A local path, file://PATH, or sftp://: the sources a glob may be in. */
static int
globbable(const char *src)
{
	return strstr(src, "://") == NULL || url_has_scheme(src, "file") ||
	    url_has_scheme(src, "sftp");
}

int
fileset_is_glob(const char *src)
{
	return globbable(src) && strpbrk(last_segment(src), "*?[") != NULL;
}

static void
add(struct fileset *fs, const char *name, size_t len)
{
	fs->names = xalloc_realloc(fs->names, fs->n + 1, sizeof(*fs->names));
	fs->names[fs->n++] = xalloc_memdup(name, len);
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A local glob: glob(3) sorts; directories (marked with '/') are no files. */
static int
expand_local(const char *pattern, struct fileset *fs, struct lib_err *e)
{
	glob_t g;
	size_t i, len;
	int rc;

	memset(&g, 0, sizeof(g));
	rc = glob(pattern, GLOB_MARK, NULL, &g);
	if (rc == GLOB_NOSPACE)
		xalloc_die();
	if (rc == GLOB_ABORTED) {
		globfree(&g);
		return liberr_set(e, EX_NOINPUT, "%s: cannot read the directory",
		    pattern);
	}
	for (i = 0; rc == 0 && i < g.gl_pathc; i++)
		if ((len = strlen(g.gl_pathv[i])) > 0 &&
		    g.gl_pathv[i][len - 1] != '/')
			add(fs, g.gl_pathv[i], len);
	globfree(&g);
	if (fs->n == 0)
		return liberr_set(e, EX_NOINPUT, "%s: no file matches", pattern);
	return 0;
}

/*
 * A remote glob: the server lists the directory, the names that match
 * become URLs (escaped again: a name may hold a space or a '%').
 */
static int
expand_remote(struct http *h, const char *url, struct fileset *fs,
    struct lib_err *e)
{
	const char *seg = last_segment(url), *p, *end, *nl;
	size_t dirlen = (size_t)(seg - url);
	struct http_response r;
	struct jbuf dir = JBUF_INIT, name = JBUF_INIT, one = JBUF_INIT;
	char *pattern, *escaped;
	size_t i;
	int rc = 0;

	if ((pattern = curl_easy_unescape(NULL, seg, 0, NULL)) == NULL)
		xalloc_die();
	jbuf_put(&dir, url, dirlen);
	memset(&r, 0, sizeof(r));
	if (http_list(h, jbuf_cstr(&dir), &r, e) == -1) {
		rc = -1;
		goto out;
	}
	/* The names first, sorted as names, then each made a URL. */
	for (p = r.body.p, end = p + r.body.len; p != NULL && p < end;
	    p = nl != NULL ? nl + 1 : NULL) {
		nl = memchr(p, '\n', (size_t)(end - p));
		jbuf_reset(&name);
		jbuf_put(&name, p, (size_t)((nl != NULL ? nl : end) - p));
		if (name.len > 0 && name.p[name.len - 1] == '\r')
			name.len--;
		if (name.len == 0 || strcmp(jbuf_cstr(&name), ".") == 0 ||
		    strcmp(jbuf_cstr(&name), "..") == 0 ||
		    fnmatch(pattern, jbuf_cstr(&name), FNM_PERIOD) != 0)
			continue;
		add(fs, name.p, name.len);
	}
	qsort(fs->names, fs->n, sizeof(*fs->names), by_name);
	for (i = 0; i < fs->n; i++) {
		if ((escaped = curl_easy_escape(NULL, fs->names[i], 0)) == NULL)
			xalloc_die();
		jbuf_reset(&one);
		jbuf_put(&one, url, dirlen);
		jbuf_puts(&one, escaped);
		curl_free(escaped);
		free(fs->names[i]);
		fs->names[i] = xalloc_memdup(one.p, one.len);
	}
	if (fs->n == 0) {
		jbuf_reset(&one);
		url_redact(NULL, url, &one);
		rc = liberr_set(e, EX_NOINPUT, "%s: no file matches",
		    jbuf_cstr(&one));
	}
out:
	http_response_free(&r);
	curl_free(pattern);
	jbuf_free(&dir);
	jbuf_free(&name);
	jbuf_free(&one);
	return rc;
}

int
fileset_expand(struct http *h, const char *src, struct fileset *fs,
    struct lib_err *e)
{
	fileset_free(fs);
	if (!fileset_is_glob(src)) {
		add(fs, src, strlen(src));
		return 0;
	}
	if (url_has_scheme(src, "file"))
		return expand_local(src + strlen("file://"), fs, e);
	if (strstr(src, "://") == NULL)
		return expand_local(src, fs, e);
	return expand_remote(h, src, fs, e);
}

void
fileset_free(struct fileset *fs)
{
	while (fs->n > 0)
		free(fs->names[--fs->n]);
	free(fs->names);
	fs->names = NULL;
}
