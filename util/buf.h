/*
 * buf: a growable, always NUL-terminated byte buffer (git's strbuf, curl's
 * dynbuf).  Allocation failure is fatal (x* helpers), so appends cannot fail.
 *
 * Ownership: a buf owns its bytes until buf_detach() hands them to the
 * caller, who then frees them with free().  buf_release() frees and resets.
 */
#ifndef FERRY_UTIL_BUF_H
#define FERRY_UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *p;	/* NUL-terminated when cap > 0 */
	size_t len;
	size_t cap;
	size_t limit;	/* for buf_add_capped(); 0: none */
};

#define BUF_INIT { NULL, 0, 0, 0 }
/* An empty buffer whose buf_add_capped() stops at limit bytes. */
#define BUF_LIMITED(limit) { NULL, 0, 0, (limit) }

void buf_init(struct buf *b);
void buf_release(struct buf *b);
void buf_reset(struct buf *b);
void buf_grow(struct buf *b, size_t extra);
void buf_add(struct buf *b, const void *data, size_t n);
/* For data from outside (a server's reply, a member): appends what fits
 * under b->limit; -1 when some of it did not fit (the caller decides
 * whether a cut is an error or good enough). */
int buf_add_capped(struct buf *b, const void *data, size_t n);
void buf_addstr(struct buf *b, const char *s);
void buf_addch(struct buf *b, int c);
void buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap);
void buf_setlen(struct buf *b, size_t len);
/* Drops the first n bytes (all of them when n is larger). */
void buf_remove_front(struct buf *b, size_t n);
/* Caller frees the returned string; b is left empty. */
char *buf_detach(struct buf *b, size_t *len);
/* Never NULL: "" for an empty buffer. */
const char *buf_str(const struct buf *b);
/* Overwrite the contents with zeros before freeing (secrets). */
void buf_wipe(struct buf *b);

/* Fatal-on-failure allocation helpers. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xstrfmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A NULL-terminated list of owned strings. */
struct strlist {
	char **v;
	size_t n;
	size_t cap;
};

#define STRLIST_INIT { NULL, 0, 0 }

void strlist_add(struct strlist *l, const char *s);
void strlist_add_take(struct strlist *l, char *s);
void strlist_release(struct strlist *l);
/* Split on commas and newlines, trimming blanks; empty items are dropped. */
void strlist_split(struct strlist *l, const char *s);

#endif
