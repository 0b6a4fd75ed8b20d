#include "restore/todir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "restore/restorer.h"
#include "util/buf.h"

struct todir {
	char *root;
	int fd;
	char *first;		/* the first file todir_check() found there */
	size_t existing;	/* how many it found */
	/* The directories this restore made, in the order it made them:
	 * the root's own (absolute) first, then those under it. */
	struct strlist made_abs, made;
};

char *todir_root(const struct rs_ctx *x, const char *comp)
{
	size_t n = x->o->only ? x->o->only->n : 0;

	if (!n)
		n = json_object_size(json_object_get(x->manifest, "components"));
	return n > 1 ? xstrfmt("%s/%s", x->o->to, comp) : xstrdup(x->o->to);
}

static int mkdir_noted(const char *p, struct strlist *made, struct err *e)
{
	if (mkdir(p, 0700) == 0)
		strlist_add(made, p);
	else if (errno != EEXIST)
		return err_set(e, FX_FAIL, "create %s: %s", p, strerror(errno));
	return 0;
}

static int mkdirs(const char *dir, struct strlist *made, struct err *e)
{
	char *p = xstrdup(dir);
	int r = 0;

	for (char *s = p + 1; *s && r == 0; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		r = mkdir_noted(p, made, e);
		*s = '/';
	}
	if (r == 0)
		r = mkdir_noted(p, made, e);
	free(p);
	return r;
}

int todir_open(struct todir **out, const char *root, struct err *e)
{
	struct todir *t = xcalloc(1, sizeof(*t));

	t->root = xstrdup(root);
	t->fd = -1;
	if (mkdirs(root, &t->made_abs, e) < 0)
		goto fail;
	t->fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (t->fd < 0) {
		err_set(e, FX_FAIL, "open %s: %s", root, strerror(errno));
		goto fail;
	}
	*out = t;
	return 0;
fail:
	todir_undo(t);
	todir_free(t);
	return -1;
}

void todir_free(struct todir *t)
{
	if (!t)
		return;
	if (t->fd >= 0)
		close(t->fd);
	free(t->root);
	free(t->first);
	strlist_release(&t->made);
	strlist_release(&t->made_abs);
	free(t);
}

const char *todir_path(const struct todir *t)
{
	return t->root;
}

int todir_safe_rel(const char *rel)
{
	const char *p = rel;

	/* Control bytes and bytes that are not UTF-8 are legal in a name
	 * and cannot climb: only the components can (messages print such
	 * names escaped). */
	if (!rel || !*rel || *rel == '/')
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

int todir_safe_link(const char *rel, const char *target)
{
	long depth = 0;

	if (!todir_safe_rel(rel) || !target || !*target || *target == '/')
		return 0;
	for (const char *p = rel; (p = strchr(p, '/')); p++)
		depth++;
	while (*target) {
		size_t n = strcspn(target, "/");

		if (n == 2 && target[0] == '.' && target[1] == '.') {
			if (--depth < 0)
				return 0;
		} else if (n && !(n == 1 && target[0] == '.')) {
			depth++;
		}
		target += n;
		if (*target == '/')
			target++;
	}
	return 1;
}

/* Opens rel's parents from the root down, never through a symlink
 * (making the missing ones when create): *dirfd and the last component,
 * or *dirfd = -1 when (without create) a parent does not exist yet. */
static int parents(struct todir *t, const char *rel, int create, int *dirfd,
		   const char **last, struct err *e)
{
	const char *p = rel;
	int fd = openat(t->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return err_set(e, FX_FAIL, "open %s: %s", t->root, strerror(errno));
	for (;;) {
		size_t n = strcspn(p, "/");
		char *comp;
		int next;

		if (!p[n]) {
			*dirfd = fd;
			*last = p;
			return 0;
		}
		comp = xstrndup(p, n);
		next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			      O_CLOEXEC);
		if (next < 0 && errno == ENOENT && create) {
			int made = mkdirat(fd, comp, 0700) == 0;

			if (made) {
				char *rp = xstrndup(rel, (size_t)(p + n - rel));

				strlist_add(&t->made, rp);
				free(rp);
			}
			if (made || errno == EEXIST)
				next = openat(fd, comp, O_RDONLY | O_DIRECTORY |
					      O_NOFOLLOW | O_CLOEXEC);
		}
		free(comp);
		if (next < 0) {
			int err = errno;

			close(fd);
			if (err == ENOENT && !create) {
				*dirfd = -1;
				return 0;
			}
			return err_set(e, err == ELOOP || err == ENOTDIR ? FX_VERIFY :
				       FX_FAIL, "%s/%.*s: %s", t->root,
				       (int)(p + n - rel), rel, err == ELOOP ||
				       err == ENOTDIR ? "a symlink or not a "
				       "directory: refusing to write through it" :
				       strerror(err));
		}
		close(fd);
		fd = next;
		p += n + 1;
	}
}

void todir_undo(struct todir *t)
{
	if (!t)
		return;
	/* Newest first, so a parent is empty when its turn comes; rmdir
	 * leaves a directory that holds what was written before a failure.
	 * Down from the root as a write goes, never through a symlink. */
	for (size_t i = t->made.n; i > 0 && t->fd >= 0; i--) {
		struct err ignored = ERR_INIT;
		const char *last;
		int dirfd;

		if (parents(t, t->made.v[i - 1], 0, &dirfd, &last,
			    &ignored) == 0 && dirfd >= 0) {
			unlinkat(dirfd, last, AT_REMOVEDIR);
			close(dirfd);
		}
	}
	for (size_t i = t->made_abs.n; i > 0; i--)
		rmdir(t->made_abs.v[i - 1]);
	strlist_release(&t->made);
	strlist_release(&t->made_abs);
}

int todir_check(struct todir *t, const char *rel, struct err *e)
{
	const char *last;
	struct stat st;
	int fd, r = 0;

	if (!todir_safe_rel(rel))
		return err_set(e, FX_VERIFY, "'%s' would leave %s", rel, t->root);
	if (parents(t, rel, 0, &fd, &last, e) < 0)
		return -1;
	if (fd < 0)
		return 0;
	/* Missing, or unreadable (staging there will say why). */
	if (fstatat(fd, last, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		close(fd);
		return 0;
	}
	if (S_ISDIR(st.st_mode))
		r = err_set(e, FX_VERIFY, "%s/%s is a directory: refusing to "
			    "replace it", t->root, rel);
	else if (!t->existing++)
		t->first = xstrdup(rel);	/* a symlink too: replaced */
	close(fd);
	return r;
}

int todir_existing(struct todir *t, int clean, struct err *e)
{
	if (!t->existing || clean)
		return 0;
	if (t->existing == 1)
		return err_set(e, FX_FAIL, "%s/%s already exists: give --clean "
			       "to replace it, or restore into another "
			       "directory; nothing was written", t->root,
			       t->first);
	return err_set(e, FX_FAIL, "%s/%s and %zu other file%s already exist: "
		       "give --clean to replace them, or restore into another "
		       "directory; nothing was written", t->root, t->first,
		       t->existing - 1, t->existing == 2 ? "" : "s");
}

static char *temp_name(const char *last)
{
	return xstrfmt(".%s.ferry-%ld-%lx.tmp", last, (long)getpid(),
		       (unsigned long)random());
}

int todir_stage(struct todir *t, const char *rel, struct todir_file *f,
		struct err *e)
{
	const char *last;
	int dirfd;

	memset(f, 0, sizeof(*f));
	f->fd = f->dirfd = -1;
	if (!todir_safe_rel(rel))
		return err_set(e, FX_VERIFY, "'%s' would leave %s", rel, t->root);
	if (parents(t, rel, 1, &dirfd, &last, e) < 0)
		return -1;
	f->dirfd = dirfd;
	f->name = xstrdup(last);
	f->tmp = temp_name(last);
	f->fd = openat(dirfd, f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		       O_CLOEXEC, 0600);
	if (f->fd < 0) {
		err_set(e, FX_FAIL, "create %s/%s: %s", t->root, rel,
			strerror(errno));
		close(dirfd);
		free(f->name);
		free(f->tmp);
		memset(f, 0, sizeof(*f));
		f->fd = f->dirfd = -1;
		return -1;
	}
	return 0;
}

static void release(struct todir_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	if (f->dirfd >= 0)
		close(f->dirfd);
	free(f->tmp);
	free(f->name);
	memset(f, 0, sizeof(*f));
	f->fd = f->dirfd = -1;
}

int todir_commit(struct todir_file *f, int mode, long long mtime,
		 struct err *e)
{
	struct timespec ts[2] = { { 0, UTIME_OMIT }, { 0, UTIME_NOW } };
	int r = -1;

	if (mtime >= 0) {
		ts[1].tv_sec = (time_t)mtime;
		ts[1].tv_nsec = 0;
	}
	/* Set-id and sticky bits are not restored. */
	if (fsync(f->fd) < 0 || (mode >= 0 && fchmod(f->fd, (mode_t)mode & 0777) < 0) ||
	    futimens(f->fd, ts) < 0 ||
	    renameat(f->dirfd, f->tmp, f->dirfd, f->name) < 0) {
		err_set(e, FX_FAIL, "write %s: %s", f->name, strerror(errno));
		unlinkat(f->dirfd, f->tmp, 0);
		goto out;
	}
	/* Without it the rename may not survive a crash. */
	fsync(f->dirfd);
	r = 0;
out:
	release(f);
	return r;
}

void todir_discard(struct todir_file *f)
{
	if (f->dirfd >= 0 && f->tmp)
		unlinkat(f->dirfd, f->tmp, 0);
	release(f);
}

int todir_symlink(struct todir *t, const char *rel, const char *target,
		  struct err *e)
{
	const char *last;
	char *tmp = NULL;
	int dirfd, r = -1;

	if (!todir_safe_link(rel, target))
		return err_set(e, FX_VERIFY, "link %s -> %s would leave %s", rel,
			       target, t->root);
	if (parents(t, rel, 1, &dirfd, &last, e) < 0)
		return -1;
	tmp = temp_name(last);
	if (symlinkat(target, dirfd, tmp) < 0 ||
	    renameat(dirfd, tmp, dirfd, last) < 0) {
		err_set(e, FX_FAIL, "link %s/%s: %s", t->root, rel,
			strerror(errno));
		unlinkat(dirfd, tmp, 0);
		goto out;
	}
	fsync(dirfd);
	r = 0;
out:
	free(tmp);
	close(dirfd);
	return r;
}
