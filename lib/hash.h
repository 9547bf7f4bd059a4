/*
 * Fast non-cryptographic hashing: 64 bits for the child table's name in
 * a child row's id, 128 bits for root row ids and SCD2 row hashes.  Both are persisted formats (sluice(5), PERSISTED
 * IDENTIFIERS): the same bytes give the same value on every run, every
 * machine and every release, words being read little-endian whatever the
 * host's byte order and alignment; tests/unit/test_formats.c pins them.
 * Not for secrets: jsonl-normalize --hash uses HMAC-SHA256 (hmac.h).
 * Not for hash tables of input keys either: anyone can craft keys that
 * all collide (each word's step inverts); keytab.h hashes with a seed.
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
