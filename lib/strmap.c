#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "strmap.h"
#include "xalloc.h"

static size_t
slot_of(const struct strmap *m, const char *key, size_t len)
{
	size_t i;

	for (i = hash64(key, len) & (m->cap - 1); m->slots[i].key != NULL;
	    i = (i + 1) & (m->cap - 1))
		if (m->slots[i].len == len && memcmp(m->slots[i].key, key, len) == 0)
			break;
	return i;
}

long
strmap_get(const struct strmap *m, const char *key, size_t len)
{
	size_t i;

	if (m->cap == 0)
		return -1;
	i = slot_of(m, key, len);
	return m->slots[i].key != NULL ? (long)m->slots[i].val : -1;
}

static void
grow(struct strmap *m)
{
	struct strmap old = *m;
	size_t i, j;

	m->cap = old.cap ? old.cap * 2 : 64;
	m->slots = xalloc_calloc(m->cap, sizeof(*m->slots));
	for (i = 0; i < old.cap; i++) {
		if (old.slots[i].key == NULL)
			continue;
		j = slot_of(m, old.slots[i].key, old.slots[i].len);
		m->slots[j] = old.slots[i];
	}
	free(old.slots);
}

void
strmap_put(struct strmap *m, const char *key, size_t len, size_t val)
{
	size_t i;

	if ((m->n + 1) * 2 > m->cap)
		grow(m);
	i = slot_of(m, key, len);
	if (m->slots[i].key == NULL) {
		m->slots[i].key = xalloc_memdup(key, len);
		m->slots[i].len = len;
		m->n++;
	}
	m->slots[i].val = val;
}

void
strmap_free(struct strmap *m)
{
	size_t i;

	for (i = 0; i < m->cap; i++)
		free(m->slots[i].key);
	free(m->slots);
	m->slots = NULL;
	m->cap = m->n = 0;
}
