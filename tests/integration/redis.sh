# Redis: the snapshot over the replication protocol in both payload forms
# (diskless "$EOF:" and "$<len>"), checked by redis-check-rdb and loaded
# into a fresh redis-server with the same keys, values, types and TTLs;
# restore --to DIR; the service restore (needs a Docker engine); failures
# that stay within the component (exit 5) and never hang.
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
	for p in src/pid load/pid hole.pid; do
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
sed -i "s/^password = \${SBX_REDIS_PASSWORD}/password = $PW\nport = $PORT/" r.ini
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
cp diskless.rdb load/dump.rdb
redis-server --port "$LPORT" --bind 127.0.0.1 --dir "$SCRATCH/load" --daemonize yes \
	--pidfile "$SCRATCH/load/pid" --logfile "$SCRATCH/load/log" --save '' \
	--enable-debug-command yes
for _ in $(seq 1 200); do [ "$(RL info persistence 2>/dev/null | tr -d '\r' | grep '^loading:')" = "loading:0" ] && break; sleep 0.1; done
same "loaded: the same keys per database" "$(keyspace RL)" "$(keyspace RS)"
same "loaded: the same dataset digest (keys, values, types)" "$(RL debug digest)" "$(RS debug digest)"
ttls() { "$@" --scan --pattern 'ttl:*' | sort | while read -r k; do printf 'PEXPIRETIME %s\n' "$k"; done | "$@" | paste -sd,; }
same "loaded: the same expiry times, to the millisecond" "$(ttls RL)" "$(ttls RS)"
same "loaded: the 50 MB value" "$(RL strlen big)" "52428800"
same "loaded: a binary key" "$(printf 'GET "bin\\x00key\\xff"\n' | RL | od -c | head -n 1)" "$(printf 'GET "bin\\x00key\\xff"\n' | RS | od -c | head -n 1)"
kill "$(cat load/pid)"; rm -f load/pid
sleep 0.3

# ---- the $<len> form (a disk-based sync) -------------------------------------------
RS config set repl-diskless-sync no >/dev/null
new_second
expect_exit "backup --only redis (disk-based)" 0 "$FERRY" -c r.ini backup --only redis
B=$(ls -t archives/rd-*.tar.zst | head -n 1)
same "the master sent the \$<len> form" "$(mjson "${B%.tar.zst}.manifest.json" components.redis.transfer)" "disk"
rdb_of "$B" disk.rdb
if redis-check-rdb disk.rdb >check.out 2>&1; then ok "redis-check-rdb passes (disk-based)"; else notok "redis-check-rdb (disk-based): $(tail -n 3 check.out)"; fi
same "disk-based: the same key count" "$(mjson "${B%.tar.zst}.manifest.json" components.redis.keys)" "$src_keys"
RS config set repl-diskless-sync yes >/dev/null

# ---- restore --to DIR -------------------------------------------------------------------
expect_exit "restore --only redis --to DIR" 0 "$FERRY" -c r.ini restore "$A" --only redis --to "$SCRATCH/to"
contains "restore names the file" "$OUT" "$SCRATCH/to/dump.rdb"
if cmp -s to/dump.rdb diskless.rdb; then ok "--to DIR: the archived RDB, byte for byte"; else notok "--to DIR: dump.rdb differs"; fi
same "--to DIR: dump.rdb is 0600" "$(stat -c %a to/dump.rdb)" "600"
same "--to DIR: no temporary file left" "$(ls -A to)" "dump.rdb"

# ---- the server's Redis -------------------------------------------------------------------
digest=$(RS debug digest)
expect_exit "restore into a Redis that has keys: refused" 1 "$FERRY" -c r.ini restore "$A" --only redis
contains "refusal says why and what to do" "$ERR" "already holds $src_keys keys: give --clean"
same "refusal: the server's data untouched" "$(RS debug digest)" "$digest"
backup_conf both.ini both "databases = postgres"
sed -i "s/^password = \${SBX_REDIS_PASSWORD}/password = $PW\nport = $PORT/" both.ini
expect_exit "backup --only postgres,redis" 0 "$FERRY" -c both.ini backup --only postgres,redis
expect_exit "restore --to DIR of an archive with postgres: usage error" 2 "$FERRY" -c both.ini restore --latest --to "$SCRATCH/to2"
contains "--to DIR: names the component it cannot take" "$ERR" "postgres cannot be restored into a directory"
same "--to DIR refused: nothing written" "$(ls -A "$SCRATCH/to2" 2>/dev/null)" ""

# The service restore (stop through compose, replace dump.rdb or the AOF
# base, start, compare the key count) needs a Docker engine whose
# containers run redis-server.
if ! ip netns exec "$SBX_NS" runuser -u "$SBX_USER" -- docker info >/dev/null 2>&1; then
	skip "redis: service restore: no Docker engine in the sandbox"
else
	IMG=${SBX_REDIS_IMAGE:-${SBX_DOCKER_IMAGE:-}}
	RUNAS() { ip netns exec "$SBX_NS" runuser -u "$SBX_USER" -- sh -c "$1"; }
	if [ -z "$IMG" ] || ! RUNAS "docker run --rm --entrypoint redis-server '$IMG' --version" >/dev/null 2>&1; then
		skip "redis: service restore: no image with redis-server in the sandbox's Docker"
	else
		P="$SBX_REMOTE_DIR/redis-svc"
		for aof in no yes; do
			RUNAS "rm -rf '$P' && mkdir -p '$P/data' && chmod 777 '$P/data' && cat >'$P/docker-compose.yml' <<YML
services:
  redis:
    image: $IMG
    entrypoint: [\"redis-server\", \"--requirepass\", \"svcpw\", \"--appendonly\", \"$aof\", \"--dir\", \"/data\", \"--port\", \"16390\", \"--bind\", \"0.0.0.0\", \"--enable-debug-command\", \"yes\"]
    network_mode: host
    volumes: [\"./data:/data\"]
YML
cd '$P' && docker compose up -d >/dev/null 2>&1 || docker-compose up -d >/dev/null 2>&1"
			cp r.ini svc.ini
			sed -i "s/^password = $PW/password = svcpw/; s/^port = $PORT/port = 16390/" svc.ini
			printf '\n[deploy]\ncompose_dir = %s\n' "$P" >>svc.ini
			for _ in $(seq 1 100); do ip netns exec "$SBX_NS" redis-cli -p 16390 -a svcpw --no-auth-warning ping >/dev/null 2>&1 && break; sleep 0.2; done
			expect_exit "service restore (appendonly $aof)" 0 "$FERRY" -c svc.ini restore "$A" --only redis
			contains "service restore (appendonly $aof): key count as the manifest says" "$OUT" "$src_keys keys (as the manifest says)"
			same "service restore (appendonly $aof): the dataset" "$(ip netns exec "$SBX_NS" redis-cli -p 16390 -a svcpw --no-auth-warning debug digest 2>/dev/null || echo no-debug)" "$digest"
			RUNAS "cd '$P' && (docker compose down >/dev/null 2>&1 || docker-compose down >/dev/null 2>&1)"
		done
	fi
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
contains "the error names the component and the cause" "$ERR" "redis: redis: authentication failed"
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
