#include "net/rdb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/rdb_int.h"
#include "util/buf.h"

#define RD_BUF (256u << 10)
/* Bytes kept back while looking for the diskless mark without walking:
 * the mark itself less one, and the 8 checksum bytes before it. */
#define RAW_LAG (RDB_MARK_LEN + 8)

/* ---- the reader -------------------------------------------------------- */

struct rd {
	const struct rdb_io *io;
	struct rdb_info *info;
	struct err *e;
	unsigned char *buf;
	size_t pos, end, done;	/* buf[done, pos): read, not yet handed on */
	uint64_t left;		/* what the source may still give (len form) */
	int eof;		/* the source ended (to_eof form) */
	uint64_t crc;		/* of what was handed on, up to crc_end */
	uint64_t crc_end;	/* where the checksum starts, once known */
	unsigned char tail[9];	/* the last 9 bytes handed on */
	long long db;		/* index into info->dbs, -1: none yet */
};

/* Hands buf[done, upto) on. */
static int pass(struct rd *r, size_t upto)
{
	const unsigned char *p = r->buf + r->done;
	size_t n = upto - r->done;
	uint64_t at = r->info->size;

	if (!n)
		return 0;
	if (at < r->crc_end)
		r->crc = rdb_crc64(r->crc, p, r->crc_end - at < n ?
				   (size_t)(r->crc_end - at) : n);
	if (n >= 9) {
		memcpy(r->tail, p + n - 9, 9);
	} else {
		memmove(r->tail, r->tail + n, 9 - n);
		memcpy(r->tail + 9 - n, p, n);
	}
	r->info->size += n;
	r->done = upto;
	return r->io->sink(r->io->sink_arg, p, n, r->e);
}

static int len_form(const struct rdb_io *io)
{
	return !io->mark && !io->to_eof;
}

/* Hands on what was read, then reads more: at least one byte, or (with
 * may_end, in the to_eof form) none when the source has ended. */
static int read_more(struct rd *r, int may_end)
{
	size_t room;
	ssize_t n;

	if (pass(r, r->pos) < 0)
		return -1;
	memmove(r->buf, r->buf + r->pos, r->end - r->pos);
	r->end -= r->pos;
	r->pos = r->done = 0;
	room = RD_BUF - r->end;
	if (len_form(r->io) && r->left < room)
		room = (size_t)r->left;
	if (room == 0)
		return err_set(r->e, FX_VERIFY, "RDB ends inside a record at "
			       "byte %llu of its %llu", (unsigned long long)
			       (r->info->size + r->end), (unsigned long long)
			       r->io->len);
	n = r->eof ? 0 : r->io->read(r->io->read_arg, r->buf + r->end, room,
				      r->e);
	if (n < 0)
		return -1;
	if (n == 0) {
		r->eof = 1;
		if (may_end && r->io->to_eof)
			return 0;
		if (r->io->to_eof)
			return err_set(r->e, FX_VERIFY, "the RDB ends inside a "
				       "record after %llu bytes", (unsigned long
				       long)(r->info->size + r->end));
		return err_set(r->e, FX_CONN, "the RDB stream ended after %llu "
			       "bytes", (unsigned long long)(r->info->size +
							     r->end));
	}
	r->end += (size_t)n;
	if (len_form(r->io))
		r->left -= (uint64_t)n;
	return 0;
}

static int more(struct rd *r)
{
	return read_more(r, 0);
}

static int fill(struct rd *r, size_t want)
{
	while (r->end - r->pos < want)
		if (more(r) < 0)
			return -1;
	return 0;
}

static int take(struct rd *r, void *out, size_t n)
{
	if (fill(r, n) < 0)
		return -1;
	memcpy(out, r->buf + r->pos, n);
	r->pos += n;
	return 0;
}

static int skip(struct rd *r, uint64_t n)
{
	while (n > 0) {
		size_t k;

		if (r->pos == r->end && more(r) < 0)
			return -1;
		k = r->end - r->pos;
		if (k > n)
			k = (size_t)n;
		r->pos += k;
		n -= k;
	}
	return 0;
}

static int bad(struct rd *r, const char *what)
{
	return err_set(r->e, FX_VERIFY, "RDB damaged at byte %llu: %s",
		       (unsigned long long)(r->info->size + (r->pos - r->done)),
		       what);
}

/* ---- the walk ------------------------------------------------------------ */

/* A length; *enc = 1 for the "special encoding" form (its kind in len). */
static int w_len(struct rd *r, uint64_t *len, int *enc)
{
	unsigned char b[8];
	int n;

	*enc = 0;
	if (take(r, b, 1) < 0)
		return -1;
	switch (b[0] >> 6) {
	case 0:
		*len = b[0] & 0x3f;
		return 0;
	case 1:
		*len = (uint64_t)(b[0] & 0x3f) << 8;
		if (take(r, b, 1) < 0)
			return -1;
		*len |= b[0];
		return 0;
	case 2:
		if (b[0] != 0x80 && b[0] != 0x81)
			return bad(r, "unknown length encoding");
		n = b[0] == 0x80 ? 4 : 8;
		if (take(r, b, (size_t)n) < 0)
			return -1;
		*len = 0;
		for (int i = 0; i < n; i++)
			*len = *len << 8 | b[i];
		return 0;
	default:
		*enc = 1;
		*len = b[0] & 0x3f;
		return 0;
	}
}

static int w_count(struct rd *r, uint64_t *n)
{
	int enc;

	if (w_len(r, n, &enc) < 0)
		return -1;
	return enc ? bad(r, "encoded value where a length belongs") : 0;
}

/* A string, skipped, or (keep) kept when it is short and plain. */
static int w_string(struct rd *r, struct buf *keep)
{
	unsigned char b[4];
	uint64_t len, ulen;
	int enc;

	if (w_len(r, &len, &enc) < 0)
		return -1;
	if (!enc) {
		if (keep && len < 256) {
			buf_reset(keep);
			buf_grow(keep, (size_t)len);
			if (take(r, keep->p, (size_t)len) < 0)
				return -1;
			buf_setlen(keep, (size_t)len);
			return 0;
		}
		return skip(r, len);
	}
	switch (len) {
	case 0: case 1: case 2:
		/* An integer of 1, 2 or 4 bytes. */
		return take(r, b, (size_t)1 << len);
	case 3:
		/* LZF: compressed length, uncompressed length, data. */
		if (w_count(r, &len) < 0 || w_count(r, &ulen) < 0)
			return -1;
		return skip(r, len);
	default:
		return bad(r, "unknown string encoding");
	}
}

static int w_strings(struct rd *r, uint64_t per)
{
	uint64_t n;

	if (w_count(r, &n) < 0)
		return -1;
	for (uint64_t i = 0; i < n * per; i++)
		if (w_string(r, NULL) < 0)
			return -1;
	return 0;
}

/* A module value's self-describing fields, up to their EOF opcode. */
static int w_module_fields(struct rd *r)
{
	uint64_t op, v;

	for (;;) {
		if (w_count(r, &op) < 0)
			return -1;
		switch (op) {
		case 0:
			return 0;
		case 1: case 2:
			if (w_count(r, &v) < 0)
				return -1;
			break;
		case 3: case 4:
			if (skip(r, op == 3 ? 4 : 8) < 0)
				return -1;
			break;
		case 5:
			if (w_string(r, NULL) < 0)
				return -1;
			break;
		default:
			return bad(r, "unknown module field");
		}
	}
}

static int w_ids(struct rd *r, int n)
{
	uint64_t v;

	for (int i = 0; i < n; i++)
		if (w_count(r, &v) < 0)
			return -1;
	return 0;
}

/* A pending-entries list: 16-byte IDs, with delivery time and count for
 * a group's own. */
static int w_pel(struct rd *r, int nacks)
{
	uint64_t n;

	if (w_count(r, &n) < 0)
		return -1;
	for (uint64_t i = 0; i < n; i++)
		if (skip(r, 16) < 0 || (nacks && (skip(r, 8) < 0 ||
						  w_ids(r, 1) < 0)))
			return -1;
	return 0;
}

/* Streams: 15 (5.0), 19 (7.0), 21 (7.2). */
static int w_stream(struct rd *r, int type)
{
	uint64_t groups, consumers;

	if (w_strings(r, 2) < 0 || w_ids(r, 3) < 0 ||
	    (type >= 19 && w_ids(r, 5) < 0) || w_count(r, &groups) < 0)
		return -1;
	for (uint64_t g = 0; g < groups; g++) {
		if (w_string(r, NULL) < 0 || w_ids(r, type >= 19 ? 3 : 2) < 0 ||
		    w_pel(r, 1) < 0 || w_count(r, &consumers) < 0)
			return -1;
		for (uint64_t c = 0; c < consumers; c++)
			if (w_string(r, NULL) < 0 ||
			    skip(r, type >= 21 ? 16 : 8) < 0 || w_pel(r, 0) < 0)
				return -1;
	}
	return 0;
}

/* A value of type t; 1: a type this walk does not know. */
static int w_value(struct rd *r, int t)
{
	unsigned char b[1];
	uint64_t n, v;

	switch (t) {
	case 0: case 9: case 10: case 11: case 12: case 13: case 16: case 17:
	case 20:
		/* A string, or an aggregate in one blob (ziplist, intset,
		 * listpack). */
		return w_string(r, NULL);
	case 1: case 2: case 14:
		return w_strings(r, 1);
	case 4:
		return w_strings(r, 2);
	case 3: case 5:
		if (w_count(r, &n) < 0)
			return -1;
		for (uint64_t i = 0; i < n; i++) {
			if (w_string(r, NULL) < 0)
				return -1;
			if (t == 5) {
				if (skip(r, 8) < 0)
					return -1;
			} else if (take(r, b, 1) < 0 ||
				   (b[0] < 253 && skip(r, b[0]) < 0)) {
				return -1;
			}
		}
		return 0;
	case 18:
		if (w_count(r, &n) < 0)
			return -1;
		for (uint64_t i = 0; i < n; i++)
			if (w_count(r, &v) < 0 || w_string(r, NULL) < 0)
				return -1;
		return 0;
	case 7:
		return w_count(r, &v) < 0 ? -1 : w_module_fields(r);
	case 15: case 19: case 21:
		return w_stream(r, t);
	default:
		return 1;
	}
}

static struct rdb_db *cur_db(struct rd *r)
{
	if (r->db < 0) {
		struct rdb_info *i = r->info;

		i->dbs = xrealloc(i->dbs, (i->ndbs + 1) * sizeof(*i->dbs));
		memset(&i->dbs[i->ndbs], 0, sizeof(*i->dbs));
		r->db = (long long)i->ndbs++;
	}
	return &r->info->dbs[r->db];
}

/* Walks opcodes and keys up to the EOF opcode (0) or to a record it does
 * not know (1, info->stopped says which). */
static int walk(struct rd *r)
{
	struct buf aux = BUF_INIT, val = BUF_INIT;
	unsigned char b[8];
	uint64_t n, v;
	int expires = 0, w, rc = -1;

	for (;;) {
		if (take(r, b, 1) < 0)
			goto out;
		switch (b[0]) {
		case 0xff:		/* EOF */
			rc = 0;
			goto out;
		case 0xfa:		/* AUX field */
			if (w_string(r, &aux) < 0 || w_string(r, &val) < 0)
				goto out;
			if (!strcmp(buf_str(&aux), "redis-ver"))
				snprintf(r->info->redis_version,
					 sizeof(r->info->redis_version), "%s",
					 buf_str(&val));
			continue;
		case 0xfe:		/* SELECTDB */
			if (w_count(r, &n) < 0)
				goto out;
			r->db = -1;
			cur_db(r)->db = (long long)n;
			continue;
		case 0xfb:		/* RESIZEDB */
			if (w_ids(r, 2) < 0)
				goto out;
			continue;
		case 0xfc:		/* EXPIRETIME_MS */
		case 0xfd:		/* EXPIRETIME */
			if (skip(r, b[0] == 0xfc ? 8 : 4) < 0)
				goto out;
			expires = 1;
			continue;
		case 0xf8:		/* IDLE */
			if (w_ids(r, 1) < 0)
				goto out;
			continue;
		case 0xf9:		/* FREQ */
			if (skip(r, 1) < 0)
				goto out;
			continue;
		case 0xf7:		/* MODULE_AUX */
			if (w_ids(r, 3) < 0 || w_module_fields(r) < 0)
				goto out;
			continue;
		case 0xf5:		/* FUNCTION2 */
			if (w_string(r, NULL) < 0)
				goto out;
			continue;
		case 0xf4:		/* SLOT_INFO */
			if (w_count(r, &n) < 0 || w_count(r, &v) < 0 ||
			    w_count(r, &v) < 0)
				goto out;
			continue;
		}
		if (b[0] >= 0xf0) {
			snprintf(r->info->stopped, sizeof(r->info->stopped),
				 "opcode %u, unknown to ferry", b[0]);
			rc = 1;
			goto out;
		}
		if (w_string(r, NULL) < 0)
			goto out;
		w = w_value(r, b[0]);
		if (w < 0)
			goto out;
		if (w > 0) {
			snprintf(r->info->stopped, sizeof(r->info->stopped),
				 "value type %u, unknown to ferry", b[0]);
			rc = 1;
			goto out;
		}
		cur_db(r)->keys++;
		cur_db(r)->expires += expires;
		r->info->keys++;
		r->info->expires += expires;
		expires = 0;
	}
out:
	buf_release(&aux);
	buf_release(&val);
	return rc;
}

static int all_hex(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			return 0;
	return 1;
}

/* The RDB ends at buf[at) (its CRC64 the 8 bytes before); the source may
 * still hold an end mark, which is not passed on. */
static int end_at(struct rd *r, size_t at)
{
	r->crc_end = r->info->size + (at - r->done) - 8;
	if (pass(r, at) < 0)
		return -1;
	r->pos = r->done = at;
	return 0;
}

/* The to_eof form after an unknown type: copy up to the source's end,
 * holding back enough to tell a trailing mark from the RDB's own end
 * (which is the EOF opcode 0xff and a CRC64, never 40 hex digits). */
static int copy_to_eof(struct rd *r)
{
	for (;;) {
		if (r->end - r->pos > RAW_LAG)
			r->pos = r->end - RAW_LAG;
		if (read_more(r, 1) < 0)
			return -1;
		if (!r->eof)
			continue;
		if (r->end - r->pos >= RAW_LAG &&
		    all_hex(r->buf + r->end - RDB_MARK_LEN, RDB_MARK_LEN))
			return end_at(r, r->end - RDB_MARK_LEN);
		return end_at(r, r->end);
	}
}

/* After the walk stopped: copy the rest as it is. */
static int copy_rest(struct rd *r)
{
	const struct rdb_io *io = r->io;

	if (io->to_eof)
		return copy_to_eof(r);
	if (!io->mark) {
		r->crc_end = io->len - 8;
		if (skip(r, r->left + (r->end - r->pos)) < 0)
			return -1;
		return pass(r, r->pos);
	}
	for (;;) {
		unsigned char *m = memmem(r->buf + r->pos, r->end - r->pos,
					  io->mark, RDB_MARK_LEN);

		if (m) {
			if (end_at(r, (size_t)(m - r->buf)) < 0)
				return -1;
			r->pos = r->done = r->pos + RDB_MARK_LEN;
			return 0;
		}
		if (r->end - r->pos > RAW_LAG)
			r->pos = r->end - RAW_LAG;
		if (more(r) < 0)
			return -1;
	}
}

/* The to_eof form after the RDB's end: nothing more, or redis-cli's
 * mark. */
static int tail_after(struct rd *r)
{
	while (!r->eof && r->end - r->pos <= RDB_MARK_LEN)
		if (read_more(r, 1) < 0)
			return -1;
	if (r->end - r->pos == 0 || (r->end - r->pos == RDB_MARK_LEN &&
				     all_hex(r->buf + r->pos, RDB_MARK_LEN)))
		return 0;
	return err_set(r->e, FX_VERIFY, "more data follows the RDB's end at "
		       "byte %llu", (unsigned long long)r->info->size);
}

int rdb_copy(const struct rdb_io *io, struct rdb_info *info, struct err *e)
{
	struct rd r = { 0 };
	unsigned char head[9], sum[8];
	int w, rc = -1;

	memset(info, 0, sizeof(*info));
	r.io = io;
	r.info = info;
	r.e = e;
	r.left = io->len;
	r.crc_end = UINT64_MAX;
	r.db = -1;
	r.buf = xmalloc(RD_BUF);
	if (len_form(io) && io->len < 9 + 1) {
		err_set(e, FX_VERIFY, "an RDB of %llu bytes is too short",
			(unsigned long long)io->len);
		goto out;
	}
	if (take(&r, head, 9) < 0)
		goto out;
	if ((info->version = rdb_magic_version(head)) < 0) {
		err_set(e, FX_VERIFY, "not an RDB: it does not start with REDIS "
			"and a version");
		goto out;
	}
	if (info->version < 5) {
		err_set(e, FX_VERIFY, "RDB version %d carries no checksum: "
			"Redis older than 2.6 is not supported", info->version);
		goto out;
	}
	if ((w = walk(&r)) < 0)
		goto out;
	if (w == 0) {
		/* The checksum covers everything up to the EOF opcode. */
		r.crc_end = info->size + (r.pos - r.done);
		if (take(&r, sum, 8) < 0 || pass(&r, r.pos) < 0)
			goto out;
		if (io->mark) {
			if (fill(&r, RDB_MARK_LEN) < 0)
				goto out;
			if (memcmp(r.buf + r.pos, io->mark, RDB_MARK_LEN)) {
				err_set(e, FX_VERIFY, "the diskless RDB does not "
					"end with its mark after %llu bytes",
					(unsigned long long)info->size);
				goto out;
			}
		} else if (io->to_eof) {
			if (tail_after(&r) < 0)
				goto out;
		} else if (r.left || r.pos != r.end) {
			err_set(e, FX_VERIFY, "RDB ends at byte %llu of the %llu "
				"announced", (unsigned long long)info->size,
				(unsigned long long)io->len);
			goto out;
		}
		info->walked = 1;
	} else if (copy_rest(&r) < 0) {
		goto out;
	}
	if (rdb_check_tail(r.tail, r.crc, info->size, &info->checksum, e) < 0)
		goto out;
	rc = 0;
out:
	free(r.buf);
	return rc;
}

void rdb_info_release(struct rdb_info *info)
{
	free(info->dbs);
	info->dbs = NULL;
	info->ndbs = 0;
}
