# The minio component against s3rver behind the proxy that checks every
# SigV4 signature with AWS's own signer, both inside the sandbox's network
# namespace and reached through ferry's SSH tunnel: awkward keys, stored
# headers and user metadata, big objects, thousands of small ones, bucket
# configuration, restore into other buckets (checked with awscli, not with
# ferry), refusal of a non-empty bucket, --clean, a damaged archive, a
# wrong key (exit 5, postgres intact; with --fail-fast nothing published),
# an ETag that lies, a retried 503, a download cut midway, answers that
# are final (501: asked once), a silent store (each try ends after
# connect_timeout, here and off-site), a reply that trickles or stops,
# buckets = all.
# cost: 170 (seconds, roughly: tests/run starts the costliest first)
set -eu
. "$FERRY_SOURCE_ROOT/tests/lib.sh"
needs_sandbox "minio"
SBXNODE="$FERRY_SOURCE_ROOT/tests/sandbox/node_modules"
if [ ! -f "$SBXNODE/s3rver/bin/s3rver.js" ] || [ ! -d "$SBXNODE/@smithy/signature-v4" ]; then
	skip "minio: s3rver or @smithy/signature-v4 not installed (npm ci in tests/sandbox)"
	exit 0
fi
if ! command -v aws >/dev/null; then
	skip "minio: awscli not installed (scripts/deps)"
	exit 0
fi
cd "$SCRATCH"
NS() { ip netns exec "$SBX_NS" "$@"; }

S3PORT=$(ns_free_port)
mkdir -p s3data
NS node --openssl-legacy-provider "$SBXNODE/s3rver/bin/s3rver.js" -d "$SCRATCH/s3data" \
	-a 127.0.0.1 -p "$S3PORT" --silent >s3rver.log 2>&1 &
S3PID=$!
PROXYPID=""
start_proxy() { # [FAIL_MATCH [FAIL_ONCE [FAIL_MIDWAY]]]
	[ -n "$PROXYPID" ] && kill "$PROXYPID" 2>/dev/null && wait "$PROXYPID" 2>/dev/null || true
	PPORT=$(ns_free_port)
	: >proxy.log
	# not through NS(): $! is then node's own pid (kill -STOP reaches it)
	ip netns exec "$SBX_NS" env FAIL_MATCH="${1:-}" FAIL_ONCE="${2:-}" FAIL_MIDWAY="${3:-}" node "$FERRY_SOURCE_ROOT/tests/sandbox/sigv4_proxy.js" \
		"$PPORT" "$S3PORT" S3RVER S3RVER "$SCRATCH/proxy.log" &
	PROXYPID=$!
	ns_wait_port "$PPORT"
}
FAKEPID=""
BHPID=""
# a stopped proxy gets the TERM only once it runs again
trap 'kill -CONT $PROXYPID 2>/dev/null; kill $S3PID $PROXYPID $FAKEPID $BHPID 2>/dev/null || true' EXIT
ns_wait_port "$S3PORT"
start_proxy
# Setting up data and reading it back for the checks go to s3rver itself:
# the proxy is there to check ferry's signatures.
RAW() { NS env AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1 \
	aws --endpoint-url "http://127.0.0.1:$S3PORT" "$@"; }
COMPARE() { NS env AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1 \
	python3 "$FERRY_SOURCE_ROOT/tests/s3_compare.py" aws --endpoint-url "http://127.0.0.1:$S3PORT" -- "$@"; }
PSQL() { NS env PGPASSWORD="$SBX_PG_PASSWORD" PGOPTIONS="-c client_min_messages=warning" psql -qAtX -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 "$@"; }
RAWS() { NS env AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1 \
	python3 "$FERRY_SOURCE_ROOT/tests/aws_batch.py" --endpoint-url "http://127.0.0.1:$S3PORT"; }

# ---- the data ----------------------------------------------------------------
PSQL -c "DROP DATABASE IF EXISTS mn_pg" -c "DROP DATABASE IF EXISTS mn_pg_back" -c "CREATE DATABASE mn_pg" >/dev/null
PSQL -d mn_pg -c "CREATE TABLE t AS SELECT i, md5(i::text) AS h FROM generate_series(1, 1000) i" >/dev/null

printf 'hello\n' >hello.txt
printf '{"a": 1}\n' | gzip -9n >json.gz
: >empty
head -c 20000000 /dev/urandom >20mb.bin
head -c 68000000 /dev/urandom >68mb.bin
# 1,024 bytes in segments s3rver can store (its files are named after them)
LONG=$(python3 -c 'print("/".join(["L" * 204] * 5))')
# One interpreter for the setup's commands (an aws start costs a second).
# Several members: staged in a file, one PUT; above 64 MiB: multipart.
RAWS <<EOF >/dev/null
s3 mb s3://media
s3 mb s3://big
s3 mb s3://many
s3api put-object --bucket media --key "a b.txt" --body hello.txt --content-type "text/plain; charset=utf-8" --cache-control "max-age=60, public" --metadata owner=ann,note="two words"
s3api put-object --bucket media --key "p+q=r&s.json" --body json.gz --content-type application/json --content-encoding gzip
s3api put-object --bucket media --key "100%.txt" --body hello.txt --content-disposition 'attachment; filename="x.txt"'
s3api put-object --bucket media --key "ünïcödé/日本語.txt" --body hello.txt --content-language de-DE --metadata "x-y=z"
s3api put-object --bucket media --key "dir/" --body empty
s3api put-object --bucket media --key "x.part-0000" --body hello.txt
s3api put-object --bucket media --key ".bucket/policy.json" --body hello.txt
s3api put-object --bucket media --key "$LONG" --body hello.txt
s3api put-object --bucket media --key "empty" --body empty
s3api put-object --bucket media --key "tilde~ and  two spaces" --body hello.txt
s3 cp 20mb.bin s3://big/20mb.bin --only-show-errors --content-type application/x-twenty --metadata size=20
s3 cp 68mb.bin s3://big/68mb.bin --only-show-errors --metadata size=68
s3api put-bucket-cors --bucket media --cors-configuration '{"CORSRules":[{"AllowedOrigins":["https://dev.example.invalid"],"AllowedMethods":["GET","PUT"],"MaxAgeSeconds":300}]}'
EOF
# 1,100 small objects (more than one listing page), written straight into
# s3rver's store (KEY._S3rver_object, .md5, _metadata.json) rather than
# through 1,100 requests: they are only ever read back through S3.
python3 - "$SCRATCH/s3data/many" <<'PY'
import hashlib, json, os, sys
for i in range(1100):
    d = os.path.join(sys.argv[1], "d%02d" % (i % 20))
    os.makedirs(d, exist_ok=True)
    body = os.urandom(50 + i % 500)
    base = os.path.join(d, "o%05d._S3rver_" % i)
    with open(base + "object", "wb") as f:
        f.write(body)
    with open(base + "object.md5", "w") as f:
        f.write(hashlib.md5(body).hexdigest())
    with open(base + "metadata.json", "w") as f:
        json.dump({"content-type": "application/octet-stream"}, f)
PY
same "the test data is in s3rver" "$(RAW s3 ls s3://many --recursive | wc -l)" "1100"

mkconf() { # FILE NAME BUCKETS
	backup_conf "$1" "$2" "databases = mn_pg"
	printf '\n[minio]\nendpoint = http://127.0.0.1:%s\naccess_key = S3RVER\nsecret_key = ${MN_SECRET:-S3RVER}\nbuckets = %s\n' \
		"$PPORT" "$3" >>"$1"
}
mkconf mn.ini mn "media, big, many"

# ---- backup --------------------------------------------------------------------
# without [project]: the compose row wants a Docker engine, not started here
awk '/^\[/ { keep = ($0 != "[project]") } keep' mn.ini >mncheck.ini && chmod 600 mncheck.ini
expect_exit "check: the s3 row answers" 0 "$FERRY" -c mncheck.ini check
contains "check: s3 ok" "$OUT" "$(printf '%-11s ok' s3)"
expect_exit "backup of postgres and minio" 0 "$FERRY" -c mn.ini backup
contains "one line for postgres" "$OUT" "postgres  ok"
contains "one line for minio: what and how much" "$OUT" "minio     ok, 3 buckets, 1112 objects"
same "every request's signature was checked and accepted" "$(grep -c '^REFUSED' proxy.log || true)" "0"
# s3rver answers NotImplemented for ?lifecycle and ?tagging: its answer, not
# a failure another try could mend
same "a 501 is final: ?lifecycle asked once per bucket" "$(grep -c '^OK GET /media?lifecycle=' proxy.log || true)" "1"
same "a 501 is final: ?tagging asked once per bucket" "$(grep -c '^OK GET /many?tagging=' proxy.log || true)" "1"
A=$(ls archives/mn-*.tar.zst)
expect_exit "the archive verifies" 0 "$FERRY" -c mn.ini verify "$A"
tar --zstd -tf "$A" >members.txt
for m in "minio/media/.bucket/cors.json" "minio/media/%2Ebucket/policy.json" \
	 "minio/media/x%2Epart-0000" "minio/media/dir%2F" "minio/media/100%25.txt" \
	 "minio/media/ünïcödé/日本語.txt" "minio/big/68mb.bin.part-0000" \
	 "minio/many/d07/o00007"; do
	if grep -qxF "$m" members.txt; then ok "member $m"; else notok "member $m is missing"; fi
done
if python3 - "${A%.tar.zst}.manifest.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
c = m["components"]["minio"]
b = c["buckets"]["media"]
o = {x["key"]: x for x in b["objects"]}
a = o["a b.txt"]
assert a["metadata"] == {"owner": "ann", "note": "two words"}, a
assert a["content_type"] == "text/plain; charset=utf-8" and a["cache_control"] == "max-age=60, public", a
assert a["size"] == 6 and a["etag"] == '"b1946ac92492d2347c6235b4d2611184"' and a["last_modified"], a
assert o["p+q=r&s.json"]["content_encoding"] == "gzip", o["p+q=r&s.json"]
assert o["100%.txt"]["content_disposition"] == 'attachment; filename="x.txt"'
assert o["ünïcödé/日本語.txt"]["content_language"] == "de-DE"
assert b["config"]["cors"] == "saved", b["config"]
for k in ("policy", "versioning", "lifecycle", "tags"):
    assert b["config"][k].startswith("not supported by the server"), b["config"]
assert b["object_count"] == 10 and c["buckets"]["many"]["object_count"] == 1100
assert [x["size"] for x in c["buckets"]["big"]["objects"] if x["key"] == "68mb.bin"] == [68000000]
assert m["components"]["postgres"]["status"] == "ok" and c["status"] == "ok"
PY
then ok "manifest: keys, headers, metadata, ETags, config notes"; else notok "manifest: keys, headers, metadata, ETags, config notes"; fi

# ---- restore into other buckets ----------------------------------------------
expect_exit "restore --only minio into other buckets" 0 "$FERRY" -c mn.ini restore --latest --only minio \
	--bucket media=media-copy --bucket big=big-copy --bucket many=many-copy
contains "restore reports the bucket" "$OUT" "minio media -> media-copy: 10 objects"
contains "restore reports the config" "$OUT" "config: cors"
if COMPARE media media-copy >cmp.txt 2>&1; then ok "awscli: every object byte-identical, same headers, metadata and ETag"
else notok "awscli: objects differ: $(head -c 600 cmp.txt)"; fi
if COMPARE big big-copy >cmp.txt 2>&1; then ok "awscli: big objects byte-identical, same headers"
else notok "awscli: big objects differ: $(head -c 600 cmp.txt)"; fi
if COMPARE many many-copy d00/o00000 d19/o01099 d10/o01010 >cmp.txt 2>&1; then ok "awscli: 1,100 small objects: same keys, samples identical"
else notok "awscli: small objects differ: $(head -c 600 cmp.txt)"; fi
RAWS <<'CMDS'
>etags.copy s3api list-objects-v2 --bucket many-copy --query Contents[].[Key,ETag,Size] --output text
>etags.src s3api list-objects-v2 --bucket many --query Contents[].[Key,ETag,Size] --output text
>cors.copy s3api get-bucket-cors --bucket media-copy
>cors.src s3api get-bucket-cors --bucket media
CMDS
same "awscli: the small objects listed" "$(wc -l <etags.src)" 1100
same "awscli: every ETag of the small objects equal" "$(sort etags.copy)" "$(sort etags.src)"
contains "awscli: the source's CORS read" "$(cat cors.src)" "dev.example.invalid"
same "awscli: CORS restored" "$(cat cors.copy)" "$(cat cors.src)"
contains "the 68 MB object went multipart" "$(cat proxy.log)" "PUT /big-copy/68mb.bin?partNumber=2&uploadId="
contains "the 20 MB object went in one PUT" "$(cat proxy.log)" "OK PUT /big-copy/20mb.bin"
lacks "the 20 MB object went in one PUT, not in parts" "$(cat proxy.log)" "PUT /big-copy/20mb.bin?"
same "no refused request" "$(grep -c '^REFUSED' proxy.log || true)" "0"

# ---- a bucket that holds objects is refused; --clean empties it first ------------
writes() { grep -cE '^OK (PUT|POST|DELETE)' proxy.log || true; }
before=$(writes)
expect_exit "restore into a bucket that holds objects exits 1" 1 "$FERRY" -c mn.ini restore --latest --only minio --bucket media=media-copy
contains "the refusal says why and what to do" "$ERR" "bucket 'media-copy' already holds objects"
contains "the refusal says nothing was changed" "$ERR" "nothing was changed"
same "the refusal sent no write" "$(writes)" "$before"
RAW s3api put-object --bucket media-copy --key stray.txt --body hello.txt >/dev/null
expect_exit "restore --clean" 0 "$FERRY" -c mn.ini restore --latest --only minio --bucket media=media-copy --clean
if COMPARE media media-copy >cmp.txt 2>&1; then ok "--clean: the stray object is gone, the rest identical"
else notok "--clean: $(head -c 600 cmp.txt)"; fi

# ---- a damaged member: nothing of it is uploaded, the new bucket goes ------------
mkdir -p ex && tar --zstd -xf "$A" -C ex
# same size, one byte changed: only the member's SHA-256 can tell
printf 'J' | dd of="ex/minio/media/a b.txt" bs=1 count=1 conv=notrunc 2>/dev/null
(cd ex && tar --zstd -cf ../tampered.tar.zst -T ../members.txt)
cp "${A%.tar.zst}.manifest.json" tampered.manifest.json
: >proxy.log
expect_exit "restore of a damaged archive exits 6" 6 "$FERRY" -c mn.ini restore "$SCRATCH/tampered.tar.zst" \
	--only minio --bucket media=tamper-copy
contains "damage: the member is named" "$ERR" "a b.txt"
contains "damage: the created bucket is removed again" "$ERR" "removed again the buckets this restore created: tamper-copy"
lacks "damage: the damaged object was never sent" "$(cat proxy.log)" "PUT /tamper-copy/a%20b.txt"
if RAW s3api head-bucket --bucket tamper-copy >/dev/null 2>&1; then notok "damage: tamper-copy still exists"; else ok "damage: tamper-copy is gone"; fi

# ---- failures: exit 5, the other component intact ------------------------------
mkconf one.ini one "media"
MN_SECRET=wrong expect_exit "wrong S3 key: exit 5 (partial)" 5 "$FERRY" -c one.ini backup
contains "wrong key: one line for minio" "$OUT" "minio     FAILED after"
line=$(printf '%s\n' "$ERR" | grep 'minio' | head -n 1)
contains "wrong key: the error names the endpoint" "$line" "http://127.0.0.1:$PPORT"
contains "wrong key: the error names the bucket" "$line" "bucket 'media'"
contains "wrong key: the error names the 403" "$line" "HTTP 403"
lacks "wrong key: the failed bucket is not reported as landed" "$OUT" "landed: media"
P=$(ls archives/one-*.tar.zst)
if python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); c=m["components"]; assert m["status"]=="partial" and c["minio"]["status"]=="failed" and c["postgres"]["status"]=="ok"' "${P%.tar.zst}.manifest.json"
then ok "wrong key: published, minio failed, postgres ok"; else notok "wrong key: manifest statuses"; fi
expect_exit "wrong key: list shows it" 0 "$FERRY" -c one.ini list
contains "wrong key: list marks minio failed" "$OUT" "minio:failed"
expect_exit "wrong key: postgres restores from it" 0 "$FERRY" -c one.ini restore "$P" --only postgres --db mn_pg=mn_pg_back
SUM="SELECT count(*), md5(string_agg(h, ',' ORDER BY i)) FROM t"
same "wrong key: postgres rows intact" "$(PSQL -d mn_pg_back -c "$SUM")" "$(PSQL -d mn_pg -c "$SUM")"
expect_exit "--bucket naming the failed bucket is refused" 1 "$FERRY" -c one.ini restore "$P" --only minio --bucket media=x-failed
contains "the refusal says its backup failed" "$ERR" "bucket 'media' is not in the archive: its backup failed"
expect_exit "restoring the failed component: nothing landed, refused" 1 "$FERRY" -c one.ini restore "$P" --only minio
contains "the refusal says nothing landed" "$ERR" "nothing to restore"
if RAW s3api head-bucket --bucket x-failed >/dev/null 2>&1; then notok "the refusal created x-failed"; else ok "the refusal created no bucket"; fi
# a bucket that fails after one that landed: the report line names only
# the one that landed, and that one restores
new_second
mkconf two.ini two "media, no-such-bucket"
expect_exit "a missing bucket after a good one: exit 5 (partial)" 5 "$FERRY" -c two.ini backup --only minio
line=$(printf '%s\n' "$OUT" | grep '^minio ' || true)
contains "a missing bucket: the report line says it failed" "$line" "bucket 'no-such-bucket'"
contains "a missing bucket: the report line names the one that landed, alone" "$line" "(landed: media)"
P2=$(ls archives/two-*.tar.zst 2>/dev/null | head -n 1)
expect_exit "what landed restores" 0 "$FERRY" -c two.ini restore "$P2" --only minio --bucket media=media-two
contains "what landed restores: its objects" "$OUT" "minio media -> media-two: 10 objects"
expect_exit "--bucket naming the bucket that failed is refused" 1 "$FERRY" -c two.ini restore "$P2" --only minio --bucket no-such-bucket=x-failed
contains "a missing bucket: the refusal says its backup failed" "$ERR" "bucket 'no-such-bucket' is not in the archive: its backup failed"
# --fail-fast: the same failure stops the run and publishes nothing
ls archives >before.txt
new_second
MN_SECRET=wrong expect_exit "wrong S3 key with --fail-fast: exit 3, nothing published" 3 "$FERRY" -c one.ini backup --fail-fast
contains "--fail-fast: the error names the bucket and the 403" "$ERR" "bucket 'media'"
same "--fail-fast: no archive, no partial left behind" "$(ls archives)" "$(cat before.txt)"

# an object whose ETag is not its body's MD5 fails the component
new_second
md5f=$(find s3data/media -name 'x.part-0000._S3rver_object.md5')
cp "$md5f" md5.keep
printf '0123456789abcdef0123456789abcdef' >"$md5f"
expect_exit "an ETag that does not match the body: exit 5" 5 "$FERRY" -c one.ini backup
contains "the MD5 mismatch is named" "$ERR" "does not match its ETag"
cp md5.keep "$md5f"

# a 503 is retried
start_proxy "" 'GET /media/a%20b.txt'
mkconf retry.ini retry "media"
expect_exit "a 503 on a GET: retried, the backup succeeds" 0 "$FERRY" -c retry.ini backup --only minio
contains "the GET failed once" "$(cat proxy.log)" "FAILED-ONCE GET /media/a%20b.txt"
same "then went through" "$(grep -c '^OK GET /media/a%20b.txt' proxy.log)" "1"

# a download cut halfway resumes where it broke, and the bytes are whole
start_proxy "" "" 'GET /big/20mb.bin'
mkconf cut.ini cut "big"
expect_exit "a GET cut halfway: resumed, the backup succeeds" 0 "$FERRY" -c cut.ini backup --only minio
contains "the GET was cut" "$(cat proxy.log)" "CUT-MIDWAY GET /big/20mb.bin after 10000000 bytes"
contains "then resumed with a Range" "$(cat proxy.log)" "OK GET /big/20mb.bin (bytes="
C=$(ls archives/cut-*.tar.zst)
same "the resumed object is whole in the archive" \
	"$(tar --zstd -xOf "$C" $(tar --zstd -tf "$C" | grep '^minio/big/20mb.bin.part-' | sort) | sha256sum)" \
	"$(sha256sum <20mb.bin)"

# ---- silences ------------------------------------------------------------------
# A store that took the connection but never answers (the proxy stopped):
# each try ends after connect_timeout, not after keepalive x keepalive_count
# (45 s here: the four tries took three minutes).
start_proxy
mkconf dead.ini dead "media"
sed -i 's/^connect_timeout = .*/connect_timeout = 3s/' dead.ini
kill -STOP "$PROXYPID"
t0=$(date +%s)
expect_exit "a silent store: the backup fails, exit 3" 3 "$FERRY" -v -c dead.ini backup --only minio
took=$(( $(date +%s) - t0 ))
kill -CONT "$PROXYPID"
contains "a silent store: each try says no answer came" "$ERR" "no answer after 3.0 s of silence (try 3 of 4)"
contains "a silent store: the report line names the bucket" "$OUT" "minio     FAILED after"
if [ "$took" -lt 60 ]; then ok "a silent store: 4 tries of connect_timeout (${took}s)"
else notok "a silent store: took ${took}s, want about 4 x 3s"; fi

# offsite_at INI NAME BUCKETS PORTFILE: a config whose off-site store is
# the server of this machine that wrote its port to PORTFILE (waited for),
# with a 3 s connect_timeout
offsite_at() {
	for _ in $(seq 1 50); do [ -s "$4" ] && break; sleep 0.1; done
	mkconf "$1" "$2" "$3"
	sed -i 's/^connect_timeout = .*/connect_timeout = 3s/' "$1"
	printf '\n[offsite]\nurl = s3://offsite/%s\nendpoint = http://127.0.0.1:%s\naccess_key = S3RVER\nsecret_key = S3RVER\n' \
		"$2" "$(cat "$4")" >>"$1"
}

# Off-site the same: a store that never answers (a socket nobody accepts
# from, on this machine) ends the run after 4 tries of connect_timeout,
# the local archive kept.
python3 -c 'import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64)
print(s.getsockname()[1], flush=True); time.sleep(3600)' >bh.port &
BHPID=$!
offsite_at bh.ini bh "media" bh.port
t0=$(date +%s)
expect_exit "a silent off-site store: exit 3" 3 "$FERRY" -v -c bh.ini backup --only minio
took=$(( $(date +%s) - t0 ))
contains "a silent off-site store: the local archive is kept" "$ERR" "written, but the off-site copy failed"
contains "a silent off-site store: no answer, 4 tries" "$ERR" "uploads=: no answer after 3.0 s of silence (try 3 of 4)"
if [ "$(ls archives/bh-*.tar.zst 2>/dev/null | wc -l)" = 1 ]; then ok "a silent off-site store: the archive is there"
else notok "a silent off-site store: no local archive"; fi
if [ "$took" -lt 60 ]; then ok "a silent off-site store: 4 tries of connect_timeout (${took}s)"
else notok "a silent off-site store: took ${took}s, want about 4 x 3s"; fi
kill "$BHPID" 2>/dev/null || true

# ... and one that invites each part's body ("100 Continue") and then says
# nothing (s3rver paused in the middle of an upload): not an answer, so
# each try still ends after connect_timeout.
cat >cont.py <<'PY'
import socket, sys, threading, time
XML = (b'<?xml version="1.0" encoding="UTF-8"?><InitiateMultipartUploadResult>'
       b'<Bucket>offsite</Bucket><Key>k</Key><UploadId>u1</UploadId>'
       b'</InitiateMultipartUploadResult>')
def serve(c):
    try:
        head = b""
        while b"\r\n\r\n" not in head:
            d = c.recv(65536)
            if not d:
                return
            head += d
        first = head.split(b"\r\n", 1)[0]
        if first.startswith(b"POST") and b"uploads" in first:
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(XML), XML))
            time.sleep(3600)
        if b"100-continue" in head.lower():
            c.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            while c.recv(1 << 20):
                pass
        time.sleep(3600)
    except OSError:
        pass
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64)
print(s.getsockname()[1], flush=True)
while True:
    threading.Thread(target=serve, args=(s.accept()[0],), daemon=True).start()
PY
python3 cont.py >cont.port &
CONTPID=$!
offsite_at cont.ini cont "big" cont.port
t0=$(date +%s)
expect_exit "a store silent after 100 Continue: exit 3" 3 "$FERRY" -v -c cont.ini backup --only minio
took=$(( $(date +%s) - t0 ))
contains "a store silent after 100 Continue: no answer" "$ERR" "partNumber=1&uploadId=u1: no answer after 3.0 s of silence"
if [ "$took" -lt 90 ]; then ok "a store silent after 100 Continue: tries of connect_timeout (${took}s)"
else notok "a store silent after 100 Continue: took ${took}s, want about 8 x 3s"; fi
kill "$CONTPID" 2>/dev/null || true

# A reply that keeps moving may take longer than connect_timeout; one that
# stops midway counts as stalled after keepalive x keepalive_count.  A
# small server of our own: a listing that trickles for about 4.5 s, one that
# stops after 10 bytes, and 501 NotImplemented for everything else.
FAKEPORT=$(ns_free_port)
cat >fake_s3.py <<'PY'
import socket, sys, threading, time
port, logf = int(sys.argv[1]), sys.argv[2]
LIST = (b'<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>b</Name>'
        b'<KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>')
NOPE = b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>NotImplemented</Code></Error>'
def serve(c):
    try:
        while True:
            head = b""
            while b"\r\n\r\n" not in head:
                d = c.recv(65536)
                if not d:
                    return
                head += d
            line = head.split(b"\r\n", 1)[0].decode()
            with open(logf, "a") as f:
                f.write(line + "\n")
            path = line.split(" ")[1]
            if "list-type=2" in path:
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\n"
                          b"Content-Length: %d\r\n\r\n" % len(LIST))
                if path.startswith("/stall"):
                    c.sendall(LIST[:10])
                    time.sleep(3600)
                for i in range(0, len(LIST), 16):
                    c.sendall(LIST[i:i + 16])
                    if path.startswith("/trickle"):
                        time.sleep(0.5)
            else:
                c.sendall(b"HTTP/1.1 501 Not Implemented\r\nContent-Type: application/xml\r\n"
                          b"Content-Length: %d\r\n\r\n%s" % (len(NOPE), NOPE))
    except OSError:
        pass
    finally:
        c.close()
s = socket.socket()
s.bind(("127.0.0.1", port))
s.listen(64)
while True:
    threading.Thread(target=serve, args=(s.accept()[0],), daemon=True).start()
PY
: >fake.log
ip netns exec "$SBX_NS" python3 fake_s3.py "$FAKEPORT" "$SCRATCH/fake.log" &
FAKEPID=$!
ns_wait_port "$FAKEPORT"
mkconf trickle.ini trickle "trickle"
sed -i -e 's/^connect_timeout = .*/connect_timeout = 3s/' -e "s|^endpoint = .*|endpoint = http://127.0.0.1:$FAKEPORT|" trickle.ini
expect_exit "a listing that trickles for longer than connect_timeout: the backup succeeds" 0 \
	"$FERRY" -c trickle.ini backup --only minio
same "the trickling listing was asked once" "$(grep -c '^GET /trickle?.*list-type=2' fake.log || true)" "1"
same "a 501 is final: ?policy asked once" "$(grep -c '^GET /trickle?policy=' fake.log || true)" "1"
same "each of the five configurations asked once" "$(grep -c '^GET /trickle?[a-z]*= ' fake.log || true)" "5"
mkconf stall.ini stall "stall"
sed -i -e 's/^connect_timeout = .*/connect_timeout = 3s/' -e "s|^endpoint = .*|endpoint = http://127.0.0.1:$FAKEPORT|" \
	-e 's/^\[server\]/[server]\nkeepalive = 4s\nkeepalive_count = 1/' stall.ini
expect_exit "a listing that stops midway: the backup fails, exit 3" 3 "$FERRY" -v -c stall.ini backup --only minio
contains "a reply that stops is stalled after keepalive x keepalive_count" "$ERR" "the reply stopped after 4.0 s of silence (try 1 of 4)"
kill "$FAKEPID" 2>/dev/null || true

# buckets = all: every bucket ListBuckets names (the big ones go first, to
# keep this short), each with its objects
RAWS <<'CMDS'
s3 rb s3://big --force
s3 rb s3://big-copy --force
>buckets.txt s3api list-buckets --query Buckets[].Name --output text
>media-copy.n s3api list-objects-v2 --bucket media-copy --query length(Contents)
CMDS
start_proxy
mkconf all.ini all "all"
expect_exit "buckets = all: backup" 0 "$FERRY" -c all.ini backup --only minio
want=$(tr '\t' '\n' <buckets.txt | sort)
contains "buckets = all: the summary counts them" "$OUT" "$(printf '%s\n' "$want" | wc -l | tr -d ' ') buckets"
L=$(ls archives/all-*.tar.zst)
same "buckets = all: the manifest holds exactly the server's buckets" \
	"$(python3 -c 'import json,sys; print("\n".join(sorted(json.load(open(sys.argv[1]))["components"]["minio"]["buckets"])))' "${L%.tar.zst}.manifest.json")" \
	"$want"
same "buckets = all: media-copy's objects all in the archive" \
	"$(tar --zstd -tf "$L" | grep -c '^minio/media-copy/' || true)" "$(( $(cat media-copy.n) + 1 ))"

PSQL -c "DROP DATABASE IF EXISTS mn_pg" -c "DROP DATABASE IF EXISTS mn_pg_back" >/dev/null
