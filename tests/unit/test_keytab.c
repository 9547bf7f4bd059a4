/*
 * Unit tests of keytab (and strmap on it): find and insert, growth, the
 * bytes it reports, truncation, the seed, and keys crafted so that
 * hash64 gives them all one value, which must not pile up in one probe
 * run now that the buckets are placed by the seeded hash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "hash.h"
#include "keytab.h"
#include "strmap.h"

/* The owner: keys as 16-byte words. */
struct words {
	unsigned char (*key)[16];
	size_t		 n;
};

static int
same_word(const void *owner, size_t pos, const void *key, size_t len)
{
	const struct words *w = owner;

	return len == 16 && memcmp(w->key[pos], key, 16) == 0;
}

/* Add key w->key[w->n] the Redis way; its position, old or new. */
static long
add(struct keytab *t, struct words *w)
{
	uint64_t h = keytab_hash(w->key[w->n], 16);
	size_t slot;
	long pos;

	(void)keytab_reserve(t, w->n + 1);
	pos = keytab_find_position(t, h, same_word, w, w->key[w->n], 16, &slot);
	if (pos != -1)
		return pos;
	keytab_insert(t, slot, h, w->n);
	return (long)w->n++;
}

static long
find(const struct keytab *t, const struct words *w, const void *key)
{
	return keytab_find(t, keytab_hash(key, 16), same_word, w, key, 16);
}

/* The longest distance from a key's home slot to where it sits. */
static size_t
longest_probe(const struct keytab *t)
{
	size_t i, d, most = 0, mask = t->cap - 1;

	for (i = 0; i < t->cap; i++) {
		if (t->slots[i].pos == 0)
			continue;
		d = (i - (t->slots[i].hash & mask)) & mask;
		most = d > most ? d : most;
	}
	return most;
}

static void
put_le64(unsigned char *p, uint64_t w)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (unsigned char)(w >> (8 * i));
}

/* The inverse of an odd multiplier modulo 2^64 (Newton's iteration). */
static uint64_t
inverse(uint64_t a)
{
	uint64_t x = a;
	int i;

	for (i = 0; i < 6; i++)
		x *= 2 - a * x;
	return x;
}

static uint64_t
unxorshift(uint64_t y, int s)
{
	uint64_t x = y;
	int i;

	for (i = 0; i < 64 / s + 1; i++)
		x = y ^ (x >> s);
	return x;
}

/* The inverse of hash_mix (splitmix64's finalizer). */
static uint64_t
unmix(uint64_t x)
{
	x = unxorshift(x, 31);
	x *= inverse(0x94d049bb133111ebULL);
	x = unxorshift(x, 27);
	x *= inverse(0xbf58476d1ce4e5b9ULL);
	return unxorshift(x, 30);
}

/*
 * 16-byte keys that all have hash64 value of the first: for each first
 * word, the second word that brings hash64's state back to one value.
 * hash64 is h = mix(((K1 ^ 16 ^ mix(w0)) * K2 ^ mix(w1)) * K2).
 */
static void
colliding_keys(struct words *w, size_t n)
{
	const uint64_t K1 = 0x9e3779b97f4a7c15ULL, K2 = 0xc2b2ae3d27d4eb4fULL;
	const uint64_t target = 0x0123456789abcdefULL;
	uint64_t h, w0;
	size_t i;

	for (i = 0; i < n; i++) {
		w0 = 0x1000 + i;
		h = ((K1 ^ 16) ^ hash_mix(w0)) * K2;
		put_le64(w->key[i], w0);
		put_le64(w->key[i] + 8, unmix(h ^ target));
	}
}

static void
test_colliding(void)
{
	enum { N = 20000 };
	struct words w = { calloc(N, 16), 0 };
	struct keytab t = { NULL, 0, 0, 0 };
	size_t i, same = 0;
	int ok = 1;

	colliding_keys(&w, N);
	for (i = 0; i < N; i++)
		same += hash64(w.key[i], 16) == hash64(w.key[0], 16);
	/* The keys do collide in full under hash64... */
	CHECK(same == N);
	for (i = 0; i < N; i++)
		ok &= add(&t, &w) == (long)i;
	CHECK(ok);
	CHECK(t.n == N && w.n == N);
	for (i = 0; i < N; i += 97)
		CHECK(find(&t, &w, w.key[i]) == (long)i);
	/* ...but not under the seeded hash: no long probe run. */
	CHECK(longest_probe(&t) < 64);
	keytab_free(&t);
	free(w.key);
}

static void
test_find_insert_grow(void)
{
	enum { N = 5000 };
	struct words w = { calloc(N + 1, 16), 0 };
	struct keytab t = { NULL, 0, 0, 0 };
	unsigned char absent[16] = "not a key here!";
	size_t i, bytes;
	int grew, ok = 1;

	CHECK(find(&t, &w, absent) == -1);	/* never reserved */
	CHECK(keytab_bytes(&t) == 0);
	for (i = 0; i < N; i++) {
		(void)snprintf((char *)w.key[i], 16, "key %zu", i);
		bytes = keytab_bytes_for(&t, i + 1);
		grew = keytab_reserve(&t, i + 1);
		/* The bytes foretold are the bytes held; growth is told. */
		ok &= keytab_bytes(&t) == bytes;
		ok &= t.cap * sizeof(struct keytab_slot) == bytes;
		ok &= (t.cap & (t.cap - 1)) == 0 && (i + 1) * 2 <= t.cap;
		ok &= grew == (i == 0 || (i > 4 && i * 4 == t.cap));
		ok &= add(&t, &w) == (long)i;
	}
	CHECK(ok);
	CHECK(t.cap == 16384 && t.n == N);
	CHECK(keytab_bytes_for(&t, N) == keytab_bytes(&t));
	CHECK(keytab_bytes_for(&t, 8193) == 2 * keytab_bytes(&t));
	CHECK(keytab_reserve(&t, 100) == 0);
	/* Adding a key again finds it; nothing is added. */
	memcpy(w.key[N], w.key[17], 16);
	CHECK(add(&t, &w) == 17 && w.n == N && t.n == N);
	for (i = 0, ok = 1; i < N; i++)
		ok &= find(&t, &w, w.key[i]) == (long)i;
	CHECK(ok);
	CHECK(find(&t, &w, absent) == -1);

	/* Truncation keeps the positions below n, in place. */
	keytab_truncate(&t, 1000);
	CHECK(t.n == 1000 && t.cap == 16384);
	CHECK(find(&t, &w, w.key[999]) == 999);
	CHECK(find(&t, &w, w.key[1000]) == -1);
	CHECK(find(&t, &w, w.key[4999]) == -1);
	keytab_clear(&t);
	CHECK(t.n == 0 && find(&t, &w, w.key[0]) == -1);
	keytab_free(&t);
	CHECK(t.slots == NULL && t.cap == 0);

	/* The first allocation as the owner asks (dedup-merge: 1024). */
	t.first = 1024;
	CHECK(keytab_bytes_for(&t, 1) == 1024 * sizeof(struct keytab_slot));
	CHECK(keytab_reserve(&t, 1) == 1 && t.cap == 1024);
	keytab_free(&t);
	free(w.key);
}

/* keytab_hash in a fresh child: its seed is its own. */
static uint64_t
hash_in_child(void)
{
	uint64_t h = 0;
	int fd[2], status;
	pid_t pid;

	if (pipe(fd) == -1 || (pid = fork()) == -1)
		return 0;
	if (pid == 0) {
		h = keytab_hash("sluice", 6);
		_exit(write(fd[1], &h, sizeof(h)) == sizeof(h) ? 0 : 1);
	}
	(void)close(fd[1]);
	if (read(fd[0], &h, sizeof(h)) != sizeof(h))
		h = 0;
	(void)close(fd[0]);
	(void)waitpid(pid, &status, 0);
	return h;
}

static void
test_seed(void)
{
	/* SipHash-2-4's test vector: key 00..0f, message 00..0e. */
	static const unsigned char want[8] = {
		0xe5, 0x45, 0xbe, 0x49, 0x61, 0xca, 0x29, 0xa1
	};
	unsigned char key[KEYTAB_SEEDBYTES], msg[15];
	uint64_t a, b, h;
	size_t i;

	/* Before this process draws its seed: two children, two seeds. */
	a = hash_in_child();
	b = hash_in_child();
	CHECK(a != 0 && b != 0 && a != b);

	for (i = 0; i < sizeof(key); i++)
		key[i] = (unsigned char)i;
	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (unsigned char)i;
	keytab_seed(key);
	h = keytab_hash(msg, sizeof(msg));
	CHECK(memcmp(&h, want, 8) == 0);
	key[0] = 1;
	keytab_seed(key);
	CHECK(keytab_hash(msg, sizeof(msg)) != h);
}

static void
test_strmap(void)
{
	struct strmap m;
	char k[32];
	size_t i;
	int ok = 1;

	memset(&m, 0, sizeof(m));
	CHECK(strmap_get(&m, "a", 1) == -1);
	for (i = 0; i < 3000; i++) {
		(void)snprintf(k, sizeof(k), "name_%zu", i);
		strmap_put(&m, k, strlen(k), i * 2);
	}
	strmap_put(&m, "name_7", 6, 70);		/* replaces */
	strmap_put(&m, "", 0, 5);			/* the empty key */
	strmap_put(&m, "a\0b", 3, 6);			/* NUL inside */
	for (i = 0; i < 3000; i++) {
		(void)snprintf(k, sizeof(k), "name_%zu", i);
		ok &= strmap_get(&m, k, strlen(k)) == (i == 7 ? 70 : (long)i * 2);
	}
	CHECK(ok);
	CHECK(m.n == 3002);
	CHECK(strmap_get(&m, "", 0) == 5);
	CHECK(strmap_get(&m, "a\0b", 3) == 6);
	CHECK(strmap_get(&m, "a", 1) == -1);
	CHECK(strmap_get(&m, "name_3000", 9) == -1);
	strmap_free(&m);
	CHECK(m.n == 0 && strmap_get(&m, "name_1", 6) == -1);
}

int
main(void)
{
	test_seed();		/* first: the children must draw their own */
	test_find_insert_grow();
	test_colliding();
	test_strmap();
	(void)printf("unit keytab: %d passed, %d failed\n", passed, failed);
	return failed != 0;
}
