#include "restore/member.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "restore/restore.h"

#define CHUNK (256u * 1024)

int rs_stopped(const struct restore_stop *s, struct err *e)
{
	int sig = s ? __atomic_load_n(&s->sig, __ATOMIC_ACQUIRE) : 0;

	if (!sig)
		return 0;
	return err_set(e, FX_FAIL, "interrupted by SIG%s",
		       sigabbrev_np(sig) ? sigabbrev_np(sig) : "?");
}

ssize_t rs_read(struct rs_member *m, void *buf, size_t n, struct err *e)
{
	la_ssize_t got;

	/* Checked for each chunk: a table's COPY stops within one. */
	if (rs_stopped(m->stop, e) < 0)
		return -1;
	got = archive_read_data(m->a, buf, n);
	if (got < 0)
		return err_set(e, FX_VERIFY, "member '%s' is damaged: %s",
			       m->name, archive_error_string(m->a) ?
			       archive_error_string(m->a) : "read error");
	sha256_update(m->md, buf, (size_t)got);
	m->size += (uint64_t)got;
	return got;
}

int rs_slurp(struct rs_member *m, struct buf *out, size_t max, struct err *e)
{
	ssize_t n;

	char *chunk = xmalloc(CHUNK);
	int r = 0;

	out->limit = max;
	while (r == 0 && (n = rs_read(m, chunk, CHUNK, e)) > 0)
		if (buf_add_capped(out, chunk, (size_t)n) < 0)
			r = err_set(e, FX_VERIFY, "member '%s' is larger than "
				    "%zu MiB", m->name, max >> 20);
	free(chunk);
	return r < 0 || n < 0 ? -1 : 0;
}
