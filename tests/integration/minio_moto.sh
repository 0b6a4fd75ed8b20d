# What s3rver cannot hold, against moto's S3 server (another independent
# S3 implementation; preinstalled with this machine image's Python, the
# suite is skipped where it is not): keys with "//", "." and ".." segments,
# a leading or trailing "/", a 1,024-byte single segment; and the bucket's
# policy, versioning, lifecycle, CORS and tags.  Behind the same
# signature-checking proxy, through ferry's SSH tunnel; checked with awscli.
# cost: 40 (seconds, roughly: tests/run starts the costliest first)
set -eu
. "$FERRY_SOURCE_ROOT/tests/lib.sh"
needs_sandbox "minio_moto"
if ! command -v moto_server >/dev/null || ! command -v aws >/dev/null; then
	skip "minio_moto: moto_server or awscli not installed"
	exit 0
fi
if [ ! -d "$FERRY_SOURCE_ROOT/tests/sandbox/node_modules/@smithy/signature-v4" ]; then
	skip "minio_moto: @smithy/signature-v4 not installed (npm ci in tests/sandbox)"
	exit 0
fi
cd "$SCRATCH"
NS() { ip netns exec "$SBX_NS" "$@"; }

MPORT=$(ns_free_port)
NS moto_server -H 127.0.0.1 -p "$MPORT" >moto.log 2>&1 &
MOTOPID=$!
PPORT=$(ns_free_port)
NS node "$FERRY_SOURCE_ROOT/tests/sandbox/sigv4_proxy.js" "$PPORT" "$MPORT" S3RVER S3RVER "$SCRATCH/proxy.log" &
PROXYPID=$!
trap 'kill $MOTOPID $PROXYPID 2>/dev/null || true' EXIT
if ! ns_wait_port "$MPORT" 300 || ! ns_wait_port "$PPORT" 300; then
	notok "minio_moto: moto_server did not start: $(tail -n 3 moto.log)"
	exit 0
fi
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1
# several commands in one interpreter (an aws start costs a second here)
RAWS() { NS env AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1 \
	python3 "$FERRY_SOURCE_ROOT/tests/aws_batch.py" --endpoint-url "http://127.0.0.1:$MPORT"; }
COMPARE() { NS env AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1 \
	python3 "$FERRY_SOURCE_ROOT/tests/s3_compare.py" aws --endpoint-url "http://127.0.0.1:$MPORT" -- "$@"; }

printf 'hello\n' >hello.txt
LONG=$(printf 'k%.0s' $(seq 1024))
# One interpreter for the setup's commands (an aws start costs a second).
{
	echo "s3 mb s3://weird"
	for k in "a//b" "x/../y" "x/./y" "/lead" "//two" "trail/" "../up" "." ".." "$LONG" "sp ace/+plus/%25/&amp"; do
		printf 's3api put-object --bucket weird --key %q --body hello.txt --content-type text/x-weird --metadata k=v\n' "$k"
	done
	cat <<'CMDS'
s3api put-bucket-versioning --bucket weird --versioning-configuration Status=Enabled
s3api put-bucket-tagging --bucket weird --tagging 'TagSet=[{Key=team,Value=dev}]'
s3api put-bucket-lifecycle-configuration --bucket weird --lifecycle-configuration '{"Rules":[{"ID":"tmp","Status":"Enabled","Filter":{"Prefix":"tmp/"},"Expiration":{"Days":30}}]}'
s3api put-bucket-policy --bucket weird --policy '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::weird/*"}]}'
s3api put-bucket-cors --bucket weird --cors-configuration '{"CORSRules":[{"AllowedOrigins":["https://dev.example.invalid"],"AllowedMethods":["GET"]}]}'
>count.txt s3api list-objects-v2 --bucket weird --query length(Contents)
CMDS
} | RAWS
same "the keys are in moto" "$(cat count.txt)" "11"

backup_conf mt.ini mt
printf '\n[minio]\nendpoint = http://127.0.0.1:%s\naccess_key = S3RVER\nsecret_key = S3RVER\nbuckets = weird\n' \
	"$PPORT" >>mt.ini
expect_exit "backup of awkward keys" 0 "$FERRY" -c mt.ini backup --only minio
contains "all eleven objects" "$OUT" "1 bucket, 11 objects"
A=$(ls archives/mt-*.tar.zst)
expect_exit "their member names pass verify" 0 "$FERRY" -c mt.ini verify "$A"
if python3 - "${A%.tar.zst}.manifest.json" <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))["components"]["minio"]["buckets"]["weird"]
assert b["config"] == {k: "saved" for k in ("policy", "versioning", "lifecycle", "cors", "tags")}, b["config"]
PY
then ok "all five bucket configurations saved"; else notok "all five bucket configurations saved"; fi
expect_exit "restore into another bucket" 0 "$FERRY" -c mt.ini restore --latest --only minio --bucket weird=weird-copy
contains "the configuration is restored" "$OUT" "config: policy, versioning, lifecycle, cors, tagging"
if COMPARE weird weird-copy >cmp.txt 2>&1; then ok "awscli: every awkward key back, byte-identical, same headers and metadata"
else notok "awscli: $(head -c 600 cmp.txt)"; fi
for c in versioning tagging lifecycle-configuration policy cors; do
	for b in weird weird-copy; do echo ">$c.$b s3api get-bucket-$c --bucket $b"; done
done | RAWS
for c in versioning tagging lifecycle-configuration policy cors; do
	if [ -s "$c.weird" ]; then same "awscli: bucket $c restored" "$(cat "$c.weird-copy")" "$(cat "$c.weird")"
	else notok "awscli: get-bucket-$c of the source printed nothing"; fi
done
same "every request's signature was checked and accepted" "$(grep -c '^REFUSED' proxy.log || true)" "0"
