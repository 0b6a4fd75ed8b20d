#include "deploy/history.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/xport.h"
#include "util/fdio.h"
#include "util/ident.h"
#include "util/proc.h"
#include "util/shquote.h"

struct history_git {
	pid_t pid;		/* 0 once collected */
	int fd;
	struct buf commit;
	int dirty;
};

/* git runs beside the deploy, not after it: `git status` in a big work
 * tree takes a good part of a small deploy's time.  It prints "COMMIT\nN\n"
 * where dir is in a git work tree (N: changed paths under it, untracked
 * ones included, capped), nothing elsewhere. */
struct history_git *history_git_start(const char *dir)
{
	struct history_git *g;
	struct buf cmd = BUF_INIT;
	int in, fe;

	if (!dir)
		return NULL;
	g = xcalloc(1, sizeof(*g));
	g->fd = -1;
	buf_addstr(&cmd, "cd ");
	sh_quote(&cmd, dir);
	buf_addstr(&cmd, " 2>/dev/null && git rev-parse --verify -q HEAD "
		   "2>/dev/null && git status --porcelain -- . 2>/dev/null | "
		   "head -n 1 | wc -l");
	if (proc_spawn(buf_str(&cmd), &g->pid, &in, &g->fd, &fe, NULL) < 0) {
		g->pid = 0;
	} else {
		close(in);
		close(fe);
	}
	buf_release(&cmd);
	return g;
}

static void git_collect(struct history_git *g)
{
	struct proc_status st;
	char out[256];
	ssize_t n;

	if (!g->pid)
		return;
	n = fd_read_full(g->fd, out, sizeof(out) - 1);
	close(g->fd);
	g->fd = -1;
	if (proc_wait(g->pid, &st, NULL) == 0 && st.exited && st.code == 0 &&
	    n > 0) {
		char *nl;

		out[n] = '\0';
		nl = strchr(out, '\n');
		if (nl && nl - out >= 7) {
			buf_add(&g->commit, out, (size_t)(nl - out));
			g->dirty = strtol(nl + 1, NULL, 10) > 0;
		}
	}
	g->pid = 0;
}

void history_git_free(struct history_git *g)
{
	if (!g)
		return;
	git_collect(g);
	buf_release(&g->commit);
	free(g);
}

char *history_line(const struct history_rec *r)
{
	struct buf user = BUF_INIT, host = BUF_INIT, when = BUF_INIT;
	json_t *j, *svc = json_array();
	char *s;

	ident_user(&user);
	ident_host(&host);
	ident_utc(r->time, &when);
	if (r->git)
		git_collect(r->git);
	for (size_t i = 0; r->services && i < r->services->n; i++)
		json_array_append_new(svc, json_string(r->services->v[i]));
	j = json_pack("{s:s, s:s, s:s}", "time", buf_str(&when), "user",
		      buf_str(&user), "host", buf_str(&host));
	if (r->git && r->git->commit.len) {
		json_object_set_new(j, "commit",
				    json_string(buf_str(&r->git->commit)));
		json_object_set_new(j, "dirty", json_boolean(r->git->dirty));
	}
	json_object_set_new(j, "sent", json_integer((json_int_t)r->sent));
	json_object_set_new(j, "deleted", json_integer((json_int_t)r->deleted));
	json_object_set_new(j, "bytes", json_integer((json_int_t)r->bytes));
	if (r->no_up) {
		json_decref(svc);
		svc = json_null();
	}
	json_object_set_new(j, "services", svc);
	json_object_set_new(j, "duration",
			    json_real((double)(long long)(r->seconds * 10) / 10));
	json_object_set_new(j, "result", json_string(r->result));
	json_object_set_new(j, "exit", json_integer(r->exit_code));
	if (r->error && *r->error)
		json_object_set_new(j, "error", json_string(r->error));
	s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII |
		       HISTORY_JSON_REAL);
	json_decref(j);
	buf_release(&user);
	buf_release(&host);
	buf_release(&when);
	return s;
}

int history_append(struct xport *x, const char *rdir, const char *line,
		   struct err *e)
{
	struct buf cmd = BUF_INIT, in = BUF_INIT;
	struct xrun io = XRUN_INIT;
	struct proc_status st;
	int r;

	buf_addstr(&cmd, "cd -- ");
	sh_quote_path(&cmd, rdir);
	buf_addstr(&cmd, " && [ -d .ferry ] && cat >>.ferry/deploys.jsonl");
	buf_printf(&in, "%s\n", line);
	io.in = in.p;
	io.inlen = in.len;
	r = xport_run(x, buf_str(&cmd), &io, &st, e);
	if (r == 0 && (!st.exited || st.code != 0))
		r = err_set(e, FX_REMOTE, "cannot append to %s/.ferry/deploys.jsonl "
			    "on %s", rdir, xport_name(x));
	buf_release(&cmd);
	buf_release(&in);
	return r;
}

struct slot {
	json_t *rec;
	const char *time;
	size_t pos;
};

static int newest_first(const void *a, const void *b)
{
	const struct slot *x = a, *y = b;
	int c = strcmp(y->time, x->time);

	return c ? c : x->pos < y->pos ? -1 : 1;
}

/* By start time, newest first: runs that overlapped (a refused one, one
 * that waited for the lock) are appended in the order they ended. */
static json_t *sorted(json_t *arr)
{
	size_t n = json_array_size(arr), i;
	struct slot *v = xcalloc(n ? n : 1, sizeof(*v));
	json_t *out = json_array(), *o;

	json_array_foreach(arr, i, o) {
		const char *t = json_string_value(json_object_get(o, "time"));

		v[i].rec = o;
		v[i].time = t ? t : "";
		v[i].pos = i;
	}
	if (n)
		qsort(v, n, sizeof(*v), newest_first);
	for (i = 0; i < n; i++)
		json_array_append(out, v[i].rec);
	free(v);
	json_decref(arr);
	return out;
}

int history_read(struct xport *x, const char *rdir, long n, json_t **out,
		 struct err *e)
{
	struct buf cmd = BUF_INIT, sout = BUF_INIT, serr = BUF_INIT;
	struct xrun io = XRUN_INIT;
	struct proc_status st;
	json_t *arr = json_array();
	char *p, *end;
	int r = -1;

	buf_addstr(&cmd, "cd -- ");
	sh_quote_path(&cmd, rdir);
	buf_addstr(&cmd, " 2>/dev/null || exit 0; f=.ferry/deploys.jsonl; "
		   "[ -f $f ] || exit 0; ");
	if (n > 0)
		buf_printf(&cmd, "tail -n %ld $f", n);
	else
		buf_addstr(&cmd, "cat $f");
	io.out = &sout;
	io.err = &serr;
	io.max = 256u << 20;
	if (xport_run(x, buf_str(&cmd), &io, &st, e) < 0)
		goto out;
	if (!st.exited || st.code != 0) {
		err_set(e, FX_REMOTE, "reading %s/.ferry/deploys.jsonl on %s "
			"failed: %.200s", rdir, xport_name(x), buf_str(&serr));
		goto out;
	}
	/* newest last in the file, first in the answer */
	p = sout.p;
	end = sout.p + sout.len;
	while (p && p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		json_t *o = json_loadb(p, len, 0, NULL);

		if (json_is_object(o))
			json_array_insert_new(arr, 0, o);
		else
			json_decref(o);
		p = nl ? nl + 1 : NULL;
	}
	*out = sorted(arr);
	arr = NULL;
	r = 0;
out:
	json_decref(arr);
	buf_release(&cmd);
	buf_release(&sout);
	buf_release(&serr);
	return r;
}
