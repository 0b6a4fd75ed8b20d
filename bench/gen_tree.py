#!/usr/bin/env python3
"""A project-like tree for bench/sync: ~20,000 files / ~150 MB of
source-like text in nested packages, a few large binaries, symlinks,
non-ASCII and space-containing names, and folders the excludes skip.
usage: gen_tree.py DIR [SEED [PACKAGES]]; PACKAGES (default 40, 12
directories of 38 files each) scales the tree down for a quick run."""
import os
import random
import sys

root = sys.argv[1]
rnd = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
WORDS = ("def class return import from self value data result error config "
         "user session request response handler service model field index "
         "async await yield lambda None True False if else for while try").split()


def text(n):
    out, size = [], 0
    while size < n:
        line = "    " * rnd.randint(0, 3) + " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(3, 12)))
        out.append(line)
        size += len(line) + 1
    return "\n".join(out) + "\n"


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w" if isinstance(data, str) else "wb") as f:
        f.write(data)


count = 0
for pkg in range(int(sys.argv[3]) if len(sys.argv) > 3 else 40):
    for sub in range(12):
        d = os.path.join(root, "packages", f"pkg{pkg:02d}", f"mod{sub:02d}")
        for f in range(38):
            write(os.path.join(d, f"file{f:02d}.py"), text(rnd.randint(1000, 9000)))
            count += 1
for i in range(5):
    write(os.path.join(root, "assets", f"blob{i}.bin"), rnd.randbytes(6_000_000))
for name in ["with space/read me.md", "ünïcødé/ñame.txt", "日本/ファイル.txt"]:
    write(os.path.join(root, name), text(2000))
os.makedirs(os.path.join(root, "links"), exist_ok=True)
for i in range(20):
    os.symlink(f"../packages/pkg{i:02d}/mod00/file00.py", os.path.join(root, "links", f"l{i}"))
for i in range(2000):
    write(os.path.join(root, "node_modules", f"dep{i % 50}", f"f{i}.js"), text(500))
for i in range(200):
    write(os.path.join(root, ".git", "objects", f"{i:02x}", "obj"), text(300))
write(os.path.join(root, ".env"), "SECRET=1\n")
write(os.path.join(root, ".gitignore"), "*.tmp\n")
print(count)
