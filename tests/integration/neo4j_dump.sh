# Neo4j dump mode: the service stopped through compose, neo4j-admin
# database dump --to-stdout / load --from-stdin in one-off containers on its
# volume, the service started again (also after a failure), an unclean
# shutdown named as such.  Neo4j itself cannot run here: the image is a
# fake built with `docker import` (busybox; tests/integration/neo4j_dump.sh
# writes its neo4j-admin), run by the sandbox's Docker engine as the
# sandbox's user, the way ferry's compose runs it.
# once: waits on Docker compose v1 (5 s a call)
# cost: 70 (seconds, roughly: tests/run starts the costliest first)
set -eu
. "$FERRY_SOURCE_ROOT/tests/lib.sh"
cd "$SCRATCH"
needs_sandbox "neo4j_dump"

# The sandbox's own Docker engine (dockerd in its namespace, started once
# for the suites that need it; tests/sandbox/sandbox.sh docker).
"$FERRY_SOURCE_ROOT/tests/sandbox/sandbox.sh" docker "$SBX_DIR" >docker.log 2>&1 || true
SBX_DOCKER_HOST=$(sed -n 's/^SBX_DOCKER_HOST=//p' "$SBX_DIR/env")
if [ -z "$SBX_DOCKER_HOST" ]; then
	skip "neo4j dump mode: no Docker engine in the sandbox: $(sed -n 's/^SBX_DOCKER_SKIP=//p' "$SBX_DIR/env" | tr -d "'")"
	exit 0
fi
AS_USER() { ip netns exec "$SBX_NS" runuser -u "$SBX_USER" -- env DOCKER_HOST="$SBX_DOCKER_HOST" "$@"; }
if AS_USER docker compose version >/dev/null 2>&1; then CP="docker compose"; else CP="docker-compose"; fi
PROJ=$SBX_REMOTE_DIR/n4dump
IMAGE=ferry-fake-neo4j:test
COMPOSE() { AS_USER sh -c "cd '$PROJ' && $CP -p ferryn4 $*"; }
# asked of the engine by compose's labels: compose v1 takes seconds a call
running() {
	AS_USER docker ps --filter label=com.docker.compose.project=ferryn4 \
		--format '{{.Label "com.docker.compose.service"}}' | grep -qx neo4j
}
cleanup() {
	COMPOSE down -v >/dev/null 2>&1 || true
	AS_USER docker image rm -f "$IMAGE" >/dev/null 2>&1 || true
}
trap cleanup EXIT

# ---- the fake image -----------------------------------------------------------
BB=$(command -v busybox || true)
if [ -z "$BB" ] || ldd "$BB" >/dev/null 2>&1; then
	skip "neo4j dump mode: no static busybox for the fake image (apt install busybox-static)"
	exit 0
fi
mkdir -p root/bin root/data root/tmp
cp "$BB" root/bin/busybox
for t in sh tar cat rm mkdir mv sleep touch printf echo head grep ls; do ln -sf busybox "root/bin/$t"; done
cat >root/bin/neo4j-admin <<'SH'
#!/bin/sh
# neo4j-admin database dump --to-stdout DB | load --from-stdin --overwrite-destination DB
[ "$1" = database ] || { echo "neo4j-admin: unknown command '$1'" >&2; exit 2; }
cmd=$2
shift 2
case "$cmd" in
dump)
	[ "$1" = --to-stdout ] && [ $# = 2 ] || { echo "usage: database dump --to-stdout DB" >&2; exit 2; }
	db=$2
	if [ -e /data/RUNNING ]; then
		echo "ERROR [o.n.c.d.DumpCommand] Failed to dump database '$db': Active logical log detected, this might be a source of inconsistencies." >&2
		echo "Please recover database before running the dump." >&2
		echo "To perform recovery please start database and perform clean shutdown." >&2
		exit 1
	fi
	[ -d "/data/databases/$db" ] || { echo "ERROR [o.n.c.d.DumpCommand] Database does not exist: $db" >&2; exit 1; }
	echo "INFO [o.n.c.d.DumpCommand] Starting dump of database '$db'" >&2
	echo NEO4JFAKEDUMP
	tar -C "/data/databases/$db" -cf - . ;;
load)
	[ "$1" = --from-stdin ] && [ "$2" = --overwrite-destination ] && [ $# = 3 ] ||
		{ echo "usage: database load --from-stdin --overwrite-destination DB" >&2; exit 2; }
	db=$3
	[ -e /data/RUNNING ] && { echo "ERROR the database is in use -- stop Neo4j and try again" >&2; exit 1; }
	read -r magic
	[ "$magic" = NEO4JFAKEDUMP ] || { echo "ERROR not a dump" >&2; exit 1; }
	rm -rf "/data/databases/$db.new" && mkdir -p "/data/databases/$db.new" &&
		tar -C "/data/databases/$db.new" -xf - || exit 1
	rm -rf "/data/databases/$db" && mv "/data/databases/$db.new" "/data/databases/$db" ;;
*)	echo "neo4j-admin database: unknown command '$cmd'" >&2; exit 2 ;;
esac
SH
cat >root/bin/fake-neo4j <<'SH'
#!/bin/sh
# The "server": RUNNING exists while it runs and goes on a clean stop
# (SIGTERM); a kill leaves it, as an unclean shutdown leaves Neo4j's logs.
mkdir -p /data/databases/system /data/databases/neo4j
touch /data/RUNNING
trap 'rm -f /data/RUNNING; exit 0' TERM INT
while :; do sleep 1 & wait $!; done
SH
chmod 755 root/bin/neo4j-admin root/bin/fake-neo4j
tar -C root -cf image.tar .
if AS_USER docker import - "$IMAGE" <image.tar >/dev/null; then ok "fake neo4j image built (docker import)"; else notok "docker import"; exit 0; fi

mkdir -p "$PROJ"
cat >"$PROJ/docker-compose.yml" <<YML
version: "3.7"
services:
  neo4j:
    image: $IMAGE
    command: ["/bin/fake-neo4j"]
    network_mode: none
    stop_grace_period: 20s
    volumes:
      - n4data:/data
volumes:
  n4data: {}
YML
chown -R "$SBX_USER:" "$PROJ"
# On a loaded machine the container may still be starting (compose v1
# takes seconds a call): the seed makes its own directories, and a failure
# says what compose said instead of ending the suite with its exit code.
if ! COMPOSE up -d >up.out 2>&1; then notok "compose up: $(tail -c 300 up.out)"; exit 0; fi
for _ in $(seq 1 150); do running && break; sleep 0.2; done
if ! COMPOSE exec -T neo4j sh -c "'mkdir -p /data/databases/neo4j /data/databases/system &&
	echo graph-v1 >/data/databases/neo4j/store.db && echo users-v1 >/data/databases/system/users'" >seed.out 2>&1; then
	notok "the fake neo4j's data seeded: $(tail -c 300 seed.out)"
	exit 0
fi

backup_conf dump.ini n4dump
{
	printf '\n[neo4j]\npassword = ${SBX_NEO4J_PASSWORD}\nmode = dump\ntimeout = 30s\n'
	printf '\n[deploy]\ncompose_dir = n4dump\nproject_name = ferryn4\n'
	printf 'compose = env DOCKER_HOST=%s %s\n' "$SBX_DOCKER_HOST" "$CP"
} >>dump.ini

# ---- dump ---------------------------------------------------------------------
expect_exit "dump-mode backup" 0 "$FERRY" -c dump.ini backup --only neo4j
contains "one line: system and the database, offline" "$OUT" "neo4j     ok, 2 dumps (offline)"
A=$(ls -t archives/n4dump-*.tar.zst | head -n 1)
same "members: system.dump, neo4j.dump" "$(tar --zstd -tf "$A" | tr '\n' ' ')" "neo4j/system.dump neo4j/neo4j.dump manifest.json "
same "the dump is neo4j-admin's stream, byte for byte" "$(tar --zstd -xOf "$A" neo4j/neo4j.dump | tail -n +2 | tar -xOf - ./store.db)" "graph-v1"
if python3 - "${A%.tar.zst}.manifest.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))["components"]["neo4j"]
assert c["mode"] == "dump" and c["point_in_time"] is True and "point-in-time" in c["consistency"], c
assert c["service"] == "neo4j" and set(c["databases"]) == {"system", "neo4j"}, c
PY
then ok "manifest: dump mode is a point-in-time copy"; else notok "manifest: dump mode"; fi
if running; then ok "the service runs again after the dump"; else notok "the service is not running after the dump"; fi

sed 's/^mode = dump/mode = dump\ndatabases = neo4j, missing/' dump.ini >miss.ini
chmod 600 miss.ini
new_second
expect_exit "a failing dump fails alone: the others land, exit 5" 5 "$FERRY" -c miss.ini backup --only neo4j
contains "the failure is neo4j-admin's" "$ERR" "dump of missing failed"
same "the good dumps are in the archive" "$(tar --zstd -tf "$(ls -t archives/n4dump-*.tar.zst | head -n 1)" | tr '\n' ' ')" \
	"neo4j/system.dump neo4j/neo4j.dump manifest.json "
if running; then ok "the service runs again after a failed dump"; else notok "the service was left stopped after a failed dump"; fi

COMPOSE kill -s KILL neo4j >/dev/null 2>&1
new_second
expect_exit "dump after an unclean shutdown: exit 4" 4 "$FERRY" -c dump.ini backup --only neo4j
contains "reported as an unclean shutdown" "$ERR" "was not shut down cleanly and needs recovery"
COMPOSE up -d >/dev/null 2>&1
for _ in $(seq 1 50); do running && break; sleep 0.2; done

# ---- load ---------------------------------------------------------------------
COMPOSE exec -T neo4j sh -c "'echo graph-v2 >/data/databases/neo4j/store.db; echo users-v2 >/data/databases/system/users'"
expect_exit "load without --clean is refused" 1 "$FERRY" -c dump.ini restore "$A" --only neo4j
contains "refusal says why" "$ERR" "give --clean"
expect_exit "restore --clean loads the dump" 0 "$FERRY" -c dump.ini restore "$A" --only neo4j --clean
contains "restore reports the load" "$OUT" "neo4j neo4j -> neo4j: dump of"
if running; then ok "the service runs again after the load"; else notok "the service is not running after the load"; fi
same "the database is back" "$(COMPOSE exec -T neo4j cat /data/databases/neo4j/store.db)" "graph-v1"
same "system untouched without --globals" "$(COMPOSE exec -T neo4j cat /data/databases/system/users)" "users-v2"
expect_exit "restore --clean --globals loads system too" 0 "$FERRY" -c dump.ini restore "$A" --only neo4j --clean --globals
same "system is back with --globals" "$(COMPOSE exec -T neo4j cat /data/databases/system/users)" "users-v1"
same "no staged dump left on the server" "$(ls -A "$SBX_REMOTE_DIR/.ferry" 2>/dev/null | grep -c dump || true)" "0"
