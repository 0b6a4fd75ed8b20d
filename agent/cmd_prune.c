/* ferry prune: delete what the retention policy no longer keeps, here and
 * off-site. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "agent/cli.h"
#include "agent/job.h"
#include "backup/backup.h"
#include "backup/offsite.h"
#include "backup/retention.h"
#include "conf/conf.h"
#include "util/lock.h"

static int cmd_prune(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct lock lk = LOCK_INIT;
	struct err e = ERR_INIT;
	struct job job;
	char *lockpath;
	FILE *out;
	int ch, dry = 0, r;

	while ((ch = getopt_long(argc, argv, ":n", opts, NULL)) != -1) {
		if (ch != 'n')
			return cli_bad_option("prune", ch, argc, argv);
		dry = 1;
	}
	if (optind < argc)
		return cli_usage_error("prune", "unexpected argument '%s'",
				       argv[optind]);
	if (cli_conf_for(cli, "backup notify", &e) < 0 ||
	    (offsite_configured(cli->conf) &&
	     cli_conf_for(cli, "offsite server.connect_timeout", &e) < 0))
		return cli_fail(&e);
	/* A dry run is no run: it is neither notified nor recorded. */
	job_begin(&job, dry ? NULL : cli->conf, "prune");
	/* Never delete under a running backup (a dry run deletes nothing). */
	if (!dry) {
		lockpath = backup_lock_path(cli->conf);
		r = lock_take(&lk, lockpath, &e);
		free(lockpath);
		if (r < 0) {
			job_end(&job, err_exit(&e), &e);
			return cli_fail(&e);
		}
	}
	/* A dry run's list is what was asked for; a real run's is a report. */
	out = dry ? stdout : cli_results();
	r = retention_prune(cli->conf, dry, out, &e);
	if (r == 0 && offsite_configured(cli->conf))
		r = offsite_prune(cli->conf, dry, out, &e);
	lock_release(&lk);
	job_end(&job, r < 0 ? err_exit(&e) : FX_OK, &e);
	return r < 0 ? cli_fail(&e) : FX_OK;
}

const struct cli_cmd cmd_prune_entry = {
	"prune", cmd_prune, "[--dry-run]",
	"delete archives the retention policy no longer keeps",
	"  -n, --dry-run     say what would go, delete nothing\n"
	"off-site copies are pruned too when [offsite] is configured\n",
	NULL,
};
