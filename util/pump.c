#include "util/pump.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/fdio.h"

#define CHUNK 65536
#define LINE_MAX_BYTES (1u << 20)

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Hands complete lines to the callback; with flush, the rest too.  A
 * line longer than LINE_MAX_BYTES is handed over in pieces. */
static int lines(struct pump *p, struct buf *acc, int flush)
{
	size_t start = 0;
	int r = 0;

	while (!r && start < acc->len) {
		char *nl = memchr(acc->p + start, '\n', acc->len - start);
		size_t end = nl ? (size_t)(nl - acc->p) + 1 : acc->len;

		if (!nl && !flush && acc->len - start < LINE_MAX_BYTES)
			break;
		r = p->line(p->ctx, acc->p + start, end - start);
		start = end;
	}
	buf_remove_front(acc, start);
	return r;
}

static void keep_tail(struct buf *b, const char *data, size_t n)
{
	const size_t max = 8192;

	if (n > max) {
		data += n - max;
		n = max;
	}
	if (b->len + n > max)
		buf_remove_front(b, b->len + n - max);
	buf_add(b, data, n);
}

/* Copies up to CHUNK bytes of in_src into the command's stdin; at the
 * source's EOF (or a failure either side) stdin is closed. */
static void feed(struct pump *p, char *chunk)
{
	ssize_t n = read(p->in_src, chunk, CHUNK);

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0 || fd_write_all(p->in, chunk, (size_t)n) < 0)
		close_fd(&p->in);
}

enum pump_end pump_run(struct pump *p, int *werr)
{
	struct buf acc = BUF_INIT;
	char *chunk = xmalloc(CHUNK);
	long long deadline = -1;
	int stopped = 0;
	enum pump_end end = PUMP_EOF;

	*werr = 0;
	if (p->in_src < 0 && !p->hold_in)
		close_fd(&p->in);
	while (p->out >= 0 || p->err >= 0) {
		struct pollfd pfd[4];
		int n = 0, iout = -1, ierr = -1, iin = -1, istop = -1;
		int timeout = -1;

		if (p->out >= 0)
			iout = n, pfd[n++] = (struct pollfd){ p->out, POLLIN, 0 };
		if (p->err >= 0)
			ierr = n, pfd[n++] = (struct pollfd){ p->err, POLLIN, 0 };
		if (p->in >= 0 && p->in_src >= 0 && !stopped)
			iin = n, pfd[n++] = (struct pollfd){ p->in_src, POLLIN, 0 };
		if (p->stop_fd >= 0 && !stopped)
			istop = n, pfd[n++] = (struct pollfd){ p->stop_fd, POLLIN, 0 };
		if (deadline >= 0) {
			long long left = deadline - now_ms();

			if (left <= 0) {
				end = PUMP_ABANDONED;
				break;
			}
			timeout = (int)left;
		}
		if (poll(pfd, (nfds_t)n, timeout) < 0) {
			if (errno == EINTR)
				continue;
			*werr = errno;
			end = PUMP_ABANDONED;
			break;
		}
		if (istop >= 0 && pfd[istop].revents) {
			/* The command's stdin closing is what ends it. */
			stopped = 1;
			close_fd(&p->in);
			deadline = now_ms() + p->grace_ms;
			end = PUMP_STOPPED;
			continue;
		}
		if (iin >= 0 && pfd[iin].revents)
			feed(p, chunk);
		for (int k = 0; k < 2; k++) {
			int idx = k ? ierr : iout, *fd = k ? &p->err : &p->out;
			int to = k ? p->err_fd : p->out_fd, bad = 0;
			ssize_t got;

			if (idx < 0 || !pfd[idx].revents)
				continue;
			got = read(*fd, chunk, CHUNK);
			if (got < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (got <= 0) {
				close_fd(fd);
				continue;
			}
			if (k && p->err_tail)
				keep_tail(p->err_tail, chunk, (size_t)got);
			if (*werr)
				continue;	/* draining after a failed writer */
			if (!k && p->line) {
				buf_add(&acc, chunk, (size_t)got);
				bad = lines(p, &acc, 0);
				if (bad && !stopped) {
					stopped = 1;
					close_fd(&p->in);
					deadline = now_ms() + p->grace_ms;
					end = PUMP_STOPPED;
				}
				continue;
			}
			if (to >= 0 && fd_write_all(to, chunk, (size_t)got) < 0) {
				*werr = errno;
				if (!stopped) {
					stopped = 1;
					close_fd(&p->in);
					deadline = now_ms() + p->grace_ms;
					end = PUMP_STOPPED;
				}
			}
		}
	}
	if (p->line && acc.len && !*werr && end == PUMP_EOF)
		lines(p, &acc, 1);
	buf_release(&acc);
	free(chunk);
	close_fd(&p->in);
	close_fd(&p->out);
	close_fd(&p->err);
	return end;
}
