# Server files and logs: globs over SFTP, modes, mtimes and links kept, the
# secret mark; restore --to DIR and its refusal of anything that would
# leave DIR; log files capped to their newest whole lines; compose logs
# since the last backup (needs a Docker engine); each component's failure
# (exit 5, the others intact); the check rows.
# cost: 45 (seconds, roughly: tests/run starts the costliest first)
set -eu
. "$FERRY_SOURCE_ROOT/tests/lib.sh"
needs_sandbox "sources"
cd "$SCRATCH"
RUNAS() { ip netns exec "$SBX_NS" runuser -u "$SBX_USER" -- sh -c "$1"; }
mjson() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); [v := v[k] for k in sys.argv[2].split(".")]; print(json.dumps(v) if not isinstance(v, str) else v)' "$1" "$2"; }
R="$SBX_REMOTE_DIR/src"
# An absolute path outside remote_dir, beside it: other suites compare the
# home directory's names, all but app-*.
HOME_OUT="$SBX_REMOTE_DIR-outside-$$.conf"
trap 'RUNAS "rm -f \"$HOME_OUT\""' EXIT

RUNAS "rm -rf '$R' && mkdir -p '$R/deploy/environments' '$R/deploy/certs/sub' '$R/logs' '$R/abs' && cd '$R' &&
printf 'SECRET=dev\n' >deploy/environments/.env.dev && chmod 600 deploy/environments/.env.dev &&
touch -d '2020-01-02 03:04:05 UTC' deploy/environments/.env.dev &&
printf 'SECRET=prod\n' >deploy/environments/.env.prod && chmod 640 deploy/environments/.env.prod &&
printf 'odd\n' >'deploy/environments/.env.%odd' &&
printf 'ü\n' >'deploy/environments/.env.ünï' &&
ln -s .env.dev deploy/environments/.env.current &&
ln -s /etc/hostname deploy/environments/.env.host &&
printf 'cert\n' >deploy/certs/a.pem && printf 'key\n' >deploy/certs/sub/b.key && chmod 400 deploy/certs/sub/b.key &&
printf 'x=1\n' >abs/one.conf &&
printf 'outside\n' >'$HOME_OUT' &&
seq 1 200000 >logs/app.log && printf 'small\n' >logs/small.log && printf 'not a log\n' >logs/notes.txt"

cp "$SBX_DIR/ferry.ini" s.ini
mkdir -p archives
cat >>s.ini <<INI

[backup]
dir = $SCRATCH/archives
name = src

[files]
paths = src/deploy/environments/.env.*, src/deploy/certs, $R/abs/*.conf, $HOME_OUT, src/nothing/*.env

[logs]
services = none
files = $R/logs/*.log
max_bytes = 100000
INI
chmod 600 s.ini

expect_exit "backup --only files,logs" 0 "$FERRY" -c s.ini -v backup --only files,logs
contains "-v names each file" "$ERR" "files/src/deploy/environments/.env.dev"
contains "one line for files: what, how much, how long" "$OUT" "files     ok, 9 files and 1 link, "
contains "one line for logs" "$OUT" "logs      ok, 0 services and 2 files, "
contains "a pattern matching nothing is a warning" "$ERR" "nothing matches src/nothing/*.env"
A=$(ls -t archives/src-*.tar.zst | head -n 1)
M=${A%.tar.zst}.manifest.json
tar --zstd -tf "$A" >members.txt
contains "member names stay readable (.env.dev)" "$(cat members.txt)" "files/src/deploy/environments/.env.dev"
contains "a %-name is escaped in the member" "$(cat members.txt)" "files/src/deploy/environments/.env.%25odd"
contains "an absolute path outside remote_dir keeps its path" "$(cat members.txt)" "files${HOME_OUT}"
contains "an absolute path under remote_dir is relative" "$(cat members.txt)" "files/src/abs/one.conf"
contains "a matched directory is copied whole" "$(cat members.txt)" "files/src/deploy/certs/sub/b.key"
if python3 - "$M" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
f = m["components"]["files"]
e = {x["path"]: x for x in f["entries"]}
dev = e["src/deploy/environments/.env.dev"]
assert dev["mode"] == "0600" and dev["mtime"] == 1577934245, dev
assert e["src/deploy/environments/.env.prod"]["mode"] == "0640"
assert e["src/deploy/certs/sub/b.key"]["mode"] == "0400"
assert e["src/deploy/environments/.env.current"]["link"] == ".env.dev"
assert e["src/deploy/environments/.env.host"]["followed_link"] == "/etc/hostname"
assert all(x["secret"] for x in f["entries"]) and f["secret"] is True
assert f["unmatched"] == ["src/nothing/*.env"]
PY
then ok "manifest: modes, mtimes, links, followed links, all marked secret"; else notok "manifest files entries: $(mjson "$M" components.files.entries)"; fi

# log files: the newest max_bytes, in whole lines
tar --zstd -xOf "$A" "logs/files${R}/logs/app.log" >app.tail
RUNAS "cat '$R/logs/app.log'" >app.full
if python3 - app.full app.tail <<'PY'
import sys
full, tail = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
assert 0 < len(tail) <= 100000, len(tail)
assert full.endswith(tail), "not the newest part"
assert full[len(full) - len(tail) - 1:len(full) - len(tail)] == b"\n", "starts mid-line"
assert len(tail) > 100000 - 8, "more than one line short"
PY
then ok "log file: the newest 100000 bytes, starting at a whole line"; else notok "log file cap"; fi
same "log file: the manifest says it was cut" "$(mjson "$M" components.logs.entries | python3 -c 'import json,sys; print([e["truncated"] for e in json.load(sys.stdin) if e["source"].endswith("app.log")][0])')" "True"
lacks "log globs match only their pattern" "$(cat members.txt)" "notes.txt"
same "first logs backup: no earlier one to start from" "$(mjson "$M" components.logs.since)" "null"
new_second
expect_exit "a second logs backup" 0 "$FERRY" -c s.ini backup --only logs
same "logs: since the start of the last backup whose logs succeeded" "$(mjson "$(ls -t archives/src-*.manifest.json | head -n 1)" components.logs.since)" "$(mjson "$M" started)"

# ---- restore --to DIR -------------------------------------------------------------
expect_exit "restore --only files --to DIR" 0 "$FERRY" -c s.ini restore "$A" --only files --to "$SCRATCH/rest"
contains "restore reports the count" "$OUT" "files -> $SCRATCH/rest:"
same "restored: content" "$(cat rest/src/deploy/environments/.env.prod)" "SECRET=prod"
same "restored: mode 0600" "$(stat -c %a rest/src/deploy/environments/.env.dev)" "600"
same "restored: mode 0400 in a subdirectory" "$(stat -c %a rest/src/deploy/certs/sub/b.key)" "400"
same "restored: mtime" "$(stat -c %Y rest/src/deploy/environments/.env.dev)" "1577934245"
same "restored: the link" "$(readlink rest/src/deploy/environments/.env.current)" ".env.dev"
same "restored: the followed link's content" "$(cat rest/src/deploy/environments/.env.host)" "$(RUNAS 'cat /etc/hostname')"
same "restored: unicode and % names" "$(cat 'rest/src/deploy/environments/.env.ünï' 'rest/src/deploy/environments/.env.%odd')" "ü
odd"
same "restored: the absolute path under DIR" "$(cat "rest${HOME_OUT}")" "outside"
same "restored: no temporary file left" "$(find rest -name '*.ferry-*' | wc -l)" "0"
expect_exit "restore --only logs --to DIR" 0 "$FERRY" -c s.ini restore "$A" --only logs --to "$SCRATCH/logsout"
if cmp -s "logsout/files${R}/logs/app.log" app.tail; then ok "logs restored under DIR"; else notok "logs restored under DIR"; fi
expect_exit "restore --only files without --to: usage error" 2 "$FERRY" -c s.ini restore "$A" --only files
contains "without --to: says why" "$ERR" "needs --to DIR"

# ---- escape attempts: refused before anything is written ------------------------------
mkdir -p outside
python3 "$FERRY_SOURCE_ROOT/tests/craft_archive.py" "$SCRATCH/sound.tar.zst" sound "$SCRATCH/outside"
expect_exit "crafted: a sound archive restores (the crafting is valid)" 0 "$FERRY" -c s.ini restore "$SCRATCH/sound.tar.zst" --only files --to "$SCRATCH/c-sound"
same "crafted sound: file and link written" "$(cat c-sound/deploy/.env; readlink c-sound/deploy/.env.link)" "SECRET=1
.env"
for c in dotdot absolute member link-out link-abs under-link unlisted; do
	python3 "$FERRY_SOURCE_ROOT/tests/craft_archive.py" "$SCRATCH/$c.tar.zst" "$c" "$SCRATCH/outside"
	expect_exit "crafted $c: refused (exit 6)" 6 "$FERRY" -c s.ini restore "$SCRATCH/$c.tar.zst" --only files --to "$SCRATCH/c-$c"
	contains "crafted $c: says nothing was written" "$ERR" "nothing was written"
	same "crafted $c: nothing written under DIR" "$(find "$SCRATCH/c-$c" -mindepth 1 2>/dev/null | wc -l)" "0"
	same "crafted $c: nothing written outside" "$(ls -A outside; ls "$SCRATCH" | grep -c escaped || true)" "0"
done
# a symlink already under DIR that points out is not followed
mkdir -p c-planted
ln -s "$SCRATCH/outside" c-planted/deploy
expect_exit "a planted symlink under DIR: refused (exit 6)" 6 "$FERRY" -c s.ini restore "$SCRATCH/sound.tar.zst" --only files --to "$SCRATCH/c-planted"
contains "planted symlink: named" "$ERR" "refusing to write through it"
same "planted symlink: nothing written through it" "$(ls -A outside)" ""

# ---- check rows ----------------------------------------------------------------------------
expect_exit "check: a files pattern matching nothing fails its row" 1 "$FERRY" -c s.ini check
contains "check: files row names the pattern" "$OUT" "files       FAIL files: nothing matches src/nothing/*.env"
contains "check: logs row" "$OUT" "logs        ok   0 compose services, 2 log files"
sed -i 's|, src/nothing/\*.env||' s.ini
# (the compose row fails here: the sandbox's Docker engine is not at the
# default socket, and this config does not name it)
"$FERRY" -c s.ini check >check.out 2>&1 || true
OUT=$(cat check.out)
same "check: no row fails but compose's" "$(grep FAIL check.out | grep -v '^compose ' || true)" ""
contains "check: files row counts" "$OUT" "files       ok   9 files, 1 link"

# ---- each component fails on its own ---------------------------------------------------------
RUNAS "chmod 000 '$R/deploy/environments/.env.prod'"
new_second
expect_exit "an unreadable file: exit 5" 5 "$FERRY" -c s.ini backup --only files,logs
contains "unreadable file: named" "$ERR" ".env.prod"
same "unreadable file: named once, not by each layer again" "$(grep -o 'environments/.env.prod' <<<"$ERR" | wc -l)" "1"
P=$(ls -t archives/src-*.tar.zst | head -n 1)
same "unreadable file: files failed" "$(mjson "${P%.tar.zst}.manifest.json" components.files.status)" "failed"
same "unreadable file: logs landed" "$(mjson "${P%.tar.zst}.manifest.json" components.logs.status)" "ok"
expect_exit "unreadable file: the archive verifies" 0 "$FERRY" -c s.ini verify "$P"
RUNAS "chmod 640 '$R/deploy/environments/.env.prod' && chmod 000 '$R/logs/small.log'"
new_second
expect_exit "an unreadable log: exit 5" 5 "$FERRY" -c s.ini backup --only files,logs
P=$(ls -t archives/src-*.tar.zst | head -n 1)
same "unreadable log: logs failed" "$(mjson "${P%.tar.zst}.manifest.json" components.logs.status)" "failed"
same "unreadable log: files landed" "$(mjson "${P%.tar.zst}.manifest.json" components.files.status)" "ok"
expect_exit "unreadable log: its files restore" 0 "$FERRY" -c s.ini restore "$P" --only files --to "$SCRATCH/after-log-failure"
RUNAS "chmod 644 '$R/logs/small.log'"

# ---- damage that zstd does not see until the end -------------------------------------------
# Random bytes are stored as they are (raw blocks): a flipped byte there
# decodes without complaint, and only the frame's checksum at the end sees
# it.  With the manifest beside the archive, verify names the member.
RUNAS "mkdir -p '$R/rand' && head -c 3000000 /dev/urandom >'$R/rand/a.bin' && head -c 3000000 /dev/urandom >'$R/rand/b.bin'"
sed -e 's|^paths = .*|paths = src/rand|' s.ini >rand.ini
chmod 600 rand.ini
new_second
expect_exit "random bytes: backup" 0 "$FERRY" -c rand.ini backup --only files
RA=$(ls -t archives/src-*.tar.zst | head -n 1)
mkdir -p rdmg && cp "$RA" "${RA%.tar.zst}.manifest.json" rdmg/
RD=rdmg/$(basename "$RA")
python3 - "$RD" <<'PY'
import sys
f = open(sys.argv[1], "r+b"); f.seek(0, 2); at = f.tell() // 4
f.seek(at); b = bytearray(f.read(10)); f.seek(at); f.write(bytes(x ^ 0x55 for x in b))
PY
expect_exit "random bytes, damaged: verify exits 6" 6 "$FERRY" -c rand.ini verify "$RD"
contains "random bytes, damaged: verify names the member that holds the damage" "$ERR" "member 'files/src/rand/a.bin' "

# ---- names in any bytes: not UTF-8, a newline, ESC -----------------------------------------
# Members %-escape them (tar lists and extracts those names); the manifest
# keeps each exact name (as path_bytes when it is not UTF-8), and restore
# --to writes the exact bytes back.
RUNAS "cd '$R' && sh -s" <<'SH'
set -e
rm -rf odd oddlog && mkdir -p odd oddlog && cd odd
printf 'ff\n' >"$(printf 'bad\377utf')" && chmod 640 "$(printf 'bad\377utf')"
printf 'nl\n' >"$(printf 'new\nline')"
printf 'esc\n' >"$(printf 'esc\033[1mz')"
ln -s "$(printf 'bad\377utf')" "$(printf 'lnk\376')"
mkfifo "$(printf 'a-fifo\375')"
printf 'log\n' >"../oddlog/$(printf 'l\377.log')"
SH
sed -e 's|^paths = .*|paths = src/odd|' -e "s|^files = .*|files = $R/oddlog/*.log|" s.ini >odd.ini
chmod 600 odd.ini
new_second
expect_exit "odd names: backup (not UTF-8, newline, ESC)" 0 "$FERRY" -c odd.ini backup --only files,logs
contains "odd names: every file and the link" "$OUT" "files     ok, 3 files and 1 link, "
contains "odd names: the log file too" "$OUT" "logs      ok, 0 services and 1 file"
# (the archive's writer is a member behind: a failure it has must name
# its own member, not the file being copied when it comes back)
lacks "odd names: no message names the file after another" "$OUT$ERR" "1mz"
O=$(ls -t archives/src-*.tar.zst | head -n 1)
tar --zstd -tf "$O" >odd-members.txt 2>odd-tar.err || notok "odd names: tar -t: $(cat odd-tar.err)"
contains "odd names: tar lists the byte that is not UTF-8, %-escaped" "$(cat odd-members.txt)" "files/src/odd/bad%FFutf"
contains "odd names: tar lists the newline, %-escaped" "$(cat odd-members.txt)" "files/src/odd/new%0Aline"
contains "odd names: tar lists ESC, %-escaped" "$(cat odd-members.txt)" "files/src/odd/esc%1B[1mz"
contains "odd names: tar lists the log file" "$(cat odd-members.txt)" "logs/files${R}/oddlog/l%FF.log"
mkdir -p odd-x
if tar --zstd -xf "$O" -C odd-x 2>odd-x.err && [ "$(cat odd-x/files/src/odd/bad%FFutf)" = ff ]; then
	ok "odd names: tar --zstd -x extracts them"
else
	notok "odd names: tar -x: $(head -c 300 odd-x.err)"
fi
if python3 - "${O%.tar.zst}.manifest.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
e = m["components"]["files"]["entries"]
by = {x.get("path_bytes", x["path"]): x for x in e}
bad = by["src/odd/bad%FFutf"]
assert bad["path"] == "src/odd/bad\\377utf" and bad["member"] == "files/src/odd/bad%FFutf", bad
assert bad["mode"] == "0640", bad
assert by["src/odd/new\nline"]["member"] == "files/src/odd/new%0Aline"
assert "path_bytes" not in by["src/odd/new\nline"]
assert by["src/odd/esc\x1b[1mz"]["member"] == "files/src/odd/esc%1B[1mz"
lnk = by["src/odd/lnk%FE"]
assert lnk["link_bytes"] == "bad%FFutf" and lnk["source_bytes"].endswith("/odd/lnk%FE"), lnk
logs = m["components"]["logs"]["entries"]
assert logs[0]["source_bytes"].endswith("/oddlog/l%FF.log"), logs
PY
then ok "odd names: the manifest keeps each exact name"; else notok "odd names: manifest: $(mjson "${O%.tar.zst}.manifest.json" components.files.entries | head -c 600)"; fi
expect_exit "odd names: restore --only files --to DIR" 0 "$FERRY" -c odd.ini restore "$O" --only files --to "$SCRATCH/odd-rest"
if python3 - "$SCRATCH/odd-rest/src/odd" <<'PY'
import os, sys
d = os.fsencode(sys.argv[1])
want = {b"bad\377utf": b"ff\n", b"new\nline": b"nl\n", b"esc\033[1mz": b"esc\n"}
names = set(os.listdir(d))
assert names == set(want) | {b"lnk\376"}, names
for n, body in want.items():
    assert open(os.path.join(d, n), "rb").read() == body, n
assert os.readlink(os.path.join(d, b"lnk\376")) == b"bad\377utf"
assert oct(os.stat(os.path.join(d, b"bad\377utf")).st_mode & 0o7777) == "0o640"
PY
then ok "odd names: restored byte-exact (names, contents, link, mode)"; else notok "odd names: restored: $(ls -b "$SCRATCH/odd-rest/src/odd" 2>&1 | tr '\n' ' ')"; fi
expect_exit "odd names: restore --only logs --to DIR" 0 "$FERRY" -c odd.ini restore "$O" --only logs --to "$SCRATCH/odd-logs"
same "odd names: the log file restored under its member's name" "$(cat "odd-logs/files${R}/oddlog/l%FF.log")" "log"

# A name that is not UTF-8 in a failing files component: named escaped
# (not raw, not the file after it), the others published, the run recorded
# (state, status, --json, JSON log lines, with the warning for a FIFO).
RUNAS "cd '$R/odd' && chmod 000 \"\$(printf 'bad\\377utf')\""
new_second
expect_exit "odd names: an unreadable one: exit 5" 5 "$FERRY" -c odd.ini backup --only files,logs
contains "odd names: the report line names it escaped" "$OUT" "files     FAILED after"
contains "odd names: ... as ls -b does" "$OUT" "/src/odd/bad\\377utf"
lacks "odd names: no raw byte in the report or the messages" "$OUT$ERR" "$(printf '\377')"
lacks "odd names: the failure names its own file, not the next one" "$OUT$ERR" "1mz"
P=$(ls -t archives/src-*.tar.zst | head -n 1)
if [ "$P" != "$O" ] && python3 - "${P%.tar.zst}.manifest.json" archives/.ferry-last-backup.json "$P" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
assert m["components"]["files"]["status"] == "failed" and "bad\\377utf" in m["components"]["files"]["error"], m["components"]["files"]
assert m["components"]["logs"]["status"] == "ok"
s = json.load(open(sys.argv[2]))
assert s["exit"] == 5 and s["status"] == "partial" and s["last_archive"].endswith("/" + sys.argv[3]), s
assert "bad\\377utf" in s["error"] and s["components"]["files"]["status"] == "failed", s
PY
then ok "odd names: published with logs, failure and state recorded"; else notok "odd names: after the failure: $(tr '\n' ' ' <archives/.ferry-last-backup.json | head -c 500)"; fi
same "odd names: status shows this run, not the one before" "$("$FERRY" -c odd.ini status --json 2>&1 | python3 -c 'import json,sys; l=json.load(sys.stdin)["jobs"]["backup"]["last"]; print(l["exit"], l["archive"].rsplit("/", 1)[-1])' 2>&1 | tail -n 1)" "5 ${P##*/}"
new_second
expect_exit "odd names: again with --json and JSON log lines: exit 5" 5 "$FERRY" -c odd.ini --log-format json backup --only files,logs --json
if python3 - "$SCRATCH/out" "$SCRATCH/err" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["exit"] == 5 and "bad\\377utf" in j["error"], j
assert j["components"]["files"]["status"] == "failed", j
assert j["components"]["logs"]["status"] == "ok", j
lines = open(sys.argv[2], "rb").read().splitlines()
assert lines and all(json.loads(l) for l in lines), lines
assert any("bad\\377utf" in json.loads(l)["message"] for l in lines), lines
assert any("a-fifo\\375 is not a file" in json.loads(l)["message"] for l in lines), lines
PY
then ok "odd names: --json and JSON log lines carry the name escaped"; else notok "odd names: --json: $(head -c 400 "$SCRATCH/out" | tr '\n' ' ') / $(err_gist "$SCRATCH/err")"; fi
RUNAS "rm -rf '$R/odd' '$R/oddlog'"

# ---- compose logs since the last backup ---------------------------------------------------------
"$FERRY_SOURCE_ROOT/tests/sandbox/sandbox.sh" docker "$SBX_DIR" >docker.log 2>&1 || true
DOCKER_SOCK=$(sed -n 's/^SBX_DOCKER_HOST=//p' "$SBX_DIR/env")
if [ -z "$DOCKER_SOCK" ]; then
	skip "sources: compose logs since the last backup: no Docker engine in the sandbox: $(sed -n 's/^SBX_DOCKER_SKIP=//p' "$SBX_DIR/env" | tr -d "'")"
else
	SVC="env DOCKER_HOST=$DOCKER_SOCK docker-compose"
	C="$SBX_REMOTE_DIR/talk"
	RUNAS "rm -rf '$C' && mkdir -p '$C' && cat >'$C/docker-compose.yml' <<YML
version: \"2.4\"
services:
  talker:
    image: ferry-test/busybox:1
    network_mode: host
    entrypoint: [\"sh\", \"-c\", \"i=0; while true; do echo line \\\$\\\$i; i=\\\$\\\$((i+1)); sleep 0.2; done\"]
YML
cd '$C' && $SVC -p ferrytalk up -d" >up.log 2>&1 || notok "compose logs: compose up: $(tail -n 3 up.log)"
	cp s.ini l.ini
	sed -i 's/^services = none/services = talker/' l.ini
	printf '\n[deploy]\ncompose = %s\ncompose_dir = %s\nproject_name = ferrytalk\n' "$SVC" "$C" >>l.ini
	sleep 2
	new_second
	expect_exit "compose logs: first backup" 0 "$FERRY" -c l.ini backup --only logs
	L1=$(ls -t archives/src-*.tar.zst | head -n 1)
	tar --zstd -xOf "$L1" logs/talker.log >l1.log
	if [ "$(wc -l <l1.log)" -gt 3 ]; then ok "compose logs: lines with timestamps"; else notok "compose logs: $(head -c 300 l1.log)"; fi
	same "compose logs: compose's own 'Attaching to' line is not kept" "$(grep -c '^Attaching to' l1.log || true)" "0"
	sleep 3
	new_second
	expect_exit "compose logs: second backup" 0 "$FERRY" -c l.ini backup --only logs
	L2=$(ls -t archives/src-*.tar.zst | head -n 1)
	since=$(mjson "${L2%.tar.zst}.manifest.json" components.logs.since)
	same "compose logs: since the previous backup's start" "$since" "$(mjson "${L1%.tar.zst}.manifest.json" started)"
	tar --zstd -xOf "$L2" logs/talker.log >l2.log
	if python3 - l2.log "$since" <<'PY'
import re, sys
since = sys.argv[2][:19]
lines = open(sys.argv[1]).read().splitlines()
assert lines, "no lines"
for l in lines:
    m = re.search(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)", l)
    assert m and m.group(1) >= since, l
PY
	then ok "compose logs: only lines since the last backup"; else notok "compose logs: older lines in the second backup: $(head -n 2 l2.log)"; fi
	same "compose logs: the service's first line is not in the second backup" "$(grep -c ' line 0$' l2.log || true)" "0"
	RUNAS "cd '$C' && $SVC -p ferrytalk down" >/dev/null 2>&1 || true
fi
RUNAS "rm -f '$HOME_OUT'"
