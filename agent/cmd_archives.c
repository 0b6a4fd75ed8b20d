/*
 * ferry list, verify and prune: what the backup directory holds, whether it
 * is intact, and what the retention policy keeps.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <unistd.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/cli.h"
#include "agent/lock.h"
#include "backup/backup.h"
#include "backup/manifest.h"
#include "backup/offsite.h"
#include "backup/prune.h"
#include "backup/repo.h"
#include "backup/retention.h"
#include "backup/verify.h"
#include "conf/conf.h"

static int scan(struct cli *cli, struct repo_entry **list, size_t *n,
		struct err *e)
{
	if (cli_conf(cli, e) < 0)
		return -1;
	return repo_scan(conf_str(cli->conf, "backup", "dir"),
			 conf_str(cli->conf, "backup", "name"), list, n, e);
}

static const char *base(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

static void components_text(json_t *m, struct buf *out)
{
	json_t *comps = json_object_get(m, "components"), *c;
	const char *k;

	json_object_foreach(comps, k, c)
		buf_printf(out, "%s%s:%s", out->len ? "," : "", k,
			   json_string_value(json_object_get(c, "status")) ?: "?");
	if (!out->len)
		buf_addstr(out, m ? "-" : "(no manifest)");
}

static void print_entries(int json, const struct repo_entry *list, size_t n,
			  const struct prune_item *items, const char *where)
{
	json_t *arr = json_array();

	if (!json && n)
		printf("%-44s %-20s %10s  %-22s %-8s %s\n", "ARCHIVE", "TIME (UTC)",
		       "SIZE", "COMPONENTS", "VERIFIED", "RETENTION");
	for (size_t i = 0; i < n; i++) {
		json_t *m = list[i].manifest;
		const char *ver = json_string_value(json_object_get(m, "verified"));
		const char *keep = items[i].keep ? items[i].reason :
			"deleted by the next prune";
		struct buf comps = BUF_INIT;
		char when[21];

		manifest_time(list[i].t, when);
		components_text(m, &comps);
		if (json) {
			json_array_append_new(arr, json_pack(
				"{s:s, s:s, s:I, s:s?, s:O?, s:s?, s:b, s:s}",
				"archive", list[i].path, "time", when,
				"size", (json_int_t)list[i].size,
				"status", json_string_value(json_object_get(m, "status")),
				"components", json_object_get(m, "components"),
				"verified", ver, "kept", items[i].keep,
				"retention", keep));
		} else {
			printf("%-44s %-20s %10llu  %-22s %-8s %s\n", base(list[i].path),
			       when, (unsigned long long)list[i].size,
			       buf_str(&comps), ver ? "yes" : "no", keep);
		}
		buf_release(&comps);
	}
	if (json) {
		json_dumpf(arr, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
	} else if (!n) {
		printf("no archives in %s\n", where);
	}
	json_decref(arr);
}

int cmd_list(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "offsite", no_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	struct repo_entry *list = NULL;
	struct prune_item *items;
	struct err e = ERR_INIT;
	size_t n = 0;
	int ch, off = 0;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'j')
			cli->json = 1;
		else if (ch == 'o')
			off = 1;
		else
			return FX_USAGE;
	}
	if (optind < argc)
		return cli_usage_error("list", "unexpected argument '%s'",
				       argv[optind]);
	if (cli_conf(cli, &e) < 0)
		return cli_fail(&e);
	if (off && !offsite_configured(cli->conf))
		return cli_usage_error("list", "--offsite needs an [offsite] "
				       "section in %s", conf_path(cli->conf));
	if ((off ? offsite_scan(cli->conf, &list, &n, &e) :
	     scan(cli, &list, &n, &e)) < 0)
		return cli_fail(&e);
	items = retention_plan(cli->conf, off ? "offsite" : "backup", list, n);
	print_entries(cli->json, list, n, items, off ?
		      conf_str(cli->conf, "offsite", "url") :
		      conf_str(cli->conf, "backup", "dir"));
	free(items);
	repo_free(list, n);
	return FX_OK;
}

/* Marks the sidecar manifest as verified (best effort). */
static void mark_verified(const char *archive)
{
	size_t len = strlen(archive);
	char *side, when[21];
	json_t *m;
	char *text;
	struct err ignored = ERR_INIT;

	if (len < 8 || strcmp(archive + len - 8, ".tar.zst"))
		return;
	side = xstrfmt("%.*s.manifest.json", (int)(len - 8), archive);
	m = json_load_file(side, 0, NULL);
	if (m) {
		manifest_time(time(NULL), when);
		json_object_set_new(m, "verified", json_string(when));
		text = json_dumps(m, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		if (repo_write_file(side, text, strlen(text), &ignored) < 0) {
			/* listing just shows it unverified */
		}
		free(text);
		json_decref(m);
	}
	free(side);
}

/* Downloads (and decrypts) into a pipe that verify reads as it comes. */
static int verify_remote(const struct conf *c, const char *base,
			 struct verify_result *res, struct err *e)
{
	struct offsite_reader *rd;
	int fd, r;

	if (offsite_reader_start(c, base, &rd, &fd, e) < 0)
		return -1;
	r = verify_fd(fd, base, NULL, res, e);
	if (offsite_reader_finish(rd, e) < 0) {
		if (e->code != FX_VERIFY && e->code != FX_CONN)
			e->code = FX_VERIFY;
		return -1;
	}
	return r;
}

static int verify_one(const struct conf *c, const char *path, int json,
		      json_t *arr)
{
	struct verify_result res;
	struct err e = ERR_INIT;
	int r = c ? verify_remote(c, path, &res, &e) :
		verify_archive(path, NULL, &res, &e);

	if (json) {
		json_array_append_new(arr, json_pack("{s:s, s:b, s:s?, s:I}",
			"archive", path, "ok", r == 0, "error", r ? e.msg : NULL,
			"members", (json_int_t)res.members));
	} else if (r == 0) {
		printf("ok %s: %zu members, %llu bytes\n", path, res.members,
		       (unsigned long long)res.bytes);
	}
	if (r < 0) {
		if (!json)
			cli_fail(&e);
		return e.code == FX_CONN ? FX_CONN : FX_VERIFY;
	}
	if (!c)
		mark_verified(path);
	return FX_OK;
}

int cmd_verify(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "latest", no_argument, NULL, 'l' },
		{ "all", no_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "offsite", no_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	struct repo_entry *list = NULL;
	struct err e = ERR_INIT;
	json_t *arr = json_array();
	int ch, latest = 0, all = 0, off = 0, code = FX_OK;
	const struct conf *remote = NULL;
	size_t n = 0;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'l')
			latest = 1;
		else if (ch == 'a')
			all = 1;
		else if (ch == 'j')
			cli->json = 1;
		else if (ch == 'o')
			off = 1;
		else
			return json_decref(arr), FX_USAGE;
	}
	if (latest + all + (optind < argc) != 1 || argc - optind > 1) {
		json_decref(arr);
		return cli_usage_error("verify", "give one ARCHIVE, --latest or "
				       "--all");
	}
	if (off) {
		if (cli_conf(cli, &e) < 0 || (!offsite_configured(cli->conf) &&
		    err_set(&e, FX_USAGE, "--offsite needs an [offsite] section") < 0)) {
			json_decref(arr);
			return cli_fail(&e);
		}
		remote = cli->conf;
	}
	if (optind < argc) {
		code = verify_one(remote, argv[optind], cli->json, arr);
	} else {
		int got = remote ? offsite_scan(remote, &list, &n, &e) :
			scan(cli, &list, &n, &e);

		if (got < 0) {
			json_decref(arr);
			return cli_fail(&e);
		}
		if (n == 0) {
			err_set(&e, FX_FAIL, "no archives in %s",
				conf_str(cli->conf, "backup", "dir"));
			json_decref(arr);
			return cli_fail(&e);
		}
		for (size_t i = 0; i < (all ? n : 1); i++) {
			/* Off-site objects are fetched by their archive name. */
			char *name = remote ? xstrfmt("%s.tar.zst", base(list[i].stem)) :
				xstrdup(list[i].path);
			int vr = verify_one(remote, name, cli->json, arr);

			if (vr != FX_OK)
				code = vr;
			free(name);
		}
		repo_free(list, n);
	}
	if (cli->json) {
		json_dumpf(arr, stdout, JSON_INDENT(2));
		putchar('\n');
	}
	json_decref(arr);
	return code;
}

int cmd_prune(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct lock lk = LOCK_INIT;
	struct err e = ERR_INIT;
	char *lockpath;
	int ch, dry = 0, r;

	while ((ch = getopt_long(argc, argv, "n", opts, NULL)) != -1) {
		if (ch != 'n')
			return FX_USAGE;
		dry = 1;
	}
	if (optind < argc)
		return cli_usage_error("prune", "unexpected argument '%s'",
				       argv[optind]);
	if (cli_conf(cli, &e) < 0)
		return cli_fail(&e);
	/* Never delete under a running backup (a dry run deletes nothing). */
	if (!dry) {
		lockpath = backup_lock_path(cli->conf);
		r = lock_take(&lk, lockpath, &e);
		free(lockpath);
		if (r < 0)
			return cli_fail(&e);
	}
	r = retention_prune(cli->conf, dry, stdout, &e);
	if (r == 0 && offsite_configured(cli->conf))
		r = offsite_prune(cli->conf, dry, stdout, &e);
	lock_release(&lk);
	return r < 0 ? cli_fail(&e) : FX_OK;
}
