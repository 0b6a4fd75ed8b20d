# Deploy operations against a real Docker engine in the sandbox (dockerd in
# its network namespace, compose v1, busybox images): deploy with the health
# gate, ps, logs (live, interrupted, resumed after a cut), exec, restart,
# down, the deploy lock, require, service selection and the history.
# once: waits on Docker compose, little C beyond the plain build's
# cost: 200 (seconds, roughly: tests/run starts the costliest first)
set -eu
. "$FERRY_SOURCE_ROOT/tests/lib.sh"
needs_sandbox "ops"
"$FERRY_SOURCE_ROOT/tests/sandbox/sandbox.sh" docker "$SBX_DIR" >"$SCRATCH/docker.log" 2>&1 || true
DOCKER_SOCK=$(sed -n 's/^SBX_DOCKER_HOST=//p' "$SBX_DIR/env")
if [ -z "$DOCKER_SOCK" ]; then
	skip "ops: no Docker engine in the sandbox: $(sed -n 's/^SBX_DOCKER_SKIP=//p' "$SBX_DIR/env" | tr -d "'")"
	exit 0
fi
cd "$SCRATCH"
KEY=$(basename "$SCRATCH" | tr -cd 'a-z0-9' | tail -c 12)
PROJ="fops$KEY"
R="$SBX_REMOTE_DIR/ops-$KEY"
PORT=$((18000 + RANDOM % 2000))
RUNAS() { ip netns exec "$SBX_NS" runuser -u "$SBX_USER" -- sh -c "$1"; }
DK() { DOCKER_HOST=$DOCKER_SOCK docker "$@"; }
# the project's running services, sorted, space-separated
running() {
	DK ps --filter "label=com.docker.compose.project=$PROJ" \
		--format '{{.Label "com.docker.compose.service"}}' | sort | tr '\n' ' ' | sed 's/ $//'
}
now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }
# cut every SSH session of this sandbox (not another sandbox's)
cut_ssh() {
	for m in $(pgrep -P "$(cat "$SBX_DIR/sshd.pid")"); do
		pkill -KILL -P "$m" || true
		kill -KILL "$m" 2>/dev/null || true
	done
}
# the server's processes of this project's logs, if any
remote_logs() {
	pgrep -u "$SBX_USER" -af 'logs' | grep -E -- "-p $PROJ |docker logs .*($(DK ps -aq --no-trunc --filter "label=com.docker.compose.project=$PROJ" | tr '\n' '|')x)" || true
}
# gone_remote_logs: the server's logs processes, after up to 5 s for them
# to end (sshd reaps a closed session's children on its own time)
gone_remote_logs() {
	for _ in $(seq 1 50); do [ -z "$(remote_logs)" ] && break; sleep 0.1; done
	remote_logs
}
# end_job PID SIG: sends SIG, waits up to 10 s (then KILL); its status in ST
end_job() {
	kill -"$2" "$1" 2>/dev/null || true
	for _ in $(seq 1 200); do kill -0 "$1" 2>/dev/null || break; sleep 0.05; done
	kill -9 "$1" 2>/dev/null || true
	set +e; wait "$1"; ST=$?; set -e
}
EXPECT=()	# the exit code of every deploy that reaches the server's lock
deployed() { EXPECT+=("$1"); }

# the project: an httpd serving synced files (health.txt among them), a
# worker logging a line a second, a healthcheck on the httpd
P="$SCRATCH/proj"
mkdir -p "$P/www"
echo hello >"$P/www/index.html"
echo ok >"$P/www/health.txt"
compose_file() { # [EXTRA SERVICE YAML]
	cat >"$P/docker-compose.yml" <<YML
version: "2.4"
services:
  web:
    image: ferry-test/busybox:1
    network_mode: host
    command: ["httpd", "-f", "-v", "-p", "127.0.0.1:$PORT", "-h", "/www"]
    volumes:
      - ./www:/www:ro
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:$PORT/health.txt"]
      interval: 1s
      timeout: 2s
      retries: 2
  worker:
    image: ferry-test/busybox:1
    network_mode: host
    command: ["sh", "-c", "i=0; while :; do i=\$\$((i+1)); echo tick \$\$i; sleep 1; done"]
${1:-}
YML
}
compose_file
cp "$SBX_DIR/ferry.ini" o.ini
sed -i "s|^remote_dir = .*|remote_dir = $R\nlocal_dir = $P|" o.ini
cat >>o.ini <<INI

[deploy]
compose = env DOCKER_HOST=$DOCKER_SOCK docker-compose
project_name = $PROJ
health_url = http://127.0.0.1:$PORT/health.txt
health_timeout = 12s
health_interval = 1s

[group.back]
services = worker

[group.front]
services = web
INI
chmod 600 o.ini
# (a function: a background job of it would be a subshell, which signals
# do not reach; background jobs run "$FERRY" itself)
F() { "$FERRY" -c o.ini "$@"; }

# ---- deploy and the commands around it
F check >check.out 2>&1 || true
contains "check: compose row ok when the engine answers" "$(cat check.out)" "compose     ok"
contains "check names the engine" "$(grep '^compose' check.out)" ", engine 20"
expect_exit "deploy passes the health gate" 0 F deploy
deployed 0
contains "deploy reports the gate" "$OUT" "health: ok"
contains "compose's output is streamed (stderr)" "$ERR" "${PROJ}_web_1"
same "the httpd serves the synced health file" "$(ip netns exec "$SBX_NS" python3 -c "import urllib.request;print(urllib.request.urlopen('http://127.0.0.1:$PORT/health.txt').read().decode().strip())")" "ok"
same "both services run" "$(running)" "web worker"

expect_exit "ps" 0 F ps
contains "ps shows compose's table" "$OUT" "${PROJ}_worker_1"
expect_exit "ps --json" 0 F ps --json
if python3 - "$OUT" <<'PY'
import json, sys
rows = {r["service"]: r for r in json.loads(sys.argv[1])}
assert set(rows) == {"web", "worker"}, rows
assert rows["web"]["state"] == "running" and rows["web"]["health"] == "healthy", rows["web"]
assert rows["worker"]["state"] == "running" and rows["worker"]["health"] == "", rows["worker"]
PY
then ok "ps --json: both running, web healthy"; else notok "ps --json: $OUT"; fi
expect_exit "ps --json web" 0 F ps --json web
same "ps --json SERVICE selects it" "$(python3 -c 'import json,sys; print(" ".join(r["service"] for r in json.load(sys.stdin)))' <<<"$OUT")" "web"
contains "ps --json: the container's name as compose reports it" "$OUT" "\"name\": \"${PROJ}_web_1\""

sleep 2
expect_exit "logs -n 2 worker" 0 F logs -n 2 worker
same "logs -n 2: two lines of the worker" "$(grep -c '^worker_1 *| tick [0-9]*$' <<<"$OUT")" "2"
expect_exit "logs --tail 1 --timestamps" 0 F logs --tail 1 --timestamps worker
if grep -Eq '^worker_1 *\| 20[0-9-]{8}T[0-9:.]+Z tick [0-9]+$' <<<"$OUT"; then ok "--timestamps shows each line's time"; else notok "--timestamps: $OUT"; fi
expect_exit "logs --since 3s" 0 F logs --since 3s worker
n=$(grep -c 'tick' <<<"$OUT" || true)
if [ "$n" -ge 1 ] && [ "$n" -le 6 ]; then ok "--since 3s: only the last seconds ($n lines)"; else notok "--since 3s gave $n lines"; fi
ln -sf "$FERRY" remote-logs
expect_exit "remote-logs -n 2 worker (the old flags)" 0 ./remote-logs -c o.ini -n 2 worker
same "remote-logs prints the lines" "$(grep -c 'tick' <<<"$OUT")" "2"
expect_exit "logs of an unknown service: exit 2" 2 F logs nosuch
contains "names it and lists the known ones" "$ERR" "unknown service 'nosuch' (the compose project's services: web, worker)"

expect_exit "exec" 0 F exec web -- cat /www/index.html
same "exec returns the command's output" "$OUT" "hello"
expect_exit "exec keeps a failing status as exit 4" 4 F exec web -- sh -c 'echo out; echo err >&2; exit 3'
same "exec stdout apart" "$OUT" "out"
contains "exec stderr apart" "$ERR" "err"
contains "exec names the status" "$ERR" "exit code 3"
same "exec passes stdin" "$(echo piped | F exec web -- cat)" "piped"

# ---- logs -f: Ctrl-C, and a cut connection
"$FERRY" -c o.ini logs -f -n 1 worker >lf.out 2>lf.err &
pid=$!
for _ in $(seq 1 100); do [ "$(grep -c tick lf.out)" -ge 2 ] && break; sleep 0.1; done
if [ -n "$(remote_logs)" ]; then ok "logs -f runs compose logs on the server"; else notok "no logs process on the server"; fi
t0=$(now)
kill -INT $pid
for _ in $(seq 1 40); do kill -0 $pid 2>/dev/null || break; sleep 0.05; done
dt=$(since "$t0")
if ! kill -0 $pid 2>/dev/null && [ "$(echo "$dt <= 1.0" | bc)" = 1 ]; then ok "Ctrl-C ends logs -f within a second (${dt}s)"; else notok "logs -f still running ${dt}s after Ctrl-C"; kill -9 $pid 2>/dev/null || true; fi
set +e; wait $pid; st=$?; set -e
same "ended by the signal (130)" "$st" "130"
same "nothing lingers on the server" "$(gone_remote_logs)" ""
if [ "$(grep -c tick lf.out)" -ge 2 ]; then ok "logs -f streamed live"; else notok "logs -f: $(cat lf.out)"; fi
# a quiet follow (nothing to write would make it notice the end by itself)
"$FERRY" -c o.ini logs -f --since 2099-01-01T00:00:00Z >lf.out 2>lf.err &
pid=$!
for _ in $(seq 1 100); do [ -n "$(remote_logs)" ] && break; sleep 0.1; done
sleep 1
end_job $pid INT
same "a quiet follow leaves nothing on the server either" "$(gone_remote_logs)" ""

"$FERRY" -c o.ini logs -f -n 2 worker >lf.out 2>lf.err &
pid=$!
for _ in $(seq 1 100); do [ "$(grep -c tick lf.out)" -ge 3 ] && break; sleep 0.1; done
before=$(grep -c tick lf.out)
cut_ssh
for _ in $(seq 1 300); do [ "$(grep -c tick lf.out)" -ge $((before + 6)) ] && break; sleep 0.1; done
end_job $pid INT
contains "a dropped connection is retried, said on stderr" "$(cat lf.err)" "reconnecting in 1s"
lacks "the reconnect message does not repeat itself" "$(cat lf.err)" "lost (connection to"
contains "and resumed" "$(cat lf.err)" "reconnected"
nums=$(sed -n 's/^worker_1 *| tick \([0-9]*\)$/\1/p' lf.out)
total=$(wc -l <<<"$nums")
if [ "$total" -ge $((before + 6)) ]; then ok "lines keep coming after the cut ($before before, $total in all)"; else notok "after the cut: $total lines, $before before"; fi
same "no line repeated after resuming" "$(sort -n <<<"$nums" | uniq -d | tr '\n' ' ')" ""
first=$(head -n 1 <<<"$nums"); last=$(tail -n 1 <<<"$nums")
same "no line lost (consecutive ticks)" "$nums" "$(seq "$first" "$last")"

# ---- restart, up, down
t_before=$(DK inspect -f '{{.State.StartedAt}}' "${PROJ}_worker_1")
expect_exit "restart worker" 0 F restart worker
if [ "$(DK inspect -f '{{.State.StartedAt}}' "${PROJ}_worker_1")" != "$t_before" ]; then ok "the worker was restarted"; else notok "worker not restarted"; fi
t_before=$(DK inspect -f '{{.State.StartedAt}}' "${PROJ}_worker_1")
expect_exit "restart -q" 0 F -q restart worker
if [ "$(DK inspect -f '{{.State.StartedAt}}' "${PROJ}_worker_1")" != "$t_before" ]; then ok "restart -q restarted it"; else notok "restart -q: not restarted"; fi
same "restart -q: compose's progress is not shown" "$OUT$ERR" ""
expect_exit "restart of an unknown service: exit 2" 2 F restart nosuch
lacks "only ferry's line, not compose's raw one" "$ERR" "No such service"

# ---- the health gate fails
rm "$P/www/health.txt"
t0=$(now)
expect_exit "health file removed: deploy fails with exit 4" 4 F deploy
deployed 4
dt=$(since "$t0")
contains "names the URL and its last state" "$ERR" "http://127.0.0.1:$PORT/health.txt HTTP 404"
contains "names the unhealthy service" "$ERR" "service 'web' running (unhealthy)"
contains "shows the service's last log lines" "$ERR" "the last 50 log lines of web"
contains "which are the httpd's" "$ERR" "web_1"
if [ "$(echo "$dt < 12 + 60" | bc)" = 1 ]; then ok "within its timeout (12s, ${dt%.*}s in all)"; else notok "took ${dt}s"; fi
echo ok >"$P/www/health.txt"
expect_exit "health file back: deploy passes" 0 F deploy
deployed 0

# ---- a service that exits at start
compose_file '  crasher:
    image: ferry-test/busybox:1
    network_mode: host
    command: ["sh", "-c", "echo crashing now; exit 3"]'
expect_exit "a service exiting at start fails the deploy" 4 F deploy crasher
deployed 4
contains "names it and its state" "$ERR" "service 'crasher' exited (code 3)"
lacks "without waiting for the timeout" "$ERR" "not ready after"
contains "shows its logs" "$ERR" "crashing now"
compose_file

# ---- a service of a profile not enabled: up does not start it, the gate
# does not wait for it (its image does not even exist)
compose_file '  infra:
    image: ferry-test/no-such-image:1
    network_mode: host
    profiles: ["infra"]'
expect_exit "a service of a disabled profile: deploy passes" 0 F deploy
deployed 0
contains "the gate counts what up started" "$OUT" "(2 services, 1 URL)"
lacks "without waiting for the profiled service" "$ERR" "infra"
same "the profiled service was not started" "$(running)" "web worker"
compose_file

# ---- selection: --service, --type, positional (health_url, checked on
# every deploy, is the httpd's: left out while it is not selected)
grep -v '^health_url' o.ini >sel.ini
chmod 600 sel.ini
S() { "$FERRY" -c sel.ini "$@"; }
expect_exit "down" 0 F down
same "down stops everything" "$(running)" ""
expect_exit "ps --json after down" 0 F ps --json
same "no containers left" "$(tr -d ' \n' <<<"$OUT")" "[]"
expect_exit "deploy --service web" 0 S deploy --service web
deployed 0
same "--service: exactly web" "$(running)" "web"
expect_exit "down" 0 F down
expect_exit "deploy --type back" 0 S deploy --type back
deployed 0
same "--type back: exactly its worker" "$(running)" "worker"
expect_exit "deploy web (positional)" 0 S deploy web
deployed 0
same "positional: web added, worker kept" "$(running)" "web worker"
expect_exit "unknown group: exit 2" 2 F deploy --type nosuch
contains "unknown group named with the known ones" "$ERR" "unknown group 'nosuch' (--type); configured groups: back, front"
expect_exit "unknown service: exit 2" 2 F deploy nosuch
deployed 2
contains "unknown service named with the known ones" "$ERR" "unknown service 'nosuch' (the compose project's services: web, worker)"
expect_exit "up worker" 0 F up worker

# ---- require
cp o.ini req.ini
sed -i 's|^\[deploy\]|[deploy]\nrequire = env/.env.app, env/.env.db|' req.ini
RUNAS "mkdir -p '$R/env' && echo A=1 >'$R/env/.env.db' && echo A= >'$R/env/.env.app.example'"
expect_exit "down" 0 F down
expect_exit "require missing: exit 1" 1 "$FERRY" -c req.ini deploy
deployed 1
contains "names the missing file" "$ERR" "required file env/.env.app is missing in $R"
contains "says how to create it" "$ERR" "cp $R/env/.env.app.example $R/env/.env.app"
lacks "compose never ran (no output of it)" "$ERR" "Creating"
same "compose never ran (nothing started)" "$(running)" ""
RUNAS "echo A=1 >'$R/env/.env.app'"
expect_exit "require present: deploy proceeds" 0 "$FERRY" -c req.ini deploy
deployed 0
same "and starts the project" "$(running)" "web worker"

# ---- the deploy lock
"$FERRY" -c o.ini deploy >d1.out 2>d1.err &
p1=$!
"$FERRY" -c o.ini deploy >d2.out 2>d2.err &
p2=$!
set +e; wait $p1; s1=$?; wait $p2; s2=$?; set -e
deployed "$s1"; deployed "$s2"
same "two concurrent deploys: one proceeds, one exits 7" "$(printf '%s\n' "$s1" "$s2" | sort | tr '\n' ' ')" "0 7 "
contains "the refused one names the holder and since when" "$(cat d1.err d2.err)" "is held by $(id -un)@$(hostname) (pid "
contains "(since)" "$(cat d1.err d2.err)" " since 20"

"$FERRY" -c o.ini deploy >d1.out 2>d1.err &
p1=$!
for _ in $(seq 1 100); do [ -e "$R/.ferry/deploy.lock" ] && break; sleep 0.05; done
expect_exit "--lock-wait waits for the lock, then proceeds" 0 F deploy --lock-wait 120s
contains "it says it waits" "$ERR" "waiting up to 120s for the deploy lock held by"
set +e; wait $p1; s1=$?; set -e
deployed "$s1"; deployed 0
same "the first one was not disturbed" "$s1" "0"
if [ ! -e "$R/.ferry/deploy.lock" ]; then ok "the lock is released"; else notok "lock left: $(cat "$R/.ferry/deploy.lock")"; fi

rm "$P/www/health.txt"
"$FERRY" -c o.ini deploy >d1.out 2>d1.err &
p1=$!
for _ in $(seq 1 200); do grep -q 'to delete' d1.out 2>/dev/null && break; sleep 0.1; done
sleep 2
end_job $p1 TERM
deployed 143
echo ok >"$P/www/health.txt"
same "a signalled deploy dies of it" "$ST" "143"
contains "and says the lock is released" "$(cat d1.err)" "the deploy lock is released"
if [ ! -e "$R/.ferry/deploy.lock" ]; then ok "no lock left after a signal"; else notok "lock left after SIGTERM"; fi

sh -c 'exit 0' & dead=$!; wait $dead || true
printf '{"user":"ghost","host":"%s","machine":"%s","pid":%d,"started":"2020-01-01T00:00:00Z","since":%d,"token":"t"}\n' \
	"$(hostname)" "$(cat /etc/machine-id 2>/dev/null || true)" "$dead" "$(( $(date +%s) - 60 ))" >"$R/.ferry/deploy.lock"
expect_exit "a lock of this host whose ferry is gone is taken over" 0 F deploy --no-up
deployed 0
contains "with a warning naming it" "$ERR" "taking over a stale deploy lock: ghost@$(hostname) (pid $dead)"
printf '{"user":"ghost","host":"elsewhere.invalid","pid":42,"started":"2020-01-01T00:00:00Z","since":%d,"token":"t"}\n' \
	"$(( $(date +%s) - 7200 ))" >"$R/.ferry/deploy.lock"
expect_exit "another host's old lock is never taken silently: exit 7" 7 F deploy --no-up
deployed 7
contains "it is reported as stale" "$ERR" "looks stale (older than lock_stale 30m)"
contains "with the way out" "$ERR" "--force-unlock"
hist_before=$(F history --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
expect_exit "--dry-run takes no lock (works while one is held)" 0 F deploy --dry-run
same "--dry-run writes no history" "$(F history --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" "$hist_before"
contains "the foreign lock is untouched" "$(cat "$R/.ferry/deploy.lock")" "elsewhere.invalid"
expect_exit "--force-unlock removes it and deploys" 0 F deploy --force-unlock
deployed 0
contains "saying whose it was" "$ERR" "removed the deploy lock of ghost@elsewhere.invalid (pid 42)"
# a lock written by hand, without its newline
printf '{"user":"alice","host":"laptop.invalid","pid":42,"started":"2020-01-01T00:00:00Z","since":%d,"token":"t"}' \
	"$(( $(date +%s) - 7200 ))" >"$R/.ferry/deploy.lock"
expect_exit "--force-unlock of a lock without its newline" 0 F deploy --no-up --force-unlock
deployed 0
contains "its holder named" "$ERR" "removed the deploy lock of alice@laptop.invalid (pid 42)"
if [ ! -e "$R/.ferry/deploy.lock" ]; then ok "and no lock is left"; else notok "lock left: $(cat "$R/.ferry/deploy.lock")"; fi

# ---- history
expect_exit "history" 0 F history
contains "history has a header" "$OUT" "RESULT"
contains "shows successes" "$OUT" " ok "
contains "shows failures" "$OUT" " failed "
contains "shows refusals" "$OUT" " locked "
contains "shows interruptions" "$OUT" " interrupted "
expect_exit "history --json" 0 F history --json
same "every deploy above is recorded with its exit code" \
	"$(python3 -c 'import json,sys; print(" ".join(sorted(str(r["exit"]) for r in json.load(sys.stdin))))' <<<"$OUT")" \
	"$(printf '%s\n' "${EXPECT[@]}" | sort | tr '\n' ' ' | sed 's/ $//')"
if python3 - "$OUT" <<'PY'
import json, sys
recs = json.loads(sys.argv[1])
last = recs[0]
for k in ("time", "user", "host", "sent", "deleted", "bytes", "services", "duration", "result", "exit"):
    assert k in last, k
assert last["result"] == "ok" and last["exit"] == 0
times = [r["time"] for r in recs]
assert times == sorted(times, reverse=True), times
assert any(r["services"] == ["worker"] for r in recs)
PY
then ok "history --json: newest first, every field"; else notok "history --json: $(head -c 300 <<<"$OUT")"; fi
expect_exit "history -n 2" 0 F history -n 2 --json
same "-n 2 shows two" "$(python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' <<<"$OUT")" "2"

expect_exit "down at the end" 0 F down
same "nothing of the project runs" "$(running)" ""
RUNAS "rm -rf '$R'"
