#include "backup/retention.h"

#include <errno.h>
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

struct prune_item *retention_plan(const struct conf *c, const char *section,
				  const struct repo_entry *list, size_t n)
{
	struct prune_item *items = xcalloc(n ? n : 1, sizeof(*items));
	struct prune_policy p;

	retention_policy(c, section, &p);
	for (size_t i = 0; i < n; i++)
		items[i].t = list[i].t;
	prune_plan(items, n, &p);
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
