#include <stdlib.h>
#include <string.h>

#include "strmap.h"
#include "xalloc.h"

static int
same_key(const void *owner, size_t pos, const void *key, size_t len)
{
	const struct strmap_entry *e = &((const struct strmap *)owner)->v[pos];

	return e->len == len && memcmp(e->key, key, len) == 0;
}

long
strmap_get(const struct strmap *m, const char *key, size_t len)
{
	long pos;

	if (m->n == 0)
		return -1;
	pos = keytab_find(&m->tab, keytab_hash(key, len), same_key, m, key,
	    len);
	return pos == -1 ? -1 : (long)m->v[pos].val;
}

void
strmap_put(struct strmap *m, const char *key, size_t len, size_t val)
{
	uint64_t h = keytab_hash(key, len);
	size_t slot;
	long pos;

	(void)keytab_reserve(&m->tab, m->n + 1);
	if ((pos = keytab_find_position(&m->tab, h, same_key, m, key, len,
	    &slot)) != -1) {
		m->v[pos].val = val;
		return;
	}
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 16;
		m->v = xalloc_realloc(m->v, m->cap, sizeof(*m->v));
	}
	m->v[m->n].key = xalloc_memdup(key, len);
	m->v[m->n].len = len;
	m->v[m->n].val = val;
	keytab_insert(&m->tab, slot, h, m->n++);
}

void
strmap_free(struct strmap *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		free(m->v[i].key);
	free(m->v);
	keytab_free(&m->tab);
	memset(m, 0, sizeof(*m));
}
