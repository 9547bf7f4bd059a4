/*
 * Keyed tokens of personal data (jsonl-normalize --hash): HMAC-SHA256
 * through libcrypto (OpenSSL), never hand-written cryptography.
 */
#ifndef HMAC_H
#define HMAC_H

#include <stddef.h>

#include "liberr.h"

#define HMAC_HEX_LEN	64	/* a token: 32 bytes in lower-case hex */

struct hmac;

/* A keyed hasher; the key is copied.  NULL with e set on failure. */
struct hmac *hmac_new(const void *key, size_t keylen, struct lib_err *e);
void	hmac_free(struct hmac *);

/*
 * HMAC-SHA256(key, tag || msg) in hex, into hex[0..HMAC_HEX_LEN): the one
 * tag byte first, then the len bytes at msg.  -1 with e set on failure.
 */
int	hmac_tagged_hex(struct hmac *, unsigned char tag, const void *msg,
	    size_t len, char hex[HMAC_HEX_LEN], struct lib_err *e);

#endif
