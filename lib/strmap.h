/*
 * A map from byte strings to indexes, on keytab: the keys are copied and
 * kept in the order they came.  A zeroed struct strmap is an empty map.
 */
#ifndef STRMAP_H
#define STRMAP_H

#include <stddef.h>

#include "keytab.h"

struct strmap_entry {
	char		*key;
	size_t		 len;
	size_t		 val;
};

struct strmap {
	struct keytab	 tab;
	struct strmap_entry *v;		/* in the order of the first put */
	size_t		 n;
	size_t		 cap;
};

/* The value stored under key, or -1. */
long	strmap_get(const struct strmap *, const char *key, size_t len);
/* Store val under key (replacing any value there). */
void	strmap_put(struct strmap *, const char *key, size_t len, size_t val);
void	strmap_free(struct strmap *);

#endif
