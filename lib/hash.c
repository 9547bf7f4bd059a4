#include <string.h>

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

static uint64_t
load64(const unsigned char *p, size_t n)
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
		w = load64(p, 8);
		a = hash_mix(a ^ w) * K2;
		b = hash_mix(b + w * K1) ^ a;
	}
	if (len > 0) {
		w = load64(p, len);
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
	uint64_t h = K1 ^ len, w;

	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&w, p, 8);
		h = (h ^ hash_mix(w)) * K2;
	}
	if (len > 0)
		h = (h ^ hash_mix(load64(p, len))) * K2;
	return hash_mix(h);
}
