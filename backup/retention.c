#include "backup/retention.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/escape.h"
#include "conf/conf.h"

#define NO_MANIFEST "no manifest: not counted, kept"
#define VERIFY_FAILED "verify failed: not counted, kept for inspection"

void retention_policy(const struct conf *c, const char *section,
		      struct prune_policy *p)
{
	for (int i = 0; i < KEEP_N; i++)
		p->keep[i] = conf_num(c, section, prune_rule_name(i));
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

char *retention_group(json_t *m)
{
	json_t *comps = json_object_get(m, "components"), *v;
	struct buf key = BUF_INIT;
	const char **names, *k;
	size_t n = 0;

	/* Every published run names at least one component. */
	if (!json_is_object(comps) || !json_object_size(comps))
		return NULL;
	names = xcalloc(json_object_size(comps), sizeof(*names));
	json_object_foreach(comps, k, v)
		names[n++] = k;
	/* "--only redis,files" and "--only files,redis" ask for one thing */
	qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n; i++)
		buf_printf(&key, "%s%s", i ? "," : "", names[i]);
	free(names);
	return buf_detach(&key, NULL);
}

static int is_partial(const struct repo_entry *r)
{
	const char *st = json_string_value(json_object_get(r->manifest,
							   "status"));

	return st && !strcmp(st, "partial");
}

/* The policy over one group's archives (at[0..k), newest first): partial
 * ones as the rules see all of them, complete ones as the rules see
 * complete ones alone, so no run of partial backups can push a complete
 * archive out. */
static void plan_group(const struct prune_policy *p,
		       const struct repo_entry *list, const size_t *at,
		       size_t k, struct retention_item *items)
{
	struct prune_item *all = xcalloc(k, sizeof(*all));
	struct prune_item *good = xcalloc(k, sizeof(*good));
	size_t ng = 0, *gat = xcalloc(k, sizeof(*gat));
	time_t newest_good = 0;

	for (size_t j = 0; j < k; j++) {
		all[j].t = list[at[j]].t;
		if (is_partial(&list[at[j]]))
			continue;
		gat[ng] = j;
		good[ng++].t = list[at[j]].t;
		if (list[at[j]].t > newest_good)
			newest_good = list[at[j]].t;
	}
	prune_plan(all, k, p);
	prune_plan(good, ng, p);
	for (size_t g = 0; g < ng; g++)
		all[gat[g]] = good[g];
	for (size_t j = 0; j < k; j++) {
		struct retention_item *it = &items[at[j]];

		it->keep = all[j].keep;
		/* A partial one newer than every complete archive of its group
		 * holds the latest copy of what did land: kept until a
		 * complete one replaces it. */
		if (is_partial(&list[at[j]]) && !it->keep &&
		    list[at[j]].t >= newest_good) {
			it->keep = 1;
			snprintf(all[j].reason, sizeof(all[j].reason),
				 "partial, newer than any complete archive");
		}
		snprintf(it->reason, sizeof(it->reason), "%s%s%s", it->label,
			 *it->label ? ": " : "", all[j].reason);
	}
	free(all);
	free(good);
	free(gat);
}

/* How a group is shown: its components, escaped (a manifest's keys are
 * not to move the terminal's cursor). */
static void set_label(struct retention_item *it)
{
	char *shown = esc_str(it->group);

	snprintf(it->label, sizeof(it->label), "%s", shown);
	free(shown);
}

/* Whether items[i] is the newest archive of its group. */
static int first_of_group(const struct retention_item *items, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (items[j].group && !strcmp(items[j].group, items[i].group))
			return 0;
	return 1;
}

struct retention_item *retention_apply(const struct prune_policy *p,
				       const struct repo_entry *list, size_t n)
{
	struct retention_item *items = xcalloc(n ? n : 1, sizeof(*items));
	size_t *at = xcalloc(n ? n : 1, sizeof(*at)), groups = 0;
	int any = 0;

	for (int r = 0; r < KEEP_N; r++)
		any |= p->keep[r] > 0;
	for (size_t i = 0; i < n; i++) {
		struct retention_item *it = &items[i];
		const char *why = NULL;

		it->keep = 1;
		it->group = retention_group(list[i].manifest);
		if (!it->group)
			why = NO_MANIFEST;
		else if (repo_verify_error(&list[i]))
			why = VERIFY_FAILED;
		if (why) {
			/* Not known good: no slot; not known to be ours, or
			 * wanted for a look at what went wrong: not deleted. */
			snprintf(it->reason, sizeof(it->reason), "%s", why);
			free(it->group);
			it->group = NULL;
			continue;
		}
		it->counted = 1;
		groups += first_of_group(items, i);
	}
	for (size_t i = 0; i < n; i++) {
		size_t k = 0;

		/* Each group is planned from its newest archive. */
		if (!items[i].counted || !first_of_group(items, i))
			continue;
		for (size_t j = i; j < n; j++) {
			if (!items[j].group || strcmp(items[j].group,
						      items[i].group))
				continue;
			/* The common case (one group) reads as before. */
			if (groups > 1 && any)
				set_label(&items[j]);
			at[k++] = j;
		}
		plan_group(p, list, at, k, items);
	}
	free(at);
	return items;
}

struct retention_item *retention_plan(const struct conf *c, const char *section,
				      const struct repo_entry *list, size_t n)
{
	struct prune_policy p;

	retention_policy(c, section, &p);
	return retention_apply(&p, list, n);
}

void retention_free(struct retention_item *items, size_t n)
{
	if (!items)
		return;
	for (size_t i = 0; i < n; i++)
		free(items[i].group);
	free(items);
}

int retention_say(FILE *out, const struct retention_item *it,
		  const char *name, int dry_run, size_t *odd)
{
	char *shown;

	if (it->keep && it->counted)
		return 0;
	shown = esc_str(name);	/* a stray name cannot forge a line */
	/* What is not counted is named too: it waits for a person. */
	fprintf(out, "%s %s: %s\n", it->keep ? "keep" : dry_run ?
		"would delete" : "delete", shown, it->reason);
	free(shown);
	*odd += it->keep;
	return !it->keep;
}

void retention_odd(struct buf *b, size_t odd)
{
	if (odd)
		buf_printf(b, " (%zu not counted: named above)", odd);
}

int retention_prune(const struct conf *c, int dry_run, FILE *out,
		    struct err *e)
{
	struct repo_entry *list = NULL;
	struct retention_item *items;
	size_t n = 0, gone = 0, odd = 0;
	int rc = 0;

	if (repo_scan(conf_str(c, "backup", "dir"), conf_str(c, "backup", "name"),
		      &list, &n, e) < 0)
		return -1;
	items = retention_plan(c, "backup", list, n);
	for (size_t i = 0; i < n; i++) {
		char *side;

		if (!retention_say(out, &items[i], repo_base(list[i].path),
				   dry_run, &odd))
			continue;
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
		side = repo_verify_path(list[i].stem);
		unlink(side);
		free(side);
	}
	if (rc == 0) {
		struct buf also = BUF_INIT;

		retention_odd(&also, odd);
		fprintf(out, "%zu archive%s kept%s, %zu %sdeleted\n", n - gone,
			n - gone == 1 ? "" : "s", buf_str(&also), gone,
			dry_run ? "would be " : "");
		buf_release(&also);
	}
	retention_free(items, n);
	repo_free(list, n);
	return rc;
}
