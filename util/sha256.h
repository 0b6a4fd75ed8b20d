/*
 * sha256: SHA-256 (OpenSSL's libcrypto) as the lowercase hex that
 * manifests, S3 headers and deploy checksums all use, in one go or
 * streamed.  libcrypto failing on SHA-256 can only mean it is out of
 * memory, which is fatal here as in xmalloc().
 */
#ifndef FERRY_UTIL_SHA256_H
#define FERRY_UTIL_SHA256_H

#include <stddef.h>

void sha256_hex_digest(const unsigned char digest[32], char out[65]);
void sha256_hex(const void *data, size_t len, char out[65]);

/* A running hash: new (ready), update..., hex (which also resets it for
 * the next input), free. */
struct sha256;
struct sha256 *sha256_new(void);
void sha256_update(struct sha256 *h, const void *data, size_t len);
void sha256_final_hex(struct sha256 *h, char out[65]);
void sha256_free(struct sha256 *h);

#endif
