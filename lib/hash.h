/*
 * Fast non-cryptographic hashing: 64 bits for in-memory maps, 128 bits
 * for row ids that must be the same on every run and every machine (the
 * bytes are read little-endian whatever the host).  Not for secrets:
 * jsonl-normalize --hash uses HMAC-SHA256 (hmac.h).
 */
#ifndef HASH_H
#define HASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t	hash64(const void *, size_t);
void		hash128(const void *, size_t, uint64_t out[2]);
/* splitmix64's finalizer: a bijection of 64-bit words. */
uint64_t	hash_mix(uint64_t);

#endif
