/*
 * Bytes as they come, gzip undone: a stream that starts with gzip's magic
 * is inflated (several members one after the other too, as gzip(1)
 * writes them; what follows the last complete member and is no member is
 * ignored, as zcat(1) does), any other passes through as it is.  For pgfetch's files,
 * read from disk or streamed over HTTP alike.
 */
#ifndef GUNZIP_H
#define GUNZIP_H

#include <stddef.h>

#include "liberr.h"

/*
 * Where the plain bytes go: 0 go on, 1 stop (enough records: no
 * failure), -1 failed with e set.
 */
typedef int (*gunzip_out_fn)(void *arg, const char *p, size_t n,
    struct lib_err *e);

struct gunzip;

struct gunzip	*gunzip_new(gunzip_out_fn out, void *arg);
void		 gunzip_free(struct gunzip *);

/*
 * The next bytes: 0, or what the output said (1 stop, -1 with e set), or
 * -1 with EX_DATAERR in e when the gzip data is corrupt.
 */
int	gunzip_feed(struct gunzip *, const char *p, size_t n, struct lib_err *e);
/* The end: a gzip stream cut short is an error here. */
int	gunzip_finish(struct gunzip *, struct lib_err *e);

#endif
