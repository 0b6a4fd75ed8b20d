# Deploy must never be able to wipe a tree by a wrong remote_dir: system
# directories and the home directory's line are refused, an existing tree
# ferry did not make loses nothing until --adopt, a dry run writes nothing,
# and a leading ~/ means the remote home.
# cost: 25 (seconds, roughly: tests/run starts the costliest first)
set -eu
. "$FERRY_SOURCE_ROOT/tests/lib.sh"
needs_sandbox "deploy_safety"
cd "$SCRATCH"
RUNAS() { ip netns exec "$SBX_NS" runuser -u "$SBX_USER" -- sh -c "$1"; }
HOME_R=$(dirname "$SBX_REMOTE_DIR")
R="$SBX_REMOTE_DIR/safety"
RUNAS "rm -rf '$R'"

P="$SCRATCH/proj"
mkdir -p "$P/src"
echo one >"$P/src/one.txt"
echo two >"$P/two.txt"

conf() { # FILE REMOTE_DIR
	cp "$SBX_DIR/ferry.ini" "$1"
	sed -i "s|^remote_dir = .*|remote_dir = $2\nlocal_dir = $P|" "$1"
	chmod 600 "$1"
}

# What a stray write would change: everything in our remote dir, and the
# names in the remote home.  Other runs share that home (their app-*
# directories, tools' dot-directories come and go), so there a name may
# appear, but none may go and none of ferry's own may appear.
snapshot() {
	RUNAS "cd '$SBX_REMOTE_DIR' && find . -printf '%y %m %s %T@ %p\n' | sort"
}
home_names() {
	RUNAS "cd '$HOME_R' && ls -A | grep -v '^app-' | sort"
}
home_kept() { # BEFORE: prints what went, or ferry's own that came
	comm -23 <(printf '%s\n' "$1") <(home_names)
	home_names | grep -E '^\.ferry|^ferry-' || true
}

for bad in /home /etc /usr /var /tmp /lib /opt /srv /root "$HOME_R/.." \
	"$HOME_R/../.." "~/.."; do
	conf bad.ini "$bad"
	before=$(snapshot) hbefore=$(home_names)
	expect_exit "refuses remote_dir $bad" 2 "$FERRY" -c bad.ini deploy --no-up
	contains "refusal of $bad says why" "$ERR" "refusing to sync into remote_dir"
	same "refusing $bad changes nothing" "$(snapshot)" "$before"
	same "refusing $bad changes nothing in the home" "$(home_kept "$hbefore")" ""
done
conf bad.ini /home
expect_exit "refuses /home (dry run too)" 2 "$FERRY" -c bad.ini deploy --dry-run
contains "an ancestor of the home directory is named as such" "$ERR" "holds the home directory"
# inside a system directory: refused before anything is listed.  Dry runs
# only: a build that let /var/tmp (anyone's to write) through would deploy
# into this machine's.
for bad in /usr/bin /usr/local /var/tmp /var/www /var/lib/ferry-app \
	/var/log/app /etc/ferry-app /boot/efi /lib/x86_64-linux-gnu; do
	conf bad.ini "$bad"
	expect_exit "refuses remote_dir $bad (dry run)" 2 "$FERRY" -c bad.ini deploy --dry-run
	contains "refusal of $bad says why" "$ERR" "refusing to sync into remote_dir $bad: it is"
	lacks "no plan for $bad" "$OUT" "entries to send"
done
# named, and no --adopt offered for its files
conf bad.ini /usr/local/bin
expect_exit "refuses /usr/local/bin (dry run)" 2 "$FERRY" -c bad.ini deploy --dry-run
same "says it is inside /usr" "$ERR" "ferry: refusing to sync into remote_dir /usr/local/bin: it is inside /usr, a system directory"
conf bad.ini /usr/bin
expect_exit "refuses a non-empty /usr/bin (dry run)" 2 "$FERRY" -c bad.ini deploy --dry-run
lacks "no --adopt offered for /usr/bin" "$ERR" "--adopt"
conf bad.ini /var/tmp/app
expect_exit "refuses /var/tmp/app" 2 "$FERRY" -c bad.ini deploy --dry-run
contains "says it is inside /var/tmp" "$ERR" "it is inside /var/tmp, a system directory"
conf bad.ini /var/www
"$FERRY" -c bad.ini check >check.out 2>&1 && rc=0 || rc=$?
same "check: a refused remote_dir exits 2" "$rc" 2
contains "check: the remote dir row says why" "$(cat check.out)" "remote dir  FAIL refusing to sync into remote_dir /var/www: it is"
# a '..' is refused before anything is asked of the server: where
# "missing/../.." leads is known only once "missing" is made, and a guard
# judging the path before that let a deploy empty the directory it led to
RUNAS "mkdir -p '$HOME_R/dd-victim' && echo keep >'$HOME_R/dd-victim/precious.txt'"
for bad in /usr/lib/../local /srv/ferry-nope/../../usr/bin "$HOME_R/dd-victim/nope/../../dd-victim" \
	"~/nope/../.."; do
	conf bad.ini "$bad"
	expect_exit "refuses remote_dir $bad" 2 "$FERRY" -c bad.ini deploy --no-up
	contains "refusal of $bad names the '..'" "$ERR" "remote_dir '$bad': it holds '..'"
done
same "the directory a '..' led to lost nothing" "$(RUNAS "cat '$HOME_R/dd-victim/precious.txt'")" "keep"
RUNAS "rm -rf '$HOME_R/dd-victim'"
# a project's own directory below the system's is fine (it need not exist)
for good in /srv/ferry-app /opt/ferry-app /var/www/ferry-app /var/opt/ferry-app \
	/home/ferry-user/app; do
	conf good.ini "$good"
	expect_exit "dry run into $good" 0 "$FERRY" -c good.ini deploy --dry-run --no-up
	lacks "$good is not refused" "$ERR" "refusing"
done
conf bad.ini "$HOME_R/link-to-root"
RUNAS "ln -sfn / '$HOME_R/link-to-root'"
expect_exit "refuses a symlink to /" 2 "$FERRY" -c bad.ini deploy --no-up
contains "names where the link leads" "$ERR" "= /:"
RUNAS "rm -f '$HOME_R/link-to-root'"

# A dry run into a directory that does not exist yet creates nothing.
conf d.ini "$R/new"
before=$(snapshot)
expect_exit "dry run into a new directory" 0 "$FERRY" -c d.ini deploy --dry-run
contains "dry run plans the files" "$OUT" ">f+++++++++ src/one.txt"
same "dry run wrote nothing on the server" "$(snapshot)" "$before"
if RUNAS "test -e '$R'"; then notok "dry run created $R"; else ok "dry run did not create remote_dir"; fi

# ~/ is the remote home, not a directory called "~".
rel=${R#"$HOME_R"/}
conf t.ini "~/$rel/tilde"
expect_exit "deploy into ~/..." 0 "$FERRY" -c t.ini deploy --no-up
if RUNAS "test -f '$R/tilde/src/one.txt'"; then ok "~/ lands in the remote home"; else notok "~/ did not land in $R/tilde"; fi
# (other sandboxes share this home: look only for our own path)
if RUNAS "test -e '$HOME_R/~/$rel/tilde'"; then notok "a literal ~ directory was made"; else ok "no literal ~ directory"; fi
# check resolves ~/ as deploy does: there after the deploy, not before
"$FERRY" -c t.ini check >check.out 2>&1 || true
same "check: a ~/ remote dir that is there is ok" "$(grep '^remote dir' check.out)" "remote dir  ok   ~/$rel/tilde"
lacks "check: ... and not said missing" "$(cat check.out)" "not there yet"
conf t2.ini "~/$rel/tilde-new"
"$FERRY" -c t2.ini check >check.out 2>&1 || true
contains "check: a ~/ remote dir not there yet" "$(cat check.out)" "remote dir  ok   ~/$rel/tilde-new (not there yet: the first deploy makes it)"

# An existing tree ferry did not make: files arrive, nothing is deleted.
RUNAS "mkdir -p '$R/foreign/keep' && echo precious >'$R/foreign/precious.txt' && echo k >'$R/foreign/keep/k.txt'"
conf f.ini "$R/foreign"
before=$(snapshot)
expect_exit "dry run into a foreign tree" 0 "$FERRY" -c f.ini deploy --dry-run
lacks "dry run into a foreign tree plans no deletion" "$OUT" "*deleting"
contains "dry run says how to adopt it" "$ERR" "--adopt"
same "dry run into a foreign tree wrote nothing" "$(snapshot)" "$before"
expect_exit "deploy into a foreign tree" 0 "$FERRY" -c f.ini deploy --no-up
contains "says nothing was deleted and how to adopt" "$ERR" "ferry deploy --adopt"
if RUNAS "test -f '$R/foreign/precious.txt' && test -f '$R/foreign/keep/k.txt'"; then
	ok "foreign files survive"; else notok "foreign files were deleted"; fi
if RUNAS "test -f '$R/foreign/src/one.txt'"; then ok "local files arrived"; else notok "local files missing"; fi
expect_exit "second deploy into the foreign tree" 0 "$FERRY" -c f.ini deploy --no-up
lacks "second deploy: .ferry/ exists now, not said missing" "$ERR" "no .ferry/ in it"
contains "second deploy: still says why nothing was deleted" "$ERR" "not empty when ferry first came"
if RUNAS "test -f '$R/foreign/precious.txt'"; then ok "still foreign: nothing deleted"; else notok "second deploy deleted foreign files"; fi
expect_exit "deploy --adopt" 0 "$FERRY" -c f.ini deploy --no-up --adopt
if RUNAS "test -e '$R/foreign/precious.txt' || test -e '$R/foreign/keep'"; then
	notok "--adopt left the strays"; else ok "--adopt: the tree is ferry's, strays deleted"; fi
if RUNAS "test -f '$R/foreign/two.txt'"; then ok "--adopt keeps the project"; else notok "--adopt lost project files"; fi
RUNAS "echo stray >'$R/foreign/stray.txt'"
expect_exit "deploy after adoption" 0 "$FERRY" -c f.ini deploy --no-up
if RUNAS "test -e '$R/foreign/stray.txt'"; then notok "adopted tree keeps strays"; else ok "adopted tree is synced with deletions"; fi
lacks "no adoption hint once adopted" "$ERR" "--adopt"
# the dry run's count is the number of lines it prints
RUNAS "mkdir -p '$R/foreign/data' '$R/foreign/logs' && echo d >'$R/foreign/data/db.sqlite' && echo k >'$R/foreign/keepme.txt' && echo l >'$R/foreign/logs/x.log' && echo y >'$R/foreign/logs/y.txt'"
expect_exit "dry run with strays in and under directories" 0 "$FERRY" -c f.ini deploy --dry-run --no-up
lines=$(grep -c '^\*deleting' <<<"$OUT" || true)
contains "dry run: as many to delete as *deleting lines" "$OUT" "$lines to delete"
if grep -qx '\*deleting   logs/' <<<"$OUT"; then notok "logs/ (kept: it holds an excluded file) is listed"
else ok "a directory kept for an excluded file is not listed"; fi
same "the lines" "$lines" "4"

# An empty existing directory is ferry's from the first deploy.
RUNAS "mkdir -p '$R/empty'"
conf e.ini "$R/empty"
expect_exit "deploy into an empty directory" 0 "$FERRY" -c e.ini deploy --no-up
RUNAS "echo stray >'$R/empty/stray.txt'"
expect_exit "second deploy into it" 0 "$FERRY" -c e.ini deploy --no-up
if RUNAS "test -e '$R/empty/stray.txt'"; then notok "an empty directory did not become ferry's"; else ok "an empty directory becomes ferry's"; fi
# remote_dir = ~ is refused with the reason
conf bad.ini "~"
expect_exit "refuses remote_dir ~" 2 "$FERRY" -c bad.ini deploy --dry-run
same "says it is the home directory" "$ERR" "ferry: refusing to sync into remote_dir '~': it is the home directory; name the project's own directory"

# a deploy lock that cannot be made: one line, no literal \n
RUNAS "mkdir -p '$R/ro' && echo x >'$R/ro/x' && chmod 555 '$R/ro'"
conf ro.ini "$R/ro"
expect_exit "deploy lock in a read-only directory" 4 "$FERRY" -c ro.ini deploy --no-up
contains "says it cannot create the lock" "$ERR" "cannot create the deploy lock"
lacks "no literal backslash-n" "$ERR" '\n'
RUNAS "chmod 755 '$R/ro'"
RUNAS "rm -rf '$R'"
