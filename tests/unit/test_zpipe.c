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

/* What a run of tables on one psql sends: frame, mark, frame, mark. */
struct marks {
	struct buf plain;
	size_t at[3];		/* plain bytes seen at each mark */
	char payload[3][8];
	int n;
};

static int mark_sink(void *ctx, const void *data, size_t len)
{
	struct marks *m = ctx;

	buf_add(&m->plain, data, len);
	return 0;
}

static int no_frame(void *ctx, const void *data, size_t len)
{
	(void)ctx;
	(void)data;
	(void)len;
	return 0;
}

static int on_mark(void *ctx, const void *data, size_t len)
{
	struct marks *m = ctx;

	if (m->n < 3) {
		m->at[m->n] = m->plain.len;
		snprintf(m->payload[m->n], sizeof(m->payload[0]), "%.*s",
			 (int)len, (const char *)data);
	}
	m->n++;
	return 0;
}

static void marks(void)
{
	static const unsigned char skip0[] = { 0x50, 0x2A, 0x4D, 0x18, 0, 0, 0, 0 };
	static const unsigned char skip2[] = { 0x5F, 0x2A, 0x4D, 0x18, 2, 0, 0, 0,
					       'o', 'k' };
	struct buf a = BUF_INIT, b = BUF_INIT, wire = BUF_INIT;
	struct marks m = { BUF_INIT, { 0 }, { "" }, 0 };
	struct zdec *z = zdec_new(ZP_ZSTD);
	int ok = 1;

	for (int i = 0; i < 20000; i++) {
		buf_printf(&a, "%d\tfirst table\n", i);
		if (i % 2)
			buf_printf(&b, "%d\tsecond\n", i);
	}
	encode(ZP_ZSTD, &a, &wire);
	buf_add(&wire, skip0, sizeof(skip0));
	{
		struct buf eb = BUF_INIT;

		encode(ZP_ZSTD, &b, &eb);
		buf_add(&wire, eb.p, eb.len);
		buf_release(&eb);
	}
	buf_add(&wire, skip2, sizeof(skip2));
	zdec_keep_frames(z, no_frame, 1u << 20, 0);
	zdec_on_mark(z, on_mark);
	/* Pieces of 3 bytes: every unit arrives in parts. */
	for (size_t at = 0; at < wire.len && ok; at += 3)
		ok = zdec_feed(z, wire.p + at, wire.len - at < 3 ? wire.len - at : 3,
			       mark_sink, &m) == 0;
	T_OK(ok && zdec_end(z) == 0, "marks: the stream decodes");
	T_OK(m.n == 2, "marks: each skippable frame is a mark");
	T_OK(m.at[0] == a.len && m.at[1] == a.len + b.len,
	     "marks: each mark comes after its frame's plain bytes");
	T_OK(!strcmp(m.payload[0], "") && !strcmp(m.payload[1], "ok"),
	     "marks: with their payloads");
	T_OK(m.plain.len == a.len + b.len &&
	     !memcmp(m.plain.p, a.p, a.len) &&
	     !memcmp(m.plain.p + a.len, b.p, b.len),
	     "marks: the plain bytes are the frames' and nothing else");
	zdec_free(z);
	buf_release(&a);
	buf_release(&b);
	buf_release(&wire);
	buf_release(&m.plain);
}

int main(void)
{
	round_trip(ZP_ZSTD, "zstd");
	round_trip(ZP_GZIP, "gzip");
	marks();
	return T_DONE();
}
