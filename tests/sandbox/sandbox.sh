#!/usr/bin/env bash
# A disposable "dev server" for ferry's tests, demo and benchmarks.
#
#   sandbox.sh start DIR   builds it, writes DIR/env (shell variables) and
#                          DIR/ferry.ini, prints DIR
#   sandbox.sh stop DIR    tears it down and removes DIR
#   sandbox.sh docker DIR  adds a Docker engine to a running sandbox (also
#                          at start with SBX_DOCKER=1); on success DIR/env
#                          gains SBX_DOCKER_HOST, else SBX_DOCKER_SKIP=why
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
	# Two sandboxes starting at once (tests/run's builds side by side)
	# must not pick the same network.
	exec 9>/run/lock/ferry-sandbox.lock
	flock 9
	n=$(pick_net)
	ns=ferry-sbx-$n
	ip=10.231.$n.2
	hip=10.231.$n.1
	echo "SBX_DIR=$dir" >"$dir/env"
	echo "SBX_NS=$ns" >>"$dir/env"

	# network
	ip netns add "$ns"
	flock -u 9
	ip link add "fx$n-h" type veth peer name "fx$n-n"
	ip link set "fx$n-n" netns "$ns"
	ip addr add "$hip/24" dev "fx$n-h"
	ip link set "fx$n-h" up
	# With fx$n-h down (a test of a lost link) its route goes, and
	# 10.231.$n.2 would be sent out by the default route: this one
	# (after the veth's own, by metric) answers "unreachable" instead.
	ip route replace unreachable "10.231.$n.0/24" metric 4000
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
	# on a tmpfs, as the tests' own files are (tests/run): far less CPU
	# for the many files a deploy test creates and removes
	if [ "${FERRY_TEST_TMPFS:-}" = 1 ]; then
		mount -t tmpfs -o size=8g,mode=0755 ferry-app "$home/app-$n" ||
			echo "sandbox: no tmpfs for $home/app-$n; it stays on disk" >&2
	fi
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
	# MaxSessions as sshd's default (10 a connection): a user's server
	# has it, and ferry must stay under it (pg_faults checks).
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
MaxSessions 10
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
	if [ "${SBX_DOCKER:-}" = 1 ]; then docker_start "$dir" || true; fi
	echo "$dir"
}

# A Docker engine inside the namespace, optional because it costs seconds
# and needs what some machines lack (overlayfs, cgroups).  nsenter, not ip
# netns exec, which remounts /sys and breaks dockerd.  No bridge, no
# iptables: services use network_mode: host, the namespace's own network.
# Images cannot be pulled: ferry-test/busybox:1 is imported from
# busybox-static (a shell, httpd, wget).
docker_start() {
	local dir=$1 ns d sock why=""
	grep -q '^SBX_DOCKER_HOST=' "$dir/env" && return 0
	ns=$(sed -n 's/^SBX_NS=//p' "$dir/env")
	d="$dir/docker"
	sock="unix://$d/docker.sock"
	if ! command -v dockerd >/dev/null || ! command -v docker >/dev/null; then
		why="dockerd is not installed (apt install docker.io)"
	elif ! busybox --list 2>/dev/null | grep -x httpd >/dev/null; then
		why="busybox-static is not installed (apt install busybox-static)"
	else
		case "$(ldd "$(command -v busybox)" 2>&1)" in
		*"not a dynamic"*) ;;
		*) why="busybox is not the static one (apt install busybox-static)" ;;
		esac
	fi
	if [ -z "$why" ]; then
		mkdir -p "$d/tmp"
		# started by whichever suite needs it first, it outlives that
		# suite: runc's files go under the sandbox, not the suite's
		# TMPDIR (removed when the suite ends)
		TMPDIR="$d/tmp" nsenter --net="/var/run/netns/$ns" setsid dockerd --data-root "$d/data" \
			--exec-root "$d/exec" --host "$sock" --pidfile "$d/docker.pid" \
			--bridge none --iptables=false --ip6tables=false --group "$SBX_USER" \
			>"$d/dockerd.log" 2>&1 </dev/null &
		for _ in $(seq 1 150); do
			DOCKER_HOST=$sock docker info >/dev/null 2>&1 && break
			sleep 0.2
		done
		DOCKER_HOST=$sock docker info >/dev/null 2>&1 ||
			why="dockerd did not start: $(grep -i 'level=\(error\|fatal\)' "$d/dockerd.log" | tail -n 1 | cut -c1-300)"
	fi
	if [ -z "$why" ]; then
		local root="$d/rootfs"
		mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/www"
		cp "$(command -v busybox)" "$root/bin/busybox"
		for a in $(busybox --list); do
			[ -e "$root/bin/$a" ] || ln -s busybox "$root/bin/$a"
		done
		printf 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' >"$root/etc/passwd"
		printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
		tar -C "$root" -c . | DOCKER_HOST=$sock docker import \
			-c 'ENV PATH=/bin' - ferry-test/busybox:1 >/dev/null 2>"$d/import.err" ||
			why="docker import failed: $(head -c 300 "$d/import.err")"
		rm -rf "$root"
	fi
	if [ -n "$why" ]; then
		docker_stop "$dir"
		# single-quoted: the env file is sourced
		echo "SBX_DOCKER_SKIP='${why//\'/}'" >>"$dir/env"
		echo "sandbox: no Docker engine: $why" >&2
		return 1
	fi
	echo "SBX_DOCKER_HOST=$sock" >>"$dir/env"
}

docker_stop() {
	local dir=$1 d="$1/docker" pid
	[ -d "$d" ] || return 0
	if [ -S "$d/docker.sock" ]; then
		# Killed, not stopped: a shell as PID 1 ignores SIGTERM and would
		# hold dockerd's shutdown for ten seconds.
		DOCKER_HOST="unix://$d/docker.sock" timeout 20 sh -c \
			'ids=$(docker ps -aq); [ -z "$ids" ] || docker rm -f $ids' >/dev/null 2>&1 || true
	fi
	if [ -f "$d/docker.pid" ]; then
		pid=$(cat "$d/docker.pid")
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$pid" 2>/dev/null || true
	fi
	# what dockerd left mounted under its roots (overlays, shm)
	awk -v p="$d/" 'index($2, p) == 1 { print $2 }' /proc/mounts | sort -r |
		while read -r m; do umount -l "$m" 2>/dev/null || true; done
}

stop() {
	local dir=$1 ns=""
	[ -f "$dir/env" ] || { rm -rf "$dir"; return 0; }
	ns=$(sed -n 's/^SBX_NS=//p' "$dir/env")
	docker_stop "$dir"
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
		ip route del unreachable "10.231.${ns#ferry-sbx-}.0/24" metric 4000 2>/dev/null || true
	fi
	local rd
	rd=$(sed -n 's/^SBX_REMOTE_DIR=//p' "$dir/env")
	# (not a mount when the sandbox was made without one: umount says 32)
	case "$rd" in */app-[0-9]*) umount -l "$rd" 2>/dev/null || true; rm -rf "$rd" ;; esac
	rm -rf "$dir"
}

case "${1:-}" in
start) [ $# -eq 2 ] || die "usage: sandbox.sh start DIR"; start "$2" ;;
stop) [ $# -eq 2 ] || die "usage: sandbox.sh stop DIR"; stop "$2" ;;
docker) [ $# -eq 2 ] || die "usage: sandbox.sh docker DIR"; docker_start "$2" ;;
*) die "usage: sandbox.sh start|stop|docker DIR" ;;
esac
