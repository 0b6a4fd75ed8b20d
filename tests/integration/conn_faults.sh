# When the connection dies: every command notices, stops and says so.
# Over a shaped link (tbf) so that data is in flight, the sandbox's sshd
# sessions are killed, or the link is taken down, at random moments of a
# deploy, backup, restore, off-site upload, verify --offsite, check and
# logs -f (which reconnects, as documented).
# Each run must end within its bound with exit 3, name the loss, leave no
# partial file, lock or tunnel socket, and use little CPU while it waits.
# The random seed is printed; SEED=N replays a run's moments.
# cost: 170 (seconds, roughly: tests/run starts the costliest first)
set -eu
. "$FERRY_SOURCE_ROOT/tests/lib.sh"
needs_sandbox "conn_faults"
. "$FERRY_SOURCE_ROOT/tests/sandbox/faults.sh"
cd "$SCRATCH"

SEED=${SEED:-$(( $(date +%s%N) % 100000 ))}
RANDOM=$SEED
echo "# conn_faults: SEED=$SEED (replay with SEED=$SEED)"
RATE=40mbit
KILL_BOUND=5		# s: "at once" (a second or two), on a busy machine
LINK_BOUND=7		# s: keepalive x keepalive_count = 3 s, plus slack
TCK=$(getconf CLK_TCK)

S3PID=""
cleanup() {
	fault_link_up 2>/dev/null || true
	fault_unshape
	[ -n "$S3PID" ] && kill "$S3PID" 2>/dev/null || true
}
trap cleanup EXIT

PSQL() { ip netns exec "$SBX_NS" env PGPASSWORD="$SBX_PG_PASSWORD" PGOPTIONS="-c client_min_messages=warning" psql -qAtX -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 "$@"; }
# Tunnels' sockets live under TMPDIR: a private one shows what is left.
export TMPDIR="$SCRATCH/tmp"
mkdir -p "$TMPDIR"

# SRC DST: the config with a short keepalive (1 s x 3) for link faults
alive_conf() {
	sed 's/^connect_timeout = .*/&\nkeepalive = 1s\nkeepalive_count = 3/' "$1" >"$2"
	chmod 600 "$2"
}

# a delay in milliseconds, uniform in [LO_MS, HI_MS]
pick() { # LO_MS HI_MS
	echo "$(( $1 + (RANDOM * 32768 + RANDOM) % ($2 - $1 + 1) ))"
}
ms() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# wait_up PID: until PID's TCP connection to the server's sshd is
# established (or PID has ended)
wait_up() {
	while ! ss -tnpH state established dst "$SBX_IP:22" 2>/dev/null | grep -q "pid=$1," &&
		kill -0 "$1" 2>/dev/null; do
		sleep 0.05
	done
}

# fault_run NAME KIND(kill|link|store) DELAY_MS BOUND_S [--after FILE_GLOB | --up] [--done REF] -- CMD...
# Starts CMD, waits DELAY_MS (counted from when FILE_GLOB matches a new
# file, with --after; from when CMD's TCP connection to the server's sshd
# is established, with --up: a slow build may still be starting when a
# delay counted from the start ends), applies the fault, and checks that CMD ends within
# BOUND_S with exit 3 and a message saying the connection was lost, using
# little CPU meanwhile.  Sets RC and ERRTEXT; returns 1 when CMD ended
# before the fault (no fault applied: reported as a skip).  With --done,
# a CMD whose output is REF's (an unfaulted run's) had finished with the
# server before the fault, though still running (a sanitizer's exit
# scan): reported as a skip too.
fault_run() {
	local name=$1 kind=$2 delay=$3 bound=$4 after="" up="" done_ref="" pid t0 c0 c1 el cpu_ms n0=0
	shift 4
	while [ "$1" != -- ]; do
		case $1 in
		--after) after=$2; shift 2 ;;
		--up) up=1; shift ;;
		--done) done_ref=$2; shift 2 ;;
		*) echo "fault_run: unknown option '$1'" >&2; exit 1 ;;
		esac
	done
	shift	# --
	# shellcheck disable=SC2086
	[ -n "$after" ] && n0=$(ls -d $after 2>/dev/null | wc -l)
	"$@" >run.out 2>run.err &
	pid=$!
	if [ -n "$after" ]; then
		# shellcheck disable=SC2086
		while [ "$(ls -d $after 2>/dev/null | wc -l)" = "$n0" ] && kill -0 $pid 2>/dev/null; do
			sleep 0.05
		done
	fi
	[ -z "$up" ] || wait_up $pid
	sleep "$(ms "$delay")"
	if ! kill -0 $pid 2>/dev/null; then
		set +e; wait $pid; RC=$?; set -e
		ERRTEXT=$(cat run.err)
		skip "$name: ended (exit $RC) before the fault at $(ms "$delay") s"
		return 1
	fi
	case $kind in
	kill) fault_kill_sessions ;;
	link) fault_link_down ;;
	store) kill -KILL "$S3PID" ;;
	esac
	# counted from when the fault is in place (pgrep and ip are slow on
	# a busy machine)
	c0=$(fault_cpu $pid || echo 0)
	t0=$(now_ms)
	c1=$c0
	while kill -0 $pid 2>/dev/null; do
		c1=$(fault_cpu $pid || echo "$c1")
		if [ $(( $(now_ms) - t0 )) -gt $((bound * 1000)) ]; then
			kill -KILL $pid 2>/dev/null || true
			break
		fi
		sleep 0.05
	done
	set +e; wait $pid; RC=$?; set -e
	el=$(( $(now_ms) - t0 ))
	if [ "$kind" = link ]; then fault_link_up; fi
	ERRTEXT=$(cat run.err)
	if [ -n "$done_ref" ] && [ "$RC" != 3 ] && cmp -s run.out "$done_ref"; then
		skip "$name: had finished with the server before the fault at $(ms "$delay") s (exit $RC, an unfaulted run's report)"
		return 1
	fi
	cpu_ms=$(( (c1 - c0) * 1000 / TCK ))
	echo "# $name: fault at $(ms "$delay") s, exit $RC after $(ms $el) s, CPU $(ms $cpu_ms) s while waiting"
	if [ $el -le $((bound * 1000)) ]; then ok "$name: ends within ${bound} s ($(ms $el) s)"
	else notok "$name: still running ${bound} s after the fault (killed)"; fi
	if [ "$RC" = 3 ]; then ok "$name: exit code 3"
	else notok "$name: exit code: got '$RC', want '3': $(err_gist run.err)"; fi
	# A busy loop burns the whole wait; waiting costs next to nothing.
	if [ $cpu_ms -le $(( 250 + el / 20 )) ]; then ok "$name: little CPU while waiting ($(ms $cpu_ms) s in $(ms $el) s)"
	else notok "$name: $(ms $cpu_ms) s of CPU in the $(ms $el) s after the fault"; fi
	return 0
}

no_tunnel_left() { # NAME
	same "$1: no tunnel socket left" "$(ls -A "$TMPDIR" | wc -l)" 0
	rm -rf "${TMPDIR:?}"/*	# one run's leftovers must not fail the next
}

fault_shape "$RATE"

# ---- deploy -----------------------------------------------------------------
P="$SCRATCH/proj"
R="$SBX_REMOTE_DIR/conn-faults"
rm -rf "$R"
# new_tree DIR: ~12 MB in 300 files, new contents each time: a few seconds
# at $RATE, so that the whole tree is in flight when the fault lands
new_tree() {
	python3 - "$1" <<'PY'
import os, random, sys
for i in range(300):
    d = os.path.join(sys.argv[1], "d%02d" % (i % 12))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%03d.bin" % i), "wb") as f:
        f.write(os.urandom(random.randint(10000, 70000)))
PY
}
new_tree "$P"
cp "$SBX_DIR/ferry.ini" d.ini
sed -i "s|^remote_dir = .*|remote_dir = $R\nlocal_dir = $P|" d.ini
alive_conf d.ini dk.ini
expect_exit "deploy over the shaped link" 0 "$FERRY" -c d.ini deploy --no-up

# Every file on the server must be the old or the new version after a cut.
tree_hashes() { # DIR OUT
	python3 - "$1" "$2" <<'PY'
import hashlib, json, os, sys
root, out = sys.argv[1], sys.argv[2]
h = {}
for dp, dns, fns in os.walk(root):
    rel = os.path.relpath(dp, root)
    if rel == ".":
        dns[:] = [d for d in dns if d != ".ferry"]
    for f in fns:
        p = os.path.join(dp, f)
        h[os.path.normpath(os.path.join(rel, f))] = hashlib.sha256(open(p, "rb").read()).hexdigest()
json.dump(h, open(out, "w"))
PY
}
old_or_new() { # NAME
	if python3 - server.before local.after server.after <<'PY'
import json, sys
old, new, now = (json.load(open(f)) for f in sys.argv[1:])
bad = [p for p, h in now.items() if h != old.get(p) and h != new.get(p)]
if bad:
    print("# neither old nor new:", bad[:5])
    sys.exit(1)
PY
	then ok "$1: every server file is old or new"
	else notok "$1: a server file is neither old nor new"; fi
}
deploy_fault() { # KIND DELAY_MS [--after GLOB]
	new_tree "$P"
	tree_hashes "$R" server.before
	tree_hashes "$P" local.after
	local cfg=d.ini bound=$KILL_BOUND name="deploy, sshd killed" kind=$1 delay=$2
	shift 2
	[ "$kind" = link ] && cfg=dk.ini bound=$LINK_BOUND name="deploy, link down"
	fault_run "$name" "$kind" "$delay" $bound "$@" -- "$FERRY" -c $cfg deploy --no-up || return 0
	contains "$name: says the connection was lost" "$ERRTEXT" "lost"
	contains "$name: names the server" "$ERRTEXT" "$SBX_IP"
	tree_hashes "$R" server.after
	old_or_new "$name"
	# sshd killed, the server up: a fresh connection releases the lock.
	# Link down: it stays, naming a ferry that is gone, which the next
	# deploy from here takes over (the last deploy below shows it does).
	if [ ! -e "$R/.ferry/deploy.lock" ]; then ok "$name: the deploy lock is released"
	elif [ "$kind" = link ] && ! kill -0 "$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["pid"])' "$R/.ferry/deploy.lock")" 2>/dev/null; then
		ok "$name: the deploy lock left names a ferry no longer running"
	else notok "$name: the deploy lock is still held: $(cat "$R/.ferry/deploy.lock")"; fi
}
# anywhere (connecting, listing, sending), then while the files stream
# (the server's staging directory exists)
STAGE="$R/.ferry/stage-*"
deploy_fault kill "$(pick 600 2500)"
deploy_fault kill "$(pick 0 1500)" --after "$STAGE"
deploy_fault link "$(pick 0 1500)" --after "$STAGE"
# ferry itself killed mid-stream (Ctrl-C, OOM): the server's tar meets the
# end of its input, maybe between two members, which it takes for a whole
# archive.  Nothing of that stream may be placed.  Empty files, sent as
# they are, make every 512-byte block the end of a member.
cp d.ini dn.ini
printf '\n[deploy]\ncompress = none\n' >>dn.ini
# kill_mid_stream CFG DIR DELAY_MS: a deploy SIGKILLed DELAY_MS after DIR
# appears in the server's stage; then waits (up to 5 s) for the server's
# side, which ends when its sshd sees the connection close and takes its
# stage with it
kill_mid_stream() {
	local pid
	"$FERRY" -c "$1" deploy --no-up >/dev/null 2>&1 &
	pid=$!
	# shellcheck disable=SC2086
	while ! ls -d $STAGE/$2 >/dev/null 2>&1 && kill -0 $pid 2>/dev/null; do
		sleep 0.02
	done
	sleep "$(ms "$3")"
	kill -KILL $pid 2>/dev/null || true
	wait $pid || true
	for _ in $(seq 1 50); do
		# shellcheck disable=SC2086
		ls -d $STAGE >/dev/null 2>&1 || break
		sleep 0.1
	done
}
for round in 1 2; do
	mkdir -p "$P/cut$round"
	(cd "$P/cut$round" && seq -f 'e%g' 1 6000 | xargs touch)
	kill_mid_stream dn.ini "cut$round" "$(pick 0 300)"
	n=$(find "$R/cut$round" -type f 2>/dev/null | wc -l)
	if [ "$n" = 0 ] || [ "$n" = 6000 ]; then ok "deploy, ferry killed mid-stream ($round): all or nothing placed ($n of 6000)"
	else notok "deploy, ferry killed mid-stream ($round): $n of 6000 files placed"; fi
	# shellcheck disable=SC2086
	if ls -d $STAGE >/dev/null 2>&1; then notok "deploy, ferry killed mid-stream ($round): the server's stage is still there after 5 s"
	else ok "deploy, ferry killed mid-stream ($round): the server removed its stage"; fi
done
# The server's tar killed mid-stream: ferry's writes then break, and the
# server's own account (its exit) is the error, not "broken pipe".  Four
# times: a packet half-sent when the server's side died used to hang the
# session (only that packet could go, and the server's window for it
# never came), one try in two or three.  Every other round sends as is:
# the break then lands in a tar header, which leaves libarchive's write
# failed for good (its buffers leaked, seen under ASan).
untar="tar -xpf - -C $R/.ferry/stage-"	# only this run's: other lanes share the user
for round in 1 2 3 4; do
	cfg=d.ini
	[ $((round % 2)) = 1 ] || cfg=dn.ini
	name="deploy ($cfg), the server's tar killed ($round)"
	new_tree "$P"
	# The hang showed after a deploy killed mid-stream, whose lock the
	# next takes over and whose many small files it sends first.
	mkdir -p "$P/0kill$round"	# (sent first: 0 sorts before d)
	(cd "$P/0kill$round" && seq -f 'e%g' 1 6000 | xargs touch)
	kill_mid_stream $cfg "0kill$round" 0
	tree_hashes "$R" server.before
	tree_hashes "$P" local.after
	# The killed run's tar may still be unpacking what reached the server
	# (its stage name differs): only a tar that appears after this start
	# is this run's.  Killing the killed run's instead let this one land.
	old=" $(pgrep -d ' ' -f "$untar" || true) "
	[ "$old" = "  " ] || echo "# $name: the killed run's tar is still there:$old"
	"$FERRY" -c $cfg deploy --no-up >run.out 2>run.err &
	pid=$!
	tar_pid=""
	while [ -z "$tar_pid" ] && kill -0 $pid 2>/dev/null; do
		for t in $(pgrep -f "$untar" || true); do
			case "$old" in *" $t "*) ;; *) tar_pid=$t ;; esac
		done
		[ -n "$tar_pid" ] || sleep 0.02
	done
	sleep "$(ms "$(pick 100 400)")"
	[ -z "$tar_pid" ] || kill -KILL "$tar_pid" 2>/dev/null || true
	set +e; wait $pid; RC=$?; set -e
	same "$name: exit 4" "$RC" 4
	[ "$RC" = 4 ] || sed 's/^/# /' run.err
	contains "$name: says the unpacking failed" "$(cat run.err)" "unpacking on the server failed"
	lacks "$name: the server's words end the line, without their newline" "$(cat run.err)" '\n'
	tree_hashes "$R" server.after
	old_or_new "$name"
done
# A file cut short while it is sent (it goes last: s after d): the deploy
# ends naming it, and nothing of that stream is placed, not the file
# padded out to the size the scan saw.
new_tree "$P"
head -c 20000000 /dev/urandom >"$P/shrinks.bin"
tree_hashes "$R" server.before
"$FERRY" -c d.ini deploy --no-up >run.out 2>run.err &
pid=$!
# shellcheck disable=SC2086
while ! ls -d $STAGE >/dev/null 2>&1 && kill -0 $pid 2>/dev/null; do sleep 0.02; done
truncate -s 1000000 "$P/shrinks.bin"
set +e; wait $pid; RC=$?; set -e
same "deploy, a file shrinking mid-send: exit 1" "$RC" 1
contains "deploy, a file shrinking mid-send: names it" "$(cat run.err)" "shrinks.bin shrank while being sent (1000000 of 20000000 bytes)"
tree_hashes "$R" server.after
same "deploy, a file shrinking mid-send: nothing placed (the tree's digest)" \
	"$(md5sum <server.after)" "$(md5sum <server.before)"
expect_exit "deploy after the cuts converges" 0 "$FERRY" -c d.ini deploy --no-up
same "deploy: the server's tree equals the local one" \
	"$(python3 "$FERRY_SOURCE_ROOT/tests/treesum.py" "$R" --skip .ferry | md5sum)" \
	"$(python3 "$FERRY_SOURCE_ROOT/tests/treesum.py" "$P" | md5sum)"
same "deploy: no staging left on the server" "$(ls -d "$R"/.ferry/stage-* 2>/dev/null | wc -l)" 0
same "deploy: no lock left on the server" "$(ls -A "$R/.ferry" | grep -c lock || true)" 0

# ---- backup -----------------------------------------------------------------
PSQL -c "DROP DATABASE IF EXISTS conn_faults WITH (FORCE)" -c "CREATE DATABASE conn_faults" >/dev/null
# ~20 MB of COPY text
PSQL -d conn_faults -c "CREATE TABLE t AS SELECT g AS id, md5(g::text) || md5((g * 7)::text) AS h FROM generate_series(1, 250000) g" >/dev/null
backup_conf b.ini cf "databases = conn_faults"
alive_conf b.ini bk.ini
expect_exit "backup over the shaped link" 0 "$FERRY" -c b.ini backup --only postgres
GOOD=$(ls "$SCRATCH"/archives/cf-*.tar.zst)
backup_fault() { # KIND DELAY_MS
	local cfg=b.ini bound=$KILL_BOUND name="backup, sshd killed" before
	[ "$1" = link ] && cfg=bk.ini bound=$LINK_BOUND name="backup, link down"
	new_second
	before=$(ls "$SCRATCH/archives" | sort | md5sum)
	fault_run "$name" "$1" "$2" $bound --up -- "$FERRY" -c $cfg backup --only postgres || return 0
	contains "$name: says the connection was lost" "$ERRTEXT" "lost"
	same "$name: nothing published, no partial file" "$(ls "$SCRATCH/archives" | sort | md5sum)" "$before"
	if flock -n "$SCRATCH/archives/.ferry.lock" true; then ok "$name: lock released"
	else notok "$name: the backup lock is still held"; fi
	no_tunnel_left "$name"
}
backup_fault kill "$(pick 300 2500)"
backup_fault link "$(pick 300 2500)"

# ---- restore ----------------------------------------------------------------
# the target's state: whether it exists, and its rows if it does (once a
# CREATE or DROP DATABASE cut off with its client has ended on the server)
target_state() {
	for _ in $(seq 1 100); do
		[ "$(PSQL -c "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND state = 'active' AND query ~* '(CREATE|DROP) DATABASE'")" = 0 ] && break
		sleep 0.1
	done
	if [ "$(PSQL -c "SELECT count(*) FROM pg_database WHERE datname = 'conn_faults_r'")" = 1 ]; then
		echo "exists, $(PSQL -d conn_faults_r -c 'SELECT count(*) FROM t' 2>&1 | head -n 1)"
	else
		echo absent
	fi
}
restore_fault() { # KIND DELAY_MS
	local cfg=b.ini bound=$KILL_BOUND name="restore, sshd killed" before
	[ "$1" = link ] && cfg=bk.ini bound=$LINK_BOUND name="restore, link down"
	before=$(target_state)
	fault_run "$name" "$1" "$2" $bound --up -- "$FERRY" -c $cfg restore "$GOOD" --db conn_faults=conn_faults_r --clean || return 0
	contains "$name: says the connection was lost" "$ERRTEXT" "lost"
	# lost before the target was touched: nothing to name
	case "$ERRTEXT" in
	*"left incomplete"*conn_faults_r*) ok "$name: names the target left incomplete" ;;
	*) same "$name: the target untouched when none is named" "$(target_state)" "$before" ;;
	esac
	no_tunnel_left "$name"
}
restore_fault kill "$(pick 300 2000)"
restore_fault link "$(pick 300 2000)"
expect_exit "restore after the cuts" 0 "$FERRY" -c b.ini restore "$GOOD" --db conn_faults=conn_faults_r --clean
same "restore: every row back" "$(PSQL -d conn_faults_r -c 'SELECT count(*) FROM t')" 250000

# ---- the local side: a signal, a full disk ----------------------------------
# SIGTERM mid-transfer: the partial archive and the tunnel's socket go, the
# lock with the process; ferry dies of the signal.
new_second
"$FERRY" -c b.ini backup --only postgres >run.out 2>run.err &
pid=$!
for _ in $(seq 1 200); do
	ls "$SCRATCH"/archives/*.partial >/dev/null 2>&1 && break
	sleep 0.05
done
sleep "$(ms "$(pick 200 1500)")"
kill -TERM $pid
set +e; wait $pid; rc=$?; set -e
same "backup, SIGTERM: dies of the signal" "$rc" 143
same "backup, SIGTERM: no partial file" "$(ls -a "$SCRATCH/archives" | grep -c partial || true)" 0
if flock -n "$SCRATCH/archives/.ferry.lock" true; then ok "backup, SIGTERM: lock released"
else notok "backup, SIGTERM: the backup lock is still held"; fi
no_tunnel_left "backup, SIGTERM"
# a local disk that fills up mid-backup
mkdir -p small
if mount -t tmpfs -o size=4m tmpfs small 2>/dev/null; then
	sed "s|^dir = .*|dir = $SCRATCH/small|" b.ini >s.ini
	chmod 600 s.ini
	# an earlier archive there (its bytes do not matter) must stay as it is
	head -c 100000 /dev/urandom >small/cf-20200101T000000Z.tar.zst
	echo '{}' >small/cf-20200101T000000Z.manifest.json
	earlier=$(sha256sum small/cf-20200101T000000Z.*)
	expect_exit "backup, local disk full: fails" 1 "$FERRY" -c s.ini backup --only postgres
	contains "backup, local disk full: says so" "$ERR" "No space left on device"
	# what may stay: the lock, and the state file saying the run failed
	same "backup, local disk full: no partial file" "$(ls -A small | grep -cv -e '^\.ferry\.lock$' -e '^\.ferry-last-.*\.json$' -e '^cf-20200101T000000Z\.' || true)" 0
	same "backup, local disk full: the earlier archive untouched" "$(sha256sum small/cf-20200101T000000Z.*)" "$earlier"
	if flock -n small/.ferry.lock true; then ok "backup, local disk full: lock released"
	else notok "backup, local disk full: the backup lock is still held"; fi
	no_tunnel_left "backup, local disk full"
	umount small
else
	skip "conn_faults: cannot mount a small tmpfs for the full-disk case"
fi

# ---- check --------------------------------------------------------------------
check_fault() { # KIND DELAY_MS
	local cfg=b.ini bound=$KILL_BOUND name="check, sshd killed"
	[ "$1" = link ] && cfg=bk.ini bound=$LINK_BOUND name="check, link down"
	fault_run "$name" "$1" "$2" $bound --up --done check.ref -- "$FERRY" -c $cfg check || return 0
	# the rows on one line: a report's line is its first row
	contains "$name: says the connection was lost" "$(tr '\n' '|' <run.out; cat run.err)" "lost"
	no_tunnel_left "$name"
}
# The fault lands while check still talks to the server: within the
# first 60% of an unfaulted check's time after its connection is up, as
# fault_run --up counts (under a second here; the link probe no longer
# sends its sample when a backup need not decide by it), the fastest of
# three.  Timed from the start, a loaded machine's slow starts put the
# fault after the faulted check had ended.  A loaded machine can still
# make those three slower than the faulted one: a report like theirs
# (check.ref) was done before the fault.
hi=
for _ in 1 2 3; do
	"$FERRY" -c bk.ini check >check.ref 2>/dev/null &
	pid=$!
	wait_up $pid
	t0=$(now_ms)
	wait $pid || true
	t=$(( ($(now_ms) - t0) * 6 / 10 ))
	[ -n "$hi" ] && [ "$hi" -le "$t" ] || hi=$t
done
[ "$hi" -gt 150 ] || hi=150
check_fault kill "$(pick 100 "$hi")"
check_fault link "$(pick 100 "$hi")"

# ---- a silent server: alive, or gone ----------------------------------------
# A remote command that says nothing for longer than keepalive x count must
# live (the keepalive requests are answered); the same silence with the
# link down must end within the bound, though no data is in flight.
PROBE="$FERRY_BUILD/tests/ssh_probe"
expect_exit "silent command, server alive: not given up (7 s of silence, 3 s bound)" 0 \
	"$PROBE" exec bk.ini "sleep 7; echo done"
contains "silent command, server alive: its output arrives" "$OUT" "done"
# counted from when the command runs (the session is up): a fault while
# still connecting is not this case
SILENT_UP="$SBX_REMOTE_DIR/conn-faults-silent.up"
rm -f "$SILENT_UP"
if fault_run "silent command, link down" link "$(pick 500 1500)" $LINK_BOUND --after "$SILENT_UP" -- \
	"$PROBE" exec bk.ini "touch '$SILENT_UP'; sleep 60"; then
	contains "silent command, link down: says the connection was lost" "$ERRTEXT" "lost after"
fi

# ---- off-site upload and verify --offsite ------------------------------------
# The off-site store is reached directly, not over SSH: its faults are the
# store's server dying (s3rver, in the sandbox's namespace so the link
# carries it) and the link going down.  Each S3 request gives up after
# connect_timeout without progress and is tried 4 times.
SBXNODE="$FERRY_SOURCE_ROOT/tests/sandbox/node_modules"
if [ ! -f "$SBXNODE/s3rver/bin/s3rver.js" ]; then
	skip "conn_faults: off-site: s3rver not installed (npm ci in tests/sandbox)"
else
	S3PORT=$((20000 + RANDOM % 20000))
	mkdir -p s3data
	start_s3() {
		ip netns exec "$SBX_NS" node "$SBXNODE/s3rver/bin/s3rver.js" -d "$SCRATCH/s3data" \
			-a "$SBX_IP" -p "$S3PORT" --silent --configure-bucket offsite >>s3rver.log 2>&1 &
		S3PID=$!
		for _ in $(seq 1 100); do
			(exec 3<>"/dev/tcp/$SBX_IP/$S3PORT") 2>/dev/null && return 0
			sleep 0.1
		done
	}
	start_s3
	STORE_BOUND=10	# refused at once, 4 tries with backoff, for the part and the abort
	OFF_BOUND=40	# 4 tries of connect_timeout (2 s) each, for the part and the abort
	for f in b bk; do
		cp $f.ini o$f.ini
		sed -i 's/^connect_timeout = .*/connect_timeout = 2s/' o$f.ini
		printf '\n[offsite]\nurl = s3://offsite/cf\nendpoint = http://%s:%s\naccess_key = S3RVER\nsecret_key = S3RVER\n' \
			"$SBX_IP" "$S3PORT" >>o$f.ini
	done
	new_second
	expect_exit "backup with an off-site copy over the shaped link" 0 "$FERRY" -c ob.ini backup --only postgres
	UP=$(basename "$(ls "$SCRATCH"/archives/cf-*.tar.zst | sort | tail -n 1)")
	ARCS="$SCRATCH/archives/cf-*.tar.zst"
	# the faults land after the archive is published: during the upload
	for kind in store link; do
		name="off-site upload, store killed" cfg=ob.ini bound=$STORE_BOUND
		[ $kind = link ] && name="off-site upload, link down" cfg=obk.ini bound=$OFF_BOUND
		new_second
		if fault_run "$name" $kind "$(pick 100 800)" $bound --after "$ARCS" -- \
			"$FERRY" -c $cfg backup --only postgres; then
			contains "$name: says the off-site copy failed" "$ERRTEXT" "off-site copy failed"
			same "$name: no partial file" "$(ls -a "$SCRATCH/archives" | grep -c partial || true)" 0
		fi
		if [ $kind = store ]; then start_s3; fi
	done
	# verify --offsite streams an archive back
	expect_exit "verify --offsite over the shaped link" 0 "$FERRY" -c ob.ini verify --offsite "$UP"
	# the store dying only: the link going down is the upload's case
	# above (the same S3 client and retries, ~30 s a run)
	fault_run "verify --offsite, store killed" store "$(pick 200 1000)" $STORE_BOUND -- \
		"$FERRY" -c ob.ini verify --offsite "$UP" || true
	start_s3
fi

# ---- logs -f ------------------------------------------------------------------
# logs -f answers a lost connection as documented: it says so, reconnects
# with backoff and resumes after the last line shown (exit 3 only after
# 10 failed reconnections in a row).  So each fault must be noticed within
# its bound, cost little CPU while the server is away, and be followed by
# the lines that come after, none repeated or lost.
"$FERRY_SOURCE_ROOT/tests/sandbox/sandbox.sh" docker "$SBX_DIR" >docker.log 2>&1 || true
DOCKER_SOCK=$(sed -n 's/^SBX_DOCKER_HOST=//p' "$SBX_DIR/env")
if [ -z "$DOCKER_SOCK" ]; then
	skip "conn_faults: logs -f: no Docker engine in the sandbox: $(sed -n 's/^SBX_DOCKER_SKIP=//p' "$SBX_DIR/env" | tr -d "'")"
	exit 0
fi
LPROJ="fcf$(basename "$SCRATCH" | tr -cd 'a-z0-9' | tail -c 12)"
LP="$SCRATCH/lproj"
mkdir -p "$LP"
cat >"$LP/docker-compose.yml" <<'YML'
version: "2.4"
services:
  worker:
    image: ferry-test/busybox:1
    network_mode: host
    command: ["sh", "-c", "i=0; while :; do i=$$((i+1)); echo tick $$i; sleep 1; done"]
YML
cp "$SBX_DIR/ferry.ini" l.ini
sed -i "s|^remote_dir = .*|remote_dir = $SBX_REMOTE_DIR/conn-faults-logs\nlocal_dir = $LP|" l.ini
printf '\n[deploy]\ncompose = env DOCKER_HOST=%s docker-compose\nproject_name = %s\n' \
	"$DOCKER_SOCK" "$LPROJ" >>l.ini
alive_conf l.ini lk.ini
trap 'cleanup; "$FERRY" -c l.ini down >/dev/null 2>&1 || true' EXIT
expect_exit "logs: a service that logs a line a second, deployed" 0 "$FERRY" -c l.ini deploy

# logs_fault KIND(kill|link) DELAY_MS
logs_fault() {
	local kind=$1 delay=$2 cfg=l.ini bound=$KILL_BOUND name="logs -f, sshd killed"
	local pid t0 c0 c1 el="" cpu_ms before n total nums first last
	[ "$kind" = link ] && cfg=lk.ini bound=$LINK_BOUND name="logs -f, link down"
	"$FERRY" -c $cfg logs -f -n 1 worker >lf.out 2>lf.err &
	pid=$!
	for _ in $(seq 1 100); do [ "$(grep -c tick lf.out)" -ge 2 ] && break; sleep 0.1; done
	sleep "$(ms "$delay")"
	before=$(grep -c tick lf.out || true)
	if [ "$kind" = kill ]; then fault_kill_sessions; else fault_link_down; fi
	c0=$(fault_cpu $pid || echo 0)
	t0=$(now_ms)
	# noticed: said on stderr
	while [ $(( $(now_ms) - t0 )) -le $((bound * 1000)) ]; do
		if grep -q "lost" lf.err; then el=$(( $(now_ms) - t0 )); break; fi
		sleep 0.05
	done
	# a link stays down a while longer: the reconnection attempts wait
	if [ "$kind" = link ]; then
		sleep 3
		c1=$(fault_cpu $pid || echo "$c0")
		n=$(( $(now_ms) - t0 ))
		fault_link_up
	else
		c1=$(fault_cpu $pid || echo "$c0")
		n=$(( $(now_ms) - t0 ))
	fi
	cpu_ms=$(( (c1 - c0) * 1000 / TCK ))
	echo "# $name: fault at $(ms "$delay") s, noticed after ${el:-never} ms, CPU $(ms $cpu_ms) s in $(ms $n) s"
	if [ -n "$el" ]; then ok "$name: the loss is noticed within ${bound} s ($(ms $el) s)"
	else notok "$name: no loss said ${bound} s after the fault"; fi
	if [ $cpu_ms -le $(( 250 + n / 20 )) ]; then ok "$name: little CPU while the server is away ($(ms $cpu_ms) s in $(ms $n) s)"
	else notok "$name: $(ms $cpu_ms) s of CPU in the $(ms $n) s after the fault"; fi
	if [ "$kind" = link ]; then contains "$name: says how long the server was silent" "$(cat lf.err)" "lost after"; fi
	# resumed: new lines after the reconnection, none repeated or lost
	for _ in $(seq 1 300); do
		grep -q reconnected lf.err && [ "$(grep -c tick lf.out)" -ge $((before + 3)) ] && break
		sleep 0.1
	done
	contains "$name: reconnects and says so" "$(cat lf.err)" "reconnected"
	kill -TERM $pid 2>/dev/null || true
	for _ in $(seq 1 100); do kill -0 $pid 2>/dev/null || break; sleep 0.05; done
	kill -KILL $pid 2>/dev/null || true
	set +e; wait $pid; RC=$?; set -e
	same "$name: ends by SIGTERM as the signal would" "$RC" 143
	nums=$(sed -n 's/^worker_1 *| tick \([0-9]*\)$/\1/p' lf.out)
	total=$(grep -c . <<<"$nums" || true)
	if [ "$total" -ge $((before + 3)) ]; then ok "$name: lines keep coming ($before before the fault, $total in all)"
	else notok "$name: $total lines in all, $before before the fault"; fi
	first=$(head -n 1 <<<"$nums"); last=$(tail -n 1 <<<"$nums")
	same "$name: no line repeated or lost" "$nums" "$(seq "$first" "$last")"
}
logs_fault kill "$(pick 200 2000)"
logs_fault link "$(pick 200 2000)"
