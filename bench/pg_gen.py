#!/usr/bin/env python3
"""bench/pg_gen.py N: N rows of realistic order data as COPY text on stdout
(text, jsonb, numeric, arrays, timestamptz), seeded so every run is equal.
Table: see bench/pg (orders)."""
import json
import random
import sys
from datetime import datetime, timedelta, timezone

rnd = random.Random(20261123)
WORDS = ("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod "
         "tempor incididunt ut labore et dolore magna aliqua chapter novel scene "
         "dragon castle river winter summer letter journey forest shadow light "
         "market order delivery customer invoice refund shipped pending status "
         "warehouse berlin paris tokyo lagos lima oslo quebec zürich são paulo").split()
FIRST = "anna ben chen dara emil fatima goran hana ivan jun kofi lena mario nadia omar pia quinn rosa sven tariq".split()
LAST = "schmidt garcia nguyen okafor rossi kowalski tanaka silva müller dubois ivanova smith khan lee".split()
STATUS = ["pending", "paid", "shipped", "delivered", "refunded", "cancelled"]
T0 = datetime(2022, 1, 1, tzinfo=timezone.utc)


def esc(s):
    return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def sentence(n):
    return " ".join(rnd.choice(WORDS) for _ in range(n)).capitalize() + "."


def main():
    n = int(sys.argv[1])
    out = sys.stdout
    buf = []
    for i in range(1, n + 1):
        f, l = rnd.choice(FIRST), rnd.choice(LAST)
        ts = T0 + timedelta(seconds=rnd.randrange(0, 4 * 365 * 86400), microseconds=rnd.randrange(10**6))
        attrs = {
            "sku": f"SKU-{rnd.randrange(10**6):06d}",
            "qty": rnd.randrange(1, 20),
            "gift": rnd.random() < 0.1,
            "shipping": {"city": rnd.choice(WORDS[-10:]), "zip": f"{rnd.randrange(10**5):05d}",
                         "express": rnd.random() < 0.3},
            "items": [{"id": rnd.randrange(10**5), "price": round(rnd.uniform(1, 300), 2)}
                      for _ in range(rnd.randrange(1, 4))],
            "note": sentence(rnd.randrange(3, 9)),
        }
        tags = "{" + ",".join(rnd.sample(WORDS, rnd.randrange(1, 5))) + "}"
        scores = "{" + ",".join(str(rnd.randrange(100)) for _ in range(rnd.randrange(2, 8))) + "}"
        notes = " ".join(sentence(rnd.randrange(6, 14)) for _ in range(rnd.randrange(2, 6)))
        row = [str(i), ts.isoformat(), esc(f"{f.title()} {l.title()}"),
               f"{f}.{l}{rnd.randrange(1000)}@example.invalid", rnd.choice(STATUS),
               f"{rnd.uniform(1, 5000):.2f}", tags, scores, esc(json.dumps(attrs, ensure_ascii=False)),
               esc(notes)]
        buf.append("\t".join(row))
        if len(buf) == 5000:
            out.write("\n".join(buf) + "\n")
            buf.clear()
    if buf:
        out.write("\n".join(buf) + "\n")


if __name__ == "__main__":
    main()
