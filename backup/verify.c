#include "backup/verify.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/buf.h"
#include "util/progress.h"
#include "util/sha256.h"
#include "backup/archive.h"
#include "backup/manifest.h"

#define MANIFEST_MAX (64u << 20)
#define CHUNK (256u * 1024)

struct seen {
	char *name;
	uint64_t size;
	char sha256[65];
};

int verify_safe_name(const char *name)
{
	const char *p = name;

	if (!*name || *name == '/')
		return 0;
	for (const unsigned char *c = (const unsigned char *)name; *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			return 0;
	while (*p) {
		size_t n = strcspn(p, "/");

		if (n == 0 || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		p += n;
		if (*p == '/')
			p++;
	}
	return 1;
}

static int read_member(struct archive *r, struct seen *s, struct buf *keep,
		       const char *path, struct progress *pg, struct err *e)
{
	struct sha256 *md = sha256_new();
	unsigned char *chunk = xmalloc(CHUNK);
	la_ssize_t n;
	int rc = 0;

	while ((n = archive_read_data(r, chunk, CHUNK)) > 0) {
		sha256_update(md, chunk, (size_t)n);
		s->size += (uint64_t)n;
		progress_update(pg, (uint64_t)archive_filter_bytes(r, -1));
		if (keep && buf_add_capped(keep, chunk, (size_t)n) < 0) {
			rc = err_set(e, FX_VERIFY, "%s: manifest larger than "
				     "%u MiB", path, MANIFEST_MAX >> 20);
			break;
		}
	}
	if (n < 0) {
		char *where = xstrfmt("in member '%s'", s->name);

		rc = verify_damaged(r, path, where, e);
		free(where);
	}
	sha256_final_hex(md, s->sha256);
	sha256_free(md);
	free(chunk);
	return rc;
}

static int compare(json_t *m, struct seen *v, size_t n, const char *path,
		   struct err *e)
{
	json_t *members = json_object_get(m, "members");
	size_t want = json_array_size(members);

	for (size_t i = 0; i < want || i < n; i++) {
		json_t *it = json_array_get(members, i);
		const char *name = json_string_value(json_object_get(it, "name"));

		if (i >= n)
			return err_set(e, FX_VERIFY, "%s: member '%s' is missing",
				       path, name);
		if (i >= want || strcmp(name, v[i].name)) {
			for (size_t j = 0; j < want; j++)
				if (!strcmp(json_string_value(json_object_get(
					json_array_get(members, j), "name")),
					v[i].name))
					return err_set(e, FX_VERIFY, "%s: member "
						"'%s' is out of order or '%s' is "
						"missing", path, v[i].name,
						name ? name : "?");
			return err_set(e, FX_VERIFY, "%s: unexpected member '%s' "
				       "(not in the manifest)", path, v[i].name);
		}
		if ((uint64_t)json_integer_value(json_object_get(it, "size")) !=
		    v[i].size)
			return err_set(e, FX_VERIFY, "%s: member '%s' has %llu "
				       "bytes, the manifest says %lld", path, name,
				       (unsigned long long)v[i].size,
				       (long long)json_integer_value(
					       json_object_get(it, "size")));
		if (strcmp(json_string_value(json_object_get(it, "sha256")),
			   v[i].sha256))
			return err_set(e, FX_VERIFY, "%s: member '%s' does not "
				       "match its SHA-256", path, name);
	}
	return 0;
}

static int verify_open(struct archive *r, const char *path, uint64_t total,
		       json_t **manifest, struct verify_result *res,
		       struct err *e);

static struct archive *reader(void)
{
	struct archive *r = archive_read_new();

	archive_read_support_filter_zstd(r);
	archive_read_support_format_tar(r);
	return r;
}

int verify_damaged(struct archive *r, const char *label, const char *where,
		   struct err *e)
{
	const char *why = archive_error_string(r);

	/* libarchive recognises zstd by its magic and tar by its header: a
	 * file that is neither is not ours; anything else is damage. */
	if (why && strstr(why, "Unrecognized archive format"))
		return err_set(e, FX_VERIFY, "%s: not a ferry archive (not a "
			       "zstd-compressed tar)", label);
	return err_set(e, FX_VERIFY, "%s: damaged at byte %lld (%s): %s", label,
		       (long long)archive_filter_bytes(r, -1), where,
		       why ? why : "read error");
}

/* Checks the result of archive_read_open*() and hands over to verify_open(). */
static int opened(struct archive *r, int rc, const char *label,
		  uint64_t total, json_t **manifest, struct verify_result *res,
		  struct err *e)
{
	if (rc != ARCHIVE_OK) {
		memset(res, 0, sizeof(*res));
		verify_damaged(r, label, "at the start", e);
		archive_read_free(r);
		return -1;
	}
	return verify_open(r, label, total, manifest, res, e);
}

int verify_archive(const char *path, json_t **manifest,
		   struct verify_result *res, struct err *e)
{
	struct archive *r = reader();
	struct stat st;

	memset(res, 0, sizeof(*res));
	return opened(r, archive_read_open_filename(r, path, CHUNK), path,
		      stat(path, &st) == 0 ? (uint64_t)st.st_size : 0,
		      manifest, res, e);
}

int verify_fd(int fd, const char *label, json_t **manifest,
	      struct verify_result *res, struct err *e)
{
	struct archive *r = reader();

	memset(res, 0, sizeof(*res));
	return opened(r, archive_read_open_fd(r, fd, CHUNK), label, 0,
		      manifest, res, e);
}

/* Consumes (frees) r.  total: the file's size when known (progress). */
static int verify_open(struct archive *r, const char *path, uint64_t total,
		       json_t **manifest, struct verify_result *res,
		       struct err *e)
{
	struct progress pg;

	struct archive_entry *ent;
	struct buf mtext = BUF_LIMITED(MANIFEST_MAX);
	struct seen *v = NULL;
	size_t n = 0, cap = 0;
	json_t *m = NULL;
	json_error_t jerr;
	int got_manifest = 0, rc = -1, h;

	memset(res, 0, sizeof(*res));
	progress_start(&pg, "verify", total);
	while ((h = archive_read_next_header(r, &ent)) != ARCHIVE_EOF) {
		const char *name;
		int is_manifest;

		if (h < ARCHIVE_WARN) {
			char *where = n ? xstrfmt("after member '%s'",
						  v[n - 1].name) :
				xstrdup("at the start");

			verify_damaged(r, path, where, e);
			free(where);
			goto out;
		}
		name = archive_entry_pathname_utf8(ent);
		if (!name)
			name = archive_entry_pathname(ent);
		if (!name || !verify_safe_name(name) ||
		    archive_entry_filetype(ent) != AE_IFREG) {
			err_set(e, FX_VERIFY, "%s: unsafe or unexpected member "
				"'%s'", path, name ? name : "(no name)");
			goto out;
		}
		if (got_manifest) {
			err_set(e, FX_VERIFY, "%s: member '%s' after the manifest",
				path, name);
			goto out;
		}
		is_manifest = !strcmp(name, MANIFEST_NAME);
		if (is_manifest) {
			struct seen ms = { (char *)name, 0, { 0 } };

			if (read_member(r, &ms, &mtext, path, &pg, e) < 0)
				goto out;
			got_manifest = 1;
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			v = xrealloc(v, cap * sizeof(*v));
		}
		memset(&v[n], 0, sizeof(v[n]));
		v[n].name = xstrdup(name);
		n++;
		if (read_member(r, &v[n - 1], NULL, path, &pg, e) < 0)
			goto out;
		res->bytes += v[n - 1].size;
	}
	if (!got_manifest) {
		err_set(e, FX_VERIFY, "%s: no %s (truncated, or not a ferry "
			"archive)", path, MANIFEST_NAME);
		goto out;
	}
	m = json_loadb(buf_str(&mtext), mtext.len, 0, &jerr);
	if (!m) {
		err_set(e, FX_VERIFY, "%s: manifest is not JSON: %s", path,
			jerr.text);
		goto out;
	}
	if (manifest_check(m, path, e) < 0 || compare(m, v, n, path, e) < 0)
		goto out;
	res->members = n;
	rc = 0;
out:
	if (rc == 0)
		progress_end(&pg);
	else
		progress_abort(&pg);
	if (rc == 0 && manifest)
		*manifest = json_incref(m);
	json_decref(m);
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
	buf_release(&mtext);
	archive_read_free(r);
	return rc;
}
