# Backups: the archive, its manifest, verify, list, prune, the lock and
# cleanup after failures, against the sandbox's PostgreSQL.
# cost: 60 (seconds, roughly: tests/run starts the costliest first)
set -eu
. "$FERRY_SOURCE_ROOT/tests/lib.sh"
cd "$SCRATCH"

# ---- prune against the reference model (no server needed) ----------------
mkdir -p prune
printf '[server]\nhost = local\n[backup]\ndir = %s/prune\nname = app\n' "$SCRATCH" >prune.base
psql_ok=1
for round in 1 2 3 4 5 6 7 8 9; do
	rm -f prune/*
	# random archive times over ~3 years, a few in the same hour/day; from
	# round 4 on, of several groups (full runs and --only runs, the names
	# in any order), and some not counted: a failed verify, no manifest
	stamps=$(python3 - "$round" "$SCRATCH/prune" <<'PY'
import json, random, sys
from datetime import datetime, timedelta, timezone
random.seed(int(sys.argv[1]) * 7919)
grouped = int(sys.argv[1]) >= 4
now = datetime(2026, 11, 23, 3, 0, 0, tzinfo=timezone.utc)
full = ["postgres", "minio", "redis", "files"]
sets = [full, full, full, ["minio"], ["redis", "files"], ["files", "redis"]]
seen = set()
for _ in range(random.randint(20, 80)):
    t = now - timedelta(seconds=random.choice([
        random.randint(0, 3 * 86400),
        random.randint(0, 60 * 86400),
        random.randint(0, 1100 * 86400)]))
    s = t.strftime("%Y%m%dT%H%M%SZ")
    if s in seen:
        continue
    seen.add(s)
    comps = random.choice(sets) if grouped else ["postgres"]
    m = {"format": 1, "status": "ok",
         "components": {c: {"status": "ok"} for c in comps}}
    spec = ",".join(comps)
    roll = random.random() if grouped else 1
    if roll < 0.08:
        m["verify_error"] = "damaged"
        spec = "FAILED"
    path = "%s/app-%s" % (sys.argv[2], s)
    open(path + ".tar.zst", "w").close()
    if roll < 0.04 or 0.08 <= roll < 0.12:
        spec = "NONE"
        if roll < 0.10:
            open(path + ".manifest.json", "w").write("{ not json")
    else:
        json.dump(m, open(path + ".manifest.json", "w"))
    print("%s=%s" % (s, spec))
PY
)
	# foreign files that must survive
	: >prune/app-20200101T000000Z.tar.zst.partial
	: >prune/app-notastamp.tar.zst
	: >prune/other-20200101T000000Z.tar.zst
	: >prune/app-20200101T000000.tar.zst
	: >prune/README
	read -r kl kh kd kw km ky <<<"$(python3 -c "import random; random.seed($round); print(*[random.choice([0,0,1,2,3,5,10]) for _ in range(6)])")"
	cp prune.base prune.ini
	printf 'keep_last = %s\nkeep_hourly = %s\nkeep_daily = %s\nkeep_weekly = %s\nkeep_monthly = %s\nkeep_yearly = %s\n' \
		"$kl" "$kh" "$kd" "$kw" "$km" "$ky" >>prune.ini
	before=$(ls prune | sort)
	expect_exit "prune --dry-run (round $round)" 0 "$FERRY" -c prune.ini prune --dry-run
	same "dry run deletes nothing (round $round)" "$(ls prune | sort)" "$before"
	case "$stamps" in *=FAILED*)
		contains "dry run names a failed one as kept, not counted (round $round)" "$OUT" \
			"verify failed: not counted, kept for inspection" ;;
	esac
	expect_exit "prune (round $round: $kl $kh $kd $kw $km $ky)" 0 "$FERRY" -c prune.ini prune
	want=$(python3 "$FERRY_SOURCE_ROOT/tests/prune_model.py" $kl $kh $kd $kw $km $ky $stamps)
	got=$(ls prune | sed -n 's/^app-\([0-9T]*Z\)\.tar\.zst$/\1/p' | sort)
	same "prune keeps what the model keeps (round $round)" "$got" "$want"
	lost=
	for f in app-20200101T000000Z.tar.zst.partial app-notastamp.tar.zst \
		 other-20200101T000000Z.tar.zst app-20200101T000000.tar.zst README; do
		[ -e "prune/$f" ] || lost="$lost $f"
	done
	same "foreign files survive (round $round)" "$lost" ""
	orphans=$(for f in prune/app-*.manifest.json; do [ -e "${f%.manifest.json}.tar.zst" ] || echo "$f"; done)
	same "deleted archives take their manifests (round $round)" "$orphans" ""
done

# ---- against the sandbox ----------------------------------------------------
needs_sandbox "backup"
PSQL() { ip netns exec "$SBX_NS" env PGPASSWORD="$SBX_PG_PASSWORD" psql -qAtX -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 "$@"; }
PSQL -c "DROP DATABASE IF EXISTS bk_shop" -c "CREATE DATABASE bk_shop" >/dev/null
PSQL -d bk_shop >/dev/null <<'SQL'
CREATE TABLE item (id int PRIMARY KEY, name text, price numeric);
INSERT INTO item SELECT i, 'item ' || i, i * 1.5 FROM generate_series(1, 50000) i;
CREATE SCHEMA "odd/schema";
CREATE TABLE "odd/schema"."täble ü" (t text, b bytea);
INSERT INTO "odd/schema"."täble ü" VALUES (E'tab\there\nnew line \\N', '\x00ff'), (NULL, NULL), ('', '');
CREATE TABLE empty (x int);
SQL
backup_conf bk.ini shop "databases = bk_shop"

expect_exit "backup" 0 "$FERRY" -c bk.ini backup --only postgres
A=$(ls archives/shop-*.tar.zst | head -n 1)
if [[ "$(basename "$A")" =~ ^shop-[0-9]{8}T[0-9]{6}Z\.tar\.zst$ ]]; then ok "archive name <name>-<UTC stamp>.tar.zst"; else notok "archive name: $A"; fi
same "archive mode 0600" "$(stat -c %a "$A")" "600"
same "manifest copy beside it, 0600" "$(stat -c %a "${A%.tar.zst}.manifest.json")" "600"
same "no partial file left" "$(ls archives | grep -c partial || true)" "0"
mkdir -p x
if tar --zstd -xf "$A" -C x; then ok "tar --zstd reads it"; else notok "tar --zstd cannot read $A"; fi
tar --zstd -tf "$A" >members.txt
same "manifest is the last member" "$(tail -n 1 members.txt)" "manifest.json"
if python3 - "$SCRATCH/x" <<'PY'
import hashlib, json, os, sys
root = sys.argv[1]
m = json.load(open(os.path.join(root, "manifest.json")))
for mem in m["members"]:
    data = open(os.path.join(root, mem["name"]), "rb").read()
    assert len(data) == mem["size"], mem["name"]
    assert hashlib.sha256(data).hexdigest() == mem["sha256"], mem["name"]
tables = {t["table"]: t for t in m["components"]["postgres"]["databases"]["bk_shop"]["tables"]}
assert tables["item"]["rows"] == 50000, tables["item"]
assert tables["täble ü"]["rows"] == 3
assert tables["empty"]["rows"] == 0
assert m["status"] == "ok" and m["format"] == 1
PY
then ok "manifest sizes, checksums and row counts match the files"; else notok "manifest sizes, checksums and row counts match the files"; fi
same "COPY data restores with psql" "$(PSQL -c "CREATE DATABASE bk_check" >/dev/null; PSQL -d bk_check -c "CREATE TABLE item (id int, name text, price numeric)" >/dev/null; cat x/postgres/bk_shop/data/public.item.copy | PSQL -d bk_check -c "COPY item FROM STDIN" ; PSQL -d bk_check -c "SELECT count(*), sum(price) FROM item")" "50000|1875037500.0"
PSQL -c "DROP DATABASE bk_check" >/dev/null

# A backup in the same second as another gets "<stamp>-2".  Two real
# backups do not fit in one second on a loaded machine, so the names of
# this minute are taken first, as that other backup's manifest would take
# them (the run then finds the name of whatever second it starts in taken).
s0=$(date +%s)
taken=()
for t in $(seq "$s0" $((s0 + 60))); do
	# (the first archive's own second, when this is still it, is
	# taken already: its manifest must stay)
	st=archives/shop-$(date -u -d "@$t" +%Y%m%dT%H%M%SZ)
	[ -e "$st.tar.zst" ] || taken+=("$st.manifest.json")
done
: | tee "${taken[@]}"
expect_exit "a backup whose second's name is taken succeeds" 0 "$FERRY" -c bk.ini backup --only postgres
contains "it is named <stamp>-2" "$OUT" "Z-2.tar.zst"
rm -f "${taken[@]}"
for f in archives/shop-*.tar.zst; do
	[ "$f" = "$A" ] || rm -f "$f" "${f%.tar.zst}.manifest.json"
done
expect_exit "verify --latest" 0 "$FERRY" -c bk.ini verify --latest
expect_exit "verify ARCHIVE" 0 "$FERRY" -c bk.ini verify "$A"
expect_exit "list" 0 "$FERRY" -c bk.ini list
contains "list shows the archive" "$OUT" "$(basename "$A")"
contains "list shows component status" "$OUT" "postgres:ok"
contains "list shows it verified" "$OUT" " yes "
expect_exit "list --json" 0 "$FERRY" -c bk.ini list --json
if printf '%s' "$OUT" | python3 -c 'import json,sys; a=json.load(sys.stdin); assert a[0]["verified"] and a[0]["kept"] and a[0]["status"]=="ok"'; then ok "list --json"; else notok "list --json: $OUT"; fi

# damaged archives: exit 6, never a crash
cp "$A" flipped.tar.zst
size=$(stat -c %s flipped.tar.zst)
python3 - flipped.tar.zst $((size / 2)) <<'PY'
import sys
f = open(sys.argv[1], "r+b"); f.seek(int(sys.argv[2])); b = f.read(1); f.seek(int(sys.argv[2])); f.write(bytes([b[0] ^ 0x40]))
PY
expect_exit "verify: flipped byte exits 6" 6 "$FERRY" -c bk.ini verify flipped.tar.zst
contains "verify: flipped byte names the archive" "$ERR" "flipped.tar.zst"
contains "verify: damage inside the zstd stream says so, with the offset" "$ERR" "damaged at compressed byte"
lacks "verify: the offset is a real one" "$ERR" "byte -1"
contains "verify: the offset is out of the file's size" "$ERR" " of $size ("
if printf '%s' "$ERR" | grep -q "before the first member\|in member '\|after member '"; then
	ok "verify: damage says which member was being read"
else
	notok "verify: damage says which member was being read: $ERR"
fi
off=$(printf '%s' "$ERR" | sed -n 's/.*damaged at compressed byte \([0-9]*\) of.*/\1/p')
if [ -n "$off" ] && [ "$off" -gt $((size / 2)) ] && [ "$off" -le "$size" ]; then
	ok "verify: the offset is past the flipped byte, within the file"
else
	notok "verify: offset '$off' for a byte flipped at $((size / 2)) of $size"
fi
lacks "verify: damage is not 'not a ferry archive'" "$ERR" "not a ferry archive"
# a failed verify of an archive of the backup dir shows in list
cp "$A" "${A%.tar.zst}.good"
cp flipped.tar.zst "$A"
expect_exit "verify --latest of a damaged archive exits 6" 6 "$FERRY" -c bk.ini verify --latest
# with the manifest beside it, the damage is named in the member that holds
# it (the first byte that decodes differently), as restore names it
hit=$(python3 - "${A%.tar.zst}.good" "$A" <<'PY'
import io, subprocess, sys, tarfile
good = subprocess.run(["zstd", "-dcq", sys.argv[1]], capture_output=True).stdout
bad = subprocess.run(["zstd", "-dcq", "--no-check", sys.argv[2]], capture_output=True).stdout
at = next((i for i in range(min(len(good), len(bad))) if good[i] != bad[i]), min(len(good), len(bad)))
for m in tarfile.open(fileobj=io.BytesIO(good)):
    if m.offset <= at < m.offset_data + m.size:
        print(m.name)
PY
)
contains "verify: damage named in the member that holds it (${hit:-?})" "$ERR" "member '${hit:-?}'"
expect_exit "list after the failed verify" 0 "$FERRY" -c bk.ini list
contains "list says FAILED" "$OUT" "FAILED"
expect_exit "verify by name (as list prints it)" 6 "$FERRY" -c bk.ini verify "$(basename "$A")"
mv "${A%.tar.zst}.good" "$A"
expect_exit "verify by name after the repair" 0 "$FERRY" -c bk.ini verify "$(basename "$A")"
expect_exit "list after a passing verify" 0 "$FERRY" -c bk.ini list
lacks "list no longer says FAILED" "$OUT" "FAILED"
head -c $((size - 1000)) "$A" >truncated.tar.zst
expect_exit "verify: truncated exits 6" 6 "$FERRY" -c bk.ini verify truncated.tar.zst
contains "verify: truncated says where decoding stopped" "$ERR" "damaged at compressed byte $((size - 1000)) of $((size - 1000))"
head -c 100000 /dev/urandom >random.tar.zst
expect_exit "verify: random bytes exit 6" 6 "$FERRY" -c bk.ini verify random.tar.zst
: >empty.tar.zst
expect_exit "verify: empty file exits 6" 6 "$FERRY" -c bk.ini verify empty.tar.zst
# a member changed inside a well-formed archive
mkdir -p re && tar --zstd -xf "$A" -C re
printf 'X' >>re/postgres/bk_shop/data/public.item.copy
(cd re && tar --zstd -cf ../tampered.tar.zst -T ../members.txt)
expect_exit "verify: tampered member exits 6" 6 "$FERRY" -c bk.ini verify tampered.tar.zst
contains "verify: names the bad member" "$ERR" "public.item.copy"
contains "verify: says where the bad member is" "$ERR" "at tar offset "
mkdir -p ex && tar --zstd -xf "$A" -C ex
{ head -n -1 members.txt; echo extra.txt; echo manifest.json; } >extra.list
(cd ex && echo surprise >extra.txt && tar --zstd -cf ../extra.tar.zst -T ../extra.list)
expect_exit "verify: extra member exits 6" 6 "$FERRY" -c bk.ini verify extra.tar.zst
contains "verify: names the extra member" "$ERR" "extra.txt"

# the lock: a second run exits 7 naming the holder
# (held until released, not for a fixed time: a loaded machine may take
# seconds over the two runs)
rm -f release
flock archives/.ferry.lock sh -c 'echo "$$ 1763867000" >archives/.ferry.lock
	i=0; while [ ! -e release ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done' &
holder=$!
for _ in $(seq 1 200); do grep -q 1763867000 archives/.ferry.lock 2>/dev/null && break; sleep 0.05; done
expect_exit "backup while locked exits 7" 7 "$FERRY" -c bk.ini backup
contains "lock message names the holder" "$ERR" "locked by pid"
expect_exit "prune while locked exits 7" 7 "$FERRY" -c bk.ini prune
: >release
wait $holder

# failures publish nothing and leave earlier archives alone
sum_before=$(sha256sum archives/*.tar.zst)
sed 's/^password = ${SBX_PG_PASSWORD}/password = wrong/' bk.ini >badpw.ini
chmod 600 badpw.ini
sleep 1
expect_exit "wrong password: exit 3" 3 "$FERRY" -c badpw.ini backup
contains "wrong password: says why" "$ERR" "password authentication failed"
sed 's/^databases = bk_shop/databases = bk_shop, no_such_db/' bk.ini >baddb.ini
chmod 600 baddb.ini
sleep 1
expect_exit "failing component with --fail-fast: no archive (a database the server does not have: exit 1)" 1 "$FERRY" -c baddb.ini backup --fail-fast
same "failures leave no partial and no new archive" "$(sha256sum archives/*.tar.zst)" "$sum_before"
same "no partial after failures" "$(ls archives | grep -c partial || true)" "0"
expect_exit "unknown component: exit 2" 2 "$FERRY" -c bk.ini backup --only mysql
expect_exit "a component named twice: exit 2" 2 "$FERRY" -c bk.ini backup --only postgres,postgres
expect_exit "twenty names to --only: exit 2, no crash" 2 "$FERRY" -c bk.ini backup \
	--only "$(printf 'postgres,%.0s' $(seq 1 20))postgres"
# An archive that also holds bk_other, older than those that follow
PSQL -c "DROP DATABASE IF EXISTS bk_other" -c "CREATE DATABASE bk_other" >/dev/null
PSQL -d bk_other -c "CREATE TABLE o (x int)" -c "INSERT INTO o SELECT generate_series(1, 7)" >/dev/null
sed 's/^databases = bk_shop/databases = bk_shop, bk_other/' bk.ini >other.ini
chmod 600 other.ini
new_second
expect_exit "a backup that also holds bk_other" 0 "$FERRY" -c other.ini backup --only postgres
PSQL -c "DROP DATABASE bk_other" >/dev/null
# A configured source that fails (here Redis with a wrong password) does
# not make the run pass for complete: the archive lands, exit 5.
cp bk.ini part.ini
printf '\n[redis]\npassword = wrong-%s\n' "$RANDOM" >>part.ini
new_second
expect_exit "a failing source among others: exit 5" 5 "$FERRY" -c part.ini backup
contains "the report line says redis failed" "$OUT" "redis     FAILED"
contains "the report line says postgres is ok" "$OUT" "postgres  ok"
contains "the error names the partial archive" "$ERR" "partial backup"
latest=$(ls -t archives/shop-*.tar.zst | head -n 1)
same "the partial archive holds postgres" "$(tar --zstd -tf "$latest" | grep -c '^postgres/bk_shop/pre-data.sql')" "1"
expect_exit "list after a partial run" 0 "$FERRY" -c part.ini list
contains "list marks the failed component" "$OUT" "redis:failed"
contains "list says the archive is partial" "$(echo "$OUT" | grep "$(basename "$latest")")" " partial "
# every row's cells start under their heading, however long COMPONENTS is
if printf '%s\n' "$OUT" | python3 -c '
import sys
rows = sys.stdin.read().splitlines()
h = rows[0]
for col in ("VERIFIED", "RETENTION"):
    at = h.index(col)
    for r in rows[1:]:
        assert r[at - 2:at] == "  " and r[at] != " ", (col, r)
'; then ok "list columns stay aligned"; else notok "list columns stay aligned: $OUT"; fi
# restore --latest takes the newest archive that holds complete what it
# restores: the partial one for its postgres, an older one for the rest
pb=$(basename "$latest")
expect_exit "restore --latest --only postgres: the partial archive's postgres landed" 0 \
	"$FERRY" -c part.ini restore --latest --only postgres --db bk_shop=bk_latest
lacks "--latest --only postgres passes over nothing" "$ERR" "passing over"
same "--latest --only postgres restored the newest rows" "$(PSQL -d bk_latest -c 'SELECT count(*) FROM item')" "50000"
expect_exit "restore --latest --only redis: no archive holds it complete: exit 1" 1 \
	"$FERRY" -c part.ini restore --latest --only redis --to rlatest
contains "--latest names the partial archive it passes over" "$ERR" "passing over $pb: partial: its redis failed at backup time"
contains "--latest names an archive without the component" "$ERR" "it holds no redis"
contains "--latest says none fits" "$ERR" "holds complete what is to be restored"
same "--latest wrote nothing when none fits" "$(ls rlatest 2>/dev/null | wc -l)" "0"
expect_exit "restore --latest: an older complete archive" 0 \
	"$FERRY" -c part.ini restore --latest --db bk_shop=bk_latest2
contains "--latest passes over the partial archive" "$ERR" "passing over $pb: partial: its redis failed"
same "--latest restored the older archive" "$(PSQL -d bk_latest2 -c 'SELECT count(*) FROM item')" "50000"
PSQL -c "DROP DATABASE bk_latest" -c "DROP DATABASE bk_latest2" >/dev/null
expect_exit "restore --latest --db of a database only an older archive holds" 0 \
	"$FERRY" -c part.ini restore --latest --only postgres --db bk_other=bk_other2
contains "--latest passes over the newer archive without it" "$ERR" "passing over $pb: it holds no database bk_other"
contains "--latest names the archive it restores" "$ERR" "--latest: restoring "
same "--latest restored it from the older archive" "$(PSQL -d bk_other2 -c 'SELECT count(*) FROM o')" "7"
PSQL -c "DROP DATABASE bk_other2" >/dev/null
expect_exit "restore --latest --db of a database no archive holds: exit 2" 2 \
	"$FERRY" -c part.ini restore --latest --only postgres --db bk_nosuch=x
contains "--latest says what the newest lacks" "$ERR" "no archive holds what is asked for (the newest: it holds no database bk_nosuch)"
expect_exit "restore --only an unknown component: exit 2" 2 "$FERRY" -c part.ini restore --latest --only bogus
contains "says it is unknown" "$ERR" "--only: unknown component 'bogus'"
# postgres fails a database at a time: a --db naming one that landed
# still takes the archive
new_second
expect_exit "a named database the server lacks: exit 5" 5 "$FERRY" -c baddb.ini backup
contains "the report line says which databases landed" "$OUT" "(landed: bk_shop)"
pb2=$(basename "$(ls -t archives/shop-*.tar.zst | head -n 1)")
expect_exit "restore --latest --db of a database that landed" 0 \
	"$FERRY" -c baddb.ini restore --latest --only postgres --db bk_shop=bk_latest3
lacks "--latest --db of a database that landed passes over nothing" "$ERR" "passing over"
lacks "--db names only what landed: no warning of the failure" "$ERR" "restoring what it holds"
same "--latest --db restored it" "$(PSQL -d bk_latest3 -c 'SELECT count(*) FROM item')" "50000"
expect_exit "restore --latest --only postgres of every database: refused by bk_shop's tables" 1 \
	"$FERRY" -c baddb.ini restore --latest --only postgres
contains "--latest passes over the archive whose postgres failed" "$ERR" "passing over $pb2: partial: its postgres failed"
lacks "--latest takes the one whose redis failed" "$ERR" "passing over $pb:"
contains "--latest took it: bk_shop is refused" "$ERR" "bk_shop"
PSQL -c "DROP DATABASE bk_latest3" >/dev/null
expect_exit "restoring that archive whole: bk_shop's tables refuse it" 1 \
	"$FERRY" -c baddb.ini restore "archives/$pb2" --only postgres
contains "it warns that its postgres failed" "$ERR" "the archive's postgres component failed at backup time"
sed 's/^name = shop$/name = none/' baddb.ini >none.ini
chmod 600 none.ini
expect_exit "restore --latest with no archive of that name: exit 1" 1 "$FERRY" -c none.ini restore --latest
contains "it names the name and the directory" "$ERR" "--latest: no archive named none-* in $SCRATCH/archives"
n_before=$(ls archives | grep -c '\.tar\.zst$')
set +e; "$FERRY" -c part.ini backup --only redis >/dev/null 2>&1; rc=$?; set -e
if [ $rc -ne 0 ] && [ $rc -ne 5 ]; then ok "--only a failing source: it fails ($rc)"; else notok "--only a failing source: exit $rc"; fi
same "--only a failing source publishes nothing" "$(ls archives | grep -c '\.tar\.zst$')" "$n_before"

# prune_after_backup
mkdir -p auto
cp bk.ini auto.ini
sed -i "s|^dir = .*/archives|dir = $SCRATCH/auto|" auto.ini
printf 'prune_after_backup = yes\nkeep_last = 1\nkeep_daily = 0\nkeep_weekly = 0\nkeep_monthly = 0\n' >>auto.ini
expect_exit "backup with prune_after_backup (1)" 0 "$FERRY" -c auto.ini backup
sleep 1
expect_exit "backup with prune_after_backup (2)" 0 "$FERRY" -c auto.ini backup
contains "prune ran after the backup" "$OUT" "1 archive kept, 1 deleted"
same "the prune after it is a run of its own in status" \
	"$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["job"], r["exit"])' auto/.ferry-last-prune.json 2>&1)" "prune 0"
same "only the newest archive remains" "$(ls auto | grep -c '\.tar\.zst$')" "1"
sleep 1
expect_exit "backup -q with prune_after_backup" 0 "$FERRY" -q -c auto.ini backup
same "-q: the prune after it prints nothing" "$OUT" ""
sleep 1
expect_exit "backup --json with prune_after_backup" 0 "$FERRY" -c auto.ini backup --json
if printf '%s' "$OUT" | python3 -c 'import json,sys; json.load(sys.stdin)' 2>/dev/null; then
	ok "--json: the prune after it leaves stdout one JSON document"
else
	notok "--json: the prune after it leaves stdout one JSON document: $OUT"
fi
same "the prunes ran: one archive remains" "$(ls auto | grep -c '\.tar\.zst$')" "1"
# a partial backup is pruned after too, but takes no slot from a complete one
# (of what it was asked for: here a postgres whose second database is not
# there)
sed 's/^databases = bk_shop$/databases = bk_shop, no_such_db/' auto.ini >autopart.ini
chmod 600 autopart.ini
sleep 1
expect_exit "partial backup with prune_after_backup: exit 5" 5 "$FERRY" -c autopart.ini backup
contains "prune ran after the partial backup" "$OUT" "2 archives kept, 0 deleted"
expect_exit "prune after a partial backup" 0 "$FERRY" -c autopart.ini prune
same "the complete archive stays beside the newer partial one" "$(ls auto | grep -c '\.tar\.zst$')" "2"
expect_exit "list after the partial backup" 0 "$FERRY" -c autopart.ini list
lacks "list: neither the complete nor the partial one is to be deleted" "$OUT" "deleted by the next prune"
sleep 1
expect_exit "a complete backup after the partial one" 0 "$FERRY" -c auto.ini backup
same "then the partial and the older complete one go" "$(ls auto | grep -c '\.tar\.zst$')" "1"

# ---- retention per group: --only runs never push a full one out --------------
# (restic's forget groups snapshots by their paths; ferry by the components
# a run was asked for)
backup_conf grp.ini shop "databases = bk_shop"
sed -i "s|^dir = .*/archives|dir = $SCRATCH/grp|; s|^name = shop\$|name = shop\nkeep_last = 2\nkeep_daily = 3|" grp.ini
printf '\n[redis]\npassword = ${SBX_REDIS_PASSWORD}\n\n[files]\npaths = /etc/hostname\n' >>grp.ini
groups_backups grp.ini 'grp/shop-*.tar.zst'
expect_exit "groups: list" 0 "$FERRY" -c grp.ini list
lacks "groups: list keeps the full archive" "$(grep "$FULL" <<<"$OUT")" "deleted by the next prune"
contains "groups: list names the full archive's group and rule" "$(grep "$FULL" <<<"$OUT")" \
	"files,postgres,redis: keep_last, keep_daily ("
expect_exit "groups: list --json" 0 "$FERRY" -c grp.ini list --json
if printf '%s' "$OUT" | python3 -c '
import json, sys
a = {e["archive"].rsplit("/", 1)[1]: e for e in json.load(sys.stdin)}
f = a[sys.argv[1]]
assert f["kept"] and f["counted"] and f["group"] == ["files", "postgres", "redis"], f
assert sorted(tuple(e["group"]) for e in a.values()) == [("files", "postgres", "redis"), ("files", "redis"), ("redis",)], a
' "$FULL"; then ok "groups: list --json gives each archive its group"; else notok "groups: list --json: $OUT"; fi
expect_exit "groups: prune -n" 0 "$FERRY" -c grp.ini prune -n
lacks "groups: prune -n does not name the full archive" "$OUT" "$FULL"
expect_exit "groups: prune" 0 "$FERRY" -c grp.ini prune
same "groups: prune keeps the full archive" "$(ls grp | grep -cx "$FULL")" "1"
expect_exit "groups: restore --latest --only postgres after the prune" 0 \
	"$FERRY" -c grp.ini restore --latest --only postgres --db bk_shop=bk_grp
same "groups: the rows are back" "$(PSQL -d bk_grp -c 'SELECT count(*) FROM item')" "50000"
PSQL -c "DROP DATABASE IF EXISTS bk_grp" >/dev/null
# the same after every backup (prune_after_backup; the daemon's
# after-backup prune is the same call)
sed 's|^keep_last = 2$|keep_last = 1\nprune_after_backup = yes|' grp.ini >grpauto.ini
chmod 600 grpauto.ini
new_second
expect_exit "groups: --only redis with prune_after_backup" 0 "$FERRY" -c grpauto.ini backup --only redis
same "groups: the prune after it keeps the full archive" "$(ls grp | grep -cx "$FULL")" "1"
contains "groups: ... and prunes the older --only redis one" "$OUT" "1 deleted"

# ---- archives not known good fill no slot and are never deleted ------------
backup_conf dmg.ini shop "databases = bk_shop"
sed -i "s|^dir = .*/archives|dir = $SCRATCH/dmg|; s|^name = shop\$|name = shop\nkeep_last = 1\nkeep_daily = 1\nkeep_weekly = 0\nkeep_monthly = 0|" dmg.ini
new_second
expect_exit "damaged: a good backup" 0 "$FERRY" -c dmg.ini backup
G=$(ls dmg/shop-*.tar.zst)
GB=$(basename "$G")
gsize=$(stat -c %s "$G")
later() { echo "dmg/shop-$(date -u -d "@$(($(date +%s) + $1 * 60))" +%Y%m%dT%H%M%SZ)"; }
D1=$(later 1) D2=$(later 2) RND=$(later 3) TRC=$(later 4)
for d in "$D1" "$D2"; do
	# a copy of it with one byte flipped, and its manifest
	cp "$G" "$d.tar.zst"
	cp "${G%.tar.zst}.manifest.json" "$d.manifest.json"
	python3 - "$d.tar.zst" $((gsize / 2)) <<'PY'
import sys
f = open(sys.argv[1], "r+b"); f.seek(int(sys.argv[2])); b = f.read(1); f.seek(int(sys.argv[2])); f.write(bytes([b[0] ^ 0x40]))
PY
done
head -c 100000 /dev/urandom >"$RND.tar.zst"
head -c $((gsize - 1000)) "$G" >"$TRC.tar.zst"
expect_exit "damaged: list before any verify" 0 "$FERRY" -c dmg.ini list
contains "damaged: an archive without a manifest is not counted" "$(grep "$(basename "$RND")" <<<"$OUT")" \
	"no manifest: not counted, kept"
expect_exit "damaged: verify --all exits 6" 6 "$FERRY" -c dmg.ini verify --all
expect_exit "damaged: list after verify" 0 "$FERRY" -c dmg.ini list
for d in "$D1" "$D2"; do
	contains "damaged: $(basename "$d") FAILED, not counted" "$(grep "$(basename "$d")" <<<"$OUT")" \
		"FAILED    verify failed: not counted, kept for inspection"
done
for d in "$RND" "$TRC"; do
	contains "damaged: $(basename "$d") (no manifest) FAILED, not counted" "$(grep "$(basename "$d")" <<<"$OUT")" \
		"FAILED    no manifest: not counted, kept"
done
contains "damaged: the good one holds keep_last" "$(grep "$GB" <<<"$OUT")" " keep_last"
expect_exit "damaged: list --json" 0 "$FERRY" -c dmg.ini list --json
if printf '%s' "$OUT" | python3 -c '
import json, sys
a = json.load(sys.stdin)
bad = [e for e in a if e["verify_error"]]
assert len(bad) == 4 and all(e["kept"] and not e["counted"] and e["group"] is None for e in bad), bad
'; then ok "damaged: list --json: failed ones kept, not counted, no group"; else notok "damaged: list --json: $OUT"; fi
expect_exit "damaged: prune -n" 0 "$FERRY" -c dmg.ini prune -n
lacks "damaged: prune -n would delete nothing (not the good one, not the damaged ones)" "$OUT" "would delete"
contains "damaged: prune -n names a failed one it keeps" "$OUT" "keep $(basename "$D1").tar.zst: verify failed: not counted, kept for inspection"
contains "damaged: prune -n counts them" "$OUT" "5 archives kept (4 not counted: named above), 0 would be deleted"
expect_exit "damaged: prune" 0 "$FERRY" -c dmg.ini prune
same "damaged: prune deleted nothing" "$(ls dmg | grep -c '\.tar\.zst$')" "5"
# restore --latest passes over the four that failed their verify
PSQL -c "DROP DATABASE IF EXISTS bk_dmg_back" >/dev/null
expect_exit "damaged: restore --latest takes the good one" 0 "$FERRY" -v -c dmg.ini restore --latest --db bk_shop=bk_dmg_back
contains "damaged: restore --latest names the good one" "$(grep -- '--latest: restoring' <<<"$ERR")" "$GB"
for d in "$D1" "$D2" "$RND" "$TRC"; do
	contains "damaged: restore --latest passes over $(basename "$d")" "$ERR" \
		"--latest: passing over $(basename "$d").tar.zst: its last verify failed"
done
PSQL -c "DROP DATABASE IF EXISTS bk_dmg_back" >/dev/null
# an archive whose manifest beside it was lost: not counted, until a verify
# that passes puts it back
rm -f "${G%.tar.zst}.manifest.json"
expect_exit "damaged: list without the good one's manifest" 0 "$FERRY" -c dmg.ini list
contains "damaged: without its manifest it is not counted" "$(grep "$GB" <<<"$OUT")" "no manifest: not counted, kept"
expect_exit "damaged: verify of it passes" 0 "$FERRY" -c dmg.ini verify "$GB"
same "damaged: the verify put its manifest back" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["status"])' "${G%.tar.zst}.manifest.json")" "ok"
expect_exit "damaged: list after that verify" 0 "$FERRY" -c dmg.ini list
contains "damaged: it is counted again" "$(grep "$GB" <<<"$OUT")" "yes       keep_last"
# a file verified outside the backup dir gets no record beside it
expect_exit "verify of a file elsewhere" 6 "$FERRY" -c dmg.ini verify random.tar.zst
same "no record beside a file elsewhere" "$(ls random.* )" "random.tar.zst"

# SIGTERM mid-backup: the partial file goes, the earlier archive stays
PSQL -d bk_shop -c "CREATE TABLE big AS SELECT i, md5(i::text) AS h, repeat('x', 200) AS pad FROM generate_series(1, 1500000) i" >/dev/null
sleep 1
# ~400 MB of table through a bounded pipeline (ASan builds carry shadow
# memory, so the budget is checked on the normal build only)
# The PostgreSQL tunnel's socket lives in a private directory under TMPDIR.
mkdir -p tmp
chmod 700 tmp
if TMPDIR=$PWD/tmp /usr/bin/time -f %M -o rss.txt "$FERRY" -c bk.ini backup >/dev/null 2>big.err; then
	ok "a 400 MB backup"
else
	notok "a 400 MB backup: $(grep -v '^Command exited' big.err | head -c 300)"
fi
same "tunnel socket and its directory gone after the backup" "$(ls -A tmp)" ""
rss=$(tail -n 1 rss.txt)
case "$FERRY" in
*asan*) skip "backup RSS under 64 MB: not measured under ASan (${rss} KB)" ;;
*) if [ "$rss" -lt 65536 ]; then ok "backup of 400 MB keeps RSS under 64 MB (${rss} KB)"; else notok "backup RSS ${rss} KB >= 64 MB"; fi ;;
esac
expect_exit "big archive verifies" 0 "$FERRY" -c bk.ini verify --latest
sum_before=$(sha256sum archives/*.tar.zst)
sleep 1
TMPDIR=$PWD/tmp "$FERRY" -c bk.ini backup >/dev/null 2>term.err &
pid=$!
# The partial archive is opened before the SSH session and the tunnel
# exist: wait for the tunnel's directory itself (a loaded ASan run took
# longer than a fixed pause).
for _ in $(seq 1 200); do
	ls archives | grep -q partial && ls -d tmp/ferry-* >/dev/null 2>&1 && break
	sleep 0.05
done
same "tunnel socket in a 0700 directory of its own" "$(stat -c %a tmp/ferry-* 2>&1)" "700"
kill -TERM $pid
set +e; wait $pid; st=$?; set -e
same "SIGTERM: killed by the signal" "$st" "143"
same "SIGTERM: partial file removed" "$(ls archives | grep -c partial || true)" "0"
same "SIGTERM: tunnel socket and its directory removed" "$(ls -A tmp)" ""
same "SIGTERM: earlier archives untouched" "$(sha256sum archives/*.tar.zst)" "$sum_before"
contains "SIGTERM: says so" "$(cat term.err)" "backup: interrupted by SIGTERM; nothing was published"
same "SIGTERM: the run is recorded as interrupted" \
	"$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["status"], r["exit"])' archives/.ferry-last-backup.json 2>&1)" "failed 143"
PSQL -d bk_shop -c "DROP TABLE big" >/dev/null
