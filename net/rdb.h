/*
 * rdb: Redis' RDB snapshot format, checked as it streams past (from a
 * replication SYNC into an archive, or out of an archive into a file),
 * never held whole.
 *
 * rdb_copy() reads one RDB from a source and hands every byte on, in
 * order, through a fixed buffer.  On the way it checks the "REDIS" magic,
 * walks every key (so the snapshot's own key counts go into the manifest,
 * not the server's counts of a moment later) and checks the trailing
 * CRC64.  The RDB ends after a known length (the "$<len>" form of a
 * disk-based sync), at a 40-byte mark that is not part of it (the
 * diskless "$EOF:<mark>" form), or where the source ends (`redis-cli
 * --rdb -` on the server: after a diskless sync it leaves the mark at the
 * end of its output, as it cannot truncate a pipe; such a mark is dropped).
 *
 * A type ferry does not know (a newer Redis, a module's old format) stops
 * the walk, not the copy: the rest is copied as is, the magic and CRC64
 * are still checked, and the counts are marked as not walked.
 */
#ifndef FERRY_NET_RDB_H
#define FERRY_NET_RDB_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/err.h"

#define RDB_MARK_LEN 40

struct rdb_db {
	long long db, keys, expires;
};

struct rdb_info {
	int version;		/* "REDIS0011" -> 11 */
	char redis_version[32];	/* its "redis-ver" field, or "" */
	uint64_t size;		/* bytes of the RDB (never the mark) */
	int checksum;		/* 1: its CRC64 matched; 0: it carries none
				 * (the server runs with rdbchecksum no) */
	int walked;		/* 1: every key was walked: counts are exact */
	char stopped[96];	/* when not walked: why */
	long long keys, expires;	/* every database's, added up */
	struct rdb_db *dbs;	/* per database, in the RDB's order */
	size_t ndbs;
};

void rdb_info_release(struct rdb_info *info);

struct rdb_io {
	/* Up to n bytes; 0: the source ended; -1 with e set. */
	ssize_t (*read)(void *arg, void *buf, size_t n, struct err *e);
	void *read_arg;
	/* Every byte of the RDB, in order; -1 with e set stops the copy. */
	int (*sink)(void *arg, const void *buf, size_t n, struct err *e);
	void *sink_arg;
	const char *mark;	/* the diskless form's RDB_MARK_LEN-byte end, or
				 * NULL for ... */
	uint64_t len;		/* ... an RDB of this many bytes, unless ... */
	int to_eof;		/* ... it ends with the source (mark NULL) */
};

/* Copies one RDB (see above).  FX_VERIFY when it is damaged (no magic, a
 * bad length, a CRC64 mismatch, a wrong end); the source's own errors as
 * they come.  Fills info (release it) either way. */
int rdb_copy(const struct rdb_io *io, struct rdb_info *info, struct err *e)
	__attribute__((warn_unused_result));

/* Redis' CRC64 (Jones polynomial, reflected; crc64(0, "123456789") is
 * 0xe9c6d914c4b8d9ca). */
uint64_t rdb_crc64(uint64_t crc, const void *data, size_t n);

/* The magic and CRC64 checks for an RDB fed in pieces (restore). */
struct rdb_check {
	uint64_t crc, size;
	unsigned char head[9];	/* "REDIS0011" */
	unsigned char tail[9];	/* the last bytes fed: EOF opcode, CRC64 */
	size_t ntail;
};

void rdb_check_init(struct rdb_check *c);
void rdb_check_feed(struct rdb_check *c, const void *data, size_t n);
/* FX_VERIFY naming what is wrong; *has_crc = 0 when the RDB carries no
 * checksum (may be NULL). */
int rdb_check_end(const struct rdb_check *c, int *has_crc, struct err *e)
	__attribute__((warn_unused_result));

#endif
