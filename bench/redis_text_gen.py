#!/usr/bin/env python3
"""bench/redis_text_gen.py N: N keys of text-heavy application data as RESP
for `redis-cli --pipe`: JSON session and cache blobs (strings), user
profiles (hashes of short fields), message logs (lists of sentences),
seeded so every run is equal.  Redis compresses strings over 20 bytes
with LZF; keys, short fields and list entries packed in listpacks it
leaves as they are: this is the shape zstd on the server still shrinks."""
import json
import random
import sys

rnd = random.Random(20261130)
out = sys.stdout.buffer
WORDS = ("the a of and to in is was he she it that for on with as his her they at by "
         "from this had not but what all were when we there can an your which their said "
         "order cart session token user account invoice payment shipping address street "
         "market morning evening window garden promise storm village harbour lantern "
         "pending active expired premium basic admin editor viewer draft published").split()
POOL = [" ".join(rnd.choice(WORDS) for _ in range(rnd.randrange(6, 18))).capitalize() + "."
        for _ in range(3000)]


def cmd(*args):
    parts = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(parts)


def main():
    n = int(sys.argv[1])
    buf = []
    for i in range(n):
        kind = i % 4
        if kind < 2:
            blob = {"user": rnd.randrange(1, 100000), "cart": [
                {"sku": "SKU-%06d" % rnd.randrange(1000000), "qty": rnd.randrange(1, 5),
                 "note": rnd.choice(POOL)} for _ in range(rnd.randrange(1, 6))],
                "state": rnd.choice(WORDS[-10:]), "seen": 1700000000 + rnd.randrange(10 ** 7)}
            buf.append(cmd("SET", "session:%d" % i, json.dumps(blob)))
        elif kind == 2:
            fields = []
            for f in ("name", "email", "city", "plan", "bio", "street", "lang", "role"):
                fields += [f, rnd.choice(POOL)[:rnd.randrange(8, 60)]]
            buf.append(cmd("HSET", "user:%d" % i, *fields))
        else:
            buf.append(cmd("RPUSH", "log:%d" % i, *[rnd.choice(POOL) for _ in range(rnd.randrange(5, 25))]))
        if len(buf) == 1000:
            out.write(b"".join(buf))
            buf = []
    out.write(b"".join(buf))


main()
