#include "util/lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "util/buf.h"

static void describe_holder(int fd, struct buf *out)
{
	char text[128];
	ssize_t n = pread(fd, text, sizeof(text) - 1, 0);
	long pid = 0;
	long long since = 0;

	if (n > 0) {
		text[n] = '\0';
		if (sscanf(text, "%ld %lld", &pid, &since) == 2 && pid > 0) {
			char when[32];
			time_t t = (time_t)since;
			struct tm tm;

			gmtime_r(&t, &tm);
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
			buf_printf(out, "pid %ld since %s", pid, when);
			return;
		}
	}
	buf_addstr(out, "another process");
}

int lock_take(struct lock *l, const char *path, struct err *e)
{
	struct buf who = BUF_INIT;
	char text[64];
	int fd, n;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_set(e, FX_FAIL, "lock %s: %s", path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int saved = errno;

		if (saved == EWOULDBLOCK) {
			describe_holder(fd, &who);
			err_set(e, FX_LOCKED, "%s is locked by %s", path,
				buf_str(&who));
		} else {
			err_set(e, FX_FAIL, "lock %s: %s", path, strerror(saved));
		}
		close(fd);
		buf_release(&who);
		return -1;
	}
	n = snprintf(text, sizeof(text), "%ld %lld\n", (long)getpid(),
		     (long long)time(NULL));
	if (ftruncate(fd, 0) < 0 || pwrite(fd, text, (size_t)n, 0) != n) {
		/* The lock itself is held; only the holder note is missing. */
	}
	l->fd = fd;
	l->path = xstrdup(path);
	return 0;
}

void lock_release(struct lock *l)
{
	if (l->fd >= 0) {
		if (ftruncate(l->fd, 0) < 0) {
			/* harmless: the next holder rewrites it */
		}
		close(l->fd);
	}
	free(l->path);
	l->fd = -1;
	l->path = NULL;
}

int lock_is_held(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int held = 0;

	if (fd < 0)
		return 0;
	if (flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK)
		held = 1;
	close(fd);
	return held;
}
