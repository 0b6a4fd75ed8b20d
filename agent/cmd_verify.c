/* ferry verify: decompress archives and check every member against the
 * manifest. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/cli.h"
#include "agent/job.h"
#include "backup/manifest.h"
#include "backup/offsite.h"
#include "backup/repo.h"
#include "backup/verify.h"
#include "conf/conf.h"
#include "util/escape.h"
#include "util/jtext.h"
#include "util/log.h"

/* Downloads (and decrypts) into a pipe that verify reads as it comes. */
static int verify_remote(const struct conf *c, const char *base,
			 struct verify_result *res, struct err *e)
{
	struct offsite_reader *rd;
	json_t *expect = offsite_manifest(c, base);
	int fd, r;

	if (offsite_reader_start(c, base, &rd, &fd, e) < 0) {
		json_decref(expect);
		return -1;
	}
	r = verify_fd(fd, base, expect, NULL, res, e);
	json_decref(expect);
	if (offsite_reader_finish(rd, r < 0, e) < 0) {
		if (e->code != FX_VERIFY && e->code != FX_CONN)
			e->code = FX_VERIFY;
		/* The download's own words (decrypt: ...) name no archive. */
		if (!strstr(e->msg, base))
			err_wrap(e, "off-site %s", base);
		return -1;
	}
	return r;
}

/* Verifies one archive (off-site when c is set; conf: the configuration,
 * when there is one); its outcome goes to the job (the first error, and
 * the archive when it is the only one). */
static int verify_one(const struct conf *c, const struct conf *conf,
		      const char *path, int json, json_t *arr, struct job *job,
		      struct err *first)
{
	struct verify_result res = { 0 };
	struct err e = ERR_INIT;
	struct stat st;
	json_t *found = NULL;
	int r = c ? verify_remote(c, path, &res, &e) :
		verify_archive(path, &found, &res, &e);

	if (json) {
		json_array_append_new(arr, json_pack("{s:o, s:b, s:o?, s:I}",
			"archive", jtext_new(path), "ok", r == 0, "error",
			r ? jtext_new(e.msg) : NULL,
			"members", (json_int_t)res.members));
	} else if (r == 0 && !cli_quiet()) {
		char *name = esc_str(path);

		printf("ok %s: %zu member%s, %llu bytes\n", name, res.members,
		       res.members == 1 ? "" : "s",
		       (unsigned long long)res.bytes);
		free(name);
	}
	/* Damage is recorded for list and retention; a lost connection says
	 * nothing about the archive.  Only an archive of the backup dir gets
	 * a record where it has no manifest: a file verified elsewhere gets
	 * no new file beside it. */
	if (!c && (r == 0 || e.code == FX_VERIFY))
		repo_mark_verified(path, r == 0 ? NULL : e.msg,
				   repo_owns(conf, path), found);
	if (c && (r == 0 || e.code == FX_VERIFY)) {
		struct err me = ERR_INIT;

		if (offsite_mark_verified(c, path, r == 0 ? NULL : e.msg,
					  &me) < 0)
			log_warn("off-site %s: the verify was not recorded: %s",
				 path, me.msg);
	}
	json_decref(found);
	if (!job->archive) {
		job->archive = xstrdup(path);
		job->size = !c && stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
	}
	if (r < 0) {
		if (!json)
			cli_fail(&e);
		if (!first->code)
			*first = e;
		return e.code == FX_CONN ? FX_CONN : FX_VERIFY;
	}
	return FX_OK;
}

/* The off-site archive a name means, as restore --offsite reads it
 * (NAME-STAMP or NAME-STAMP.tar.zst): its object's name, or NULL with
 * exit 1's error when there is none. */
static char *offsite_pick(const struct conf *remote, const char *want,
			  struct err *e)
{
	struct repo_entry *list = NULL;
	size_t n = 0;
	char *got = NULL;

	if (offsite_scan(remote, &list, &n, e) < 0)
		return NULL;
	for (size_t i = 0; i < n && !got; i++) {
		char *b = repo_archive_name(&list[i]);

		if (!strcmp(b, want) || !strcmp(repo_base(list[i].stem), want))
			got = b;
		else
			free(b);
	}
	repo_free(list, n);
	if (!got) {
		char *shown = esc_str(want);

		err_set(e, FX_FAIL, "%s: no such archive off-site", shown);
		free(shown);
	}
	return got;
}

static int cmd_verify(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "latest", no_argument, NULL, 'l' },
		{ "all", no_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "offsite", no_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	struct repo_entry *list = NULL;
	struct err e = ERR_INIT, first = ERR_INIT;
	struct job job;
	json_t *arr = json_array();
	int ch, latest = 0, all = 0, off = 0, code = FX_OK;
	const struct conf *remote = NULL;
	size_t n = 0;

	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (ch == 'l')
			latest = 1;
		else if (ch == 'a')
			all = 1;
		else if (ch == 'j')
			cli->json = 1;
		else if (ch == 'o')
			off = 1;
		else
			return json_decref(arr), cli_bad_option("verify", ch, argc,
								argv);
	}
	if (latest + all + (optind < argc) != 1 || argc - optind > 1) {
		json_decref(arr);
		return cli_usage_error("verify", "give one ARCHIVE, --latest or "
				       "--all");
	}
	if (optind < argc && !*argv[optind]) {
		json_decref(arr);
		return cli_usage_error("verify", "empty archive name");
	}
	if (off) {
		if (cli_conf(cli, &e) < 0) {
			json_decref(arr);
			return cli_fail(&e);
		}
		if (!offsite_configured(cli->conf)) {
			json_decref(arr);
			return cli_usage_error("verify", "--offsite needs an "
					       "[offsite] section in %s",
					       conf_path(cli->conf));
		}
		if (cli_conf_for(cli, "backup.name offsite server.connect_timeout",
				 &e) < 0) {
			json_decref(arr);
			return cli_fail(&e);
		}
		remote = cli->conf;
	}
	/* Every verify run is notified when a configuration is there to say
	 * where; an archive given by path needs none. */
	if (cli_conf(cli, &e) < 0)
		err_clear(&e);
	else if (cli_conf_for(cli, "notify backup.dir", &e) < 0)
		return json_decref(arr), cli_fail(&e);
	job_begin(&job, cli->conf, "verify");
	if (optind < argc && remote) {
		char *name = offsite_pick(remote, argv[optind], &e);

		if (!name)
			goto fail;
		code = verify_one(remote, cli->conf, name, cli->json, arr,
				  &job, &first);
		free(name);
	} else if (optind < argc) {
		char *path = NULL;

		/* A path needs no configuration; a name is looked up in the
		 * backup dir, as restore does. */
		if ((access(argv[optind], F_OK) != 0 &&
		     cli_conf_for(cli, "backup", &e) < 0) ||
		    repo_resolve(cli->conf, argv[optind], &path, &e) < 0)
			goto fail;
		code = verify_one(NULL, cli->conf, path, cli->json, arr, &job,
				  &first);
		free(path);
	} else {
		int got = remote ? offsite_scan(remote, &list, &n, &e) :
			cli_conf_for(cli, "backup", &e) < 0 ? -1 :
			repo_scan_conf(cli->conf, &list, &n, &e);

		if (got < 0)
			goto fail;
		if (n == 0) {
			err_set(&e, FX_FAIL, "no archives in %s",
				conf_str(cli->conf, "backup", "dir"));
			goto fail;
		}
		for (size_t i = 0; i < (all ? n : 1); i++) {
			/* Off-site objects are fetched by their archive name. */
			char *name = remote ? repo_archive_name(&list[i]) :
				xstrdup(list[i].path);
			int vr = verify_one(remote, cli->conf, name, cli->json,
					    arr, &job, &first);

			if (vr != FX_OK)
				code = vr;
			free(name);
		}
		repo_free(list, n);
		if (all && n > 1) {
			/* The report names one archive or none. */
			free(job.archive);
			job.archive = NULL;
		}
	}
	if (cli->json) {
		json_dumpf(arr, stdout, JSON_INDENT(2));
		putchar('\n');
	}
	json_decref(arr);
	job_end(&job, code, &first);
	return code;
fail:
	json_decref(arr);
	job_end(&job, err_exit(&e), &e);
	return cli_fail(&e);
}


const struct cli_cmd cmd_verify_entry = {
	"verify", cmd_verify, "ARCHIVE|--latest|--all [--offsite] [--json]",
	"check archives against their manifests",
	"  --latest          the newest archive\n"
	"  --all             every archive\n"
	"  --offsite         the off-site copies (downloaded, decrypted)\n"
	"exit 6 naming the first bad member on any mismatch or damage\n",
	NULL,
};
