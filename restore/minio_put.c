/*
 * The minio restorer's uploads.  Nothing reaches the store before the
 * member that carries it matched the manifest:
 *
 *   an object of one member is read into memory, and PUT once checked();
 *   an object of several members (up to ONE_PUT_MAX) is staged in an
 *   unlinked temporary file, hashed as it comes, and PUT from the file
 *   once its last member is checked;
 *   a bigger one goes multipart: each part (PART_MIN or more, staged the
 *   same way) is sent once the members that filled it are checked, and the
 *   upload is completed after its last part; an upload left open by a
 *   failure is aborted, so no object appears half-made.
 *
 * An object is visible only once whole, so a failure leaves no object with
 * unchecked bytes.  The uploads run in a pool ([minio] jobs at once) while
 * the archive is read; the bodies held in memory are bounded by MEM_MAX.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/fdio.h"
#include "util/log.h"
#include "util/md5.h"
#include "util/sha256.h"
#include "restore/minio_restore.h"

#define ONE_PUT_MAX (64ull << 20)
#define PART_MIN ((uint64_t)S3_PART)
#define MAX_PARTS 9000u
#define MEM_MAX (64u << 20)
#define CHUNK (256u * 1024)

/* What is staged for one PUT: in memory, or in a temporary file. */
struct stage {
	struct buf mem;
	int fd;
	uint64_t len;
	struct sha256 *sha;
	struct md5 *md5;
};

struct mr_obj {
	struct mr_up *u;
	struct mr_bucket *b;
	struct mr_obj *prev, *next;
	const char *key;
	uint64_t size, read;
	unsigned nparts, seen;	/* members beyond the first; checked */
	struct strlist hdrs;
	struct stage st;	/* being filled */
	int staged;		/* st holds a member not yet checked */
	/* multipart */
	uint64_t part_size;
	char *upload_id;
	struct strlist etags;	/* by part number - 1 */
	unsigned parts, parts_out;
	int last_sent;
};

/* One PUT in the pool. */
struct mr_put {
	struct s3_xfer x;
	struct mr_put *prev, *next;
	struct mr_up *u;
	struct mr_obj *o;
	unsigned part;		/* 0: the whole object */
	char *query;
	struct stage st;
	struct s3_file_body fb;
	struct strlist hdrs;
};

static void stage_init(struct stage *s)
{
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}

static void stage_release(struct stage *s)
{
	buf_release(&s->mem);
	if (s->fd >= 0)
		close(s->fd);
	sha256_free(s->sha);
	md5_free(s->md5);
	stage_init(s);
}

/* A temporary file no one else can open, gone when closed. */
static int stage_file(struct stage *s, struct err *e)
{
	const char *tmp = getenv("TMPDIR");
	char *path = xstrfmt("%s/ferry-s3-XXXXXX", tmp && *tmp ? tmp : "/tmp");

	s->fd = mkstemp(path);
	if (s->fd < 0) {
		err_set(e, FX_FAIL, "cannot create a temporary file in %s: %s",
			tmp && *tmp ? tmp : "/tmp", strerror(errno));
		free(path);
		return -1;
	}
	unlink(path);
	free(path);
	s->sha = sha256_new();
	s->md5 = md5_new();
	return 0;
}

static void up_fail(struct mr_up *u, struct err *e)
{
	if (u->failed)
		return;
	u->failed = 1;
	u->err = *e;
	if (u->pool)
		s3_pool_stop(u->pool);
}

static int up_failed(struct mr_up *u, struct err *e)
{
	if (!u->failed)
		return 0;
	*e = u->err;
	return -1;
}

int mr_up_init(struct mr_up *u, unsigned jobs, struct err *e)
{
	memset(u, 0, sizeof(*u));
	u->jobs = jobs ? jobs : 1;
	u->pool = s3_pool_new(u->jobs);
	if (!u->pool)
		return err_set(e, FX_FAIL, "curl: cannot start transfers");
	u->chunk = xmalloc(CHUNK);
	return 0;
}

static void put_free(struct mr_put *p);

static void obj_free(struct mr_obj *o)
{
	if (o->prev)
		o->prev->next = o->next;
	else
		o->u->live = o->next;
	if (o->next)
		o->next->prev = o->prev;
	if (o->upload_id)
		s3_mpu_abort(&o->b->c, o->key, o->upload_id);
	free(o->upload_id);
	strlist_release(&o->hdrs);
	strlist_release(&o->etags);
	stage_release(&o->st);
	free(o);
}

void mr_up_release(struct mr_up *u)
{
	/* The pool first: it may still hold our PUTs' handles. */
	s3_pool_free(u->pool);
	u->pool = NULL;
	while (u->puts)
		put_free(u->puts);
	while (u->live)
		obj_free(u->live);
	free(u->chunk);
	u->chunk = NULL;
}

int mr_obj_headers(json_t *j, struct strlist *out, struct err *e)
{
	static const char *const std[][2] = {
		{ "content_type", "Content-Type" },
		{ "cache_control", "Cache-Control" },
		{ "content_encoding", "Content-Encoding" },
		{ "content_disposition", "Content-Disposition" },
		{ "content_language", "Content-Language" },
		{ "expires", "Expires" },
	};
	json_t *meta = json_object_get(j, "metadata"), *v;
	const char *k;

	for (size_t i = 0; i < sizeof(std) / sizeof(std[0]); i++) {
		const char *s = json_string_value(json_object_get(j, std[i][0]));

		/* curl would send a form content type of its own: an object
		 * that had none gets S3's default. */
		if (!s && i == 0)
			s = "application/octet-stream";
		if (s)
			strlist_add_take(out, xstrfmt("%s: %s", std[i][1], s));
	}
	json_object_foreach(meta, k, v) {
		if (!json_is_string(v) || !*k || strpbrk(k, ": \t\r\n"))
			return err_set(e, FX_VERIFY, "object '%s': metadata "
				       "'%s' is malformed in the manifest",
				       json_string_value(json_object_get(j, "key")),
				       k);
		strlist_add_take(out, xstrfmt("x-amz-meta-%s: %s", k,
					      json_string_value(v)));
	}
	return 0;
}

int mr_obj_new(struct mr_up *u, struct mr_bucket *b, json_t *j,
	       unsigned nparts, struct mr_obj **out, struct err *e)
{
	struct mr_obj *o = xcalloc(1, sizeof(*o));

	o->u = u;
	o->b = b;
	o->key = json_string_value(json_object_get(j, "key"));
	o->size = (uint64_t)json_integer_value(json_object_get(j, "size"));
	o->nparts = nparts;
	stage_init(&o->st);
	/* Parts of at least PART_MIN, and few enough for S3 (10,000). */
	o->part_size = o->size / MAX_PARTS + 1 > PART_MIN ?
		       o->size / MAX_PARTS + 1 : PART_MIN;
	o->next = u->live;
	if (u->live)
		u->live->prev = o;
	u->live = o;
	*out = o;
	if (!o->key)
		return err_set(e, FX_VERIFY, "an object of bucket '%s' has no key "
			       "in the manifest", b->src);
	return mr_obj_headers(j, &o->hdrs, e);
}

int mr_obj_read(struct mr_up *u, struct mr_obj *o, struct rs_member *m,
		struct err *e)
{
	ssize_t n;

	if (up_failed(u, e) < 0)
		return -1;
	if (o->nparts && o->st.fd < 0 && stage_file(&o->st, e) < 0)
		return -1;
	o->staged = 1;
	while ((n = rs_read(m, u->chunk, CHUNK, e)) > 0) {
		if (o->read + (uint64_t)n > o->size)
			return err_set(e, FX_VERIFY, "member '%s' holds more than "
				       "object '%s''s %llu bytes", m->name, o->key,
				       (unsigned long long)o->size);
		o->read += (uint64_t)n;
		o->st.len += (uint64_t)n;
		if (o->st.fd < 0) {
			buf_add(&o->st.mem, u->chunk, (size_t)n);
			continue;
		}
		if (fd_write_all(o->st.fd, u->chunk, (size_t)n) < 0)
			return err_set(e, FX_FAIL, "writing a temporary file: %s",
				       strerror(errno));
		sha256_update(o->st.sha, u->chunk, (size_t)n);
		md5_update(o->st.md5, u->chunk, (size_t)n);
		/* Uploads go on while a big member is read. */
		if (s3_pool_poll(u->pool, e) < 0 || up_failed(u, e) < 0)
			return -1;
	}
	return n < 0 ? -1 : 0;
}

static void put_free(struct mr_put *p)
{
	struct mr_up *u = p->u;

	if (p->prev)
		p->prev->next = p->next;
	else
		u->puts = p->next;
	if (p->next)
		p->next->prev = p->prev;
	stage_release(&p->st);
	strlist_release(&p->hdrs);
	s3_xfer_release(&p->x);
	free(p->query);
	free(p);
}

static void object_done(struct mr_obj *o)
{
	o->b->count++;
	o->b->bytes += o->size;
	obj_free(o);
}

static void put_done(struct s3_xfer *x, int rc, struct err *e)
{
	struct mr_put *p = x->owner;
	struct mr_obj *o = p->o;
	struct mr_up *u = o->u;
	struct err ce = ERR_INIT;

	if (p->st.fd < 0)
		u->mem -= p->st.mem.len;
	if (rc < 0) {
		err_wrap(e, "object '%s'", o->key);
		up_fail(u, e);
	} else if (!p->part) {
		object_done(o);
	} else {
		free(o->etags.v[p->part - 1]);
		o->etags.v[p->part - 1] = xstrdup(x->meta.etag);
		o->parts_out--;
		if (o->last_sent && !o->parts_out) {
			/* Every part is there: the object appears now. */
			if (s3_mpu_complete(&o->b->c, o->key, o->upload_id,
					    &o->etags, &ce) < 0) {
				err_wrap(&ce, "object '%s'", o->key);
				up_fail(u, &ce);
			} else {
				free(o->upload_id);
				o->upload_id = NULL;
				object_done(o);
			}
		}
	}
	put_free(p);
}

/* Hands the staged body over to a PUT (the whole object, or part n). */
static int send(struct mr_up *u, struct mr_obj *o, unsigned part,
		struct err *e)
{
	struct mr_put *p = xcalloc(1, sizeof(*p));
	unsigned char d[16];
	char b64[25];

	p->u = u;
	p->o = o;
	p->part = part;
	p->st = o->st;
	stage_init(&o->st);
	p->x.c = &o->b->c;
	p->x.method = "PUT";
	p->x.key = o->key;
	p->x.done = put_done;
	p->x.owner = p;
	if (p->st.fd < 0) {
		md5_digest(p->st.mem.p ? p->st.mem.p : "", p->st.mem.len, d);
		p->x.body = p->st.mem.p ? p->st.mem.p : "";
		p->x.len = p->st.mem.len;
		u->mem += p->st.mem.len;
	} else {
		md5_final(p->st.md5, d);
		p->fb.fd = p->st.fd;
		p->fb.off = 0;
		p->fb.len = p->st.len;
		sha256_final_hex(p->st.sha, p->fb.sha256);
		p->x.file = &p->fb;
	}
	/* The store checks the body against its MD5 too. */
	md5_base64(d, b64);
	strlist_add_take(&p->hdrs, xstrfmt("Content-MD5: %s", b64));
	if (part) {
		p->query = s3_mpu_part_query(part, o->upload_id);
		p->x.query = p->query;
	} else {
		for (size_t i = 0; i < o->hdrs.n; i++)
			strlist_add(&p->hdrs, o->hdrs.v[i]);
	}
	p->x.headers = &p->hdrs;
	p->next = u->puts;
	if (u->puts)
		u->puts->prev = p;
	u->puts = p;
	s3_pool_add(u->pool, &p->x);
	(void)e;
	return 0;
}

/* Keeps the pool's backlog and the bodies held in memory bounded. */
static int throttle(struct mr_up *u, struct err *e)
{
	while (!u->failed && s3_pool_pending(u->pool) &&
	       (s3_pool_pending(u->pool) > 2 * (size_t)u->jobs ||
		u->mem > MEM_MAX))
		if (s3_pool_run(u->pool, s3_pool_pending(u->pool) - 1, e) < 0)
			return -1;
	return up_failed(u, e);
}

int mr_obj_checked(struct mr_up *u, struct mr_obj *o, struct err *e)
{
	int last;

	if (!o->staged)
		return 0;
	o->staged = 0;
	last = o->seen++ == o->nparts;
	if (o->size <= ONE_PUT_MAX) {
		if (last && send(u, o, 0, e) < 0)
			return -1;
		return throttle(u, e);
	}
	if (o->st.len < o->part_size && !last)
		return throttle(u, e);
	if (!o->upload_id &&
	    s3_mpu_begin(&o->b->c, o->key, &o->hdrs, &o->upload_id, e) < 0) {
		err_wrap(e, "object '%s'", o->key);
		return -1;
	}
	o->parts++;
	strlist_add(&o->etags, "");
	o->parts_out++;
	o->last_sent = last;
	if (send(u, o, o->parts, e) < 0)
		return -1;
	return throttle(u, e);
}

int mr_up_finish(struct mr_up *u, struct err *e)
{
	if (s3_pool_run(u->pool, 0, e) < 0)
		return -1;
	return up_failed(u, e);
}
