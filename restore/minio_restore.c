/*
 * The minio restorer: each bucket of the archive (or each --bucket
 * SRC=DST) back into the configured S3 store:
 *
 *   check every target bucket first (one that holds objects is refused
 *   unless --clean: nothing is changed), then, once every component
 *   checked its targets, empty those (--clean) and create the missing
 *   ones;
 *   PUT every object with its stored headers and user metadata, many at
 *   once, each only after its members matched the manifest (minio_put.c);
 *   then the bucket's configuration (policy, versioning, lifecycle, CORS,
 *   tags) as the archive kept it, last, so that no policy or lifecycle
 *   rule of the bucket stands in the way of the restore itself.
 *
 * After a failure, the buckets this restore created are emptied and
 * removed again; the ones it could not remove are named as incomplete.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/elapsed.h"
#include "util/log.h"
#include "util/progress.h"
#include "net/xport.h"
#include "backup/component.h"
#include "backup/minio.h"
#include "conf/conf.h"
#include "restore/minio_restore.h"

#define CONFIG_MAX (1u << 20)

/* An object of the archive, found by its member's name. */
struct ment {
	const char *member;
	json_t *j;
	struct mr_bucket *b;
	unsigned members, next;	/* in the archive; read and checked */
	struct mr_obj *o;	/* while they are read */
};

struct mr {
	struct rs_ctx *x;
	struct xport *xp;
	char *url;
	struct s3_conf base;
	struct mr_bucket *b;
	size_t nb;
	struct ment *ents;
	size_t nents;
	struct mr_up up;
	int up_ready;
	/* what the member just read staged, for checked() */
	struct ment *pend;
	struct mr_bucket *pend_cfg;
	struct buf cfg;
	struct timespec t0;
};

static int by_member(const void *a, const void *b)
{
	return strcmp(((const struct ment *)a)->member,
		      ((const struct ment *)b)->member);
}

static struct ment *find(struct mr *r, const char *member)
{
	struct ment key = { .member = member };

	return bsearch(&key, r->ents, r->nents, sizeof(*r->ents), by_member);
}

/* "NAME.part-0012" -> NAME's entry and 12; else NULL. */
static struct ment *find_part(struct mr *r, const char *name, unsigned *idx)
{
	const char *dot = strrchr(name, '.');
	struct ment *m;
	char *base;

	if (!dot || strncmp(dot, ".part-", 6) || strlen(dot + 6) < 4 ||
	    strspn(dot + 6, "0123456789") != strlen(dot + 6))
		return NULL;
	base = xstrndup(name, (size_t)(dot - name));
	m = find(r, base);
	free(base);
	*idx = (unsigned)strtoul(dot + 6, NULL, 10);
	return m;
}

/* S3's bucket naming rules, so a typo fails before anything is sent. */
static int valid_bucket(const char *s)
{
	size_t n = strlen(s);

	return n >= 3 && n <= 63 && strspn(s, "abcdefghijklmnopqrstuvwxyz"
					    "0123456789.-") == n &&
	       s[0] != '.' && s[0] != '-' && s[n - 1] != '.' && s[n - 1] != '-';
}

/* detail's buckets: those that landed ("buckets"), then those whose
 * backup failed ("failed_buckets": name -> why; older archives kept them
 * under "buckets" with an "error"), which are named but never restored. */
static int select_buckets(struct mr *r, json_t *detail, struct err *e)
{
	const struct strlist *map = r->x->o->bucketmap;
	json_t *bs = json_object_get(detail, "buckets");
	json_t *failed = json_object_get(detail, "failed_buckets");
	const char *k;
	json_t *v;
	size_t i = 0;
	int any = 0;

	r->nb = json_object_size(bs) + json_object_size(failed);
	r->b = xcalloc(r->nb + 1, sizeof(*r->b));
	json_object_foreach(bs, k, v) {
		r->b[i].src = k;
		r->b[i].info = v;
		r->b[i].failed = json_string_value(json_object_get(v, "error"));
		r->b[i++].part = component_member_part(k);
	}
	json_object_foreach(failed, k, v) {
		r->b[i].src = k;
		r->b[i].failed = json_string_value(v) ?: "no reason recorded";
		r->b[i++].part = component_member_part(k);
	}
	for (i = 0; i < r->nb; i++) {
		r->b[i].selected = (!map || map->n == 0) && !r->b[i].failed;
		r->b[i].dst = xstrdup(r->b[i].src);
		r->b[i].want = json_array_size(json_object_get(r->b[i].info,
							       "objects"));
		r->b[i].configs = json_array();
	}
	for (size_t m = 0; map && m < map->n; m++) {
		const char *eq = strchr(map->v[m], '=');
		size_t j;

		if (!eq || eq == map->v[m] || !eq[1])
			return err_set(e, FX_USAGE, "--bucket %s: expected SRC=DST",
				       map->v[m]);
		for (j = 0; j < r->nb; j++)
			if (strlen(r->b[j].src) == (size_t)(eq - map->v[m]) &&
			    !strncmp(r->b[j].src, map->v[m],
				     (size_t)(eq - map->v[m])))
				break;
		if (j == r->nb)
			return err_set(e, FX_USAGE, "--bucket %s: the archive has "
				       "no bucket '%.*s'", map->v[m],
				       (int)(eq - map->v[m]), map->v[m]);
		if (r->b[j].failed)
			return err_set(e, FX_FAIL, "--bucket %s: bucket '%s' is "
				       "not in the archive: its backup failed (%s)",
				       map->v[m], r->b[j].src, r->b[j].failed);
		r->b[j].selected = 1;
		free(r->b[j].dst);
		r->b[j].dst = xstrdup(eq + 1);
	}
	for (size_t j = 0; j < r->nb; j++) {
		if (r->b[j].failed)
			log_warn("bucket '%s' is not in the archive: its backup "
				 "failed (%s)", r->b[j].src, r->b[j].failed);
		if (!r->b[j].selected)
			continue;
		any = 1;
		if (!valid_bucket(r->b[j].dst))
			return err_set(e, FX_USAGE, "'%s' is not a valid S3 bucket "
				       "name (3 to 63 of a-z, 0-9, '.', '-')",
				       r->b[j].dst);
		for (size_t k2 = 0; k2 < j; k2++)
			if (r->b[k2].selected && !strcmp(r->b[k2].dst, r->b[j].dst))
				return err_set(e, FX_USAGE, "buckets '%s' and '%s' "
					       "would both go to '%s'",
					       r->b[k2].src, r->b[j].src,
					       r->b[j].dst);
		r->b[j].c = r->base;
		r->b[j].c.bucket = r->b[j].dst;
	}
	if (!any && r->nb)
		return err_set(e, FX_FAIL, "no bucket of the archive's minio "
			       "component landed: nothing to restore");
	return 0;
}

/* The objects by member name, and how many members each has. */
static int index_objects(struct mr *r, struct err *e)
{
	json_t *members = json_object_get(r->x->manifest, "members"), *it;
	size_t cap = 0, i;

	for (size_t j = 0; j < r->nb; j++)
		if (r->b[j].selected)
			cap += r->b[j].want;
	r->ents = xcalloc(cap + 1, sizeof(*r->ents));
	for (size_t j = 0; j < r->nb; j++) {
		json_t *o;

		if (!r->b[j].selected)
			continue;
		json_array_foreach(json_object_get(r->b[j].info, "objects"), i, o) {
			const char *m = json_string_value(json_object_get(o,
							"member"));

			if (!m)
				return err_set(e, FX_VERIFY, "an object of bucket "
					       "'%s' has no member in the "
					       "manifest", r->b[j].src);
			r->ents[r->nents].member = m;
			r->ents[r->nents].j = o;
			r->ents[r->nents++].b = &r->b[j];
		}
	}
	if (r->nents)
		qsort(r->ents, r->nents, sizeof(*r->ents), by_member);
	json_array_foreach(members, i, it) {
		const char *n = json_string_value(json_object_get(it, "name"));
		struct ment *m;
		unsigned idx;

		if (!n || strncmp(n, "minio/", 6))
			continue;
		if ((m = find(r, n)) || (m = find_part(r, n, &idx)))
			m->members++;
	}
	for (i = 0; i < r->nents; i++)
		if (!r->ents[i].members)
			return err_set(e, FX_VERIFY, "object '%s' of bucket '%s' "
				       "has no member in the archive",
				       json_string_value(json_object_get(
					       r->ents[i].j, "key")),
				       r->ents[i].b->src);
	return 0;
}

/* Every target is checked before any is touched. */
static int check(struct mr *r, struct err *e)
{
	for (size_t i = 0; i < r->nb; i++) {
		struct mr_bucket *b = &r->b[i];
		int st;

		if (!b->selected)
			continue;
		if ((st = mb_state(b, e)) < -1) {
			err_wrap(e, "bucket '%s'", b->dst);
			return -1;
		}
		b->exists = st >= 0;
		if (st > 0 && !r->x->o->clean)
			return err_set(e, FX_FAIL, "bucket '%s' already holds "
				       "objects: restore into another (--bucket "
				       "%s=NEW) or give --clean to empty it "
				       "first; nothing was changed", b->dst,
				       b->src);
		b->full = st > 0;
	}
	return 0;
}

/* Once every component's targets were checked: --clean empties, the
 * missing buckets are made. */
static int mr_act(void *state, struct err *e)
{
	struct mr *r = state;

	for (size_t i = 0; i < r->nb; i++) {
		struct mr_bucket *b = &r->b[i];

		if (!b->selected)
			continue;
		b->cleaned = b->full;
		if (b->cleaned && mb_empty(r->up.pool, b, e) < 0) {
			err_wrap(e, "emptying bucket '%s'", b->dst);
			return -1;
		}
		if (!b->exists) {
			int c = s3_bucket_create(&b->c, e);

			if (c < 0) {
				err_wrap(e, "creating bucket '%s'", b->dst);
				return -1;
			}
			b->created = c == 0;
		}
	}
	return 0;
}

static int mr_begin(struct rs_ctx *x, json_t *detail, void **out,
		    struct err *e)
{
	struct mr *r = xcalloc(1, sizeof(*r));
	long long jobs = x->o->jobs ? x->o->jobs :
			 conf_num(x->conf, "minio", "jobs");

	*out = r;
	r->x = x;
	clock_gettime(CLOCK_MONOTONIC, &r->t0);
	if (!conf_has_section(x->conf, "minio"))
		return err_set(e, FX_USAGE, "%s: restoring minio needs a [minio] "
			       "section (the S3 store to restore into)",
			       conf_path(x->conf));
	if (xport_open(&r->xp, x->o->server, e) < 0 ||
	    minio_s3_conf(x->conf, r->xp, &r->base, &r->url, e) < 0)
		return -1;
	if (select_buckets(r, detail, e) < 0 ||
	    index_objects(r, e) < 0)
		return -1;
	if (mr_up_init(&r->up, (unsigned)(jobs > 0 ? jobs : 1), e) < 0)
		return -1;
	r->up_ready = 1;
	return check(r, e);
}

static struct mr_bucket *bucket_of(struct mr *r, const char *name,
				   const char **rest)
{
	const char *p = name + 6, *slash = strchr(p, '/');

	if (!slash)
		return NULL;
	for (size_t i = 0; i < r->nb; i++)
		if (strlen(r->b[i].part) == (size_t)(slash - p) &&
		    !strncmp(r->b[i].part, p, (size_t)(slash - p))) {
			*rest = slash + 1;
			return &r->b[i];
		}
	return NULL;
}

static int mr_member(void *state, struct rs_member *m, struct err *e)
{
	struct mr *r = state;
	struct mr_bucket *b;
	struct ment *ent;
	const char *rest;
	unsigned idx = 0;

	if (strncmp(m->name, "minio/", 6))
		return 0;
	if (!(b = bucket_of(r, m->name, &rest)))
		return err_set(e, FX_VERIFY, "member '%s' belongs to no bucket of "
			       "the manifest", m->name);
	if (!b->selected)
		return 1;
	if (!strncmp(rest, ".bucket/", 8)) {
		buf_reset(&r->cfg);
		if (rs_slurp(m, &r->cfg, CONFIG_MAX, e) < 0)
			return -1;
		r->pend_cfg = b;
		return 1;
	}
	/* An object is one member under its own name, or parts NAME.part-N
	 * (never both). */
	ent = find(r, m->name);
	if (ent && ent->members != 1)
		ent = NULL;
	else if (!ent && (ent = find_part(r, m->name, &idx)) &&
		 ent->members == 1)
		ent = NULL;
	if (!ent)
		return err_set(e, FX_VERIFY, "member '%s' is not one of the "
			       "manifest's objects", m->name);
	if (idx != ent->next)
		return err_set(e, FX_VERIFY, "member '%s' is out of order",
			       m->name);
	if (!ent->o && mr_obj_new(&r->up, ent->b, ent->j, ent->members - 1,
				  &ent->o, e) < 0)
		return -1;
	if (mr_obj_read(&r->up, ent->o, m, e) < 0)
		return -1;
	r->pend = ent;
	return 1;
}

static int mr_checked(void *state, struct err *e)
{
	struct mr *r = state;
	struct ment *ent = r->pend;
	struct mr_obj *o;

	if (r->pend_cfg) {
		json_t *j = json_loadb(buf_str(&r->cfg), r->cfg.len, 0, NULL);

		if (!json_is_string(json_object_get(j, "subresource")) ||
		    !json_is_string(json_object_get(j, "body"))) {
			json_decref(j);
			return err_set(e, FX_VERIFY, "bucket '%s': a configuration "
				       "member is malformed", r->pend_cfg->src);
		}
		json_array_append_new(r->pend_cfg->configs, j);
		r->pend_cfg = NULL;
		return 0;
	}
	if (!ent)
		return 0;
	r->pend = NULL;
	o = ent->o;
	/* The last member hands the object over to its upload. */
	if (++ent->next == ent->members)
		ent->o = NULL;
	return mr_obj_checked(&r->up, o, e);
}

static int mr_end(void *state, struct err *e)
{
	struct mr *r = state;

	if (mr_up_finish(&r->up, e) < 0)
		return -1;
	for (size_t i = 0; i < r->nb; i++) {
		struct mr_bucket *b = &r->b[i];
		struct buf note = BUF_INIT;

		if (!b->selected)
			continue;
		if (b->count != b->want) {
			buf_release(&note);
			return err_set(e, FX_VERIFY, "the archive ended before "
				       "bucket '%s' was complete (%llu of %zu "
				       "objects)", b->src,
				       (unsigned long long)b->count, b->want);
		}
		if (mb_configure(b, &note, e) < 0) {
			buf_release(&note);
			return -1;
		}
		if (r->x->o->report) {
			struct buf size = BUF_INIT;

			units_bytes(&size, (uint64_t)b->bytes);
			fprintf(r->x->o->report, "minio %s -> %s: %llu object%s, "
				"%s%s%s (%.1fs)\n", b->src, b->dst,
				(unsigned long long)b->count,
				b->count == 1 ? "" : "s", buf_str(&size),
				note.len ? ", config: " : "", buf_str(&note),
				elapsed_since(&r->t0));
			buf_release(&size);
		}
		buf_release(&note);
	}
	return 0;
}

/* Removes a bucket this restore created, objects first. */
static int unmake(struct mr *r, struct mr_bucket *b, struct err *e)
{
	if (!r->up.pool) {
		r->up.pool = s3_pool_new(r->up.jobs);
		if (!r->up.pool)
			return err_set(e, FX_FAIL, "curl: cannot start transfers");
	}
	if (mb_empty(r->up.pool, b, e) < 0 || s3_bucket_delete(&b->c, e) < 0)
		return -1;
	return 0;
}

static void mr_abandon(void *state, struct err *e)
{
	struct mr *r = state;
	struct buf removed = BUF_INIT, left = BUF_INIT;

	/* Uploads stop; multipart uploads left open are aborted. */
	if (r->up_ready)
		mr_up_release(&r->up);
	for (size_t i = 0; i < r->nb; i++) {
		struct mr_bucket *b = &r->b[i];
		struct err be = ERR_INIT;

		if (!b->selected || (!b->created && !b->cleaned && !b->count))
			continue;
		if (b->created) {
			if (unmake(r, b, &be) == 0) {
				buf_printf(&removed, "%s%s", removed.len ? ", " :
					   "", b->dst);
				continue;
			}
			log_warn("could not remove bucket %s again: %s", b->dst,
				 be.msg);
		}
		buf_printf(&left, "%s%s", left.len ? ", " : "", b->dst);
	}
	if (removed.len)
		err_append(e, "; removed again the buckets this restore "
			   "created: %s", buf_str(&removed));
	if (left.len)
		err_append(e, "; left incomplete%s: bucket %s", r->x->o->clean ?
			   " (--clean had emptied it)" : "", buf_str(&left));
	buf_release(&removed);
	buf_release(&left);
}

static void mr_free(void *state)
{
	struct mr *r = state;

	if (!r)
		return;
	if (r->up_ready)
		mr_up_release(&r->up);
	s3_pool_free(r->up.pool);
	for (size_t i = 0; i < r->nb; i++) {
		free(r->b[i].dst);
		free(r->b[i].part);
		json_decref(r->b[i].configs);
	}
	free(r->b);
	free(r->ents);
	buf_release(&r->cfg);
	free(r->url);
	if (r->xp)
		xport_close(r->xp);
	free(r);
}

const struct restorer minio_restorer = {
	"minio", mr_begin, mr_act, mr_member, mr_checked, mr_end, mr_abandon, mr_free,
};
