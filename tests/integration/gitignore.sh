# The gitignore matcher against git itself: random trees and patterns, the
# files ferry would send compared with two oracles, `git check-ignore
# --no-index` (every file asked) and `git ls-files --others
# --exclude-standard`.  Needs no server.
# cost: 20 (seconds, roughly: tests/run starts the costliest first)
set -eu
. "$FERRY_SOURCE_ROOT/tests/lib.sh"
cd "$SCRATCH"
if ! command -v git >/dev/null; then skip "gitignore: git is not installed"; exit 0; fi
export HOME="$SCRATCH" GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
bad=0 badci=0
# The oracle (git) costs the same in every build, so the builds share the
# trees: the plain build checks seeds 1-90, the sanitizer build 91-150.
case "$FERRY_BUILD" in *asan*) FIRST=91 N=60 ;; *) FIRST=1 N=90 ;; esac
SEEDS=$(seq $FIRST $((FIRST + N - 1)))
# shellcheck disable=SC2046
python3 "$FERRY_SOURCE_ROOT/tests/gitignore_gen.py" $(for s in $SEEDS; do echo "t$s $s"; done)
for seed in $SEEDS; do
	d="t$seed"
	git -C "$d" init -q
	want=$(git -C "$d" -c core.quotepath=off ls-files --others --exclude-standard -z | tr '\0' '\n' | LC_ALL=C sort)
	got=$("$FERRY_BUILD/tests/tree_probe" "$d" | LC_ALL=C sort)
	all=$(cd "$d" && find . -path ./.git -prune -o \( -type f -o -type l \) -printf '%P\n' | LC_ALL=C sort)
	ign=$(cd "$d" && find . -path ./.git -prune -o \( -type f -o -type l \) -printf '%P\0' |
		git check-ignore --no-index --stdin -z | tr '\0' '\n' | LC_ALL=C sort)
	kept=$(comm -23 <(echo "$all") <(echo "$ign"))
	if [ "$kept" != "$got" ]; then
		badci=$((badci + 1))
		[ $badci -le 3 ] && notok "check-ignore seed $seed: $(diff <(echo "$kept") <(echo "$got") | head -n 6 | tr '\n' ' ')"
	fi
	if [ "$want" != "$got" ]; then
		bad=$((bad + 1))
		[ $bad -le 3 ] && notok "gitignore seed $seed: $(diff <(echo "$want") <(echo "$got") | head -n 6 | tr '\n' ' ')"
	fi
	rm -rf "$d"
done
same "gitignore: ferry and git ls-files agree on $N random trees" "$bad" "0"
same "gitignore: ferry and git check-ignore --no-index agree on $N random trees" "$badci" "0"
