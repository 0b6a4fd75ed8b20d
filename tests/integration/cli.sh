# The command line: help, version, exit codes, multi-call names, config
# errors and `ferry config`.  Needs no server.
# cost: 10 (seconds, roughly: tests/run starts the costliest first)
set -eu
. "$FERRY_SOURCE_ROOT/tests/lib.sh"
cd "$SCRATCH"

expect_exit "--help exits 0" 0 "$FERRY" --help
HELP=$OUT
for c in deploy up down ps logs exec backup restore list verify prune daemon \
	 schedule check config history init; do
	contains "--help lists $c" "$HELP" "  $c "
	expect_exit "$c --help exits 0" 0 "$FERRY" "$c" --help
	contains "$c --help shows usage" "$OUT" "usage: ferry $c"
done
contains "--help documents exit codes" "$("$FERRY" --help)" "7 lock held"
expect_exit "--version exits 0" 0 "$FERRY" --version
contains "--version names ferry" "$OUT" "ferry 0."
expect_exit "no command: usage, exit 2" 2 "$FERRY"
expect_exit "unknown command: exit 2" 2 "$FERRY" frobnicate
contains "unknown command is named" "$ERR" "unknown command 'frobnicate'"
expect_exit "unknown option: exit 2" 2 "$FERRY" --frobnicate
expect_exit "check with a stray argument: exit 2" 2 "$FERRY" -c /dev/null check extra

# multi-call names
for n in deploy-to-dev remote-logs backup-dev-data; do ln -sf "$FERRY" "$n"; done
expect_exit "deploy-to-dev --help" 0 ./deploy-to-dev --help
contains "deploy-to-dev keeps its flags" "$OUT" "[--build] [--service NAME] [--type TYPE]"
expect_exit "deploy-to-dev rejects unknown flags" 2 ./deploy-to-dev --bogus
expect_exit "remote-logs --help" 0 ./remote-logs --help
contains "remote-logs keeps its flags" "$OUT" "[-f] [-n NUM] [SERVICE]"
expect_exit "remote-logs -n needs a number" 2 ./remote-logs -n many
contains "remote-logs -n error says why" "$ERR" "-n takes a number of lines, not 'many'"
expect_exit "remote-logs takes one service" 2 ./remote-logs a b
expect_exit "backup-dev-data --help" 0 ./backup-dev-data --help
expect_exit "backup-dev-data rejects arguments" 2 ./backup-dev-data now

# config discovery and errors (exit 2, FILE:LINE)
expect_exit "missing -c file: exit 2" 2 "$FERRY" -c nonexistent.ini config
contains "missing file is named" "$ERR" "nonexistent.ini"
mkdir -p empty && (cd empty && HOME="$SCRATCH/empty" FERRY_CONFIG= "$FERRY" config) >/dev/null 2>err.txt && st=0 || st=$?
same "no config anywhere: exit 2" "$st" 2
contains "no config: search order named" "$(cat err.txt)" "tried ./ferry.ini"

printf '[server]\nhost = h\n\n[postgres]\npasword = x\n' >bad.ini
expect_exit "unknown key: exit 2" 2 "$FERRY" -c bad.ini config
same "unknown key message" "$ERR" "ferry: bad.ini:5: unknown key 'pasword' in [postgres]"
printf '[server]\nhost = h\nport = 70000\n' >bad.ini
expect_exit "bad port: exit 2" 2 "$FERRY" -c bad.ini check
contains "bad port message" "$OUT" "config      FAIL bad.ini:3: bad value '70000' for port in [server]: expected a port number from 1 to 65535"
expect_exit "bad port: config exits 2" 2 "$FERRY" -c bad.ini config
same "bad port message on stderr" "$ERR" "ferry: bad.ini:3: bad value '70000' for port in [server]: expected a port number from 1 to 65535"
printf '[server]\nhost = h\nkeepalive = often\n' >bad.ini
expect_exit "bad duration: exit 2" 2 "$FERRY" -c bad.ini config
printf '[server]\nhost = h\n[redis\n' >bad.ini
expect_exit "syntax error: exit 2" 2 "$FERRY" -c bad.ini config
same "syntax error message" "$ERR" "ferry: bad.ini:3: syntax error: expected '[section]' or 'key = value'"
printf '[server]\nport = 22\n' >bad.ini
expect_exit "missing host: exit 2" 2 "$FERRY" -c bad.ini config
same "missing host message" "$ERR" "ferry: bad.ini:1: missing required key 'host' in [server]"
FERRY_CONFIG="$SCRATCH/bad.ini" expect_exit "FERRY_CONFIG is used" 2 "$FERRY" config

# `ferry config`: origins, masking, env_file, *_file
printf 'DB_PASS="pw from env file"\n' >app.env
printf 'secret-in-a-file\n' >neo.secret
cat >good.ini <<INI
[server]
host = \${FERRY_TEST_HOST:-dev.example.invalid}
[project]
env_file = app.env
[postgres]
password = \${DB_PASS}
[neo4j]
password_file = neo.secret
[redis]
password = literal-redis-secret
INI
chmod 600 good.ini
expect_exit "config prints" 0 "$FERRY" -c good.ini config
lacks "config masks env_file secret" "$OUT" "pw from env file"
lacks "config masks _file secret" "$OUT" "secret-in-a-file"
lacks "config masks literal secret" "$OUT" "literal-redis-secret"
contains "config shows origin file:line" "$OUT" "good.ini:2"
contains "config shows defaults" "$OUT" "; default"
contains "config shows env_file origin" "$OUT" "via env_file"
same "private config: no warning" "$ERR" ""
FERRY_TEST_HOST=from.env.invalid expect_exit "config with env var" 0 "$FERRY" -c good.ini config
contains "environment variable expands" "$OUT" "from.env.invalid"
expect_exit "config --json" 0 "$FERRY" -c good.ini config --json
if printf '%s' "$OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["server"]["port"]["value"]=="22"'; then
	ok "config --json is JSON with values"
else
	notok "config --json is JSON with values"
fi
lacks "config --json masks secrets" "$OUT" "literal-redis-secret"
chmod 644 good.ini
expect_exit "readable config still loads" 0 "$FERRY" -c good.ini config
contains "readable config with literal secret warns" "$ERR" "literal secret 'password' in [redis]"
lacks "warning does not print the secret" "$ERR" "literal-redis-secret"

# numbers on the command line are bounded, not wrapped
expect_exit "restore --jobs 4294967297 is a usage error" 2 "$FERRY" -c good.ini restore --latest --jobs 4294967297
contains "--jobs: says the range" "$ERR" "from 1 to 64"
expect_exit "restore --jobs 0 is a usage error" 2 "$FERRY" -c good.ini restore --latest --jobs 0
# restore's arguments, judged before any config or archive is read
rbad() { # WHAT WANT ARGS...
	local what=$1 want=$2
	shift 2
	expect_exit "restore $what: exit 2" 2 "$FERRY" -c good.ini restore "$@"
	contains "restore $what: says why" "$ERR" "$want"
}
rbad "--db given twice for one source" "--db shop=a and shop=b: shop given twice" --latest --db shop=a --db shop=b
rbad "two --db into one target" "--db shop=x and blog=x: two into x" --latest --db shop=x --db blog=x
rbad "--db without =" "--db shop: expected SRC=DST" --latest --db shop
rbad "--bucket twice" "--bucket m=a and m=b: m given twice" --latest --bucket m=a --bucket m=b
rbad "--db with --only redis" "--db names databases of postgres and neo4j, which --only leaves out" --latest --only redis --db shop=x
rbad "--bucket with --only postgres" "--bucket names buckets of minio, which --only leaves out" --latest --only postgres --bucket m=x
rbad "--to ''" "--to: empty directory name" --latest --only redis --to ''
rbad "--only postgres --to DIR" "--to DIR: postgres cannot be restored into a directory" --latest --only postgres --to "$SCRATCH/pgdir"
lacks "restore --only postgres --to DIR: judged before any archive is looked at" "$ERR" "--latest:"
rbad "''" "empty archive name" ''
rbad "--only ''" "--only: no component named" --latest --only '' --clean
expect_exit "backup --only '': exit 2" 2 "$FERRY" -c good.ini backup --only ''
contains "backup --only '': says why" "$ERR" "--only: no component named"
expect_exit "verify '': exit 2" 2 "$FERRY" -c good.ini verify ''
contains "verify '': says why" "$ERR" "empty archive name"
mkdir -p adir
rbad "of a directory" "adir is a directory, not an archive" adir
expect_exit "restore --db with --only neo4j passes the arguments" 1 "$FERRY" -c good.ini restore --latest --only neo4j --db shop=x
lacks "restore --db with --only neo4j: no usage error" "$ERR" "leaves out"
# option errors all read "ferry COMMAND: ..."
for c in deploy backup restore list verify prune check config offsite; do
	expect_exit "$c --bogus: exit 2" 2 "$FERRY" -c good.ini $c --bogus
	contains "$c --bogus: says which command" "$ERR" "ferry $c"
done
expect_exit "a missing option value: exit 2" 2 "$FERRY" -c good.ini restore --latest --jobs
contains "a missing option value: says so" "$ERR" "needs a value"
# global options after the command
expect_exit "-q after the command" 0 "$FERRY" -c good.ini config -q
expect_exit "-c FILE after the command" 0 "$FERRY" config -c good.ini
contains "-c FILE after the command: that file" "$OUT" "good.ini"
expect_exit "-c after deploy is still --checksum" 2 "$FERRY" --config good.ini deploy -c nosuchservice-arg --dry-run --bogus
contains "... (deploy parsed it: the bogus option is what it names)" "$ERR" "--bogus"
expect_exit "ferry help COMMAND" 0 "$FERRY" help restore
contains "help COMMAND is COMMAND --help" "$OUT" "usage: ferry restore"
expect_exit "help of an unknown command: exit 2" 2 "$FERRY" help frobnicate
# verify: an archive that does not exist is not damage
expect_exit "verify of a missing path: exit 1" 1 "$FERRY" -c good.ini verify /nonexistent/x.tar.zst
contains "verify of a missing path: says so" "$ERR" "no such archive"
printf 'not an archive at all\n' >junk.tar.zst
expect_exit "verify of junk: exit 6" 6 "$FERRY" -c good.ini verify junk.tar.zst
contains "verify of junk: not a ferry archive" "$ERR" "not a ferry archive"

# ---- the new-user trial's findings --------------------------------------------
# no command: usage on stderr, nothing on stdout, exit 2 (as git)
expect_exit "no command: exit 2" 2 "$FERRY"
same "no command: nothing on stdout" "$OUT" ""
contains "no command: usage on stderr" "$ERR" "usage: ferry"
# -q leaves only errors: a warning is not one
chmod 644 good.ini
expect_exit "-q with a warning to give" 0 "$FERRY" -q -c good.ini config
lacks "-q: no warnings" "$ERR" "warning"
expect_exit "-q after the command with a warning to give" 0 "$FERRY" -c good.ini config -q
lacks "-q after the command: no warnings" "$ERR" "warning"
# --log-format json: the level is a field, not repeated in the message
expect_exit "json log with a warning" 0 "$FERRY" --log-format json -c good.ini config
contains "json log: level warning" "$ERR" '"level":"warning"'
lacks "json log: message does not repeat the level" "$ERR" '"message":"warning:'
chmod 600 good.ini
# global options under the old names (README)
expect_exit "backup-dev-data --json: exit 2 for the missing file" 2 ./backup-dev-data --json -c nonexistent.ini
lacks "backup-dev-data --json: not an unknown option" "$ERR" "unknown option"
contains "backup-dev-data --json: JSON result" "$OUT" '"status": "failed"'
expect_exit "remote-logs --log-format json" 2 ./remote-logs --log-format json -c nonexistent.ini
contains "remote-logs --log-format json: JSON lines" "$ERR" '"level":"error"'
expect_exit "deploy-to-dev --config FILE" 2 ./deploy-to-dev -q --config nonexistent.ini
contains "deploy-to-dev --config: the file is named" "$ERR" "nonexistent.ini"
lacks "deploy-to-dev --config: not an unknown option" "$ERR" "unknown option"
# error hints under an old name point to something that works
expect_exit "deploy-to-dev with an argument" 2 ./deploy-to-dev web
contains "deploy-to-dev hint: its own --help" "$ERR" "(see 'deploy-to-dev --help')"
lacks "deploy-to-dev hint: not ferry deploy-to-dev" "$ERR" "ferry deploy-to-dev --help"
expect_exit "remote-logs --bogus" 2 ./remote-logs --bogus
contains "remote-logs hint: its own --help" "$ERR" "(see 'remote-logs --help')"
# --json where a command has no JSON output: said, exit 2
expect_exit "--json deploy --dry-run: exit 2" 2 "$FERRY" -c good.ini --json deploy --dry-run
contains "--json deploy: says it is not supported" "$ERR" "--json is not supported by 'deploy'"
expect_exit "deploy-to-dev --json: exit 2" 2 ./deploy-to-dev --json -c good.ini
# config: every secret key masked, access_key too
cat >keys.ini <<INI
[server]
host = dev.example.invalid
[minio]
access_key = minio-access-id
secret_key = minio-secret-key
[offsite]
url = s3://bucket/ferry
endpoint = http://s3.dev.example.invalid
access_key = offsite-access-id
secret_key = offsite-secret-key
INI
chmod 600 keys.ini
expect_exit "config with [minio] and [offsite]" 0 "$FERRY" -c keys.ini config
lacks "config masks [minio] access_key" "$OUT" "minio-access-id"
lacks "config masks [offsite] access_key" "$OUT" "offsite-access-id"
lacks "config masks [offsite] secret_key" "$OUT" "offsite-secret-key"
contains "config shows [offsite] when configured" "$OUT" "[offsite]"
expect_exit "config --json with [minio]" 0 "$FERRY" -c keys.ini config --json
lacks "config --json masks access_key" "$OUT" "access-id"
# config: no defaults of a part that is off
expect_exit "config without [offsite]/[minio]" 0 "$FERRY" -c good.ini config
lacks "config: no [offsite] when absent" "$OUT" "[offsite]"
lacks "config: no [minio] when absent" "$OUT" "[minio]"
lacks "config: no [notify] when absent" "$OUT" "[notify]"
contains "config: [deploy]'s defaults still shown" "$OUT" "[deploy]"
contains "config: a configured [neo4j] shown" "$OUT" "[neo4j]"
expect_exit "config --json without [offsite]" 0 "$FERRY" -c good.ini config --json
if printf '%s' "$OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert "offsite" not in d and "minio" not in d and "deploy" in d'; then
	ok "config --json: no absent part"
else
	notok "config --json: no absent part"
fi
# a bad --log-format after the command stops it (it used to run on)
expect_exit "config --log-format xml: exit 2" 2 "$FERRY" -c good.ini config --log-format xml
lacks "config --log-format xml: nothing printed" "$OUT" "[server]"
