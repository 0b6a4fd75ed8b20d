/* backup/fetch.c on this machine (host = local): a command's output,
 * compressed by zstd, gzip or not at all on the "server", lands in the
 * archive as it was; files from an offset, in whole lines. */
#include "backup/fetch.h"
#include "tests/unit/t.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "backup/archive.h"
#include "net/xport.h"
#include "util/buf.h"

static char scratch[] = "/tmp/ferry-test-fetch-XXXXXX";

/* The archive's members as name -> content, in order. */
struct got {
	struct strlist names;
	struct buf data[32];
};

static void read_back(const char *path, struct got *g)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ent;
	static char chunk[65536];
	la_ssize_t n;

	archive_read_support_filter_zstd(a);
	archive_read_support_format_tar(a);
	if (archive_read_open_filename(a, path, 65536) != ARCHIVE_OK)
		return;
	while (g->names.n < 32 && archive_read_next_header(a, &ent) == ARCHIVE_OK) {
		struct buf *b = &g->data[g->names.n];

		strlist_add(&g->names, archive_entry_pathname(ent));
		buf_init(b);
		while ((n = archive_read_data(a, chunk, sizeof(chunk))) > 0)
			buf_add(b, chunk, (size_t)n);
	}
	archive_read_free(a);
}

static const struct buf *member(const struct got *g, const char *name)
{
	for (size_t i = 0; i < g->names.n; i++)
		if (!strcmp(g->names.v[i], name))
			return &g->data[i];
	return NULL;
}

static int have(const char *tool)
{
	char *cmd = xstrfmt("command -v %s >/dev/null 2>&1", tool);
	int r = system(cmd) == 0;

	free(cmd);
	return r;
}

int main(void)
{
	static const enum fetch_codec codecs[] = { FETCH_PLAIN, FETCH_ZSTD,
						   FETCH_GZIP };
	struct xport_opts xo = { 0 };
	struct xport *x = NULL;
	struct arc *a = NULL;
	struct err e = ERR_INIT;
	struct buf seq = BUF_INIT, errout = BUF_INIT;
	struct got g = { STRLIST_INIT, { BUF_INIT } };
	struct proc_status st;
	char *path, *file;
	uint64_t bytes;
	int fd;
	FILE *f;

	if (!mkdtemp(scratch))
		return 1;
	path = xstrfmt("%s/a.tar.zst", scratch);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	xo.local = 1;
	if (xport_open(&x, &xo, &e) < 0 || arc_create(&a, fd, 3, 1, 0, &e) < 0) {
		printf("not ok - setup: %s\n", e.msg);
		return 1;
	}
	for (int i = 1; i <= 300000; i++)
		buf_printf(&seq, "%d\n", i);
	for (size_t c = 0; c < 3; c++) {
		const char *name = fetch_codec_name(codecs[c]);
		char *m1, *m2, *m3;
		char l1[64], l2[64], l3[80];

		if (codecs[c] != FETCH_PLAIN && !have(name)) {
			printf("skip - fetch: %s is not installed\n", name);
			continue;
		}
		m1 = xstrfmt("%s/seq", name);
		m2 = xstrfmt("%s/empty", name);
		m3 = xstrfmt("%s/fail", name);

		snprintf(l1, sizeof(l1), "%s: streamed, exit 0", name);
		snprintf(l2, sizeof(l2), "%s: empty output", name);
		snprintf(l3, sizeof(l3), "%s: a failing command's status and "
			 "stderr come back", name);
		T_OK(fetch_exec(x, "seq 1 300000", codecs[c], a, m1, &bytes,
				&errout, &st, &e) == 0 && st.exited && st.code == 0 &&
		     bytes == seq.len, l1);
		T_OK(fetch_exec(x, "true", codecs[c], a, m2, &bytes, &errout,
				&st, &e) == 0 && bytes == 0, l2);
		/* A few hundred bytes on the wire, 5 MB out: the decoder
		 * must be drained after its input is used up. */
		snprintf(l2, sizeof(l2), "%s: 5 MB from a tiny stream", name);
		T_OK(fetch_exec(x, "yes | head -c 5000000", codecs[c], a, m3,
				&bytes, &errout, &st, &e) == 0 && bytes == 5000000,
		     l2);
		T_OK(fetch_exec(x, "echo oops >&2; exit 3", codecs[c], a, m3,
				&bytes, &errout, &st, &e) == 0 && st.code == 3 &&
		     !strcmp(buf_str(&errout), "oops"), l3);
		free(m1);
		free(m2);
		free(m3);
	}
	/* "a\n22\n333\n" from byte 2 on, in whole lines: "333\n". */
	file = xstrfmt("%s/log", scratch);
	f = fopen(file, "w");
	fputs("1\n22\n333\n", f);
	fclose(f);
	T_OK(fetch_file(x, file, 2, 1, a, "file/cut", &bytes, &e) == 0 &&
	     bytes == 4, "file from an offset: the cut line dropped");
	T_OK(fetch_file(x, file, 0, 1, a, "file/whole", &bytes, &e) == 0 &&
	     bytes == 9, "file from the start: whole");
	T_OK(arc_sync(a, &e) == 0 && arc_finish(a, &e) == 0, "archive written");
	close(fd);
	read_back(path, &g);
	for (size_t c = 0; c < 3; c++) {
		const char *name = fetch_codec_name(codecs[c]);
		char *m1 = xstrfmt("%s/seq", name), *m2 = xstrfmt("%s/empty", name);
		const struct buf *b = member(&g, m1), *b2 = member(&g, m2);
		char label[64];

		free(m1);
		free(m2);
		if (!b)
			continue;
		snprintf(label, sizeof(label), "%s: the output, byte for byte",
			 name);
		T_OK(b->len == seq.len && !memcmp(b->p, seq.p, seq.len), label);
		snprintf(label, sizeof(label), "%s: empty output, empty member",
			 name);
		T_OK(b2 && b2->len == 0, label);
	}
	T_STREQ(member(&g, "file/cut") ? buf_str(member(&g, "file/cut")) : NULL,
		"333\n", "cut file content");
	arc_free(a);
	xport_close(x);
	for (size_t i = 0; i < g.names.n; i++)
		buf_release(&g.data[i]);
	strlist_release(&g.names);
	buf_release(&seq);
	buf_release(&errout);
	free(file);
	unlink(path);
	free(path);
	file = xstrfmt("rm -rf %s", scratch);
	(void)!system(file);
	free(file);
	return T_DONE();
}
