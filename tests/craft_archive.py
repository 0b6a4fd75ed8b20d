#!/usr/bin/env python3
"""craft_archive.py OUT.tar.zst CASE OUTSIDE

A ferry archive as an attacker would make it: tar + zstd, manifest last,
every member's size and SHA-256 right (and the sidecar manifest beside
it), whose files component tries to leave the restore directory one way:

  sound        nothing wrong (proves the crafting itself restores)
  dotdot       an entry whose path climbs out: ../escaped.txt
  absolute     an entry whose path is OUTSIDE/abs.txt
  member       a member named files/../../escaped-member.txt
  link-out     a link entry pointing up and out: ../../OUTSIDE
  link-abs     a link entry pointing at OUTSIDE
  under-link   a file entry written through a link entry of the archive
  unlisted     a member under files/ that no entry names
"""
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile


def main():
    out, case, outside = sys.argv[1], sys.argv[2], sys.argv[3]
    members = []      # (name, bytes)
    entries = []

    def file_entry(path, member, data, mode="0600"):
        members.append((member, data))
        entries.append({"path": path, "member": member, "mode": mode,
                        "mtime": 1577934245, "bytes": len(data),
                        "secret": True})

    file_entry("deploy/.env", "files/deploy/.env", b"SECRET=1\n")
    entries.append({"path": "deploy/.env.link", "link": ".env",
                    "mtime": 1577934245, "secret": True})
    if case == "dotdot":
        file_entry("../escaped.txt", "files/escaped.txt", b"out\n")
    elif case == "absolute":
        file_entry(outside + "/abs.txt", "files/abs.txt", b"out\n")
    elif case == "member":
        file_entry("ok.txt", "files/../../escaped-member.txt", b"out\n")
    elif case == "link-out":
        entries.append({"path": "evil", "link": "../.." + outside,
                        "mtime": 0, "secret": True})
    elif case == "link-abs":
        entries.append({"path": "evil", "link": outside, "mtime": 0,
                        "secret": True})
    elif case == "under-link":
        entries.append({"path": "d", "link": "real", "mtime": 0,
                        "secret": True})
        file_entry("d/x", "files/d/x", b"through the link\n")
    elif case == "unlisted":
        members.append(("files/sneaky", b"not listed\n"))
    elif case != "sound":
        sys.exit("unknown case " + case)

    manifest = {
        "format": 1, "ferry_version": "0.1.0", "name": "crafted",
        "host": "crafted", "started": "2026-01-01T00:00:00Z",
        "components": {"files": {"secret": True, "entries": entries,
                                 "status": "ok"}},
        "finished": "2026-01-01T00:00:01Z", "status": "ok",
        "members": [{"name": n, "size": len(d),
                     "sha256": hashlib.sha256(d).hexdigest()}
                    for n, d in members],
    }
    text = json.dumps(manifest, indent=2).encode()
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data in members + [("manifest.json", text)]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o600
            t.addfile(info, io.BytesIO(data))
    packed = subprocess.run(["zstd", "-q", "-c"], input=raw.getvalue(),
                            stdout=subprocess.PIPE, check=True).stdout
    with open(out, "wb") as f:
        f.write(packed)
    os.chmod(out, 0o600)
    side = out[:-len(".tar.zst")] + ".manifest.json"
    with open(side, "wb") as f:
        f.write(text)


if __name__ == "__main__":
    main()
