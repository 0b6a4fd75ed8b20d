# PostgreSQL faults: a wrong password, the backend killed mid-COPY, DDL
# during a backup, a lock that never comes.  None may publish an archive or
# touch an earlier one.
# cost: 50 (seconds, roughly: tests/run starts the costliest first)
set -eu
. "$FERRY_SOURCE_ROOT/tests/lib.sh"
needs_sandbox "pg_faults"
. "$FERRY_SOURCE_ROOT/tests/sandbox/faults.sh"
trap fault_unshape EXIT
cd "$SCRATCH"
NS() { ip netns exec "$SBX_NS" env PGPASSWORD="$SBX_PG_PASSWORD" PGOPTIONS="-c client_min_messages=warning" "$@"; }
PSQL() { NS psql -qAtX -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 "$@"; }
# Until the background holder's lock on pgf.small is granted: a fixed pause
# lost the race on a loaded machine.
lock_held() {
	for _ in $(seq 1 100); do
		[ "$(PSQL -d pgf -c "SELECT count(*) FROM pg_locks WHERE granted AND
			mode = 'AccessExclusiveLock' AND relation = 'small'::regclass")" = 1 ] && return 0
		sleep 0.05
	done
	notok "the lock holder never got its lock"
}
PSQL -c "DROP DATABASE IF EXISTS pgf WITH (FORCE)" -c "CREATE DATABASE pgf" >/dev/null
# ~150 MB of COPY text: long enough to be caught in the middle
PSQL -d pgf -c "CREATE TABLE big (id int, a text, b text)" \
	-c "INSERT INTO big SELECT g, md5(g::text) || md5((g + 1)::text), repeat('x', 20) FROM generate_series(1, 1500000) g" \
	-c "CREATE TABLE small (id int PRIMARY KEY)" -c "INSERT INTO small SELECT generate_series(1, 10)" >/dev/null

backup_conf f.ini pgf "jobs = 1" "databases = pgf"
expect_exit "a good backup first" 0 "$FERRY" -c f.ini backup --only postgres
good=$(ls archives)
goodsum=$(cd archives && sha256sum pgf-*)
unchanged() { # NAME
	same "$1: no archive published, the earlier one untouched" "$(cd archives && sha256sum pgf-* 2>/dev/null)" "$goodsum"
	same "$1: no partial file left" "$(ls -a archives | grep -c partial || true)" "0"
}

SBX_PG_PASSWORD=wrong expect_exit "wrong password exits 3" 3 "$FERRY" -c f.ini backup --only postgres
contains "wrong password: says so" "$ERR" "password authentication failed"
unchanged "wrong password"
sleep 1

# the backend terminated in the middle of the COPY
"$FERRY" -c f.ini backup --only postgres >kill.out 2>kill.err &
fp=$!
killed=0
for _ in $(seq 1 400); do
	n=$(PSQL -c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name LIKE 'ferry%' AND query LIKE 'COPY%big%' AND state = 'active'")
	if [ "$n" -gt 0 ]; then killed=1; break; fi
	kill -0 $fp 2>/dev/null || break
	sleep 0.02
done
set +e; wait $fp; rc=$?; set -e
if [ $killed = 1 ]; then
	if [ $rc -ne 0 ]; then ok "backend killed mid-COPY: exit $rc"; else notok "backend killed mid-COPY: exit 0"; fi
	contains "backend killed: the error names the table" "$(cat kill.err)" "big"
	unchanged "backend killed"
else
	skip "pg_faults: the COPY ended before it could be terminated"
fi
sleep 1

# A failure after the largest table's COPY began on the server (it starts
# while the catalogs are read): a role allowed two sessions, the main one
# and that psql, so the helper's session is refused.  The COPY is
# cancelled, not left to stream all of its table before ferry can say so.
PSQL -c "DROP ROLE IF EXISTS ferry_lim" \
	-c "CREATE ROLE ferry_lim LOGIN CONNECTION LIMIT 2 PASSWORD '$SBX_PG_PASSWORD'" \
	-c "GRANT CONNECT ON DATABASE pgf TO ferry_lim" >/dev/null
# ANALYZE: the path is chosen by relpages, 0 until then.
PSQL -d pgf -c "GRANT SELECT ON big, small TO ferry_lim" -c "ANALYZE big" >/dev/null
backup_conf lim.ini pgf "jobs = 2" "databases = pgf" "user = ferry_lim"
logat=$(stat -c %s "$SBX_DIR/pg/log")
expect_exit "a session refused after the COPY began fails the backup" 3 "$FERRY" -c lim.ini backup --only postgres
contains "the refusal is said" "$ERR" "too many connections"
if printf '%s' "$ERR" | grep -q 'by psql on the server'; then
	skip "pg_faults: psql on the server connected after the helper session (its COPY never began)"
else
	contains "the COPY begun ahead is cancelled" "$(tail -c +$((logat + 1)) "$SBX_DIR/pg/log")" "canceling statement due to user request"
fi
unchanged "session refused"
PSQL -c "DROP OWNED BY ferry_lim" -d pgf >/dev/null
PSQL -c "DROP ROLE ferry_lim" >/dev/null

# DDL queued behind the backup's locks, on the server path: the next
# tables' COPYs start on one psql on the server while the one before
# still arrives (mid, then small after it), and small's lock (NOWAIT: it
# must not queue behind that DDL) is refused there.  The failure is
# small's, not mid's, said in psql's words.
PSQL -d pgf -c "CREATE TABLE mid AS SELECT generate_series(1, 5000) id" -c "ANALYZE mid" >/dev/null
backup_conf srv.ini pgf "jobs = 1" "databases = pgf" "transfer = server"
"$FERRY" -vv -c srv.ini backup --only postgres >srv.out 2>srv.err &
fp=$!
for _ in $(seq 1 400); do
	[ "$(PSQL -c "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'ferry%' AND query LIKE 'COPY%big%'")" -gt 0 ] && break
	sleep 0.02
done
PSQL -d pgf -c "ALTER TABLE small ADD COLUMN queued int" >/dev/null &
ddl=$!
# The DDL counts only once it waits while big's COPY still runs (small's
# lock not yet taken).
queued=f
for _ in $(seq 1 100); do
	queued=$(PSQL -d pgf -c "SELECT EXISTS (SELECT FROM pg_locks WHERE NOT granted AND relation = 'small'::regclass)
		AND EXISTS (SELECT FROM pg_stat_activity WHERE application_name LIKE 'ferry%' AND query LIKE 'COPY%big%' AND state = 'active')")
	[ "$queued" = t ] && break
	kill -0 $fp 2>/dev/null || break
	sleep 0.02
done
set +e; wait $fp; rc=$?; wait $ddl; set -e
if [ "$queued" = t ] && grep -q "COPY public.mid started while the table before still arrives" srv.err; then
	same "a table started early whose lock is refused: exit 1" "$rc" "1"
	contains "its error names the table and the lock" "$(cat srv.err)" 'COPY public.small by psql on the server: ERROR:  could not obtain lock on relation "public.small"'
	unchanged "lock refused to a table started early"
else
	skip "pg_faults: the DDL was not queued before big's COPY ended (exit $rc)"
	# shellcheck disable=SC2086
	for f in archives/pgf-*; do case " $(echo $good) " in *" ${f#archives/} "*) ;; *) rm -f "$f" ;; esac; done
fi
PSQL -d pgf -c "ALTER TABLE small DROP COLUMN IF EXISTS queued" -c "DROP TABLE mid" >/dev/null
sleep 1

# DDL during the backup waits for it; the archive is the state before
"$FERRY" -c f.ini backup --only postgres >ddl.out 2>ddl.err &
fp=$!
for _ in $(seq 1 400); do
	[ "$(PSQL -c "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'ferry%' AND query LIKE 'COPY%'")" -gt 0 ] && break
	sleep 0.02
done
PSQL -d pgf -c "ALTER TABLE small ADD COLUMN added int DEFAULT 1" -c "DROP TABLE big" >/dev/null &
ddl=$!
set +e; wait $fp; rc=$?; wait $ddl; ddlrc=$?; set -e
same "backup during DDL succeeds" "$rc" "0"
same "the DDL ran after it" "$ddlrc" "0"
new=$(ls -t archives/pgf-*.tar.zst | head -n 1)
pre=$(tar --zstd -xOf "$new" postgres/pgf/pre-data.sql)
lacks "archive predates the added column" "$pre" "added"
contains "archive still holds the dropped table" "$pre" "CREATE TABLE public.big"
expect_exit "that archive restores" 0 "$FERRY" -c f.ini restore "$new" --db pgf=pgf_back --clean
same "restored: the table dropped meanwhile is whole" "$(PSQL -d pgf_back -c 'SELECT count(*) FROM big')" "1500000"

# The closing ANALYZE fails (its session is ended from outside): the data
# is all in and counted, so the database stays, named as not analyzed,
# never as restored completely.
PSQL -c "DROP DATABASE IF EXISTS pgf_an WITH (FORCE)" >/dev/null
PSQL -c "DO \$\$ BEGIN FOR i IN 1..60000 LOOP PERFORM pg_stat_clear_snapshot(); PERFORM pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'pgf_an' AND query ILIKE '%ANALYZE%'; EXIT WHEN FOUND; PERFORM pg_sleep(0.001); END LOOP; END \$\$" >/dev/null 2>&1 &
killer=$!
expect_exit "a restore whose ANALYZE fails: exit 1" 1 "$FERRY" -c f.ini restore "$new" --db pgf=pgf_an
wait "$killer" 2>/dev/null || true
contains "it names the database as restored, not analyzed" "$ERR" "restored, but not analyzed (run ANALYZE there): pgf_an"
lacks "...and not as restored completely" "$ERR" "restored completely"
same "the database stays, its data whole" "$(PSQL -d pgf_an -c 'SELECT count(*) FROM big')" "1500000"
PSQL -c "DROP DATABASE IF EXISTS pgf_an WITH (FORCE)" >/dev/null
rm -f "$new" "${new%.tar.zst}.manifest.json"
sleep 1

# a lock that never comes fails after lock_timeout instead of hanging
sed -i 's/^\[postgres\]/[postgres]\nlock_timeout = 1s/' f.ini
PSQL -d pgf -c "BEGIN" -c "LOCK TABLE small IN ACCESS EXCLUSIVE MODE" -c "SELECT pg_sleep(6)" >/dev/null &
holder=$!
lock_held
start=$(date +%s)
expect_exit "a held lock fails the backup" 1 "$FERRY" -c f.ini backup --only postgres
contains "the error says lock timeout" "$ERR" "lock timeout"
if [ $(($(date +%s) - start)) -lt 5 ]; then ok "it failed before the holder let go"; else notok "it waited for the holder"; fi
wait $holder || true
unchanged "lock timeout"

# one locked database fails alone: the others land, exit 5
PSQL -c "DROP DATABASE IF EXISTS pgf2 WITH (FORCE)" -c "CREATE DATABASE pgf2" >/dev/null
PSQL -d pgf2 -c "CREATE TABLE t (id int)" -c "INSERT INTO t SELECT generate_series(1, 50)" >/dev/null
backup_conf f2.ini pgf2x "jobs = 1" "databases = pgf, pgf2" "lock_timeout = 1s"
NS env PGAPPNAME=the-lock-holder psql -qAtX -h 127.0.0.1 -U postgres -d pgf \
	-c "BEGIN" -c "LOCK TABLE small IN ACCESS EXCLUSIVE MODE" -c "SELECT pg_sleep(6)" >/dev/null &
holder=$!
lock_held
expect_exit "a locked database among two: exit 5" 5 "$FERRY" -c f2.ini backup --only postgres
contains "names the failed database" "$ERR" "pgf"
contains "names who holds the lock" "$ERR" "application the-lock-holder"
contains "the report line says it failed" "$OUT" "FAILED"
wait $holder || true
part=$(ls -t archives/pgf2x-*.tar.zst | head -n 1)
if [ -n "$part" ]; then ok "the partial archive is published"; else notok "no partial archive"; fi
same "the other database is in it" "$(tar --zstd -tf "$part" | grep -c '^postgres/pgf2/data/')" "1"
same "the manifest marks the component failed" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["components"]["postgres"]["status"])' "${part%.tar.zst}.manifest.json")" "failed"
expect_exit "list shows it" 0 "$FERRY" -c f2.ini list
contains "list: postgres failed" "$OUT" "postgres:failed"
expect_exit "what landed restores" 0 "$FERRY" -c f2.ini restore "$part" --db pgf2=pgf2_back --clean
same "restored the database that landed" "$(PSQL -d pgf2_back -c 'SELECT count(*) FROM t')" "50"
expect_exit "the failed database cannot be restored" 1 "$FERRY" -c f2.ini restore "$part" --db pgf=pgf_x
contains "says its backup failed" "$ERR" "its backup failed"

# A database the server does not have is a bad name (exit 1), not a lost
# link (3): check names it wherever the list has it, and a backup still
# lands the others (exit 5), even when the missing one is listed first.
backup_conf nodb1.ini nodb "jobs = 1" "databases = pgf2, pgf_nosuch"
expect_exit "check: a named database the server does not have: exit 1" 1 "$FERRY" -c nodb1.ini check
contains "check names it, and where it is configured" "$OUT" "database pgf_nosuch does not exist on the server ([postgres] databases)"
backup_conf nodb2.ini nodb "jobs = 1" "databases = pgf_nosuch, pgf2"
expect_exit "check: the same, listed first: exit 1" 1 "$FERRY" -c nodb2.ini check
contains "check names the first" "$OUT" 'database "pgf_nosuch" does not exist'
new_second
expect_exit "backup: a missing database listed first fails alone: exit 5" 5 "$FERRY" -c nodb2.ini backup --only postgres
contains "the error names it" "$ERR" 'database "pgf_nosuch" does not exist'
part=$(ls -t archives/nodb-*.tar.zst | head -n 1)
same "the database after it landed" "$(tar --zstd -tf "$part" | grep -c '^postgres/pgf2/data/')" "1"
backup_conf nodb3.ini nodb3 "databases = pgf_nosuch"
expect_exit "backup: only a missing database: exit 1, not 3" 1 "$FERRY" -c nodb3.ini backup --only postgres
PSQL -c "ALTER DATABASE pgf2 WITH ALLOW_CONNECTIONS false" >/dev/null
backup_conf nodb4.ini nodb "databases = postgres, pgf2"
expect_exit "check: a database that allows no connections: exit 1" 1 "$FERRY" -c nodb4.ini check
contains "check says so" "$OUT" "database pgf2 does not allow connections on the server"
expect_exit "backup: it fails alone: exit 5" 5 "$FERRY" -c nodb4.ini backup --only postgres
PSQL -c "ALTER DATABASE pgf2 WITH ALLOW_CONNECTIONS true" >/dev/null

# One worker's failure cuts the other's COPY on the server short: cut_b's
# session is ended while cut_a streams on the other worker, and cut_a's
# COPY is cancelled, not streamed to its end (and read) before the run
# ends.  Over 20 Mbit cut_a streams for 20 s, so it is still streaming
# when the failure is seen, however slow this build reads.
PSQL -d pgf -c "CREATE TABLE cut_a AS SELECT g AS id, md5(g::text) || md5((g + 1)::text) AS a FROM generate_series(1, 1500000) g" \
	-c "CREATE TABLE cut_b AS SELECT * FROM cut_a" -c "ANALYZE cut_a, cut_b" >/dev/null
backup_conf two.ini pgf "jobs = 2" "databases = pgf" "transfer = server"
logat=$(stat -c %s "$SBX_DIR/pg/log")
fault_shape 20mbit
"$FERRY" -c two.ini backup --only postgres >two.out 2>two.err &
fp=$!
killed=0
for _ in $(seq 1 400); do
	if [ "$(PSQL -c "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'ferry%' AND query LIKE 'COPY%cut_%' AND state = 'active'")" -ge 2 ]; then
		PSQL -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'ferry%' AND query LIKE 'COPY%cut_b%'" >/dev/null
		killed=1
		break
	fi
	kill -0 $fp 2>/dev/null || break
	sleep 0.02
done
set +e; wait $fp; rc=$?; set -e
fault_unshape
if [ $killed = 1 ]; then
	if [ $rc -ne 0 ]; then ok "a worker's session ended: exit $rc"; else notok "a worker's session ended: exit 0"; fi
	contains "the other worker's COPY on the server is cancelled" "$(tail -c +$((logat + 1)) "$SBX_DIR/pg/log")" "canceling statement due to user request"
	unchanged "a worker's session ended"
else
	skip "pg_faults: the two COPYs were never seen running at once (exit $rc)"
	# shellcheck disable=SC2086
	for f in archives/pgf-*; do case " $(echo $good) " in *" ${f#archives/} "*) ;; *) rm -f "$f" ;; esac; done
fi
PSQL -d pgf -c "DROP TABLE cut_a, cut_b" >/dev/null

# sshd allows 10 sessions a connection (the sandbox keeps its default),
# over a link slow enough that every worker streams at once: with jobs =
# 12 and transfer = server, 8 sessions; on auto, 8 workers copy on the
# server and the others take the small tables, through the tunnel.
# many_backup NAME INI RATE: a -v backup of pgfm over the shaped link
many_backup() {
	fault_shape "$3"
	expect_exit "$1" 0 "$FERRY" -v -c "$2" backup --only postgres
	fault_unshape
}
# The tables in the newest archive of pgfm.
many_tables() {
	tar --zstd -tf "$(ls -t archives/many-*.tar.zst | head -n 1)" |
		sed -n 's|^postgres/pgfm/data/\(public\.[a-z]*_[0-9]*\)\.copy.*|\1|p' | sort -u | wc -l
}
PSQL -c "DROP DATABASE IF EXISTS pgfm" -c "CREATE DATABASE pgfm" >/dev/null
PSQL -d pgfm -c "DO \$\$ BEGIN FOR i IN 1..14 LOOP EXECUTE format('CREATE TABLE m_%s AS SELECT g AS id, md5(g::text) || md5((g + %s)::text) AS t FROM generate_series(1, 20000) g', i, i); END LOOP; END \$\$" -c "ANALYZE" >/dev/null
backup_conf many.ini many "databases = pgfm" "jobs = 12" "transfer = server"
contains "check: jobs = 12, transfer = server: says 8 sessions" \
	"$("$FERRY" -c many.ini check 2>&1 || true)" "; 8 sessions, not 12 (sshd allows 10 sessions a connection by default)"
many_backup "backup: jobs = 12, transfer = server, over 10 Mbit" many.ini 10mbit
contains "-v says 8 sessions" "$ERR" "pgfm: 14 tables on 8 sessions"
same "every table is in the archive" "$(many_tables)" "14"
PSQL -c "DROP DATABASE pgfm WITH (FORCE)" -c "CREATE DATABASE pgfm" >/dev/null
# 24 tables over auto's 4 MiB, compressed to a twentieth; 6 small ones
PSQL -d pgfm -c "DO \$\$ BEGIN FOR i IN 1..24 LOOP EXECUTE format('CREATE TABLE big_%s AS SELECT g AS id, repeat(md5((g + %s)::text), 20) AS t FROM generate_series(1, 8000) g', i, i); END LOOP; FOR i IN 1..6 LOOP EXECUTE format('CREATE TABLE small_%s AS SELECT g AS id, md5(g::text) AS t FROM generate_series(1, 2000) g', i); END LOOP; END \$\$" -c "ANALYZE" >/dev/null
backup_conf manya.ini many "databases = pgfm" "jobs = 12"
contains "check: jobs = 12 on auto: says 8 copy on the server" \
	"$("$FERRY" -c manya.ini check 2>&1 || true)" "; 8 of the 12 sessions copy on the server (sshd allows 10 sessions a connection by default), the others take the tables that go through the tunnel"
new_second
many_backup "backup: jobs = 12 on auto, over 20 Mbit" manya.ini 20mbit
contains "-v says 8 copy on the server" "$ERR" "pgfm: 8 of them copy on the server"
same "every table is in that archive" "$(many_tables)" "30"
PSQL -c "DROP DATABASE pgfm WITH (FORCE)" >/dev/null

PSQL -c "DROP DATABASE pgf2 WITH (FORCE)" -c "DROP DATABASE IF EXISTS pgf2_back WITH (FORCE)" >/dev/null
PSQL -c "DROP DATABASE pgf WITH (FORCE)" -c "DROP DATABASE IF EXISTS pgf_back WITH (FORCE)" >/dev/null
