#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdlib.h>

#include "exitcodes.h"
#include "hmac.h"

struct hmac {
	EVP_MAC		*mac;
	EVP_MAC_CTX	*keyed;		/* holds the key */
};

struct hmac *
hmac_new(const void *key, size_t keylen, struct lib_err *e)
{
	static char digest[] = "SHA256";	/* OSSL_PARAM wants it writable */
	OSSL_PARAM params[2];
	struct hmac *h;

	if ((h = calloc(1, sizeof(*h))) == NULL) {
		(void)liberr_set(e, EX_OSERR, "out of memory");
		return NULL;
	}
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	if ((h->mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL ||
	    (h->keyed = EVP_MAC_CTX_new(h->mac)) == NULL ||
	    EVP_MAC_init(h->keyed, key, keylen, params) != 1) {
		hmac_free(h);
		(void)liberr_set(e, EX_SOFTWARE, "libcrypto: HMAC-SHA256 unavailable");
		return NULL;
	}
	return h;
}

void
hmac_free(struct hmac *h)
{
	if (h == NULL)
		return;
	EVP_MAC_CTX_free(h->keyed);
	EVP_MAC_free(h->mac);
	free(h);
}

int
hmac_tagged_hex(struct hmac *h, unsigned char tag, const void *msg, size_t len,
    char hex[HMAC_HEX_LEN], struct lib_err *e)
{
	static const char digits[] = "0123456789abcdef";
	unsigned char d[EVP_MAX_MD_SIZE];
	size_t dlen = 0, i;

	/*
	 * Without a key, EVP_MAC_init starts over with the key it has: its
	 * schedule is worked out once, in hmac_new, not for every value.
	 */
	if (EVP_MAC_init(h->keyed, NULL, 0, NULL) != 1 ||
	    EVP_MAC_update(h->keyed, &tag, 1) != 1 ||
	    (len > 0 && EVP_MAC_update(h->keyed, msg, len) != 1) ||
	    EVP_MAC_final(h->keyed, d, &dlen, sizeof(d)) != 1 || dlen != 32)
		return liberr_set(e, EX_SOFTWARE, "libcrypto: HMAC-SHA256 failed");
	for (i = 0; i < 32; i++) {
		hex[2 * i] = digits[d[i] >> 4];
		hex[2 * i + 1] = digits[d[i] & 15];
	}
	return 0;
}
