/*
 * cmd_prune: a prune run as `ferry prune` makes it (the backup lock taken,
 * here and off-site, notified and recorded as a "prune" job), for the
 * command and for the prune after a backup (prune_after_backup), which is
 * a run of its own in `ferry status` and the notifications.
 */
#ifndef FERRY_AGENT_CMD_PRUNE_H
#define FERRY_AGENT_CMD_PRUNE_H

#include <stdio.h>

#include "conf/conf.h"
#include "util/err.h"

/* Each deletion and the summary go to out.  A dry run is neither
 * notified nor recorded.  0, or -1 with e set. */
int prune_job(const struct conf *c, int dry, FILE *out, struct err *e);

#endif
