/* ferry restore ARCHIVE|--latest [--only postgres] [--db SRC=DST]... */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "agent/cli.h"
#include "util/log.h"
#include "conf/conf.h"
#include "restore/restore.h"
#include "restore/restorer.h"

static int cmd_restore(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "latest", no_argument, NULL, 'l' },
		{ "offsite", no_argument, NULL, 'o' },
		{ "only", required_argument, NULL, 'O' },
		{ "db", required_argument, NULL, 'd' },
		{ "clean", no_argument, NULL, 'c' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "globals", no_argument, NULL, 'g' },
		{ "target-url", required_argument, NULL, 't' },
		{ "bucket", required_argument, NULL, 'b' },
		{ "to", required_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 },
	};
	struct strlist only = STRLIST_INIT, dbmap = STRLIST_INIT;
	struct strlist bucketmap = STRLIST_INIT;
	struct restore_opts o = { 0 };
	struct err e = ERR_INIT;
	int ch, code = FX_USAGE;
	long long jobs;

	o.only = &only;
	o.dbmap = &dbmap;
	o.bucketmap = &bucketmap;
	o.report = cli_quiet() ? NULL : stdout;
	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (ch) {
		case 'l': o.latest = 1; break;
		case 'o': o.offsite = 1; break;
		case 'O': strlist_split(&only, optarg); break;
		case 'd': strlist_add(&dbmap, optarg); break;
		case 'c': o.clean = 1; break;
		case 'g': o.globals = 1; break;
		case 't': o.target_url = optarg; break;
		case 'b': strlist_add(&bucketmap, optarg); break;
		case 'T': o.to = optarg; break;
		case 'j':
			if (cli_num("restore", "--jobs", optarg, 1, 64, &jobs) < 0)
				goto out;
			o.jobs = (int)jobs;
			break;
		default:
			cli_bad_option("restore", ch, argc, argv);
			goto out;
		}
	}
	for (size_t i = 0; i < only.n; i++)
		if (!restorer_find(only.v[i])) {
			cli_usage_error("restore", "--only: unknown component "
					"'%s' (known: postgres, minio, redis, "
					"neo4j, logs, files)", only.v[i]);
			goto out;
		}
	if (o.latest + (optind < argc) != 1 || argc - optind > 1) {
		cli_usage_error("restore", "give one ARCHIVE or --latest");
		goto out;
	}
	o.archive = optind < argc ? argv[optind] : NULL;
	if (o.target_url)
		log_add_secret(o.target_url);
	/* The archive is found through [backup] (or [offsite]); postgres
	 * and minio are the restorers so far. */
	o.server = cli_conf_for(cli, o.offsite ? "backup postgres minio offsite" :
				"backup postgres minio", &e) < 0 ? NULL :
		cli_server(cli, &e);
	o.compose = o.server ? &cli->server.co : NULL;
	if (!o.server || restore_run(cli->conf, &o, &e) < 0) {
		code = cli_fail(&e);
		goto out;
	}
	code = FX_OK;
out:
	strlist_release(&only);
	strlist_release(&dbmap);
	strlist_release(&bucketmap);
	return code;
}

const struct cli_cmd cmd_restore_entry = {
	"restore", cmd_restore, "ARCHIVE|--latest [--offsite] [--only LIST] "
	"[--db SRC=DST]... [--bucket SRC=DST]... [--clean] [--jobs N] "
	"[--globals] [--target-url URL] [--to DIR]",
	"restore an archive into the configured server",
	"  --latest          the newest archive that holds complete what is\n"
	"                    restored (newer ones are named, and why)\n"
	"  --offsite         take the archive from [offsite] (streamed)\n"
	"  --only LIST       only these components (postgres, minio, redis,\n"
	"                    neo4j, files, logs)\n"
	"  --db SRC=DST      restore database SRC as DST (repeat); only these\n"
	"  --bucket SRC=DST  restore bucket SRC into DST (repeat); only these\n"
	"  --clean           drop and recreate target databases first; empty\n"
	"                    target buckets; replace the keys of the server's Redis\n"
	"  --jobs N          parallel sessions or transfers (default: [postgres]\n"
	"                    jobs, [minio] jobs)\n"
	"  --globals         create the archive's roles first (neo4j dump mode:\n"
	"                    load the system database too)\n"
	"  --target-url URL  restore into this server (libpq URL; password\n"
	"                    from PGPASSWORD or ~/.pgpass)\n"
	"  --to DIR          write redis (dump.rdb), files and logs into DIR\n"
	"                    (DIR/<component>/ when several) instead of the\n"
	"                    server; refuses paths that would leave DIR\n"
	"refuses (exit 1, nothing changed) a target database that has user\n"
	"tables, a target bucket that holds objects, or a Redis that has keys,\n"
	"unless --clean; exit 6 when the archive is damaged\n",
	NULL,
};
