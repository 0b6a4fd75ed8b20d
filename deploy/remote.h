/*
 * remote: the server's side of a sync, in one round trip: resolve
 * remote_dir (a leading ~/ is the remote home), refuse /, the home
 * directory and its ancestors, the system directories and what is inside
 * the system's own (/usr/local/bin, /var/lib/x), create it (not in a dry
 * run), tell whether it is ferry's own (.ferry/ in it) or an
 * existing tree ferry did not make (then nothing is deleted until
 * --adopt), clean staging left by an interrupted run, report the tools
 * there (zstd, gzip), and list the tree with find -printf (NUL-separated,
 * so any name survives), or by an SFTP walk where find has no -printf
 * (busybox).  A dry run changes nothing on the server.
 */
#ifndef FERRY_REMOTE_H
#define FERRY_REMOTE_H

#include "util/buf.h"
#include "util/err.h"
#include "deploy/tree.h"

struct xport;

struct remote_info {
	int has_zstd, has_gzip;
	int walk;		/* find lacks -printf: listed by remote_walk() */
	char *dir;		/* physical path of remote_dir */
	int created;		/* did not exist (a dry run left it so) */
	int foreign;		/* an existing tree ferry did not make */
	int adopted;		/* ... that this run adopts */
};

/*
 * Shell run in the scan's exec after the guard and before the listing
 * (the deploy lock's first attempt: one exec instead of two), and the
 * reader of what it printed, which takes its lines off the front of out:
 * 1 to go on with the listing, 0 when the prelude stopped the script on
 * purpose, -1 on error.
 */
struct remote_prelude {
	const char *text;
	int (*reply)(void *ctx, struct buf *out, struct err *e);
	void *ctx;
};

/* 0: listed; 1: the prelude stopped it, or the exec failed with the
 * prelude in it (the caller takes its own steps, which say what failed);
 * -1: error. */
int remote_scan(struct xport *x, const char *rdir, int dry_run, int adopt,
		const struct remote_prelude *pre, struct ftree *out,
		struct remote_info *info, struct err *e)
	__attribute__((warn_unused_result));
void remote_info_release(struct remote_info *info);
/* The listing without find -printf (busybox servers): an SFTP walk of the
 * physical directory dir (the local walker for host = local). */
int remote_walk(struct xport *x, const char *dir, struct ftree *out,
		struct err *e) __attribute__((warn_unused_result));
/*
 * The server-side shell every script touching remote_dir starts with (D
 * set to it, quoted with sh_quote_path): remote_guard resolves D without
 * creating anything and refuses an unsafe target (prints "dir PATH" and
 * "refuse WHY", exits 5; ferry check runs it too); remote_claim, after
 * it, creates and enters D and marks an existing tree ferry did not make
 * as foreign (.ferry/foreign).
 * remote_subst() appends script with its "REMOTE_CLAIM " placeholder
 * replaced by the claim.
 */
extern const char remote_guard[], remote_claim[];
void remote_subst(struct buf *cmd, const char *script);
/* The FX_USAGE error for a script that exited 5 with out as its output. */
int remote_refusal(const char *rdir, const struct buf *out, struct err *e);

/* Refuses an empty remote_dir and the obvious dangers before connecting. */
int remote_dir_ok(const char *rdir, struct err *e);

#endif
