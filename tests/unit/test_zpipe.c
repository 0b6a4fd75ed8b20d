/* zpipe: what the server's zstd or gzip sends decodes to the same bytes,
 * fed in any pieces; a stream cut off is an error, not a short table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "t.h"
#include "util/buf.h"
#include "util/zout.h"
#include "util/zpipe.h"

static int collect(void *ctx, const void *data, size_t len)
{
	buf_add(ctx, data, len);
	return 0;
}

/* The plain text, encoded by codec, read back from a pipe. */
static void encode(enum zpipe_codec codec, const struct buf *plain,
		   struct buf *out)
{
	char tmpl[] = "/tmp/ferry-zpipe-XXXXXX";
	int fd = mkstemp(tmpl);
	char chunk[4096];
	ssize_t n;

	unlink(tmpl);
	if (codec == ZP_ZSTD) {
		struct zout *z = zout_new(fd, 3, 1, 0);

		if (zout_write(z, plain->p, plain->len) < 0 || zout_end(z) < 0)
			printf("not ok - zout\n");
		zout_free(z);
	} else {
		struct zgz *z = zgz_new(fd, 1);

		if (zgz_write(z, plain->p, plain->len) < 0 || zgz_end(z) < 0)
			printf("not ok - zgz\n");
		zgz_free(z);
	}
	lseek(fd, 0, SEEK_SET);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		buf_add(out, chunk, (size_t)n);
	close(fd);
}

static void round_trip(enum zpipe_codec codec, const char *name)
{
	struct buf plain = BUF_INIT, enc = BUF_INIT, dec = BUF_INIT;
	struct zdec *z = zdec_new(codec);
	char label[128];
	int ok = 1;

	for (int i = 0; i < 50000; i++)
		buf_printf(&plain, "%d\tchapter %d\tthe dragon by the river\\n\n",
			   i, i % 97);
	encode(codec, &plain, &enc);
	/* Pieces of odd sizes, as a pipe hands them over. */
	for (size_t at = 0; at < enc.len && ok;) {
		size_t n = enc.len - at < 777 ? enc.len - at : 777;

		ok = zdec_feed(z, enc.p + at, n, collect, &dec) == 0;
		at += n;
	}
	snprintf(label, sizeof(label), "%s: decodes to the same bytes", name);
	T_OK(ok && zdec_end(z) == 0 && dec.len == plain.len &&
	     !memcmp(dec.p, plain.p, plain.len), label);
	zdec_free(z);

	z = zdec_new(codec);
	buf_reset(&dec);
	ok = zdec_feed(z, enc.p, enc.len / 2, collect, &dec) == 0;
	snprintf(label, sizeof(label), "%s: a stream cut in half is an error",
		 name);
	T_OK(ok && zdec_end(z) < 0 && strstr(zdec_error(z), "cut off"), label);
	zdec_free(z);

	z = zdec_new(codec);
	enc.p[enc.len / 2] ^= 0x55;
	enc.p[enc.len / 2 + 1] ^= 0x55;
	ok = zdec_feed(z, enc.p, enc.len, collect, &dec) == 0 &&
		zdec_end(z) == 0;
	snprintf(label, sizeof(label), "%s: damaged data is an error", name);
	T_OK(!ok, label);
	zdec_free(z);
	buf_release(&plain);
	buf_release(&enc);
	buf_release(&dec);
}

int main(void)
{
	round_trip(ZP_ZSTD, "zstd");
	round_trip(ZP_GZIP, "gzip");
	return T_DONE();
}
