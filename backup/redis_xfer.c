#include "backup/redis_xfer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup/probe.h"
#include "conf/conf.h"
#include "net/xport.h"
#include "util/shquote.h"

const char *rdx_name(const struct rdx *r)
{
	if (!r->server)
		return "tunnel";
	return r->codec == FETCH_ZSTD ? "server (zstd)" : "server (gzip)";
}

void rdx_release(struct rdx *r)
{
	free(r->why);
	free(r->ctr);
	free(r->ctr_port);
	r->why = r->ctr = r->ctr_port = NULL;
}

/* "redis-cli VERSION" for the host's redis-cli, a line per compressor
 * found, and when the host has no redis-cli 7 (older ones cannot write
 * the RDB to a pipe: "--rdb -" makes a file named "-"), "ctr ID PORT" for
 * a running container that publishes Redis' port and has one inside
 * (PORT: Redis' port in it). */
#define CLI7 "\"redis-cli \"[7-9]*|\"redis-cli \"[1-9][0-9]*"
static char *probe_script(int port)
{
	return xstrfmt(
		"v=$(redis-cli --version 2>/dev/null) && echo \"$v\"; for t in "
		"zstd gzip; do command -v $t >/dev/null 2>&1 && echo $t; done; "
		"case \"$v\" in " CLI7 ") ;; *) if command -v docker >/dev/null "
		"2>&1; then for c in $(docker ps -q --filter publish=%d "
		"2>/dev/null); do case \"$(docker exec $c redis-cli --version "
		"2>/dev/null)\" in " CLI7 ") ;; *) continue;; esac; p=$(docker "
		"port $c 2>/dev/null | sed -n 's,^\\([0-9]*\\)/tcp -> .*:%d$,\\1,p' "
		"| head -n 1); echo \"ctr $c ${p:-6379}\"; break; done; fi;; esac; "
		"true", port, port);
}

int rdx_choose(struct rdx *r, const struct conf *conf, struct xport *x,
	       struct err *e)
{
	const char *mode = conf_str(conf, "redis", "transfer");
	int want = !strcmp(mode, "server");
	struct buf have = BUF_INIT, rate = BUF_INIT;
	const char *missing = NULL;
	char *script, *ctr, *ver = NULL, *old = NULL;
	int rc = 0;

	memset(r, 0, sizeof(*r));
	if (!strcmp(mode, "tunnel")) {
		r->why = xstrdup("transfer = tunnel");
		return 0;
	}
	if (!want && xport_is_local(x)) {
		r->why = xstrdup("host = local: straight to Redis, no link to "
				 "spare");
		return 0;
	}
	script = probe_script((int)conf_num(conf, "redis", "port"));
	rc = probe_ask(x, script, "redis: ", "redis-cli", want, &have,
		       &r->link_bps, &r->why, e);
	free(script);
	if (rc <= 0)
		goto out;
	if ((ctr = probe_field(buf_str(&have), "ctr "))) {
		size_t n = strcspn(ctr, " ");

		r->ctr_port = xstrdup(ctr[n] ? ctr + n + 1 : "6379");
		ctr[n] = '\0';
		r->ctr = ctr;
	}
	ver = probe_field(buf_str(&have), "redis-cli ");
	if ((!ver || strtol(ver, NULL, 10) < 7) && !r->ctr)
		missing = !ver ? "redis-cli (on the host or in a container "
			  "publishing the port)" : (old = xstrfmt("redis-cli 7 or "
			  "newer (the host's is %s: older ones cannot write the "
			  "RDB to a pipe)", ver));
	else if (probe_has(buf_str(&have), "zstd"))
		r->codec = FETCH_ZSTD;
	else if (probe_has(buf_str(&have), "gzip"))
		r->codec = FETCH_GZIP;
	else
		missing = "zstd or gzip";
	if ((rc = probe_decide(x, "redis: ", missing, want, r->link_bps,
				&r->why, &rate, e)) <= 0)
		goto out;
	rc = 0;
	r->server = 1;
	r->why = xstrfmt("%s: redis-cli%s%s and %s on the server",
			 buf_str(&rate),
			 r->ctr ? " in container " : "", r->ctr ? r->ctr : "",
			 r->codec == FETCH_ZSTD ? "zstd" : "gzip");
out:
	free(ver);
	free(old);
	buf_release(&have);
	buf_release(&rate);
	return rc;
}

/* redis-cli with the password (when there is one) from its stdin.  It
 * waits on Redis without a timeout of its own, so ferry holds the stdin
 * open and closing it (done, timed out, interrupted, the link gone) ends
 * redis-cli: a watcher reads it to EOF, then kills it. */
static char *rdb_cmd(const struct rdx *r, const struct conf *conf, int auth)
{
	const char *user = conf_str(conf, "redis", "user");
	struct buf b = BUF_INIT;

	if (auth)
		buf_addstr(&b, "IFS= read -r REDISCLI_AUTH; export REDISCLI_AUTH; ");
	buf_addstr(&b, "exec 3<&0; ");
	if (r->ctr) {
		/* Inside the container Redis listens on its own port. */
		buf_printf(&b, "docker exec%s ", auth ? " -e REDISCLI_AUTH" : "");
		sh_quote(&b, r->ctr);
		buf_addstr(&b, " redis-cli -p ");
		sh_quote(&b, r->ctr_port);
	} else {
		buf_addstr(&b, "redis-cli -h ");
		sh_quote(&b, conf_str(conf, "redis", "host"));
		buf_printf(&b, " -p %lld", conf_num(conf, "redis", "port"));
	}
	if (user && *user) {
		buf_addstr(&b, " --user ");
		sh_quote(&b, user);
	}
	buf_addstr(&b, " --rdb - </dev/null & p=$!; { cat <&3; kill $p; } "
		   ">/dev/null 2>&1 & w=$!; exec 3<&-; wait $p; rc=$?; "
		   "kill $w 2>/dev/null; exit $rc");
	return buf_detach(&b, NULL);
}

static ssize_t cmd_read(void *arg, void *buf, size_t n, struct err *e)
{
	return fetch_read(arg, buf, n, e);
}

/* redis-cli's own complaint: its last line that is not progress. */
static void complaint(const struct buf *errout, struct buf *out)
{
	const char *s = buf_str(errout), *last = NULL;

	while (*s) {
		size_t n = strcspn(s, "\n");

		if (n && strncmp(s, "sending REPLCONF", 16) &&
		    strncmp(s, "SYNC sent", 9))
			last = s;
		s += n + (s[n] != 0);
	}
	if (last)
		buf_add(out, last, strcspn(last, "\r\n"));
}

int rdx_copy(const struct rdx *r, const struct conf *conf, struct xport *x,
	     int (*sink)(void *, const void *, size_t, struct err *),
	     void *sink_arg, struct rdb_info *info, int *diskless,
	     struct err *e)
{
	const char *pw = conf_str(conf, "redis", "password");
	int auth = pw && *pw;
	char *cmd = rdb_cmd(r, conf, auth);
	struct fetch_opts fo = { auth ? pw : NULL, 1, conf_num(conf, "redis",
							       "timeout") };
	struct fetch_cmd *f = NULL;
	struct rdb_io io = { cmd_read, NULL, sink, sink_arg, NULL, 0, 1 };
	struct buf errout = BUF_INIT, msg = BUF_INIT;
	struct proc_status st;
	struct err ce = ERR_INIT;
	char tmp[64];
	int rc = -1, copied = -1;

	memset(info, 0, sizeof(*info));
	if (auth && strchr(pw, '\n')) {
		err_set(e, FX_USAGE, "redis: a password with a newline cannot be "
			"handed to redis-cli on the server");
		goto out;
	}
	if (fetch_start(x, cmd, r->codec, &fo, &f, e) == 0) {
		io.read_arg = f;
		copied = rdb_copy(&io, info, &ce);
	}
	if (fetch_end(f, copied == 0, &errout, &st, e) < 0 && copied == 0)
		goto out;
	*diskless = strstr(buf_str(&errout), "EOF marker") != NULL;
	/* A failing redis-cli explains a cut stream better than the cut;
	 * not a timeout or a lost link, after which it was ended. */
	if (st.exited && st.code && !(copied < 0 && ce.code == FX_CONN)) {
		complaint(&errout, &msg);
		err_set(e, strstr(buf_str(&msg), "AUTH") || strstr(buf_str(&msg),
			"connect") ? FX_CONN : FX_REMOTE, "redis: redis-cli on the "
			"server: %s", msg.len ? buf_str(&msg) :
			proc_status_text(&st, tmp, sizeof(tmp)));
		goto out;
	}
	if (copied < 0) {
		if (ce.code) {
			*e = ce;
			err_wrap(e, "redis snapshot");
		}
		goto out;
	}
	rc = 0;
out:
	free(cmd);
	buf_release(&errout);
	buf_release(&msg);
	return rc;
}
