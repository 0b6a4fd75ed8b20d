/*
 * seal: client-side encryption of off-site copies with libsodium's
 * secretstream (XChaCha20-Poly1305): a header, then 64 KiB chunks each
 * authenticated, the last one tagged FINAL, so truncation, reordering and
 * tampering are all detected.  The key is 32 bytes, raw or as 64 hex digits,
 * from a file (never the command line).
 */
#ifndef FERRY_UTIL_SEAL_H
#define FERRY_UTIL_SEAL_H

#include <stddef.h>
#include <sys/types.h>

#include "util/buf.h"
#include "util/err.h"

#define SEAL_KEYBYTES 32
#define SEAL_CHUNK (64u * 1024)

int seal_load_key(const char *path, unsigned char key[SEAL_KEYBYTES],
		  struct err *e) __attribute__((warn_unused_result));

/* Encrypting reader over a plaintext fd (an s3_reader). */
struct seal_reader;
struct seal_reader *seal_reader_new(int fd, const unsigned char *key);
ssize_t seal_read(void *ud, void *buf, size_t cap, struct err *e);
void seal_reader_free(struct seal_reader *r);

/* Decrypting writer into a plaintext fd (an s3_writer); seal_writer_end()
 * fails unless the stream ended with its FINAL chunk. */
struct seal_writer;
struct seal_writer *seal_writer_new(int fd, const unsigned char *key);
int seal_write(void *ud, const void *buf, size_t len, struct err *e);
int seal_writer_end(struct seal_writer *w, struct err *e)
	__attribute__((warn_unused_result));
void seal_writer_free(struct seal_writer *w);

/* One-shot, for small things (manifests). */
void seal_buffer(const unsigned char *key, const void *in, size_t len,
		 struct buf *out);
int unseal_buffer(const unsigned char *key, const void *in, size_t len,
		  struct buf *out, struct err *e)
	__attribute__((warn_unused_result));

#endif
