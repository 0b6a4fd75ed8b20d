#include "backup/backup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/elapsed.h"
#include "util/escape.h"
#include "util/jtext.h"
#include "util/lock.h"
#include "util/log.h"
#include "util/progress.h"
#include "util/sigclean.h"
#include "net/xport.h"
#include "backup/archive.h"
#include "backup/component.h"
#include "backup/manifest.h"
#include "backup/offsite.h"
#include "backup/repo.h"
#include "conf/conf.h"

char *backup_lock_path(const struct conf *c)
{
	return xstrfmt("%s/.ferry.lock", conf_str(c, "backup", "dir"));
}

static int mkdirs(const char *dir, struct err *e)
{
	char *p = xstrdup(dir);
	int r = 0;

	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			r = -1;
		*s = '/';
	}
	if (mkdir(p, 0700) < 0 && errno != EEXIST)
		r = -1;
	if (r < 0)
		err_set(e, FX_FAIL, "backup dir %s: %s", dir, strerror(errno));
	free(p);
	return r;
}

/* The components to run: --only's, or every configured one ferry has.
 * sel has room for every component of the table. */
static int select_components(const struct conf *c, const struct backup_opts *o,
			     const struct component **sel, size_t *n,
			     struct err *e)
{
	*n = 0;
	if (o->only && o->only->n) {
		for (size_t i = 0; i < o->only->n; i++) {
			const struct component *k = component_find(o->only->v[i]);

			if (!k)
				return err_set(e, FX_USAGE, "unknown component '%s' "
					       "(known: postgres, minio, redis, "
					       "neo4j, logs, files)", o->only->v[i]);
			for (size_t j = 0; j < *n; j++)
				if (sel[j] == k)
					return err_set(e, FX_USAGE, "component "
						       "'%s' is named twice",
						       k->name);
			sel[(*n)++] = k;
		}
		return 0;
	}
	for (const struct component *k = components; k->name; k++) {
		/* A configured source ferry cannot back up is selected all
		 * the same: it fails, so the run cannot pass for complete. */
		if (conf_has_section(c, k->section))
			sel[(*n)++] = k;
	}
	if (*n == 0)
		return err_set(e, FX_USAGE, "%s: nothing to back up (configure "
			       "[postgres])", conf_path(c));
	return 0;
}

struct run {
	const struct conf *conf;
	char *final, *partial, *stem;
	int fd;
	struct arc *arc;
	json_t *manifest;
	struct xport *x;
	time_t start;
};

static int publish(struct run *r, const struct backup_opts *o,
		   struct backup_result *res, struct err *e)
{
	const struct arc_member *m;
	struct stat st;
	char *text = NULL, *side = NULL;
	size_t n;
	int rc = -1;

	if (arc_sync(r->arc, e) < 0)
		goto out;
	m = arc_members(r->arc, &n);
	manifest_finish(r->manifest, time(NULL), m, n);
	res->members = n;
	text = jtext_dumps(r->manifest, JSON_INDENT(2) | JSON_PRESERVE_ORDER,
			   "the manifest", e);
	if (!text || arc_add(r->arc, MANIFEST_NAME, text, strlen(text), e) < 0 ||
	    arc_finish(r->arc, e) < 0)
		goto out;
	if (fsync(r->fd) < 0 || fstat(r->fd, &st) < 0) {
		err_set(e, FX_FAIL, "write %s: %s", r->partial, strerror(errno));
		goto out;
	}
	if (o->publish) {
		if (o->publish(o->publish_arg, r->partial, r->final,
			       (uint64_t)st.st_size, e) < 0)
			goto out;
	} else if (rename(r->partial, r->final) < 0) {
		err_set(e, FX_FAIL, "rename %s: %s", r->final, strerror(errno));
		goto out;
	}
	/* Without the directory's fsync the rename may not survive a crash:
	 * say so, but the archive itself is complete. */
	if (repo_sync_dir(conf_str(r->conf, "backup", "dir")) < 0)
		log_warn("fsync %s: %s", conf_str(r->conf, "backup", "dir"),
			 strerror(errno));
	side = repo_sidecar_path(r->stem);
	if (repo_write_file(side, text, strlen(text), e) < 0) {
		/* The archive is complete and holds its manifest. */
		log_warn("%s", e->msg);
		err_clear(e);
	}
	res->archive = xstrdup(r->final);
	res->size = (uint64_t)st.st_size;
	rc = 0;
out:
	free(text);
	free(side);
	return rc;
}

/* What landed of a component that failed a database or bucket at a
 * time (postgres, neo4j, minio): " (landed: a, b)", or "". */
static void landed_names(json_t *detail, struct buf *b)
{
	static const char *const keys[] = { "databases", "buckets" };
	const char *k;
	json_t *v;

	for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++)
		json_object_foreach(json_object_get(detail, keys[i]), k, v)
			buf_printf(b, "%s%s", b->len ? ", " : " (landed: ", k);
	if (b->len)
		buf_add(b, ")", 1);
}

/* One line per component: what it took, how much, how long. */
static void report(struct run *r, FILE *out, const char *comp,
		   const char *error, json_t *detail, const char *summary,
		   double seconds)
{
	const struct arc_member *m;
	struct err ignored = ERR_INIT;
	size_t n, k = 0, len = strlen(comp);
	uint64_t bytes = 0;

	if (!out)
		return;
	/* The meter on stderr shares the terminal: the line starts clean. */
	progress_interrupt();
	if (error) {
		struct buf landed = BUF_INIT;

		landed_names(detail, &landed);
		fprintf(out, "%-9s FAILED after %.1fs: %s%s\n", comp, seconds,
			error, buf_str(&landed));
		buf_release(&landed);
		fflush(out);
		return;
	}
	/* Waits for the writer: the sizes are those of the written members. */
	if (arc_sync(r->arc, &ignored) == 0) {
		m = arc_members(r->arc, &n);
		for (size_t i = 0; i < n; i++)
			if (!strncmp(m[i].name, comp, len) && m[i].name[len] == '/') {
				bytes += m[i].size;
				k++;
				log_verbose("  %s %llu bytes", m[i].name,
					    (unsigned long long)m[i].size);
			}
	}
	fprintf(out, "%-9s ok, %s%s%llu bytes in %zu member%s, %.1fs\n", comp,
		summary, *summary ? ", " : "", (unsigned long long)bytes, k,
		k == 1 ? "" : "s", seconds);
	fflush(out);
}

static int start(struct run *r, const struct conf *c, struct err *e)
{
	r->start = time(NULL);
	/* A backup started in the same second as the last one gets the next
	 * "-N" name: this run holds the lock, so the name stays free. */
	r->stem = repo_new_stem(conf_str(c, "backup", "dir"),
				conf_str(c, "backup", "name"), r->start);
	r->final = xstrfmt("%s.tar.zst", r->stem);
	r->partial = xstrfmt("%s.partial", r->final);
	/* A partial left by a crash (SIGKILL, power loss) is garbage: this
	 * run holds the lock, so no one else is writing it. */
	unlink(r->partial);
	r->fd = open(r->partial, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (r->fd < 0)
		return err_set(e, FX_FAIL, "create %s: %s", r->partial,
			       strerror(errno));
	if (sigclean_add(r->partial) < 0)
		return err_set(e, FX_FAIL, "cannot register %s for removal on "
			       "a signal", r->partial);
	if (arc_create(&r->arc, r->fd, (int)conf_num(c, "backup",
		       "compression_level"), (int)conf_num(c, "backup", "threads"),
		       r->start, e) < 0)
		return -1;
	return 0;
}

int backup_run(const struct conf *c, const struct backup_opts *o,
	       struct backup_result *res, struct err *e)
{
	const struct component **sel = NULL;
	struct lock lk = LOCK_INIT;
	struct run r = { 0 };
	struct buf failures = BUF_INIT;
	struct timespec t0;
	char *lockpath = backup_lock_path(c);
	size_t nsel = 0;
	int rc = -1, failed = 0, landed = 0;
	struct err first = ERR_INIT;

	memset(res, 0, sizeof(*res));
	r.conf = c;
	r.fd = -1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	sel = xcalloc(component_count(), sizeof(*sel));
	if (select_components(c, o, sel, &nsel, e) < 0 ||
	    mkdirs(conf_str(c, "backup", "dir"), e) < 0 ||
	    lock_take(&lk, lockpath, e) < 0)
		goto out;
	if (start(&r, c, e) < 0)
		goto out;
	if (xport_open(&r.x, o->server, e) < 0)
		goto out;
	r.manifest = manifest_new(conf_str(c, "backup", "name"), xport_name(r.x),
				  r.start);
	for (size_t i = 0; i < nsel; i++) {
		struct buf summary = BUF_INIT;
		struct bk_ctx ctx = { .conf = c, .x = r.x, .arc = r.arc,
				      .compose = o->compose, .summary = &summary };
		struct err ce = ERR_INIT;
		json_t *detail = json_object();
		struct timespec ct;
		int cr;

		log_verbose("backing up %s", sel[i]->name);
		clock_gettime(CLOCK_MONOTONIC, &ct);
		if (sel[i]->run)
			cr = sel[i]->run(&ctx, detail, &ce);
		else
			cr = err_set(&ce, FX_FAIL, "[%s] is configured, but ferry "
				     "%s cannot back it up yet", sel[i]->section,
				     FERRY_VERSION);
		/* The error may quote a server's name or output in any bytes:
		 * from here on it is text (the report, the manifest, the
		 * state file, the webhook). */
		if (cr < 0) {
			/* ...and it may quote a secret (a server echoing a
			 * password back): masked as the logs are, before the
			 * manifest, which goes off-site, or stdout see it. */
			char *m = log_mask(ce.msg);

			snprintf(ce.msg, sizeof(ce.msg), "%s", m);
			free(m);
			esc_fix_text(ce.msg, sizeof(ce.msg));
		}
		report(&r, o->report, sel[i]->name, cr == 0 ? NULL : ce.msg,
		       detail, buf_str(&summary), elapsed_since(&ct));
		buf_release(&summary);
		if (cr < 0) {
			failed++;
			landed += ctx.landed;
			buf_printf(&failures, "%s%s failed (%s)", failures.len ?
				   "; " : "", sel[i]->name, ce.msg);
			manifest_component(r.manifest, sel[i]->name, ce.msg, detail);
			/* A lost connection fails every component after it:
			 * the run ends here, publishing nothing (exit 3). */
			if (xport_lost(r.x)) {
				err_set(e, FX_CONN, "backup %s: %s", sel[i]->name,
					xport_lost(r.x));
				goto out;
			}
			if (!first.code) {
				first = ce;
				err_wrap(&first, "backup %s", sel[i]->name);
			}
			/* The run's own error, printed at the top, says it
			 * once when the run ends here. */
			if (o->fail_fast) {
				*e = first;
				goto out;
			}
			if (!o->report)
				log_error("%s: %s", sel[i]->name, ce.msg);
			continue;
		}
		landed++;
		manifest_component(r.manifest, sel[i]->name, NULL, detail);
	}
	/* Nothing good to publish: the first failure is the run's (with its
	 * exit code: a wrong password is still exit 3). */
	if (!landed) {
		*e = first;
		if (failed > 1)
			err_append(e, " (all %d components failed)", failed);
		goto out;
	}
	if (publish(&r, o, res, e) < 0)
		goto out;
	res->failed = failed;
	/* A partial archive goes off-site too: what landed is kept there as
	 * well, its manifest marking it partial. */
	if (offsite_configured(c) && offsite_upload(c, res->archive, e) < 0) {
		/* The local archive stays; the run still fails, loudly. */
		err_wrap(e, "archive %s written, but the off-site copy failed",
			 res->archive);
		if (failed)
			err_append(e, " (and the backup is partial: %s)",
				   buf_str(&failures));
		goto out;
	}
	rc = 0;
	if (failed) {
		err_set(e, FX_PARTIAL, "partial backup %s: %s", res->archive,
			buf_str(&failures));
		rc = FX_PARTIAL;
	}
out:
	if (rc < 0 && r.partial)
		unlink(r.partial);
	if (r.partial)
		sigclean_del(r.partial);
	arc_free(r.arc);
	if (r.fd >= 0)
		close(r.fd);
	xport_close(r.x);
	json_decref(r.manifest);
	lock_release(&lk);
	res->seconds = elapsed_since(&t0);
	free(r.final);
	free(r.partial);
	free(r.stem);
	free(lockpath);
	free(sel);
	buf_release(&failures);
	return rc;
}
