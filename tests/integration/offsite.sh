# Off-site copies through a proxy that checks every SigV4 signature with
# AWS's own signer, in front of s3rver (both on this machine's loopback):
# multipart upload, listing, retention, download, encryption, and a
# cross-check with Debian's awscli.
# cost: 60 (seconds, roughly: tests/run starts the costliest first)
set -eu
. "$FERRY_SOURCE_ROOT/tests/lib.sh"
needs_sandbox "offsite"
SBXNODE="$FERRY_SOURCE_ROOT/tests/sandbox/node_modules"
if [ ! -f "$SBXNODE/s3rver/bin/s3rver.js" ] || [ ! -d "$SBXNODE/@smithy/signature-v4" ]; then
	skip "offsite: s3rver or @smithy/signature-v4 not installed (npm ci in tests/sandbox)"
	exit 0
fi
cd "$SCRATCH"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
S3PORT=$(free_port)
mkdir -p s3data
node "$SBXNODE/s3rver/bin/s3rver.js" -d s3data -a 127.0.0.1 -p "$S3PORT" --silent \
	--configure-bucket offsite >s3rver.log 2>&1 &
S3PID=$!
PROXYPID=""
start_proxy() { # [FAIL_MATCH [FAIL_ONCE]]
	[ -n "$PROXYPID" ] && kill "$PROXYPID" 2>/dev/null && wait "$PROXYPID" 2>/dev/null || true
	PPORT=$(free_port)
	: >proxy.log
	FAIL_MATCH="${1:-}" FAIL_ONCE="${2:-}" node "$FERRY_SOURCE_ROOT/tests/sandbox/sigv4_proxy.js" "$PPORT" "$S3PORT" \
		S3RVER S3RVER "$SCRATCH/proxy.log" &
	PROXYPID=$!
	for _ in $(seq 1 50); do
		(exec 3<>/dev/tcp/127.0.0.1/"$PPORT") 2>/dev/null && return 0
		sleep 0.1
	done
}
trap 'kill $S3PID $PROXYPID 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/"$S3PORT") 2>/dev/null && break; sleep 0.1; done
start_proxy
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1
AWS() { aws --endpoint-url "http://127.0.0.1:$PPORT" "$@"; }

PSQL() { ip netns exec "$SBX_NS" env PGPASSWORD="$SBX_PG_PASSWORD" PGOPTIONS="-c client_min_messages=warning" psql -qAtX -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 "$@"; }
PSQL -c "DROP DATABASE IF EXISTS off_db" -c "CREATE DATABASE off_db" >/dev/null
# ~20 MB of poorly compressible rows: the archive needs several 8 MiB parts
PSQL -d off_db -c "CREATE TABLE noise AS SELECT i, md5(random()::text) || md5(random()::text) || md5(random()::text) AS h FROM generate_series(1, 250000) i" >/dev/null

mkdir -p archives
mkconf() { # FILE PREFIX [extra lines...]
	local f=$1 prefix=$2
	shift 2
	awk '/^\[/ { keep = ($0 ~ /^\[(server|project|postgres)\]/) } keep' \
		"$SBX_DIR/ferry.ini" >"$f"
	sed -i 's/^\[postgres\]/[postgres]\ndatabases = off_db/' "$f"
	printf '\n[backup]\ndir = %s/archives/%s\nname = off\n' "$SCRATCH" "$prefix" >>"$f"
	printf '\n[offsite]\nurl = s3://offsite/team/%s\nendpoint = http://127.0.0.1:%s\naccess_key = S3RVER\nsecret_key = ${OFFSITE_SECRET:-S3RVER}\n' \
		"$prefix" "$PPORT" >>"$f"
	for l in "$@"; do echo "$l" >>"$f"; done
	chmod 600 "$f"
}

mkconf plain.ini plain
expect_exit "backup with an off-site copy" 0 "$FERRY" -c plain.ini backup
A=$(ls archives/plain/off-*.tar.zst)
B=$(basename "$A")
same "every request's signature checked and accepted" "$(grep -c '^REFUSED' proxy.log || true)" "0"
contains "multipart upload was used" "$(cat proxy.log)" "?uploads="
contains "the archive went in several parts" "$(cat proxy.log)" "partNumber=2&"
contains "the manifest was uploaded" "$(cat proxy.log)" "PUT /offsite/team/plain/${B%.tar.zst}.manifest.json"
AWS s3 cp "s3://offsite/team/plain/$B" awscopy.tar.zst --only-show-errors
same "awscli downloads the same bytes" "$(sha256sum <awscopy.tar.zst)" "$(sha256sum <"$A")"
contains "awscli lists archive and manifest" "$(AWS s3 ls s3://offsite/team/plain/)" "${B%.tar.zst}.manifest.json"
expect_exit "list --offsite" 0 "$FERRY" -c plain.ini list --offsite
contains "list --offsite shows it" "$OUT" "$B"
contains "list --offsite reads its manifest" "$OUT" "postgres:ok"
expect_exit "verify --offsite --latest" 0 "$FERRY" -c plain.ini verify --offsite --latest
contains "verify --offsite checked the members" "$OUT" "ok $B"
expect_exit "verify --offsite NAME-STAMP (as restore reads it)" 0 "$FERRY" -c plain.ini verify --offsite "${B%.tar.zst}"
contains "verify --offsite NAME-STAMP: that archive" "$OUT" "ok $B"
expect_exit "verify --offsite of no such archive: exit 1" 1 "$FERRY" -c plain.ini verify --offsite plain-20000101T000000Z
contains "verify --offsite of no such archive: says so" "$ERR" "plain-20000101T000000Z: no such archive off-site"

# retention off-site
mkconf keep1.ini plain "keep_last = 1" "keep_daily = 0" "keep_weekly = 0" "keep_monthly = 0"
sleep 1
expect_exit "second backup" 0 "$FERRY" -c keep1.ini backup
same "two copies off-site" "$(AWS s3 ls s3://offsite/team/plain/ | grep -c '\.tar\.zst$')" "2"
expect_exit "prune --dry-run (local and off-site)" 0 "$FERRY" -c keep1.ini prune --dry-run
contains "dry run names the off-site deletion" "$OUT" "would delete s3://offsite/team/plain/$B"
same "dry run deletes nothing off-site" "$(AWS s3 ls s3://offsite/team/plain/ | grep -c '\.tar\.zst$')" "2"
expect_exit "prune (local and off-site)" 0 "$FERRY" -c keep1.ini prune
same "off-site retention applied" "$(AWS s3 ls s3://offsite/team/plain/ | grep -c '\.tar\.zst$')" "1"
lacks "the older copy and its manifest are gone" "$(AWS s3 ls s3://offsite/team/plain/)" "${B%.tar.zst}"
same "no refused requests" "$(grep -c '^REFUSED' proxy.log || true)" "0"

# a wrong secret: refused by signature, local archive kept, exit 3
OFFSITE_SECRET=wrong expect_exit "wrong secret key: exit 3" 3 "$FERRY" -c plain.ini backup
contains "wrong secret: S3's refusal shown" "$ERR" "SignatureDoesNotMatch"
contains "wrong secret: the local archive is named" "$ERR" "written, but the off-site copy failed"

# a part refused mid-upload: the upload is aborted, nothing is left
start_proxy 'PUT .*partNumber=2&'
mkconf abort.ini abort
expect_exit "failed part: backup fails" 3 "$FERRY" -c abort.ini backup
contains "failed part: the upload was aborted" "$(cat proxy.log)" "OK DELETE /offsite/team/abort/"
same "failed part: no object left" "$(AWS s3 ls s3://offsite/team/abort/ 2>/dev/null | wc -l)" "0"
start_proxy
# ... and can be sent later: list says which are missing, push sends them
sed -i "s|^endpoint = .*|endpoint = http://127.0.0.1:$PPORT|" abort.ini
expect_exit "list after a failed upload" 0 "$FERRY" -c abort.ini list
contains "list has an OFFSITE column" "$OUT" "OFFSITE"
contains "the archive is marked missing off-site" "$(echo "$OUT" | grep 'off-')" " no "
expect_exit "offsite push --missing" 0 "$FERRY" -c abort.ini offsite push --missing
contains "push says what it sent" "$OUT" "1 archive sent"
same "push: each upload said once (stderr)" "$(grep -c '^ferry: uploaded ' <<<"$ERR")" 1
lacks "push: not again on stdout" "$OUT" "sent off-"
AB=$(basename "$(ls -t archives/abort/off-*.tar.zst | head -n 1)")
AWS s3 cp "s3://offsite/team/abort/$AB" pushed.tar.zst --only-show-errors
same "the pushed copy is byte-identical" "$(sha256sum <pushed.tar.zst)" "$(sha256sum <archives/abort/"$AB")"
expect_exit "list after the push" 0 "$FERRY" -c abort.ini list --json
contains "list --json: offsite true" "$OUT" '"offsite": true'
expect_exit "push --missing again sends nothing" 0 "$FERRY" -c abort.ini offsite push --missing
contains "nothing left to send" "$OUT" "0 archives sent"
expect_exit "push one by name" 0 "$FERRY" -c abort.ini offsite push "$AB"
same "push by name: said once" "$(printf '%s\n%s\n' "$OUT" "$ERR" | grep -c "$AB")" 1
expect_exit "push of an unknown name: exit 1" 1 "$FERRY" -c abort.ini offsite push no-such-archive
expect_exit "push without an argument: exit 2" 2 "$FERRY" -c abort.ini offsite push
# a local archive known damaged (its last verify failed) is not sent
BADL=off-$(date -u -d "@$(($(date +%s) + 120))" +%Y%m%dT%H%M%SZ)
cp "archives/abort/$AB" "archives/abort/$BADL.tar.zst"
python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); m["verify_error"]="damaged"; json.dump(m, open(sys.argv[2], "w"))' \
	"archives/abort/${AB%.tar.zst}.manifest.json" "archives/abort/$BADL.manifest.json"
expect_exit "push --missing with a damaged archive" 0 "$FERRY" -c abort.ini offsite push --missing
contains "the damaged archive is named, not sent" "$ERR" "not sent: $BADL.tar.zst: its last verify failed"
contains "push counts it" "$OUT" "0 archives sent, 1 already off-site, 1 not sent (named above)"
lacks "it is not off-site" "$(AWS s3 ls s3://offsite/team/abort/)" "$BADL"
rm -f "archives/abort/$BADL.tar.zst" "archives/abort/$BADL.manifest.json"

# a part answered 503 once is retried, and the upload completes
start_proxy "" 'PUT .*partNumber=2&'
mkconf retry.ini retry
expect_exit "a 503 on a part: retried, backup succeeds" 0 "$FERRY" -c retry.ini backup
contains "the part failed once" "$(cat proxy.log)" "FAILED-ONCE PUT /offsite/team/retry/"
same "then it went through" "$(grep -c 'OK PUT /offsite/team/retry/.*partNumber=2&' proxy.log)" "1"
R=$(basename "$(ls archives/retry/off-*.tar.zst)")
AWS s3 cp "s3://offsite/team/retry/$R" retry.tar.zst --only-show-errors
same "the retried upload is byte-identical" "$(sha256sum <retry.tar.zst)" "$(sha256sum <archives/retry/"$R")"
start_proxy

# a partial backup goes off-site too, marked partial there, and never makes
# off-site retention drop the complete copy
mkconf partok.ini part "keep_last = 1" "keep_daily = 0" "keep_weekly = 0" "keep_monthly = 0"
expect_exit "complete backup before the partial one" 0 "$FERRY" -c partok.ini backup
mkconf part.ini part "keep_last = 1" "keep_daily = 0" "keep_weekly = 0" "keep_monthly = 0" \
	"[redis]" "password = wrong-$RANDOM"
sleep 1
expect_exit "partial backup: exit 5" 5 "$FERRY" -c part.ini backup
P=$(basename "$(ls -t archives/part/off-*.tar.zst | head -n 1)")
same "the partial archive is off-site too" "$(AWS s3 ls s3://offsite/team/part/ | grep -c '\.tar\.zst$')" "2"
expect_exit "list --offsite after the partial backup" 0 "$FERRY" -c part.ini list --offsite
contains "list --offsite marks it partial" "$(echo "$OUT" | grep "$P")" " partial "
contains "list --offsite names the failed component" "$(echo "$OUT" | grep "$P")" "redis:failed"
expect_exit "prune after the partial backup" 0 "$FERRY" -c part.ini prune
same "off-site prune keeps the complete copy and the partial one" "$(AWS s3 ls s3://offsite/team/part/ | grep -c '\.tar\.zst$')" "2"

# off-site retention per group: --only runs never push a full copy out
mkconf grp.ini grp "keep_last = 2" "keep_daily = 3" \
	"[redis]" 'password = ${SBX_REDIS_PASSWORD}' "[files]" "paths = /etc/hostname"
groups_backups grp.ini 'archives/grp/off-*.tar.zst'
expect_exit "groups: list --offsite" 0 "$FERRY" -c grp.ini list --offsite
lacks "groups: list --offsite keeps the full copy" "$(grep "$FULL" <<<"$OUT")" "deleted by the next prune"
contains "groups: list --offsite names its group" "$(grep "$FULL" <<<"$OUT")" "files,postgres,redis: keep_last"
expect_exit "groups: prune -n" 0 "$FERRY" -c grp.ini prune -n
lacks "groups: prune -n would not delete the full copy" "$OUT" "$FULL"
expect_exit "groups: prune" 0 "$FERRY" -c grp.ini prune
contains "groups: the full copy stays off-site" "$(AWS s3 ls s3://offsite/team/grp/)" "$FULL"
PSQL -c "DROP DATABASE IF EXISTS off_db_grp" >/dev/null
expect_exit "groups: restore --offsite --latest --only postgres" 0 \
	"$FERRY" -c grp.ini restore --offsite --latest --only postgres --db off_db=off_db_grp
same "groups: the rows are back" "$(PSQL -d off_db_grp -c "SELECT count(*) FROM noise")" "250000"
PSQL -c "DROP DATABASE IF EXISTS off_db_grp" >/dev/null

# off-site copies not known good fill no slot and are never deleted: two
# damaged copies whose manifests record the failed verify, and an archive
# without a manifest (an upload cut off before it), all newer than the
# good one
mkconf dmg.ini dmg "keep_last = 1" "keep_daily = 1" "keep_weekly = 0" "keep_monthly = 0"
new_second
expect_exit "damaged: a good backup" 0 "$FERRY" -c dmg.ini backup
G=$(ls archives/dmg/off-*.tar.zst)
GB=$(basename "$G")
head -c 300000 "$G" >dmg.part
for k in 1 2 3; do
	d=off-$(date -u -d "@$(($(date +%s) + k * 60))" +%Y%m%dT%H%M%SZ)
	AWS s3 cp dmg.part "s3://offsite/team/dmg/$d.tar.zst" --only-show-errors
	if [ $k -lt 3 ]; then
		python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); m["verify_error"]="damaged"; print(json.dumps(m))' \
			"${G%.tar.zst}.manifest.json" >dmg.json
		AWS s3 cp dmg.json "s3://offsite/team/dmg/$d.manifest.json" --only-show-errors
		BAD=$d
	fi
done
RND=$d
expect_exit "damaged: list --offsite" 0 "$FERRY" -c dmg.ini list --offsite
contains "damaged: a failed copy is not counted" "$(grep "$BAD" <<<"$OUT")" \
	"FAILED    verify failed: not counted, kept for inspection"
contains "damaged: a copy without a manifest is not counted" "$(grep "$RND" <<<"$OUT")" \
	"no manifest: not counted, kept"
contains "damaged: the good copy holds keep_last" "$(grep "$GB" <<<"$OUT")" " keep_last"
expect_exit "damaged: prune -n" 0 "$FERRY" -c dmg.ini prune -n
lacks "damaged: prune -n would delete nothing off-site" "$OUT" "would delete"
contains "damaged: prune -n counts them" "$OUT" "offsite: 4 kept (3 not counted: named above), 0 would be deleted"
expect_exit "damaged: prune" 0 "$FERRY" -c dmg.ini prune
same "damaged: nothing deleted off-site" "$(AWS s3 ls s3://offsite/team/dmg/ | grep -c '\.tar\.zst$')" "4"

# verify --offsite records what it found in the copy's off-site manifest,
# as verify does beside a local archive: a copy found damaged there holds
# no keep_* slot and is passed over by restore --offsite --latest, so the
# older good copy is neither pruned nor skipped
mkconf mark.ini mark "keep_last = 1" "keep_daily = 0" "keep_weekly = 0" "keep_monthly = 0"
new_second
expect_exit "marked: the older backup" 0 "$FERRY" -c mark.ini backup
M1=$(basename "$(ls archives/mark/off-*.tar.zst)")
new_second
expect_exit "marked: the newer backup" 0 "$FERRY" -c mark.ini backup
M2=$(basename "$(ls -t archives/mark/off-*.tar.zst | head -n 1)")
python3 - "archives/mark/$M2" mark.bad <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read()); b[len(b) // 2] ^= 0x55
open(sys.argv[2], "wb").write(b)
PY
AWS s3 cp mark.bad "s3://offsite/team/mark/$M2" --only-show-errors
expect_exit "marked: verify --offsite of the good copy" 0 "$FERRY" -c mark.ini verify --offsite "$M1"
expect_exit "marked: verify --offsite of the damaged copy: exit 6" 6 "$FERRY" -c mark.ini verify --offsite "$M2"
expect_exit "marked: list --offsite" 0 "$FERRY" -c mark.ini list --offsite
contains "marked: the damaged copy is shown failed, not counted" "$(grep "$M2" <<<"$OUT")" \
	"FAILED    verify failed: not counted, kept for inspection"
contains "marked: the good copy is shown verified, holding keep_last" "$(grep "$M1" <<<"$OUT")" "yes       keep_last"
PSQL -c "DROP DATABASE IF EXISTS off_db_mark" >/dev/null
expect_exit "marked: restore --offsite --latest" 0 "$FERRY" -v -c mark.ini restore --offsite --latest --db off_db=off_db_mark
contains "marked: restore --offsite --latest passes over the damaged copy" "$ERR" "passing over $M2"
expect_exit "marked: --latest for a database no copy holds, damaged ones included: exit 2" 2 \
	"$FERRY" -c mark.ini restore --offsite --latest --db no_such_db=x
contains "marked: says no copy holds it" "$ERR" "no archive off-site holds what is asked for"
PSQL -c "DROP DATABASE IF EXISTS off_db_mark" >/dev/null
# With the copy's manifest beside it off-site, verify --offsite names the
# damaged member as it reads it: random bytes decode without complaint
# (zstd stores them as they are) until the frame's checksum at the end.
ip netns exec "$SBX_NS" runuser -u "$SBX_USER" -- sh -c \
	"cd '$SBX_REMOTE_DIR' && head -c 3000000 /dev/urandom >off-rand-a.bin && head -c 3000000 /dev/urandom >off-rand-b.bin"
mkconf vr.ini vr "[files]" "paths = off-rand-a.bin, off-rand-b.bin"
expect_exit "random bytes: backup with an off-site copy" 0 "$FERRY" -c vr.ini backup --only files
VR=$(basename "$(ls archives/vr/off-*.tar.zst)")
python3 - "archives/vr/$VR" vr.bad <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read()); at = len(b) // 4
for i in range(at, at + 10):
    b[i] ^= 0x55
open(sys.argv[2], "wb").write(b)
PY
AWS s3 cp vr.bad "s3://offsite/team/vr/$VR" --only-show-errors
expect_exit "random bytes: verify --offsite of the damaged copy: exit 6" 6 "$FERRY" -c vr.ini verify --offsite "$VR"
contains "random bytes: verify --offsite names the member that holds the damage" "$ERR" "member 'files/off-rand-a.bin' "
ip netns exec "$SBX_NS" rm -f "$SBX_REMOTE_DIR/off-rand-a.bin" "$SBX_REMOTE_DIR/off-rand-b.bin"
expect_exit "marked: prune" 0 "$FERRY" -c mark.ini prune
contains "marked: prune keeps the good copy off-site" "$(AWS s3 ls s3://offsite/team/mark/)" "$M1"

# encrypted copies
head -c 32 /dev/urandom >offsite.key
mkconf enc.ini enc "encrypt_key_file = $SCRATCH/offsite.key"
sed -i "s/^endpoint = .*/endpoint = http:\/\/127.0.0.1:$PPORT/" enc.ini plain.ini
expect_exit "encrypted backup" 0 "$FERRY" -c enc.ini backup
E=$(basename "$(ls archives/enc/off-*.tar.zst)")
contains "encrypted objects are .enc" "$(AWS s3 ls s3://offsite/team/enc/)" "$E.enc"
AWS s3 cp "s3://offsite/team/enc/$E.enc" enc.bin --only-show-errors
if zstd -t -q enc.bin 2>/dev/null; then notok "the off-site bytes are not a readable archive"; else ok "the off-site bytes are not a readable archive"; fi
AWS s3 cp "s3://offsite/team/enc/${E%.tar.zst}.manifest.json.enc" encm.bin --only-show-errors
lacks "the off-site manifest is encrypted too" "$(cat encm.bin | tr -d '\0')" "off_db"
expect_exit "encrypted: verify --offsite decrypts" 0 "$FERRY" -c enc.ini verify --offsite --latest
expect_exit "encrypted: list --offsite reads the manifest" 0 "$FERRY" -c enc.ini list --offsite
contains "encrypted: components shown" "$OUT" "postgres:ok"
# restore straight from the off-site copy (streamed, decrypted, checked)
PSQL -c "DROP DATABASE IF EXISTS off_db_back" >/dev/null
expect_exit "restore --offsite --latest (encrypted)" 0 "$FERRY" -c enc.ini restore --offsite --latest --db off_db=off_db_back
contains "restore --offsite reports the rows" "$OUT" "250000 rows"
same "restore --offsite: the rows are back" "$(PSQL -d off_db_back -c "SELECT count(*), md5(string_agg(h, ',' ORDER BY i)) FROM noise")" \
	"$(PSQL -d off_db -c "SELECT count(*), md5(string_agg(h, ',' ORDER BY i)) FROM noise")"
expect_exit "restore --offsite --latest --clean (plain)" 0 "$FERRY" -c plain.ini restore --offsite --latest --db off_db=off_db_back --clean
PSQL -c "DROP DATABASE off_db_back" >/dev/null
head -c 32 /dev/urandom >other.key
sed "s|$SCRATCH/offsite.key|$SCRATCH/other.key|" enc.ini >wrongkey.ini
chmod 600 wrongkey.ini
expect_exit "encrypted: wrong key exits 6" 6 "$FERRY" -c wrongkey.ini verify --offsite --latest
contains "encrypted: says why" "$ERR" "failed authentication"
python3 - enc.bin <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read()); b[len(b) // 2] ^= 1
open(sys.argv[1] + ".bad", "wb").write(b)
PY
AWS s3 cp enc.bin.bad "s3://offsite/team/enc/$E.enc" --only-show-errors
expect_exit "encrypted: a flipped bit exits 6" 6 "$FERRY" -c enc.ini verify --offsite --latest
contains "encrypted: the damage names the archive" "$ERR" "$E"
expect_exit "encrypted: list --offsite after the damage" 0 "$FERRY" -c enc.ini list --offsite
contains "encrypted: the sealed manifest records the failed verify" "$(grep "$E" <<<"$OUT")" "FAILED"
expect_exit "encrypted: restore of the damaged copy exits 6" 6 "$FERRY" -c enc.ini restore "$E" --offsite --db off_db=off_db_dmg
contains "encrypted: restore's damage names the archive" "$ERR" "$E"
same "encrypted: restore of the damaged copy leaves no database" "$(PSQL -c "SELECT count(*) FROM pg_database WHERE datname = 'off_db_dmg'")" "0"
head -c 1000000 enc.bin >enc.trunc
AWS s3 cp enc.trunc "s3://offsite/team/enc/$E.enc" --only-show-errors
expect_exit "encrypted: truncation exits 6" 6 "$FERRY" -c enc.ini verify --offsite --latest
same "no refused requests at the end" "$(grep -c '^REFUSED' proxy.log || true)" "0"
PSQL -c "DROP DATABASE off_db" >/dev/null
