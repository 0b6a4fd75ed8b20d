# Jump hosts and ProxyCommand, as ssh_config describes them.  The sandbox's
# server is the bastion; behind it this suite builds a second namespace,
# "inner", with its own sshd on 10.233.N.2, linked to the sandbox's
# namespace only: the host has no route to it.  Then: one hop, two hops, a
# hop whose host key is wrong (exit 3 naming that hop), ProxyCommand over
# `ssh -W`, a deploy through the jump, and a PostgreSQL backup through one.
# cost: 15 (seconds, roughly: tests/run starts the costliest first)
set -eu
. "$FERRY_SOURCE_ROOT/tests/lib.sh"
needs_sandbox "jump"
cd "$SCRATCH"
if ! command -v ssh >/dev/null; then
	skip "jump: the OpenSSH client (ssh, for ProxyCommand ssh -W) is not installed"
	exit 0
fi
export SHELL=/bin/sh
unset SSH_AUTH_SOCK SSH_AGENT_PID

N=${SBX_NS##*-}
INS=ferry-jmp-$N
INNER=10.233.$N.2
cleanup() {
	[ -f "$SCRATCH/inner.pid" ] && kill "$(cat "$SCRATCH/inner.pid")" 2>/dev/null
	ip netns del "$INS" 2>/dev/null || true
	ip link del "fj$N-a" 2>/dev/null || true
	ip -n "$SBX_NS" link del "fj$N-a" 2>/dev/null || true
	ip route del unreachable "10.233.$N.0/24" 2>/dev/null || true
}
[ -n "${JUMP_KEEP:-}" ] || trap cleanup EXIT
cleanup
ip netns add "$INS"
# Nothing addressed to inner leaves this machine: the host's route to it
# is an explicit dead end, so "no route but through the bastion" is true.
ip route add unreachable "10.233.$N.0/24" 2>/dev/null || true
ip link add "fj$N-a" type veth peer name "fj$N-b"
ip link set "fj$N-a" netns "$SBX_NS"
ip link set "fj$N-b" netns "$INS"
ip -n "$SBX_NS" addr add "10.233.$N.1/24" dev "fj$N-a"
ip -n "$SBX_NS" link set "fj$N-a" up
ip -n "$INS" addr add "$INNER/24" dev "fj$N-b"
ip -n "$INS" link set "fj$N-b" up
ip -n "$INS" link set lo up
sed -e '/^Port 2222/d' -e "s|^ListenAddress .*|ListenAddress $INNER\nListenAddress 127.0.0.1|" \
	-e "s|^PidFile .*|PidFile $SCRATCH/inner.pid|" "$SBX_DIR/sshd_config" >inner_sshd_config
ip netns exec "$INS" /usr/sbin/sshd -f "$SCRATCH/inner_sshd_config" -E "$SCRATCH/inner_sshd.log"
for _ in $(seq 1 100); do
	ip netns exec "$SBX_NS" bash -c "exec 3<>/dev/tcp/$INNER/22" 2>/dev/null && break
	sleep 0.1
done

key=$(cut -d' ' -f1,2 "$SBX_DIR/ssh/host_ed25519.pub")
{ cat "$SBX_KNOWN_HOSTS"; echo "$INNER $key"; echo "127.0.0.1 $key"; } >kh
ssh-keygen -q -t ed25519 -N '' -f wrong_host
{ echo "$SBX_IP $(cut -d' ' -f1,2 wrong_host.pub)"; echo "$INNER $key"; } >kh_bad

cat >jump.cfg <<CFG
Host inner
  HostName $INNER
  ProxyJump bastion
Host innerhop
  HostName $INNER
Host inner2
  HostName 127.0.0.1
  ProxyJump bastion,innerhop
Host direct
  HostName $INNER
Host viacmd
  HostName $INNER
  ProxyCommand ssh -F $SCRATCH/jump.cfg -o BatchMode=yes -W %h:%p bastion
Host badroute
  HostName $INNER
  ProxyJump badbastion
Host badbastion
  HostName $SBX_IP
  UserKnownHostsFile $SCRATCH/kh_bad
Host pgjump
  HostName $SBX_IP
  Port 2222
  ProxyJump bastion
Host badchain
  HostName 127.0.0.1
  ProxyJump badbastion,innerhop
Host cmdfails
  HostName $INNER
  ProxyCommand sh -c 'exit 7'
Host cmdhangs
  HostName $INNER
  ProxyCommand sleep 7$N
  ConnectTimeout 2
Host bastion
  HostName $SBX_IP
Host *
  User $SBX_USER
  IdentityFile $SBX_KEY
  IdentitiesOnly yes
  UserKnownHostsFile $SCRATCH/kh
  ConnectTimeout 5
CFG
# conf NAME HOST: a config that reaches HOST through jump.cfg.
conf() {
	printf '[server]\nhost = %s\nssh_config = %s/jump.cfg\n' "$2" "$SCRATCH" >"$1.ini"
	printf '[project]\nremote_dir = %s/jump\nlocal_dir = %s/proj\n' \
		"$SBX_REMOTE_DIR" "$SCRATCH" >>"$1.ini"
	chmod 600 "$1.ini"
}

mkdir -p proj/a/b
for i in $(seq 1 50); do echo "file $i" >"proj/a/f$i"; done
head -c 3000000 /dev/urandom >proj/a/b/blob

# reaches NAME: `ferry check` gets past SSH (the rows after it may fail:
# inner runs no Docker engine); its output is in $OUT.
reaches() {
	local st=0
	OUT=$("$FERRY" -c "$1.ini" check 2>&1) || st=$?
	if [ "$st" = 0 ] || [ "$st" = 1 ]; then
		ok "$2"
	else
		notok "$2: exit $st: $OUT"
	fi
}

conf direct direct
expect_exit "inner has no route from here: direct is exit 3" 3 timeout 30 "$FERRY" -c direct.ini check

conf inner inner
reaches inner "ProxyJump: check through the bastion"
contains "ProxyJump: check shows the route" "$OUT" "ssh         ok   $SBX_USER@$INNER:22 via bastion"

conf inner2 inner2
reaches inner2 "two hops: check"
contains "two hops: both named" "$OUT" "$SBX_USER@127.0.0.1:22 via bastion, innerhop"

conf badroute badroute
expect_exit "a hop with a wrong host key: exit 3" 3 "$FERRY" -c badroute.ini check
contains "a hop with a wrong host key: names that hop" "$OUT$ERR" "$SBX_IP"
contains "a hop with a wrong host key: says it is that hop" "$OUT$ERR" "jump host $SBX_IP:22"
contains "a hop with a wrong host key: says it changed" "$OUT$ERR" "has changed"

conf badchain badchain
expect_exit "two hops, the first one's key wrong: exit 3" 3 "$FERRY" -c badchain.ini check
same "... named once, as the hop that failed" "$(grep -o "jump host [^:]*:[0-9]*" <<<"$OUT$ERR" | sort -u | tr '\n' ' ')" "jump host $SBX_IP:22 "

conf viacmd viacmd
reaches viacmd "ProxyCommand: check over ssh -W"
contains "ProxyCommand: ssh row" "$OUT" "ssh         ok   $SBX_USER@$INNER:22"

conf cmdfails cmdfails
expect_exit "a ProxyCommand that fails: exit 3" 3 "$FERRY" -c cmdfails.ini check
contains "... says the command ended, and how" "$OUT$ERR" "ProxyCommand 'sh -c 'exit 7'' ended (exit code 7)"
conf cmdhangs cmdhangs
start=$(date +%s)
expect_exit "a ProxyCommand that never answers: exit 3" 3 "$FERRY" -c cmdhangs.ini check
took=$(($(date +%s) - start))
if [ "$took" -le 20 ]; then ok "... within ConnectTimeout, not when the command ends ($took s)"; else notok "a hung ProxyCommand took $took s"; fi
if pgrep -f "^sleep 7$N\$" >/dev/null; then notok "the hung ProxyCommand is left running"; pkill -f "^sleep 7$N\$"; else ok "the hung ProxyCommand is gone"; fi

# ---- deploy through the jump ------------------------------------------------
ip netns exec "$SBX_NS" runuser -u "$SBX_USER" -- rm -rf "$SBX_REMOTE_DIR/jump"
expect_exit "deploy through the jump host" 0 "$FERRY" -c inner.ini deploy --no-up
# The namespaces share this machine's file system: the server's tree is here.
if diff -r proj "$SBX_REMOTE_DIR/jump" -x .ferry >/dev/null; then
	ok "deploy through the jump host: the server's tree equals the local tree"
else
	notok "deploy through the jump host: the server's tree equals the local tree"
fi
if grep -q "Accepted publickey for $SBX_USER" inner_sshd.log; then
	ok "deploy through the jump host: inner's sshd served it"
else
	notok "deploy through the jump host: inner's sshd served it"
fi

# ---- a PostgreSQL backup through one jump ------------------------------------
backup_conf pg.ini jump
sed -i "/^\[server\]/,/^\[/{/^\(host\|user\|identity\|known_hosts\) =/d}" pg.ini
sed -i "s|^\[server\]|[server]\nhost = pgjump\nssh_config = $SCRATCH/jump.cfg|" pg.ini
expect_exit "PostgreSQL backup through the jump host" 0 "$FERRY" -c pg.ini backup
expect_exit "the archive verifies" 0 "$FERRY" -c pg.ini verify --latest
if grep -q "Accepted publickey for $SBX_USER from $SBX_IP" "$SBX_DIR/sshd.log"; then
	ok "PostgreSQL backup: the session came from the bastion"
else
	notok "PostgreSQL backup: the session came from the bastion"
fi
