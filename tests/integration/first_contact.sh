# What a new user meets in the first hour (issue 10): config problems
# raised where they matter, long lines, quotes, ferry init, -q, progress,
# list's sizes, escaped names.  The parts that need a server skip without
# the sandbox.
set -eu
. "$FERRY_SOURCE_ROOT/tests/lib.sh"
cd "$SCRATCH"
unset FERRY_FC_UNSET

# ---- a broken value stops only what uses it -------------------------------
mkdir -p archives
cat >lazy.ini <<INI
[server]
host = local
[backup]
dir = $SCRATCH/archives
[neo4j]
password = \${FERRY_FC_UNSET}
INI
chmod 600 lazy.ini
expect_exit "unset [neo4j] password: verify --latest is not blocked" 1 "$FERRY" -c lazy.ini verify --latest
contains "verify --latest says why it stopped" "$ERR" "no archives in $SCRATCH/archives"
expect_exit "unset [neo4j] password: list works" 0 "$FERRY" -c lazy.ini list
expect_exit "unset [neo4j] password: prune works" 0 "$FERRY" -c lazy.ini prune --dry-run
expect_exit "config still reports it: exit 2" 2 "$FERRY" -c lazy.ini config
same "config names file:line" "$ERR" "ferry: lazy.ini:6: password in [neo4j]: variable 'FERRY_FC_UNSET' is not set"
contains "config shows the value as broken" "$OUT" "password          = (error)"
expect_exit "check reports it: exit 2" 2 "$FERRY" -c lazy.ini check
contains "check has a config row" "$OUT" "config      FAIL lazy.ini:6: password in [neo4j]: variable 'FERRY_FC_UNSET' is not set"
contains "check does not check the broken part" "$OUT" "neo4j       FAIL lazy.ini:6:"
expect_exit "backup --only neo4j raises it: exit 2" 2 "$FERRY" -c lazy.ini backup --only neo4j
same "backup names file:line" "$ERR" "ferry: lazy.ini:6: password in [neo4j]: variable 'FERRY_FC_UNSET' is not set"
cat >lazy2.ini <<INI
[server]
host = local
[backup]
dir = $SCRATCH/archives
compression_level = \${FERRY_FC_UNSET}
INI
expect_exit "a broken [backup] value stops list: exit 2" 2 "$FERRY" -c lazy2.ini list
same "list names file:line" "$ERR" "ferry: lazy2.ini:5: compression_level in [backup]: variable 'FERRY_FC_UNSET' is not set"
expect_exit "verify of a path needs no config" 6 "$FERRY" -c lazy2.ini verify lazy.ini

# ---- lines, bytes, sections, keys -----------------------------------------
{
	printf '[server]\nhost = local\n[deploy]\nexclude = '
	for i in $(seq 1 20); do printf 'generated-%02d/, ' "$i"; done
	printf 'last/\n'
} >long.ini
[ "$(sed -n 4p long.ini | wc -c)" -gt 212 ] && ok "the exclude line is over 212 bytes" || notok "exclude line too short"
expect_exit "a 300-byte exclude line loads" 0 "$FERRY" -c long.ini config
contains "every item of it is read" "$OUT" "last/"
{ printf '[server]\nhost = local\nuser = '; head -c 70000 /dev/zero | tr '\0' u; printf '\n'; } >toolong.ini
expect_exit "a line past 64 KiB: exit 2" 2 "$FERRY" -c toolong.ini config
same "it is named" "$ERR" "ferry: toolong.ini:3: line longer than 65536 bytes"
cp "$FERRY" binary.ini
expect_exit "a binary file as the config: exit 2" 2 "$FERRY" -c binary.ini config
contains "binary file has its own message" "$ERR" "NUL byte: this is not a text file"
printf '[server]\nhost =\n' >empty.ini
expect_exit "host = (empty): config exits 2" 2 "$FERRY" -c empty.ini config
same "empty host named with its line" "$ERR" "ferry: empty.ini:2: empty value for host in [server] (to use the default, remove the line)"
expect_exit "host = (empty): check exits 2, not 3" 2 "$FERRY" -c empty.ini check
expect_exit "host = (empty): deploy exits 2, not 3" 2 "$FERRY" -c empty.ini deploy --dry-run
printf '[server]\nhost = dev.example.invalid\nidentity = ~/.ssh/no-such-key-%s\n' "$$" >ident.ini
expect_exit "missing identity file: check exits 2" 2 "$FERRY" -c ident.ini check
contains "missing identity named with its line" "$OUT" "ident.ini:3: identity in [server]:"
lacks "no 'no keys found'" "$OUT$ERR" "no keys found"
expect_exit "missing identity file: deploy exits 2" 2 "$FERRY" -c ident.ini deploy --dry-run
contains "deploy names the key" "$ERR" "ident.ini:3: identity in [server]"
printf '[server]\nhost = local\n[project]\nlocal_dir = no-such-dir\nremote_dir = /tmp/x\n' >ldir.ini
expect_exit "missing local_dir: deploy exits 2" 2 "$FERRY" -c ldir.ini deploy --dry-run
same "missing local_dir named with its line" "$ERR" "ferry: ldir.ini:4: local_dir in [project]: no-such-dir: No such file or directory"
printf '[server]\nhost = local\n\n[backup]\n[server]\nport = 2222\n' >rep.ini
expect_exit "a repeated [server]: exit 2" 2 "$FERRY" -c rep.ini config
same "repeated section message" "$ERR" "ferry: rep.ini:5: section [server] repeated (first on line 1); put its keys in one place"
printf '[server]\nhost = local\np\xe4ss\x1b[2J = x\n' >utf.ini
expect_exit "a key with invalid UTF-8: exit 2" 2 "$FERRY" -c utf.ini config
same "the key is shown escaped" "$ERR" "ferry: utf.ini:3: unknown key 'p\\344ss\\033[2J' in [server]"

# ---- quotes: dropped, the same for every key --------------------------------
cat >quotes.ini <<'INI'
[server]
host = "local"
[project]
remote_dir = "/srv/x"
name = 'shop'
[deploy]
exclude = "uploads/", 'data/'
INI
expect_exit "quoted values load" 0 "$FERRY" -c quotes.ini config --json
if printf '%s' "$OUT" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["project"]["remote_dir"]["value"] == "/srv/x", d["project"]
assert d["project"]["name"]["value"] == "shop"
assert d["server"]["host"]["value"] == "local"
assert d["deploy"]["exclude"]["value"] == "uploads/\ndata/", d["deploy"]'; then
	ok "matching quotes are dropped"
else
	notok "matching quotes are dropped: $OUT"
fi

# ---- deploy (host = local): escaped names, progress, -q ---------------------
mkdir -p proj/src proj/dst
printf 'x' >proj/src/plain.txt
printf 'y' >"proj/src/new
line.txt"
printf 'z' >"proj/src/esc$(printf '\033')[31mred"
head -c 3000000 /dev/urandom >proj/src/big.bin
cat >proj/d.ini <<INI
[server]
host = local
[project]
local_dir = src
remote_dir = $SCRATCH/proj/dst
INI
expect_exit "deploy --dry-run (local)" 0 "$FERRY" -c proj/d.ini deploy --dry-run --no-up
contains "a newline in a name is escaped" "$OUT" '>f+++++++++ new\nline.txt'
contains "an escape byte in a name is escaped" "$OUT" '>f+++++++++ esc\033[31mred'
lacks "no raw escape byte in the output" "$OUT" "$(printf '\033')"
same "one line per entry, plus the summary" "$(printf '%s\n' "$OUT" | wc -l)" 5
expect_exit "deploy piped: no progress" 0 "$FERRY" -c proj/d.ini deploy --no-up
lacks "no progress line when stderr is not a terminal" "$ERR" "entries"
contains "the summary line" "$OUT" "4 entries to send"
rm -rf proj/dst/* proj/dst/.ferry
# a pty: script(1) gives ferry a terminal for stdout and stderr.
TTY_OUT=$(script -qec "'$FERRY' -c proj/d.ini deploy --no-up" /dev/null | tr -d '\r')
contains "progress on a terminal" "$TTY_OUT" "deploy  4/4 entries  2.9 MiB / 2.9 MiB  100%"
rm -rf proj/dst/* proj/dst/.ferry
TTY_OUT=$(script -qec "'$FERRY' -c proj/d.ini deploy --no-up -q" /dev/null | tr -d '\r')
same "-q: nothing at all on a terminal" "$TTY_OUT" ""
[ -f proj/dst/big.bin ] && ok "-q still deploys" || notok "-q still deploys"
rm -rf proj/dst/* proj/dst/.ferry
TTY_OUT=$(script -qec "'$FERRY' -c proj/d.ini deploy --no-up --quiet --dry-run" /dev/null | tr -d '\r')
contains "-q keeps a dry run's plan" "$TTY_OUT" "dry run: 4 entries"

# ---- list: sizes, -q --------------------------------------------------------
mkdir -p ar
head -c 1500000 /dev/zero >ar/fc-20240101T000000Z.tar.zst
printf '[server]\nhost = local\n[backup]\ndir = %s/ar\nname = fc\n' "$SCRATCH" >l.ini
expect_exit "list" 0 "$FERRY" -c l.ini list
contains "list: sizes are human-readable" "$OUT" "    1.4 MiB  "
expect_exit "list --bytes" 0 "$FERRY" -c l.ini list --bytes
contains "list --bytes: exact" "$OUT" "    1500000  "
expect_exit "list --json" 0 "$FERRY" -c l.ini list --json
contains "list --json: bytes" "$OUT" '"size": 1500000'
expect_exit "list -q after the command" 0 "$FERRY" -c lazy.ini list -q
same "list -q: no 'no archives' line" "$OUT" ""
expect_exit "list: 'no archives' without -q" 0 "$FERRY" -c lazy.ini list
contains "list says so without -q" "$OUT" "no archives in"
expect_exit "verify -q: errors still print" 6 "$FERRY" -c l.ini verify --latest -q
contains "verify -q: the error" "$ERR" "no manifest.json"
expect_exit "check -q with everything ok" 0 "$FERRY" -c l.ini check -q
same "check -q: no ok rows" "$OUT" ""

# ---- option errors start "ferry COMMAND:" ------------------------------------
for c in deploy backup restore list verify prune check config; do
	expect_exit "$c --bogus: exit 2" 2 "$FERRY" -c l.ini "$c" --bogus
	contains "$c: the option error names the command" "$ERR" "ferry $c: unknown option '--bogus'"
done
expect_exit "backup --only bogus: exit 2" 2 "$FERRY" -c l.ini backup --only bogus
contains "backup --only: an option error" "$ERR" "ferry backup: --only: unknown component 'bogus'"
for n in deploy-to-dev remote-logs backup-dev-data; do ln -sf "$FERRY" "$n"; done
expect_exit "backup-dev-data --bogus: exit 2" 2 ./backup-dev-data --bogus
contains "legacy option errors name the command" "$ERR" "ferry backup-dev-data: unknown option '--bogus'"
expect_exit "deploy-to-dev -q is ferry's -q" 0 ./deploy-to-dev -c proj/d.ini -q --help
