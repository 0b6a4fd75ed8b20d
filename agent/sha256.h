/*
 * sha256: SHA-256 (OpenSSL's libcrypto) as the lowercase hex that
 * manifests, S3 headers and deploy checksums all use.
 */
#ifndef FERRY_SHA256_H
#define FERRY_SHA256_H

#include <stddef.h>

void sha256_hex_digest(const unsigned char digest[32], char out[65]);
void sha256_hex(const void *data, size_t len, char out[65]);

#endif
