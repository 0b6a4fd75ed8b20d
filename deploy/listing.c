#include "deploy/listing.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK 65536

/*
 * One record's head, "TYPE SIZE MTIME MODE " (the mtime has a fraction,
 * dropped), into its parts; the path after it, or NULL when it is not one.
 * By hand: sscanf's %lf was most of the time the records took.
 */
static const char *record(const char *p, char *type, unsigned long long *size,
			  long long *mtime, unsigned *mode)
{
	char *q;

	if (!p[0] || p[1] != ' ' || p[2] < '0' || p[2] > '9')
		return NULL;
	*type = p[0];
	*size = strtoull(p + 2, &q, 10);
	if (*q != ' ' || (q[1] != '-' && (q[1] < '0' || q[1] > '9')))
		return NULL;
	*mtime = strtoll(q + 1, &q, 10);
	if (*q == '.')
		while (*++q >= '0' && *q <= '9')
			;
	if (*q != ' ' || q[1] < '0' || q[1] > '7')
		return NULL;
	*mode = (unsigned)strtoul(q + 1, &q, 8);
	return *q == ' ' ? q + 1 : NULL;
}

static void fail(struct listing *l, const char *why)
{
	if (!l->error)
		l->error = xstrdup(why);
}

/* The whole records in carry go to the tree; a cut one waits there. */
static void feed(struct listing *l, const char *data, size_t n)
{
	char *p, *end;

	if (l->error)
		return;
	buf_add(&l->carry, data, n);
	p = l->carry.p;
	end = p + l->carry.len;
	while (p < end) {
		char type, *path = memchr(p, '\0', (size_t)(end - p)), *link, *rest;
		const char *name;
		unsigned long long size;
		long long mtime;
		unsigned mode;

		if (!path || !(rest = memchr(link = path + 1, '\0',
					     (size_t)(end - path - 1))))
			break;
		if (!(name = record(p, &type, &size, &mtime, &mode)) ||
		    (!*name) != (l->records == 0) || (!*name && type != 'd')) {
			/* "." with its empty path first, and only first */
			fail(l, name && l->records == 0 ? "truncated" :
			     "bad record");
			return;
		}
		l->records++;
		if (!*name)
			;
		else if (type == 'f' || type == 'd' || type == 'l')
			/* Sizes of directories and links mean nothing here. */
			tree_add(&l->tree, name, type, type == 'f' ? size : 0,
				 mtime, mode, type == 'l' ? link : NULL);
		else
			/* Sockets, fifos: the sync deletes or replaces them. */
			tree_add(&l->tree, name, '?', 0, 0, 0, NULL);
		p = rest + 1;
	}
	buf_remove_front(&l->carry, (size_t)(p - l->carry.p));
}

static ssize_t read_some(int fd, void *buf, size_t n)
{
	ssize_t got;

	while ((got = read(fd, buf, n)) < 0 && errno == EINTR)
		;
	return got;
}

/* libarchive's source: what came after the "list" line, then the pipe. */
struct src {
	struct listing *l;
	const char *left;
	size_t nleft;
	char buf[CHUNK];
};

static la_ssize_t src_read(struct archive *a, void *ud, const void **out)
{
	struct src *s = ud;
	ssize_t got;

	(void)a;
	if (s->nleft) {
		*out = s->left;
		got = (ssize_t)s->nleft;
		s->nleft = 0;
		return got;
	}
	got = read_some(s->l->fd, s->buf, sizeof(s->buf));
	*out = s->buf;
	return got < 0 ? 0 : got;
}

static void unpack(struct listing *l, const char *left, size_t nleft)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ent;
	struct src *s = xcalloc(1, sizeof(*s));
	char *chunk = xmalloc(CHUNK);
	la_ssize_t got = -1;
	int r;

	s->l = l;
	s->left = left;
	s->nleft = nleft;
	archive_read_support_filter_all(a);
	archive_read_support_format_raw(a);
	r = archive_read_open(a, s, NULL, src_read, NULL);
	if (r == ARCHIVE_OK)
		r = archive_read_next_header(a, &ent);
	if (r == ARCHIVE_OK)
		while ((got = archive_read_data(a, chunk, CHUNK)) > 0)
			feed(l, chunk, (size_t)got);
	if (r != ARCHIVE_OK || got != 0)
		fail(l, archive_error_string(a) ? archive_error_string(a) :
		     "cannot decompress");
	archive_read_free(a);
	free(chunk);
	free(s);
}

/* The end of the "list" line in head, from *from on, or NULL (then *from
 * moves past the whole lines looked at). */
static char *list_line(struct listing *l, size_t *from)
{
	char *p = l->head.p + *from, *end = l->head.p + l->head.len, *nl;

	while ((nl = memchr(p, '\n', (size_t)(end - p)))) {
		size_t n = (size_t)(nl - p);

		if ((n == 4 || (n > 5 && p[4] == ' ')) && !memcmp(p, "list", 4)) {
			l->listed = 1;
			l->zipped = n > 4;
			return nl + 1;
		}
		p = nl + 1;
	}
	*from = (size_t)(p - l->head.p);
	return NULL;
}

static void *reader(void *arg)
{
	struct listing *l = arg;
	char *chunk = xmalloc(CHUNK), *rest = NULL, *left;
	size_t from = 0, nleft;
	ssize_t got;

	while (!rest && (got = read_some(l->fd, chunk, CHUNK)) > 0) {
		buf_add(&l->head, chunk, (size_t)got);
		rest = list_line(l, &from);
	}
	if (rest) {
		nleft = l->head.len - (size_t)(rest - l->head.p);
		left = xmalloc(nleft ? nleft : 1);
		memcpy(left, rest, nleft);
		buf_setlen(&l->head, (size_t)(rest - l->head.p));
		if (l->zipped) {
			unpack(l, left, nleft);
		} else {
			feed(l, left, nleft);
			while ((got = read_some(l->fd, chunk, CHUNK)) > 0)
				feed(l, chunk, (size_t)got);
		}
		free(left);
		if (l->carry.len)
			fail(l, "truncated");
	}
	/* whatever is left, so that the writer never blocks */
	while (read_some(l->fd, chunk, CHUNK) > 0)
		;
	free(chunk);
	return NULL;
}

int listing_start(struct listing *l, int *wfd, struct err *e)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return err_set(e, FX_FAIL, "pipe: %s", strerror(errno));
	l->fd = p[0];
	if (pthread_create(&l->th, NULL, reader, l) != 0) {
		close(p[0]);
		close(p[1]);
		l->fd = -1;
		return err_set(e, FX_FAIL, "listing: cannot start a thread");
	}
	l->running = 1;
	*wfd = p[1];
	return 0;
}

void listing_join(struct listing *l)
{
	if (l->running)
		pthread_join(l->th, NULL);
	l->running = 0;
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
}

void listing_release(struct listing *l)
{
	listing_join(l);
	tree_release(&l->tree);
	buf_release(&l->head);
	buf_release(&l->carry);
	free(l->error);
	l->error = NULL;
}
