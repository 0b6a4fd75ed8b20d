# Notifications, metrics, state, status, --json and --log-format: what a
# backup, prune or verify run tells the outside world, observed by a local
# HTTP server (tests/http_recorder.py, loopback only), against the
# sandbox's PostgreSQL.
# cost: 30 (seconds, roughly: tests/run starts the costliest first)
set -eu
. "$FERRY_SOURCE_ROOT/tests/lib.sh"
cd "$SCRATCH"

# ---- --log-format and the JSON documents that need no server ---------------
expect_exit "--log-format json: a usage error" 2 "$FERRY" --log-format json frobnicate
python3 -c 'import json,sys; j=json.loads(sys.argv[1]); assert set(j) == {"time","level","component","message"}, j; assert j["level"] == "error"' "$ERR" \
	&& ok "usage error as one JSON line (time, level, component, message)" || notok "not a JSON log line: $ERR"
expect_exit "--log-format=json after the command" 2 "$FERRY" schedule next "61 * * * *" --log-format=json
python3 -c 'import json,sys; j=json.loads(sys.argv[1]); assert j["component"] == "schedule next" and "bad cron" in j["message"], j' "$ERR" \
	&& ok "the command is the component" || notok "component: $ERR"
expect_exit "--log-format xml: exit 2" 2 "$FERRY" --log-format xml config
printf '[server]\nhost = local\n[backup]\ndir = %s/empty\n[log]\nformat = json\n' "$SCRATCH" >logjson.ini
expect_exit "[log] format = json" 1 "$FERRY" -c logjson.ini verify --latest
python3 -c 'import json,sys; [json.loads(l) for l in sys.argv[1].splitlines()]' "$ERR" \
	&& ok "[log] format = json: every line is JSON" || notok "not JSON: $ERR"
expect_exit "--log-format text wins over [log]" 1 "$FERRY" -c logjson.ini --log-format text verify --latest
contains "text line" "$ERR" "ferry: no archives"

# syslog = yes: a private mount namespace gets its own /dev/log to listen on
cat >syslog_listen.py <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
s.settimeout(20)
open(sys.argv[1], "w").close()
with open(sys.argv[2], "w") as out:
    try:
        while True:
            out.write(s.recv(65536).decode() + "\n")
            out.flush()
    except socket.timeout:
        pass
PY
printf '[server]\nhost = local\n[backup]\ndir = %s/sys\n[log]\nsyslog = yes\n' "$SCRATCH" >syslog.ini
if unshare -m true 2>/dev/null; then
	unshare -m sh -c '
		set -e
		mkdir -p "$1/dev"
		mount --rbind /dev "$1/dev"
		mount -t tmpfs tmpfs /dev
		for d in null zero urandom random; do touch /dev/$d; mount --bind "$1/dev/$d" /dev/$d; done
		python3 "$1/syslog_listen.py" "$1/ready" "$1/syslog.txt" & l=$!
		while [ ! -e "$1/ready" ]; do sleep 0.1; done
		"$2" -c "$1/syslog.ini" verify --latest || true
		for i in $(seq 50); do [ -s "$1/syslog.txt" ] && break; sleep 0.1; done
		kill $l
	' sh "$SCRATCH" "$FERRY" 2>/dev/null || true
	contains "syslog = yes: the error reaches syslog" "$(cat syslog.txt 2>/dev/null)" "ferry["
	contains "syslog line names the component" "$(cat syslog.txt 2>/dev/null)" "verify: no archives in"
else
	skip "syslog: cannot make a private mount namespace here"
fi

needs_sandbox "notify"

# ---- the listener ---------------------------------------------------------
python3 "$FERRY_SOURCE_ROOT/tests/http_recorder.py" port requests.log &
listener=$!
trap 'kill $listener 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s port ] && break; sleep 0.1; done
PORT=$(cat port)
URL=http://127.0.0.1:$PORT
reqs() { cat requests.log 2>/dev/null || true; }
# req N FIELD: a field of the Nth request (1-based) as JSON
req() { python3 -c 'import json,sys; r=[json.loads(l) for l in open("requests.log")]; print(r[int(sys.argv[1])-1][sys.argv[2]])' "$@"; }

PSQL() { ip netns exec "$SBX_NS" env PGPASSWORD="$SBX_PG_PASSWORD" psql -qAtX -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 "$@"; }
PSQL -c "DROP DATABASE IF EXISTS nt_shop" -c "CREATE DATABASE nt_shop" >/dev/null
PSQL -d nt_shop -c "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT i, md5(i::text) FROM generate_series(1, 2000) i" >/dev/null

# The sandbox's [server] and [postgres] only (other parts are not needed).
base_conf() { # FILE
	awk '/^\[/ { keep = ($0 == "[server]" || $0 == "[project]" || $0 == "[postgres]") } keep' \
		"$SBX_DIR/ferry.ini" >"$1"
	sed -i 's/^\[postgres\]/[postgres]\ndatabases = nt_shop/' "$1"
	printf '\n[backup]\ndir = %s/archives\nname = nt\n' "$SCRATCH" >>"$1"
	chmod 600 "$1"
}
base_conf nt.ini
mkdir -p metrics
cat >>nt.ini <<EOF

[notify]
ping_url = $URL/ping/0f3c
webhook_url = $URL/hook
metrics_file = $SCRATCH/metrics/ferry.prom
EOF

# ---- a good backup ----------------------------------------------------------
expect_exit "backup with [notify]" 0 "$FERRY" -c nt.ini backup
A=$(readlink -f archives/nt-*.tar.zst)
same "three calls: start ping, webhook, ping" "$(reqs | wc -l)" "3"
same "first: POST <url>/start" "$(req 1 method) $(req 1 path)" "POST /ping/0f3c/start"
paths=$(python3 -c 'import json; print(" ".join(json.loads(l)["path"] for l in open("requests.log")))')
contains "success ping: POST <url>" "$paths" "/ping/0f3c "
contains "webhook posted" "$paths" "/hook"
python3 - "$A" "$(stat -c %s "$A")" <<'PY' && ok "webhook JSON: job, status, archive, size, duration, components, error" || notok "webhook JSON"
import json, sys
r = [json.loads(l) for l in open("requests.log")]
hook = [x for x in r if x["path"] == "/hook"][0]
assert hook["ctype"] == "application/json", hook["ctype"]
j = json.loads(hook["body"])
assert j["job"] == "backup" and j["status"] == "ok", j
assert j["archive"] == sys.argv[1] and j["size"] == int(sys.argv[2]), j
assert isinstance(j["duration"], (int, float)) and j["duration"] >= 0, j
assert j["components"]["postgres"]["status"] == "ok", j
assert j["error"] is None, j
ping = [x for x in r if x["path"] == "/ping/0f3c"][0]
assert ping["body"].startswith("backup ok") and sys.argv[1] in ping["body"], ping
PY

# ---- metrics ---------------------------------------------------------------
M=metrics/ferry.prom
same "metrics file readable by a collector (0644)" "$(stat -c %a $M)" "644"
same "no temporary file left beside it" "$(ls metrics)" "ferry.prom"
python3 - "$M" "$(stat -c %s "$A")" <<'PY' && ok "metrics: success time, duration, archive bytes, component status" || notok "metrics content: $(cat $M)"
import re, sys, time
text = open(sys.argv[1]).read()
vals = {}
for line in text.splitlines():
    if line.startswith("#"):
        assert re.match(r"# (HELP|TYPE) ferry_\w+ ", line), line
        continue
    name, v = line.rsplit(" ", 1)
    vals[name] = float(v)
now = time.time()
assert now - 120 < vals['ferry_last_success_timestamp_seconds{job="backup"}'] <= now + 1
assert vals['ferry_last_run_duration_seconds{job="backup"}'] >= 0
assert vals["ferry_last_archive_bytes"] == int(sys.argv[2])
assert vals['ferry_component_status{component="postgres"}'] == 1
assert vals['ferry_last_run_success{job="backup"}'] == 1
PY
if command -v promtool >/dev/null 2>&1; then
	promtool check metrics <"$M" && ok "promtool accepts the metrics" || notok "promtool"
fi

# ---- status and the state file ---------------------------------------------
same "state file beside the archives, 0600" "$(stat -c %a archives/.ferry-last-backup.json)" "600"
expect_exit "status --json" 0 "$FERRY" -c nt.ini status --json
python3 -c '
import json, sys
j = json.loads(sys.argv[1])
b = j["jobs"]["backup"]["last"]
assert b["status"] == "ok" and b["archive"] == sys.argv[2], b
assert j["newest_archive"]["archive"] == sys.argv[2] and j["newest_archive"]["age"] >= 0
assert j["jobs"]["prune"]["last"] is None and j["stale"] is False
' "$OUT" "$A" && ok "status --json: last backup, newest archive" || notok "status --json: $OUT"
expect_exit "status (text)" 0 "$FERRY" -c nt.ini status
contains "status lists the backup" "$OUT" "backup  "
contains "status names the newest archive" "$OUT" "newest archive: $(basename "$A") (ok)"

# ---- prune and verify notify too -------------------------------------------
: >requests.log
expect_exit "prune with [notify]" 0 "$FERRY" -c nt.ini prune
contains "prune: start ping" "$(reqs)" '"path": "/ping/0f3c/start"'
contains "prune: webhook job prune" "$(reqs)" '\"job\":\"prune\",\"status\":\"ok\"'
: >requests.log
expect_exit "verify --latest with [notify]" 0 "$FERRY" -c nt.ini verify --latest
contains "verify: webhook job verify, the archive" "$(reqs)" "\\\"job\\\":\\\"verify\\\",\\\"status\\\":\\\"ok\\\""
contains "verify: names the archive" "$(reqs)" "$A"
: >requests.log
expect_exit "prune --dry-run is no run" 0 "$FERRY" -c nt.ini prune --dry-run
same "a dry run notifies nothing" "$(reqs | wc -l)" "0"

# ---- failure: /fail, the error, exit code unchanged -------------------------
sed 's/^databases = nt_shop/databases = nt_missing/' nt.ini >fail.ini && chmod 600 fail.ini
: >requests.log
# a database that is not there: exit 1 (a failure, not a lost link), as
# without [notify]
expect_exit "failing backup still fails" 1 "$FERRY" -c fail.ini backup --json
python3 -c 'import json,sys; j=json.loads(sys.argv[1]); assert j["status"] == "failed" and j["error"], j' "$OUT" \
	&& ok "backup --json: one document on failure too" || notok "backup --json on failure: $OUT"
paths=$(python3 -c 'import json; print(" ".join(json.loads(l)["path"] for l in open("requests.log")))')
contains "failure ping: <url>/fail" "$paths" "/ping/0f3c/fail"
lacks "no success ping on failure" " $paths " " /ping/0f3c "
python3 -c '
import json
r = [json.loads(l) for l in open("requests.log")]
j = json.loads([x for x in r if x["path"] == "/hook"][0]["body"])
assert j["status"] == "failed" and "nt_missing" in j["error"] and j["archive"] is None, j
f = [x for x in r if x["path"] == "/ping/0f3c/fail"][0]
assert "nt_missing" in f["body"], f
' && ok "webhook and ping name the error" || notok "failure notifications: $(reqs)"
expect_exit "status after a failed run: the good archive is still fresh" 0 "$FERRY" -c fail.ini status --json
python3 -c 'import json,sys; j=json.loads(sys.argv[1]); b=j["jobs"]["backup"]["last"]; assert b["status"] == "failed" and b["last_success"], b' "$OUT" \
	&& ok "state keeps the last success across a failure" || notok "state: $OUT"

# on = failure: a good run says nothing, a failed one says so
sed 's/^\[notify\]/[notify]\non = failure/' nt.ini >onfail.ini && chmod 600 onfail.ini
sed 's/^databases = nt_shop/databases = nt_missing/' onfail.ini >onfail_bad.ini && chmod 600 onfail_bad.ini
: >requests.log
expect_exit "on = failure: good backup" 0 "$FERRY" -c onfail.ini backup
same "on = failure: a good run sends nothing" "$(reqs | wc -l)" "0"
expect_exit "on = failure: failing backup" 1 "$FERRY" -c onfail_bad.ini backup
paths=$(python3 -c 'import json; print(" ".join(sorted(json.loads(l)["path"] for l in open("requests.log"))))')
same "on = failure: /fail and the webhook only" "$paths" "/hook /ping/0f3c/fail"

# retries: 500 twice, then accepted
sed "s#^webhook_url = .*#webhook_url = $URL/flaky/hook#" nt.ini >flaky.ini && chmod 600 flaky.ini
: >requests.log
expect_exit "webhook answering 500 twice" 0 "$FERRY" -c flaky.ini backup
same "tried three times" "$(grep -c '"/flaky/hook"' requests.log)" "3"
lacks "no warning once it got through" "$ERR" "notification"
# nobody listening / 404: logged, the backup's result unchanged
sed "s#^ping_url = .*#ping_url = http://127.0.0.1:1/ping#; s#^webhook_url = .*#webhook_url = $URL/gone/hook#" nt.ini >down.ini && chmod 600 down.ini
expect_exit "notification endpoint down: the backup still exits 0" 0 "$FERRY" -c down.ini backup
contains "the failed ping is logged" "$ERR" "warning: notification ping (start) failed"
contains "the 404 webhook is logged" "$ERR" "warning: notification webhook failed: HTTP status 404"
lacks "the ping URL (a secret) is not logged" "$ERR" "127.0.0.1:1/ping"

# ---- --json: one document each ---------------------------------------------
for c in "list --json" "check --json" "history --json" "status --json" "backup --json"; do
	# shellcheck disable=SC2086
	"$FERRY" -c nt.ini $c >doc.json 2>/dev/null || true
	python3 -c 'import json; json.load(open("doc.json"))' && ok "$c prints one JSON document" || notok "$c: $(head -c 300 doc.json)"
done
python3 -c '
import json
j = json.load(open("doc.json"))
assert j["job"] == "backup" and j["status"] == "ok" and j["exit"] == 0, j
assert j["archive"].endswith(".tar.zst") and j["size"] > 0 and j["seconds"] > 0, j
assert j["components"]["postgres"]["status"] == "ok", j
' && ok "backup --json: status, archive, size, seconds, components" || notok "backup --json: $(head -c 400 doc.json)"

# ---- --log-format json on a real run ----------------------------------------
expect_exit "--log-format json: failing backup" 1 "$FERRY" --log-format json -c fail.ini backup
python3 -c '
import json, sys
lines = sys.argv[1].splitlines()
assert lines
for l in lines:
    j = json.loads(l)
    assert set(j) == {"time", "level", "component", "message"}, j
    assert j["component"] == "backup"
assert any("nt_missing" in json.loads(l)["message"] for l in lines)
' "$ERR" && ok "every stderr line of a run is JSON" || notok "log lines: $ERR"

# ---- max_age -----------------------------------------------------------------
cp nt.ini stale.ini && printf '\n[schedule]\nbackup = 0 3 * * *\nmax_age = 1s\n' >>stale.ini
sleep 2
expect_exit "status: newest good backup older than max_age: exit 1" 1 "$FERRY" -c stale.ini status
contains "status says why" "$ERR" "older than max_age 1s"
cp nt.ini fresh.ini && printf '\n[schedule]\nbackup = 0 3 * * *\n' >>fresh.ini
expect_exit "status: default max_age is twice the interval (48h)" 0 "$FERRY" -c fresh.ini status --json
contains "max_age 172800" "$OUT" '"max_age": 172800'
mkdir -p none && sed "s#^dir = .*#dir = $SCRATCH/none#" fresh.ini >none.ini && chmod 600 none.ini
expect_exit "status: no backup at all: exit 1" 1 "$FERRY" -c none.ini status

# ---- a secret in a component's error ----------------------------------------
# The Redis password is "wrong", a word the refusal quotes ("authentication
# failed (wrong password)"): the run is partial (exit 5) and every string it
# reports is masked, the component's error as much as the run's.
sed "s#^dir = .*#dir = $SCRATCH/masked#" nt.ini >mask.ini
printf '\n[redis]\npassword = wrong\n' >>mask.ini && chmod 600 mask.ini
: >requests.log
expect_exit "wrong Redis password: a partial backup" 5 "$FERRY" -c mask.ini backup --json
contains "the secret is masked in the run's error" "$ERR" "(**** password)"
lacks "backup --json: no secret" "$OUT" "wrong"
python3 -c 'import json,sys; j=json.loads(sys.argv[1]); assert "****" in j["components"]["redis"]["error"], j' "$OUT" \
	&& ok "backup --json: the component's error is masked" || notok "backup --json components: $OUT"
python3 -c '
import json
r = [json.loads(l) for l in open("requests.log")]
hooks = [json.loads(x["body"]) for x in r if x["path"] == "/hook"]
assert len(hooks) == 1, hooks
c = hooks[0]["components"]["redis"]
assert c["status"] == "failed" and "(**** password)" in c["error"], c
' && ok "webhook: components.redis.error is masked" || notok "webhook components: $(reqs)"
lacks "no notification carries the secret" "$(reqs)" "wrong"
lacks "the state file does not carry it" "$(cat masked/.ferry-last-backup.json)" "wrong"
expect_exit "status --json after it" 0 "$FERRY" -c mask.ini status --json
lacks "status --json does not carry it" "$OUT" "wrong"
MA=$(ls -t masked/*.manifest.json | head -n 1)
lacks "the manifest (which goes off-site too) does not carry it" "$(cat "$MA")" "wrong"
expect_exit "list --json after it" 0 "$FERRY" -c mask.ini list --json
lacks "list --json does not carry it" "$OUT" "wrong"

# ---- SIGTERM during the off-site copy ----------------------------------------
# An off-site store that takes the connection and never answers (a paused
# s3rver): the archive is published, then its upload hangs, and SIGTERM
# ends it there.  The local archive stays, and the message, the record and
# the notifications say so.
cat >stall.py <<'PY'
import os, socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
s.settimeout(120)
held = []
try:
    while True:
        held.append(s.accept()[0])
        with open(sys.argv[2], "a") as f:
            f.write("accepted\n")
except socket.timeout:
    pass
PY
python3 stall.py stall.port stall.log &
staller=$!
trap 'kill $listener $staller 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s stall.port ] && break; sleep 0.1; done
sed -e "s#^dir = .*#dir = $SCRATCH/offarch#" -e 's/^connect_timeout = .*/connect_timeout = 60s/' nt.ini >off.ini
printf '\n[offsite]\nurl = s3://offsite/nt\nendpoint = http://127.0.0.1:%s\naccess_key = S3RVER\nsecret_key = S3RVER\n' \
	"$(cat stall.port)" >>off.ini && chmod 600 off.ini
: >requests.log
"$FERRY" -c off.ini backup >off.out 2>off.err &
bpid=$!
for _ in $(seq 300); do [ -s stall.log ] && break; sleep 0.1; done
[ -s stall.log ] && ok "the off-site upload began" || notok "the off-site upload began: $(cat off.err)"
sleep 0.5
kill -TERM $bpid
set +e
wait $bpid
st=$?
set -e
same "SIGTERM during the off-site copy: exit 143" "$st" "143"
O=$(cd offarch && ls | grep 'tar\.zst$' || true)
[ -n "$O" ] && [ -f "offarch/${O%.tar.zst}.manifest.json" ] && ok "the published archive stays, with its manifest" \
	|| notok "the published archive stays: $(ls offarch)"
O=$SCRATCH/offarch/$O
contains "the message names what was published" "$(cat off.err)" \
	"ferry: backup: interrupted by SIGTERM during the off-site copy; $O was published, its off-site copy was not made"
lacks "it does not say nothing was published" "$(cat off.err)" "nothing was published"
python3 - "$O" <<'PY' && ok "one webhook and one /fail ping, naming the archive" || notok "notifications after SIGTERM: $(reqs)"
import json, sys
r = [json.loads(l) for l in open("requests.log")]
hooks = [json.loads(x["body"]) for x in r if x["path"] == "/hook"]
assert len(hooks) == 1, hooks
j = hooks[0]
assert j["status"] == "failed" and j["exit"] == 143 and j["archive"] == sys.argv[1], j
assert "its off-site copy was not made" in j["error"], j
assert j["components"]["postgres"]["status"] == "ok", j
fails = [x for x in r if x["path"] == "/ping/0f3c/fail"]
assert len(fails) == 1 and sys.argv[1] in fails[0]["body"], fails
PY
python3 - "$O" offarch/.ferry-last-backup.json <<'PY' && ok "the state file records the failed run and its archive" || notok "state after SIGTERM: $(cat offarch/.ferry-last-backup.json)"
import json, sys
j = json.load(open(sys.argv[2]))
assert j["status"] == "failed" and j["exit"] == 143, j
assert j["archive"] == sys.argv[1] and j["last_archive"] == sys.argv[1], j
PY
kill $staller 2>/dev/null || true
