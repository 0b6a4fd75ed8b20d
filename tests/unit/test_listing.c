/* deploy/listing.c: the scan's output read as it arrives -- the header
 * lines kept, records plain or gzip'ed read whole across any cut, "."
 * required first and only first, a cut or a bad record named, the pipe
 * always drained. */
#include "deploy/listing.h"
#include "tests/unit/t.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "util/fdio.h"

#define ROOT "d 4096 1796000000.5 755 \0\0"
#define RECS ROOT "f 12 1796000001.25 644 a b.txt\0\0" \
	"l 3 1796000002.0000000000 777 sub/ln\0../x\0" \
	"d 60 -5.5 700 sub\0\0"

/* Writes the head and the body in pieces of step bytes; the reader's
 * results in *l (released by the caller). */
static void run(struct listing *l, const char *head, const char *body,
		size_t n, size_t step)
{
	struct err e = ERR_INIT;
	int w;

	*l = (struct listing)LISTING_INIT;
	if (listing_start(l, &w, &e) < 0) {
		T_OK(0, e.msg);
		return;
	}
	if (fd_write_all(w, head, strlen(head)) < 0)
		T_OK(0, "write the head");
	for (size_t at = 0; at < n; at += step)
		if (fd_write_all(w, body + at, at + step < n ? step : n - at) < 0)
			T_OK(0, "write the body");
	close(w);
	listing_join(l);
}

static const struct fentry *find(const struct listing *l, const char *path)
{
	for (size_t i = 0; i < l->tree.n; i++)
		if (!strcmp(l->tree.v[i].path, path))
			return &l->tree.v[i];
	return NULL;
}

static void plain(size_t step)
{
	struct listing l;
	const struct fentry *f, *ln, *d;
	char name[64];

	run(&l, "dir /srv/x\nhas gzip\nlist\n", RECS, sizeof(RECS) - 1, step);
	snprintf(name, sizeof(name), "plain, %zu-byte pieces: all records", step);
	f = find(&l, "a b.txt");
	ln = find(&l, "sub/ln");
	d = find(&l, "sub");
	T_OK(l.listed && !l.zipped && !l.error && l.records == 4 &&
	     l.tree.n == 3, name);
	T_STREQ(buf_str(&l.head), "dir /srv/x\nhas gzip\nlist\n", "the head, "
		"up to the list line");
	T_OK(f && f->type == 'f' && f->size == 12 && f->mtime == 1796000001 &&
	     f->mode == 0644, "a file's size, mtime (no fraction) and mode");
	T_OK(ln && ln->type == 'l' && ln->link && !strcmp(ln->link, "../x") &&
	     ln->size == 0, "a link's target");
	T_OK(d && d->type == 'd' && d->mtime == -5 && d->mode == 0700,
	     "a directory before 1970");
	listing_release(&l);
}

static void zipped(void)
{
	unsigned char z[1024];
	uLongf zn = sizeof(z);
	struct listing l;
	z_stream s = { 0 };

	/* a gzip stream (zlib's compress2 is zlib-wrapped; gzip wants
	 * deflateInit2 with 16 + MAX_WBITS) */
	deflateInit2(&s, 1, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
	s.next_in = (unsigned char *)RECS;
	s.avail_in = sizeof(RECS) - 1;
	s.next_out = z;
	s.avail_out = sizeof(z);
	deflate(&s, Z_FINISH);
	zn = sizeof(z) - s.avail_out;
	deflateEnd(&s);
	run(&l, "list gzip\n", (const char *)z, zn, 7);
	T_OK(l.listed && l.zipped && !l.error && l.records == 4 &&
	     find(&l, "sub/ln"), "gzip'ed, in 7-byte pieces: all records");
	listing_release(&l);
	run(&l, "list gzip\n", (const char *)z, zn - 9, 64);
	T_OK(l.error != NULL, "a cut gzip stream is an error");
	listing_release(&l);
}

static void damage(void)
{
	static const char noroot[] = "f 1 1.0 644 a\0\0";
	static const char cut[] = ROOT "f 1 1.0 644 a\0";
	static const char bad[] = ROOT "f x 1.0 644 a\0\0";
	static const char tworoots[] = ROOT ROOT;
	static const char space[] = ROOT "f 1 1.0 644  lead\0\0";
	static const struct {
		const char *body;
		size_t n, step;
		const char *want, *name;
	} cases[] = {
		{ noroot, sizeof(noroot) - 1, 100, "truncated",
		  "no \".\" first: truncated" },
		{ cut, sizeof(cut) - 1, 100, "truncated", "a cut record: truncated" },
		{ bad, sizeof(bad) - 1, 3, "bad record", "a bad size: bad record" },
		{ tworoots, sizeof(tworoots) - 1, 100, "bad record",
		  "a second empty path: bad record" },
	};
	struct listing l;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		run(&l, "list\n", cases[i].body, cases[i].n, cases[i].step);
		T_OK(l.error && !strcmp(l.error, cases[i].want), cases[i].name);
		listing_release(&l);
	}
	run(&l, "list\n", space, sizeof(space) - 1, 100);
	T_OK(!l.error && find(&l, " lead"), "a name's leading space is kept");
	listing_release(&l);
	run(&l, "dir /a\nrefuse it is /\n", "", 0, 1);
	T_OK(!l.listed && !l.records && !strcmp(buf_str(&l.head),
	     "dir /a\nrefuse it is /\n"), "no list line: all of it is head");
	listing_release(&l);
	run(&l, "listing\nlist\n", "", 0, 1);
	T_OK(l.listed && !l.records && !l.error, "\"listing\" is not the "
	     "list line; nothing after it is no error");
	listing_release(&l);
}

int main(void)
{
	plain(1);
	plain(5);
	plain(4096);
	zipped();
	damage();
	return T_DONE();
}
