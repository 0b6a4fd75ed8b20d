#include "backup/repo.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup/manifest.h"
#include "conf/conf.h"
#include "util/buf.h"
#include "util/jtext.h"
#include "util/fdio.h"
#include "util/log.h"
#include "util/value.h"

#define SUFFIX ".tar.zst"

static char *beside(const char *archive, const char *ext)
{
	size_t n = strlen(archive), sl = strlen(SUFFIX);

	if (n >= sl && !strcmp(archive + n - sl, SUFFIX))
		n -= sl;
	return xstrfmt("%.*s%s", (int)n, archive, ext);
}

char *repo_sidecar_path(const char *archive)
{
	return beside(archive, ".manifest.json");
}

char *repo_verify_path(const char *archive)
{
	return beside(archive, ".verify.json");
}

const char *repo_base(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

char *repo_archive_name(const struct repo_entry *r)
{
	return xstrfmt("%s" SUFFIX, repo_base(r->stem));
}

int repo_scan_conf(const struct conf *c, struct repo_entry **out, size_t *n,
		   struct err *e)
{
	return repo_scan(conf_str(c, "backup", "dir"),
			 conf_str(c, "backup", "name"), out, n, e);
}

void repo_stamp(time_t t, char out[17])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

int repo_parse_stamp(const char *s, time_t *t)
{
	struct tm tm = { 0 };
	const char *end;

	if (strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
		return -1;
	for (int i = 0; i < 15; i++)
		if (i != 8 && (s[i] < '0' || s[i] > '9'))
			return -1;
	end = strptime(s, "%Y%m%dT%H%M%SZ", &tm);
	if (!end || *end)
		return -1;
	*t = timegm(&tm);
	return 0;
}

int repo_parse_name(const char *file, const char *name, const char *suffix,
		    time_t *t, unsigned *seq)
{
	size_t fl = strlen(file), nl = strlen(name), sl = strlen(suffix);
	const char *rest;
	char stamp[17];
	long long n = 1;

	if (fl < nl + 1 + 16 + sl || strncmp(file, name, nl) ||
	    file[nl] != '-' || strcmp(file + fl - sl, suffix))
		return -1;
	memcpy(stamp, file + nl + 1, 16);
	stamp[16] = '\0';
	rest = file + nl + 1 + 16;
	if (rest != file + fl - sl) {
		char num[8];
		size_t k = (size_t)(file + fl - sl - rest);

		/* "-N" with N from 2, no leading zero */
		if (k < 2 || k > 6 || rest[0] != '-' || rest[1] == '0')
			return -1;
		memcpy(num, rest + 1, k - 1);
		num[k - 1] = '\0';
		for (size_t i = 0; i + 1 < k; i++)
			if (num[i] < '0' || num[i] > '9')
				return -1;
		if (value_int(num, 2, 99999, &n) < 0)
			return -1;
	}
	if (repo_parse_stamp(stamp, t) < 0)
		return -1;
	*seq = (unsigned)n;
	return 0;
}

char *repo_new_stem(const char *dir, const char *name, time_t t)
{
	char stamp[17];

	repo_stamp(t, stamp);
	for (unsigned n = 1;; n++) {
		char *stem = n == 1 ? xstrfmt("%s/%s-%s", dir, name, stamp) :
			xstrfmt("%s/%s-%s-%u", dir, name, stamp, n);
		char *arc = xstrfmt("%s%s", stem, SUFFIX);
		char *side = repo_sidecar_path(stem);
		char *rec = repo_verify_path(stem);
		int taken = access(arc, F_OK) == 0 || access(side, F_OK) == 0 ||
			    access(rec, F_OK) == 0;

		free(arc);
		free(side);
		free(rec);
		if (!taken)
			return stem;
		free(stem);
	}
}

int repo_resolve(const struct conf *c, const char *arg, char **path,
		 struct err *e)
{
	struct repo_entry *list = NULL;
	size_t n = 0;
	int rc;

	if (access(arg, F_OK) == 0) {
		*path = xstrdup(arg);
		return 0;
	}
	if (strchr(arg, '/') || !c)
		return err_set(e, FX_FAIL, "%s: no such archive", arg);
	if (repo_scan_conf(c, &list, &n, e) < 0)
		return -1;
	*path = NULL;
	for (size_t i = 0; i < n && !*path; i++) {
		const char *b = repo_base(list[i].path);
		size_t bl = strlen(b) - strlen(SUFFIX);

		if (!strcmp(b, arg) || (strlen(arg) == bl && !strncmp(b, arg, bl)))
			*path = xstrdup(list[i].path);
	}
	rc = *path ? 0 : err_set(e, FX_FAIL, "%s: no such archive in %s", arg,
				 conf_str(c, "backup", "dir"));
	repo_free(list, n);
	return rc;
}

struct repo_entry *repo_add(struct repo_entry **list, size_t *n, size_t *cap)
{
	struct repo_entry *r;

	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		*list = xrealloc(*list, *cap * sizeof(**list));
	}
	r = &(*list)[(*n)++];
	memset(r, 0, sizeof(*r));
	return r;
}

int repo_cmp_newest(const void *a, const void *b)
{
	const struct repo_entry *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? 1 : -1;
	if (x->seq != y->seq)
		return x->seq < y->seq ? 1 : -1;
	return strcmp(y->path, x->path);
}

/* The verify record of an archive without a manifest, when it is about
 * this very file: one left by an archive deleted by hand says nothing of
 * another that later takes its name. */
static json_t *load_record(const struct repo_entry *r)
{
	char *path = repo_verify_path(r->stem);
	json_t *v = json_load_file(path, 0, NULL);

	free(path);
	if (v && (!json_is_object(v) ||
		  json_integer_value(json_object_get(v, "size")) !=
		  (json_int_t)r->size)) {
		json_decref(v);
		v = NULL;
	}
	return v;
}

int repo_scan(const char *dir, const char *name, struct repo_entry **out,
	      size_t *n, struct err *e)
{
	size_t cap = 0;
	struct repo_entry *list = NULL;
	struct dirent *d;
	DIR *dp = opendir(dir);

	*n = 0;
	if (!dp) {
		if (errno == ENOENT) {
			*out = NULL;
			return 0;
		}
		return err_set(e, FX_FAIL, "read %s: %s", dir, strerror(errno));
	}
	while ((d = readdir(dp))) {
		const char *f = d->d_name;
		struct repo_entry *r;
		struct stat st;
		unsigned seq;
		time_t t;
		char *mpath;

		if (repo_parse_name(f, name, SUFFIX, &t, &seq) < 0)
			continue;
		r = repo_add(&list, n, &cap);
		r->path = xstrfmt("%s/%s", dir, f);
		r->stem = xstrndup(r->path, strlen(r->path) - strlen(SUFFIX));
		r->t = t;
		r->seq = seq;
		if (stat(r->path, &st) == 0)
			r->size = (uint64_t)st.st_size;
		mpath = repo_sidecar_path(r->stem);
		r->manifest = json_load_file(mpath, 0, NULL);
		free(mpath);
		if (!r->manifest)
			r->verify = load_record(r);
	}
	closedir(dp);
	if (*n)
		qsort(list, *n, sizeof(*list), repo_cmp_newest);
	*out = list;
	return 0;
}

void repo_free(struct repo_entry *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(list[i].path);
		free(list[i].stem);
		json_decref(list[i].manifest);
		json_decref(list[i].verify);
	}
	free(list);
}

int repo_sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r;

	if (fd < 0)
		return -1;
	r = fsync(fd);
	close(fd);
	return r;
}

int repo_write_file(const char *path, const void *data, size_t len,
		    struct err *e)
{
	char *tmp = xstrfmt("%s.tmp-%ld", path, (long)getpid());
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	const char *p = data;
	int fd, r = -1;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		err_set(e, FX_FAIL, "write %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (fd_write_all(fd, p, len) < 0) {
		err_set(e, FX_FAIL, "write %s: %s", path, strerror(errno));
		close(fd);
		unlink(tmp);
		goto out;
	}
	if (fd_publish(fd, tmp, path, e) < 0)
		goto out;
	if (slash) {
		*slash = '\0';
		if (repo_sync_dir(*dir ? dir : "/") < 0) {
			/* The file is whole under its name; only its survival of
			 * a crash is in doubt. */
			log_warn("fsync %s: %s", *dir ? dir : "/", strerror(errno));
		}
	}
	r = 0;
out:
	free(tmp);
	free(dir);
	return r;
}

/* Writes m (best effort: a record that cannot be written is only lost). */
static void write_json(const char *path, json_t *m)
{
	struct err ignored = ERR_INIT;
	char *text = json_dumps(m, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	if (text && repo_write_file(path, text, strlen(text), &ignored) < 0)
		err_clear(&ignored);
	free(text);
}

void repo_stamp_verify(json_t *m, const char *error)
{
	char when[21];

	manifest_time(time(NULL), when);
	json_object_set_new(m, "verified", json_string(when));
	if (error) {
		/* A damaged archive's member names may be any bytes, which
		 * JSON cannot hold: the failure is recorded all the same. */
		json_object_set_new(m, "verify_error", jtext_new(error));
	} else {
		json_object_del(m, "verify_error");
	}
}

void repo_mark_verified(const char *archive, const char *error, int ours,
			json_t *found)
{
	char *side = repo_sidecar_path(archive);
	char *rec = repo_verify_path(archive);
	json_t *m = json_load_file(side, 0, NULL);
	struct stat st;

	if (m) {
		repo_stamp_verify(m, error);
		write_json(side, m);
	} else if (ours && !error && json_is_object(found)) {
		/* It passed: the manifest inside it is the one the sidecar
		 * lost, now checked against every member. */
		m = json_deep_copy(found);
		repo_stamp_verify(m, NULL);
		write_json(side, m);
		unlink(rec);
	} else if (ours && stat(archive, &st) == 0) {
		/* No sidecar to carry the mark (a bare or damaged file): a
		 * record of its own, for list and retention, that leaves
		 * restore's reading of sidecars alone. */
		m = json_pack("{s:I}", "size", (json_int_t)st.st_size);
		repo_stamp_verify(m, error);
		write_json(rec, m);
	}
	json_decref(m);
	free(side);
	free(rec);
}

static const char *verify_field(const struct repo_entry *r, const char *key)
{
	const char *v = json_string_value(json_object_get(r->manifest, key));

	return v || r->manifest ? v :
		json_string_value(json_object_get(r->verify, key));
}

const char *repo_verify_error(const struct repo_entry *r)
{
	return verify_field(r, "verify_error");
}

const char *repo_verified(const struct repo_entry *r)
{
	return verify_field(r, "verified");
}

int repo_owns(const struct conf *c, const char *path)
{
	const char *dir = c ? conf_str(c, "backup", "dir") : NULL;
	char *parent = xstrdup(path), *slash = strrchr(parent, '/');
	struct stat a, b;
	unsigned seq;
	time_t t;
	int r = 0;

	if (slash)
		*slash = '\0';
	if (dir && conf_str(c, "backup", "name") &&
	    repo_parse_name(repo_base(path), conf_str(c, "backup", "name"),
			    SUFFIX, &t, &seq) == 0 &&
	    stat(slash ? (*parent ? parent : "/") : ".", &a) == 0 &&
	    stat(dir, &b) == 0)
		r = a.st_dev == b.st_dev && a.st_ino == b.st_ino;
	free(parent);
	return r;
}
