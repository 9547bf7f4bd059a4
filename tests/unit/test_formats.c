/*
 * Golden values of the hashes behind persisted ids (sluice(5), PERSISTED
 * IDENTIFIERS): hash64 names child tables in child row ids and hash128
 * makes root row ids and SCD2 row hashes.  They were taken once from the
 * build and must never change, on any machine: a change re-versions every
 * SCD2 row and breaks merges into existing databases.  The lengths cover
 * no word, a tail only, whole words only, words and a tail; the bytes
 * include NUL, 0x7f, 0x80 and 0xff, so that neither the host's byte order
 * nor the signedness of char can enter.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "hash.h"

static const struct golden {
	const char	*bytes;
	size_t		 len;
	uint64_t	 h64;
	uint64_t	 h128[2];
} goldens[] = {
	{ "", 0, 0xe220a8397b1dcdafULL,
	    { 0xccd8a7449c0ac4baULL, 0x47634dff941f271cULL } },
	{ "a", 1, 0xac7100ee7204bc66ULL,
	    { 0x3d9145abba99e2e0ULL, 0xfc1476eb4aefad90ULL } },
	{ "a\0", 2, 0x2fed7dc088629b98ULL,
	    { 0x12007bb532133f76ULL, 0x11749c66510ba848ULL } },
	{ "abcdefg", 7, 0x0cc74b048c1ad0b0ULL,
	    { 0xba7b659ae2227ba5ULL, 0x1e1276413c644549ULL } },
	{ "abcdefgh", 8, 0xaf5d6f1fb90150acULL,
	    { 0x82a6349e88bbed81ULL, 0x50e7ced3134e3d5dULL } },
	{ "abcdefghi", 9, 0x08653fd5781c3111ULL,
	    { 0x675288bb1831b3b0ULL, 0x0039a8ec8367f854ULL } },
	{ "orders__items__parts", 20, 0xbbcbc7839a2518a5ULL,
	    { 0xe0f7e67794c9c7aeULL, 0x0767e5f47a36a063ULL } },
	{ "\x80\xff\x00\x01\xfe\x7f\xc3\xa9", 8, 0xc07915301861fa89ULL,
	    { 0x642547a499e61203ULL, 0xfc7cb69034e6ed5aULL } },
	/* "café 😀" in UTF-8. */
	{ "caf\xc3\xa9 \xf0\x9f\x98\x80", 10, 0x8143d86d8cfb99f3ULL,
	    { 0xf605388d7a16e1dbULL, 0x80b76e7fb33058e9ULL } },
	{ "0123456789abcdef", 16, 0xb393f02f8942016cULL,
	    { 0x0864b9132ddf4b35ULL, 0xb6d748ac1eed06cfULL } },
};

#define NGOLDEN	(sizeof(goldens) / sizeof(goldens[0]))

static void
test_golden(void)
{
	uint64_t h[2];
	size_t i;

	for (i = 0; i < NGOLDEN; i++) {
		const struct golden *g = &goldens[i];

		CHECK(hash64(g->bytes, g->len) == g->h64);
		hash128(g->bytes, g->len, h);
		CHECK(h[0] == g->h128[0] && h[1] == g->h128[1]);
	}
}

/* The value does not depend on where the bytes lie: words are read unaligned. */
static void
test_alignment(void)
{
	unsigned char buf[64];
	uint64_t h[2];
	size_t i, off;

	for (i = 0; i < NGOLDEN; i++)
		for (off = 1; off < 8; off++) {
			const struct golden *g = &goldens[i];

			memset(buf, 0xa5, sizeof(buf));
			memcpy(buf + off, g->bytes, g->len);
			CHECK(hash64(buf + off, g->len) == g->h64);
			hash128(buf + off, g->len, h);
			CHECK(h[0] == g->h128[0] && h[1] == g->h128[1]);
		}
}

/* The bytes after the length are not read. */
static void
test_length(void)
{
	CHECK(hash64("abcdefghXYZ", 8) == 0xaf5d6f1fb90150acULL);
	CHECK(hash64("aXYZ", 1) == 0xac7100ee7204bc66ULL);
	CHECK(hash64("a", 1) != hash64("a\0", 2));
}

/* splitmix64's finalizer, as published. */
static void
test_mix(void)
{
	CHECK(hash_mix(0) == 0);
	CHECK(hash_mix(1) == 0x5692161d100b05e5ULL);
}

int
main(void)
{
	test_golden();
	test_alignment();
	test_length();
	test_mix();
	(void)printf("unit formats: %d passed, %d failed\n", passed, failed);
	return failed != 0;
}
