#include "deploy/remote.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/buf.h"
#include "agent/shquote.h"
#include "agent/xport.h"

/* Lines "key value" up to "list", then records
 * "TYPE SIZE MTIME MODE PATH\0LINK\0". */
static const char script[] =
	"home=$(cd ~ 2>/dev/null && pwd -P); "
	"mkdir -p -- \"$D\" && cd -- \"$D\" || exit 3; "
	"here=$(pwd -P); printf 'dir %s\\n' \"$here\"; "
	"if [ \"$here\" = / ] || [ \"$here\" = \"$home\" ]; then exit 5; fi; "
	"rm -rf .ferry/stage-* 2>/dev/null; "
	"for t in zstd gzip; do command -v $t >/dev/null 2>&1 && "
	"printf 'has %s\\n' $t; done; "
	"find . -maxdepth 0 -printf '' >/dev/null 2>&1 || exit 6; "
	"printf 'list\\n'; "
	"find . -mindepth 1 -path ./.ferry -prune -o "
	"-printf '%y %s %T@ %m %P\\0%l\\0'";

int remote_dir_ok(const char *rdir, struct err *e)
{
	static const char *const bad[] = { "", "/", "~", "~/", ".", "./", "$HOME" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!rdir || !strcmp(rdir, bad[i]))
			return err_set(e, FX_USAGE, "refusing to sync into "
				       "remote_dir '%s'", rdir ? rdir : "");
	return 0;
}

static int parse(struct buf *out, struct ftree *t, struct remote_info *info,
		 struct err *e)
{
	char *p = out->p, *end = out->p + out->len;

	for (;;) {
		char *line = p, *nl = memchr(p, '\n', (size_t)(end - p));

		if (!nl)
			return err_set(e, FX_REMOTE, "server listing: no header");
		*nl = '\0';
		p = nl + 1;
		if (!strcmp(line, "list"))
			break;
		if (!strncmp(line, "dir ", 4))
			info->dir = xstrdup(line + 4);
		else if (!strcmp(line, "has zstd"))
			info->has_zstd = 1;
		else if (!strcmp(line, "has gzip"))
			info->has_gzip = 1;
	}
	while (p < end) {
		char type, *path, *link, *rest;
		unsigned long long size;
		double mtime;
		unsigned mode;
		int n = 0;

		path = memchr(p, '\0', (size_t)(end - p));
		if (!path)
			return err_set(e, FX_REMOTE, "server listing: truncated");
		link = path + 1;
		rest = memchr(link, '\0', (size_t)(end - link));
		if (!rest)
			return err_set(e, FX_REMOTE, "server listing: truncated");
		if (sscanf(p, "%c %llu %lf %o %n", &type, &size, &mtime, &mode,
			   &n) != 4 || n <= 0)
			return err_set(e, FX_REMOTE, "server listing: bad record");
		if (type == 'f' || type == 'd' || type == 'l')
			tree_add(t, p + n, type, size, (int64_t)mtime, mode,
				 type == 'l' ? link : NULL);
		else
			/* Sockets, fifos: the sync deletes or replaces them. */
			tree_add(t, p + n, '?', 0, 0, 0, NULL);
		p = rest + 1;
	}
	tree_sort(t);
	return 0;
}

int remote_scan(struct xport *x, const char *rdir, struct ftree *out,
		struct remote_info *info, struct err *e)
{
	struct buf cmd = BUF_INIT, sout = BUF_INIT, serr = BUF_INIT;
	struct xrun io = XRUN_INIT;
	struct proc_status st;
	int r = -1;

	memset(info, 0, sizeof(*info));
	buf_addstr(&cmd, "D=");
	sh_quote(&cmd, rdir);
	buf_addstr(&cmd, "; ");
	buf_addstr(&cmd, script);
	io.out = &sout;
	io.err = &serr;
	io.max = (size_t)1 << 30;
	if (xport_run(x, buf_str(&cmd), &io, &st, e) < 0)
		goto out;
	if (st.exited && st.code == 5) {
		err_set(e, FX_USAGE, "refusing to sync into %s: it is %s",
			rdir, "/ or the home directory itself");
		goto out;
	}
	if (st.exited && st.code == 6) {
		err_set(e, FX_REMOTE, "the server's find has no -printf (busybox?); "
			"ferry %s needs GNU find there", FERRY_VERSION);
		goto out;
	}
	if (!st.exited || st.code != 0) {
		err_set(e, FX_REMOTE, "listing %s on %s failed: %.300s", rdir,
			xport_name(x), buf_str(&serr));
		goto out;
	}
	r = parse(&sout, out, info, e);
out:
	buf_release(&cmd);
	buf_release(&sout);
	buf_release(&serr);
	return r;
}

void remote_info_release(struct remote_info *info)
{
	free(info->dir);
}
