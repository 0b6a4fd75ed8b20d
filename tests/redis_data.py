#!/usr/bin/env python3
"""Test data for a Redis, as RESP for `redis-cli --pipe`: keys of every
type and encoding (strings, lists, sets as intset/listpack/hashtable,
sorted sets as listpack/skiplist with infinite scores, hashes as
listpack/hashtable, a stream with consumer groups and pending entries,
HyperLogLog, bitmap, geo), 10,000+ keys, TTLs in seconds and
milliseconds, a second database, binary key names and one value of
VALUE_MB megabytes of random bytes (default 50).

    redis_data.py [VALUE_MB] | redis-cli ... --pipe
"""
import os
import random
import sys

out = sys.stdout.buffer


def cmd(*args):
    parts = [b"*%d\r\n" % len(args)]
    for a in args:
        if not isinstance(a, bytes):
            a = str(a).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(a), a))
    out.write(b"".join(parts))


def main():
    mb = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    rnd = random.Random(13)
    for i in range(10000):
        cmd("SET", "s:%d" % i, "v" * rnd.randint(1, 200))
    cmd("SET", "int", 1234567)
    cmd("SET", "neg", -42)
    cmd("SET", "compressible", "abc" * 5000)
    cmd("SET", b"bin\x00key\xff", b"\x00\x01\x02value\r\n")
    cmd("SET", "ünïcødé", "välue")
    cmd("RPUSH", "list:small", "a", "b", "c")
    for i in range(0, 3000, 100):
        cmd("RPUSH", "list:big", *["e%d-%s" % (k, "x" * (k % 50)) for k in range(i, i + 100)])
    cmd("SADD", "set:int", 1, 2, 3, 99999)
    cmd("SADD", "set:small", "a", "b", "c")
    cmd("SADD", "set:big", *["m%d" % k for k in range(800)])
    cmd("ZADD", "zset:small", 1, "a", 2.5, "b", -3, "c")
    cmd("ZADD", "zset:big", *[x for k in range(400) for x in (k * 1.25, "m%d" % k)])
    cmd("ZADD", "zset:inf", "inf", "up", "-inf", "down", 0, "zero")
    cmd("HSET", "hash:small", "f1", "v1", "f2", "2")
    cmd("HSET", "hash:big", *[x for k in range(700) for x in ("f%d" % k, "v" * (k % 90))])
    for k in range(60):
        cmd("XADD", "stream", "*", "n", k, "text", "entry %d" % k)
    cmd("XGROUP", "CREATE", "stream", "g1", "0")
    cmd("XGROUP", "CREATE", "stream", "g2", "$")
    cmd("XREADGROUP", "GROUP", "g1", "alice", "COUNT", "7", "STREAMS", "stream", ">")
    cmd("XREADGROUP", "GROUP", "g1", "bob", "COUNT", "3", "STREAMS", "stream", ">")
    cmd("PFADD", "hll", *["u%d" % k for k in range(300)])
    cmd("SETBIT", "bitmap", 123456, 1)
    cmd("GEOADD", "geo", 13.361389, 38.115556, "Palermo", 15.087269, 37.502669, "Catania")
    for k in range(150):
        if k % 2:
            cmd("SET", "ttl:%d" % k, "t", "EX", 100000 + k)
        else:
            cmd("SET", "ttl:%d" % k, "t", "PX", 200000000 + k)
    cmd("HSET", "ttl:hash", "a", "b")
    cmd("EXPIRE", "ttl:hash", 500000)
    cmd("SELECT", 3)
    for k in range(25):
        cmd("SET", "db3:%d" % k, k)
    cmd("RPUSH", "db3:list", "x", "y")
    cmd("SELECT", 0)
    if mb:
        cmd("SET", "big", os.urandom(mb << 20))
    out.flush()


if __name__ == "__main__":
    main()
