#!/usr/bin/env python3
"""An independent reference for `ferry schedule next`: it knows nothing of
ferry's algorithm.  It walks UTC minute by minute, converts each to the
zone's wall time with zoneinfo and applies the rules as the issue states
them: a matching wall time fires once; in a repeated hour only its first
showing fires; a wall time the clock skipped fires at the first minute
after the jump.  Vixie's day rule: with both day fields restricted (neither
starts with '*'), either matching is enough.

usage: cron_ref.py CASES  (CASES: lines "FROM|UNTIL|EXPR", FROM and UNTIL
as YYYY-MM-DDTHH:MM:SSZ); prints per case the fire times in (FROM, UNTIL],
space-separated, one line per case.
"""
import os
import sys
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

MONTHS = "jan feb mar apr may jun jul aug sep oct nov dec".split()
DAYS = "sun mon tue wed thu fri sat".split()
MACROS = {"@hourly": "0 * * * *", "@daily": "0 0 * * *",
          "@midnight": "0 0 * * *", "@weekly": "0 0 * * 0",
          "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *",
          "@annually": "0 0 1 1 *"}


def value(tok, names, base):
    tok = tok.lower()
    if names and tok in names:
        return names.index(tok) + base
    return int(tok)


def field(text, lo, hi, names=None, base=0):
    out = set()
    for part in text.split(","):
        step, stepped = 1, "/" in part
        if stepped:
            part, s = part.split("/")
            step = int(s)
        if part == "*":
            a, b = lo, hi
        elif "-" in part:
            a, b = (value(x, names, base) for x in part.split("-"))
            if names == DAYS and part.split("-")[1].lower() == "sun":
                b = 7                       # fri-sun

        else:                               # N/step runs from N to the end
            a = value(part, names, base)
            b = hi if stepped else a
        out.update(range(a, b + 1, step))
    return out


def parse(expr):
    words = expr.split()
    zone = ZoneInfo(os.environ.get("TZ", "UTC"))
    if words[0].startswith("CRON_TZ="):
        zone = ZoneInfo(words[0][8:])
        words = words[1:]
    if len(words) == 1:
        words = MACROS[words[0]].split()
    mi, h, dom, mon, dow = words
    dows = field(dow, 0, 7, DAYS)
    dows = {0 if d == 7 else d for d in dows}
    return dict(zone=zone, mi=field(mi, 0, 59), h=field(h, 0, 23),
                dom=field(dom, 1, 31), mon=field(mon, 1, 12, MONTHS, 1),
                dow=dows, either=not dom.startswith("*") and not dow.startswith("*"))


def matches(c, w):
    if w.minute not in c["mi"] or w.hour not in c["h"] or w.month not in c["mon"]:
        return False
    d = w.day in c["dom"]
    wd = (w.weekday() + 1) % 7          # Python: Monday 0; cron: Sunday 0
    k = wd in c["dow"]
    return (d or k) if c["either"] else (d and k)


def wall(t, zone):
    return t.astimezone(zone).replace(tzinfo=None)


def fires(c, start, until):
    zone = c["zone"]
    t = start.replace(second=0) + timedelta(minutes=1)
    out = []
    while t <= until:
        local = t.astimezone(zone)
        w = local.replace(tzinfo=None, fold=0)
        prev = wall(t - timedelta(minutes=1), zone)
        # zoneinfo marks the second showing of a repeated minute fold=1
        hit = local.fold == 0 and matches(c, w)
        # wall minutes the clock jumped over fire now
        g = prev + timedelta(minutes=1)
        while not hit and g < w:
            hit = matches(c, g)
            g += timedelta(minutes=1)
        if hit:
            out.append(t)
        t += timedelta(minutes=1)
    return out


def utc(s):
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    if not line:
        continue
    a, b, expr = line.split("|", 2)
    got = fires(parse(expr), utc(a), utc(b))
    print(" ".join(t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in got))
