/*
 * minio_member_name(): object keys as archive member paths (see minio.h).
 */
#include <string.h>

#include "util/buf.h"
#include "util/sha256.h"
#include "backup/minio.h"

#define HASH_HEX 32

/* Cuts the segment that starts at out[from] to MINIO_SEGMENT_MAX bytes,
 * at a boundary that splits neither a %XX nor a UTF-8 character. */
static void shorten(struct buf *out, size_t from, const char *key)
{
	size_t limit = MINIO_SEGMENT_MAX - 2 - HASH_HEX, cut = from, i = from;
	char hex[65];

	if (out->len - from <= MINIO_SEGMENT_MAX)
		return;
	while (i < out->len) {
		size_t step = out->p[i] == '%' ? 3 : 1;

		while (i + step < out->len &&
		       ((unsigned char)out->p[i + step] & 0xc0) == 0x80)
			step++;
		if (i + step - from > limit)
			break;
		i += step;
		cut = i;
	}
	sha256_hex(key, strlen(key), hex);
	buf_setlen(out, cut);
	buf_printf(out, "%%~%.*s", HASH_HEX, hex);
}

char *minio_member_name(const char *key)
{
	const unsigned char *k = (const unsigned char *)key;
	struct buf out = BUF_INIT;
	size_t seg = 0;		/* where the current segment starts in out */

	for (size_t i = 0; k[i]; i++) {
		unsigned char c = k[i];
		int first = out.len == seg;

		if (c == '/') {
			if (first || k[i + 1] == '/' || !k[i + 1]) {
				buf_addstr(&out, "%2F");
			} else {
				shorten(&out, seg, key);
				buf_addch(&out, '/');
				seg = out.len;
			}
			continue;
		}
		if (c == '%' || c < 0x20 || c == 0x7f ||
		    (c == '.' && (first || !strncmp((const char *)k + i,
						     ".part-", 6))))
			buf_printf(&out, "%%%02X", c);
		else
			buf_addch(&out, c);
	}
	shorten(&out, seg, key);
	if (!out.len)
		buf_addstr(&out, "%00");	/* S3 has no empty keys */
	return buf_detach(&out, NULL);
}
