/*
 * retention: the prune policy of [backup] (or [offsite]) applied to the
 * archives, as restic's "forget" applies it: per group.  A group is the
 * archives of one set of components, the set a run was asked for (every
 * configured one, or those --only names; the manifest's "components" holds
 * each, failed or not), so a run of --only backups never pushes a full one
 * out.  Each group gets the whole keep_* policy.  Within a group partial
 * archives take no slot from complete ones.
 *
 * An archive that is not known good fills no slot and is never deleted:
 * one whose last verify failed, or one without a readable manifest (not
 * known to be a ferry archive at all).  Only files named
 * <name>-<stamp>.tar.zst (and their manifests) are ever deleted; the
 * caller holds the backup lock.
 */
#ifndef FERRY_RETENTION_H
#define FERRY_RETENTION_H

#include <jansson.h>
#include <stdio.h>

#include "util/buf.h"
#include "util/err.h"
#include "backup/prune.h"
#include "backup/repo.h"

struct conf;

struct retention_item {
	int keep;		/* prune leaves it */
	int counted;		/* 0: failed verify or no manifest; kept */
	char *group;		/* its components, sorted: "minio,redis";
				 * NULL when not counted */
	char label[96];		/* the group as shown ("" when every counted
				 * archive is of one group, or no policy) */
	char reason[256];	/* "keep_daily (2026-11-20)", ..., or why it
				 * goes; starts "LABEL: " when there is one */
};

/* The keep_* rules of section ("backup" or "offsite"). */
void retention_policy(const struct conf *c, const char *section,
		      struct prune_policy *p);
/* The group of an archive's manifest: its component names, sorted, joined
 * by ","; NULL when m is no readable manifest.  Caller frees. */
char *retention_group(json_t *m);
/* items[i] describes list[i] (newest first); caller frees the result with
 * retention_free(). */
struct retention_item *retention_apply(const struct prune_policy *p,
				       const struct repo_entry *list, size_t n);
struct retention_item *retention_plan(const struct conf *c, const char *section,
				      const struct repo_entry *list, size_t n);
void retention_free(struct retention_item *items, size_t n);
/* prune's line for an archive it does not simply keep ("delete NAME:
 * why", "would delete ...", or "keep NAME: why" for one not counted),
 * the name escaped; counts those kept into *odd.  1 when it goes. */
int retention_say(FILE *out, const struct retention_item *it,
		  const char *name, int dry_run, size_t *odd);
/* " (N not counted: named above)" for the summary, or "". */
void retention_odd(struct buf *b, size_t odd);
/* Deletes what the policy no longer keeps (prints each with its reason to
 * out, and each archive not counted; with dry_run deletes nothing). */
int retention_prune(const struct conf *c, int dry_run, FILE *out,
		    struct err *e) __attribute__((warn_unused_result));

#endif
