/*
 * rdb_probe FILE [diskless]: runs net/rdb.c's walk over an RDB file (as the
 * $<len> form, or followed by a mark as the diskless form) and prints
 * "keys=N expires=N walked=N checksum=N dbs=DB:KEYS,..." for the
 * integration tests to compare with what redis-server says.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/rdb.h"

static const char MARK[] = "ferryferryferryferryferryferryferryferry";

struct src {
	int fd;
	int marked;	/* the mark was given after the file */
};

static ssize_t src_read(void *arg, void *buf, size_t n, struct err *e)
{
	struct src *s = arg;
	ssize_t got = read(s->fd, buf, n);

	(void)e;
	if (got == 0 && !s->marked) {
		size_t k = n < 40 ? n : 40;

		/* The mark in one piece is enough for a probe. */
		if (k < 40)
			return -1;
		memcpy(buf, MARK, 40);
		s->marked = 1;
		return 40;
	}
	return got;
}

static int sink(void *arg, const void *buf, size_t n, struct err *e)
{
	(void)arg; (void)buf; (void)n; (void)e;
	return 0;
}

int main(int argc, char **argv)
{
	struct src s = { -1, 0 };
	struct rdb_io io = { src_read, &s, sink, NULL, NULL, 0, 0 };
	struct rdb_info info;
	struct err e = ERR_INIT;
	struct stat st;

	if (argc < 2 || (s.fd = open(argv[1], O_RDONLY)) < 0 ||
	    fstat(s.fd, &st) < 0) {
		fprintf(stderr, "usage: rdb_probe FILE [diskless]\n");
		return 2;
	}
	if (argc > 2)
		io.mark = MARK;
	else
		s.marked = 1;
	io.len = (uint64_t)st.st_size;
	if (rdb_copy(&io, &info, &e) < 0) {
		fprintf(stderr, "rdb_probe: %s\n", e.msg);
		return 1;
	}
	printf("keys=%lld expires=%lld walked=%d checksum=%d size=%llu dbs=",
	       info.keys, info.expires, info.walked, info.checksum,
	       (unsigned long long)info.size);
	for (size_t i = 0; i < info.ndbs; i++)
		printf("%s%lld:%lld", i ? "," : "", info.dbs[i].db,
		       info.dbs[i].keys);
	printf("\n");
	rdb_info_release(&info);
	close(s.fd);
	return 0;
}
