#!/usr/bin/env bash
# Every tests/unit/test_*.c is built: tests/run runs the programs the build
# made, so a file left out of tests/meson.build (a merge lost five once)
# would silently never run.
#   units.sh [ROOT]   checks ROOT (default: the source tree)
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=${1:-${FERRY_SOURCE_ROOT:-$(cd "$HERE/../.." && pwd)}}

# check ROOT: prints each unit test file meson does not build
check() {
	local root=$1 f name
	for f in "$root"/tests/unit/test_*.c; do
		[ -e "$f" ] || continue
		name=$(basename "$f" .c)
		grep -q "'$name'" "$root/tests/meson.build" || echo "$name"
	done
}

out=$(check "$ROOT")
if [ -z "$out" ]; then
	echo "ok - units: every tests/unit/test_*.c is in tests/meson.build"
else
	echo "not ok - units: not built, so never run: $(echo "$out" | tr '\n' ' ')"
fi

# The check itself must be able to fail: a unit file meson does not list.
tmp=$(mktemp -d)
mkdir -p "$tmp/tests/unit"
printf "unit_tests = ['test_a']\n" >"$tmp/tests/meson.build"
touch "$tmp/tests/unit/test_a.c" "$tmp/tests/unit/test_b.c"
bad=$(check "$tmp")
rm -rf "$tmp"
if [ "$bad" = test_b ]; then
	echo "ok - units: the check catches a unit test left out of the build"
else
	echo "not ok - units: the check missed test_b (got '$bad')"
fi
