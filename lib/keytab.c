#include <assert.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "hash.h"
#include "keytab.h"
#include "xalloc.h"

/*
 * The slots stop doubling where 32 bits of hash no longer spread them.
 * KEYTAB_MAX is below that, so a probe always ends at an empty slot (a
 * 32-bit host runs out of memory long before).
 */
#if SIZE_MAX > UINT32_MAX
#define MAXCAP		((size_t)1 << 32)
#else
#define MAXCAP		((size_t)1 << (sizeof(size_t) * 8 - 1))
#endif
#define FIRSTCAP	16

_Static_assert(KEYTAB_SEEDBYTES == crypto_shorthash_KEYBYTES,
    "a seed is a SipHash key");

static unsigned char seed[crypto_shorthash_KEYBYTES];
static pthread_once_t seed_once = PTHREAD_ONCE_INIT;

/*
 * libsodium's random bytes when it starts; else (it never fails on a
 * usable system) the clock and the process: a weak seed only spreads
 * crafted keys less well, every lookup stays right.
 */
static void
seed_init(void)
{
	struct timespec ts;
	uint64_t w[2];

	if (sodium_init() >= 0) {
		randombytes_buf(seed, sizeof(seed));
		return;
	}
	(void)clock_gettime(CLOCK_REALTIME, &ts);
	w[0] = hash_mix((uint64_t)ts.tv_sec ^ (uint64_t)getpid() << 32);
	w[1] = hash_mix((uint64_t)ts.tv_nsec ^ (uint64_t)(uintptr_t)&ts);
	memcpy(seed, w, sizeof(seed));
}

void
keytab_seed(const unsigned char s[KEYTAB_SEEDBYTES])
{
	(void)pthread_once(&seed_once, seed_init);
	memcpy(seed, s, sizeof(seed));
}

uint64_t
keytab_hash(const void *key, size_t len)
{
	unsigned char out[crypto_shorthash_BYTES];
	uint64_t h;

	(void)pthread_once(&seed_once, seed_init);
	(void)crypto_shorthash(out, key, len, seed);
	memcpy(&h, out, sizeof(h));
	return h;
}

/* The capacity keytab_reserve(count) leaves: load at most 1/2. */
static size_t
cap_for(const struct keytab *t, size_t count)
{
	size_t cap;

	if (count <= t->cap / 2 || t->cap == MAXCAP)
		return t->cap;
	cap = t->cap ? t->cap * 2 : t->first ? t->first : FIRSTCAP;
	while (count > cap / 2 && cap < MAXCAP)
		cap *= 2;
	return cap;
}

size_t
keytab_bytes(const struct keytab *t)
{
	return t->cap * sizeof(*t->slots);
}

size_t
keytab_bytes_for(const struct keytab *t, size_t count)
{
	return cap_for(t, count) * sizeof(*t->slots);
}

/* The first slot from hash's home on that is empty. */
static size_t
empty_slot(const struct keytab_slot *slots, size_t cap, uint32_t hash)
{
	size_t i, mask = cap - 1;

	for (i = hash & mask; slots[i].pos != 0; i = (i + 1) & mask)
		;
	return i;
}

/* The slots placed again, by the hashes they hold, into newcap slots. */
static void
replace(struct keytab *t, size_t newcap, size_t keep)
{
	struct keytab_slot *old = t->slots;
	size_t i, j;

	t->slots = xalloc_calloc(newcap, sizeof(*t->slots));
	t->n = 0;
	for (i = 0; i < t->cap; i++) {
		if (old[i].pos == 0 || old[i].pos > keep)
			continue;
		j = empty_slot(t->slots, newcap, old[i].hash);
		t->slots[j] = old[i];
		t->n++;
	}
	free(old);
	t->cap = newcap;
}

int
keytab_reserve(struct keytab *t, size_t count)
{
	size_t cap = cap_for(t, count);

	if (cap == t->cap)
		return 0;
	replace(t, cap, KEYTAB_MAX);
	return 1;
}

long
keytab_find_position(const struct keytab *t, uint64_t hash,
    keytab_same_fn same, const void *owner, const void *key, size_t len,
    size_t *slot)
{
	const struct keytab_slot *s;
	size_t i, mask = t->cap - 1;
	uint32_t h = (uint32_t)hash;

	if (t->cap == 0) {
		*slot = 0;
		return -1;
	}
	for (i = h & mask; (s = &t->slots[i])->pos != 0; i = (i + 1) & mask)
		if (s->hash == h && same(owner, s->pos - 1, key, len))
			return (long)s->pos - 1;
	*slot = i;
	return -1;
}

long
keytab_find(const struct keytab *t, uint64_t hash, keytab_same_fn same,
    const void *owner, const void *key, size_t len)
{
	size_t slot;

	if (t->n == 0)
		return -1;
	return keytab_find_position(t, hash, same, owner, key, len, &slot);
}

void
keytab_insert(struct keytab *t, size_t slot, uint64_t hash, size_t pos)
{
	/* Room made before the slot was found: one slot stays empty. */
	assert(t->n + 1 < t->cap && pos < KEYTAB_MAX &&
	    t->slots[slot].pos == 0);
	t->slots[slot].pos = (uint32_t)pos + 1;
	t->slots[slot].hash = (uint32_t)hash;
	t->n++;
}

void
keytab_truncate(struct keytab *t, size_t n)
{
	if (n == 0)
		keytab_clear(t);
	else if (t->cap > 0)
		replace(t, t->cap, n);
}

void
keytab_clear(struct keytab *t)
{
	if (t->cap > 0)
		memset(t->slots, 0, t->cap * sizeof(*t->slots));
	t->n = 0;
}

void
keytab_free(struct keytab *t)
{
	free(t->slots);
	t->slots = NULL;
	t->cap = t->n = 0;
}
