/*
 * remote: the server's side of a sync, in one round trip: create and enter
 * remote_dir, refuse "/" and the home directory itself, clean staging left
 * by an interrupted run, report the tools there (zstd, gzip), and list the
 * tree with find -printf (NUL-separated, so any name survives), or by an
 * SFTP walk where find has no -printf (busybox).
 */
#ifndef FERRY_REMOTE_H
#define FERRY_REMOTE_H

#include "util/err.h"
#include "deploy/tree.h"

struct xport;

struct remote_info {
	int has_zstd, has_gzip;
	int walk;		/* find lacks -printf: listed by remote_walk() */
	char *dir;		/* physical path of remote_dir */
};

int remote_scan(struct xport *x, const char *rdir, struct ftree *out,
		struct remote_info *info, struct err *e)
	__attribute__((warn_unused_result));
void remote_info_release(struct remote_info *info);
/* The listing without find -printf (busybox servers): an SFTP walk of the
 * physical directory dir (the local walker for host = local). */
int remote_walk(struct xport *x, const char *dir, struct ftree *out,
		struct err *e) __attribute__((warn_unused_result));
/* Refuses an empty remote_dir and the obvious dangers before connecting. */
int remote_dir_ok(const char *rdir, struct err *e);

#endif
