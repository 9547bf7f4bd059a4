#include "hash.h"

#define K1	0x9e3779b97f4a7c15ULL
#define K2	0xc2b2ae3d27d4eb4fULL

uint64_t
hash_mix(uint64_t x)
{
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/*
 * The 8 bytes at p as a little-endian word, whatever the host's byte
 * order or alignment: the values are persisted (sluice(5), PERSISTED
 * IDENTIFIERS).  GCC and Clang compile this to one load on a
 * little-endian host and a load and a byte swap on a big-endian one.
 */
static inline uint64_t
le64(const unsigned char *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
	    (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 |
	    (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
}

/* The n < 8 bytes at p as a little-endian word, zero above them. */
static uint64_t
le_tail(const unsigned char *p, size_t n)
{
	uint64_t w = 0;
	size_t i;

	for (i = 0; i < n; i++)
		w |= (uint64_t)p[i] << (8 * i);
	return w;
}

/*
 * Two lanes, each word folded in with a multiply and the bijective mix;
 * the length is folded in first, so "a" and "a\0" differ.
 */
void
hash128(const void *data, size_t len, uint64_t out[2])
{
	const unsigned char *p = data;
	uint64_t a = K1 ^ len, b = K2 ^ (len * K1), w;

	for (; len >= 8; p += 8, len -= 8) {
		w = le64(p);
		a = hash_mix(a ^ w) * K2;
		b = hash_mix(b + w * K1) ^ a;
	}
	if (len > 0) {
		w = le_tail(p, len);
		a = hash_mix(a ^ w ^ 0xff) * K2;
		b = hash_mix(b + w * K1 + 0xff) ^ a;
	}
	out[0] = hash_mix(a ^ hash_mix(b));
	out[1] = hash_mix(b ^ out[0]);
}

uint64_t
hash64(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = K1 ^ len;

	for (; len >= 8; p += 8, len -= 8)
		h = (h ^ hash_mix(le64(p))) * K2;
	if (len > 0)
		h = (h ^ hash_mix(le_tail(p, len))) * K2;
	return hash_mix(h);
}
