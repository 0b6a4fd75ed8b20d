# Redis: the snapshot over the replication protocol in both payload forms
# (diskless "$EOF:" and "$<len>"), checked by redis-check-rdb and loaded
# into a fresh redis-server with the same keys, values, types and TTLs;
# restore --to DIR; the service restore (needs a Docker engine); failures
# that stay within the component (exit 5) and never hang.
# cost: 100 (seconds, roughly: tests/run starts the costliest first)
set -eu
. "$FERRY_SOURCE_ROOT/tests/lib.sh"
needs_sandbox "redis"
cd "$SCRATCH"
for t in redis-server redis-cli redis-check-rdb; do
	command -v $t >/dev/null || { skip "redis: $t is not installed"; exit 0; }
done

# Our own Redis inside the sandbox (its loopback, our port), so the
# sandbox's shared one keeps its settings.
PW=src-$(openssl rand -hex 8)
PORT=16379
mkdir -p src load
ip netns exec "$SBX_NS" redis-server --port $PORT --bind 127.0.0.1 \
	--requirepass "$PW" --daemonize yes --pidfile "$SCRATCH/src/pid" \
	--dir "$SCRATCH/src" --logfile "$SCRATCH/src/log" --save '' \
	--enable-debug-command yes --repl-diskless-sync yes \
	--repl-diskless-sync-delay 0
LPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cleanup() {
	for p in src/pid load/pid hole.pid mute.pid; do
		[ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null || true
	done
}
trap cleanup EXIT
RS() { ip netns exec "$SBX_NS" redis-cli -p $PORT -a "$PW" --no-auth-warning "$@"; }
RL() { redis-cli -p "$LPORT" "$@"; }
for _ in $(seq 1 100); do RS ping >/dev/null 2>&1 && break; sleep 0.1; done

python3 "$FERRY_SOURCE_ROOT/tests/redis_data.py" 50 | RS --pipe >pipe.out 2>&1
contains "test data loaded into the source Redis" "$(cat pipe.out)" "errors: 0"
keyspace() { "$@" info keyspace | tr -d '\r' | grep '^db' | sed 's/,avg_ttl=.*//'; }
src_keys=$(( $(keyspace RS | sed 's/.*keys=\([0-9]*\).*/\1/' | paste -sd+) ))
if [ "$src_keys" -gt 10000 ]; then ok "source holds $src_keys keys"; else notok "source holds $src_keys keys"; fi

backup_conf r.ini rd
printf '\n[redis]\npassword = %s\nport = %s\n' "$PW" "$PORT" >>r.ini
mjson() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); [v := v[k] for k in sys.argv[2].split(".")]; print(v)' "$1" "$2"; }
rdb_of() { # ARCHIVE OUT: the archived RDB, its parts joined
	rm -rf ex && mkdir ex && tar --zstd -xf "$1" -C ex
	cat ex/redis/dump.rdb* >"$2"
}

# ---- the diskless form --------------------------------------------------------
expect_exit "backup --only redis (diskless)" 0 "$FERRY" -c r.ini -v backup --only redis
contains "-v names the member" "$ERR" "redis/dump.rdb"
contains "one line for the component: what, how much, how long" "$OUT" "redis     ok, $src_keys keys in 2 databases, diskless RDB, "
A=$(ls -t archives/rd-*.tar.zst | head -n 1)
M=${A%.tar.zst}.manifest.json
same "the master sent the diskless \$EOF: form" "$(mjson "$M" components.redis.transfer)" "diskless"
same "manifest: the snapshot's key count" "$(mjson "$M" components.redis.keys)" "$src_keys"
same "manifest: CRC64 checked" "$(mjson "$M" components.redis.checksum)" "crc64"
rdb_of "$A" diskless.rdb
contains "the 50 MB value made parts" "$(ls ex/redis)" "dump.rdb.part-0001"
same "the RDB in the archive is as long as the manifest says" "$(stat -c %s diskless.rdb)" "$(mjson "$M" components.redis.bytes)"
if redis-check-rdb diskless.rdb >check.out 2>&1; then ok "redis-check-rdb passes (diskless)"; else notok "redis-check-rdb (diskless): $(tail -n 3 check.out)"; fi
contains "redis-check-rdb counts the keys" "$(cat check.out)" "$src_keys keys read"
contains "ferry's walk of the same file counts them too (\$<len> form)" "$("$FERRY_BUILD/tests/rdb_probe" diskless.rdb)" "keys=$src_keys expires=151 walked=1 checksum=1"
contains "... and in the diskless form" "$("$FERRY_BUILD/tests/rdb_probe" diskless.rdb mark)" "keys=$src_keys expires=151 walked=1 checksum=1"
expect_exit "verify --latest" 0 "$FERRY" -c r.ini verify --latest

# a fresh redis-server loads it with the same keys, values, types and TTLs
ttls() { "$@" --scan --pattern 'ttl:*' | sort | while read -r k; do printf 'PEXPIRETIME %s\n' "$k"; done | "$@" | paste -sd,; }
loads_same() { # RDB LABEL
	rm -f load/dump.rdb; cp "$1" load/dump.rdb
	redis-server --port "$LPORT" --bind 127.0.0.1 --dir "$SCRATCH/load" --daemonize yes \
		--pidfile "$SCRATCH/load/pid" --logfile "$SCRATCH/load/log" --save '' \
		--enable-debug-command yes
	for _ in $(seq 1 200); do [ "$(RL info persistence 2>/dev/null | tr -d '\r' | grep '^loading:')" = "loading:0" ] && break; sleep 0.1; done
	same "$2: the same keys per database" "$(keyspace RL)" "$(keyspace RS)"
	same "$2: the same dataset digest (keys, values, types)" "$(RL debug digest)" "$(RS debug digest)"
	same "$2: the same expiry times, to the millisecond" "$(ttls RL)" "$(ttls RS)"
	same "$2: the 50 MB value" "$(RL strlen big)" "52428800"
	same "$2: a binary key" "$(printf 'GET "bin\\x00key\\xff"\n' | RL | od -c | head -n 1)" "$(printf 'GET "bin\\x00key\\xff"\n' | RS | od -c | head -n 1)"
	kill "$(cat load/pid)"; rm -f load/pid
	sleep 0.3
}
loads_same diskless.rdb loaded

# ---- the $<len> form (a disk-based sync) -------------------------------------------
RS config set repl-diskless-sync no >/dev/null
new_second
expect_exit "backup --only redis (disk-based)" 0 "$FERRY" -c r.ini backup --only redis
B=$(ls -t archives/rd-*.tar.zst | head -n 1)
same "the master sent the \$<len> form" "$(mjson "${B%.tar.zst}.manifest.json" components.redis.transfer)" "disk"
rdb_of "$B" disk.rdb
if redis-check-rdb disk.rdb >check.out 2>&1; then ok "redis-check-rdb passes (disk-based)"; else notok "redis-check-rdb (disk-based): $(tail -n 3 check.out)"; fi
same "disk-based: the same key count" "$(mjson "${B%.tar.zst}.manifest.json" components.redis.keys)" "$src_keys"

# ---- the server path: redis-cli --rdb - on the server, compressed ------------------------
sed 's/^\[redis\]$/[redis]\ntransfer = server/' r.ini >rs.ini; chmod 600 rs.ini
contains "check: transfer = server takes redis-cli" "$("$FERRY" -c rs.ini check 2>&1)" "transfer: server (zstd) (transfer = server: redis-cli and zstd on the server)"
(while :; do ps -eo args; sleep 0.02; done >ps.txt 2>/dev/null) &
watch=$!
new_second
expect_exit "backup, transfer = server (disk-based)" 0 "$FERRY" -c rs.ini -v backup --only redis
kill "$watch" 2>/dev/null; wait "$watch" 2>/dev/null || true
contains "-v: the server path" "$ERR" "redis: transfer server (zstd): transfer = server"
contains "ps saw redis-cli --rdb on the server" "$(cat ps.txt)" "redis-cli -h 127.0.0.1 -p $PORT --rdb -"
lacks "no password in any command line (ps -eo args)" "$(cat ps.txt)" "$PW"
S=$(ls -t archives/rd-*.tar.zst | head -n 1)
same "server path: the manifest records it" "$(mjson "${S%.tar.zst}.manifest.json" components.redis.path)" "server (zstd)"
same "server path: redis-cli's report of the \$<len> form" "$(mjson "${S%.tar.zst}.manifest.json" components.redis.transfer)" "disk"
same "server path: the snapshot's key count" "$(mjson "${S%.tar.zst}.manifest.json" components.redis.keys)" "$src_keys"
rdb_of "$S" server-disk.rdb
same "server path: the RDB as long as the manifest says" "$(stat -c %s server-disk.rdb)" "$(mjson "${S%.tar.zst}.manifest.json" components.redis.bytes)"
if redis-check-rdb server-disk.rdb >check.out 2>&1; then ok "server path: redis-check-rdb passes (disk-based)"; else notok "server path: redis-check-rdb (disk-based): $(tail -n 3 check.out)"; fi
RS config set repl-diskless-sync yes >/dev/null

# auto on a slow link takes it too; the diskless form's trailing mark
# (redis-cli cannot truncate it from a pipe) is not part of the RDB
. "$FERRY_SOURCE_ROOT/tests/sandbox/faults.sh"
fault_shape 50mbit
C=$("$FERRY" -c r.ini check 2>&1 || true)
contains "check: on a 50 Mbit link auto takes the server path" "$C" "transfer: server (zstd) (the link carries "
contains "check: ... and says why" "$C" "MB/s, under 25 MB/s: redis-cli and zstd on the server)"
new_second
expect_exit "backup on the slow link (diskless)" 0 "$FERRY" -c r.ini -v backup --only redis
fault_unshape
contains "-v: auto took the server path" "$ERR" "redis: transfer server (zstd): the link carries"
S=$(ls -t archives/rd-*.tar.zst | head -n 1)
same "slow link: the manifest records the server path" "$(mjson "${S%.tar.zst}.manifest.json" components.redis.path)" "server (zstd)"
same "slow link: the diskless form" "$(mjson "${S%.tar.zst}.manifest.json" components.redis.transfer)" "diskless"
rdb_of "$S" server.rdb
same "slow link: the RDB, mark dropped, as long as the tunnel's" "$(stat -c %s server.rdb)" "$(stat -c %s diskless.rdb)"
if redis-check-rdb server.rdb >check.out 2>&1; then ok "slow link: redis-check-rdb passes"; else notok "slow link: redis-check-rdb: $(tail -n 3 check.out)"; fi
loads_same server.rdb "server path, loaded"
expect_exit "verify --latest (server path)" 0 "$FERRY" -c r.ini verify --latest
C=$("$FERRY" -c r.ini check 2>&1 || true)
contains "check: on the bare link auto follows the rate it states" "$C" "$(echo "$C" | grep -q 'over 25 MB/s' && echo 'transfer: tunnel (the link carries' || echo 'transfer: server (zstd) (the link carries')"

# A Redis that takes AUTH and PING and never answers the sync: redis-cli
# would wait for ever.  [redis] timeout ends the wait, and closing its
# stdin ends redis-cli on the server.
ip netns exec "$SBX_NS" python3 -c '
import socket, threading
def serve(c):
    f = c.makefile("rb")
    while True:
        line = f.readline()
        if not line: return
        if line.startswith(b"*"):
            n = int(line[1:]); args = []
            for _ in range(n):
                f.readline(); args.append(f.readline().strip().upper())
            if args and args[0] in (b"SYNC", b"PSYNC", b"REPLCONF"): continue
            c.sendall(b"+PONG\r\n" if args and args[0] == b"PING" else b"+OK\r\n")
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 16396)); s.listen(16)
while True:
    c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
' &
echo $! >mute.pid
for _ in $(seq 1 100); do
	ip netns exec "$SBX_NS" bash -c 'exec 3<>/dev/tcp/127.0.0.1/16396' 2>/dev/null && break
	sleep 0.1
done
sed -e "s/^port = $PORT/port = 16396/" -e 's/^\[redis\]$/[redis]\ntimeout = 3s/' rs.ini >mute.ini; chmod 600 mute.ini
new_second
start=$(date +%s)
expect_exit "a sync that never starts (server path): exit 3" 3 "$FERRY" -c mute.ini backup --only redis
took=$(( $(date +%s) - start ))
contains "never starts: says it timed out" "$ERR" "timed out"
if [ $took -lt 30 ]; then ok "never starts: bounded (${took}s)"; else notok "never starts: took ${took}s"; fi
# The server's side goes when sshd sees the channel closed: give it a moment.
for _ in $(seq 1 50); do pgrep -f 'redis-cli .*-p 16396' >/dev/null || break; sleep 0.1; done
same "never starts: no redis-cli left on the server" "$(pgrep -f 'redis-cli .*-p 16396' || true)" ""
kill "$(cat mute.pid)" 2>/dev/null; rm -f mute.pid

# ---- restore --to DIR -------------------------------------------------------------------
expect_exit "restore --only redis --to DIR" 0 "$FERRY" -c r.ini restore "$A" --only redis --to "$SCRATCH/to"
contains "restore names the file" "$OUT" "$SCRATCH/to/dump.rdb"
rdb_size=$(python3 -c 'import os, sys
n = os.path.getsize(sys.argv[1])
u = ["KiB", "MiB", "GiB"]
if n < 1024: print("%d B" % n)
else:
    v, i = n / 1024, 0
    while v >= 1023.95 and i < 2: v, i = v / 1024, i + 1
    print("%.1f %s" % (v, u[i]))' to/dump.rdb)
contains "restore says the file's size" "$OUT" "dump.rdb: $rdb_size, "
if cmp -s to/dump.rdb diskless.rdb; then ok "--to DIR: the archived RDB, byte for byte"; else notok "--to DIR: dump.rdb differs"; fi
same "--to DIR: dump.rdb is 0600" "$(stat -c %a to/dump.rdb)" "600"
same "--to DIR: no temporary file left" "$(ls -A to)" "dump.rdb"

# ---- the server's Redis -------------------------------------------------------------------
digest=$(RS debug digest)
expect_exit "restore into a Redis that has keys: refused" 1 "$FERRY" -c r.ini restore "$A" --only redis
contains "refusal says why and what to do" "$ERR" "already holds $src_keys keys: give --clean"
same "refusal: the server's data untouched" "$(RS debug digest)" "$digest"
backup_conf both.ini both "databases = postgres"
printf '\n[redis]\npassword = %s\nport = %s\n' "$PW" "$PORT" >>both.ini
expect_exit "backup --only postgres,redis" 0 "$FERRY" -c both.ini backup --only postgres,redis
expect_exit "restore --to DIR of an archive with postgres: usage error" 2 "$FERRY" -c both.ini restore --latest --to "$SCRATCH/to2"
contains "--to DIR: names the component it cannot take" "$ERR" "postgres cannot be restored into a directory"
same "--to DIR refused: nothing written" "$(ls -A "$SCRATCH/to2" 2>/dev/null)" ""

# The service restore (stop through compose, replace dump.rdb or the AOF
# base, start, compare the key count) against the sandbox's Docker engine.
# Images cannot be pulled: ferry-test/redis:1 is this machine's
# redis-server and its libraries, imported as a root filesystem.
"$FERRY_SOURCE_ROOT/tests/sandbox/sandbox.sh" docker "$SBX_DIR" >docker.log 2>&1 || true
DOCKER_SOCK=$(sed -n 's/^SBX_DOCKER_HOST=//p' "$SBX_DIR/env")
DK() { DOCKER_HOST=$DOCKER_SOCK docker "$@"; }
redis_image() {
	DK image inspect ferry-test/redis:1 >/dev/null 2>&1 && return 0
	local root=$SCRATCH/redis-rootfs f
	rm -rf "$root" && mkdir -p "$root/etc" "$root/tmp" "$root/data"
	for f in "$(command -v redis-server)" $(ldd "$(command -v redis-server)" | grep -o '/[^ ]*'); do
		cp -L --parents "$f" "$root"
	done
	printf 'root:x:0:0:root:/:/bin/sh\n' >"$root/etc/passwd"
	tar -C "$root" -c . | DK import - ferry-test/redis:1 >/dev/null
	rm -rf "$root"
}
if [ -z "$DOCKER_SOCK" ]; then
	skip "redis: service restore: no Docker engine in the sandbox: $(sed -n 's/^SBX_DOCKER_SKIP=//p' "$SBX_DIR/env" | tr -d "'")"
elif ! redis_image 2>image.err; then
	skip "redis: service restore: could not import a redis-server image: $(head -c 300 image.err)"
else
	RUNAS() { ip netns exec "$SBX_NS" runuser -u "$SBX_USER" -- sh -c "$1"; }
	P="$SBX_REMOTE_DIR/redis-svc"
	SVC="env DOCKER_HOST=$DOCKER_SOCK docker-compose"
	RSVC() { ip netns exec "$SBX_NS" redis-cli -p 16390 -a svcpw --no-auth-warning "$@"; }
	for aof in no yes; do
		RUNAS "rm -rf '$P' && mkdir -p '$P/data' && cat >'$P/docker-compose.yml' <<YML
version: \"2.4\"
services:
  cache:
    image: ferry-test/redis:1
    entrypoint: [\"/usr/bin/redis-server\", \"--requirepass\", \"svcpw\", \"--appendonly\", \"$aof\", \"--dir\", \"/data\", \"--port\", \"16390\", \"--bind\", \"127.0.0.1\", \"--enable-debug-command\", \"yes\"]
    user: \"$(id -u "$SBX_USER"):$(id -g "$SBX_USER")\"
    network_mode: host
    volumes: [\"./data:/data\"]
YML
cd '$P' && $SVC -p ferryredis up -d" >up.log 2>&1 || { notok "service restore (appendonly $aof): compose up: $(tail -n 3 up.log)"; continue; }
		for _ in $(seq 1 100); do RSVC ping >/dev/null 2>&1 && break; sleep 0.2; done
		RSVC set stale 1 >/dev/null
		cp r.ini svc.ini
		sed -i "s/^password = $PW/password = svcpw/; s/^port = $PORT/port = 16390/" svc.ini
		printf 'service = cache\n\n[deploy]\ncompose = %s\ncompose_dir = %s\nproject_name = ferryredis\n' "$SVC" "$P" >>svc.ini
		expect_exit "service restore (appendonly $aof): a Redis with keys is refused" 1 "$FERRY" -c svc.ini restore "$A" --only redis
		same "service restore (appendonly $aof): refused, its key untouched" "$(RSVC get stale)" "1"
		if [ $aof = no ]; then
			RUNAS "chmod 555 '$P/data'"
			expect_exit "service restore: a data directory the SSH user cannot write: refused" 1 "$FERRY" -c svc.ini restore "$A" --only redis --clean
			contains "unwritable data directory: says so, and that nothing changed" "$ERR" "nothing was changed (the SSH user must be able to write there)"
			same "unwritable data directory: the service still runs with its key" "$(RSVC get stale)" "1"
			RUNAS "chmod 755 '$P/data'"
		fi
		expect_exit "service restore (appendonly $aof) --clean" 0 "$FERRY" -c svc.ini restore "$A" --only redis --clean
		contains "service restore (appendonly $aof): key count as the manifest says" "$OUT" "$src_keys keys (as the manifest says)"
		contains "service restore (appendonly $aof): through compose, into the mounted directory" "$OUT" "redis -> service cache ($P/data/dump.rdb"
		same "service restore (appendonly $aof): the dataset" "$(RSVC debug digest 2>&1)" "$digest"
		same "service restore (appendonly $aof): the old key is gone" "$(RSVC exists stale)" "0"
		same "service restore (appendonly $aof): no staged file left" "$(RUNAS "ls -A '$P/data'" | grep -c ferry-restore || true)" "0"
		if [ $aof = yes ]; then
			contains "service restore: the old AOF is kept aside" "$ERR" "the previous AOF is kept as $P/data/appendonlydir.ferry-old-"
			same "service restore: the fresh AOF's base is the RDB" "$(RUNAS "head -n 1 '$P/data/appendonlydir/appendonly.aof.manifest'")" "file appendonly.aof.1.base.rdb seq 1 type b"
			# the AOF must be what Redis rebuilds from: a restart keeps the data
			RSVC set after-restore 1 >/dev/null
			RUNAS "cd '$P' && $SVC -p ferryredis restart" >/dev/null 2>&1
			for _ in $(seq 1 100); do [ "$(RSVC info persistence 2>/dev/null | tr -d '\r' | grep '^loading:')" = "loading:0" ] && break; sleep 0.2; done
			same "service restore: after a restart, the AOF holds the restored keys and later writes" "$(( $(keyspace RSVC | sed 's/.*keys=\([0-9]*\).*/\1/' | paste -sd+) ))" "$((src_keys + 1))"
		fi
		RUNAS "cd '$P' && $SVC -p ferryredis down" >/dev/null 2>&1 || true
	done
	RUNAS "rm -rf '$P'" 2>/dev/null || true
fi

# ---- failures stay in the component, and never hang ------------------------------------
mkdir -p "$SCRATCH/etc-files"
ip netns exec "$SBX_NS" runuser -u "$SBX_USER" -- sh -c "mkdir -p '$SBX_REMOTE_DIR/rdconf' && echo ok >'$SBX_REMOTE_DIR/rdconf/app.env'"
cp r.ini part.ini
sed -i "s/^password = $PW/password = wrong-password/" part.ini
printf '\n[files]\npaths = rdconf/*.env\n' >>part.ini
new_second
before=$(ls archives | grep -c 'tar.zst$')
start=$(date +%s)
expect_exit "wrong Redis password: exit 5" 5 "$FERRY" -c part.ini backup --only redis,files
contains "the error names the component and the cause" "$ERR" "redis failed (redis: authentication failed (wrong password))"
P5=$(ls -t archives/rd-*.tar.zst | head -n 1)
same "wrong password: the archive is published" "$(ls archives | grep -c 'tar.zst$')" "$((before + 1))"
same "wrong password: redis failed in the manifest" "$(mjson "${P5%.tar.zst}.manifest.json" components.redis.status)" "failed"
same "wrong password: files landed" "$(mjson "${P5%.tar.zst}.manifest.json" components.files.status)" "ok"
expect_exit "list" 0 "$FERRY" -c part.ini list
contains "list marks redis failed" "$OUT" "redis:failed"
expect_exit "the files of the partial archive restore" 0 "$FERRY" -c part.ini restore "$P5" --only files --to "$SCRATCH/p5"
same "partial archive: the file is whole" "$(cat p5/rdconf/app.env)" "ok"
expect_exit "the failed redis of a partial archive is refused" 1 "$FERRY" -c part.ini restore "$P5" --only redis --to "$SCRATCH/p5r"
new_second
expect_exit "--fail-fast: wrong password publishes nothing" 3 "$FERRY" -c part.ini backup --only redis,files --fail-fast
same "--fail-fast: no new archive" "$(ls archives | grep -c 'tar.zst$')" "$((before + 1))"
same "--fail-fast: no partial file" "$(ls -a archives | grep -c partial || true)" "0"

# nothing listening: bounded retries, then the component fails
sed -e "s/^port = $PORT/port = 16398/" -e "s/^password = $PW/password = x/" r.ini >down.ini
printf '\n[files]\npaths = rdconf/*.env\n' >>down.ini
sed -i 's/^connect_timeout = .*/connect_timeout = 2s/' down.ini
chmod 600 down.ini part.ini
new_second
start=$(date +%s)
expect_exit "Redis down: exit 5" 5 "$FERRY" -c down.ini backup --only redis,files
took=$(( $(date +%s) - start ))
if [ $took -lt 30 ]; then ok "Redis down: gave up after bounded retries (${took}s)"; else notok "Redis down: took ${took}s"; fi

# a server that accepts and never answers: the timeouts end it
ip netns exec "$SBX_NS" python3 -c '
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 16397)); s.listen(16)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)
' &
echo $! >hole.pid
for _ in $(seq 1 100); do
	ip netns exec "$SBX_NS" bash -c 'exec 3<>/dev/tcp/127.0.0.1/16397' 2>/dev/null && break
	sleep 0.1
done
sed -i "s/^port = 16398/port = 16397/" down.ini
new_second
start=$(date +%s)
expect_exit "a Redis that never answers: exit 5" 5 "$FERRY" -c down.ini backup --only redis,files
took=$(( $(date +%s) - start ))
contains "never answers: says it timed out" "$ERR" "timed out"
if [ $took -lt 40 ]; then ok "never answers: bounded (${took}s)"; else notok "never answers: took ${took}s"; fi
