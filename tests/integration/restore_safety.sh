# What a restore promises about targets it has not finished with: every
# component's targets are checked before any is changed (a later
# component's refusal leaves --clean's databases and buckets as they
# were); SIGINT and SIGTERM in the middle of a COPY undo what the restore
# created, say so and end ferry with the signal; --to DIR refuses files
# already there unless --clean, and still never writes through a symlink.
# cost: 60 (seconds, roughly: tests/run starts the costliest first)
set -eu
. "$FERRY_SOURCE_ROOT/tests/lib.sh"
needs_sandbox "restore_safety"
cd "$SCRATCH"
NS() { ip netns exec "$SBX_NS" "$@"; }
RUNAS() { ip netns exec "$SBX_NS" runuser -u "$SBX_USER" -- sh -c "$1"; }
PSQL() { NS env PGPASSWORD="$SBX_PG_PASSWORD" PGOPTIONS="-c client_min_messages=warning" psql -qAtX -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 "$@"; }
S3() { NS env AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1 \
	aws --endpoint-url http://127.0.0.1:4568 "$@"; }
rows() { PSQL -d "$1" -c "SELECT count(*) FROM $2" 2>&1; }
db_exists() { PSQL -c "SELECT count(*) FROM pg_database WHERE datname = '$1'"; }

PSQL -c "DROP DATABASE IF EXISTS rs_a" -c "DROP DATABASE IF EXISTS rs_b" \
	-c "DROP DATABASE IF EXISTS rs_big" -c "CREATE DATABASE rs_a" \
	-c "CREATE DATABASE rs_b" -c "CREATE DATABASE rs_big" >/dev/null
PSQL -d rs_a -c "CREATE TABLE t AS SELECT i, md5(i::text) AS h FROM generate_series(1, 1000) i" >/dev/null
PSQL -d rs_b -c "CREATE TABLE u AS SELECT i FROM generate_series(1, 500) i" >/dev/null
# Big enough that a COPY is still running when the test has seen it start.
PSQL -d rs_big -c "CREATE TABLE big1 AS SELECT i, repeat(md5(i::text), 4) AS h FROM generate_series(1, 600000) i" \
	-c "CREATE TABLE big2 AS SELECT * FROM big1" -c "CREATE INDEX ON big1 (h)" >/dev/null

# ---- 1. a later component's refusal leaves --clean's targets alone ------------
# Redis' data directory is the sandbox's own, root's: the SSH user cannot
# stage the RDB there, which the redis restorer checks before it stops
# anything.  compose = true: no compose is looked for on the server.
backup_conf m.ini rsm "databases = rs_a, rs_b"
printf '\n[redis]\npassword = ${SBX_REDIS_PASSWORD}\ndata_dir = %s/redis\n\n[deploy]\ncompose = true\n' "$SBX_DIR" >>m.ini
WITH_S3=""
if [ -n "${SBX_S3:-}" ] && command -v aws >/dev/null; then
	WITH_S3=1
	printf 'one\n' >one.txt
	S3 s3 rb s3://rs-media --force >/dev/null 2>&1 || true
	S3 s3 mb s3://rs-media >/dev/null && S3 s3 cp one.txt s3://rs-media/a/one.txt --only-show-errors
	printf '\n[minio]\nendpoint = http://127.0.0.1:4568\naccess_key = S3RVER\nsecret_key = S3RVER\nbuckets = rs-media\n' >>m.ini
else
	skip "restore_safety: the bucket part: no s3rver or awscli in the sandbox"
fi
expect_exit "backup of postgres, redis${WITH_S3:+ and minio}" 0 "$FERRY" -c m.ini backup
A=$(ls -t archives/rsm-*.tar.zst | head -n 1)
expect_exit "restore --clean, redis' directory not writable: refused (exit 1)" 1 "$FERRY" -c m.ini restore "$A" --clean
contains "the refusal is redis'" "$ERR" "redis: staging the RDB in its data directory"
contains "the refusal says nothing was changed" "$ERR" "nothing was changed"
lacks "nothing is named as left incomplete" "$ERR" "left incomplete"
same "database rs_a keeps its rows" "$(rows rs_a t)" "1000"
same "database rs_b keeps its rows" "$(rows rs_b u)" "500"
if [ -n "$WITH_S3" ]; then
	same "bucket rs-media keeps its object" "$(S3 s3 ls s3://rs-media --recursive | awk '{print $4}')" "a/one.txt"
fi
same "no staged RDB left in redis' directory" "$(ls -A "$SBX_DIR/redis" | grep -c ferry-restore || true)" "0"

# ---- 2. SIGINT and SIGTERM during a COPY ------------------------------------
backup_conf big.ini rsbig "databases = rs_big"
expect_exit "backup of the big database" 0 "$FERRY" -c big.ini backup
B=$(ls -t archives/rsbig-*.tar.zst | head -n 1)
for sig in INT TERM; do
	new=rs_big_$(printf '%s' "$sig" | tr 'A-Z' 'a-z')
	want=$([ $sig = INT ] && echo 130 || echo 143)
	PSQL -c "DROP DATABASE IF EXISTS $new" >/dev/null
	"$FERRY" -c big.ini restore "$B" --only postgres --db "rs_big=$new" >sig.out 2>sig.err &
	pid=$!
	# In its data phase: a COPY into the new database is running.
	seen=""
	for _ in $(seq 1 600); do
		if [ "$(PSQL -c "SELECT count(*) FROM pg_stat_activity WHERE datname = '$new' AND state = 'active' AND query ILIKE '%COPY%FROM STDIN%'" 2>/dev/null)" != 0 ] 2>/dev/null; then
			seen=1
			break
		fi
		kill -0 $pid 2>/dev/null || break
		sleep 0.02
	done
	if [ -n "$seen" ]; then ok "SIG$sig: the restore was caught in a COPY"; else notok "SIG$sig: no COPY seen before the restore ended"; fi
	t0=$(date +%s%N)
	kill -$sig $pid 2>/dev/null || true
	set +e
	wait $pid
	rc=$?
	set -e
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	same "SIG$sig: ferry ends with the signal (exit $want)" "$rc" "$want"
	if [ $ms -lt 15000 ]; then ok "SIG$sig: over within 15 s (${ms} ms)"; else notok "SIG$sig: took ${ms} ms"; fi
	ERR=$(cat sig.err)
	contains "SIG$sig: says it was interrupted" "$ERR" "restore: interrupted by SIG$sig"
	contains "SIG$sig: says what it undid" "$ERR" "dropped again what this restore created: $new"
	same "SIG$sig: one line" "$(grep -c '^ferry: ' sig.err)" "1"
	same "SIG$sig: the half-restored database is gone" "$(db_exists "$new")" "0"
done
same "the source database is untouched" "$(rows rs_big big2)" "600000"

# ---- 3. --to DIR: files already there ----------------------------------------
RUNAS "rm -rf '$SBX_REMOTE_DIR/rs' && mkdir -p '$SBX_REMOTE_DIR/rs/conf' &&
printf 'SERVER=1\n' >'$SBX_REMOTE_DIR/rs/.env.infra' && printf 'a=1\n' >'$SBX_REMOTE_DIR/rs/conf/app.conf'"
cp "$SBX_DIR/ferry.ini" f.ini
printf '\n[backup]\ndir = %s/archives\nname = rsf\n\n[files]\npaths = rs/.env.infra, rs/conf\n' "$SCRATCH" >>f.ini
expect_exit "backup of files and redis" 0 "$FERRY" -c f.ini backup --only files,redis
F=$(ls -t archives/rsf-*.tar.zst | head -n 1)

mkdir -p t1/rs && printf 'LOCAL=edited\n' >t1/rs/.env.infra
expect_exit "--to DIR with a file already there: refused (exit 1)" 1 "$FERRY" -c f.ini restore "$F" --only files --to "$SCRATCH/t1"
contains "the refusal names the file" "$ERR" "$SCRATCH/t1/rs/.env.infra already exists"
contains "the refusal says --clean replaces it" "$ERR" "give --clean"
same "the refusal is one line" "$(grep -c . "$SCRATCH/err")" "1"
same "the file is unchanged" "$(cat t1/rs/.env.infra)" "LOCAL=edited"
same "nothing was written" "$(cd t1 && find . -mindepth 1 | sort | paste -sd' ')" "./rs ./rs/.env.infra"
mkdir -p t2/rs/conf && printf 'old\n' >t2/rs/.env.infra && printf 'old\n' >t2/rs/conf/app.conf
expect_exit "--to DIR with two files there: refused" 1 "$FERRY" -c f.ini restore "$F" --only files --to "$SCRATCH/t2"
contains "two files: the first and a count" "$ERR" "and 1 other file already exist"
expect_exit "--to DIR --clean replaces them" 0 "$FERRY" -c f.ini restore "$F" --only files --to "$SCRATCH/t1" --clean
same "--clean: the server's content" "$(cat t1/rs/.env.infra)" "SERVER=1"
same "--clean: the rest written too" "$(cat t1/rs/conf/app.conf)" "a=1"
# a symlink at a file's place is replaced by a file, never followed
printf 'victim\n' >victim
mkdir -p t3/rs && ln -s "$SCRATCH/victim" t3/rs/.env.infra
expect_exit "--to DIR: a symlink at the file's place counts as there" 1 "$FERRY" -c f.ini restore "$F" --only files --to "$SCRATCH/t3"
expect_exit "--to DIR --clean over a symlink" 0 "$FERRY" -c f.ini restore "$F" --only files --to "$SCRATCH/t3" --clean
if [ -f t3/rs/.env.infra ] && [ ! -L t3/rs/.env.infra ]; then ok "--clean: the symlink became a file"; else notok "--clean: $(ls -l t3/rs/.env.infra)"; fi
same "--clean: the symlink's target is untouched" "$(cat victim)" "victim"
# a symlinked directory stays refused, --clean or not
mkdir -p outside t4 && ln -s "$SCRATCH/outside" t4/rs
expect_exit "--to DIR --clean through a symlinked directory: refused (exit 6)" 6 "$FERRY" -c f.ini restore "$F" --only files --to "$SCRATCH/t4" --clean
same "nothing written through it" "$(ls -A outside)" ""
# Redis' dump.rdb too, and nothing of the other component written
mkdir -p t5 && printf 'old\n' >t5/dump.rdb
expect_exit "--to DIR: an existing dump.rdb is refused" 1 "$FERRY" -c f.ini restore "$F" --only redis --to "$SCRATCH/t5"
contains "dump.rdb: named" "$ERR" "$SCRATCH/t5/dump.rdb already exists"
same "dump.rdb: unchanged, nothing beside it" "$(cat t5/dump.rdb; ls -A t5 | paste -sd' ')" "old
dump.rdb"
mkdir -p t6/redis && printf 'old\n' >t6/redis/dump.rdb
expect_exit "--to DIR, files and redis, redis' file there: refused" 1 "$FERRY" -c f.ini restore "$F" --only files,redis --to "$SCRATCH/t6"
same "files and redis: nothing written, no directory made" "$(cd t6 && find . -mindepth 1 | sort | paste -sd' ')" "./redis ./redis/dump.rdb"
# A member found damaged in the middle: what was written stays (and is
# named), the directories made for the rest do not.
mkdir -p dmg && cp "$F" dmg/ && D=dmg/$(basename "$F")
python3 - "${F%.tar.zst}.manifest.json" "${D%.tar.zst}.manifest.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
for x in m["members"]:
    if x["name"].endswith("conf/app.conf"):
        x["sha256"] = "0" * 64
json.dump(m, open(sys.argv[2], "w"))
PY
expect_exit "--to DIR, a member damaged: refused (exit 6)" 6 "$FERRY" -c f.ini restore "$D" --only files --to "$SCRATCH/t7/out"
same "damaged member: no empty directory left behind" "$(find t7 -type d -empty 2>/dev/null | paste -sd' ')" ""
same "damaged member: its file is not there" "$(find t7 -name app.conf 2>/dev/null | wc -l)" "0"
expect_exit "--to DIR --clean: dump.rdb replaced" 0 "$FERRY" -c f.ini restore "$F" --only redis --to "$SCRATCH/t5" --clean
if [ "$(head -c 5 t5/dump.rdb)" = REDIS ]; then ok "--clean: dump.rdb is the archive's RDB"; else notok "--clean: dump.rdb starts $(head -c 5 t5/dump.rdb | od -c | head -n 1)"; fi

PSQL -c "DROP DATABASE IF EXISTS rs_a" -c "DROP DATABASE IF EXISTS rs_b" -c "DROP DATABASE IF EXISTS rs_big" >/dev/null
RUNAS "rm -rf '$SBX_REMOTE_DIR/rs'"
