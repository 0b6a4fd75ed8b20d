#!/usr/bin/env bash
# Every #include "folder/x.h" in the source folders goes down the floors
# that tests/layers.rules allows, never up or sideways.
#   layers.sh [ROOT]   checks ROOT (default: the source tree)
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=${1:-${FERRY_SOURCE_ROOT:-$(cd "$HERE/../.." && pwd)}}
RULES="$HERE/../layers.rules"

# check ROOT: prints each violation as "file:line: folder -> folder"
check() {
	local root=$1 bad=0 folder allowed f line to
	while read -r folder allowed; do
		case "$folder" in ''|'#'*) continue ;; esac
		[ -d "$root/$folder" ] || continue
		while IFS=: read -r f line to; do
			to=${to#*\"}; to=${to%%/*}
			case " $allowed " in *" $to "*) continue ;; esac
			echo "$f:$line: $folder includes $to"
			bad=1
		done < <(cd "$root" && grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]+"[a-z_]+/' \
				"$folder"/*.c "$folder"/*.h 2>/dev/null)
	done < <(sed 's/#.*//' "$RULES" | tr -s ' \t' ' ')
	return $bad
}

out=$(check "$ROOT")
if [ -z "$out" ]; then
	echo "ok - layers: every include goes down the floors"
else
	echo "not ok - layers: $(echo "$out" | head -n 5 | tr '\n' ';')"
fi

# The check itself must be able to fail: a tree with one upward include.
tmp=$(mktemp -d)
mkdir -p "$tmp/util" "$tmp/net"
printf '#include "net/ssh.h"\n' >"$tmp/util/x.c"
printf '#include "util/buf.h"\n' >"$tmp/net/y.c"
bad=$(check "$tmp")
rm -rf "$tmp"
case "$bad" in
"util/x.c:1: util includes net") echo "ok - layers: an upward include is caught" ;;
*) echo "not ok - layers: an upward include went unnoticed (got: $bad)" ;;
esac
