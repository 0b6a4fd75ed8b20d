#include "util/zout.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "util/buf.h"
#include "util/fdio.h"

/* zstd's multi-threaded jobs default to 4x the window (8 MiB at level 3)
 * per worker; 1 MiB jobs keep RSS flat.  Each job starts from the whole
 * window before it (overlap 9): with zstd's default overlap, 1 MiB jobs
 * made a tree of C headers 21% larger than one thread does (22.5 against
 * 18.5 MB), COPY text 8%; with it, 17.8 and 27.8 MB, for a quarter more
 * CPU in the workers (bench/README, ninth session). */
#define JOB (1u << 20)
#define OVERLAP 9
/* Into a file, the write-out starts every FLUSH_AFTER bytes: the fsync
 * that publishes an archive then waits for its last few MiB instead of
 * all of it (50 ms of a 28 MB archive's backup here), and a big archive
 * does not fill the page cache with dirty pages first. */
#define FLUSH_AFTER (8u << 20)

struct zout {
	ZSTD_CCtx *z;
	int fd;
	void *out;
	size_t cap;
	int open;		/* data written since the frame's end */
	int file;		/* a regular file: its write-out is started */
	size_t unflushed;
	char why[256];
};

struct zout *zout_new(int fd, int level, int threads, int checksum)
{
	struct zout *z = xcalloc(1, sizeof(*z));
	struct stat st;

	z->fd = fd;
	z->file = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	z->z = ZSTD_createCCtx();
	z->cap = ZSTD_CStreamOutSize();
	z->out = xmalloc(z->cap);
	if (threads <= 0)
		threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (!z->z ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(z->z, ZSTD_c_compressionLevel,
						level)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(z->z, ZSTD_c_checksumFlag,
						checksum))) {
		zout_free(z);
		return NULL;
	}
	/* A libzstd without threads refuses workers: then one thread. */
	if (threads > 1 &&
	    !ZSTD_isError(ZSTD_CCtx_setParameter(z->z, ZSTD_c_nbWorkers,
						 threads))) {
		ZSTD_CCtx_setParameter(z->z, ZSTD_c_jobSize, JOB);
		ZSTD_CCtx_setParameter(z->z, ZSTD_c_overlapLog, OVERLAP);
	}
	return z;
}

static int put(struct zout *z, const void *buf, size_t len)
{
	if (fd_write_all(z->fd, buf, len) < 0) {
		snprintf(z->why, sizeof(z->why), "%s", strerror(errno));
		return -1;
	}
	if (z->file && (z->unflushed += len) >= FLUSH_AFTER) {
		z->unflushed = 0;
		/* Only a hint: a file system without it loses nothing. */
		if (sync_file_range(z->fd, 0, 0, SYNC_FILE_RANGE_WRITE) < 0)
			z->file = 0;
	}
	return 0;
}

static int pump(struct zout *z, const void *buf, size_t len,
		ZSTD_EndDirective mode)
{
	ZSTD_inBuffer in = { buf, len, 0 };
	size_t left;

	do {
		ZSTD_outBuffer out = { z->out, z->cap, 0 };

		left = ZSTD_compressStream2(z->z, &out, &in, mode);
		if (ZSTD_isError(left)) {
			snprintf(z->why, sizeof(z->why), "zstd: %s",
				 ZSTD_getErrorName(left));
			return -1;
		}
		if (out.pos && put(z, z->out, out.pos) < 0)
			return -1;
	} while (mode == ZSTD_e_end ? left != 0 : in.pos < in.size);
	return 0;
}

int zout_write(struct zout *z, const void *buf, size_t len)
{
	z->open |= len > 0;
	return pump(z, buf, len, ZSTD_e_continue);
}

int zout_end(struct zout *z)
{
	z->open = 0;
	return pump(z, NULL, 0, ZSTD_e_end);
}

int zout_raw(struct zout *z, const void *buf, size_t len)
{
	if (z->open && zout_end(z) < 0)
		return -1;
	return put(z, buf, len);
}

const char *zout_error(const struct zout *z)
{
	return z->why;
}

void zout_free(struct zout *z)
{
	if (!z)
		return;
	ZSTD_freeCCtx(z->z);
	free(z->out);
	free(z);
}
