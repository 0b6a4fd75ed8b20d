# ferry daemon against the sandbox: an every-minute schedule really backs
# up, a missed run (the daemon stopped across two slots) once; SIGHUP
# reloads; a second daemon and a second backup exit 7 while a job runs;
# SIGTERM during a job leaves no partial archive, is notified and recorded
# once (the job's own word) and exits 0; a job SIGKILLed is reported by
# the daemon.  Waits for minute boundaries: about four to five minutes.
# once: waits on the clock (every-minute schedules)
# cost: 220 (seconds, roughly: tests/run starts the costliest first)
set -eu
. "$FERRY_SOURCE_ROOT/tests/lib.sh"
cd "$SCRATCH"

expect_exit "daemon without a config: exit 2" 2 env FERRY_CONFIG=/nonexistent "$FERRY" daemon
printf '[server]\nhost = local\n[backup]\ndir = %s/idle\n' "$SCRATCH" >idle.ini
expect_exit "daemon with nothing scheduled: exit 2" 2 "$FERRY" -c idle.ini daemon
contains "says what is missing" "$ERR" "nothing is scheduled"

needs_sandbox "daemon"
PSQL() { ip netns exec "$SBX_NS" env PGPASSWORD="$SBX_PG_PASSWORD" psql -qAtX -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 "$@"; }
PSQL -c "DROP DATABASE IF EXISTS dm_shop" -c "CREATE DATABASE dm_shop" >/dev/null
PSQL -d dm_shop -c "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 1000)" >/dev/null

# What the runs notify, on this machine's loopback (tests/http_recorder.py).
python3 "$FERRY_SOURCE_ROOT/tests/http_recorder.py" port requests.log &
listener=$!
for _ in $(seq 100); do [ -s port ] && break; sleep 0.1; done
# hooks STATUS / fails: the webhooks of that status / the /fail pings, one
# line each
hooks() { python3 -c '
import json, sys
for l in open("requests.log"):
    r = json.loads(l)
    if r["path"] == "/hook" and json.loads(r["body"])["status"] == sys.argv[1]:
        print(json.loads(r["body"])["error"])' "$1" 2>/dev/null || true; }
fails() { grep -c '"path": "/ping/dm/fail"' requests.log 2>/dev/null || true; }

awk '/^\[/ { keep = ($0 == "[server]" || $0 == "[project]" || $0 == "[postgres]") } keep' \
	"$SBX_DIR/ferry.ini" >dm.ini
sed -i 's/^\[postgres\]/[postgres]\ndatabases = dm_shop\nlock_timeout = 60s/' dm.ini
printf '\n[backup]\ndir = %s/archives\nname = dm\n\n[schedule]\nbackup = * * * * *\n' "$SCRATCH" >>dm.ini
printf '\n[notify]\nping_url = http://127.0.0.1:%s/ping/dm\nwebhook_url = http://127.0.0.1:%s/hook\n' \
	"$(cat port)" "$(cat port)" >>dm.ini
chmod 600 dm.ini

# wait_for WHAT SECONDS CMD...: polls CMD every 0.2 s.
wait_for() {
	local what=$1 secs=$2 i
	shift 2
	for i in $(seq $((secs * 5))); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	notok "$what: not within ${secs}s"
	return 1
}
log_has() { grep -q -- "$1" daemon.log; }

# The daemon is stopped (SIGSTOP: to it, a suspend or the clock jumping
# ahead) before its first slot and woken after its second: the missed job
# runs once, not once per slot.  Started early in a minute so the first
# slot cannot pass before the stop.
sec=$(date +%-S)
[ "$sec" -lt 45 ] || sleep $((61 - sec))
"$FERRY" -c dm.ini daemon >daemon.out 2>daemon.log &
dpid=$!
trap 'kill -CONT $dpid 2>/dev/null; kill -9 $dpid $listener 2>/dev/null || true' EXIT
wait_for "daemon starts" 10 log_has "daemon started" && ok "daemon started"
kill -STOP $dpid
contains "daemon logs the plan" "$(cat daemon.log)" "backup next at"
expect_exit "a second daemon for the same backup dir: exit 7" 7 "$FERRY" -c dm.ini daemon
contains "names the holder" "$ERR" "locked by pid $dpid"
# past the next two minute boundaries
sleep $((120 - $(date +%-S) + 2))
woke=$(date +%s)
kill -CONT $dpid

# the missed minutes: one real backup
planned() { sed -n '/backup: ok/,$ s/.*backup next at \([0-9T:-]*Z\).*/\1/p' daemon.log | head -n 1; }
if wait_for "scheduled backup runs and ends" 60 log_has "backup: ok"; then
	wait_for "the plan after the run" 5 sh -c "grep -A9 'backup: ok' daemon.log | grep -q 'backup next at'"
	next=$(planned)
	[ -n "$next" ] && [ "$(date -u -d "${next%Z}" +%s)" -gt "$woke" ] \
		&& ok "after the missed run the next slot is a new one ($next)" || notok "next after the missed run: '$next'"
	same "two missed slots, one run" "$(grep -c 'backup: started' daemon.log)" "1"
	contains "the missed slot is said" "$(cat daemon.log)" "backup: missed its"
	A=$(ls archives/dm-*.tar.zst 2>/dev/null | head -n 1)
	[ -n "$A" ] && ok "the scheduled run wrote an archive" || notok "no archive in archives/"
	expect_exit "the daemon's archive verifies" 0 "$FERRY" -c dm.ini verify "$A"
	contains "the run is logged with its pid" "$(cat daemon.log)" "backup: started (pid"
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["status"] == "ok"' archives/.ferry-last-backup.json \
		&& ok "the daemon's run is recorded like any other" || notok "state file"
fi

# SIGHUP: a bad config is refused, the old one kept
cp dm.ini dm.good
printf 'bogus = 1\n' >>dm.ini
kill -HUP $dpid
wait_for "bad reload refused" 10 log_has "keeping the configuration loaded before" && ok "a bad config on SIGHUP is refused"
kill -0 $dpid 2>/dev/null && ok "the daemon lives on after a bad reload" || notok "daemon died on a bad reload"
cp dm.good dm.ini

# the second minute: hold the table so the backup waits, then stop it
PSQL -d dm_shop >/dev/null 2>&1 <<'SQL' &
BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(100); COMMIT;
SQL
locker=$!
n0=$(grep -c "backup: started" daemon.log)
wait_for "second run starts" 75 sh -c "[ \$(grep -c 'backup: started' daemon.log) -gt $n0 ]"
wait_for "its partial archive appears" 20 sh -c 'ls archives/*.partial' && ok "second run is writing"
expect_exit "a second backup while one runs: exit 7" 7 "$FERRY" -c dm.ini backup
contains "names the lock" "$ERR" "is locked by pid"
# (that refused run notified its own failure)
: >requests.log
kill -TERM $dpid
set +e
for _ in $(seq 150); do kill -0 $dpid 2>/dev/null || break; sleep 0.2; done
wait $dpid
st=$?
set -e
trap 'kill $listener 2>/dev/null || true' EXIT
same "SIGTERM during a job: exit 0" "$st" "0"
same "no partial archive left" "$(ls archives | grep -c partial || true)" "0"
contains "the stop is logged" "$(cat daemon.log)" "daemon stopped"
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["status"] == "failed" and "TERM" in j["error"], j' archives/.ferry-last-backup.json \
	&& ok "the aborted run is recorded as failed by SIGTERM" || notok "state after abort: $(cat archives/.ferry-last-backup.json)"
# One run, one report: the job's, which knows nothing was published.
same "the stopped run: one /fail ping" "$(fails)" "1"
same "the stopped run: one failed webhook" "$(hooks failed | wc -l)" "1"
contains "the webhook is the job's own" "$(hooks failed)" "backup: interrupted by SIGTERM; nothing was published"
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert "nothing was published" in j["error"], j' archives/.ferry-last-backup.json \
	&& ok "the record is the job's own" || notok "the record after the stop: $(cat archives/.ferry-last-backup.json)"
expect_exit "status after the stop" 0 "$FERRY" -c dm.ini status --json
lacks "status shows the job's record, not the daemon's" "$OUT" "ferry daemon stopping"
kill $locker 2>/dev/null || true
PSQL -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'dm_shop' AND pid <> pg_backend_pid()" >/dev/null || true
wait $locker 2>/dev/null || true

# A job that cannot say anything (SIGKILLed while it waits for the table)
# is reported by the daemon, once.
PSQL -d dm_shop >/dev/null 2>&1 <<'SQL' &
BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(100); COMMIT;
SQL
locker=$!
"$FERRY" -c dm.ini daemon >daemon2.out 2>daemon.log &
dpid=$!
trap 'kill -9 $dpid $listener 2>/dev/null || true' EXIT
wait_for "daemon starts again" 10 log_has "daemon started"
: >requests.log
if wait_for "a run starts" 75 log_has "backup: started (pid"; then
	jpid=$(sed -n 's/.*backup: started (pid \([0-9]*\)).*/\1/p' daemon.log | head -n 1)
	wait_for "its partial archive appears" 20 sh -c 'ls archives/*.partial'
	kill -KILL "$jpid"
	wait_for "the daemon sees it end" 20 log_has "ended by signal KILL"
	wait_for "its report" 20 sh -c '[ -s requests.log ] && grep -q "/ping/dm/fail" requests.log'
	sleep 1
	same "a killed job: one /fail ping" "$(fails)" "1"
	same "a killed job: one failed webhook, the daemon's" "$(hooks failed)" "ended by signal KILL"
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["status"] == "failed" and j["exit"] == 137 and j["error"] == "ended by signal KILL", j' archives/.ferry-last-backup.json \
		&& ok "the killed run is recorded by the daemon" || notok "state after KILL: $(cat archives/.ferry-last-backup.json)"
fi
kill $locker 2>/dev/null || true
PSQL -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'dm_shop' AND pid <> pg_backend_pid()" >/dev/null || true
wait $locker 2>/dev/null || true

# SIGHUP takes a new schedule; SIGINT stops an idle daemon
sed -i 's/^backup = .*/backup = 0 0 1 1 */' dm.ini
kill -HUP $dpid
next=$(python3 -c 'import datetime; print(datetime.date.today().year + 1)')
wait_for "reload" 10 log_has "reloaded" && contains "the new schedule is in force" "$(cat daemon.log)" "backup next at $next-01-01T"
kill -INT $dpid
set +e
wait $dpid
st=$?
set -e
trap 'kill $listener 2>/dev/null || true' EXIT
same "SIGINT when idle: exit 0" "$st" "0"
