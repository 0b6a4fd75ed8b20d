#!/usr/bin/env python3
"""Prints one line per entry of a tree: path, type, mode, mtime (s), size,
SHA-256 or link target -- to compare two trees exactly.
usage: treesum.py DIR [--skip NAME]..."""
import hashlib
import os
import stat
import sys

root = sys.argv[1]
skip = set(sys.argv[i + 1] for i, a in enumerate(sys.argv) if a == "--skip")
out = []
for dirpath, dirnames, filenames in os.walk(root):
    rel = os.path.relpath(dirpath, root)
    if rel == ".":
        dirnames[:] = [d for d in dirnames if d not in skip]
        filenames = [f for f in filenames if f not in skip]
    for name in dirnames + filenames:
        p = os.path.join(dirpath, name)
        r = os.path.normpath(os.path.join(rel, name))
        st = os.lstat(p)
        if stat.S_ISLNK(st.st_mode):
            out.append(f"{r!r} l {os.readlink(p)!r}")
        elif stat.S_ISDIR(st.st_mode):
            out.append(f"{r!r} d {stat.S_IMODE(st.st_mode):o}")
        else:
            h = hashlib.sha256(open(p, "rb").read()).hexdigest()
            out.append(f"{r!r} f {stat.S_IMODE(st.st_mode):o} {int(st.st_mtime)} {st.st_size} {h}")
for line in sorted(out):
    print(line)
