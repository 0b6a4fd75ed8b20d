/*
 * rdb_check: Redis' CRC64 and the checks at the two ends of an RDB (the
 * magic, the EOF opcode and checksum), for rdb.c's walk and for an RDB
 * fed in pieces (a restore).
 */
#include "net/rdb.h"

#include <pthread.h>
#include <string.h>

#include "net/rdb_int.h"

/* ---- CRC64 (Redis' crc64.c: Jones polynomial, reflected) -------------- */

#define CRC64_POLY 0x95ac9329ac4bc9b5ULL

static uint64_t crc_table[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
	for (unsigned i = 0; i < 256; i++) {
		uint64_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ CRC64_POLY : c >> 1;
		crc_table[0][i] = c;
	}
	/* Slicing by 8: a byte's effect k bytes later. */
	for (unsigned i = 0; i < 256; i++)
		for (int k = 1; k < 8; k++)
			crc_table[k][i] = crc_table[0][crc_table[k - 1][i] & 0xff] ^
					  (crc_table[k - 1][i] >> 8);
}

uint64_t rdb_crc64(uint64_t crc, const void *data, size_t n)
{
	const unsigned char *p = data;

	pthread_once(&crc_once, crc_init);
	while (n >= 8) {
		uint64_t w = crc;

		for (int k = 0; k < 8; k++)
			w ^= (uint64_t)p[k] << (8 * k);
		crc = 0;
		for (int k = 0; k < 8; k++)
			crc ^= crc_table[7 - k][(w >> (8 * k)) & 0xff];
		p += 8;
		n -= 8;
	}
	while (n--)
		crc = crc_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc;
}

static uint64_t le64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int k = 7; k >= 0; k--)
		v = v << 8 | p[k];
	return v;
}

int rdb_magic_version(const unsigned char *h)
{
	int v = 0;

	if (memcmp(h, "REDIS", 5))
		return -1;
	for (int i = 5; i < 9; i++) {
		if (h[i] < '0' || h[i] > '9')
			return -1;
		v = v * 10 + (h[i] - '0');
	}
	return v;
}

int rdb_check_tail(const unsigned char tail[9], uint64_t crc,
		     uint64_t size, int *has_crc, struct err *e)
{
	uint64_t want = le64(tail + 1);

	if (tail[0] != 0xff)
		return err_set(e, FX_VERIFY, "RDB of %llu bytes does not end with "
			       "its EOF opcode", (unsigned long long)size);
	if (want && want != crc)
		return err_set(e, FX_VERIFY, "RDB checksum mismatch: CRC64 "
			       "%016llx, the RDB says %016llx",
			       (unsigned long long)crc, (unsigned long long)want);
	if (has_crc)
		*has_crc = want != 0;
	return 0;
}

/* ---- the same checks, fed in pieces ------------------------------------- */

void rdb_check_init(struct rdb_check *c)
{
	memset(c, 0, sizeof(*c));
}

void rdb_check_feed(struct rdb_check *c, const void *data, size_t n)
{
	const unsigned char *p = data;
	/* The CRC covers all but the last 8 bytes: those are held, as the
	 * tail's last u bytes, until more come. */
	size_t u = c->size < 8 ? (size_t)c->size : 8;
	const unsigned char *held = c->tail + c->ntail - u;

	for (size_t i = 0; c->size + i < 9 && i < n; i++)
		c->head[c->size + i] = p[i];
	if (u + n > 8) {
		size_t go = u + n - 8, from_held = go < u ? go : u;

		c->crc = rdb_crc64(c->crc, held, from_held);
		c->crc = rdb_crc64(c->crc, p, go - from_held);
	}
	c->size += n;
	if (n >= 9) {
		memcpy(c->tail, p + n - 9, 9);
		c->ntail = 9;
	} else {
		size_t keep = c->ntail + n > 9 ? 9 - n : c->ntail;

		memmove(c->tail, c->tail + c->ntail - keep, keep);
		memcpy(c->tail + keep, p, n);
		c->ntail = keep + n;
	}
}

int rdb_check_end(const struct rdb_check *c, int *has_crc, struct err *e)
{
	if (c->size < 18 || rdb_magic_version(c->head) < 5)
		return err_set(e, FX_VERIFY, "not an RDB: it does not start with "
			       "REDIS and a version");
	return rdb_check_tail(c->tail, c->crc, c->size, has_crc, e);
}
