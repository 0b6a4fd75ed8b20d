/* ferry prune: delete what the retention policy no longer keeps, here and
 * off-site. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "agent/cmd_prune.h"
#include "agent/cli.h"
#include "agent/job.h"
#include "backup/backup.h"
#include "backup/offsite.h"
#include "backup/retention.h"
#include "conf/conf.h"
#include "util/lock.h"

int prune_job(const struct conf *c, int dry, FILE *out, struct err *e)
{
	struct lock lk = LOCK_INIT;
	struct job job;
	char *lockpath;
	int r;

	/* A dry run is no run: it is neither notified nor recorded. */
	job_begin(&job, dry ? NULL : c, "prune");
	/* Never delete under a running backup (a dry run deletes nothing). */
	if (!dry) {
		lockpath = backup_lock_path(c);
		r = lock_take(&lk, lockpath, e);
		free(lockpath);
		if (r < 0) {
			job_end(&job, err_exit(e), e);
			return -1;
		}
	}
	r = retention_prune(c, dry, out, e);
	if (r == 0 && offsite_configured(c))
		r = offsite_prune(c, dry, out, e);
	lock_release(&lk);
	job_end(&job, r < 0 ? err_exit(e) : FX_OK, e);
	return r;
}

static int cmd_prune(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct err e = ERR_INIT;
	int ch, dry = 0;

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
	/* A dry run's list is what was asked for; a real run's is a report. */
	if (prune_job(cli->conf, dry, dry ? stdout : cli_results(), &e) < 0)
		return cli_fail(&e);
	return FX_OK;
}

const struct cli_cmd cmd_prune_entry = {
	"prune", cmd_prune, "[--dry-run]",
	"delete archives the retention policy no longer keeps",
	"  -n, --dry-run     say what would go, delete nothing\n"
	"off-site copies are pruned too when [offsite] is configured\n",
	NULL,
};
