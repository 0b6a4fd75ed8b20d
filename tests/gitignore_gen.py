#!/usr/bin/env python3
"""Builds a random tree with random .gitignore files, for comparing ferry's
matcher with git's own (git is the oracle).
usage: gitignore_gen.py DIR SEED [DIR SEED...] (one interpreter for many
trees: a Python start costs a third of a second on slow machines)"""
import os
import random
import sys

NAMES = ["a", "b", "c", "foo", "bar.txt", "x.log", "y.py", "z.pyc", "sp ace",
         "ümlaut", "doc.md", "[br]", "q?", "lib", "src", "build", "tmp", "#hash",
         "!bang", "trail", "deep", "a.b.c", ".hidden", "Makefile"]
PATTERNS = ["*.log", "/a", "a/", "b/*.txt", "**/c", "a/**/b", "!x.log", "\\#hash",
            "\\!bang", "[ab]*", "?oo*", "deep/**", "*.py[co]", "/src/*", "!src/keep",
            "build/", "**/tmp/", "lib/**/foo", "trail  ", "trail\\ ", "*", "!*.md",
            "foo", "!foo", "c/", "/deep/a", "*/b", "[!a-c]*", "[[:digit:]]*", "sp\\ ace",
            "a.*", "!.hidden", ".hidden", "**/", "q[?]", "doc.md/", "z.pyc", "!z.pyc",
            "ümlaut", "\\[br\\]", "lib/", "!lib/", "**/foo/**", "a/*/c"]


def build(root, seed):
    rnd = random.Random(seed)
    os.makedirs(root, exist_ok=True)
    dirs = [""]
    for _ in range(rnd.randint(3, 10)):
        parent = rnd.choice(dirs)
        d = os.path.join(parent, rnd.choice(NAMES))
        p = os.path.join(root, d)
        if os.path.isfile(p):
            continue
        os.makedirs(p, exist_ok=True)
        dirs.append(d)
    for _ in range(rnd.randint(10, 40)):
        p = os.path.join(root, rnd.choice(dirs), rnd.choice(NAMES))
        if not os.path.exists(p):
            with open(p, "w") as f:
                f.write("x")
    for d in rnd.sample(dirs, k=min(len(dirs), rnd.randint(1, 4))):
        with open(os.path.join(root, d, ".gitignore"), "w") as f:
            for _ in range(rnd.randint(1, 6)):
                f.write(rnd.choice(PATTERNS) + "\n")
            if rnd.random() < 0.3:
                f.write("# a comment\n\n")


args = sys.argv[1:]
for k in range(0, len(args) - 1, 2):
    build(args[k], int(args[k + 1]))
