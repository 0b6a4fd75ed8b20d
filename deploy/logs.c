#include "deploy/logs.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/fdio.h"
#include "util/ident.h"
#include "util/log.h"
#include "util/pump.h"
#include "util/shquote.h"

/* The first line of a follow: the server's time as it starts. */
#define START_MARK "\001ferry-start "

/* What was shown of one container: its last timestamp, and how many
 * lines carried exactly that one (docker's --since includes it). */
struct seen {
	char *name;
	long long sec;
	long nsec;
	unsigned at_last;
	unsigned replayed;	/* of those, met again since resuming */
};

struct follower {
	const struct logs_opts *o;
	struct seen *v;
	size_t n;
	int width;
	int stamped;		/* lines carry timestamps (we asked) */
	int resuming;
	long long start;	/* the server's clock when following began,
				 * less a second; 0: unknown */
	unsigned long shown;	/* lines written */
	struct buf out;
};

int logs_parse_ts(const char *s, size_t len, long long *sec, long *nsec,
		  size_t *used)
{
	struct tm tm;
	char head[20];
	const char *p, *end;
	long ns = 0;
	int digits = 0;

	/* YYYY-MM-DDTHH:MM:SS is 19 bytes */
	if (len < 20)
		return -1;
	memcpy(head, s, 19);
	head[19] = '\0';
	memset(&tm, 0, sizeof(tm));
	end = strptime(head, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end || *end)
		return -1;
	p = s + 19;
	if (*p == '.') {
		for (p++; p < s + len && *p >= '0' && *p <= '9'; p++)
			if (digits++ < 9)
				ns = ns * 10 + (*p - '0');
		for (; digits < 9; digits++)
			ns *= 10;
	}
	if (p >= s + len || *p != 'Z')
		return -1;
	*sec = (long long)timegm(&tm);
	*nsec = ns;
	*used = (size_t)(p + 1 - s);
	return 0;
}

static void format_ts(long long sec, long nsec, struct buf *out)
{
	time_t t = (time_t)sec;
	struct tm tm;
	char s[32];

	gmtime_r(&t, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
	buf_printf(out, "%s.%09ldZ", s, nsec);
}

static struct seen *find_seen(struct follower *f, const char *name,
			      size_t len, int add)
{
	for (size_t i = 0; i < f->n; i++)
		if (strlen(f->v[i].name) == len && !memcmp(f->v[i].name, name, len))
			return &f->v[i];
	if (!add)
		return NULL;
	f->v = xrealloc(f->v, (f->n + 1) * sizeof(*f->v));
	memset(&f->v[f->n], 0, sizeof(f->v[0]));
	f->v[f->n].name = xstrndup(name, len);
	f->v[f->n].sec = -1;
	return &f->v[f->n++];
}

/* 1: show the line (and remember it); 0: shown before the drop. */
static int fresh(struct follower *f, struct seen *s, long long sec, long nsec)
{
	int cmp = s->sec < 0 ? 1 : sec != s->sec ? (sec > s->sec ? 1 : -1) :
		nsec != s->nsec ? (nsec > s->nsec ? 1 : -1) : 0;

	if (cmp < 0)
		return 0;
	if (cmp == 0) {
		if (f->resuming && s->replayed < s->at_last) {
			s->replayed++;
			return 0;
		}
		s->at_last++;
		s->replayed = s->at_last;
		return 1;
	}
	s->sec = sec;
	s->nsec = nsec;
	s->at_last = 1;
	s->replayed = 1;
	return 1;
}

static int on_line(void *ctx, const char *line, size_t len)
{
	struct follower *f = ctx;
	const char *bar, *msg, *name = line;
	size_t nlen, used = 0, mlen;
	long long sec = 0;
	long nsec = 0;
	struct seen *s;

	if (len && line[len - 1] == '\n')
		len--;
	if (len > 13 && !memcmp(line, START_MARK, 13)) {
		time_t t;
		char *when = xstrndup(line + 13, len - 13);

		if (ident_parse_utc(when, &t) == 0)
			f->start = (long long)t - 1;
		free(when);
		return 0;
	}
	if (!f->stamped)
		goto raw;
	bar = memchr(line, '|', len);
	if (!bar)
		goto other;
	nlen = (size_t)(bar - line);
	while (nlen && name[nlen - 1] == ' ')
		nlen--;
	msg = bar + 1 + (bar + 1 < line + len && bar[1] == ' ');
	mlen = (size_t)(line + len - msg);
	if (!nlen || memchr(name, ' ', nlen) ||
	    logs_parse_ts(msg, mlen, &sec, &nsec, &used) < 0)
		goto other;
	s = find_seen(f, name, nlen, 1);
	if (!fresh(f, s, sec, nsec))
		return 0;
	if ((int)nlen > f->width)
		f->width = (int)nlen;
	buf_reset(&f->out);
	buf_printf(&f->out, "%-*.*s | ", f->width, (int)nlen, name);
	if (!f->o->timestamps) {
		msg += used + (used < mlen && msg[used] == ' ');
		mlen = (size_t)(line + len - msg);
	}
	buf_add(&f->out, msg, mlen);
	buf_addch(&f->out, '\n');
	f->shown++;
	return fd_write_all(STDOUT_FILENO, f->out.p, f->out.len) < 0 ? -1 : 0;
other:
	/* compose's own lines ("Attaching to ...") are said once */
	if (f->resuming)
		return 0;
raw:
	buf_reset(&f->out);
	buf_add(&f->out, line, len);
	buf_addch(&f->out, '\n');
	return fd_write_all(STDOUT_FILENO, f->out.p, f->out.len) < 0 ? -1 : 0;
}

static int wanted(const struct logs_opts *o, const char *svc)
{
	if (!o->services || !o->services->n)
		return 1;
	for (size_t i = 0; i < o->services->n; i++)
		if (!strcmp(o->services->v[i], svc))
			return 1;
	return 0;
}

/* compose logs, as the user asked for it */
static void compose_cmd(struct compose *c, const struct logs_opts *o,
			int stamped, struct buf *cmd)
{
	struct strlist args = STRLIST_INIT;

	strlist_add(&args, "logs");
	strlist_add(&args, "--no-color");
	if (o->follow)
		strlist_add(&args, "--follow");
	if (stamped)
		strlist_add(&args, "--timestamps");
	if (o->tail)
		strlist_add_take(&args, xstrfmt("--tail=%s", o->tail));
	if (o->services && o->services->n) {
		strlist_add(&args, "--");
		for (size_t i = 0; i < o->services->n; i++)
			strlist_add(&args, o->services->v[i]);
	}
	compose_cmdline(c, (const char *const *)args.v, cmd);
	strlist_release(&args);
}

/* docker logs --timestamps for one container, with since a docker time
 * or until/since_s as seconds (0: none). */
static void add_logs(struct compose *c, const char *id, int follow,
		     const char *tail, const char *since, long long since_s,
		     long long until_s, struct buf *cmd)
{
	struct strlist args = STRLIST_INIT;
	struct buf t = BUF_INIT;

	strlist_add(&args, "logs");
	strlist_add(&args, "--timestamps");
	if (follow)
		strlist_add(&args, "--follow");
	if (tail)
		strlist_add_take(&args, xstrfmt("--tail=%s", tail));
	if (since)
		strlist_add_take(&args, xstrfmt("--since=%s", since));
	if (since_s || until_s) {
		buf_addstr(&t, since_s ? "--since=" : "--until=");
		format_ts(since_s ? since_s : until_s, 0, &t);
		strlist_add_take(&args, buf_detach(&t, NULL));
	}
	strlist_add(&args, id);
	compose_docker_cmdline(c, (const char *const *)args.v, cmd);
	strlist_release(&args);
}

/*
 * The same through `docker logs --since` for each container, prefixed as
 * compose prefixes them: for --since (compose v1 has none) and to resume,
 * each container after its own last line shown.
 */
static int docker_cmd(struct compose *c, struct follower *f,
		      const struct logs_opts *o, struct buf *cmd, struct err *e)
{
	struct compose_ctrs all;

	if (compose_containers(c, &all, e) < 0)
		return -1;
	for (size_t i = 0; i < all.n; i++) {
		const struct compose_ctr *k = &all.v[i];
		struct seen *s = find_seen(f, k->name, strlen(k->name), 0);

		if (!wanted(o, k->service))
			continue;
		if (s && s->sec < 0)
			s = NULL;
		buf_addstr(cmd, "{ ");
		if (!s && f->resuming && f->start && (o->tail || o->since)) {
			/* Not seen before the drop: what it would have shown
			 * up to the start, then everything since. */
			add_logs(c, k->id, 0, o->tail, o->since, 0, f->start, cmd);
			buf_addstr(cmd, "; ");
			add_logs(c, k->id, o->follow, NULL, NULL, f->start, 0, cmd);
		} else if (s) {
			struct buf ts = BUF_INIT;

			format_ts(s->sec, s->nsec, &ts);
			add_logs(c, k->id, o->follow, NULL, buf_str(&ts), 0, 0, cmd);
			buf_release(&ts);
		} else {
			add_logs(c, k->id, o->follow, o->tail, o->since, 0, 0, cmd);
		}
		buf_addstr(cmd, "; } 2>&1 | while IFS= read -r l || [ -n \"$l\" ]; "
			   "do printf '%s | %s\\n' ");
		sh_quote(cmd, k->name);
		buf_addstr(cmd, " \"$l\"; done &\n");
	}
	buf_addstr(cmd, "wait");
	compose_ctrs_release(&all);
	return 0;
}

/* Waits up to ms for stop_fd; 1 when it fired. */
static int stop_within(int stop_fd, int ms)
{
	struct pollfd p = { stop_fd, POLLIN, 0 };

	if (stop_fd < 0) {
		struct timespec d = { ms / 1000, (long)(ms % 1000) * 1000000L };

		nanosleep(&d, NULL);
		return 0;
	}
	return poll(&p, 1, ms) > 0;
}

static int reopen(const struct logs_opts *o, struct xport **x,
		  struct compose **c, char **prefix_kept, struct err *e)
{
	struct compose_opts co = *o->compose;
	char *prefix;
	int r = -1;

	if (*c && !*prefix_kept)
		*prefix_kept = xstrdup(compose_prefix(*c));
	prefix = xstrdup(*prefix_kept ? *prefix_kept : co.prefix ? co.prefix : "auto");

	/* The prefix found the first time is kept: no second detection. */
	co.prefix = prefix;
	compose_free(*c);
	*c = NULL;
	xport_close(*x);
	*x = NULL;
	if (xport_open(x, o->server, e) == 0 && compose_open(c, *x, &co, e) == 0) {
		compose_hush_missing_dir(*c);	/* as the first one */
		r = 0;
	}
	free(prefix);
	return r;
}

/* One stream: 0 ended, 1 stopped, -1 failed (FX_CONN: the connection). */
static int stream(struct follower *f, struct xport *x, struct compose *c,
		  int first, struct err *e)
{
	const struct logs_opts *o = f->o;
	struct pump p = PUMP_INIT;
	struct buf cmd = BUF_INIT;
	struct xproc *proc;
	struct proc_status st;
	enum pump_end end;
	char why[64];
	int werr, r = -1;

	f->stamped = o->follow || o->timestamps || o->since;
	if (first && o->follow)
		buf_addstr(&cmd, "printf '" START_MARK "%s\\n' "
			   "\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\"; ");
	if (first && !o->since)
		compose_cmd(c, o, f->stamped, &cmd);
	else if (docker_cmd(c, f, o, &cmd, e) < 0)
		goto out;
	if (compose_spawn_watched(c, buf_str(&cmd), &proc, &p.in, &p.out,
				  &p.err, e) < 0)
		goto out;
	p.hold_in = 1;
	p.line = on_line;
	p.ctx = f;
	p.err_fd = STDERR_FILENO;
	p.stop_fd = o->stop_fd;
	p.grace_ms = 800;
	end = pump_run(&p, &werr);
	if (end == PUMP_ABANDONED) {
		/* Waiting could hang on a dead link; the process ends. */
		r = 1;
		goto out;
	}
	if (xproc_wait(proc, &st, e) < 0) {
		if (end == PUMP_STOPPED)
			r = 1;
		goto out;
	}
	if (end == PUMP_STOPPED)
		r = 1;
	else if (!st.exited || st.code != 0)
		err_set(e, FX_REMOTE, "%s logs on %s failed (%s)",
			compose_prefix(c), xport_name(x),
			proc_status_text(&st, why, sizeof(why)));
	else
		r = 0;
out:
	buf_release(&cmd);
	return r;
}

int logs_run(const struct logs_opts *o, struct xport **x, struct compose **c,
	     enum logs_end *end, struct err *e)
{
	struct follower f;
	char *name = xstrdup(xport_name(*x)), *prefix = NULL;
	unsigned long shown = 0;
	int attempt = 0, first = 1, local = xport_is_local(*x), r;

	memset(&f, 0, sizeof(f));
	f.o = o;
	*end = LOGS_DONE;
	for (;;) {
		int delay;

		r = *c ? stream(&f, *x, *c, first, e) : -1;
		if (r == 1)
			*end = LOGS_STOPPED;
		if (r >= 0 || !o->follow || local || e->code != FX_CONN)
			break;
		if (f.shown != shown)
			attempt = 0;	/* it streamed: a new series */
		shown = f.shown;
		if (++attempt > o->retries) {
			err_wrap(e, "logs: gave up after %d reconnection attempts",
				 o->retries);
			break;
		}
		delay = attempt > 5 ? 30 : 1 << (attempt - 1);
		/* A lost connection's message says "connection to X lost
		 * (why)" already: name the server only when it does not. */
		log_warn("logs: %s%s%s; reconnecting in %ds (attempt %d of %d)",
			 strstr(e->msg, name) ? "" : name,
			 strstr(e->msg, name) ? "" : ": ", e->msg, delay,
			 attempt, o->retries);
		if (stop_within(o->stop_fd, delay * 1000)) {
			*end = LOGS_STOPPED;
			r = 0;
			break;
		}
		err_clear(e);
		if (reopen(o, x, c, &prefix, e) < 0) {
			e->code = FX_CONN;	/* try again, whatever failed */
			continue;
		}
		log_warn("logs: reconnected to %s; resuming after the last line "
			 "shown", name);
		first = 0;
		f.resuming = 1;
		for (size_t i = 0; i < f.n; i++)
			f.v[i].replayed = 0;
	}
	for (size_t i = 0; i < f.n; i++)
		free(f.v[i].name);
	free(f.v);
	buf_release(&f.out);
	free(name);
	free(prefix);
	return r < 0 ? -1 : 0;
}
