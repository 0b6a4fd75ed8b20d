#include "backup/offsite.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/fdio.h"
#include "util/log.h"
#include "util/progress.h"
#include "net/s3.h"
#include "util/seal.h"
#include "backup/retention.h"
#include "conf/conf.h"

struct site {
	struct s3_conf s3;
	char *bucket;
	char *prefix;		/* "" or "a/b/" (with the slash) */
	int sealed;
	unsigned char key[SEAL_KEYBYTES];
};

int offsite_configured(const struct conf *c)
{
	return conf_has_section(c, "offsite");
}

static void site_release(struct site *s)
{
	free(s->bucket);
	free(s->prefix);
	explicit_bzero(s->key, sizeof(s->key));
}

static int site_open(const struct conf *c, struct site *s, struct err *e)
{
	const char *url = conf_str(c, "offsite", "url");
	const char *keyfile = conf_str(c, "offsite", "encrypt_key_file");
	char *prefix = NULL;

	memset(s, 0, sizeof(*s));
	if (!url || !conf_str(c, "offsite", "endpoint") ||
	    !conf_str(c, "offsite", "access_key") ||
	    !conf_str(c, "offsite", "secret_key"))
		return err_set(e, FX_USAGE, "%s: [offsite] needs url, endpoint, "
			       "access_key and secret_key", conf_path(c));
	if (s3_parse_url(url, &s->bucket, &prefix) < 0)
		return err_set(e, FX_USAGE, "%s: [offsite] url '%s' is not "
			       "s3://bucket/prefix", conf_path(c), url);
	s->prefix = *prefix ? xstrfmt("%s/", prefix) : xstrdup("");
	free(prefix);
	s->s3.endpoint = conf_str(c, "offsite", "endpoint");
	s->s3.bucket = s->bucket;
	s->s3.access_key = conf_str(c, "offsite", "access_key");
	s->s3.secret_key = conf_str(c, "offsite", "secret_key");
	s->s3.region = conf_str(c, "offsite", "region");
	s->s3.timeout_ms = conf_num(c, "server", "connect_timeout");
	s->s3.stall_ms = conf_num(c, "server", "keepalive") *
		      conf_num(c, "server", "keepalive_count");
	if (keyfile) {
		if (seal_load_key(keyfile, s->key, e) < 0) {
			site_release(s);
			return -1;
		}
		s->sealed = 1;
	}
	return 0;
}

/* A manifest (or its verify mark) as the object key: sealed when the
 * site is.  One PUT, so the key never holds half of it. */
static int put_json(struct site *s, const char *key, json_t *m,
		    struct err *e)
{
	char *text = json_dumps(m, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	struct buf sealed = BUF_INIT;
	int r;

	if (!text)
		return err_set(e, FX_FAIL, "%s: cannot write the manifest", key);
	if (s->sealed) {
		seal_buffer(s->key, text, strlen(text), &sealed);
		r = s3_put(&s->s3, key, sealed.p, sealed.len, e);
	} else {
		r = s3_put(&s->s3, key, text, strlen(text), e);
	}
	free(text);
	buf_release(&sealed);
	return r;
}

static const char *base_of(const char *path)
{
	const char *b = strrchr(path, '/');

	return b ? b + 1 : path;
}

static ssize_t fd_read(void *ud, void *buf, size_t cap, struct err *e)
{
	int fd = *(int *)ud;
	ssize_t n;

	do {
		n = read(fd, buf, cap);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return err_set(e, FX_FAIL, "read: %s", strerror(errno));
	return n;
}

/* An upload's reader, counted for the progress line. */
struct metered {
	s3_reader read;
	void *ud;
	struct progress pg;
};

static ssize_t metered_read(void *ud, void *buf, size_t cap, struct err *e)
{
	struct metered *m = ud;
	ssize_t n = m->read(m->ud, buf, cap, e);

	if (n > 0)
		progress_add(&m->pg, (uint64_t)n);
	return n;
}

int offsite_upload(const struct conf *c, const char *archive, struct err *e)
{
	struct metered mt = { fd_read, NULL, { 0 } };
	struct stat st;
	struct site s;
	struct buf mkey = BUF_INIT;
	char *akey = NULL, *side = NULL;
	json_t *m = NULL;
	int fd = -1, r = -1;

	if (site_open(c, &s, e) < 0)
		return -1;
	akey = xstrfmt("%s%s%s", s.prefix, base_of(archive), s.sealed ? ".enc" : "");
	side = repo_sidecar_path(archive);
	buf_printf(&mkey, "%s%s%s", s.prefix, base_of(side), s.sealed ? ".enc" : "");
	fd = open(archive, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err_set(e, FX_FAIL, "read %s: %s", archive, strerror(errno));
		goto out;
	}
	progress_start(&mt.pg, "upload", fstat(fd, &st) == 0 ?
		       (uint64_t)st.st_size : 0);
	if (s.sealed) {
		struct seal_reader *sr = seal_reader_new(fd, s.key);

		mt.read = seal_read;
		mt.ud = sr;
		r = s3_upload(&s.s3, akey, metered_read, &mt, e);
		seal_reader_free(sr);
	} else {
		mt.ud = &fd;
		r = s3_upload(&s.s3, akey, metered_read, &mt, e);
	}
	if (r < 0) {
		progress_abort(&mt.pg);
		goto out;
	}
	progress_end(&mt.pg);
	r = -1;
	m = json_load_file(side, 0, NULL);
	if (!m) {
		err_set(e, FX_FAIL, "read %s", side);
		goto out;
	}
	r = put_json(&s, buf_str(&mkey), m, e);
	if (r == 0)
		log_info("uploaded %s to s3://%s/%s", base_of(archive), s.bucket,
			 akey);
out:
	if (fd >= 0)
		close(fd);
	json_decref(m);
	free(akey);
	free(side);
	buf_release(&mkey);
	site_release(&s);
	return r;
}

static int to_buf(void *ud, const void *data, size_t len, struct err *e)
{
	struct buf *b = ud;

	if (b->len + len > (16u << 20))
		return err_set(e, FX_FAIL, "manifest larger than 16 MiB");
	buf_add(b, data, len);
	return 0;
}

static json_t *fetch_manifest(struct site *s, const char *key)
{
	struct buf raw = BUF_INIT, plain = BUF_INIT;
	struct err e = ERR_INIT;
	json_t *m = NULL;

	if (s3_get(&s->s3, key, to_buf, &raw, &e) == 0) {
		if (!s->sealed)
			m = json_loadb(raw.p, raw.len, 0, NULL);
		else if (unseal_buffer(s->key, raw.p, raw.len, &plain, &e) == 0)
			m = json_loadb(plain.p, plain.len, 0, NULL);
	}
	buf_release(&raw);
	buf_release(&plain);
	return m;
}

/* The key of base's manifest on the site (caller frees). */
static char *manifest_key(const struct site *s, const char *base)
{
	size_t sl = strlen(".tar.zst"), bl = strlen(base);

	if (bl > sl && !strcmp(base + bl - sl, ".tar.zst"))
		bl -= sl;
	return xstrfmt("%s%.*s.manifest.json%s", s->prefix, (int)bl, base,
		       s->sealed ? ".enc" : "");
}

json_t *offsite_manifest(const struct conf *c, const char *base)
{
	struct err ignored = ERR_INIT;
	struct site s;
	char *mk;
	json_t *m;

	if (site_open(c, &s, &ignored) < 0)
		return NULL;
	mk = manifest_key(&s, base);
	m = fetch_manifest(&s, mk);
	free(mk);
	site_release(&s);
	return m;
}

int offsite_mark_verified(const struct conf *c, const char *base,
			  const char *error, struct err *e)
{
	struct site s;
	char *mk;
	json_t *m;
	int r = 0;

	if (site_open(c, &s, e) < 0)
		return -1;
	mk = manifest_key(&s, base);
	/* A copy without a readable manifest is counted by no retention
	 * and picked by no --latest already: nothing to mark. */
	m = fetch_manifest(&s, mk);
	if (m) {
		repo_stamp_verify(m, error);
		r = put_json(&s, mk, m, e);
	}
	json_decref(m);
	free(mk);
	site_release(&s);
	return r;
}

static int scan(const struct conf *c, struct site *s, int with_manifests,
		struct repo_entry **out, size_t *n, struct err *e)
{
	const char *name = conf_str(c, "backup", "name");
	const char *suffix = s->sealed ? ".tar.zst.enc" : ".tar.zst";
	size_t pl = strlen(s->prefix), sl = strlen(suffix);
	struct s3_object *o = NULL;
	struct repo_entry *list = NULL;
	size_t no = 0, cap = 0;

	*n = 0;
	if (s3_list(&s->s3, s->prefix, &o, &no, e) < 0)
		return -1;
	for (size_t i = 0; i < no; i++) {
		struct repo_entry *r;
		unsigned seq;
		time_t t;

		if (strncmp(o[i].key, s->prefix, pl) ||
		    repo_parse_name(o[i].key + pl, name, suffix, &t, &seq) < 0)
			continue;
		r = repo_add(&list, n, &cap);
		r->path = xstrdup(o[i].key);
		r->stem = xstrndup(o[i].key, strlen(o[i].key) - sl);
		r->t = t;
		r->seq = seq;
		r->size = o[i].size;
		if (with_manifests) {
			char *mk = xstrfmt("%s.manifest.json%s", r->stem,
					   s->sealed ? ".enc" : "");

			r->manifest = fetch_manifest(s, mk);
			free(mk);
		}
	}
	s3_objects_free(o, no);
	if (*n)
		qsort(list, *n, sizeof(*list), repo_cmp_newest);
	*out = list;
	return 0;
}

int offsite_scan(const struct conf *c, struct repo_entry **out, size_t *n,
		 struct err *e)
{
	struct site s;
	int r;

	if (site_open(c, &s, e) < 0)
		return -1;
	r = scan(c, &s, 1, out, n, e);
	site_release(&s);
	return r;
}

int offsite_names(const struct conf *c, struct strlist *out, struct err *e)
{
	const char *sfx;
	struct s3_object *o = NULL;
	struct site s;
	size_t no = 0, pl;

	if (site_open(c, &s, e) < 0)
		return -1;
	if (s3_list(&s.s3, s.prefix, &o, &no, e) < 0) {
		site_release(&s);
		return -1;
	}
	pl = strlen(s.prefix);
	sfx = s.sealed ? ".tar.zst.enc" : ".tar.zst";
	/* Keys come sorted: an archive's manifest ("...Z.manifest.json")
	 * sorts before its archive ("...Z.tar.zst"), so look it up. */
	for (size_t i = 0; i < no; i++) {
		const char *k = o[i].key + pl;
		size_t kl = strlen(k), sl = strlen(sfx);
		char *mk;
		int found = 0;

		if (kl <= sl || strcmp(k + kl - sl, sfx))
			continue;
		mk = xstrfmt("%s%.*s.manifest.json%s", s.prefix, (int)(kl - sl), k,
			     s.sealed ? ".enc" : "");
		for (size_t j = 0; j < no && !found; j++)
			found = !strcmp(o[j].key, mk);
		if (found)
			strlist_add_take(out, xstrfmt("%.*s.tar.zst", (int)(kl - sl), k));
		free(mk);
	}
	s3_objects_free(o, no);
	site_release(&s);
	return 0;
}

int offsite_prune(const struct conf *c, int dry_run, FILE *out,
		  struct err *e)
{
	struct repo_entry *list = NULL;
	struct retention_item *items;
	struct site s;
	size_t n = 0, gone = 0, odd = 0;
	int r = 0;

	if (site_open(c, &s, e) < 0)
		return -1;
	/* With manifests: retention groups archives by what they hold and
	 * tells partial, failed and unreadable ones apart. */
	if (scan(c, &s, 1, &list, &n, e) < 0) {
		site_release(&s);
		return -1;
	}
	items = retention_plan(c, "offsite", list, n);
	for (size_t i = 0; i < n && r == 0; i++) {
		char *mk, *url = xstrfmt("s3://%s/%s", s.bucket, list[i].path);
		int goes = retention_say(out, &items[i], url, dry_run, &odd);

		free(url);
		if (!goes)
			continue;
		gone++;
		if (dry_run)
			continue;
		/* Archive first: a prune cut off in between leaves a manifest
		 * no listing shows, not an archive without one, which
		 * retention would keep as not known good. */
		mk = xstrfmt("%s.manifest.json%s", list[i].stem, s.sealed ? ".enc" : "");
		r = s3_delete(&s.s3, list[i].path, e);
		if (r == 0)
			r = s3_delete(&s.s3, mk, e);
		free(mk);
	}
	if (r == 0) {
		struct buf also = BUF_INIT;

		retention_odd(&also, odd);
		fprintf(out, "offsite: %zu kept%s, %zu %sdeleted\n", n - gone,
			buf_str(&also), gone, dry_run ? "would be " : "");
		buf_release(&also);
	}
	retention_free(items, n);
	repo_free(list, n);
	site_release(&s);
	return r;
}

static int fd_write(void *ud, const void *buf, size_t len, struct err *e)
{
	if (fd_write_all(*(int *)ud, buf, len) < 0)
		return err_set(e, FX_FAIL, "write: %s", strerror(errno));
	return 0;
}

int offsite_fetch(const struct conf *c, const char *base, int fd,
		  struct err *e)
{
	struct site s;
	char *key;
	int r;

	if (site_open(c, &s, e) < 0)
		return -1;
	key = xstrfmt("%s%s%s", s.prefix, base, s.sealed ? ".enc" : "");
	if (s.sealed) {
		struct seal_writer *w = seal_writer_new(fd, s.key);

		r = s3_get(&s.s3, key, seal_write, w, e);
		if (r == 0)
			r = seal_writer_end(w, e);
		seal_writer_free(w);
	} else {
		r = s3_get(&s.s3, key, fd_write, &fd, e);
	}
	free(key);
	site_release(&s);
	return r;
}

struct offsite_reader {
	const struct conf *conf;
	char *base;
	int wfd, rfd, rc;
	int closed;		/* the reader closed its end (atomic) */
	int ours;		/* the download failed after that */
	struct err e;
	pthread_t tid;
};

static void *reader_main(void *arg)
{
	struct offsite_reader *r = arg;

	r->rc = offsite_fetch(r->conf, r->base, r->wfd, &r->e);
	/* A reader that stopped early (verify found a damaged member) makes
	 * the next write fail: see offsite_reader_finish(). */
	if (r->rc < 0)
		r->ours = __atomic_load_n(&r->closed, __ATOMIC_ACQUIRE);
	close(r->wfd);
	return NULL;
}

int offsite_reader_start(const struct conf *c, const char *base,
			 struct offsite_reader **out, int *fd, struct err *e)
{
	struct offsite_reader *r = xcalloc(1, sizeof(*r));
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0) {
		free(r);
		return err_set(e, FX_FAIL, "pipe: %s", strerror(errno));
	}
	r->conf = c;
	r->base = xstrdup(base);
	r->rfd = p[0];
	r->wfd = p[1];
	if (pthread_create(&r->tid, NULL, reader_main, r) != 0) {
		close(p[0]);
		close(p[1]);
		free(r->base);
		free(r);
		return err_set(e, FX_FAIL, "thread: %s", strerror(errno));
	}
	*fd = p[0];
	*out = r;
	return 0;
}

int offsite_reader_finish(struct offsite_reader *r, int stopped,
			  struct err *e)
{
	int rc;

	__atomic_store_n(&r->closed, 1, __ATOMIC_RELEASE);
	close(r->rfd);
	pthread_join(r->tid, NULL);
	rc = stopped && r->ours ? 0 : r->rc;
	if (rc < 0)
		*e = r->e;
	free(r->base);
	free(r);
	return rc < 0 ? -1 : 0;
}
