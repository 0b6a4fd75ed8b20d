/*
 * retention: the prune policy of [backup] applied to the backup directory.
 * Only files named <name>-<stamp>.tar.zst (and their manifests) are ever
 * deleted; the caller holds the backup lock.
 */
#ifndef FERRY_RETENTION_H
#define FERRY_RETENTION_H

#include <stdio.h>

#include "util/err.h"
#include "backup/prune.h"
#include "backup/repo.h"

struct conf;

/* The keep_* rules of section ("backup" or "offsite"). */
void retention_policy(const struct conf *c, const char *section,
		      struct prune_policy *p);
/* items[i] describes list[i]; caller frees the result.  Partial archives
 * (manifest status "partial") take no slot from complete ones; one newer
 * than every complete archive is kept. */
struct prune_item *retention_plan(const struct conf *c, const char *section,
				  const struct repo_entry *list, size_t n);
/* Deletes what the policy no longer keeps (prints each with its reason to
 * out; with dry_run deletes nothing). */
int retention_prune(const struct conf *c, int dry_run, FILE *out,
		    struct err *e) __attribute__((warn_unused_result));

#endif
