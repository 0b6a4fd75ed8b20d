#!/usr/bin/env python3
"""bench/pg_text_gen.py N: N rows of text-heavy data as COPY text on stdout
(chapters, messages, JSON; about 500 bytes a row, which zstd -3 shrinks
about fivefold), seeded so every run is equal.  Table: see bench/pg_slow."""
import json
import random
import sys

rnd = random.Random(20261130)
WORDS = ("the a of and to in is was he she it that for on with as his her they at by "
         "from this had not but what all were when we there can an your which their said "
         "chapter dragon castle river winter summer letter journey forest shadow light "
         "market morning evening silence window garden stranger promise whisper storm "
         "captain village harbour mountain lantern memory kingdom thunder crimson silver "
         "quietly slowly suddenly carefully never always remember forgotten broken ancient").split()


def fresh_sentence():
    n = rnd.randrange(6, 18)
    return " ".join(rnd.choice(WORDS) for _ in range(n)).capitalize() + rnd.choice(".!?.")


# Real prose repeats its phrases: sentences come from a pool.
POOL = [fresh_sentence() for _ in range(4000)]


def sentence():
    return rnd.choice(POOL)


def esc(s):
    return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def main():
    n = int(sys.argv[1])
    out = sys.stdout
    buf = []
    for i in range(1, n + 1):
        title = " ".join(rnd.choice(WORDS) for _ in range(rnd.randrange(2, 6))).title()
        body = "\n\n".join(" ".join(sentence() for _ in range(rnd.randrange(2, 5)))
                           for _ in range(rnd.randrange(1, 3)))
        meta = {"author": rnd.choice(WORDS), "words": body.count(" ") + 1,
                "tags": rnd.sample(WORDS, 3), "mood": rnd.choice(WORDS[-12:]),
                "summary": sentence()}
        buf.append("\t".join([str(i), esc(title), esc(body),
                              esc(json.dumps(meta, ensure_ascii=False))]))
        if len(buf) == 2000:
            out.write("\n".join(buf) + "\n")
            buf = []
    if buf:
        out.write("\n".join(buf) + "\n")


main()
