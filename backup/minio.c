/*
 * The minio component: the server's S3 store (MinIO or any S3), reached
 * through the SSH tunnel when its endpoint is the server's own.
 *
 * For each bucket ([minio] buckets, or every one ListBuckets names): list
 * the objects a page at a time and GET them [minio] jobs at a time into
 * members minio/<bucket>/<key as minio_member_name() spells it> (small ones
 * whole, bigger ones streamed in parts, so memory stays bounded); a plain
 * object's MD5 is checked against its ETag as it streams.  The manifest
 * keeps each object's key, member, size, ETag, last-modified and stored
 * headers (content type, cache control, content encoding, ... and user
 * metadata), so the restore can put every object back as it was.  Then
 * the bucket's configuration where the server answers (policy,
 * versioning, lifecycle, CORS, tags) into minio/<bucket>/.bucket/NAME.json.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/log.h"
#include "util/md5.h"
#include "net/s3.h"
#include "net/xport.h"
#include "backup/archive.h"
#include "backup/component.h"
#include "backup/minio.h"
#include "conf/conf.h"

#define SMALL (256u << 10)	/* objects up to this are added whole */

int minio_s3_conf(const struct conf *c, struct xport *x, struct s3_conf *s3,
		  char **url, struct err *e)
{
	memset(s3, 0, sizeof(*s3));
	if (xport_forward_url(x, conf_str(c, "minio", "endpoint"), url, e) < 0)
		return -1;
	s3->endpoint = *url;
	s3->label = conf_str(c, "minio", "endpoint");
	s3->access_key = conf_str(c, "minio", "access_key");
	s3->secret_key = conf_str(c, "minio", "secret_key");
	s3->region = conf_str(c, "minio", "region");
	s3->timeout_ms = conf_num(c, "server", "connect_timeout");
	s3->stall_ms = conf_num(c, "server", "keepalive") *
		    conf_num(c, "server", "keepalive_count");
	if (!s3->access_key || !s3->secret_key)
		return err_set(e, FX_USAGE, "%s: [minio] needs access_key and "
			       "secret_key", conf_path(c));
	return 0;
}

int minio_check(struct bk_ctx *ctx, struct buf *detail, struct err *e)
{
	struct strlist buckets = STRLIST_INIT;
	struct s3_conf s3;
	char *url = NULL;
	int r = -1;

	if (minio_s3_conf(ctx->conf, ctx->x, &s3, &url, e) < 0)
		goto out;
	if (s3_list_buckets(&s3, &buckets, e) < 0) {
		if (e->code == FX_CONN)
			err_wrap(e, "s3: check access_key and secret_key");
		goto out;
	}
	buf_printf(detail, "S3 ListBuckets ok, %zu bucket%s", buckets.n,
		   buckets.n == 1 ? "" : "s");
	r = 0;
out:
	strlist_release(&buckets);
	free(url);
	return r;
}

/* ---- one run ------------------------------------------------------------ */

struct mobj;

struct mrun {
	struct bk_ctx *ctx;
	struct s3_conf bc;	/* the bucket being read */
	struct s3_pool *pool;
	struct mobj *live;	/* objects in the pool */
	struct err err;		/* the first failure */
	int failed;
	json_t *objs;		/* the bucket's object entries */
	uint64_t count, bytes, vanished, unchecked;
};

struct mobj {
	struct s3_xfer x;
	struct mrun *m;
	struct mobj *prev, *next;
	char *key, *member;
	struct buf small;
	struct arc_stream *st;
	struct md5 *md5;
};

static void fail(struct mrun *m, struct err *e)
{
	if (m->failed)
		return;
	m->failed = 1;
	m->err = *e;
	if (m->pool)
		s3_pool_stop(m->pool);
	err_wrap(&m->err, "bucket '%s'", m->bc.bucket);
}

static void obj_free(struct mobj *o)
{
	struct mrun *m = o->m;

	if (o->prev)
		o->prev->next = o->next;
	else
		m->live = o->next;
	if (o->next)
		o->next->prev = o->prev;
	arc_stream_abort(o->st);
	md5_free(o->md5);
	buf_release(&o->small);
	s3_xfer_release(&o->x);
	free(o->key);
	free(o->member);
	free(o);
}

static int obj_write(void *ud, const void *data, size_t len, struct err *e)
{
	struct mobj *o = ud;
	struct arc *a = o->m->ctx->arc;

	if (o->m->failed)
		return err_set(e, FX_FAIL, "stopped after an earlier failure");
	md5_update(o->md5, data, len);
	/* Small objects go in whole; a big one becomes a stream (parts of
	 * bounded size) as soon as it outgrows SMALL. */
	if (!o->st && o->small.len + len > SMALL) {
		if (arc_stream_begin(a, o->member, &o->st, e) < 0 ||
		    (o->small.len &&
		     arc_stream_write(o->st, o->small.p, o->small.len, e) < 0))
			return -1;
		buf_release(&o->small);
	}
	if (o->st)
		return arc_stream_write(o->st, data, len, e);
	buf_add(&o->small, data, len);
	return 0;
}

/* A plain object's ETag is its body's MD5; a multipart one's ("...-N") or
 * an encrypted one's is something else and cannot be checked. */
static int check_etag(struct mobj *o, struct err *e)
{
	const char *t = o->x.meta.etag;
	unsigned char d[16];
	char hex[33];
	size_t n;

	if (*t == '"')
		t++;
	n = strcspn(t, "\"");
	md5_final(o->md5, d);
	md5_hex(d, hex);
	if (n != 32 || strspn(t, "0123456789abcdefABCDEF") < 32) {
		o->m->unchecked++;
		return 0;
	}
	if (strncasecmp(t, hex, 32))
		return err_set(e, FX_FAIL, "object '%s': its body's MD5 %s does "
			       "not match its ETag %.*s", o->key, hex, (int)n, t);
	return 0;
}

static int set_str(json_t *j, const char *k, const char *v, struct mobj *o,
		   struct err *e)
{
	json_t *s = json_string(v);

	if (!s)
		return err_set(e, FX_FAIL, "object '%s': its %s is not UTF-8 "
			       "and cannot be kept", o->key, k);
	json_object_set_new(j, k, s);
	return 0;
}

/* The object's manifest entry. */
static int describe(struct mobj *o, uint64_t size, struct err *e)
{
	json_t *j = json_object(), *meta = json_object();
	int r = -1;

	if (set_str(j, "key", o->key, o, e) < 0 ||
	    set_str(j, "member", o->member, o, e) < 0)
		goto out;
	json_object_set_new(j, "size", json_integer((json_int_t)size));
	if (set_str(j, "etag", o->x.meta.etag, o, e) < 0 ||
	    set_str(j, "last_modified", o->x.meta.last_modified, o, e) < 0)
		goto out;
	for (size_t i = 0; i < o->x.meta.hdr.n; i++) {
		const char *h = o->x.meta.hdr.v[i], *colon = strchr(h, ':');
		char *name = xstrndup(h, (size_t)(colon - h));
		const char *v = colon + 2;

		if (!strncmp(name, "x-amz-meta-", 11)) {
			r = set_str(meta, name + 11, v, o, e);
		} else {
			for (char *p = name; *p; p++)
				if (*p == '-')
					*p = '_';
			r = set_str(j, name, v, o, e);
		}
		free(name);
		if (r < 0)
			goto out;
	}
	r = 0;
	if (json_object_size(meta))
		json_object_set(j, "metadata", meta);
	json_array_append(o->m->objs, j);
out:
	json_decref(meta);
	json_decref(j);
	return r;
}

static void obj_done(struct s3_xfer *x, int rc, struct err *e)
{
	struct mobj *o = x->owner;
	struct mrun *m = o->m;
	struct err we = ERR_INIT;
	uint64_t size = 0;

	if (rc < 0) {
		/* Deleted between the listing and the GET: the store is live. */
		if (x->status == 404 && !strcmp(x->code, "NoSuchKey") && !x->got) {
			log_verbose("minio: %s/%s was deleted meanwhile",
				    m->bc.bucket, o->key);
			m->vanished++;
		} else {
			fail(m, e);
		}
		goto out;
	}
	if (m->failed)
		goto out;
	if (o->st) {
		struct arc_stream *st = o->st;

		o->st = NULL;
		if (arc_stream_end(st, &size, &we) < 0)
			goto bad;
	} else {
		size = o->small.len;
		if (arc_add(m->ctx->arc, o->member, o->small.len ? o->small.p : "",
			    o->small.len, &we) < 0)
			goto bad;
	}
	if (check_etag(o, &we) < 0 || describe(o, size, &we) < 0)
		goto bad;
	log_verbose("minio: %s/%s: %llu bytes", m->bc.bucket, o->key,
		    (unsigned long long)size);
	m->count++;
	m->bytes += size;
	goto out;
bad:
	fail(m, &we);
out:
	obj_free(o);
}

static void obj_add(struct mrun *m, const char *key)
{
	struct mobj *o = xcalloc(1, sizeof(*o));
	char *bpart = component_member_part(m->bc.bucket);
	char *enc = minio_member_name(key);

	o->m = m;
	o->key = xstrdup(key);
	o->member = xstrfmt("minio/%s/%s", bpart, enc);
	o->md5 = md5_new();
	o->x.c = &m->bc;
	o->x.method = "GET";
	o->x.key = o->key;
	o->x.wr = obj_write;
	o->x.ud = o;
	o->x.done = obj_done;
	o->x.owner = o;
	o->next = m->live;
	if (m->live)
		m->live->prev = o;
	m->live = o;
	s3_pool_add(m->pool, &o->x);
	free(bpart);
	free(enc);
}

/* ---- bucket configuration ------------------------------------------------- */

/* The sub-resources kept, the member each goes to and the root element a
 * real answer has (the policy is JSON; some servers name the versioning
 * answer after the call). */
static const struct bcfg {
	const char *sub, *file, *root, *root2;
} cfgs[] = {
	{ "policy", "policy", NULL, NULL },
	{ "versioning", "versioning", "VersioningConfiguration",
	  "GetBucketVersioningResponse" },
	{ "lifecycle", "lifecycle", "LifecycleConfiguration", NULL },
	{ "cors", "cors", "CORSConfiguration", NULL },
	{ "tagging", "tags", "Tagging", NULL },
};

/* Is x's 200 a real answer?  Servers that do not know a sub-resource may
 * answer something else (s3rver lists the bucket for ?versioning). */
static int real_answer(const struct bcfg *b, struct s3_xfer *x,
		       struct buf *what)
{
	json_t *j;

	if (b->root) {
		s3_xml_root(&x->resp, what);
		return !strcmp(buf_str(what), b->root) ||
		       (b->root2 && !strcmp(buf_str(what), b->root2));
	}
	j = json_loadb(x->resp.p ? x->resp.p : "", x->resp.len, 0, NULL);
	buf_addstr(what, j ? "JSON" : "something else");
	if (!json_is_object(j)) {
		json_decref(j);
		return 0;
	}
	json_decref(j);
	return 1;
}

/* A versioning answer as the document that sets it again (only Status:
 * MFA delete cannot be set without the device); -1 when it was never
 * enabled. */
static int versioning(struct buf *resp)
{
	struct buf st = BUF_INIT;

	if (s3_xml_pick(resp, "Status", &st) < 0 ||
	    (strcmp(buf_str(&st), "Enabled") && strcmp(buf_str(&st), "Suspended"))) {
		buf_release(&st);
		return -1;
	}
	buf_reset(resp);
	buf_printf(resp, "<VersioningConfiguration xmlns=\"http://s3.amazonaws."
		   "com/doc/2006-03-01/\"><Status>%s</Status>"
		   "</VersioningConfiguration>", buf_str(&st));
	buf_release(&st);
	return 0;
}

static int save_one(struct mrun *m, const struct bcfg *b, json_t *state,
		    struct err *e)
{
	char *q = xstrfmt("%s=", b->sub);
	struct s3_xfer x = { .c = &m->bc, .method = "GET", .query = q };
	struct buf what = BUF_INIT, status = BUF_INIT;
	int r = -1;

	if (s3_do(&x, e) == 0) {
		if (!real_answer(b, &x, &what)) {
			buf_printf(&status, "not supported by the server (it "
				   "answered with %s)", what.len ?
				   buf_str(&what) : "no XML");
		} else if (!strcmp(b->sub, "versioning") &&
			   versioning(&x.resp) < 0) {
			buf_addstr(&status, "none");
		} else {
			json_t *env = json_pack("{s:s, s:s%}", "subresource",
						b->sub, "body", x.resp.p ?
						x.resp.p : "", x.resp.len);
			char *bpart = component_member_part(m->bc.bucket);
			char *member = xstrfmt("minio/%s/.bucket/%s.json", bpart,
					       b->file);
			char *text = env ? json_dumps(env, JSON_INDENT(2)) : NULL;

			if (!text)
				err_set(e, FX_FAIL, "its %s is not UTF-8", b->sub);
			else if (arc_add(m->ctx->arc, member, text, strlen(text),
					 e) == 0)
				buf_addstr(&status, "saved");
			json_decref(env);
			free(text);
			free(member);
			free(bpart);
			if (!status.len)
				goto out;
		}
	} else if (x.status == 404 && strcmp(x.code, "NoSuchBucket")) {
		buf_addstr(&status, "none");	/* NoSuchBucketPolicy, ... */
	} else if (x.status == 501 || x.status == 405 ||
		   !strcmp(x.code, "NotImplemented") ||
		   !strcmp(x.code, "XNotImplemented")) {
		buf_printf(&status, "not supported by the server (%s)",
			   x.code[0] ? x.code : "HTTP 501");
	} else if (x.status == 403) {
		/* Reading objects may be allowed where reading the policy is
		 * not: say so, and keep the objects. */
		buf_printf(&status, "not readable (%s)", x.code[0] ? x.code :
			   "HTTP 403");
		log_warn("minio: bucket '%s': its %s is not readable with this "
			 "key (%s); not in the backup", m->bc.bucket, b->sub,
			 x.code[0] ? x.code : "HTTP 403");
	} else {
		goto out;
	}
	err_clear(e);
	json_object_set_new(state, b->file, json_string(buf_str(&status)));
	r = 0;
out:
	s3_xfer_release(&x);
	buf_release(&what);
	buf_release(&status);
	free(q);
	return r;
}

/* ---- the run ------------------------------------------------------------ */

static void drop_live(struct mrun *m)
{
	s3_pool_free(m->pool);
	m->pool = NULL;
	while (m->live)
		obj_free(m->live);
}

static int backup_bucket(struct mrun *m, unsigned jobs, json_t *jb,
			 struct err *e)
{
	struct buf token = BUF_INIT;
	json_t *cfg = json_object();
	int r = -1;

	m->objs = json_array();
	m->count = m->bytes = m->vanished = m->unchecked = 0;
	m->pool = s3_pool_new(jobs);
	if (!m->pool) {
		err_set(e, FX_FAIL, "curl: cannot start transfers");
		goto out;
	}
	do {
		struct s3_object *o = NULL;
		size_t n = 0;

		if (s3_list_page(&m->bc, "", 1000, &token, &o, &n, e) < 0) {
			err_wrap(e, "bucket '%s'", m->bc.bucket);
			goto out;
		}
		for (size_t i = 0; i < n; i++)
			obj_add(m, o[i].key);
		s3_objects_free(o, n);
		/* The next page is listed while `jobs` transfers still run. */
		if (s3_pool_run(m->pool, token.len ? jobs : 0, e) < 0)
			goto out;
	} while (token.len && !m->failed);
	if (m->failed) {
		*e = m->err;
		goto out;
	}
	for (size_t i = 0; i < sizeof(cfgs) / sizeof(cfgs[0]); i++)
		if (save_one(m, &cfgs[i], cfg, e) < 0) {
			err_wrap(e, "bucket '%s'", m->bc.bucket);
			goto out;
		}
	json_object_set_new(jb, "object_count", json_integer((json_int_t)m->count));
	json_object_set_new(jb, "bytes", json_integer((json_int_t)m->bytes));
	if (m->vanished)
		json_object_set_new(jb, "vanished", json_integer(
					    (json_int_t)m->vanished));
	json_object_set_new(jb, "etags_not_md5", json_integer(
				    (json_int_t)m->unchecked));
	json_object_set(jb, "config", cfg);
	json_object_set(jb, "objects", m->objs);
	r = 0;
out:
	drop_live(m);
	json_decref(m->objs);
	m->objs = NULL;
	json_decref(cfg);
	buf_release(&token);
	return r;
}

int minio_backup(struct bk_ctx *ctx, json_t *detail, struct err *e)
{
	const struct conf *c = ctx->conf;
	struct strlist buckets = STRLIST_INIT;
	struct mrun m = { 0 };
	struct s3_conf s3;
	json_t *jbs = json_object(), *failed = json_object();
	unsigned jobs = (unsigned)conf_num(c, "minio", "jobs");
	uint64_t objects = 0, bytes = 0;
	char *url = NULL;
	int r = -1;

	m.ctx = ctx;
	json_object_set_new(detail, "endpoint", json_string(
				    conf_str(c, "minio", "endpoint")));
	json_object_set(detail, "buckets", jbs);
	if (minio_s3_conf(c, ctx->x, &s3, &url, e) < 0)
		goto out;
	conf_list(c, "minio", "buckets", &buckets);
	if (buckets.n == 1 && !strcmp(buckets.v[0], "all")) {
		strlist_release(&buckets);
		if (s3_list_buckets(&s3, &buckets, e) < 0) {
			err_wrap(e, "listing the buckets (buckets = all)");
			goto out;
		}
	}
	/* Every transfer may stream one part at a time. */
	arc_set_streams(ctx->arc, jobs ? jobs : 1);
	for (size_t i = 0; i < buckets.n; i++) {
		json_t *jb = json_object();

		m.bc = s3;
		m.bc.bucket = buckets.v[i];
		if (backup_bucket(&m, jobs ? jobs : 1, jb, e) < 0) {
			/* "buckets" holds what landed (the report's "landed:",
			 * restore --latest --bucket); restore refuses one
			 * named here rather than put back an empty bucket. */
			json_decref(jb);
			json_object_set_new(failed, buckets.v[i],
					    json_string(e->msg) ?:
					    json_string("failed"));
			goto out;
		}
		json_object_set_new(jbs, buckets.v[i], jb);
		objects += m.count;
		bytes += m.bytes;
	}
	if (ctx->summary)
		buf_printf(ctx->summary, "%zu bucket%s, %llu object%s (%llu "
			   "bytes)", buckets.n, buckets.n == 1 ? "" : "s",
			   (unsigned long long)objects, objects == 1 ? "" : "s",
			   (unsigned long long)bytes);
	r = 0;
out:
	/* The buckets before a failed one are good and restorable. */
	ctx->landed = json_object_size(jbs) > 0;
	if (json_object_size(failed))
		json_object_set(detail, "failed_buckets", failed);
	json_decref(failed);
	json_decref(jbs);
	strlist_release(&buckets);
	free(url);
	return r;
}
