/*
 * remote: the server's side of a sync, in one round trip: create and enter
 * remote_dir, refuse "/" and the home directory itself, clean staging left
 * by an interrupted run, report the tools there (zstd, gzip), and list the
 * tree with find -printf (NUL-separated, so any name survives).
 */
#ifndef FERRY_REMOTE_H
#define FERRY_REMOTE_H

#include "agent/err.h"
#include "deploy/tree.h"

struct xport;

struct remote_info {
	int has_zstd, has_gzip;
	char *dir;		/* physical path of remote_dir */
};

int remote_scan(struct xport *x, const char *rdir, struct ftree *out,
		struct remote_info *info, struct err *e)
	__attribute__((warn_unused_result));
void remote_info_release(struct remote_info *info);
/* Refuses an empty remote_dir and the obvious dangers before connecting. */
int remote_dir_ok(const char *rdir, struct err *e);

#endif
