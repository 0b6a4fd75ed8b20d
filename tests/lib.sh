# Sourced by tests/integration/*.sh.  Each check prints one line:
#   ok - NAME | not ok - NAME: why | skip - NAME: reason
# tests/run counts them.  FERRY is the binary under test; SCRATCH a private
# directory removed by tests/run.

: "${FERRY:?tests/run sets FERRY}"
: "${SCRATCH:?tests/run sets SCRATCH}"

ok() { echo "ok - $*"; }
notok() { echo "not ok - $*"; }
skip() { echo "skip - $*"; }

# expect_exit NAME CODE CMD...: runs CMD, keeps its output in $OUT/$ERR.
expect_exit() {
	local name=$1 want=$2 got
	shift 2
	set +e
	"$@" >"$SCRATCH/out" 2>"$SCRATCH/err"
	got=$?
	set -e
	OUT=$(cat "$SCRATCH/out")
	ERR=$(cat "$SCRATCH/err")
	if [ "$got" = "$want" ]; then
		ok "$name"
	else
		notok "$name: exit $got, want $want; stderr: $(err_gist "$SCRATCH/err")"
	fi
}

# err_gist FILE: stderr on one line, its start and its end (the error
# often comes last, after warnings)
err_gist() {
	if [ "$(wc -c <"$1")" -le 700 ]; then
		tr '\n' ' ' <"$1"
	else
		printf '%s ... %s' "$(head -c 250 "$1" | tr '\n' ' ')" "$(tail -c 450 "$1" | tr '\n' ' ')"
	fi
}

# contains NAME HAYSTACK NEEDLE
contains() {
	case "$2" in
	*"$3"*) ok "$1" ;;
	*) notok "$1: '$3' not in: $(printf '%s' "$2" | head -c 400)" ;;
	esac
}

# lacks NAME HAYSTACK NEEDLE
lacks() {
	case "$2" in
	*"$3"*) notok "$1: '$3' must not appear" ;;
	*) ok "$1" ;;
	esac
}

# same NAME GOT WANT
same() {
	if [ "$2" = "$3" ]; then ok "$1"; else notok "$1: got '$2', want '$3'"; fi
}

# backup_conf FILE NAME [POSTGRES_LINE...]: the sandbox's config with
# PostgreSQL as its only source (tests of other sources add theirs), a
# [backup] into $SCRATCH/archives (created) under NAME, the lines added to
# [postgres], mode 0600.
backup_conf() {
	local f=$1 name=$2 line
	shift 2
	mkdir -p "$SCRATCH/archives"
	awk '/^\[/ { keep = ($0 ~ /^\[(server|project|postgres|backup)\]/) } keep' \
		"$SBX_DIR/ferry.ini" >"$f"
	printf '\n[backup]\ndir = %s/archives\nname = %s\n' "$SCRATCH" "$name" >>"$f"
	for line in "$@"; do
		sed -i "s/^\[postgres\]/[postgres]\n$line/" "$f"
	done
	chmod 600 "$f"
}

# new_second: archives are named to the second; waits until the clock has
# left the second of the previous backup's start.
new_second() {
	local s
	s=$(date +%s)
	while [ "$(date +%s)" = "$s" ]; do sleep 0.05; done
}

# groups_backups CONF GLOB: a full backup, then --only redis and --only
# files,redis, each in a second of its own (retention per group, here and
# off-site); FULL: the full archive's name, GLOB its local path.
groups_backups() {
	new_second
	expect_exit "groups: a full backup" 0 "$FERRY" -c "$1" backup
	FULL=$(basename "$(ls $2)")
	new_second
	expect_exit "groups: backup --only redis" 0 "$FERRY" -c "$1" backup --only redis
	new_second
	expect_exit "groups: backup --only files,redis" 0 "$FERRY" -c "$1" backup --only files,redis
}

# ns_free_port: a free TCP port on the sandbox namespace's loopback.
# ns_wait_port PORT [TENTHS]: until something listens there (default 10 s).
ns_free_port() {
	ip netns exec "$SBX_NS" python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
ns_wait_port() {
	for _ in $(seq 1 "${2:-100}"); do
		ip netns exec "$SBX_NS" bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# needs_sandbox: skip the whole file (with REASON) when there is none.
needs_sandbox() {
	if [ -z "${SBX_DIR:-}" ]; then
		skip "$1: ${SBX_SKIP_REASON:-no sandbox}"
		exit 0
	fi
}
