#include "util/md5.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>

struct md5 {
	EVP_MD_CTX *md;
};

static void fatal(const char *what)
{
	fprintf(stderr, "ferry: %s failed (out of memory?)\n", what);
	abort();
}

struct md5 *md5_new(void)
{
	struct md5 *h = malloc(sizeof(*h));

	if (!h || !(h->md = EVP_MD_CTX_new()) ||
	    EVP_DigestInit_ex(h->md, EVP_md5(), NULL) != 1)
		fatal("MD5 context");
	return h;
}

void md5_update(struct md5 *h, const void *data, size_t len)
{
	if (EVP_DigestUpdate(h->md, data, len) != 1)
		fatal("MD5 update");
}

void md5_final(struct md5 *h, unsigned char digest[16])
{
	if (EVP_DigestFinal_ex(h->md, digest, NULL) != 1 ||
	    EVP_DigestInit_ex(h->md, EVP_md5(), NULL) != 1)
		fatal("MD5 final");
}

void md5_free(struct md5 *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->md);
	free(h);
}

void md5_digest(const void *data, size_t len, unsigned char digest[16])
{
	if (EVP_Digest(data, len, digest, NULL, EVP_md5(), NULL) != 1)
		fatal("MD5");
}

void md5_hex(const unsigned char digest[16], char out[33])
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 0; i < 16; i++) {
		out[2 * i] = hex[digest[i] >> 4];
		out[2 * i + 1] = hex[digest[i] & 15];
	}
	out[32] = '\0';
}

void md5_base64(const unsigned char digest[16], char out[25])
{
	/* 16 bytes are 24 base64 characters; EVP_EncodeBlock adds the NUL. */
	EVP_EncodeBlock((unsigned char *)out, digest, 16);
}
