/*
 * ferry offsite push [ARCHIVE|--missing]: send local archives to [offsite]
 * after the fact (a backup whose upload failed, or one taken before
 * [offsite] was configured).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/cli.h"
#include "backup/backup.h"
#include "backup/offsite.h"
#include "backup/repo.h"
#include "conf/conf.h"
#include "util/lock.h"
#include "util/log.h"

static int has(const struct strlist *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i], s))
			return 1;
	return 0;
}

static int push(struct cli *cli, const char *one, struct err *e)
{
	struct strlist there = STRLIST_INIT;
	struct repo_entry *list = NULL;
	struct lock lk = LOCK_INIT;
	char *lockpath = backup_lock_path(cli->conf), *path = NULL;
	size_t n = 0, sent = 0, held = 0;
	int rc = -1;

	/* A prune must not delete what is being sent. */
	if (lock_take(&lk, lockpath, e) < 0)
		goto out;
	if (one) {
		/* offsite_upload() says "uploaded NAME to s3://..." on
		 * stderr, as it does in a backup: that is the report. */
		if (repo_resolve(cli->conf, one, &path, e) < 0 ||
		    offsite_upload(cli->conf, path, e) < 0)
			goto out;
		rc = 0;
		goto out;
	}
	if (repo_scan_conf(cli->conf, &list, &n, e) < 0 ||
	    offsite_names(cli->conf, &there, e) < 0)
		goto out;
	/* Oldest first: an interrupted run leaves the newest to the next. */
	for (size_t i = n; i-- > 0;) {
		if (has(&there, repo_base(list[i].path)))
			continue;
		/* Known damaged, or not known to be a whole archive: a copy
		 * of it protects nothing.  By name it can still be sent. */
		if (repo_verify_error(&list[i]) || !list[i].manifest) {
			log_warn("not sent: %s: %s", repo_base(list[i].path),
				 list[i].manifest ? "its last verify failed" :
				 "it has no manifest (run ferry verify on it)");
			held++;
			continue;
		}
		if (offsite_upload(cli->conf, list[i].path, e) < 0) {
			err_wrap(e, "%s", repo_base(list[i].path));
			goto out;
		}
		sent++;
	}
	if (log_get_level() > LOG_QUIET)
	{
		printf("%zu archive%s sent, %zu already off-site", sent,
		       sent == 1 ? "" : "s", n - sent - held);
		if (held)
			printf(", %zu not sent (named above)", held);
		putchar('\n');
	}
	rc = 0;
out:
	lock_release(&lk);
	free(lockpath);
	free(path);
	repo_free(list, n);
	strlist_release(&there);
	return rc;
}

static int cmd_offsite(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "missing", no_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	struct err e = ERR_INIT;
	int ch, missing = 0;

	if (argc < 2 || strcmp(argv[1], "push"))
		return cli_usage_error("offsite", "expected 'push'");
	optind = 2;
	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (ch != 'm')
			return cli_bad_option("offsite push", ch, argc, argv);
		missing = 1;
	}
	if (missing + (optind < argc) != 1 || argc - optind > 1)
		return cli_usage_error("offsite push", "give one ARCHIVE or "
				       "--missing");
	if (cli_conf(cli, &e) < 0)
		return cli_fail(&e);
	if (!offsite_configured(cli->conf))
		return cli_usage_error("offsite push", "needs an [offsite] section "
				       "in %s", conf_path(cli->conf));
	/* What a push reads; a problem elsewhere does not stop it. */
	if (cli_conf_for(cli, "backup offsite server.connect_timeout", &e) < 0)
		return cli_fail(&e);
	if (push(cli, missing ? NULL : argv[optind], &e) < 0)
		return cli_fail(&e);
	return FX_OK;
}

const struct cli_cmd cmd_offsite_entry = {
	"offsite", cmd_offsite, "push ARCHIVE|--missing",
	"send local archives to [offsite] (after a failed upload)",
	"  push ARCHIVE      upload this archive (a path or a name in the\n"
	"                    backup dir) and its manifest\n"
	"  push --missing    upload every local archive not yet off-site,\n"
	"                    oldest first\n"
	"each upload is said once, on stderr (uploaded NAME to s3://...);\n"
	"--missing ends with the count sent on stdout\n"
	"exit 7 when a backup or prune holds the lock\n",
	NULL,
};
