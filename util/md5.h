/*
 * md5: MD5 (OpenSSL's libcrypto) for what S3 speaks in it: a plain
 * object's ETag is the hex MD5 of its body, and Content-MD5 headers carry
 * it in base64.  Not used for anything that needs a secure hash.
 */
#ifndef FERRY_UTIL_MD5_H
#define FERRY_UTIL_MD5_H

#include <stddef.h>

/* A running hash: new (ready), update..., final (which also resets it for
 * the next input), free. */
struct md5;
struct md5 *md5_new(void);
void md5_update(struct md5 *h, const void *data, size_t len);
void md5_final(struct md5 *h, unsigned char digest[16]);
void md5_free(struct md5 *h);

void md5_digest(const void *data, size_t len, unsigned char digest[16]);
/* Lowercase hex (33 bytes with the NUL) and base64 (25 bytes). */
void md5_hex(const unsigned char digest[16], char out[33]);
void md5_base64(const unsigned char digest[16], char out[25]);

#endif
