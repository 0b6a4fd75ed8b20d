# The gitignore matcher against git itself: random trees and patterns, the
# files ferry would send compared with `git ls-files --others
# --exclude-standard` (git is the oracle).  Needs no server.
set -eu
. "$FERRY_SOURCE_ROOT/tests/lib.sh"
cd "$SCRATCH"
if ! command -v git >/dev/null; then skip "gitignore: git is not installed"; exit 0; fi
export HOME="$SCRATCH" GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
bad=0
for seed in $(seq 1 300); do
	d="t$seed"
	mkdir "$d"
	python3 "$FERRY_SOURCE_ROOT/tests/gitignore_gen.py" "$d" "$seed"
	git -C "$d" init -q
	want=$(git -C "$d" -c core.quotepath=off ls-files --others --exclude-standard -z | tr '\0' '\n' | LC_ALL=C sort)
	got=$("$FERRY_BUILD/tests/tree_probe" "$d" | LC_ALL=C sort)
	if [ "$want" != "$got" ]; then
		bad=$((bad + 1))
		[ $bad -le 3 ] && notok "gitignore seed $seed: $(diff <(echo "$want") <(echo "$got") | head -n 6 | tr '\n' ' ')"
	fi
	rm -rf "$d"
done
same "gitignore: ferry and git agree on 300 random trees" "$bad" "0"
