#include "backup/repo.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/buf.h"
#include "agent/fdio.h"

#define SUFFIX ".tar.zst"

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
		    time_t *t)
{
	size_t fl = strlen(file), nl = strlen(name), sl = strlen(suffix);
	char stamp[17];

	if (fl != nl + 1 + 16 + sl || strncmp(file, name, nl) ||
	    file[nl] != '-' || strcmp(file + fl - sl, suffix))
		return -1;
	memcpy(stamp, file + nl + 1, 16);
	stamp[16] = '\0';
	return repo_parse_stamp(stamp, t);
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

	return x->t < y->t ? 1 : x->t > y->t ? -1 : strcmp(y->path, x->path);
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
		time_t t;
		char *mpath;

		if (repo_parse_name(f, name, SUFFIX, &t) < 0)
			continue;
		r = repo_add(&list, n, &cap);
		r->path = xstrfmt("%s/%s", dir, f);
		r->stem = xstrndup(r->path, strlen(r->path) - strlen(SUFFIX));
		r->t = t;
		if (stat(r->path, &st) == 0)
			r->size = (uint64_t)st.st_size;
		mpath = xstrfmt("%s.manifest.json", r->stem);
		r->manifest = json_load_file(mpath, 0, NULL);
		free(mpath);
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
	if (fd_write_all(fd, p, len) < 0 || fsync(fd) < 0) {
		err_set(e, FX_FAIL, "write %s: %s", path, strerror(errno));
		close(fd);
		unlink(tmp);
		goto out;
	}
	if (close(fd) < 0) {
		err_set(e, FX_FAIL, "write %s: %s", path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	if (rename(tmp, path) < 0) {
		err_set(e, FX_FAIL, "rename %s: %s", path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	if (slash) {
		*slash = '\0';
		repo_sync_dir(*dir ? dir : "/");
	}
	r = 0;
out:
	free(tmp);
	free(dir);
	return r;
}
