#include "backup/verify.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/progress.h"
#include "util/sha256.h"
#include "backup/archive.h"
#include "backup/manifest.h"
#include "backup/repo.h"

#define MANIFEST_MAX (64u << 20)
#define CHUNK (256u * 1024)
/* The decoder is fed this much at a time, so the count of bytes fed says
 * where decoding failed to within a few KiB (zstd still reads a whole
 * block, at most 128 KiB, before it can tell). */
#define FEED 4096u

struct seen {
	char *name;
	uint64_t size;
	char sha256[65];
	int64_t tar_at;		/* its header's offset in the tar */
	uint64_t fed_by;	/* compressed bytes fed when it was read */
};

/* The compressed input, read by our own callback: libarchive forgets its
 * position once a failed open has closed its filters, this count does not. */
struct src {
	int fd;
	unsigned char *buf;
	size_t len, off;	/* bytes in buf, bytes of them handed out */
	uint64_t fed;		/* handed to the decoder so far */
	uint64_t total;		/* the file's size, 0 for a stream */
};

static la_ssize_t src_read(struct archive *r, void *ud, const void **out)
{
	struct src *s = ud;
	size_t n;

	if (s->off == s->len) {
		ssize_t got;

		do
			got = read(s->fd, s->buf, CHUNK);
		while (got < 0 && errno == EINTR);
		if (got < 0) {
			archive_set_error(r, errno, "read: %s", strerror(errno));
			return -1;
		}
		s->len = (size_t)got;
		s->off = 0;
		if (got == 0)
			return 0;
	}
	n = s->len - s->off < FEED ? s->len - s->off : FEED;
	*out = s->buf + s->off;
	s->off += n;
	s->fed += n;
	return (la_ssize_t)n;
}

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

static int damaged(struct archive *r, const struct src *in, const char *label,
		   const char *where, struct err *e);

static int read_member(struct archive *r, struct src *in, struct seen *s,
		       struct buf *keep, const char *path, struct progress *pg,
		       struct err *e)
{
	struct sha256 *md = sha256_new();
	unsigned char *chunk = xmalloc(CHUNK);
	la_ssize_t n;
	int rc = 0;

	while ((n = archive_read_data(r, chunk, CHUNK)) > 0) {
		sha256_update(md, chunk, (size_t)n);
		s->size += (uint64_t)n;
		progress_update(pg, in->fed);
		if (keep && buf_add_capped(keep, chunk, (size_t)n) < 0) {
			rc = err_set(e, FX_VERIFY, "%s: manifest larger than "
				     "%u MiB", path, MANIFEST_MAX >> 20);
			break;
		}
	}
	if (n < 0) {
		char *where = xstrfmt("in member '%s'", s->name);

		rc = damaged(r, in, path, where, e);
		free(where);
	}
	s->fed_by = in->fed;
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
			return err_set(e, FX_VERIFY, "%s: member '%s' (at tar "
				       "offset %lld, read by compressed byte %llu) "
				       "has %llu bytes, the manifest says %lld",
				       path, name, (long long)v[i].tar_at,
				       (unsigned long long)v[i].fed_by,
				       (unsigned long long)v[i].size,
				       (long long)json_integer_value(
					       json_object_get(it, "size")));
		if (strcmp(json_string_value(json_object_get(it, "sha256")),
			   v[i].sha256))
			return err_set(e, FX_VERIFY, "%s: member '%s' (at tar "
				       "offset %lld, read by compressed byte %llu) "
				       "does not match its SHA-256", path, name,
				       (long long)v[i].tar_at,
				       (unsigned long long)v[i].fed_by);
	}
	return 0;
}

static int verify_open(struct archive *r, struct src *in, const char *path,
		       json_t *expect, json_t **manifest,
		       struct verify_result *res, struct err *e);

static struct archive *reader(void)
{
	struct archive *r = archive_read_new();

	archive_read_support_filter_zstd(r);
	archive_read_support_format_tar(r);
	return r;
}

int verify_damaged_at(struct archive *r, const char *label, const char *where,
		      int64_t at, uint64_t total, struct err *e)
{
	const char *why = archive_error_string(r);
	struct buf pos = BUF_INIT;
	int rc;

	/* libarchive recognises zstd by its magic and tar by its header: a
	 * file that is neither is not ours; anything else is damage. */
	if (why && strstr(why, "Unrecognized archive format"))
		return err_set(e, FX_VERIFY, "%s: not a ferry archive (not a "
			       "zstd-compressed tar)", label);
	if (at >= 0 && total)
		buf_printf(&pos, " at compressed byte %lld of %llu",
			   (long long)at, (unsigned long long)total);
	else if (at >= 0)
		buf_printf(&pos, " at compressed byte %lld", (long long)at);
	/* zstd only checks a frame's checksum at its end (ferry writes one
	 * frame): damage found there may lie anywhere before. */
	rc = err_set(e, FX_VERIFY, "%s: damaged%s (%s): %s%s", label,
		     buf_str(&pos), where, why ? why : "read error",
		     why && strstr(why, "checksum") ? " (checked at the end of "
		     "the stream: the damage may be anywhere before)" : "");
	buf_release(&pos);
	return rc;
}

int verify_damaged(struct archive *r, const char *label, const char *where,
		   struct err *e)
{
	return verify_damaged_at(r, label, where,
				 (int64_t)archive_filter_bytes(r, -1), 0, e);
}

static int damaged(struct archive *r, const struct src *in, const char *label,
		   const char *where, struct err *e)
{
	return verify_damaged_at(r, label, where, (int64_t)in->fed, in->total,
				 e);
}

/* Opens r on fd through src_read() and hands over to verify_open(). */
static int open_src(int fd, const char *label, uint64_t total,
		    json_t *expect, json_t **manifest,
		    struct verify_result *res, struct err *e)
{
	struct archive *r = reader();
	struct src in = { .fd = fd, .total = total };
	int rc;

	memset(res, 0, sizeof(*res));
	in.buf = xmalloc(CHUNK);
	if (archive_read_open(r, &in, NULL, src_read, NULL) != ARCHIVE_OK) {
		damaged(r, &in, label, "before the first member", e);
		archive_read_free(r);
		rc = -1;
	} else {
		rc = verify_open(r, &in, label, expect, manifest, res, e);
	}
	free(in.buf);
	return rc;
}

int verify_archive(const char *path, json_t **manifest,
		   struct verify_result *res, struct err *e)
{
	struct stat st;
	char *side;
	json_t *expect;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	memset(res, 0, sizeof(*res));
	if (fd < 0)
		return err_set(e, FX_FAIL, "open %s: %s", path, strerror(errno));
	side = repo_sidecar_path(path);
	expect = json_load_file(side, 0, NULL);
	free(side);
	rc = open_src(fd, path, fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0,
		      expect, manifest, res, e);
	json_decref(expect);
	close(fd);
	return rc;
}

int verify_fd(int fd, const char *label, json_t *expect, json_t **manifest,
	      struct verify_result *res, struct err *e)
{
	return open_src(fd, label, 0, expect, manifest, res, e);
}

/* Member i against the manifest beside the archive, as soon as it is
 * read: damage is named in its member, as restore names it, not at the
 * end where zstd's checksum of a later frame may see it first.  Order and
 * names are left to compare(), against the manifest inside. */
static int early(json_t *expect, size_t i, const struct seen *s,
		 const char *path, struct err *e)
{
	json_t *it = json_array_get(json_object_get(expect, "members"), i);
	const char *name = json_string_value(json_object_get(it, "name"));
	const char *sha = json_string_value(json_object_get(it, "sha256"));

	if (!name || !sha || strcmp(name, s->name))
		return 0;
	if ((uint64_t)json_integer_value(json_object_get(it, "size")) ==
	    s->size && !strcmp(sha, s->sha256))
		return 0;
	return err_set(e, FX_VERIFY, "%s: member '%s' (at tar offset %lld, "
		       "read by compressed byte %llu) does not match the "
		       "manifest", path, name, (long long)s->tar_at,
		       (unsigned long long)s->fed_by);
}

/* Consumes (frees) r.  expect: the manifest kept beside the archive, or
 * NULL. */
static int verify_open(struct archive *r, struct src *in, const char *path,
		       json_t *expect, json_t **manifest,
		       struct verify_result *res, struct err *e)
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
	progress_start(&pg, "verify", in->total);
	while ((h = archive_read_next_header(r, &ent)) != ARCHIVE_EOF) {
		const char *name;
		int is_manifest;

		if (h < ARCHIVE_WARN) {
			char *where = n ? xstrfmt("after member '%s'",
						  v[n - 1].name) :
				xstrdup("before the first member");

			damaged(r, in, path, where, e);
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
			struct seen ms = { .name = (char *)name };

			if (read_member(r, in, &ms, &mtext, path, &pg, e) < 0)
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
		v[n].tar_at = (int64_t)archive_read_header_position(r);
		n++;
		if (read_member(r, in, &v[n - 1], NULL, path, &pg, e) < 0 ||
		    early(expect, n - 1, &v[n - 1], path, e) < 0)
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
