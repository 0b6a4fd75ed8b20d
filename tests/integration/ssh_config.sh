# ssh_config the way ssh reads it.  OpenSSH itself is the oracle: `ssh -G`
# on hundreds of random configs (tests/ssh_config_gen.py, fixed seed) and on
# the subtle cases by name; then `ferry config`'s origins, warnings and
# errors; then, against the sandbox, [server] host as an alias reached
# through ssh_config (HostName, User, Port, IdentityFile, UserKnownHostsFile,
# HostKeyAlias, HashKnownHosts, IdentityAgent, IdentitiesOnly), a ProxyJump
# route to a jump host that does not resolve (jump.sh follows working ones),
# and deploy, backup and check through an alias of ~/.ssh/config.
# cost: 40 (seconds, roughly: tests/run starts the costliest first)
set -eu
. "$FERRY_SOURCE_ROOT/tests/lib.sh"
cd "$SCRATCH"
if ! command -v ssh >/dev/null; then
	skip "ssh_config: the OpenSSH client (ssh) is not installed"
	exit 0
fi
export SHELL=/bin/sh
unset SSH_AUTH_SOCK SSH_AGENT_PID
H="$SCRATCH/home"
mkdir -p "$H/.ssh"
# ~ in ssh_config's values is the home of the password database, as ssh has it.
PW_DIR=$(getent passwd "$(id -u)" | cut -d: -f6)

# ---- the oracle: random configs -------------------------------------------
# The oracle (ssh, python) costs the same in every build; the sanitizer
# build, which only needs to run ferry's reader, checks a third of the
# configs.  FERRY_SSHCFG_CASES: as many as that, for a quick run.
case "$FERRY_BUILD" in *asan*) N=100 ;; *) N=300 ;; esac
python3 "$FERRY_SOURCE_ROOT/tests/ssh_config_gen.py" "$SCRATCH/gen" "$FERRY" 16 \
	"${FERRY_SSHCFG_CASES:-$N}" || true

# ---- the oracle: the subtle cases, by name ------------------------------------
keep() {
	grep -E '^(user|hostname|port|identityfile|proxyjump|proxycommand|userknownhostsfile|stricthostkeychecking|hostkeyalias|identityagent) ' |
		sort -s -k1,1
}
# agree NAME HOST < CONFIG: ferry resolves HOST as ssh -G does.
agree() {
	local name=$1 host=$2 want got
	cat >agree.cfg
	printf '[server]\nhost = x.invalid\nssh_config = %s/agree.cfg\n' "$SCRATCH" >agree.ini
	chmod 600 agree.ini
	want=$(HOME="$H" ssh -G -F agree.cfg "$host" 2>/dev/null </dev/null | keep)
	got=$(HOME="$H" "$FERRY" -c agree.ini config --ssh "$host" 2>/dev/null | keep)
	if [ -z "$want" ]; then
		notok "as ssh -G: $name: ssh -G failed"
	else
		same "as ssh -G: $name" "$got" "$want"
	fi
}

agree "first value wins across blocks" db <<'CFG'
Host db
  User first
Host *
  User second
  Port 2200
CFG
agree "IdentityFile accumulates, a repeated one once" db <<'CFG'
Host db
  IdentityFile ~/.ssh/a
Host *
  IdentityFile ~/.ssh/b
  IdentityFile ~/.ssh/a
CFG
agree "a negated pattern ends the block" db <<'CFG'
Host * !db
  User nope
Host *
  User yes
CFG
printf 'User from-include\nHost db\n  Port 2022\n' >"$H/.ssh/inc.conf"
agree "Include inside a block that does not apply: skipped" db <<'CFG'
Host other
  Include inc.conf
Host *
  User outer
CFG
agree "Include inside a block that applies, relative to ~/.ssh" db <<'CFG'
Host d*
  Include inc*.conf
CFG
agree "Match host sees HostName, originalhost the alias" alias <<'CFG'
Host alias
  HostName Real.Example.Invalid
Match host real.example.invalid originalhost alias
  User matched
CFG
agree "Match final: a second pass with the resolved name" alias <<'CFG'
Host alias
  HostName db-real
Match final host db-real
  Port 2201
Host db-real
  User late
CFG
agree "tokens and ~" db <<'CFG'
Host db
  HostName %h.example.invalid
  UserKnownHostsFile ~/kh %d/kh-%h-%p-%r-%u-%n %%lit
  IdentityFile %d/id-%h
CFG
agree "keyword case, key=value and quotes" db <<'CFG'
HOST="db"
  hostname=db.example.invalid
  USER = "quoted user"
  Port	2222
CFG
agree "ProxyJump chain, ProxyCommand after it ignored" db <<'CFG'
Host db
  ProxyJump alice@j1:2200,j2
  ProxyCommand nc %h %p
CFG
agree "ProxyJump none lets a later ProxyCommand in" db <<'CFG'
Host db
  ProxyJump none
  ProxyCommand nc %h %p
CFG
agree "an address is put in canonical form" db <<'CFG'
Host db
  HostName 127.1
CFG

# ---- ferry config: each value with where it came from ------------------------
cat >cfg <<'CFG'
Host dbalias
  HostName 10.0.0.9
  User deploy
  Port 2222
  IdentityFile ~/.ssh/k
  ProxyJump bastion
  CertificateFile ~/.ssh/k-cert.pub
Host unrelated
  Ciphers aes128-ctr
CFG
printf '[server]\nhost = dbalias\nssh_config = cfg\nport = 2200\n' >show.ini
chmod 600 show.ini
HOME="$H" expect_exit "config with ssh_config" 0 "$FERRY" -c show.ini config
contains "config: ssh_config value with its file:line" "$OUT" "user              = deploy                       ; cfg:3"
contains "config: ferry.ini wins over ssh_config" "$OUT" "port              = 2200                         ; show.ini:4"
contains "config: HostName shown" "$OUT" "HostName          = 10.0.0.9                     ; cfg:2"
contains "config: ProxyJump shown" "$OUT" "ProxyJump         = bastion                      ; cfg:6"
contains "config: identity from IdentityFile, ~ expanded" "$OUT" "identity          = $PW_DIR/.ssh/k "
contains "config: a keyword ferry cannot honour warns with file:line" "$ERR" "cfg:7: CertificateFile is not honoured"
lacks "config: one in a block that does not apply does not" "$ERR" "Ciphers"
# every hop reads the same files: a warning about one line is said once
printf 'Host *\n  CertificateFile ~/.ssh/k-cert.pub\nHost hopdb\n  ProxyJump j1,j2\n' >hops.cfg
printf '[server]\nhost = hopdb\nssh_config = hops.cfg\n' >hops.ini
chmod 600 hops.ini
HOME="$H" expect_exit "config through two jump hosts" 0 "$FERRY" -c hops.ini config
same "a warning is said once, not once per hop" "$(grep -c 'CertificateFile is not honoured' <<<"$ERR")" 1
HOME="$H" expect_exit "config --json with ssh_config" 0 "$FERRY" -c show.ini config --json
if printf '%s' "$OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin)["server"]; assert d["HostName"]=={"value":"10.0.0.9","origin":"cfg:2"} and d["user"]["origin"]=="cfg:3"'; then
	ok "config --json: origins of ssh_config values"
else
	notok "config --json: origins of ssh_config values: $OUT"
fi
HOME="$H" expect_exit "config --ssh prints ssh -G's lines" 0 "$FERRY" -c show.ini config --ssh dbalias
contains "config --ssh: ferry.ini's port acts as ssh -p" "$OUT" "port 2200"
contains "config --ssh: proxyjump" "$OUT" "proxyjump bastion"
mkdir -p defhome/.ssh
printf 'Host dbalias\n  HostName from-default.invalid\n' >defhome/.ssh/config
printf '[server]\nhost = dbalias\n' >def.ini
printf '[server]\nhost = dbalias\nssh_config = no\n' >none.ini
chmod 600 def.ini none.ini
HOME="$SCRATCH/defhome" expect_exit "~/.ssh/config by default" 0 "$FERRY" -c def.ini config
contains "~/.ssh/config by default: its HostName" "$OUT" "HostName          = from-default.invalid"
HOME="$SCRATCH/defhome" expect_exit "ssh_config = no" 0 "$FERRY" -c none.ini config
lacks "ssh_config = no: nothing from ssh_config" "$OUT" "from-default.invalid"

printf 'Host *\n  Port 0\n' >bad.cfg
printf '[server]\nhost = db\nssh_config = bad.cfg\n' >bad.ini
chmod 600 bad.ini
expect_exit "a bad ssh_config: config exits 2" 2 "$FERRY" -c bad.ini config
same "a bad ssh_config: the message names file:line" "$ERR" "ferry: bad.cfg:2: bad port '0'"
expect_exit "a bad ssh_config: check exits 2" 2 "$FERRY" -c bad.ini check
printf 'Host loop-a\n  ProxyJump loop-b\nHost loop-b\n  ProxyJump loop-a\n' >loop.cfg
printf '[server]\nhost = loop-a\nssh_config = loop.cfg\n' >loop.ini
chmod 600 loop.ini
expect_exit "ProxyJump hops that loop: exit 2" 2 "$FERRY" -c loop.ini check
contains "ProxyJump hops that loop: says so" "$OUT" "loop.cfg:2: ProxyJump: more than 8 hops"
printf '[server]\nhost = db\nssh_config = missing.cfg\n' >missing.ini
chmod 600 missing.ini
expect_exit "a missing ssh_config named in ferry.ini: exit 2" 2 "$FERRY" -c missing.ini config
contains "a missing ssh_config: named" "$ERR" "missing.cfg"
mkdir -p permhome/.ssh
printf 'Host *\n  User x\n' >permhome/.ssh/config
chmod 666 permhome/.ssh/config
printf '[server]\nhost = db\n' >perm.ini
chmod 600 perm.ini
HOME="$SCRATCH/permhome" expect_exit "~/.ssh/config others may write: exit 2" 2 "$FERRY" -c perm.ini config
contains "~/.ssh/config others may write: says so" "$ERR" "~/.ssh/config: bad owner or permissions"
chmod 600 permhome/.ssh/config
HOME="$SCRATCH/permhome" expect_exit "~/.ssh/config is read by default" 0 "$FERRY" -c perm.ini config
contains "~/.ssh/config is read by default: its User" "$OUT" "; ~/.ssh/config:2"

# ---- ConnectTimeout and ServerAlive* at work ------------------------------------
# A listener that accepts and never says a word: the SSH handshake waits
# for its banner until the connect timeout, ConnectTimeout's 1s rather than
# ferry's default 10s (`timeout 8` would end that with 124).
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
print(s.getsockname()[1], flush=True); time.sleep(60)' >silent.port &
SILENT_PID=$!
for _ in $(seq 1 100); do [ -s silent.port ] && break; sleep 0.05; done
printf 'Host slow\n  HostName 127.0.0.1\n  Port %s\n  ConnectTimeout 1\n  ServerAliveInterval 37\n  ServerAliveCountMax 5\n' \
	"$(cat silent.port)" >slow.cfg
printf '[server]\nhost = slow\nssh_config = slow.cfg\nknown_hosts = %s/kh_slow\n' "$SCRATCH" >slow.ini
chmod 600 slow.ini
expect_exit "ConnectTimeout 1: a silent server gives up in time, exit 3" 3 timeout 8 "$FERRY" -c slow.ini check
contains "a silent server: the loss leads, with the step it cut short" "$OUT" \
	"lost (no answer from the server) during the handshake"
contains "ConnectTimeout: config shows it" "$("$FERRY" -c slow.ini config 2>&1)" \
	"connect_timeout   = 1s                           ; slow.cfg:4"
if command -v strace >/dev/null; then
	strace -f -e trace=setsockopt -o slow.trace timeout 8 "$FERRY" -c slow.ini check >/dev/null 2>&1 || true
	contains "ServerAliveInterval 37: the keepalive idle time" "$(cat slow.trace)" "TCP_KEEPIDLE, [37]"
	contains "ServerAliveCountMax 5: the keepalive probes" "$(cat slow.trace)" "TCP_KEEPCNT, [5]"
	printf 'keepalive = 12s\n' >>slow.ini
	strace -f -e trace=setsockopt -o slow.trace timeout 8 "$FERRY" -c slow.ini check >/dev/null 2>&1 || true
	contains "ferry.ini's keepalive wins over ServerAliveInterval" "$(cat slow.trace)" "TCP_KEEPIDLE, [12]"
else
	skip "ServerAlive*: strace is not installed"
fi
kill "$SILENT_PID" 2>/dev/null || true
wait "$SILENT_PID" 2>/dev/null || true

# ---- against the sandbox ---------------------------------------------------------
if [ -z "${SBX_DIR:-}" ]; then
	skip "ssh_config: connecting through an alias: ${SBX_SKIP_REASON:-no sandbox}"
	exit 0
fi
# sbx_conf NAME [ssh_config lines...]: NAME.cfg with Host sbx holding the
# lines, and NAME.ini using it.
sbx_conf() {
	local name=$1 line
	shift
	{
		echo "Host sbx"
		echo "  HostName $SBX_IP"
		for line in "$@"; do echo "  $line"; done
	} >"$name.cfg"
	printf '[server]\nhost = sbx\nssh_config = %s.cfg\nconnect_timeout = 5s\n' "$name" >"$name.ini"
	chmod 600 "$name.ini"
}
: >kh_first
sbx_conf alias "User $SBX_USER" "Port 2222" "IdentityFile $SBX_KEY" \
	"UserKnownHostsFile $SCRATCH/kh_first $SBX_KNOWN_HOSTS"
# The key is in the second UserKnownHostsFile only: every one is read.
expect_exit "alias: check through ssh_config" 0 "$FERRY" -c alias.ini check
contains "alias: HostName, User and Port from ssh_config" "$OUT" "ssh         ok   $SBX_USER@$SBX_IP:2222"
if ssh -F alias.cfg -o BatchMode=yes sbx true </dev/null 2>/dev/null; then
	ok "alias: ssh itself connects with the same file"
else
	notok "alias: ssh itself connects with the same file"
fi
printf 'port = 22\n' >>alias.ini
expect_exit "alias: ferry.ini's port wins" 0 "$FERRY" -c alias.ini check
same "alias: ferry.ini's port wins: port 22" "$(printf '%s\n' "$OUT" | grep '^ssh ')" \
	"ssh         ok   $SBX_USER@$SBX_IP:22"

printf 'sbx-key-alias %s\n' "$(cut -d' ' -f1,2 "$SBX_DIR/ssh/host_ed25519.pub")" >kh_alias
sbx_conf hka "User $SBX_USER" "IdentityFile $SBX_KEY" "UserKnownHostsFile $SCRATCH/kh_alias" \
	"HostKeyAlias sbx-key-alias"
expect_exit "HostKeyAlias: the key is found under the alias" 0 "$FERRY" -c hka.ini check
sbx_conf noalias "User $SBX_USER" "IdentityFile $SBX_KEY" "UserKnownHostsFile $SCRATCH/kh_alias"
expect_exit "without HostKeyAlias the same file does not know the host" 3 "$FERRY" -c noalias.ini check

rm -f kh_hashed
sbx_conf hashed "User $SBX_USER" "Port 2222" "IdentityFile $SBX_KEY" \
	"UserKnownHostsFile $SCRATCH/kh_hashed" "StrictHostKeyChecking accept-new" \
	"HashKnownHosts yes"
expect_exit "accept-new from ssh_config" 0 "$FERRY" -c hashed.ini check
if grep -q '^|1|' kh_hashed && ! grep -q "$SBX_IP" kh_hashed; then
	ok "HashKnownHosts: the entry ferry adds is hashed"
else
	notok "HashKnownHosts: the entry ferry adds is hashed: $(cat kh_hashed)"
fi
if ssh-keygen -F "[$SBX_IP]:2222" -f kh_hashed >/dev/null; then
	ok "HashKnownHosts: ssh-keygen -F finds [host]:port"
else
	notok "HashKnownHosts: ssh-keygen -F finds [host]:port"
fi
expect_exit "hashed entry: second connection" 0 "$FERRY" -c hashed.ini check
same "hashed entry: second run is silent" "$ERR" ""

mkdir -p nohome
eval "$(ssh-agent -s)" >/dev/null
ssh-add -q "$SBX_KEY" 2>/dev/null
AGENT_SOCK=$SSH_AUTH_SOCK
sbx_conf noagent "User $SBX_USER" "UserKnownHostsFile $SBX_KNOWN_HOSTS" "IdentityAgent none"
HOME="$SCRATCH/nohome" expect_exit "IdentityAgent none: the agent is not asked" 3 "$FERRY" -c noagent.ini check
sbx_conf agentpath "User $SBX_USER" "UserKnownHostsFile $SBX_KNOWN_HOSTS" "IdentityAgent $AGENT_SOCK"
HOME="$SCRATCH/nohome" SSH_AUTH_SOCK= expect_exit "IdentityAgent PATH: that agent" 0 "$FERRY" -c agentpath.ini check
ssh-keygen -q -t ed25519 -N '' -f stranger
sbx_conf only "User $SBX_USER" "UserKnownHostsFile $SBX_KNOWN_HOSTS" \
	"IdentityFile $SCRATCH/stranger" "IdentitiesOnly yes"
HOME="$SCRATCH/nohome" expect_exit "IdentitiesOnly: an agent key that is no IdentityFile is not offered" 3 "$FERRY" -c only.ini check
sbx_conf notonly "User $SBX_USER" "UserKnownHostsFile $SBX_KNOWN_HOSTS" \
	"IdentityFile $SCRATCH/stranger"
HOME="$SCRATCH/nohome" expect_exit "without IdentitiesOnly the agent key is offered" 0 "$FERRY" -c notonly.ini check
cp "$SBX_KEY.pub" pubonly.pub
sbx_conf onlymatch "User $SBX_USER" "UserKnownHostsFile $SBX_KNOWN_HOSTS" \
	"IdentityFile $SCRATCH/pubonly" "IdentitiesOnly yes"
HOME="$SCRATCH/nohome" expect_exit "IdentitiesOnly: the agent key of an IdentityFile is" 0 "$FERRY" -c onlymatch.ini check
ssh-agent -k >/dev/null
unset SSH_AUTH_SOCK SSH_AGENT_PID

sbx_conf jump "User $SBX_USER" "IdentityFile $SBX_KEY" "ProxyJump bastion"
# bastion resolves nowhere (jump.sh follows working routes).
expect_exit "ProxyJump: an unreachable jump host is exit 3" 3 "$FERRY" -c jump.ini check
contains "ProxyJump: the row shows the route" "$OUT" "$SBX_USER@$SBX_IP:22 via bastion"
contains "ProxyJump: names the jump host" "$OUT" "jump host bastion:22"
expect_exit "ProxyJump: config still shows it" 0 "$FERRY" -c jump.ini config
contains "ProxyJump: config row" "$OUT" "ProxyJump         = bastion"

# ---- deploy, backup and check through an alias of ~/.ssh/config -------------
# The way the old scripts reached the server (`ssh dev-alias ...`): ferry.ini
# names only the alias; ~/.ssh/config, read by default, has the rest.
AH="$SCRATCH/aliashome"
mkdir -p "$AH/.ssh" "$SCRATCH/aproj/src" "$SCRATCH/archives"
chmod 700 "$AH/.ssh"
cat >"$AH/.ssh/config" <<CFG
Host dev-alias
  HostName $SBX_IP
  User $SBX_USER
  IdentityFile $SBX_KEY
  UserKnownHostsFile $SBX_KNOWN_HOSTS
Host *
  User nobody-$$
CFG
chmod 600 "$AH/.ssh/config"
echo "through the alias $$" >"$SCRATCH/aproj/src/hello.txt"
AR="$SBX_REMOTE_DIR/sshcfg-alias"
cat >a.ini <<INI
[server]
host = dev-alias
connect_timeout = 5s

[project]
local_dir = $SCRATCH/aproj
remote_dir = $AR

[postgres]
password = \${SBX_PG_PASSWORD}

[backup]
dir = $SCRATCH/archives
name = viaalias
INI
chmod 600 a.ini
HOME="$AH" expect_exit "alias of ~/.ssh/config: config" 0 "$FERRY" -c a.ini config
contains "alias of ~/.ssh/config: User with its origin" "$OUT" \
	"$(printf 'user              = %-29s; ~/.ssh/config:3' "$SBX_USER")"
HOME="$AH" expect_exit "alias of ~/.ssh/config: deploy" 0 "$FERRY" -c a.ini deploy --no-up
same "alias of ~/.ssh/config: the file is on the server" \
	"$(ip netns exec "$SBX_NS" cat "$AR/src/hello.txt" 2>&1)" "through the alias $$"
HOME="$AH" expect_exit "alias of ~/.ssh/config: backup" 0 "$FERRY" -c a.ini backup --only postgres
A=$(ls archives/viaalias-*.tar.zst 2>/dev/null | head -n 1)
if [ -n "$A" ] && tar --zstd -tf "$A" | grep -q '^postgres/'; then
	ok "alias of ~/.ssh/config: the archive holds the dump"
else
	notok "alias of ~/.ssh/config: the archive holds the dump: '$A'"
fi
HOME="$AH" expect_exit "alias of ~/.ssh/config: verify" 0 "$FERRY" -c a.ini verify --latest
# check without [project]: the sandbox may have no Docker engine for its
# compose row.  Its postgres row goes through the same SSH connection.
sed '/^\[project\]/,/^$/d' a.ini >c.ini
chmod 600 c.ini
HOME="$AH" expect_exit "alias of ~/.ssh/config: check" 0 "$FERRY" -c c.ini check
contains "alias of ~/.ssh/config: check's ssh row" "$OUT" "ssh         ok   $SBX_USER@$SBX_IP:22"
contains "alias of ~/.ssh/config: check's postgres row" "$OUT" "postgres    ok   PostgreSQL"
HOME="$SCRATCH/nohome" expect_exit "without ~/.ssh/config the alias is no host: exit 3" 3 "$FERRY" -c c.ini check
