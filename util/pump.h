/*
 * pump: a running command's three descriptors against local ones, for
 * output that streams for as long as it lasts (compose logs -f, exec):
 * stdin copied from a local descriptor, stdout to a descriptor or cut into
 * lines for a callback, stderr to a descriptor, and a stop descriptor (a
 * signal's self-pipe) that ends it in bounded time.
 */
#ifndef FERRY_UTIL_PUMP_H
#define FERRY_UTIL_PUMP_H

#include <stddef.h>

struct buf;

struct pump {
	int in_src;		/* copied to in until its EOF; -1: none */
	int hold_in;		/* without in_src: keep in open to the end
				 * (its EOF would end a watched command) */
	int in;			/* the command's stdin */
	int out, err;		/* its stdout and stderr */
	int out_fd, err_fd;	/* where they go (-1: dropped) */
	struct buf *err_tail;	/* also keeps stderr's last 8 KiB, or NULL */
	/* Instead of out_fd: each line of stdout with its '\n' (the last
	 * may lack it); non-zero stops the pump as stop_fd does. */
	int (*line)(void *ctx, const char *line, size_t len);
	void *ctx;
	int stop_fd;		/* readable: stop (-1: none) */
	int grace_ms;		/* after a stop, how long the command may take
				 * to end once its stdin is closed */
};

#define PUMP_INIT { -1, 0, -1, -1, -1, -1, -1, NULL, NULL, NULL, -1, 1000 }

enum pump_end {
	PUMP_EOF,		/* stdout and stderr ended */
	PUMP_STOPPED,		/* stopped; the command ended within the grace */
	PUMP_ABANDONED,		/* stopped; it did not: do not wait for it */
};

/* Runs to one of the ends above and closes in, out and err (never
 * in_src, out_fd, err_fd or stop_fd).  A local writer that fails (a
 * closed pipe) stops the pump too; *werr then holds its errno. */
enum pump_end pump_run(struct pump *p, int *werr);

#endif
