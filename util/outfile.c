#include "util/outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/fdio.h"

int outfile_write(const char *path, const char *text, mode_t mode,
		  struct err *e)
{
	char *tmp = NULL;
	int fd, r = -1;

	/* A caller's failed json_dumps() is a failure here, not a crash. */
	if (!text)
		return err_set(e, FX_FAIL, "write %s: nothing to write", path);
	tmp = xstrfmt("%s.tmp-%ld", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		err_set(e, FX_FAIL, "write %s: %s", path, strerror(errno));
		goto out;
	}
	/* The umask must not take a reader's access away (a metrics
	 * collector running as another user). */
	if (fchmod(fd, mode) < 0 || fd_write_all(fd, text, strlen(text)) < 0) {
		err_set(e, FX_FAIL, "write %s: %s", path, strerror(errno));
		close(fd);
		unlink(tmp);
		goto out;
	}
	r = fd_publish(fd, tmp, path, e);
out:
	free(tmp);
	return r;
}

int outfile_mkdirs(const char *dir, mode_t mode)
{
	char *p = xstrdup(dir);
	int r = 0;

	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			r = -1;
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		r = -1;
	free(p);
	return r;
}
