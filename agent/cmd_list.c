/* ferry list: the archives, newest first, with what keeps each. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/cli.h"
#include "backup/manifest.h"
#include "backup/offsite.h"
#include "backup/prune.h"
#include "backup/repo.h"
#include "backup/retention.h"
#include "conf/conf.h"
#include "util/escape.h"
#include "util/log.h"
#include "util/progress.h"

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

/* The retention group as its component names, or null when the archive is
 * not counted. */
static json_t *group_json(const char *group)
{
	json_t *arr;

	if (!group)
		return json_null();
	arr = json_array();
	for (const char *p = group, *end; *p; p = *end ? end + 1 : end) {
		end = p + strcspn(p, ",");
		json_array_append_new(arr, json_stringn(p, (size_t)(end - p)));
	}
	return arr;
}

/* Whether an archive has its copy off-site: "yes", "no", or NULL when
 * that is not asked (no [offsite], or the listing of this very site). */
static const char *offsite_mark(const struct strlist *there, const char *path)
{
	if (!there)
		return NULL;
	for (size_t i = 0; i < there->n; i++)
		if (!strcmp(there->v[i], repo_base(path)))
			return "yes";
	return "no";
}

enum { C_ARCHIVE, C_TIME, C_SIZE, C_STATUS, C_COMPONENTS, C_VERIFIED,
       C_OFFSITE, C_RETENTION, C_N };

static const char *const heads[C_N] = {
	"ARCHIVE", "TIME (UTC)", "SIZE", "STATUS", "COMPONENTS", "VERIFIED",
	"OFFSITE", "RETENTION",
};

/* Columns as wide as their widest cell, so a long COMPONENTS cell
 * ("postgres:ok,redis:failed,neo4j:failed") moves the columns after it
 * instead of misaligning them; SIZE is right-aligned, the last column is
 * not padded. */
static void print_table(struct strlist *col, int with_offsite)
{
	size_t w[C_N] = { 0 };
	int last = C_RETENTION;

	for (int c = 0; c < C_N; c++) {
		w[c] = strlen(heads[c]);
		for (size_t i = 0; i < col[c].n; i++)
			if (strlen(col[c].v[i]) > w[c])
				w[c] = strlen(col[c].v[i]);
	}
	for (size_t i = 0; i <= col[0].n; i++) {
		for (int c = 0; c < C_N; c++) {
			const char *cell = i ? col[c].v[i - 1] : heads[c];

			if (c == C_OFFSITE && !with_offsite)
				continue;
			if (c == last)
				printf("%s\n", cell);
			else if (c == C_SIZE)
				printf("%*s  ", (int)w[c], cell);
			else
				printf("%-*s  ", (int)w[c], cell);
		}
	}
}

/* bytes: sizes as exact byte counts (--bytes), else 1.4 MiB. */
static void print_entries(int json, int bytes, const struct repo_entry *list,
			  size_t n, const struct retention_item *items,
			  const char *where, const struct strlist *there)
{
	json_t *arr = json_array();
	struct strlist col[C_N];

	for (int c = 0; c < C_N; c++)
		memset(&col[c], 0, sizeof(col[c]));
	for (size_t i = 0; i < n; i++) {
		json_t *m = list[i].manifest;
		const char *ver = repo_verified(&list[i]);
		const char *bad = repo_verify_error(&list[i]);
		const char *status = json_string_value(json_object_get(m,
							"status"));
		struct buf comps = BUF_INIT, keep = BUF_INIT;
		char when[21];

		if (items[i].keep)
			buf_addstr(&keep, items[i].reason);
		else	/* the group, when there are several, says whose */
			buf_printf(&keep, "%s%sdeleted by the next prune",
				   items[i].label, *items[i].label ? ": " : "");
		manifest_time(list[i].t, when);
		components_text(m, &comps);
		if (json) {
			json_array_append_new(arr, json_pack(
				"{s:s, s:s, s:I, s:s?, s:O?, s:s?, s:s?, s:b, s:b, "
				"s:o, s:s}",
				"archive", list[i].path, "time", when,
				"size", (json_int_t)list[i].size,
				"status", status,
				"components", json_object_get(m, "components"),
				"verified", ver, "verify_error", bad,
				"kept", items[i].keep,
				"counted", items[i].counted,
				"group", group_json(items[i].group),
				"retention", buf_str(&keep)));
			if (there)
				json_object_set_new(json_array_get(arr, i), "offsite",
					json_boolean(!strcmp(offsite_mark(there,
							list[i].path), "yes")));
		} else {
			struct buf size = BUF_INIT;

			if (bytes)
				buf_printf(&size, "%llu",
					   (unsigned long long)list[i].size);
			else
				units_bytes(&size, list[i].size);
			strlist_add_take(&col[C_ARCHIVE],
					 esc_str(repo_base(list[i].path)));
			strlist_add(&col[C_TIME], when);
			strlist_add(&col[C_SIZE], buf_str(&size));
			strlist_add(&col[C_STATUS], status ? status : "?");
			strlist_add(&col[C_COMPONENTS], buf_str(&comps));
			strlist_add(&col[C_VERIFIED],
				    bad ? "FAILED" : ver ? "yes" : "no");
			strlist_add(&col[C_OFFSITE], there ?
				    offsite_mark(there, list[i].path) : "");
			strlist_add(&col[C_RETENTION], buf_str(&keep));
			buf_release(&size);
		}
		buf_release(&comps);
		buf_release(&keep);
	}
	if (json) {
		json_dumpf(arr, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
	} else if (n) {
		print_table(col, there != NULL);
	} else if (!cli_quiet()) {
		printf("no archives in %s\n", where);
	}
	for (int c = 0; c < C_N; c++)
		strlist_release(&col[c]);
	json_decref(arr);
}

static int cmd_list(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "offsite", no_argument, NULL, 'o' },
		{ "bytes", no_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	struct repo_entry *list = NULL;
	struct retention_item *items;
	struct strlist there = STRLIST_INIT;
	const struct strlist *shown = NULL;
	struct err e = ERR_INIT;
	size_t n = 0;
	int ch, off = 0, bytes = 0;

	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (ch == 'j')
			cli->json = 1;
		else if (ch == 'o')
			off = 1;
		else if (ch == 'b')
			bytes = 1;
		else
			return cli_bad_option("list", ch, argc, argv);
	}
	if (optind < argc)
		return cli_usage_error("list", "unexpected argument '%s'",
				       argv[optind]);
	if (cli_conf(cli, &e) < 0)
		return cli_fail(&e);
	if (off && !offsite_configured(cli->conf))
		return cli_usage_error("list", "--offsite needs an [offsite] "
				       "section in %s", conf_path(cli->conf));
	if (cli_conf_for(cli, off ? "backup offsite server.connect_timeout" :
			 "backup", &e) < 0)
		return cli_fail(&e);
	if ((off ? offsite_scan(cli->conf, &list, &n, &e) :
	     repo_scan_conf(cli->conf, &list, &n, &e)) < 0)
		return cli_fail(&e);
	items = retention_plan(cli->conf, off ? "offsite" : "backup", list, n);
	/* Local archives say whether they have their off-site copy, so a
	 * failed upload shows (ferry offsite push sends it). */
	if (!off && n && offsite_configured(cli->conf)) {
		if (cli_conf_for(cli, "offsite server.connect_timeout", &e) == 0 &&
		    offsite_names(cli->conf, &there, &e) == 0) {
			shown = &there;
		} else {
			log_warn("cannot tell which archives are off-site: %s",
				 e.msg);
			err_clear(&e);
		}
	}
	print_entries(cli->json, bytes, list, n, items, off ?
		      conf_str(cli->conf, "offsite", "url") :
		      conf_str(cli->conf, "backup", "dir"), shown);
	strlist_release(&there);
	retention_free(items, n);
	repo_free(list, n);
	return FX_OK;
}


const struct cli_cmd cmd_list_entry = {
	"list", cmd_list, "[--json] [--offsite] [--bytes]",
	"list archives, newest first, with what keeps them",
	"  --json            print them as JSON (sizes in bytes)\n"
	"  --offsite         the off-site copies in [offsite] url\n"
	"  --bytes           sizes in bytes, not 1.4 MiB\n",
	NULL,
};
