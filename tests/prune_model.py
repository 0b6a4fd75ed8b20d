#!/usr/bin/env python3
"""An independent model of the retention policy (restic's `forget` on UTC
times, as ferry documents it), to check `ferry prune` against.

usage: prune_model.py KEEP_LAST HOURLY DAILY WEEKLY MONTHLY YEARLY STAMP...
prints the stamps that survive, one per line.

A STAMP may say what its archive is: STAMP=minio,redis (the components it
was asked for; the rules apply to each such group on its own, as restic's
forget groups snapshots by paths), STAMP=FAILED (its verify failed) or
STAMP=NONE (no manifest).  Those last two take no slot and always survive.
Without one, every archive is of one group."""
import sys
from datetime import datetime, timezone


def bucket(rule, t, index):
    if rule == 0:
        return ("last", index)
    if rule == 1:
        return t.strftime("%Y-%m-%d %H")
    if rule == 2:
        return t.strftime("%Y-%m-%d")
    if rule == 3:
        y, w, _ = t.isocalendar()
        return (y, w)
    if rule == 4:
        return t.strftime("%Y-%m")
    return t.strftime("%Y")


def keep(counts, stamps):
    times = sorted(((datetime.strptime(s, "%Y%m%dT%H%M%SZ")
                     .replace(tzinfo=timezone.utc), s) for s in stamps),
                   reverse=True)
    if not any(counts):
        return {s for _, s in times}
    left = list(counts)
    last = [None] * 6
    kept = set()
    for i, (t, s) in enumerate(times):
        for r in range(6):
            if left[r] <= 0:
                continue
            b = bucket(r, t, i)
            if b != last[r]:
                last[r] = b
                left[r] -= 1
                kept.add(s)
    if times:
        kept.add(times[0][1])
    return kept


def keep_grouped(counts, args):
    groups, kept = {}, set()
    for a in args:
        stamp, _, spec = a.partition("=")
        if spec in ("FAILED", "NONE"):
            kept.add(stamp)
            continue
        key = tuple(sorted(spec.split(","))) if spec else ()
        groups.setdefault(key, []).append(stamp)
    for stamps in groups.values():
        kept |= keep(counts, stamps)
    return kept


if __name__ == "__main__":
    counts = [int(x) for x in sys.argv[1:7]]
    for s in sorted(keep_grouped(counts, sys.argv[7:])):
        print(s)
