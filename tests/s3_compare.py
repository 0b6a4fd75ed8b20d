#!/usr/bin/env python3
"""s3_compare.py AWS... -- SRC DST [KEY...]: compares objects of two buckets
with the aws CLI (not with ferry): for each key (default: every key of SRC),
`aws s3api get-object` from both buckets, then the bodies' SHA-256, the
stored headers and the user metadata must be equal, and the ETags too
unless one of them is a multipart ETag.  AWS... is the command that runs
the CLI (e.g. `aws --endpoint-url http://127.0.0.1:9000`); when this
Python has the CLI's own module, its commands run in this process (one
interpreter start instead of one per object).  Prints one line per
difference and exits 1 when there is any."""
import hashlib
import json
import os
import sys
import tempfile

from aws_batch import aws_run

HEADERS = ["ContentType", "CacheControl", "ContentEncoding",
           "ContentDisposition", "ContentLanguage", "Metadata",
           "ContentLength"]


def aws(cmd, *args):
    rc, out = aws_run(cmd + list(args))
    if rc:
        raise SystemExit(f"aws {' '.join(args)}: exit {rc}")
    return json.loads(out or "{}")


def keys(cmd, bucket):
    found, token = [], None
    while True:
        args = ["s3api", "list-objects-v2", "--bucket", bucket]
        if token:
            args += ["--continuation-token", token]
        page = aws(cmd, *args)
        found += [o["Key"] for o in page.get("Contents", [])]
        token = page.get("NextContinuationToken")
        if not token:
            return found


def fetch(cmd, bucket, key, tmp):
    path = os.path.join(tmp, "body")
    head = aws(cmd, "s3api", "get-object", "--bucket", bucket, "--key", key,
               path)
    with open(path, "rb") as f:
        head["sha256"] = hashlib.sha256(f.read()).hexdigest()
    return head


def main():
    sep = sys.argv.index("--")
    cmd, rest = sys.argv[1:sep], sys.argv[sep + 1:]
    src, dst, want = rest[0], rest[1], rest[2:]
    bad = 0
    src_keys = keys(cmd, src)
    dst_keys = keys(cmd, dst)
    if sorted(src_keys) != sorted(dst_keys):
        print(f"keys differ: only in {src}: "
              f"{sorted(set(src_keys) - set(dst_keys))[:5]}, only in {dst}: "
              f"{sorted(set(dst_keys) - set(src_keys))[:5]}")
        bad = 1
    with tempfile.TemporaryDirectory() as tmp:
        for key in want or src_keys:
            a, b = fetch(cmd, src, key, tmp), fetch(cmd, dst, key, tmp)
            for h in HEADERS + ["sha256"]:
                if a.get(h) != b.get(h):
                    print(f"{key!r}: {h} {a.get(h)!r} != {b.get(h)!r}")
                    bad = 1
            ea, eb = a.get("ETag", ""), b.get("ETag", "")
            if "-" not in ea + eb and ea != eb:
                print(f"{key!r}: ETag {ea} != {eb}")
                bad = 1
    print(f"compared {len(want or src_keys)} objects of {src} and {dst}")
    return bad


if __name__ == "__main__":
    sys.exit(main())
