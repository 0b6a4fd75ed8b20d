/*
 * The redis restorer.  The archive's RDB (redis/dump.rdb, or its parts)
 * is staged as it streams past, its magic and CRC64 checked, and only
 * once every part matched the manifest is it put where it belongs:
 *
 *   --to DIR   DIR/dump.rdb (renamed into place);
 *   otherwise  the server's Redis, as the old script would have: the
 *              [redis] service is stopped through compose, the RDB
 *              replaces dbfilename in the data directory ([redis]
 *              data_dir, or CONFIG GET dir mapped through the service
 *              container's mounts), and the service is started again;
 *              then the key count is compared with the manifest.
 *
 * With appendonly yes Redis would load its AOF, not the RDB (and Redis 7
 * starting with AOF on and no AOF starts empty), so the AOF is set aside
 * for the load (renamed *.ferry-old-STAMP, for the user to delete) and
 * the RDB becomes the base of a fresh one: Redis loads it and keeps
 * appending after it.  A Redis that already has keys is refused, nothing
 * changed, unless --clean.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backup/redis.h"
#include "conf/conf.h"
#include "net/compose.h"
#include "net/rdb.h"
#include "net/redis.h"
#include "net/xport.h"
#include "net/xport_fs.h"
#include "restore/redis_restore.h"
#include "restore/todir.h"
#include "util/elapsed.h"
#include "util/fdio.h"
#include "util/log.h"
#include "util/progress.h"
#include "util/retry.h"
#include "util/shquote.h"

#define RDB_MEMBER "redis/dump.rdb"
#define CHUNK (256u * 1024)

struct rr {
	struct rs_ctx *x;
	long long want, expires;	/* the manifest's keys (-1: unknown) */
	unsigned nparts, got;		/* members of the RDB, and seen */
	struct rdb_check chk;
	int last_read, complete;
	uint64_t bytes;
	struct timespec t0;
	/* --to DIR */
	struct todir *dir;
	struct todir_file tf;
	int staged;
	/* the server */
	struct xport *xp;
	struct compose *cp;
	const char *service;
	char *config_dir;	/* CONFIG GET dir, as Redis sees it */
	char *data_dir, *dbfilename, *aofdir, *aoffile;
	int aof;		/* appendonly yes */
	char *stage;		/* the staged RDB on the server */
	struct xfile *f;
	int stopped, started;
	char *aside;		/* where the old AOF went */
};

static long long keyspace_keys(int fd, struct err *e)
{
	const char *argv[] = { "INFO", "keyspace", NULL };
	struct buf reply = BUF_INIT;
	long long n = 0;

	if (redis_call(fd, argv, &reply, e) != '$') {
		if (!e->code)
			err_set(e, FX_FAIL, "redis: INFO keyspace: %s",
				buf_str(&reply));
		buf_release(&reply);
		return -1;
	}
	for (const char *p = buf_str(&reply); (p = strstr(p, "keys=")); p += 5)
		n += strtoll(p + 5, NULL, 10);
	buf_release(&reply);
	return n;
}

static int remote_run(struct rr *p, const char *cmd, const char *what,
		      struct err *e)
{
	struct buf errout = BUF_INIT;
	struct xrun io = XRUN_INIT;
	struct proc_status st;
	int r = -1;

	io.err = &errout;
	if (xport_run(p->xp, cmd, &io, &st, e) < 0)
		goto out;
	if (!st.exited || st.code != 0) {
		err_set(e, FX_REMOTE, "%s: %.400s", what, errout.len ?
			buf_str(&errout) : "failed");
		goto out;
	}
	r = 0;
out:
	buf_release(&errout);
	return r;
}

static int compose_do(struct rr *p, const char *verb, struct err *e)
{
	const char *args[] = { verb, p->service, NULL };
	struct buf cmd = BUF_INIT;
	char *what = xstrfmt("%s %s %s", compose_prefix(p->cp), verb, p->service);
	int r;

	compose_cmdline(p->cp, args, &cmd);
	r = remote_run(p, buf_str(&cmd), what, e);
	buf_release(&cmd);
	free(what);
	return r;
}

/* The host path of the container path dir: through the mounts of the
 * service's container when compose runs one, else dir itself. */
static char *host_dir(struct rr *p, const char *dir, struct err *e)
{
	const char *ps[] = { "ps", "-q", p->service, NULL };
	struct buf cmd = BUF_INIT, out = BUF_INIT;
	struct xrun io = XRUN_INIT;
	struct proc_status st;
	json_t *mounts = NULL, *m;
	char *id = NULL, *host = NULL;
	size_t i, best = 0;

	io.out = &out;
	compose_cmdline(p->cp, ps, &cmd);
	if (xport_run(p->xp, buf_str(&cmd), &io, &st, e) < 0)
		goto out;
	id = xstrndup(buf_str(&out), strcspn(buf_str(&out), "\r\n"));
	if (st.exited && st.code == 0 && *id) {
		const char *insp[] = { "inspect", "--format", "{{json .Mounts}}",
				       id, NULL };

		buf_reset(&cmd);
		buf_reset(&out);
		compose_docker_cmdline(p->cp, insp, &cmd);
		if (xport_run(p->xp, buf_str(&cmd), &io, &st, e) < 0)
			goto out;
		mounts = json_loads(buf_str(&out), 0, NULL);
	}
	json_array_foreach(mounts, i, m) {
		const char *src = json_string_value(json_object_get(m, "Source"));
		const char *dst = json_string_value(json_object_get(m,
							"Destination"));
		size_t n = dst ? strlen(dst) : 0;

		if (src && n > best && !strncmp(dir, dst, n) &&
		    (!dir[n] || dir[n] == '/')) {
			free(host);
			host = xstrfmt("%s%s", src, dir + n);
			best = n;
		}
	}
	if (!host && !mounts)
		host = xstrdup(dir);
	if (!host)
		err_set(e, FX_FAIL, "redis: %s of the %s container is on no "
			"mount: set [redis] data_dir", dir, p->service);
out:
	json_decref(mounts);
	buf_release(&cmd);
	buf_release(&out);
	free(id);
	return host;
}

/* 1 for a file name that stays in its directory. */
static int plain(const char *name)
{
	return name && *name && !strchr(name, '/') && strcmp(name, ".") &&
	       strcmp(name, "..");
}

/* name when it is plain, else (freed) def. */
static char *plain_name(char *name, const char *def)
{
	if (plain(name))
		return name;
	free(name);
	return xstrdup(def);
}

/* What the running Redis says about itself; refuses one with keys. */
static int inspect(struct rr *p, struct err *e)
{
	const struct conf *c = p->x->conf;
	char *dir = NULL, *aof = NULL;
	long long keys;
	int fd = redis_connect(c, p->xp, e), r = -1;

	if (fd < 0)
		return -1;
	if ((keys = keyspace_keys(fd, e)) < 0)
		goto out;
	if (keys > 0 && !p->x->o->clean) {
		err_set(e, FX_FAIL, "redis already holds %lld key%s: give --clean "
			"to replace them, or --to DIR; nothing was changed", keys,
			keys == 1 ? "" : "s");
		goto out;
	}
	/* A CONFIG renamed away leaves Redis' defaults, and data_dir. */
	dir = redis_config_get(fd, "dir", e);
	p->dbfilename = plain_name(redis_config_get(fd, "dbfilename", e),
				   "dump.rdb");
	aof = redis_config_get(fd, "appendonly", e);
	p->aofdir = redis_config_get(fd, "appenddirname", e);	/* Redis 7 */
	p->aoffile = plain_name(redis_config_get(fd, "appendfilename", e),
				"appendonly.aof");
	err_clear(e);
	if (p->aofdir && !plain(p->aofdir)) {
		free(p->aofdir);
		p->aofdir = NULL;
	}
	p->aof = aof && !strcmp(aof, "yes");
	if (!dir && !conf_is_set(c, "redis", "data_dir")) {
		err_set(e, FX_FAIL, "redis refuses CONFIG GET dir: set [redis] "
			"data_dir");
		goto out;
	}
	p->config_dir = dir;
	dir = NULL;
	r = 0;
out:
	close(fd);
	free(dir);
	free(aof);
	return r;
}

static int server_begin(struct rr *p, struct err *e)
{
	const struct conf *c = p->x->conf;
	struct ssh_stat st;
	int missing = 0;

	p->service = conf_str(c, "redis", "service");
	if (!p->x->o->compose)
		return err_set(e, FX_USAGE, "restoring redis into the server "
			       "needs its compose project (or --to DIR)");
	if (xport_open(&p->xp, p->x->o->server, e) < 0 || inspect(p, e) < 0 ||
	    compose_open(&p->cp, p->xp, p->x->o->compose, e) < 0)
		return -1;
	if (conf_is_set(c, "redis", "data_dir"))
		p->data_dir = xport_path(p->xp, conf_str(c, "redis", "data_dir"));
	else if (!(p->data_dir = host_dir(p, p->config_dir, e)))
		return -1;
	if (xport_lstat(p->xp, p->data_dir, &st, &missing, e) < 0 && !missing)
		return err_wrap(e, "redis data directory");
	if (missing || !S_ISDIR(st.mode))
		return err_set(e, FX_FAIL, "redis data directory %s is not a "
			       "directory on the server: set [redis] data_dir",
			       p->data_dir);
	p->stage = xstrfmt("%s/.ferry-restore-%ld.rdb", p->data_dir,
			   (long)getpid());
	/* Redis' own dumps are 0644; its user must be able to read it.  A
	 * directory the SSH user cannot write (a Docker named volume is
	 * root's) fails here, before the service is stopped. */
	if (xport_fopen(p->xp, p->stage, 1, 0644, &p->f, e) < 0) {
		free(p->stage);
		p->stage = NULL;
		err_wrap(e, "redis: staging the RDB in its data directory");
		return err_append(e, "; nothing was changed (the SSH user must "
				  "be able to write there)");
	}
	return 0;
}

static int rr_begin(struct rs_ctx *x, json_t *detail, void **out,
		    struct err *e)
{
	struct rr *p = xcalloc(1, sizeof(*p));
	json_t *members = json_object_get(x->manifest, "members"), *it;
	size_t i, ml = strlen(RDB_MEMBER);
	char *root = NULL;
	int r = -1;

	*out = p;
	p->x = x;
	p->tf.fd = p->tf.dirfd = -1;
	clock_gettime(CLOCK_MONOTONIC, &p->t0);
	rdb_check_init(&p->chk);
	p->want = json_is_integer(json_object_get(detail, "keys")) ?
		json_integer_value(json_object_get(detail, "keys")) : -1;
	p->expires = json_integer_value(json_object_get(detail, "expires"));
	json_array_foreach(members, i, it) {
		const char *n = json_string_value(json_object_get(it, "name"));

		if (n && !strncmp(n, RDB_MEMBER, ml) &&
		    (!n[ml] || !strncmp(n + ml, ".part-", 6)))
			p->nparts++;
	}
	/* A snapshot cut short is no snapshot (the driver restores what
	 * landed of other failed components). */
	if (strcmp(json_string_value(json_object_get(detail, "status")) ?: "",
		   "ok"))
		return err_set(e, FX_FAIL, "the archive's redis component failed "
			       "at backup time (%s): it holds no complete RDB",
			       json_string_value(json_object_get(detail,
						"error")) ?: "no reason recorded");
	if (!p->nparts)
		return err_set(e, FX_VERIFY, "the archive's redis component has "
			       "no %s", RDB_MEMBER);
	if (!x->o->to)
		return server_begin(p, e);
	root = todir_root(x, "redis");
	if (todir_open(&p->dir, root, e) == 0 &&
	    todir_check(p->dir, "dump.rdb", e) == 0 &&
	    todir_existing(p->dir, x->o->clean, e) == 0)
		r = 0;
	else if (e->code)
		err_wrap(e, "redis");
	free(root);
	return r;
}

/* --to DIR: the staging file, once every component checked its targets.
 * (On the server the staging file is begin's check that the directory
 * can be written: it changes nothing.) */
static int rr_act(void *state, struct err *e)
{
	struct rr *p = state;

	if (!p->dir)
		return 0;
	if (todir_stage(p->dir, "dump.rdb", &p->tf, e) < 0)
		return -1;
	p->staged = 1;
	return 0;
}

static int rr_member(void *state, struct rs_member *m, struct err *e)
{
	struct rr *p = state;
	size_t ml = strlen(RDB_MEMBER);
	char *chunk;
	ssize_t n;

	if (strncmp(m->name, "redis/", 6))
		return 0;
	if (strncmp(m->name, RDB_MEMBER, ml) ||
	    (m->name[ml] && strncmp(m->name + ml, ".part-", 6)))
		return 1;
	chunk = xmalloc(CHUNK);
	while ((n = rs_read(m, chunk, CHUNK, e)) > 0) {
		rdb_check_feed(&p->chk, chunk, (size_t)n);
		if (p->f ? xport_fwrite(p->f, chunk, (size_t)n, e) < 0 :
		    fd_write_all(p->tf.fd, chunk, (size_t)n) < 0) {
			if (!p->f)
				err_set(e, FX_FAIL, "write %s/dump.rdb: %s",
					todir_path(p->dir), strerror(errno));
			n = -1;
			break;
		}
	}
	free(chunk);
	if (n < 0)
		return -1;
	p->bytes += m->size;
	p->last_read = ++p->got == p->nparts;
	return 1;
}

static int rr_checked(void *state, struct err *e)
{
	struct rr *p = state;

	(void)e;
	if (p->last_read)
		p->complete = 1;
	p->last_read = 0;
	return 0;
}

/* Puts the staged RDB where Redis loads it (the service is stopped). */
static int place(struct rr *p, struct err *e)
{
	struct buf cmd = BUF_INIT;
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	int r;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	buf_addstr(&cmd, "set -e; cd -- ");
	sh_quote(&cmd, p->data_dir);
	buf_addstr(&cmd, "; s=");
	sh_quote(&cmd, p->stage);
	buf_addstr(&cmd, "; db=");
	sh_quote(&cmd, p->dbfilename);
	buf_addstr(&cmd, "; f=");
	sh_quote(&cmd, p->aoffile);
	if (p->aof && p->aofdir) {
		/* Redis 7: a fresh AOF directory whose base is the RDB. */
		buf_addstr(&cmd, "; d=");
		sh_quote(&cmd, p->aofdir);
		buf_printf(&cmd, "; if [ -e \"$d\" ]; then mv -- \"$d\" "
			   "\"$d.ferry-old-%s\"; fi; mkdir -- \"$d\"; "
			   "cp -- \"$s\" .ferry-dump.tmp; "
			   "mv -f -- \"$s\" \"$d/$f.1.base.rdb\"; "
			   "printf 'file %%s seq 1 type b\\n' \"$f.1.base.rdb\" "
			   ">\"$d/$f.manifest\"; chmod 755 \"$d\"; "
			   "mv -f -- .ferry-dump.tmp \"$db\"; "
			   "chown -R --reference=. \"$d\" \"$db\" 2>/dev/null "
			   "|| true", stamp);
		p->aside = xstrfmt("%s/%s.ferry-old-%s", p->data_dir, p->aofdir,
				   stamp);
	} else if (p->aof) {
		/* Before 7: one AOF file, which may be an RDB as it is. */
		buf_printf(&cmd, "; if [ -e \"$f\" ]; then mv -- \"$f\" "
			   "\"$f.ferry-old-%s\"; fi; cp -- \"$s\" .ferry-aof.tmp; "
			   "mv -f -- .ferry-aof.tmp \"$f\"; mv -f -- \"$s\" \"$db\"; "
			   "chown --reference=. \"$f\" \"$db\" 2>/dev/null || true",
			   stamp);
		p->aside = xstrfmt("%s/%s.ferry-old-%s", p->data_dir, p->aoffile,
				   stamp);
	} else {
		buf_addstr(&cmd, "; mv -f -- \"$s\" \"$db\"; "
			   "chown --reference=. \"$db\" 2>/dev/null || true");
	}
	r = remote_run(p, buf_str(&cmd), "redis: placing the RDB", e);
	buf_release(&cmd);
	return r;
}

/* Waits until the started Redis has loaded its data; its key count. */
static long long loaded_keys(struct rr *p, struct err *e)
{
	const char *argv[] = { "INFO", "persistence", NULL };
	long long timeout = conf_num(p->x->conf, "redis", "timeout");
	struct timespec t0;
	struct buf reply = BUF_INIT;
	long long keys = -1;
	int fd = -1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int try = 0;; try++) {
		retry_backoff(try > 2 ? 2 : try);
		if (fd < 0)
			fd = redis_connect(p->x->conf, p->xp, e);
		/* "\nloading:0": not async_loading, Redis 7's other one. */
		if (fd >= 0 && redis_call(fd, argv, &reply, e) == '$' &&
		    strstr(buf_str(&reply), "\nloading:0")) {
			keys = keyspace_keys(fd, e);
			break;
		}
		if (fd >= 0 && e->code) {
			close(fd);
			fd = -1;
		}
		if (elapsed_since(&t0) * 1000 > (double)timeout) {
			if (!e->code)
				err_set(e, FX_FAIL, "redis: still loading after "
					"%llds", timeout / 1000);
			break;
		}
		err_clear(e);
	}
	if (fd >= 0)
		close(fd);
	buf_release(&reply);
	return keys;
}

static int server_end(struct rr *p, struct err *e)
{
	long long got;
	int r;

	r = xport_fclose(p->f, e);
	p->f = NULL;
	if (r < 0 || compose_do(p, "stop", e) < 0)
		return -1;
	p->stopped = 1;
	if (place(p, e) < 0)
		return -1;
	free(p->stage);
	p->stage = NULL;
	if (compose_do(p, "start", e) < 0)
		return -1;
	p->started = 1;
	if ((got = loaded_keys(p, e)) < 0)
		return err_wrap(e, "redis restored and started again, but");
	if (p->want >= 0 && got != p->want &&
	    !(got < p->want && p->want - got <= p->expires))
		return err_set(e, FX_FAIL, "redis: %lld keys loaded, the manifest "
			       "says %lld", got, p->want);
	if (p->want >= 0 && got != p->want)
		log_warn("redis: %lld keys loaded, %lld in the manifest: keys "
			 "with a TTL expired since the backup", got, p->want);
	if (p->aside)
		log_info("redis: the previous AOF is kept as %s", p->aside);
	if (p->x->o->report) {
		struct buf size = BUF_INIT;

		units_bytes(&size, (uint64_t)p->bytes);
		fprintf(p->x->o->report, "redis -> service %s (%s/%s%s): %lld "
			"keys%s, %s, %.1fs\n", p->service, p->data_dir,
			p->dbfilename, p->aof ? ", AOF rebuilt on it" : "", got,
			p->want == got ? " (as the manifest says)" : "",
			buf_str(&size), elapsed_since(&p->t0));
		buf_release(&size);
	}
	return 0;
}

static int rr_end(void *state, struct err *e)
{
	struct rr *p = state;
	int has_crc;

	if (!p->complete)
		return err_set(e, FX_VERIFY, "the archive ended before %s was "
			       "complete", RDB_MEMBER);
	if (rdb_check_end(&p->chk, &has_crc, e) < 0)
		return err_wrap(e, "%s", RDB_MEMBER);
	if (!p->x->o->to)
		return server_end(p, e);
	p->staged = 0;
	if (todir_commit(&p->tf, 0600, -1, e) < 0)
		return -1;
	if (p->x->o->report) {
		struct buf size = BUF_INIT;
		char keys[32];

		units_bytes(&size, (uint64_t)p->bytes);
		snprintf(keys, sizeof(keys), "%lld", p->want);
		fprintf(p->x->o->report, "redis -> %s/dump.rdb: %s%s, %s "
			"keys in the manifest\n", todir_path(p->dir),
			buf_str(&size), has_crc ? ", CRC64 ok" : "",
			p->want >= 0 ? keys : "unknown");
		buf_release(&size);
	}
	return 0;
}

static void rr_abandon(void *state, struct err *e)
{
	struct rr *p = state;
	struct err ignored = ERR_INIT;

	if (p->staged) {
		todir_discard(&p->tf);
		p->staged = 0;
	}
	todir_undo(p->dir);
	if (p->f) {
		xport_fclose(p->f, &ignored);
		p->f = NULL;
	}
	if (p->stage && p->xp)
		xport_unlink(p->xp, p->stage, &ignored);
	if (p->stopped && !p->started) {
		struct err se = ERR_INIT;

		if (compose_do(p, "start", &se) == 0)
			err_append(e, "; the %s service was started again, with "
				   "its data as it was", p->service);
		else
			err_append(e, "; the %s service is STOPPED: %s", p->service,
				   se.msg);
	}
}

static void rr_free(void *state)
{
	struct rr *p = state;
	struct err ignored = ERR_INIT;

	if (!p)
		return;
	if (p->staged)
		todir_discard(&p->tf);
	xport_fclose(p->f, &ignored);
	todir_free(p->dir);
	compose_free(p->cp);
	xport_close(p->xp);
	free(p->config_dir);
	free(p->data_dir);
	free(p->dbfilename);
	free(p->aofdir);
	free(p->aoffile);
	free(p->stage);
	free(p->aside);
	free(p);
}

const struct restorer redis_restorer = {
	"redis", rr_begin, rr_act, rr_member, rr_checked, rr_end, rr_abandon, rr_free,
};
