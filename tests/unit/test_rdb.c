/* net/rdb.c: CRC64, the streaming walk and copy in both forms, damage. */
#include "net/rdb.h"
#include "tests/unit/t.h"

#include <stdio.h>
#include <stdlib.h>

#include "util/buf.h"

static const char MARK[] = "0123456789abcdef0123456789abcdef01234567";

static void str(struct buf *b, const char *s)
{
	size_t n = strlen(s);

	if (n < 64) {
		buf_addch(b, (int)n);
	} else {
		buf_addch(b, 0x80);	/* 32-bit length */
		for (int k = 3; k >= 0; k--)
			buf_addch(b, (int)((n >> (8 * k)) & 0xff));
	}
	buf_add(b, s, n);
}

/* An RDB with two databases, every length form, LZF and integer
 * strings, a list, a zset, an expire and a 1 MB value; unknown: a value
 * of a type the walk does not know goes last. */
static void make_rdb(struct buf *b, int unknown, int nocrc)
{
	char *big = xmalloc(1 << 20);
	uint64_t crc;

	memset(big, 'v', (1 << 20) - 1);
	big[(1 << 20) - 1] = '\0';
	buf_reset(b);
	buf_addstr(b, "REDIS0011");
	buf_addch(b, 0xfa); str(b, "redis-ver"); str(b, "7.0.15");
	buf_addch(b, 0xfa); str(b, "aof-base"); buf_addch(b, 0xc0); buf_addch(b, 0);
	buf_addch(b, 0xfe); buf_addch(b, 0);
	buf_addch(b, 0xfb); buf_addch(b, 3); buf_addch(b, 1);
	buf_addch(b, 0); str(b, "a"); str(b, "1");
	buf_addch(b, 0xfc); buf_add(b, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	buf_addch(b, 0); str(b, "b"); str(b, big);
	/* a 14-bit length, an LZF string and a 16-bit integer in a list */
	buf_addch(b, 1); str(b, "list"); buf_addch(b, 3);
	buf_addch(b, 0x41); buf_addch(b, 0x2c);
	for (int i = 0; i < 300; i++)
		buf_addch(b, 'x');
	buf_addch(b, 0xc3); buf_addch(b, 3); buf_addch(b, 5); buf_add(b, "abc", 3);
	buf_addch(b, 0xc1); buf_add(b, "\x01\x02", 2);
	buf_addch(b, 0xfe); buf_addch(b, 3);
	/* a zset with a string score and an infinite one */
	buf_addch(b, 3); str(b, "z"); buf_addch(b, 2);
	str(b, "m1"); buf_addch(b, 3); buf_add(b, "1.5", 3);
	str(b, "m2"); buf_addch(b, 254);
	if (unknown) {
		buf_addch(b, 0xe0);	/* no such type */
		str(b, "future"); str(b, "opaque bytes");
	}
	buf_addch(b, 0xff);
	crc = nocrc ? 0 : rdb_crc64(0, b->p, b->len);
	for (int k = 0; k < 8; k++)
		buf_addch(b, (int)((crc >> (8 * k)) & 0xff));
	free(big);
}

struct src {
	const unsigned char *p;
	size_t len, at, step;
};

static ssize_t src_read(void *arg, void *buf, size_t n, struct err *e)
{
	struct src *s = arg;
	size_t k = s->len - s->at;

	(void)e;
	if (k > n)
		k = n;
	if (s->step && k > s->step)
		k = s->step;
	memcpy(buf, s->p + s->at, k);
	s->at += k;
	return (ssize_t)k;
}

static int sink(void *arg, const void *buf, size_t n, struct err *e)
{
	(void)e;
	buf_add(arg, buf, n);
	return 0;
}

/* Copies wire (an RDB, or one followed by the mark and more) in steps of
 * step bytes (0: as much as asked); diskless 2: the to_eof form. */
static int copy(const struct buf *wire, int diskless, uint64_t len,
		size_t step, struct buf *out, struct rdb_info *info,
		struct err *e)
{
	struct src s = { (const unsigned char *)wire->p, wire->len, 0, step };
	struct rdb_io io = { src_read, &s, sink, out, diskless == 1 ? MARK :
			     NULL, len, diskless == 2 };

	buf_reset(out);
	err_clear(e);
	return rdb_copy(&io, info, e);
}

static void crc(void)
{
	T_OK(rdb_crc64(0, "123456789", 9) == 0xe9c6d914c4b8d9caULL,
	     "crc64 of 123456789 is Redis' test vector");
	T_OK(rdb_crc64(rdb_crc64(0, "1234", 4), "56789", 5) ==
	     rdb_crc64(0, "123456789", 9), "crc64 continues across pieces");
}

static void walk_forms(void)
{
	struct buf rdb = BUF_INIT, wire = BUF_INIT, out = BUF_INIT;
	struct rdb_info info;
	struct err e = ERR_INIT;
	int r;

	make_rdb(&rdb, 0, 0);
	r = copy(&rdb, 0, rdb.len, 0, &out, &info, &e);
	T_OK(r == 0, "len form: copied");
	T_OK(out.len == rdb.len && !memcmp(out.p, rdb.p, rdb.len),
	     "len form: every byte handed on");
	T_OK(info.walked && info.keys == 4 && info.expires == 1,
	     "len form: 4 keys, 1 with a TTL");
	T_OK(info.ndbs == 2 && info.dbs[0].db == 0 && info.dbs[0].keys == 3 &&
	     info.dbs[1].db == 3 && info.dbs[1].keys == 1, "keys per database");
	T_OK(info.checksum == 1 && info.version == 11, "version 11, CRC64 checked");
	T_STREQ(info.redis_version, "7.0.15", "redis-ver read");
	rdb_info_release(&info);

	buf_add(&wire, rdb.p, rdb.len);
	buf_add(&wire, MARK, 40);
	buf_addstr(&wire, "*1\r\n$4\r\nPING\r\n");
	r = copy(&wire, 1, 0, 7, &out, &info, &e);
	T_OK(r == 0 && out.len == rdb.len && !memcmp(out.p, rdb.p, rdb.len),
	     "diskless form, 7-byte reads: the RDB without its mark");
	T_OK(info.walked && info.keys == 4, "diskless form: walked");
	rdb_info_release(&info);

	make_rdb(&rdb, 1, 0);
	r = copy(&rdb, 0, rdb.len, 0, &out, &info, &e);
	T_OK(r == 0 && out.len == rdb.len && !info.walked && info.checksum,
	     "unknown type, len form: copied whole, CRC64 checked, not walked");
	T_OK(strstr(info.stopped, "type 224") != NULL, "says which type stopped it");
	rdb_info_release(&info);
	buf_reset(&wire);
	buf_add(&wire, rdb.p, rdb.len);
	buf_add(&wire, MARK, 40);
	buf_addstr(&wire, "after");
	for (size_t step = 1; step <= 64; step += 9) {
		char name[80];

		snprintf(name, sizeof(name), "unknown type, diskless, %zu-byte "
			 "reads: found the mark", step);
		r = copy(&wire, 1, 0, step, &out, &info, &e);
		T_OK(r == 0 && out.len == rdb.len && !memcmp(out.p, rdb.p, rdb.len) &&
		     info.checksum, name);
		rdb_info_release(&info);
	}

	make_rdb(&rdb, 0, 1);
	r = copy(&rdb, 0, rdb.len, 0, &out, &info, &e);
	T_OK(r == 0 && info.checksum == 0, "no checksum (rdbchecksum no) is "
	     "accepted and reported");
	rdb_info_release(&info);
	buf_release(&rdb);
	buf_release(&wire);
	buf_release(&out);
}

/* What redis-cli --rdb - writes: the RDB to its end, or (after a diskless
 * sync) followed by the mark it cannot truncate from a pipe. */
static void eof_form(void)
{
	struct buf rdb = BUF_INIT, wire = BUF_INIT, out = BUF_INIT;
	struct rdb_info info;
	struct err e = ERR_INIT;
	char name[96];
	int r;

	for (int unknown = 0; unknown <= 1; unknown++) {
		make_rdb(&rdb, unknown, 0);
		for (int marked = 0; marked <= 1; marked++) {
			buf_reset(&wire);
			buf_add(&wire, rdb.p, rdb.len);
			if (marked)
				buf_add(&wire, MARK, 40);
			for (size_t step = 0; step <= 64; step += step ? 9 : 1) {
				snprintf(name, sizeof(name), "to the end%s%s, "
					 "%zu-byte reads: the RDB, whole",
					 marked ? ", a trailing mark" : "",
					 unknown ? ", unknown type" : "", step);
				r = copy(&wire, 2, 0, step, &out, &info, &e);
				T_OK(r == 0 && out.len == rdb.len &&
				     !memcmp(out.p, rdb.p, rdb.len) &&
				     info.checksum && info.walked == !unknown,
				     name);
				rdb_info_release(&info);
			}
		}
		buf_reset(&wire);
		buf_add(&wire, rdb.p, rdb.len);
		buf_add(&wire, MARK, 39);
		r = copy(&wire, 2, 0, 5, &out, &info, &e);
		snprintf(name, sizeof(name), "to the end%s: 39 bytes after the "
			 "RDB are no mark", unknown ? ", unknown type" : "");
		T_OK(r < 0 && e.code == FX_VERIFY, name);
		rdb_info_release(&info);
		buf_reset(&wire);
		buf_add(&wire, rdb.p, rdb.len - 3);
		r = copy(&wire, 2, 0, 0, &out, &info, &e);
		snprintf(name, sizeof(name), "to the end%s: cut short is damaged",
			 unknown ? ", unknown type" : "");
		T_OK(r < 0 && e.code == FX_VERIFY, name);
		rdb_info_release(&info);
	}
	make_rdb(&rdb, 0, 0);
	buf_reset(&wire);
	buf_add(&wire, rdb.p, rdb.len);
	buf_add(&wire, MARK, 40);
	buf_addstr(&wire, "+");
	r = copy(&wire, 2, 0, 0, &out, &info, &e);
	T_OK(r < 0 && e.code == FX_VERIFY && strstr(e.msg, "follows"),
	     "to the end: more than a mark after the RDB is damage");
	rdb_info_release(&info);
	buf_release(&rdb);
	buf_release(&wire);
	buf_release(&out);
}

static void damage(void)
{
	struct buf rdb = BUF_INIT, bad = BUF_INIT, out = BUF_INIT;
	struct rdb_info info;
	struct err e = ERR_INIT;
	int r;

	make_rdb(&rdb, 0, 0);
	buf_add(&bad, rdb.p, rdb.len);
	bad.p[bad.len / 2] ^= 0x20;	/* inside the big value */
	r = copy(&bad, 0, bad.len, 0, &out, &info, &e);
	T_OK(r < 0 && e.code == FX_VERIFY && strstr(e.msg, "checksum mismatch"),
	     "a flipped byte: checksum mismatch");
	rdb_info_release(&info);
	r = copy(&rdb, 0, rdb.len + 5, 0, &out, &info, &e);
	T_OK(r < 0 && e.code == FX_VERIFY && strstr(e.msg, "announced"),
	     "announced longer than its end: damaged");
	rdb_info_release(&info);
	buf_reset(&bad);
	buf_add(&bad, rdb.p, rdb.len - 20);
	r = copy(&bad, 0, bad.len, 0, &out, &info, &e);
	T_OK(r < 0 && e.code == FX_VERIFY, "truncated: damaged");
	rdb_info_release(&info);
	buf_reset(&bad);
	buf_addstr(&bad, "NOTRDB0011xxxxxxxxxxxxxxxx");
	r = copy(&bad, 0, bad.len, 0, &out, &info, &e);
	T_OK(r < 0 && strstr(e.msg, "not an RDB"), "no magic: not an RDB");
	rdb_info_release(&info);
	buf_release(&rdb);
	buf_release(&bad);
	buf_release(&out);
}

static void pieces(void)
{
	struct buf rdb = BUF_INIT;
	struct rdb_check c;
	struct err e = ERR_INIT;
	int has = -1;

	make_rdb(&rdb, 1, 0);
	for (size_t step = 1; step < 40; step += 3) {
		char name[64];

		snprintf(name, sizeof(name), "fed in %zu-byte pieces: magic and "
			 "CRC64 check", step);
		rdb_check_init(&c);
		for (size_t at = 0; at < rdb.len; at += step)
			rdb_check_feed(&c, rdb.p + at, at + step > rdb.len ?
				       rdb.len - at : step);
		T_OK(rdb_check_end(&c, &has, &e) == 0 && has == 1, name);
	}
	rdb_check_init(&c);
	rdb_check_feed(&c, rdb.p, rdb.len - 8);
	rdb_check_feed(&c, "\0\0\0\0\0\0\0\1", 8);
	T_OK(rdb_check_end(&c, &has, &e) < 0 && strstr(e.msg, "mismatch"),
	     "fed in pieces: a wrong CRC64 is caught");
	buf_release(&rdb);
}

int main(void)
{
	crc();
	walk_forms();
	eof_form();
	damage();
	pieces();
	return T_DONE();
}
