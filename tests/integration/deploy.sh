# The deploy sync engine against the sandbox: the server's tree must equal
# what rsync -a makes from the same files, with excludes honoured, strays
# deleted, type changes, interruptions and dangerous targets handled.
# cost: 110 (seconds, roughly: tests/run starts the costliest first)
set -eu
. "$FERRY_SOURCE_ROOT/tests/lib.sh"
needs_sandbox "deploy"
cd "$SCRATCH"
if ! command -v rsync >/dev/null; then skip "deploy: rsync (the reference) is not installed"; exit 0; fi
R="$SBX_REMOTE_DIR/deploy"
SUM() { python3 "$FERRY_SOURCE_ROOT/tests/treesum.py" "$@"; }
RUNAS() { ip netns exec "$SBX_NS" runuser -u "$SBX_USER" -- sh -c "$1"; }

RUNAS "rm -rf '$R'"

# a project tree with the awkward cases
P="$SCRATCH/proj"
mkdir -p "$P/src/pkg/deep" "$P/with space" "$P/ünïcødé" "$P/empty/nested" \
	"$P/node_modules/lib" "$P/.git/objects" "$P/build" "$P/logs" "$P/cache"
for i in $(seq 1 40); do echo "line $i $RANDOM" >"$P/src/pkg/f$i.py"; done
printf 'tab\there\n' >"$P/with space/a b.txt"
printf 'nl\n' >"$P/with space/new
line.txt"
echo ü >"$P/ünïcødé/ñ.txt"
# names that are not UTF-8 (Latin-1 from an old checkout, a stray byte)
mkdir -p "$P/$(printf 'lat\351n')"
printf 'latin\n' >"$P/$(printf 'lat\351n')/$(printf 'caf\351.txt')"
printf 'ff\n' >"$P/$(printf 'bad\377utf.txt')"
ln -s "$(printf 'bad\377utf.txt')" "$P/$(printf 'lnk\376')"
head -c 2000000 /dev/urandom >"$P/src/blob.bin"
: >"$P/src/empty-file"
echo run >"$P/src/run.sh"; chmod 755 "$P/src/run.sh"
echo private >"$P/src/private.txt"; chmod 600 "$P/src/private.txt"
ln -s pkg/f1.py "$P/src/rel-link"
ln -s /etc/hostname "$P/src/abs-link"
ln -s does/not/exist "$P/src/dangling"
echo SECRET=1 >"$P/.env"; echo X=1 >"$P/.env.local"
# a config in the project that is not the one loaded (-c d.ini)
printf '[redis]\npassword = in-project-ini\n' >"$P/ferry.ini"; chmod 600 "$P/ferry.ini"
echo junk >"$P/node_modules/lib/index.js"; echo git >"$P/.git/objects/x"
echo out >"$P/build/out.js"; echo log >"$P/logs/app.log"; echo c >"$P/cache/c.bin"
printf 'cache/\n*.tmp\n!keep.tmp\n' >"$P/.gitignore"
echo t >"$P/a.tmp"; echo k >"$P/keep.tmp"
printf 'src/pkg/deep/\n' >"$P/.deployignore"
echo d >"$P/src/pkg/deep/skipped.txt"
touch -d '2020-01-02 03:04:05' "$P/src/pkg/f2.py"

cp "$SBX_DIR/ferry.ini" d.ini
sed -i "s|^remote_dir = .*|remote_dir = $R\nlocal_dir = $P|" d.ini
printf '\n[deploy]\nexclude = uploads/\n' >>d.ini
chmod 600 d.ini

# the reference: rsync -a of exactly the files the rules keep
ref() {
	rm -rf "$SCRATCH/ref" && mkdir -p "$SCRATCH/ref"
	"$FERRY_BUILD/tests/tree_probe" "$P" --builtin --exclude /.ferry/ --exclude uploads/ \
		--ignore-file .deployignore --all --print0 >files.txt
	rsync -a --from0 --files-from=files.txt "$P/" "$SCRATCH/ref/"
}

expect_exit "deploy --dry-run on an empty server" 0 "$FERRY" -c d.ini deploy --dry-run
contains "dry run itemizes new files" "$OUT" ">f+++++++++ src/run.sh"
contains "dry run itemizes symlinks" "$OUT" "cL+++++++++ src/rel-link -> pkg/f1.py"
contains "dry run itemizes new directories" "$OUT" "cd+++++++++ empty/nested/"
lacks "dry run never lists .env" "$OUT" ".env"
lacks "dry run never lists node_modules" "$OUT" "node_modules"
lacks "dry run never lists the project's ferry.ini" "$OUT" "ferry.ini"
lacks "dry run respects .gitignore" "$OUT" "a.tmp"
contains "gitignore negation re-includes" "$OUT" "keep.tmp"
lacks "dry run respects .deployignore" "$OUT" "skipped.txt"
same "dry run leaves the server untouched" "$(ls -A "$R" 2>/dev/null | grep -v '^\.ferry$' || true)" ""

expect_exit "initial deploy" 0 "$FERRY" -c d.ini deploy --no-up
contains "summary line" "$OUT" "entries to send"
ref
same "server tree has every file the rules keep" "$(SUM "$R" --skip .ferry | grep -c . )" "$(SUM "$SCRATCH/ref" | grep -c .)"
same "server tree equals rsync's" "$(SUM "$R" --skip .ferry)" "$(SUM "$SCRATCH/ref")"
same "modes kept (755)" "$(stat -c %a "$R/src/run.sh")" "755"
same "modes kept (600)" "$(stat -c %a "$R/src/private.txt")" "600"
same "mtimes kept" "$(stat -c %Y "$R/src/pkg/f2.py")" "$(stat -c %Y "$P/src/pkg/f2.py")"
same "symlinks stay links" "$(readlink "$R/src/abs-link")" "/etc/hostname"
same "dangling link kept as a link" "$(readlink "$R/src/dangling")" "does/not/exist"
same "names with newlines" "$(cat "$R/with space/new
line.txt")" "nl"
same "non-ASCII names" "$(cat "$R/ünïcødé/ñ.txt")" "ü"
same "names that are not UTF-8, byte for byte" "$(cat "$R/$(printf 'lat\351n')/$(printf 'caf\351.txt')" "$R/$(printf 'bad\377utf.txt')")" "latin
ff"
same "a link to a name that is not UTF-8" "$(printf %s "$(readlink "$R/$(printf 'lnk\376')")" | od -An -c | tr -s ' ')" "$(printf 'bad\377utf.txt' | od -An -c | tr -s ' ')"
if [ -d "$R/empty/nested" ]; then ok "empty directories"; else notok "empty directories"; fi
same "no staging left" "$(ls -A "$R/.ferry" 2>/dev/null | grep -v '^deploys.jsonl$' || true)" ""

expect_exit "re-deploy with no change" 0 "$FERRY" -c d.ini deploy --no-up --dry-run
contains "nothing to send" "$OUT" "0 entries to send (0 bytes), 0 to delete"

# server-side files: strays go, excluded ones stay
RUNAS "cd '$R' && echo stray >stray.txt && mkdir -p olddir/sub && echo x >olddir/sub/y && echo S=1 >.env && mkdir -p uploads node_modules/keep && echo u >uploads/u.png && echo k >node_modules/keep/k && mkdir -p mixed && echo keep >mixed/.env && echo go >mixed/go.txt"
expect_exit "deploy deletes strays" 0 "$FERRY" -c d.ini deploy --no-up --dry-run
contains "itemizes deletions" "$OUT" "*deleting   stray.txt"
contains "itemizes deleted dirs" "$OUT" "*deleting   olddir/"
contains "a directory inside a deleted one has its slash too" "$OUT" "*deleting   olddir/sub/"
expect_exit "deploy with strays" 0 "$FERRY" -c d.ini deploy --no-up
if [ ! -e "$R/stray.txt" ] && [ ! -e "$R/olddir" ]; then ok "strays deleted"; else notok "strays deleted"; fi
same "server .env kept" "$(cat "$R/.env")" "S=1"
same "excluded uploads kept" "$(cat "$R/uploads/u.png")" "u"
same "excluded node_modules kept" "$(cat "$R/node_modules/keep/k")" "k"
same "a dir holding an excluded file is kept" "$(cat "$R/mixed/.env")" "keep"
if [ ! -e "$R/mixed/go.txt" ]; then ok "its other files are deleted"; else notok "its other files are deleted"; fi

# changes: content, mtime only, mode only, type changes both ways
echo changed >"$P/src/pkg/f3.py"
# its own mtime: written in the second it was made (a fast run gets here
# within one), the time would not have changed
touch -d '2022-02-02 02:02:02' "$P/src/pkg/f3.py"
touch -d '2021-05-05 05:05:05' "$P/src/pkg/f4.py"
chmod 700 "$P/src/pkg/f5.py"
rm "$P/src/pkg/f6.py"; mkdir "$P/src/pkg/f6.py"; echo inner >"$P/src/pkg/f6.py/inner"
rm -r "$P/empty"; echo now-a-file >"$P/empty"
rm "$P/src/pkg/f7.py"; ln -s f1.py "$P/src/pkg/f7.py"
rm "$P/src/pkg/f8.py"
expect_exit "deploy changes" 0 "$FERRY" -v -c d.ini deploy --no-up
contains "size/time change itemized" "$OUT" ">f.st...... src/pkg/f3.py"
contains "mode change itemized" "$OUT" "src/pkg/f5.py"
ref
same "after changes: server equals rsync's result" "$(SUM "$R" --skip .ferry --skip .env --skip uploads --skip node_modules --skip mixed)" "$(SUM "$SCRATCH/ref")"

# --checksum finds a change that size and mtime hide
printf 'XXXX' | dd of="$R/src/pkg/f9.py" bs=1 seek=0 conv=notrunc 2>/dev/null
touch -r "$P/src/pkg/f9.py" "$R/src/pkg/f9.py"
expect_exit "quick check misses same-size edits" 0 "$FERRY" -c d.ini deploy --no-up --dry-run
lacks "(as rsync's does)" "$OUT" "f9.py"
expect_exit "--checksum" 0 "$FERRY" -v -c d.ini deploy --no-up --checksum
contains "--checksum sends it" "$OUT" "src/pkg/f9.py"
same "content restored" "$(sha256sum <"$R/src/pkg/f9.py")" "$(sha256sum <"$P/src/pkg/f9.py")"

# a sync cut off by killing its SSH session: no truncated file, then converge
head -c 60000000 /dev/urandom >"$P/src/huge.bin"
old=$(sha256sum <"$R/src/blob.bin")
head -c 2000000 /dev/urandom >"$P/src/blob.bin"
"$FERRY" -c d.ini deploy --no-up >cut.out 2>cut.err &
pid=$!
for _ in $(seq 1 100); do
	ls "$R/.ferry" 2>/dev/null | grep -q stage && break
	sleep 0.05
done
sleep 0.2
# Only this sandbox's sessions (the listener's children and theirs): pkill -f
# alone would also cut another sandbox's sessions on the same machine.
for m in $(pgrep -P "$(cat "$SBX_DIR/sshd.pid")"); do
	pkill -KILL -P "$m" || true
	kill -KILL "$m" 2>/dev/null || true
done
set +e; wait $pid; st=$?; set -e
if [ "$st" != 0 ]; then ok "cut sync fails ($st)"; else notok "cut sync fails"; fi
if [ ! -e "$R/src/huge.bin" ] || [ "$(stat -c %s "$R/src/huge.bin")" = 60000000 ]; then
	ok "no truncated file under its final name"; else notok "huge.bin truncated: $(stat -c %s "$R/src/huge.bin")"; fi
b=$(sha256sum <"$R/src/blob.bin")
if [ "$b" = "$old" ] || [ "$b" = "$(sha256sum <"$P/src/blob.bin")" ]; then ok "a replaced file is old or new"; else notok "blob.bin is neither old nor new"; fi
sleep 0.5
expect_exit "next deploy converges" 0 "$FERRY" -c d.ini deploy --no-up
ref
same "converged: server equals rsync's" "$(SUM "$R" --skip .ferry --skip .env --skip uploads --skip node_modules --skip mixed)" "$(SUM "$SCRATCH/ref")"
same "staging cleaned up" "$(ls -A "$R/.ferry" 2>/dev/null | grep -v '^deploys.jsonl$' || true)" ""

# dangerous targets
for bad in "/" "~" ""; do
	sed "s|^remote_dir = .*|remote_dir = $bad|" d.ini >bad.ini; chmod 600 bad.ini
	expect_exit "refuses remote_dir '$bad'" 2 "$FERRY" -c bad.ini deploy --no-up
done
home=$(dirname "$SBX_REMOTE_DIR")
sed "s|^remote_dir = .*|remote_dir = $home/|" d.ini >bad.ini; chmod 600 bad.ini
expect_exit "refuses the home directory itself" 2 "$FERRY" -c bad.ini deploy --no-up
contains "says why" "$ERR" "home directory"

# without --no-up the deploy runs compose up -d and reports its failure
# (the sandbox has docker-compose but no Docker engine yet)
RUNAS "rm -rf '$R'"
mkdir -p "$SCRATCH/c" && echo 'services: {}' >"$SCRATCH/c/docker-compose.yml"
sed "s|^local_dir = .*|local_dir = $SCRATCH/c|" d.ini >c.ini; chmod 600 c.ini
expect_exit "deploy then compose up: its failure is exit 4" 4 "$FERRY" -c c.ini deploy
contains "names compose as what failed" "$ERR" "compose up on"
same "the files were synced before compose ran" "$(cat "$R/docker-compose.yml")" "services: {}"

# the config file in use, inside local_dir, is never sent (other .ini are)
mkdir -p "$SCRATCH/selfcfg"
echo a >"$SCRATCH/selfcfg/a.txt"; echo o >"$SCRATCH/selfcfg/other.ini"
sed "s|^local_dir = .*|local_dir = .|; s|^remote_dir = .*|remote_dir = $R-self|" d.ini >"$SCRATCH/selfcfg/ferry.ini"
chmod 600 "$SCRATCH/selfcfg/ferry.ini"
expect_exit "deploy with the config inside local_dir" 0 "$FERRY" -c "$SCRATCH/selfcfg/ferry.ini" deploy --no-up
if RUNAS "test -f '$R-self/a.txt' && test -f '$R-self/other.ini' && test ! -e '$R-self/ferry.ini'"; then
	ok "the config in use stayed local, the rest arrived"; else notok "ferry.ini sent or files missing: $(RUNAS "ls -A '$R-self'")"; fi
RUNAS "rm -rf '$R-self'"

# the busybox fallback: the SFTP walk lists exactly what find -printf lists
"$FERRY" -c d.ini deploy --no-up >/dev/null 2>&1 || true
"$FERRY_BUILD/tests/ssh_probe" tree d.ini "$R" find >tree-find.txt
"$FERRY_BUILD/tests/ssh_probe" tree d.ini "$R" sftp >tree-sftp.txt
same "SFTP listing equals find's" "$(cat tree-sftp.txt)" "$(cat tree-find.txt)"
if [ "$(wc -l <tree-find.txt)" -gt 50 ]; then ok "the listings are not trivial"; else notok "the listings are not trivial"; fi

# without perl on the server the shell places the stage (one mv per
# directory): the same tree, the same deletions (host = local with a PATH
# that has everything but perl)
mkdir -p "$SCRATCH/noperl"
for f in /usr/local/bin/* /usr/bin/* /bin/*; do
	case ${f##*/} in perl*) continue ;; esac
	[ -e "$SCRATCH/noperl/${f##*/}" ] || ln -s "$f" "$SCRATCH/noperl/${f##*/}"
done
if PATH="$SCRATCH/noperl" command -v perl >/dev/null; then notok "a PATH without perl"; fi
L="$SCRATCH/local-target"
printf '[server]\nhost = local\n[project]\nremote_dir = %s\nlocal_dir = %s\n[deploy]\nexclude = uploads/\n' "$L" "$P" >l.ini
chmod 600 l.ini
expect_exit "deploy without perl on the server" 0 env PATH="$SCRATCH/noperl" "$FERRY" -c l.ini deploy --no-up
ref
same "without perl: server equals rsync's" "$(SUM "$L" --skip .ferry)" "$(SUM "$SCRATCH/ref")"
echo scattered >"$P/src/pkg/f10.py"; echo new >"$P/with space/added.txt"
rm "$P/src/pkg/f11.py"; mkdir -p "$P/brand/new/dir"; echo n >"$P/brand/new/dir/n.txt"
rm "$P/src/pkg/f12.py"; mkdir "$P/src/pkg/f12.py"; echo in >"$P/src/pkg/f12.py/in"
echo stray >"$L/src/stray.txt"
expect_exit "deploy changes without perl" 0 env PATH="$SCRATCH/noperl" "$FERRY" -c l.ini deploy --no-up
ref
same "without perl, after changes: server equals rsync's" "$(SUM "$L" --skip .ferry)" "$(SUM "$SCRATCH/ref")"
same "without perl: no staging left" "$(ls -A "$L/.ferry" 2>/dev/null | grep -v '^deploys.jsonl$' || true)" ""
# a find without -printf (busybox's) lists nothing and fails: the server
# is walked instead, and deletions still follow the listing
mkdir -p "$SCRATCH/nofind"
for f in /usr/local/bin/* /usr/bin/* /bin/*; do
	case ${f##*/} in find) continue ;; esac
	[ -e "$SCRATCH/nofind/${f##*/}" ] || ln -s "$f" "$SCRATCH/nofind/${f##*/}"
done
printf '#!/bin/sh\nfor a; do [ "$a" = -printf ] && { echo "find: unrecognized: -printf" >&2; exit 1; }; done\nexec /usr/bin/find "$@"\n' >"$SCRATCH/nofind/find"
chmod 755 "$SCRATCH/nofind/find"
echo stray >"$L/stray-nofind.txt"; echo changed >"$P/src/pkg/f10.py"
expect_exit "deploy where find has no -printf" 0 env PATH="$SCRATCH/nofind" "$FERRY" -v -c l.ini deploy --no-up
contains "the walk is said" "$ERR" "has no -printf; walking"
if [ ! -e "$L/stray-nofind.txt" ]; then ok "the walk found what to delete"; else notok "stray-nofind.txt left: the walk listed nothing"; fi
ref
same "find without -printf: server equals rsync's" "$(SUM "$L" --skip .ferry)" "$(SUM "$SCRATCH/ref")"
# and with perl, over SSH, the same change set
expect_exit "deploy changes in many directories" 0 "$FERRY" -c d.ini deploy --no-up
same "scattered changes: server equals rsync's" "$(SUM "$R" --skip .ferry --skip .env --skip uploads --skip node_modules --skip mixed)" "$(SUM "$SCRATCH/ref")"
same "scattered changes: no staging left" "$(ls -A "$R/.ferry" 2>/dev/null | grep -v '^deploys.jsonl$' || true)" ""

# memory stays flat: 100,000 files.  Under ASan, whose RSS is not
# measured, 10,000 take the same paths for a tenth of the time.
case "$FERRY" in *asan*) dirs=100 ;; *) dirs=1000 ;; esac
python3 - "$SCRATCH/many" "$dirs" <<'PY'
import os, sys
root = sys.argv[1]
for d in range(int(sys.argv[2])):
    p = os.path.join(root, "d%03d" % d)
    os.makedirs(p, exist_ok=True)
    for f in range(100):
        with open(os.path.join(p, "f%03d.txt" % f), "w") as fh:
            fh.write("x" * (f + d % 7))
PY
sed "s|^local_dir = .*|local_dir = $SCRATCH/many|; s|^remote_dir = .*|remote_dir = $R-many|" d.ini >many.ini
chmod 600 many.ini
/usr/bin/time -f %M -o rss.txt "$FERRY" -c many.ini deploy --no-up >many.out 2>&1 || true
contains "$((dirs * 100)) files deployed" "$(cat many.out)" "$((dirs * 101)) entries to send"
rss=$(tail -n 1 rss.txt)
case "$FERRY" in
*asan*) skip "deploy RSS under 64 MB for 100,000 files: not measured under ASan (${rss} KB)" ;;
*) if [ "$rss" -lt 65536 ]; then ok "deploy of 100,000 files keeps RSS under 64 MB (${rss} KB)"; else notok "deploy RSS ${rss} KB >= 64 MB"; fi ;;
esac
same "all of them arrived" "$(find "$R-many" -path "$R-many/.ferry" -prune -o -type f -print | wc -l)" "$((dirs * 100))"
RUNAS "rm -rf '$R-many'"
