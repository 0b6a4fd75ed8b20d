#include "agent/sha256.h"

#include <openssl/evp.h>

void sha256_hex_digest(const unsigned char digest[32], char out[65])
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 0; i < 32; i++) {
		out[2 * i] = hex[digest[i] >> 4];
		out[2 * i + 1] = hex[digest[i] & 15];
	}
	out[64] = '\0';
}

void sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char d[32];

	EVP_Digest(data, len, d, NULL, EVP_sha256(), NULL);
	sha256_hex_digest(d, out);
}
