#include "util/sha256.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>

struct sha256 {
	EVP_MD_CTX *md;
};

static void fatal(const char *what)
{
	fprintf(stderr, "ferry: %s failed (out of memory?)\n", what);
	abort();
}

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

	if (EVP_Digest(data, len, d, NULL, EVP_sha256(), NULL) != 1)
		fatal("SHA-256");
	sha256_hex_digest(d, out);
}

struct sha256 *sha256_new(void)
{
	struct sha256 *h = malloc(sizeof(*h));

	if (!h || !(h->md = EVP_MD_CTX_new()) ||
	    EVP_DigestInit_ex(h->md, EVP_sha256(), NULL) != 1)
		fatal("SHA-256 context");
	return h;
}

void sha256_update(struct sha256 *h, const void *data, size_t len)
{
	if (EVP_DigestUpdate(h->md, data, len) != 1)
		fatal("SHA-256 update");
}

void sha256_final_hex(struct sha256 *h, char out[65])
{
	unsigned char d[32];

	if (EVP_DigestFinal_ex(h->md, d, NULL) != 1 ||
	    EVP_DigestInit_ex(h->md, EVP_sha256(), NULL) != 1)
		fatal("SHA-256 final");
	sha256_hex_digest(d, out);
}

void sha256_free(struct sha256 *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->md);
	free(h);
}
