#include "deploy/remote.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/log.h"
#include "util/shquote.h"
#include "net/ssh.h"
#include "net/xport.h"
#include "deploy/ignore.h"
#include "deploy/listing.h"

/*
 * The system's directories, as sh case patterns (a * there matches "/"
 * too): those refused themselves, and the trees refused with everything
 * in them -- the system's own files, where a deploy's deletions would
 * break the server.  Every other directory under /var is the system's
 * (/var/www, /var/opt), but what lies below one of them may be a
 * project's (/var/www/app), as under /srv, /opt, /home, /tmp and /mnt.
 */
#define SYS_DIRS "/home|/etc|/usr|/var|/bin|/sbin|/lib*|/boot|/opt|/srv|" \
	"/root|/tmp|/proc|/sys|/dev|/run|/mnt|/media|/snap|/lost+found"
#define SYS_TREES "/etc/*|/usr/*|/bin/*|/sbin/*|/lib*/*|/boot/*|/proc/*|" \
	"/sys/*|/dev/*|/run/*|/snap/*"
#define VAR_TREES "/var/lib/*|/var/log/*|/var/tmp/*|/var/cache/*|" \
	"/var/spool/*|/var/mail/*|/var/backups/*|/var/run/*|/var/lock/*"

/*
 * remote_dir's guard, for every script that touches it (the scan below,
 * the deploy lock, check): with D set, resolves it physically -- through
 * the nearest existing ancestor when it does not exist yet (left in $p),
 * creating nothing -- and refuses it, as written and as resolved, when it
 * is /, the home directory or one of its ancestors, or a system directory
 * or inside one: "dir PATH", "refuse WHY", exit 5.  Leaves $here (the
 * physical path) and $new.
 */
const char remote_guard[] =
	/* Physical paths by cd -P and back, not $(cd ...; pwd -P): a subshell
	 * each costs a fork, milliseconds on a small VM, on every deploy. */
	"unset CDPATH; home=; "
	"if cd -P ~ 2>/dev/null; then home=$PWD; cd - >/dev/null || exit 3; fi; "
	/* why: the reason path $1 may not be synced into, or empty */
	"unsafe() { why=; case \"$1\" in /) why='it is /'; return;; esac; "
	"if [ \"$1\" = \"$home\" ]; then why='it is the home directory'; return; fi; "
	"case \"$home/\" in \"$1\"/*) why='it holds the home directory'; return;; esac; "
	"case \"$1\" in " VAR_TREES ") t=${1#/var/}; "
	"why=\"it is inside /var/${t%%/*}, a system directory\";; /var/*/*) ;; "
	SYS_TREES ") t=${1#/}; why=\"it is inside /${t%%/*}, a system directory\";; "
	"/var/*) why='it is a system directory';; /*/*) ;; "
	SYS_DIRS ") why='it is a system directory';; esac; }; "
	"refuse() { printf 'dir %s\\nrefuse %s\\n' \"$1\" \"$2\"; exit 5; }; "
	/* as written first (a /lib that links to /usr/lib is still /lib);
	 * with a ".." in it, only where it leads means anything */
	"l=$D; while [ \"${l%/}\" != \"$l\" ] && [ \"$l\" != / ]; do l=${l%/}; done; "
	"case \"$l/\" in */../*) ;; *) unsafe \"$l\"; "
	"[ -z \"$why\" ] || refuse \"$l\" \"$why\";; esac; "
	"if [ -d \"$D\" ]; then cd -P -- \"$D\" || exit 3; here=$PWD; "
	"cd - >/dev/null || exit 3; new=0; "
	"elif [ -e \"$D\" ] || [ -L \"$D\" ]; then "
	"refuse \"$D\" 'it exists and is not a directory'; "
	"else p=$D; rest=; while [ ! -d \"$p\" ]; do "
	"rest=\"/${p##*/}$rest\"; p=$(dirname -- \"$p\"); done; "
	"here=$(cd -- \"$p\" && pwd -P) || exit 3; here=\"${here%/}$rest\"; new=1; fi; "
	"unsafe \"$here\"; [ -z \"$why\" ] || refuse \"$here\" \"$why\"; ";

/*
 * After the guard: creates and enters remote_dir.  It is ferry's own when
 * ferry created it or found it empty (.ferry/ is made in it); an existing
 * tree ferry did not make gets .ferry/foreign, which keeps deletions off
 * until a deploy with --adopt.  Sets $fresh when it made .ferry/.
 */
const char remote_claim[] =
	"if [ $new = 1 ]; then mkdir -p -- \"$D\" || exit 3; fi; "
	"cd -- \"$D\" || exit 3; fresh=; "
	"if [ ! -d .ferry ]; then fresh=1; "
	"if [ $new = 0 ] && [ -n \"$(ls -A)\" ]; then "
	"mkdir .ferry && : >.ferry/foreign || exit 3; "
	"else mkdir .ferry || exit 3; fi; fi; ";

/*
 * The scan, run with D, DRY, ADOPT and Z set: lines "key value" up to
 * "list [CODEC]", then records "TYPE SIZE MTIME MODE PATH\0LINK\0",
 * compressed with gzip -1 (else zstd -1) when Z=1 and the server has one:
 * 21,000 entries are 1.2 MB, a tenth of a second on a 100 Mbit link, and
 * 0.14 MB compressed.  A dry run writes nothing: it tells what the claim would
 * find.
 */
static const char script[] =
	"printf 'dir %s\\n' \"$here\"; "
	"if [ $new = 1 ]; then printf 'new\\n'; "
	"if [ \"$DRY\" = 1 ]; then printf 'list\\n'; exit 0; fi; fi; "
	"if [ \"$DRY\" = 1 ]; then cd -- \"$D\" || exit 3; "
	"if { [ -d .ferry ] && [ ! -e .ferry/foreign ]; } || [ -z \"$(ls -A)\" ]; "
	"then :; elif [ \"$ADOPT\" = 1 ]; then printf 'adopted\\n'; "
	"else printf 'foreign\\n'; fi; "
	"else REMOTE_CLAIM "
	"if [ -e .ferry/foreign ]; then if [ \"$ADOPT\" = 1 ]; then "
	"rm -f .ferry/foreign || exit 3; printf 'adopted\\n'; "
	"else printf 'foreign\\n'; fi; fi; "
	/* a stage a killed deploy left; rm only when there is one */
	"for s in .ferry/stage-*; do [ -e \"$s\" ] && rm -rf .ferry/stage-* "
	"2>/dev/null; break; done; fi; "
	/* gzip -1 first for the listing: about as small (0.14 MB against
	 * 0.11), and on a host where starting a process is dear the listing
	 * arrives ~20 ms sooner than through zstd */
	"z=; for t in zstd gzip; do command -v $t >/dev/null 2>&1 && "
	"printf 'has %s\\n' $t && z=$t; done; "
	/* "." itself first, its path empty: the listing's start, and the
	 * sign that find has -printf -- a busybox find fails with nothing */
	"lst() { find . -path ./.ferry -prune -o "
	"-printf '%y %s %T@ %m %P\\0%l\\0'; }; "
	"if [ \"$Z\" != 1 ] || [ -z \"$z\" ]; then printf 'list\\n'; lst; exit; fi; "
	/* find's status, which the pipe would hide, through fd 3 */
	"printf 'list %s\\n' $z; exec 4>&1; "
	"r=$({ { lst; echo $? >&3; } | $z -1 -c -q >&4; } 3>&1); "
	"[ \"$r\" = 0 ]";

int remote_refusal(const char *rdir, const struct buf *out, struct err *e)
{
	const char *d = strstr(buf_str(out), "dir ");
	const char *w = strstr(buf_str(out), "\nrefuse ");
	char *dir, *why;

	if (!d || !w)
		return err_set(e, FX_USAGE, "refusing to sync into remote_dir %s",
			       rdir);
	dir = xstrndup(d + 4, strcspn(d + 4, "\n"));
	why = xstrndup(w + 8, strcspn(w + 8, "\n"));
	/* Name where it leads when that is not what the config says. */
	err_set(e, FX_USAGE, "refusing to sync into remote_dir %s%s%s: %s", rdir,
		strcmp(dir, rdir) ? " = " : "", strcmp(dir, rdir) ? dir : "", why);
	free(dir);
	free(why);
	return -1;
}

int remote_dir_ok(const char *rdir, struct err *e)
{
	static const struct {
		const char *dir, *why;
	} bad[] = {
		{ "", "it is empty" },
		{ "/", "it is the root directory" },
		{ "~", "it is the home directory" },
		{ "~/", "it is the home directory" },
		{ "$HOME", "it is the home directory" },
		{ ".", "it is the login directory (the home directory)" },
		{ "./", "it is the login directory (the home directory)" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!rdir || !strcmp(rdir, bad[i].dir))
			return err_set(e, FX_USAGE, "refusing to sync into "
				       "remote_dir '%s': %s; name the project's "
				       "own directory", rdir ? rdir : "",
				       bad[i].why);
	/* Where "a/missing/../.." leads is known only once "missing" is
	 * made: no guard can judge it before.  A deploy target is named as
	 * it is. */
	for (const char *p = rdir; *p;) {
		size_t n = strcspn(p, "/");

		if (n == 2 && !strncmp(p, "..", 2))
			return err_set(e, FX_USAGE, "refusing to sync into "
				       "remote_dir '%s': it holds '..'; name the "
				       "directory itself", rdir);
		p += n + (p[n] == '/');
	}
	return 0;
}

/*
 * The scan's output as the reader left it, the script's exit status 0 or
 * not (ran): 0 with the tree moved to *t (or info->walk set), -1 with e
 * set, 1 when the script failed and its stderr says why.
 */
static int parse(struct listing *l, int ran, struct ftree *t,
		 struct remote_info *info, struct err *e)
{
	char *p = l->head.p, *end = l->head.p + l->head.len;

	if (!l->listed)
		return ran ? err_set(e, FX_REMOTE, "server listing: no header") :
			1;
	for (char *nl; p < end && (nl = memchr(p, '\n', (size_t)(end - p)));
	     p = nl + 1) {
		char *line = p;

		*nl = '\0';
		if (!strncmp(line, "dir ", 4))
			info->dir = xstrdup(line + 4);
		else if (!strcmp(line, "new"))
			info->created = 1;
		else if (!strcmp(line, "foreign"))
			info->foreign = 1;
		else if (!strcmp(line, "adopted"))
			info->adopted = 1;
		else if (!strcmp(line, "has zstd"))
			info->has_zstd = 1;
		else if (!strcmp(line, "has gzip"))
			info->has_gzip = 1;
	}
	if (!ran && !l->records) {
		/* A find without -printf (busybox) lists nothing and fails:
		 * the caller walks over SFTP instead. */
		info->walk = 1;
		return 0;
	}
	if (!ran)
		return 1;
	if (l->error)
		return err_set(e, FX_REMOTE, "server listing: %s", l->error);
	/* Nothing, compressed, is a cut stream; plain, a dry run's new
	 * directory (no find ran). */
	if (!l->records && l->zipped)
		return err_set(e, FX_REMOTE, "server listing: truncated");
	*t = l->tree;
	l->tree = (struct ftree)FTREE_INIT;
	tree_sort(t);
	return 0;
}

int remote_scan(struct xport *x, const char *rdir, int dry_run, int adopt,
		const struct remote_prelude *pre, struct ftree *out,
		struct remote_info *info, struct err *e)
{
	struct buf cmd = BUF_INIT, serr = BUF_INIT;
	struct listing l = LISTING_INIT;
	struct xrun io = XRUN_INIT;
	struct proc_status st;
	int r = -1, rx;

	memset(info, 0, sizeof(*info));
	buf_addstr(&cmd, "D=");
	sh_quote_path(&cmd, rdir);
	/* Z: compress the listing, unless it does not cross a wire */
	buf_printf(&cmd, "; DRY=%d; ADOPT=%d; Z=%d; ", dry_run ? 1 : 0,
		   adopt ? 1 : 0, !xport_is_local(x));
	buf_addstr(&cmd, remote_guard);
	if (pre)
		buf_addstr(&cmd, pre->text);
	remote_subst(&cmd, script);
	/* read as it arrives, while find still walks the server's tree */
	if (listing_start(&l, &io.out_fd, e) < 0)
		goto out;
	io.err = &serr;
	rx = xport_run(x, buf_str(&cmd), &io, &st, e);
	close(io.out_fd);
	listing_join(&l);
	if (rx < 0)
		goto out;
	if (st.exited && st.code == 5) {
		remote_refusal(rdir, &l.head, e);
		goto out;
	}
	if (pre) {
		int pr = pre->reply(pre->ctx, &l.head, e);
		int ran = st.exited && st.code == 0;

		if (pr == 0 || (pr < 0 && !ran)) {
			/* held, or the prelude itself failed: the caller's
			 * own steps wait, or say what failed */
			err_clear(e);
			r = 1;
			goto out;
		}
		if (pr < 0)
			goto out;
	}
	r = st.exited ? parse(&l, st.code == 0, out, info, e) : 1;
	if (r == 1) {
		r = err_set(e, FX_REMOTE, "listing %s on %s failed: %.300s",
			    rdir, xport_name(x), buf_str(&serr));
		goto out;
	}
	/* A directory a dry run would create has nothing to list. */
	if (r == 0 && info->walk && !info->created) {
		log_verbose("deploy: find on %s has no -printf; walking %s "
			    "instead", xport_name(x), info->dir);
		r = remote_walk(x, info->dir, out, e);
	}
out:
	listing_release(&l);
	buf_release(&cmd);
	buf_release(&serr);
	return r;
}

static int sftp_walk(struct ssh *s, const char *root, const char *rel,
		     struct ftree *out, struct err *e)
{
	char *dir = *rel ? xstrfmt("%s/%s", root, rel) : xstrdup(root);
	struct strlist subdirs = STRLIST_INIT;
	struct ssh_dir *d = NULL;
	char name[4096], target[4096];
	struct ssh_stat st;
	int link, got, r = -1;

	if (ssh_sftp_opendir(s, dir, &d, e) < 0)
		goto out;
	while ((got = ssh_sftp_readdir(d, name, sizeof(name), &st, &link, e)) > 0) {
		char *path, *full, type;
		mode_t fmt = (mode_t)st.mode & S_IFMT;	/* SFTP uses POSIX bits */

		if (!strcmp(name, ".") || !strcmp(name, "..") ||
		    (!*rel && !strcmp(name, ".ferry")))
			continue;
		path = *rel ? xstrfmt("%s/%s", rel, name) : xstrdup(name);
		type = fmt == S_IFDIR ? 'd' : fmt == S_IFLNK ? 'l' :
			fmt == S_IFREG ? 'f' : '?';
		target[0] = '\0';
		full = xstrfmt("%s/%s", root, path);
		if (type == 'l' && ssh_sftp_readlink(s, full, target, sizeof(target),
						     e) < 0) {
			free(full);
			free(path);
			goto close;
		}
		tree_add(out, path, type, type == 'f' ? st.size : 0, st.mtime,
			 (uint32_t)(st.mode & 07777), type == 'l' ? target : NULL);
		if (type == 'd')
			strlist_add(&subdirs, path);
		free(full);
		free(path);
	}
	if (got < 0)
		goto close;
	r = 0;
close:
	ssh_sftp_closedir(d, NULL);
	/* One open handle at a time: descend after closing. */
	for (size_t i = 0; r == 0 && i < subdirs.n; i++)
		r = sftp_walk(s, root, subdirs.v[i], out, e);
out:
	strlist_release(&subdirs);
	free(dir);
	return r;
}

int remote_walk(struct xport *x, const char *dir, struct ftree *out,
		struct err *e)
{
	struct ssh *s = xport_ssh(x);
	int r;

	if (!s) {
		/* host = local: the local walker, without project rules. */
		struct ignore *ig = ign_new();

		ign_add_hard(ig, "/.ferry/");
		r = tree_walk(dir, ig, 0, out, e);
		ign_free(ig);
		return r;
	}
	r = sftp_walk(s, dir, "", out, e);
	tree_sort(out);
	return r;
}

void remote_info_release(struct remote_info *info)
{
	free(info->dir);
}

void remote_subst(struct buf *cmd, const char *text)
{
	const char *at = strstr(text, "REMOTE_CLAIM ");

	if (!at) {
		buf_addstr(cmd, text);
		return;
	}
	buf_add(cmd, text, (size_t)(at - text));
	buf_addstr(cmd, remote_claim);
	buf_addstr(cmd, at + strlen("REMOTE_CLAIM "));
}
