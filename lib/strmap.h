/*
 * A map from byte strings to indexes (open addressing, hash64), for the
 * name tables of the normalizer.  Keys are copied.
 */
#ifndef STRMAP_H
#define STRMAP_H

#include <stddef.h>

struct strmap_slot {
	char		*key;		/* NULL: empty */
	size_t		 len;
	size_t		 val;
};

struct strmap {
	struct strmap_slot *slots;
	size_t		 cap;
	size_t		 n;
};

/* The value stored under key, or -1. */
long	strmap_get(const struct strmap *, const char *key, size_t len);
/* Store val under key (replacing any value there). */
void	strmap_put(struct strmap *, const char *key, size_t len, size_t val);
void	strmap_free(struct strmap *);

#endif
