#include "deploy/dlock.h"

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "net/xport.h"
#include "util/buf.h"
#include "util/fdio.h"
#include "deploy/remote.h"
#include "util/ident.h"
#include "util/log.h"
#include "util/shquote.h"

/* Sets D (the remote dir), C (our line), M (take, takeover, force) and E
 * (the stale line a takeover expects) before it.  Prints "taken [fresh]",
 * or "held" and the holder's line; with force, "was LINE" first. */
#define TAKE_HEAD \
	/* after remote_guard: refused targets never get a lock */ \
	"REMOTE_CLAIM " \
	"L=.ferry/deploy.lock; t=.ferry/deploy.lock.$$; " \
	"printf '%s\\n' \"$C\" >\"$t\" || exit 3; " \
	"if [ \"$M\" = force ] && [ -f \"$L\" ]; then " \
	/* its first line, newline or not: the reply's next line must \
	 * start a line */ \
	"w=; { IFS= read -r w <\"$L\"; } 2>/dev/null; " \
	"printf 'was %s\\n' \"$w\"; rm -f \"$L\"; " \
	"elif [ \"$M\" = takeover ]; then s=.ferry/deploy.lock.stale.$$; " \
	/* Only the stale line goes: a lock taken meanwhile is put back. */ \
	"if mv \"$L\" \"$s\" 2>/dev/null; then " \
	"[ \"$(cat \"$s\")\" = \"$E\" ] || ln \"$s\" \"$L\" 2>/dev/null; " \
	"rm -f \"$s\"; fi; fi; " \
	"if ln \"$t\" \"$L\" 2>/dev/null; then rm -f \"$t\"; " \
	"echo \"taken${fresh:+ fresh}\"; "

static const char take_script[] = TAKE_HEAD
	"exit 0; fi; rm -f \"$t\"; echo held; cat \"$L\" 2>/dev/null; exit 0";

/* The same inside the server listing's exec: taken goes on to the
 * listing, held ends the script there. */
static const char take_inline[] = TAKE_HEAD
	"else rm -f \"$t\"; echo held; cat \"$L\" 2>/dev/null; exit 0; fi; ";

/* The early release's head: its H and R are the first line ferry writes
 * when the deploy ends; EOF first changes nothing. */
static const char release_wait[] = "IFS=' ' read -r H R || exit 0; ";

/* D, C, H (1: append stdin's line to the history), R (1: remove .ferry
 * if empty) set before it.  Both lines are read by the shell itself, not
 * by cat: each process is milliseconds on a small server, on every
 * deploy. */
static const char release_script[] =
	"cd -- \"$D\" 2>/dev/null || exit 0; "
	"if [ \"$H\" = 1 ] && { IFS= read -r h || [ -n \"$h\" ]; }; then "
	"printf '%s\\n' \"$h\" >>.ferry/deploys.jsonl; fi; "
	"c=; { IFS= read -r c <.ferry/deploy.lock; } 2>/dev/null; "
	"[ \"$c\" = \"$C\" ] && rm -f .ferry/deploy.lock; "
	"[ \"$R\" = 1 ] && rmdir .ferry 2>/dev/null; exit 0";

static char *our_line(void)
{
	struct buf user = BUF_INIT, host = BUF_INIT, mach = BUF_INIT;
	struct buf when = BUF_INIT;
	unsigned char rnd[16];
	char token[33];
	time_t now = time(NULL);
	json_t *j;
	char *s;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		for (size_t i = 0; i < sizeof(rnd); i++)
			rnd[i] = (unsigned char)(random() ^ getpid());
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(token + 2 * i, 3, "%02x", rnd[i]);
	ident_user(&user);
	ident_host(&host);
	ident_machine(&mach);
	ident_utc(now, &when);
	j = json_pack("{s:s, s:s, s:s, s:I, s:s, s:I, s:s}", "user",
		      buf_str(&user), "host", buf_str(&host), "machine",
		      buf_str(&mach), "pid", (json_int_t)getpid(), "started",
		      buf_str(&when), "since", (json_int_t)now, "token", token);
	s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	buf_release(&user);
	buf_release(&host);
	buf_release(&mach);
	buf_release(&when);
	return s;
}

struct holder {
	const char *user, *host, *machine, *started;
	long pid;
	long long since;
};

static json_t *parse_holder(const char *content, struct holder *h)
{
	json_t *j = json_loads(content, 0, NULL);

	memset(h, 0, sizeof(*h));
	h->user = h->host = h->machine = h->started = "";
	if (!json_is_object(j)) {
		json_decref(j);
		return NULL;
	}
	json_unpack(j, "{s?s, s?s, s?s, s?s, s?I}", "user", &h->user, "host",
		    &h->host, "machine", &h->machine, "started", &h->started,
		    "since", &h->since);
	h->pid = (long)json_integer_value(json_object_get(j, "pid"));
	return j;
}

char *dlock_describe(const char *content, long long now)
{
	struct holder h;
	json_t *j = parse_holder(content, &h);
	struct buf b = BUF_INIT;

	if (!j) {
		if (*content)
			buf_printf(&b, "an unreadable lock (%.80s)", content);
		else
			buf_addstr(&b, "an empty lock file");
		return buf_detach(&b, NULL);
	}
	buf_printf(&b, "%s@%s (pid %ld) since %s, ", h.user, h.host, h.pid,
		   h.started);
	ident_age(now - h.since, &b);
	buf_addstr(&b, " ago");
	json_decref(j);
	return buf_detach(&b, NULL);
}

/* Linux: is pid a ferry that started no later than the lock? */
static int ferry_running(long pid, long long since)
{
	char path[64], comm[64] = "", stat[1024];
	static const char *const names[] = { "ferry", "deploy-to-dev", NULL };
	long long start_ticks = 0, btime = 0;
	FILE *f;
	int known = 0;

	if (pid <= 0 || (kill((pid_t)pid, 0) < 0 && errno == ESRCH))
		return 0;
	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	if ((f = fopen(path, "re"))) {
		if (fgets(comm, sizeof(comm), f))
			comm[strcspn(comm, "\n")] = '\0';
		fclose(f);
	}
	for (size_t i = 0; names[i]; i++)
		known |= !strcmp(comm, names[i]);
	if (!known)
		return 0;
	/* A pid reused by a later ferry is not the holder either. */
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((f = fopen(path, "re"))) {
		size_t n = fread(stat, 1, sizeof(stat) - 1, f);
		char *p;

		stat[n] = '\0';
		fclose(f);
		p = strrchr(stat, ')');
		/* field 22 (starttime) is the 20th after the comm */
		for (int field = 0; p && field < 20; field++)
			p = strchr(p + 1, ' ');
		if (p)
			start_ticks = strtoll(p + 1, NULL, 10);
	}
	if ((f = fopen("/proc/stat", "re"))) {
		char line[256];

		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "btime %lld", &btime) == 1)
				break;
		fclose(f);
	}
	if (start_ticks && btime &&
	    btime + start_ticks / sysconf(_SC_CLK_TCK) > since + 2)
		return 0;
	return 1;
}

/* Stale: this host's lock whose ferry is gone. */
static int stale_here(const struct holder *h)
{
	struct buf host = BUF_INIT, mach = BUF_INIT;
	int same;

	ident_host(&host);
	ident_machine(&mach);
	same = !strcmp(h->host, buf_str(&host)) &&
		(!*h->machine || !mach.len || !strcmp(h->machine, buf_str(&mach)));
	buf_release(&host);
	buf_release(&mach);
	return same && !ferry_running(h->pid, h->since);
}

/* The shell variables an attempt reads: D, C, M and E. */
static void attempt_vars(const struct dlock *l, const char *mode,
			 const char *expect, struct buf *cmd)
{
	buf_addstr(cmd, "D=");
	sh_quote_path(cmd, l->rdir);
	buf_addstr(cmd, "; C=");
	sh_quote(cmd, l->content);
	buf_printf(cmd, "; M=%s; E=", mode);
	sh_quote(cmd, expect ? expect : "-");
	buf_addstr(cmd, "; ");
}

/* An attempt's lines at the front of out, taken off it: 1 taken, 0 held
 * (*holder set), -1 an unexpected reply. */
static int read_reply(struct dlock *l, struct buf *out, char **holder,
		      struct err *e)
{
	const char *p = buf_str(out), *nl;
	int r = -1;

	if (!strncmp(p, "was ", 4)) {
		char *line, *who;

		nl = strchr(p, '\n');
		line = nl ? xstrndup(p + 4, (size_t)(nl - p - 4)) : xstrdup(p + 4);
		who = dlock_describe(line, (long long)time(NULL));
		log_warn("deploy: removed the deploy lock of %s (--force-unlock)",
			 who);
		free(who);
		free(line);
		p = nl ? nl + 1 : p + strlen(p);
	}
	nl = strchr(p, '\n');
	if (!strncmp(p, "taken", 5) && nl) {
		l->held = 1;
		l->created_dir = !strncmp(p, "taken fresh\n", 12);
		p = nl + 1;
		r = 1;
	} else if (!strncmp(p, "held\n", 5)) {
		p += 5;
		*holder = xstrndup(p, strcspn(p, "\n"));
		p += strlen(p);
		r = 0;
	} else {
		err_set(e, FX_REMOTE, "deploy lock on %s: unexpected reply "
			"'%.80s'", xport_name(l->x), p);
		return -1;
	}
	buf_remove_front(out, (size_t)(p - out->p));
	return r;
}

/* One attempt: 1 taken, 0 held (*holder set), -1 error. */
static int attempt(struct dlock *l, const char *mode, const char *expect,
		   char **holder, struct err *e)
{
	struct buf cmd = BUF_INIT, out = BUF_INIT, errout = BUF_INIT;
	struct xrun io = XRUN_INIT;
	struct proc_status st;
	int r = -1;

	attempt_vars(l, mode, expect, &cmd);
	buf_addstr(&cmd, remote_guard);
	remote_subst(&cmd, take_script);
	io.out = &out;
	io.err = &errout;
	if (xport_run(l->x, buf_str(&cmd), &io, &st, e) < 0)
		goto out;
	if (st.exited && st.code == 5) {
		remote_refusal(l->rdir, &out, e);
		goto out;
	}
	if (!st.exited || st.code != 0) {
		/* the shell's message ends with its newline */
		while (errout.len && strchr("\n\r ", errout.p[errout.len - 1]))
			buf_setlen(&errout, errout.len - 1);
		err_set(e, FX_REMOTE, "cannot create the deploy lock in %s/.ferry "
			"on %s: %.300s", l->rdir, xport_name(l->x),
			errout.len ? buf_str(&errout) : "failed");
		goto out;
	}
	r = read_reply(l, &out, holder, e);
out:
	buf_release(&cmd);
	buf_release(&out);
	buf_release(&errout);
	return r;
}

static void init(struct dlock *l, struct xport *x, const char *rdir)
{
	if (l->content)
		return;
	l->x = x;
	l->rdir = xstrdup(rdir);
	l->content = our_line();
}

void dlock_prelude(struct dlock *l, struct xport *x, const char *rdir,
		   const struct dlock_opts *o, struct buf *sh)
{
	init(l, x, rdir);
	attempt_vars(l, o->force ? "force" : "take", NULL, sh);
	remote_subst(sh, take_inline);
}

int dlock_prelude_reply(struct dlock *l, struct buf *out, struct err *e)
{
	char *holder = NULL;
	int r = read_reply(l, out, &holder, e);

	free(holder);
	return r;
}

static void held_error(const struct dlock *l, const char *holder,
		       const struct dlock_opts *o, struct err *e)
{
	long long now = (long long)time(NULL);
	char *who = dlock_describe(holder, now);
	struct holder h;
	json_t *j = parse_holder(holder, &h);

	err_set(e, FX_LOCKED, "deploy lock %s/.ferry/deploy.lock is held by %s",
		l->rdir, who);
	if (j && o->stale_ms > 0 && (now - h.since) * 1000 > o->stale_ms) {
		struct buf age = BUF_INIT;

		ident_age(o->stale_ms / 1000, &age);
		err_append(e, "; it looks stale (older than lock_stale %s): if no "
			   "deploy is running on %s, remove it with 'ferry deploy "
			   "--force-unlock'", buf_str(&age), h.host);
		buf_release(&age);
	}
	json_decref(j);
	free(who);
}

int dlock_take(struct dlock *l, struct xport *x, const char *rdir,
	       const struct dlock_opts *o, struct err *e)
{
	struct timespec t0;
	const char *mode = o->force ? "force" : "take";
	char *holder = NULL, *expect = NULL;
	int said = 0, empty = 0, r;

	if (l->held)
		return 0;
	init(l, x, rdir);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct timespec now;
		long long waited, left;
		struct holder h;
		json_t *j;

		free(holder);
		holder = NULL;
		r = attempt(l, mode, expect, &holder, e);
		free(expect);
		expect = NULL;
		mode = "take";
		if (r != 0)
			break;
		/* Released between ln and cat: try again, a few times (an
		 * empty lock made by hand is held by nobody we can name). */
		if (!*holder && ++empty < 5)
			continue;
		j = parse_holder(holder, &h);
		if (j && stale_here(&h)) {
			char *who = dlock_describe(holder, (long long)time(NULL));

			log_warn("deploy: taking over a stale deploy lock: %s, whose "
				 "ferry is no longer running", who);
			free(who);
			json_decref(j);
			mode = "takeover";
			expect = holder;
			holder = NULL;
			continue;
		}
		json_decref(j);
		clock_gettime(CLOCK_MONOTONIC, &now);
		waited = (now.tv_sec - t0.tv_sec) * 1000LL +
			(now.tv_nsec - t0.tv_nsec) / 1000000;
		left = o->wait_ms - waited;
		if (left <= 0) {
			held_error(l, holder, o, e);
			r = -1;
			break;
		}
		if (!said) {
			char *who = dlock_describe(holder, (long long)time(NULL));

			log_info("deploy: waiting up to %llds for the deploy lock "
				 "held by %s", (o->wait_ms + 999) / 1000, who);
			free(who);
			said = 1;
		}
		{
			long long ms = left < 1000 ? left : 1000;
			struct timespec d = { (time_t)(ms / 1000),
					      (long)(ms % 1000) * 1000000L };

			while (nanosleep(&d, &d) < 0 && errno == EINTR)
				;
		}
	}
	free(holder);
	free(expect);
	return r < 0 ? -1 : 0;
}

static void release_vars(const struct dlock *l, struct buf *cmd)
{
	buf_addstr(cmd, "D=");
	sh_quote_path(cmd, l->rdir);
	buf_addstr(cmd, "; C=");
	sh_quote(cmd, l->content);
	buf_addstr(cmd, "; ");
}

void dlock_release_early(struct dlock *l, struct xport *x)
{
	struct buf cmd = BUF_INIT;
	struct err e = ERR_INIT;

	if (!l->content || l->early)
		return;
	release_vars(l, &cmd);
	buf_addstr(&cmd, release_wait);
	buf_addstr(&cmd, release_script);
	if (xport_spawn(x, buf_str(&cmd), &l->early, &l->early_fd[0],
			&l->early_fd[1], &l->early_fd[2], &e) < 0) {
		log_verbose("deploy: starting the lock's release: %s", e.msg);
		l->early = NULL;
	} else {
		l->early_x = x;
	}
	buf_release(&cmd);
}

/* The early exec's word (NULL: none, only EOF), then its end: output
 * read to EOF (it writes next to nothing), status into *st. */
static int early_end(struct dlock *l, const struct buf *word,
		     struct proc_status *st, struct err *e)
{
	char sink[512];
	int r = 0;

	if (word && fd_write_all(l->early_fd[0], word->p, word->len) < 0)
		r = err_set(e, FX_CONN, "releasing the deploy lock on %s: %s",
			    xport_name(l->early_x), strerror(errno));
	for (int i = 0; i < 3; i++) {
		while (i > 0 && read(l->early_fd[i], sink, sizeof(sink)) > 0)
			;
		close(l->early_fd[i]);
		l->early_fd[i] = -1;
	}
	if (xproc_wait(l->early, st, r < 0 ? NULL : e) < 0)
		r = -1;
	l->early = NULL;
	return r;
}

void dlock_abandon(struct dlock *l)
{
	struct proc_status st;

	if (l->early)
		(void)early_end(l, NULL, &st, NULL);
}

int dlock_release(struct dlock *l, const char *history, int drop_dir,
		  struct err *e)
{
	struct buf cmd = BUF_INIT, line = BUF_INIT;
	struct xrun io = XRUN_INIT;
	struct proc_status st;
	int r, rm_dir = drop_dir && l->created_dir ? 1 : 0;

	if (!l->held)
		return 0;
	l->held = 0;
	if (l->early && l->early_x == l->x && !xport_lost(l->x)) {
		buf_printf(&line, "%d %d\n", history ? 1 : 0, rm_dir);
		if (history)
			buf_printf(&line, "%s\n", history);
		r = early_end(l, &line, &st, e);
		goto done;
	}
	/* none, or on a connection given up for a fresh one */
	dlock_abandon(l);
	release_vars(l, &cmd);
	buf_printf(&cmd, "H=%d; R=%d; %s", history ? 1 : 0, rm_dir,
		   release_script);
	if (history) {
		buf_printf(&line, "%s\n", history);
		io.in = line.p;
		io.inlen = line.len;
	}
	r = xport_run(l->x, buf_str(&cmd), &io, &st, e);
done:
	if (r == 0 && (!st.exited || st.code != 0))
		r = err_set(e, FX_REMOTE, "releasing the deploy lock on %s failed",
			    xport_name(l->x));
	buf_release(&cmd);
	buf_release(&line);
	return r;
}

void dlock_free(struct dlock *l)
{
	free(l->rdir);
	free(l->content);
	memset(l, 0, sizeof(*l));
}
