# Sourced by tests: network faults for ONE sandbox (the one in $SBX_DIR),
# never another's.  Needs SBX_DIR, SBX_NS and SBX_IP (from the sandbox's env).
#
#   fault_shape RATE     shape both ends of the veth pair with tbf (netem
#                        does not work on these machines; tbf does), so
#                        transfers take seconds and a fault lands mid-flight
#   fault_unshape        back to the bare link
#   fault_link_down      cut the link: nothing answers, nothing is refused
#   fault_link_up        restore it, and wait until the server answers
#   fault_kill_sessions  SIGKILL every per-connection sshd of this sandbox
#                        (the [priv] child of its listener and that child's
#                        own child, which holds the session): the kernel
#                        closes the connection as when a server dies
#   fault_cpu PID        the CPU time (clock ticks, all threads) PID used so far
#
# A blackhole route for the sandbox's /24, below the link's own route, keeps
# the link's traffic on this machine while the link is down: without it the
# default route would carry it off the machine.  sandbox.sh start now puts
# an unreachable one there (the same metric) for as long as the sandbox
# runs: either will do.

_fault_n=${SBX_IP#10.231.}
_fault_n=${_fault_n%%.*}
FAULT_DEV_HOST=fx${_fault_n}-h
FAULT_DEV_NS=fx${_fault_n}-n
FAULT_NET=10.231.${_fault_n}.0/24

_fault_guard() {
	ip route show "$FAULT_NET" | grep -qE '^(blackhole|unreachable) ' ||
		ip route add blackhole "$FAULT_NET" metric 4000
}

fault_shape() { # RATE (e.g. 40mbit)
	_fault_guard
	tc qdisc replace dev "$FAULT_DEV_HOST" root tbf rate "$1" burst 64kb latency 100ms
	ip netns exec "$SBX_NS" tc qdisc replace dev "$FAULT_DEV_NS" root tbf rate "$1" burst 64kb latency 100ms
}

fault_unshape() {
	tc qdisc del dev "$FAULT_DEV_HOST" root 2>/dev/null || true
	ip netns exec "$SBX_NS" tc qdisc del dev "$FAULT_DEV_NS" root 2>/dev/null || true
	ip route del blackhole "$FAULT_NET" metric 4000 2>/dev/null || true
}

# The namespace's end goes down: the host's route stays (linkdown) and its
# packets are dropped, so the client sees silence, not an error.
fault_link_down() {
	_fault_guard
	ip -n "$SBX_NS" link set "$FAULT_DEV_NS" down
}

# ... and waits (up to 10 s) until sshd answers through it again: the next
# command must not meet a link still coming up.
fault_link_up() {
	ip -n "$SBX_NS" link set "$FAULT_DEV_NS" up
	for _ in $(seq 1 50); do
		timeout 1 bash -c "exec 3<>/dev/tcp/$SBX_IP/22" 2>/dev/null && return 0
		sleep 0.2
	done
}

fault_kill_sessions() {
	local listener mon
	listener=$(cat "$SBX_DIR/sshd.pid")
	for mon in $(pgrep -P "$listener"); do
		pkill -KILL -P "$mon" 2>/dev/null || true
		kill -KILL "$mon" 2>/dev/null || true
	done
}

fault_cpu() { # PID
	local f
	# fields after "pid (comm) ": utime and stime are the 12th and 13th
	f=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	set -- $f
	echo $(( ${12} + ${13} ))
}
