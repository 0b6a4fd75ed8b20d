#include "util/seal.h"

#include "util/fdio.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <sys/mman.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HDR crypto_secretstream_xchacha20poly1305_HEADERBYTES
#define ABYTES crypto_secretstream_xchacha20poly1305_ABYTES
#define CT_CHUNK (SEAL_CHUNK + ABYTES)
#define TAG_FINAL crypto_secretstream_xchacha20poly1305_TAG_FINAL

typedef crypto_secretstream_xchacha20poly1305_state sstate;

int seal_load_key(const char *path, unsigned char key[SEAL_KEYBYTES],
		  struct err *e)
{
	unsigned char raw[130];
	size_t bin = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (sodium_init() < 0)
		return err_set(e, FX_FAIL, "libsodium cannot start");
	if (fd < 0)
		return err_set(e, FX_USAGE, "encrypt_key_file %s: %s", path,
			       strerror(errno));
	n = read(fd, raw, sizeof(raw));
	close(fd);
	if (n == SEAL_KEYBYTES) {
		memcpy(key, raw, SEAL_KEYBYTES);
	} else if (n >= 64 && sodium_hex2bin(key, SEAL_KEYBYTES, (char *)raw,
					     (size_t)n, " \r\n", &bin, NULL) == 0 &&
		   bin == SEAL_KEYBYTES) {
		/* 64 hex digits (and a newline) */
	} else {
		sodium_memzero(raw, sizeof(raw));
		return err_set(e, FX_USAGE, "encrypt_key_file %s: expected 32 "
			       "bytes or 64 hex digits (head -c 32 /dev/urandom "
			       "> FILE)", path);
	}
	sodium_memzero(raw, sizeof(raw));
	return 0;
}

/* ---- encrypt --------------------------------------------------------------- */

struct seal_reader {
	int fd;
	sstate st;
	unsigned char key[SEAL_KEYBYTES];
	unsigned char plain[2][SEAL_CHUNK];	/* current + look-ahead */
	size_t plen[2];
	int have_next, eof, done, started;
	unsigned char out[CT_CHUNK];
	size_t olen, ooff;
};

struct seal_reader *seal_reader_new(int fd, const unsigned char *key)
{
	struct seal_reader *r = xcalloc(1, sizeof(*r));

	r->fd = fd;
	memcpy(r->key, key, SEAL_KEYBYTES);
	return r;
}

/* Produces the next ciphertext piece into r->out. */
static int next_piece(struct seal_reader *r, struct err *e)
{
	unsigned long long clen = 0;
	ssize_t n;
	int last;

	if (!r->started) {
		crypto_secretstream_xchacha20poly1305_init_push(&r->st, r->out,
								r->key);
		r->olen = HDR;
		r->ooff = 0;
		r->started = 1;
		n = fd_read_full(r->fd, r->plain[0], SEAL_CHUNK);
		if (n < 0)
			return err_set(e, FX_FAIL, "encrypt: read: %s",
				       strerror(errno));
		r->plen[0] = (size_t)n;
		return 0;
	}
	/* Look one chunk ahead: only then is it known which is last. */
	n = r->plen[0] == SEAL_CHUNK ? fd_read_full(r->fd, r->plain[1], SEAL_CHUNK) : 0;
	if (n < 0)
		return err_set(e, FX_FAIL, "encrypt: read: %s", strerror(errno));
	last = n == 0;
	crypto_secretstream_xchacha20poly1305_push(&r->st, r->out, &clen,
		r->plain[0], r->plen[0], NULL, 0, last ? TAG_FINAL : 0);
	r->olen = (size_t)clen;
	r->ooff = 0;
	if (last) {
		r->done = 1;
	} else {
		memcpy(r->plain[0], r->plain[1], (size_t)n);
		r->plen[0] = (size_t)n;
	}
	return 0;
}

ssize_t seal_read(void *ud, void *buf, size_t cap, struct err *e)
{
	struct seal_reader *r = ud;
	size_t got = 0;

	while (got < cap) {
		size_t n;

		if (r->ooff == r->olen) {
			if (r->done)
				break;
			if (next_piece(r, e) < 0)
				return -1;
		}
		n = r->olen - r->ooff;
		if (n > cap - got)
			n = cap - got;
		memcpy((unsigned char *)buf + got, r->out + r->ooff, n);
		r->ooff += n;
		got += n;
	}
	return (ssize_t)got;
}

void seal_reader_free(struct seal_reader *r)
{
	if (!r)
		return;
	sodium_memzero(r, sizeof(*r));
	free(r);
}

/* ---- decrypt ---------------------------------------------------------------- */

struct seal_writer {
	int fd;
	sstate st;
	unsigned char key[SEAL_KEYBYTES];
	unsigned char in[CT_CHUNK];
	size_t ilen;
	int started, final;
	unsigned char plain[SEAL_CHUNK];
};

struct seal_writer *seal_writer_new(int fd, const unsigned char *key)
{
	struct seal_writer *w = xcalloc(1, sizeof(*w));

	w->fd = fd;
	memcpy(w->key, key, SEAL_KEYBYTES);
	return w;
}

static int pull(struct seal_writer *w, struct err *e)
{
	unsigned long long plen = 0;
	unsigned char tag = 0;
	const unsigned char *p = w->plain;

	if (w->final)
		return err_set(e, FX_VERIFY, "decrypt: data after the final "
			       "chunk");
	if (crypto_secretstream_xchacha20poly1305_pull(&w->st, w->plain, &plen,
			&tag, w->in, w->ilen, NULL, 0) != 0)
		return err_set(e, FX_VERIFY, "decrypt: a chunk failed "
			       "authentication (wrong key or damaged data)");
	w->final = tag == TAG_FINAL;
	w->ilen = 0;
	if (fd_write_all(w->fd, p, (size_t)plen) < 0)
		return err_set(e, FX_FAIL, "decrypt: write: %s", strerror(errno));
	return 0;
}

int seal_write(void *ud, const void *buf, size_t len, struct err *e)
{
	struct seal_writer *w = ud;
	const unsigned char *p = buf;

	while (len > 0) {
		size_t want = w->started ? CT_CHUNK : HDR;
		size_t n = want - w->ilen < len ? want - w->ilen : len;

		memcpy(w->in + w->ilen, p, n);
		w->ilen += n;
		p += n;
		len -= n;
		if (w->ilen < want)
			break;
		if (!w->started) {
			if (crypto_secretstream_xchacha20poly1305_init_pull(&w->st,
					w->in, w->key) != 0)
				return err_set(e, FX_VERIFY, "decrypt: bad header");
			w->started = 1;
			w->ilen = 0;
		} else if (pull(w, e) < 0) {
			return -1;
		}
	}
	return 0;
}

int seal_writer_end(struct seal_writer *w, struct err *e)
{
	if (w->started && w->ilen > 0 && pull(w, e) < 0)
		return -1;
	if (!w->final)
		return err_set(e, FX_VERIFY, "decrypt: the stream is truncated "
			       "(no final chunk)");
	return 0;
}

void seal_writer_free(struct seal_writer *w)
{
	if (!w)
		return;
	sodium_memzero(w, sizeof(*w));
	free(w);
}

/* ---- one-shot --------------------------------------------------------------- */

void seal_buffer(const unsigned char *key, const void *in, size_t len,
		 struct buf *out)
{
	unsigned char hdr[HDR];
	size_t off = 0;
	sstate st;

	crypto_secretstream_xchacha20poly1305_init_push(&st, hdr, key);
	buf_add(out, hdr, HDR);
	for (;;) {
		size_t take = len - off < SEAL_CHUNK ? len - off : SEAL_CHUNK;
		unsigned long long clen = 0;
		int last = off + take == len;

		buf_grow(out, take + ABYTES);
		crypto_secretstream_xchacha20poly1305_push(&st,
			(unsigned char *)out->p + out->len, &clen,
			(const unsigned char *)in + off, take, NULL, 0,
			last ? TAG_FINAL : 0);
		buf_setlen(out, out->len + (size_t)clen);
		off += take;
		if (last)
			break;
	}
	sodium_memzero(&st, sizeof(st));
}

int unseal_buffer(const unsigned char *key, const void *in, size_t len,
		  struct buf *out, struct err *e)
{
	struct seal_writer *w;
	char chunk[4096];
	ssize_t n;
	int p[1], r = 0;

	/* Small inputs only (manifests), decrypted into memory. */
	p[0] = memfd_create("ferry-unseal", MFD_CLOEXEC);
	if (p[0] < 0)
		return err_set(e, FX_FAIL, "memfd: %s", strerror(errno));
	w = seal_writer_new(p[0], key);
	if (seal_write(w, in, len, e) < 0 || seal_writer_end(w, e) < 0)
		r = -1;
	seal_writer_free(w);
	if (r == 0) {
		lseek(p[0], 0, SEEK_SET);
		while ((n = read(p[0], chunk, sizeof(chunk))) > 0)
			buf_add(out, chunk, (size_t)n);
	}
	close(p[0]);
	return r;
}
