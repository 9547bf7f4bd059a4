#include <errno.h>
#include <fnmatch.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

/* One file: its name, and the name it is shown by. */
static void
add(struct fileset *fs, const char *name)
{
	struct fileset_file *f;
	struct jbuf shown = JBUF_INIT;

	fs->files = xalloc_realloc(fs->files, fs->n + 1, sizeof(*fs->files));
	f = &fs->files[fs->n++];
	f->name = xalloc_strdup(name);
	if (strcmp(name, "-") == 0)
		f->shown = xalloc_strdup("stdin");
	else if (strstr(name, "://") != NULL) {
		url_strip(NULL, name, &shown);
		f->shown = xalloc_memdup(shown.p, shown.len);
	} else
		f->shown = xalloc_strdup(name);
	f->mtime = -1;
	jbuf_free(&shown);
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
	size_t i, len, n0 = fs->n;
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
			add(fs, g.gl_pathv[i]);
	globfree(&g);
	if (fs->n == n0)
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
	char *pattern, *escaped, **names = NULL;
	size_t i, n = 0;
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
		names = xalloc_realloc(names, n + 1, sizeof(*names));
		names[n++] = xalloc_memdup(name.p, name.len);
	}
	if (n > 1)
		qsort(names, n, sizeof(*names), by_name);
	for (i = 0; i < n; i++) {
		if ((escaped = curl_easy_escape(NULL, names[i], 0)) == NULL)
			xalloc_die();
		jbuf_reset(&one);
		jbuf_put(&one, url, dirlen);
		jbuf_puts(&one, escaped);
		curl_free(escaped);
		add(fs, jbuf_cstr(&one));
		free(names[i]);
	}
	free(names);
	if (n == 0) {
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
fileset_add(struct http *h, const char *src, struct fileset *fs,
    struct lib_err *e)
{
	if (!fileset_is_glob(src)) {
		add(fs, src);
		return 0;
	}
	if (url_has_scheme(src, "file"))
		return expand_local(src + strlen("file://"), fs, e);
	if (strstr(src, "://") == NULL)
		return expand_local(src, fs, e);
	return expand_remote(h, src, fs, e);
}

int
fileset_stat(struct http *h, struct fileset *fs, size_t from,
    struct lib_err *e)
{
	struct fileset_file *f;
	const char *path;
	struct stat sb;
	size_t i;

	for (i = from; i < fs->n; i++) {
		f = &fs->files[i];
		if (strcmp(f->name, "-") == 0)
			return liberr_set(e, EX_USAGE, "stdin has no modification "
			    "time: it cannot be one of a set of files with "
			    "bookmarks");
		if (strstr(f->name, "://") != NULL &&
		    !url_has_scheme(f->name, "file")) {
			if (http_mtime(h, f->name, &f->mtime, e) == -1)
				return -1;
			continue;
		}
		path = url_has_scheme(f->name, "file") ?
		    f->name + strlen("file://") : f->name;
		if (stat(path, &sb) == -1)
			return liberr_set(e, EX_NOINPUT, "%s: %s", path,
			    strerror(errno));
		f->mtime = (long long)sb.st_mtime;
	}
	return 0;
}

static int
by_time(const void *a, const void *b)
{
	const struct fileset_file *x = a, *y = b;

	if (x->mtime != y->mtime)
		return x->mtime < y->mtime ? -1 : 1;
	return strcmp(x->shown, y->shown);
}

void
fileset_sort_by_time(struct fileset *fs)
{
	if (fs->n > 1)
		qsort(fs->files, fs->n, sizeof(*fs->files), by_time);
}

void
fileset_after(struct fileset *fs, long long mtime, const char *name)
{
	size_t i, kept = 0;

	for (i = 0; i < fs->n; i++) {
		struct fileset_file *f = &fs->files[i];

		if (f->mtime > mtime ||
		    (f->mtime == mtime && strcmp(f->shown, name) > 0))
			fs->files[kept++] = *f;
		else {
			free(f->name);
			free(f->shown);
		}
	}
	fs->n = kept;
}

void
fileset_free(struct fileset *fs)
{
	while (fs->n > 0) {
		fs->n--;
		free(fs->files[fs->n].name);
		free(fs->files[fs->n].shown);
	}
	free(fs->files);
	fs->files = NULL;
}
