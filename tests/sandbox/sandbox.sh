#!/usr/bin/env bash
# A disposable "dev server" for ferry's tests, demo and benchmarks.
#
#   sandbox.sh start DIR   builds it, writes DIR/env (shell variables) and
#                          DIR/ferry.ini, prints DIR
#   sandbox.sh stop DIR    tears it down and removes DIR
#
# What it is: a network namespace ferry-sbx-N with a veth pair (host side
# 10.231.N.1, server side 10.231.N.2), and inside it
#   - OpenSSH sshd on 10.231.N.2 ports 22 and 2222, key-only, user ferrytest
#   - PostgreSQL 15 on the namespace's 127.0.0.1:5432 (reachable only via SSH)
#   - Redis with a password on 127.0.0.1:6379
#   - s3rver on 127.0.0.1:4568 (S3RVER / S3RVER)
#   - the Neo4j HTTP fixture on 127.0.0.1:7474
# Nothing listens outside the namespace but sshd on its veth address.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SBX_USER=ferrytest
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)

die() { echo "sandbox: $*" >&2; exit 1; }

wait_tcp() { # NS HOST PORT WHAT
	for _ in $(seq 1 100); do
		if ip netns exec "$1" bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	die "$4 did not start listening on $2:$3"
}

pick_net() {
	local n=$(( ($$ % 200) + 20 ))
	for _ in $(seq 1 200); do
		if ! ip netns list | grep -qw "ferry-sbx-$n" &&
		   ! ip -4 addr | grep -q "10\.231\.$n\."; then
			echo "$n"; return 0
		fi
		n=$(( n % 250 + 1 ))
	done
	die "no free 10.231.x.0/24 network"
}

start() {
	local dir=$1 n ns ip hip
	[ "$(id -u)" = 0 ] || die "must run as root (network namespaces, sshd)"
	[ -n "$PGBIN" ] || die "PostgreSQL server binaries not found (apt install postgresql)"
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	chmod 755 "$dir"
	n=$(pick_net)
	ns=ferry-sbx-$n
	ip=10.231.$n.2
	hip=10.231.$n.1
	echo "SBX_DIR=$dir" >"$dir/env"
	echo "SBX_NS=$ns" >>"$dir/env"

	# network
	ip netns add "$ns"
	ip link add "fx$n-h" type veth peer name "fx$n-n"
	ip link set "fx$n-n" netns "$ns"
	ip addr add "$hip/24" dev "fx$n-h"
	ip link set "fx$n-h" up
	ip -n "$ns" addr add "$ip/24" dev "fx$n-n"
	ip -n "$ns" link set "fx$n-n" up
	ip -n "$ns" link set lo up

	# the login user
	if ! id "$SBX_USER" >/dev/null 2>&1; then
		useradd -m -s /bin/sh "$SBX_USER"
	fi
	usermod -p '*' "$SBX_USER"	# '!' would lock it for sshd
	local home
	home=$(getent passwd "$SBX_USER" | cut -d: -f6)
	mkdir -p "$home/app-$n"
	chown "$SBX_USER:" "$home/app-$n"

	# sshd
	mkdir -p "$dir/ssh" /run/sshd
	for t in ed25519 ecdsa rsa; do
		ssh-keygen -q -t "$t" -N '' -f "$dir/ssh/host_$t" -C "sandbox-$t"
	done
	ssh-keygen -q -t ed25519 -N '' -f "$dir/client_key" -C ferry-test
	ssh-keygen -q -t ed25519 -N 'correct horse' -f "$dir/client_key_pp" -C ferry-test-pp
	cat "$dir/client_key.pub" "$dir/client_key_pp.pub" >"$dir/ssh/authorized_keys"
	chmod 644 "$dir/ssh/authorized_keys"
	cat >"$dir/sshd_config" <<CFG
Port 22
Port 2222
ListenAddress $ip
HostKey $dir/ssh/host_ed25519
HostKey $dir/ssh/host_ecdsa
HostKey $dir/ssh/host_rsa
PidFile $dir/sshd.pid
AuthorizedKeysFile $dir/ssh/authorized_keys
StrictModes no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
AllowUsers $SBX_USER
AllowTcpForwarding yes
MaxSessions 64
MaxStartups 64
Subsystem sftp internal-sftp
LogLevel VERBOSE
CFG
	ip netns exec "$ns" /usr/sbin/sshd -f "$dir/sshd_config" -E "$dir/sshd.log"
	{
		echo "$ip $(cut -d' ' -f1,2 "$dir/ssh/host_ed25519.pub")"
		echo "[$ip]:2222 $(cut -d' ' -f1,2 "$dir/ssh/host_ed25519.pub")"
	} >"$dir/known_hosts"

	# secrets
	local pgpass redispass neopass
	pgpass=$(openssl rand -hex 12)
	redispass=$(openssl rand -hex 12)
	neopass=$(openssl rand -hex 12)

	# PostgreSQL (refuses to run as root)
	mkdir -p "$dir/pg"
	chown postgres: "$dir/pg"
	printf '%s\n' "$pgpass" >"$dir/pg/pwfile"
	chown postgres: "$dir/pg/pwfile"
	runuser -u postgres -- "$PGBIN/initdb" -D "$dir/pg/data" -U postgres \
		-A scram-sha-256 --pwfile="$dir/pg/pwfile" -E UTF8 --locale=C.UTF-8 \
		>"$dir/pg/initdb.log" 2>&1 || die "initdb failed: $(tail -n 3 "$dir/pg/initdb.log")"
	rm -f "$dir/pg/pwfile"
	ip netns exec "$ns" runuser -u postgres -- "$PGBIN/pg_ctl" -D "$dir/pg/data" \
		-l "$dir/pg/log" -w -t 30 \
		-o "-c listen_addresses=127.0.0.1 -c port=5432 -c unix_socket_directories=$dir/pg -c fsync=off -c max_connections=100" \
		start >/dev/null || die "PostgreSQL did not start: $(tail -n 5 "$dir/pg/log")"

	# Redis
	mkdir -p "$dir/redis"
	ip netns exec "$ns" redis-server --bind 127.0.0.1 --port 6379 \
		--requirepass "$redispass" --daemonize yes \
		--pidfile "$dir/redis/redis.pid" --dir "$dir/redis" \
		--logfile "$dir/redis/redis.log" --save ''

	# s3rver
	if [ -f "$HERE/node_modules/s3rver/bin/s3rver.js" ]; then
		mkdir -p "$dir/s3"
		# s3rver's continuation tokens use DES, which OpenSSL 3 keeps in
		# its legacy provider: without it any listing past 1,000 keys fails.
		ip netns exec "$ns" setsid node --openssl-legacy-provider \
			"$HERE/node_modules/s3rver/bin/s3rver.js" \
			-d "$dir/s3" -a 127.0.0.1 -p 4568 --silent \
			>"$dir/s3.log" 2>&1 </dev/null &
		echo $! >"$dir/s3.pid"
		echo "SBX_S3=1" >>"$dir/env"
	else
		echo "SBX_S3=" >>"$dir/env"
	fi

	# Neo4j HTTP fixture
	ip netns exec "$ns" setsid python3 "$HERE/neo4j_fixture.py" --port 7474 \
		--user neo4j --password "$neopass" >"$dir/neo4j.log" 2>&1 </dev/null &
	echo $! >"$dir/neo4j.pid"

	wait_tcp "$ns" "$ip" 22 sshd
	wait_tcp "$ns" 127.0.0.1 5432 PostgreSQL
	wait_tcp "$ns" 127.0.0.1 6379 Redis
	wait_tcp "$ns" 127.0.0.1 7474 "the Neo4j fixture"
	if [ -f "$dir/s3.pid" ]; then wait_tcp "$ns" 127.0.0.1 4568 s3rver; fi

	cat >>"$dir/env" <<ENV
SBX_IP=$ip
SBX_HOST_IP=$hip
SBX_USER=$SBX_USER
SBX_KEY=$dir/client_key
SBX_KEY_PP=$dir/client_key_pp
SBX_KEY_PASSPHRASE='correct horse'
SBX_KNOWN_HOSTS=$dir/known_hosts
SBX_REMOTE_DIR=$home/app-$n
SBX_PG_PASSWORD=$pgpass
SBX_REDIS_PASSWORD=$redispass
SBX_NEO4J_PASSWORD=$neopass
SBX_PGBIN=$PGBIN
ENV
	# The secrets stay out of the config: it reads them from the environment
	# (source DIR/env and export the three SBX_*_PASSWORD variables).
	cat >"$dir/ferry.ini" <<INI
[server]
host = $ip
user = $SBX_USER
identity = $dir/client_key
known_hosts = $dir/known_hosts
connect_timeout = 5s

[project]
remote_dir = $home/app-$n

[postgres]
password = \${SBX_PG_PASSWORD}

[redis]
password = \${SBX_REDIS_PASSWORD}

[neo4j]
password = \${SBX_NEO4J_PASSWORD}
INI
	if [ -f "$dir/s3.pid" ]; then
		cat >>"$dir/ferry.ini" <<INI

[minio]
endpoint = http://127.0.0.1:4568
access_key = S3RVER
secret_key = \${SBX_S3_SECRET:-S3RVER}
INI
	fi
	chmod 600 "$dir/ferry.ini"
	echo "$dir"
}

stop() {
	local dir=$1 ns=""
	[ -f "$dir/env" ] || { rm -rf "$dir"; return 0; }
	ns=$(sed -n 's/^SBX_NS=//p' "$dir/env")
	for pidf in "$dir/sshd.pid" "$dir/redis/redis.pid" "$dir/s3.pid" "$dir/neo4j.pid"; do
		[ -f "$pidf" ] && kill "$(cat "$pidf")" 2>/dev/null || true
	done
	if [ -d "$dir/pg/data" ]; then
		runuser -u postgres -- "$PGBIN/pg_ctl" -D "$dir/pg/data" -m immediate \
			-w stop >/dev/null 2>&1 || true
	fi
	if [ -n "$ns" ]; then
		# Anything left in the namespace goes with it.
		for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
		ip netns del "$ns" 2>/dev/null || true
	fi
	local rd
	rd=$(sed -n 's/^SBX_REMOTE_DIR=//p' "$dir/env")
	case "$rd" in */app-[0-9]*) rm -rf "$rd" ;; esac
	rm -rf "$dir"
}

case "${1:-}" in
start) [ $# -eq 2 ] || die "usage: sandbox.sh start DIR"; start "$2" ;;
stop) [ $# -eq 2 ] || die "usage: sandbox.sh stop DIR"; stop "$2" ;;
*) die "usage: sandbox.sh start|stop DIR" ;;
esac
