/*
 * The restore driver: find the archive and its manifest, stream the
 * members through the manifest's checks to the component restorers.
 */
#include "restore/restore.h"

#include <archive_entry.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/log.h"
#include "util/progress.h"
#include "restore/restorer.h"
#include "util/sha256.h"
#include "backup/manifest.h"
#include "backup/offsite.h"
#include "backup/repo.h"
#include "backup/verify.h"
#include "conf/conf.h"

#define CHUNK (256u * 1024)

/* Where the archive is: a local path (and its sidecar manifest), or the
 * base name of an off-site object (and its uploaded manifest). */
struct source {
	char *path;		/* local path or off-site base name */
	json_t *manifest;
};

/* The components --db names databases of, and --bucket buckets of. */
static const char *const dbs[] = { "postgres", "neo4j", NULL };
static const char *const buckets[] = { "minio", NULL };

/* Whether component k is wanted: --only names it, or names none. */
static int wanted(const struct restore_opts *o, const char *k)
{
	for (size_t i = 0; o->only && i < o->only->n; i++)
		if (!strcmp(o->only->v[i], k))
			return 1;
	return !o->only || !o->only->n;
}

/* The first SRC of map (SRC=DST, ...) that none of the wanted components
 * among kinds holds under key, or NULL; caller frees. */
static char *unheld(json_t *comps, const struct restore_opts *o,
		    const struct strlist *map, const char *const *kinds,
		    const char *key)
{
	for (size_t i = 0; map && i < map->n; i++) {
		const char *eq = strchr(map->v[i], '=');
		char *src = xstrndup(map->v[i], eq ? (size_t)(eq - map->v[i]) :
				     strlen(map->v[i]));
		int held = 0;

		for (const char *const *k = kinds; *k && !held; k++)
			held = wanted(o, *k) && json_object_get(json_object_get(
				json_object_get(comps, *k), key), src);
		if (!held)
			return src;
		free(src);
	}
	return NULL;
}

/* Whether --db or --bucket name what component k is restored for, all
 * of which the archive holds: k's failure then is another database's
 * or bucket's. */
static int names_held(json_t *man, const struct restore_opts *o,
		      const char *k)
{
	json_t *comps = json_object_get(man, "components");
	char *src = NULL;
	int held;

	if (!strcmp(k, "minio"))
		held = o->bucketmap && o->bucketmap->n &&
		       !(src = unheld(comps, o, o->bucketmap, buckets, "buckets"));
	else
		held = (!strcmp(k, "postgres") || !strcmp(k, "neo4j")) &&
		       o->dbmap && o->dbmap->n &&
		       !(src = unheld(comps, o, o->dbmap, dbs, "databases"));
	free(src);
	return held;
}

/* Why --latest passes over an archive (NULL: it fits).  It restores the
 * newest backup of what is asked for: each component --only names is
 * there, each database or bucket --db or --bucket names is, and every
 * component restored landed whole, or (postgres, neo4j and minio fail a
 * database or bucket at a time) holds what --db or --bucket names.  An
 * archive without a readable manifest is taken, as before: what it holds
 * is checked as it streams.  *partial: a component failed. */
static char *unfit(json_t *man, const struct restore_opts *o, int *partial)
{
	json_t *comps = json_object_get(man, "components"), *c;
	const char *k;
	char *src;

	if (!man)
		return NULL;
	for (size_t i = 0; o->only && i < o->only->n; i++)
		if (!json_object_get(comps, o->only->v[i]))
			return xstrfmt("it holds no %s", o->only->v[i]);
	if ((src = unheld(comps, o, o->dbmap, dbs, "databases"))) {
		char *why = xstrfmt("it holds no database %s", src);

		free(src);
		return why;
	}
	if ((src = unheld(comps, o, o->bucketmap, buckets, "buckets"))) {
		char *why = xstrfmt("it holds no bucket %s", src);

		free(src);
		return why;
	}
	json_object_foreach(comps, k, c) {
		const char *st = json_string_value(json_object_get(c, "status"));

		if (!wanted(o, k) || (st && !strcmp(st, "ok")) ||
		    names_held(man, o, k))
			continue;
		*partial = 1;
		return xstrfmt("partial: its %s failed at backup time", k);
	}
	return NULL;
}

static int pick(const struct conf *c, const struct restore_opts *o,
		struct source *s, struct err *e)
{
	struct repo_entry *list = NULL;
	size_t n = 0, passed = 0;
	int rc = -1, partial = 0;
	const char *want = o->archive;
	char *newest = NULL;	/* why the newest was passed over */

	if (o->offsite) {
		if (!offsite_configured(c))
			return err_set(e, FX_USAGE, "--offsite needs an [offsite] "
				       "section");
		if (offsite_scan(c, &list, &n, e) < 0)
			return -1;
	} else if (!o->latest) {
		if (repo_resolve(c, want, &s->path, e) < 0)
			return -1;
	} else if (repo_scan_conf(c, &list, &n, e) < 0) {
		return -1;
	}
	for (size_t i = 0; !s->path && i < n; i++) {
		/* Off-site objects are fetched by their archive's name. */
		const char *stem = repo_base(list[i].stem);
		char *b = repo_archive_name(&list[i]);
		const char *bad = o->latest ? repo_verify_error(&list[i]) : NULL;
		int part = 0;
		char *why = o->latest ? unfit(list[i].manifest, o, &part) : NULL;

		/* One that failed its last verify is known damaged: a newer
		 * good one, or an older one, is what --latest means.  It
		 * holds what is asked for (exit 1, not 2) when its manifest
		 * says so. */
		if (bad) {
			if (!why || part)
				partial = 1;
			free(why);
			why = xstrfmt("its last verify failed (%s)", bad);
		} else {
			partial |= part;
		}
		if (why) {
			log_info("--latest: passing over %s: %s", b, why);
			if (!passed++)
				newest = xstrdup(why);
		} else if (o->latest || !strcmp(b, want) || !strcmp(stem, want)) {
			s->path = o->offsite ? b : xstrdup(list[i].path);
			s->manifest = json_incref(list[i].manifest);
			if (o->offsite)
				b = NULL;
		}
		free(b);
		free(why);
	}
	if (!s->path && passed && !partial) {
		/* Asked for what no archive holds: a usage error, as for a
		 * named archive without it. */
		err_set(e, FX_USAGE, "--latest: no archive%s holds what is asked "
			"for (the newest: %s)", o->offsite ? " off-site" : "",
			newest);
		goto out;
	}
	if (!s->path && passed) {
		err_set(e, FX_FAIL, "--latest: no archive%s holds complete what "
			"is to be restored (%zu passed over, named above); name "
			"one to restore what it holds", o->offsite ? " off-site" :
			"", passed);
		goto out;
	}
	if (s->path && o->latest)
		log_info("--latest: restoring %s", s->path);
	if (!s->path && o->latest && !o->offsite) {
		err_set(e, FX_FAIL, "--latest: no archive named %s-* in %s",
			conf_str(c, "backup", "name"), conf_str(c, "backup", "dir"));
		goto out;
	}
	if (!s->path) {
		err_set(e, FX_FAIL, "%s: no such archive%s", o->latest ?
			"--latest" : want, o->offsite ? " off-site" : "");
		goto out;
	}
	if (!o->offsite && !s->manifest) {
		/* The sidecar says what is inside without a pass over it. */
		char *side = repo_sidecar_path(s->path);

		s->manifest = json_load_file(side, 0, NULL);
		free(side);
	}
	if (!s->manifest && !o->offsite) {
		struct verify_result vr;

		log_info("%s: no manifest beside it: verifying it first",
			 s->path);
		if (verify_archive(s->path, &s->manifest, &vr, e) < 0)
			goto out;
	}
	if (!s->manifest) {
		err_set(e, FX_VERIFY, "%s: its manifest is missing off-site",
			s->path);
		goto out;
	}
	rc = 0;
out:
	free(newest);
	repo_free(list, n);
	return rc;
}

/* The manifest's entry for the i-th member, which must be name. */
static int expect(json_t *man, size_t i, const char *name, json_t **ent,
		  const char *path, struct err *e)
{
	json_t *it = json_array_get(json_object_get(man, "members"), i);
	const char *want = json_string_value(json_object_get(it, "name"));

	if (!want || strcmp(want, name))
		return err_set(e, FX_VERIFY, "%s: member '%s' is not the "
			       "manifest's next ('%s')", path, name,
			       want ? want : "(end)");
	*ent = it;
	return 0;
}

/* The components being restored, each with its restorer's state. */
struct active {
	const struct restorer *r;
	json_t *detail;
	void *state;
};

struct job {
	struct active *v;
	size_t n;
};

/* Hands m to the restorer that takes it; NULL when none does. */
static const struct active *feed(struct job *j, struct rs_member *m,
				 struct err *e, int *failed)
{
	for (size_t i = 0; i < j->n; i++) {
		int r = j->v[i].r->member(j->v[i].state, m, e);

		if (r < 0)
			*failed = 1;
		if (r != 0)
			return &j->v[i];
	}
	return NULL;
}

static int stream(struct rs_ctx *x, struct archive *a, const char *path,
		  struct job *j, struct err *e)
{
	struct sha256 *md = sha256_new();
	struct archive_entry *ent;
	unsigned char *drain = xmalloc(CHUNK);
	struct progress pg;
	struct stat st;
	char hex[65];
	size_t i = 0;
	int h, rc = -1;

	/* The archive's bytes read so far; parts are a few MiB at most. */
	progress_start(&pg, "restore", !x->o->offsite && stat(path, &st) == 0 ?
		       (uint64_t)st.st_size : 0);

	while ((h = archive_read_next_header(a, &ent)) != ARCHIVE_EOF) {
		struct rs_member m = { 0 };
		const struct active *who;
		json_t *it = NULL;
		int failed = 0;

		if (h < ARCHIVE_WARN) {
			verify_damaged(a, path, i ? "between members" :
				       "at the start", e);
			goto out;
		}
		m.name = archive_entry_pathname_utf8(ent);
		if (!m.name || !verify_safe_name(m.name) ||
		    archive_entry_filetype(ent) != AE_IFREG) {
			err_set(e, FX_VERIFY, "%s: unsafe or unexpected member "
				"'%s'", path, m.name ? m.name : "(no name)");
			goto out;
		}
		if (!strcmp(m.name, MANIFEST_NAME))
			break;
		if (expect(x->manifest, i++, m.name, &it, path, e) < 0)
			goto out;
		m.a = a;
		m.md = md;
		m.stop = x->o->stop;
		who = feed(j, &m, e, &failed);
		if (failed)
			goto out;
		/* Whatever the restorer left is still checked. */
		while (rs_read(&m, drain, CHUNK, e) > 0)
			;
		if (e->code)
			goto out;
		sha256_final_hex(md, hex);
		if (m.size != (uint64_t)json_integer_value(json_object_get(it,
				"size")) ||
		    strcmp(hex, json_string_value(json_object_get(it, "sha256")) ?: "")) {
			err_set(e, FX_VERIFY, "%s: member '%s' does not match the "
				"manifest", path, m.name);
			goto out;
		}
		if (who && who->r->checked && who->r->checked(who->state, e) < 0)
			goto out;
		progress_update(&pg, (uint64_t)archive_filter_bytes(a, -1));
	}
	if (i != json_array_size(json_object_get(x->manifest, "members"))) {
		err_set(e, FX_VERIFY, "%s: truncated: %zu of %zu members", path,
			i, json_array_size(json_object_get(x->manifest, "members")));
		goto out;
	}
	rc = 0;
out:
	if (rc == 0)
		progress_end(&pg);
	else
		progress_abort(&pg);
	sha256_free(md);
	free(drain);
	return rc;
}

/* Which components to put back: --only, else all the archive holds. */
static int plan(json_t *man, const struct restore_opts *o, struct job *j,
		struct err *e)
{
	json_t *comps = json_object_get(man, "components"), *c;
	const char *k;

	for (size_t i = 0; o->only && i < o->only->n; i++)
		if (!json_object_get(comps, o->only->v[i]))
			return err_set(e, FX_USAGE, "the archive holds no %s "
				       "component", o->only->v[i]);
	j->v = xcalloc(json_object_size(comps) + 1, sizeof(*j->v));
	json_object_foreach(comps, k, c) {
		const struct restorer *r;
		int wanted = !o->only || o->only->n == 0;

		for (size_t i = 0; o->only && i < o->only->n; i++)
			wanted |= !strcmp(o->only->v[i], k);
		if (!wanted)
			continue;
		r = restorer_find(k);
		if (!r)
			return err_set(e, FX_USAGE, "restoring %s is not built "
				       "yet (use --only to pick others)", k);
		if (o->to && !restorer_to_dir(k))
			return err_set(e, FX_USAGE, "--to DIR: %s cannot be "
				       "restored into a directory (use --only to "
				       "pick others)", k);
		/* What landed of a failed component is still good (the
		 * databases that were not locked, say): its restorer takes
		 * what the manifest lists and refuses what is missing. */
		if (strcmp(json_string_value(json_object_get(c, "status")) ?: "",
			   "ok") && !names_held(man, o, k))
			log_warn("the archive's %s component failed at backup "
				 "time (%s): restoring what it holds", k,
				 json_string_value(json_object_get(c, "error")) ?:
				 "no reason recorded");
		j->v[j->n].r = r;
		j->v[j->n++].detail = c;
	}
	if (!j->n)
		return err_set(e, FX_USAGE, "nothing to restore");
	return 0;
}

/* Every component checks its targets before any changes one: a refusal
 * of the last (Redis' directory, say) must find the first's databases
 * as they were, --clean or not. */
static int begin(struct rs_ctx *x, struct job *j, struct err *e)
{
	const struct restore_stop *stop = x->o->stop;

	for (size_t i = 0; i < j->n; i++)
		if (rs_stopped(stop, e) < 0 ||
		    j->v[i].r->begin(x, j->v[i].detail, &j->v[i].state, e) < 0)
			return -1;
	if (rs_stopped(stop, e) < 0)
		return -1;
	if (x->o->stop)
		__atomic_store_n(&x->o->stop->changed, 1, __ATOMIC_RELEASE);
	for (size_t i = 0; i < j->n; i++)
		if (rs_stopped(stop, e) < 0 || (j->v[i].r->act &&
		    j->v[i].r->act(j->v[i].state, e) < 0))
			return -1;
	return 0;
}

static int end(struct job *j, const struct restore_stop *stop, struct err *e)
{
	for (size_t i = 0; i < j->n; i++)
		if (rs_stopped(stop, e) < 0 || j->v[i].r->end(j->v[i].state, e) < 0)
			return -1;
	return 0;
}

/* After a failure (e set) each restorer undoes what it can and says what
 * is left. */
static void job_free(struct job *j, struct err *failed)
{
	for (size_t i = 0; i < j->n; i++) {
		if (!j->v[i].state)
			continue;
		if (failed && j->v[i].r->abandon)
			j->v[i].r->abandon(j->v[i].state, failed);
		j->v[i].r->free(j->v[i].state);
	}
	free(j->v);
}

void restore_stop(struct restore_stop *s, int sig)
{
	__atomic_store_n(&s->sig, sig, __ATOMIC_RELEASE);
}

int restore_changed(const struct restore_stop *s)
{
	return __atomic_load_n(&s->changed, __ATOMIC_ACQUIRE);
}

int restore_run(const struct conf *c, const struct restore_opts *o,
		struct err *e)
{
	struct source s = { 0 };
	struct rs_ctx x = { c, o, NULL };
	struct offsite_reader *rd = NULL;
	struct archive *a = archive_read_new();
	struct job j = { 0 };
	int fd = -1, rc = -1, orc, stopped;

	archive_read_support_filter_zstd(a);
	archive_read_support_format_tar(a);
	if (pick(c, o, &s, e) < 0)
		goto out;
	x.manifest = s.manifest;
	if (plan(s.manifest, o, &j, e) < 0 || begin(&x, &j, e) < 0)
		goto out;
	if (o->offsite) {
		if (offsite_reader_start(c, s.path, &rd, &fd, e) < 0)
			goto out;
		orc = archive_read_open_fd(a, fd, CHUNK);
	} else {
		orc = archive_read_open_filename(a, s.path, CHUNK);
	}
	if (orc != ARCHIVE_OK) {
		verify_damaged(a, s.path, "at the start", e);
		goto out;
	}
	if (stream(&x, a, s.path, &j, e) < 0 || end(&j, o->stop, e) < 0)
		goto out;
	rc = 0;
out:
	archive_read_free(a);
	if (rd) {
		struct err fe = ERR_INIT;

		/* A failed download explains a damaged stream best. */
		if (offsite_reader_finish(rd, rc < 0, &fe) < 0 && (rc == 0 ||
		    e->code == FX_VERIFY)) {
			*e = fe;
			rc = -1;
			/* The download's own words (decrypt: ...) name no
			 * archive. */
			if (!strstr(e->msg, s.path))
				err_wrap(e, "off-site %s", s.path);
		}
	}
	/* Whatever failed once the stop came failed because of it. */
	stopped = rc < 0 && rs_stopped(o->stop, e) < 0;
	if (stopped)
		err_wrap(e, "restore");
	job_free(&j, rc < 0 ? e : NULL);
	if (stopped && !restore_changed(o->stop))
		err_append(e, "; nothing was changed");
	free(s.path);
	json_decref(s.manifest);
	return rc;
}
