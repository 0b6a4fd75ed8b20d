#include "backup/retention.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/escape.h"
#include "conf/conf.h"

void retention_policy(const struct conf *c, const char *section,
		      struct prune_policy *p)
{
	for (int i = 0; i < KEEP_N; i++)
		p->keep[i] = conf_num(c, section, prune_rule_name(i));
}

static int is_partial(const struct repo_entry *r)
{
	const char *st = json_string_value(json_object_get(r->manifest,
							   "status"));

	return st && !strcmp(st, "partial");
}

struct prune_item *retention_plan(const struct conf *c, const char *section,
				  const struct repo_entry *list, size_t n)
{
	struct prune_item *items = xcalloc(n ? n : 1, sizeof(*items));
	struct prune_item *good = xcalloc(n ? n : 1, sizeof(*good));
	size_t ng = 0, *at = xcalloc(n ? n : 1, sizeof(*at));
	time_t newest_good = 0;
	struct prune_policy p;

	retention_policy(c, section, &p);
	for (size_t i = 0; i < n; i++) {
		items[i].t = list[i].t;
		if (is_partial(&list[i]))
			continue;
		at[ng] = i;
		good[ng++].t = list[i].t;
		if (list[i].t > newest_good)
			newest_good = list[i].t;
	}
	/* Partial archives (some component failed) as the rules see all of
	 * them; complete ones (and any whose manifest is unreadable) as the
	 * rules see complete ones alone, so no run of partial backups can
	 * push a complete archive out. */
	prune_plan(items, n, &p);
	prune_plan(good, ng, &p);
	for (size_t g = 0; g < ng; g++)
		items[at[g]] = good[g];
	/* A partial one newer than every complete archive holds the latest
	 * copy of what did land: kept until a complete one replaces it. */
	for (size_t i = 0; i < n; i++) {
		if (!is_partial(&list[i]))
			continue;
		if (!items[i].keep && list[i].t >= newest_good) {
			items[i].keep = 1;
			snprintf(items[i].reason, sizeof(items[i].reason),
				 "partial, newer than any complete archive");
		}
	}
	free(good);
	free(at);
	return items;
}

int retention_prune(const struct conf *c, int dry_run, FILE *out,
		    struct err *e)
{
	struct repo_entry *list = NULL;
	struct prune_item *items;
	size_t n = 0, gone = 0;
	int rc = 0;

	if (repo_scan(conf_str(c, "backup", "dir"), conf_str(c, "backup", "name"),
		      &list, &n, e) < 0)
		return -1;
	items = retention_plan(c, "backup", list, n);
	for (size_t i = 0; i < n; i++) {
		const char *base = strrchr(list[i].path, '/');
		char *side, *shown;

		base = base ? base + 1 : list[i].path;
		if (items[i].keep)
			continue;
		shown = esc_str(base);	/* a stray name cannot forge a line */
		fprintf(out, "%s %s: %s\n", dry_run ? "would delete" : "delete",
			shown, items[i].reason);
		free(shown);
		gone++;
		if (dry_run)
			continue;
		if (unlink(list[i].path) < 0 && errno != ENOENT) {
			rc = err_set(e, FX_FAIL, "delete %s: %s", list[i].path,
				     strerror(errno));
			break;
		}
		side = repo_sidecar_path(list[i].stem);
		unlink(side);
		free(side);
	}
	if (rc == 0)
		fprintf(out, "%zu archive%s kept, %zu %sdeleted\n", n - gone,
			n - gone == 1 ? "" : "s", gone, dry_run ? "would be " : "");
	free(items);
	repo_free(list, n);
	return rc;
}
