# What a new user meets in the first hour (issue 10): config problems
# raised where they matter, long lines, quotes, ferry init, -q, progress,
# list's sizes, escaped names.  The parts that need a server skip without
# the sandbox.
# cost: 40 (seconds, roughly: tests/run starts the costliest first)
set -eu
. "$FERRY_SOURCE_ROOT/tests/lib.sh"
cd "$SCRATCH"
unset FERRY_FC_UNSET

# ---- a broken value stops only what uses it -------------------------------
mkdir -p archives
cat >lazy.ini <<INI
[server]
host = local
[backup]
dir = $SCRATCH/archives
[neo4j]
password = \${FERRY_FC_UNSET}
INI
chmod 600 lazy.ini
expect_exit "unset [neo4j] password: verify --latest is not blocked" 1 "$FERRY" -c lazy.ini verify --latest
contains "verify --latest says why it stopped" "$ERR" "no archives in $SCRATCH/archives"
expect_exit "unset [neo4j] password: list works" 0 "$FERRY" -c lazy.ini list
expect_exit "unset [neo4j] password: prune works" 0 "$FERRY" -c lazy.ini prune --dry-run
expect_exit "config still reports it: exit 2" 2 "$FERRY" -c lazy.ini config
same "config names file:line" "$ERR" "ferry: lazy.ini:6: password in [neo4j]: variable 'FERRY_FC_UNSET' is not set"
contains "config shows the value as broken" "$OUT" "password          = (error)"
expect_exit "check reports it: exit 2" 2 "$FERRY" -c lazy.ini check
contains "check has a config row" "$OUT" "config      FAIL lazy.ini:6: password in [neo4j]: variable 'FERRY_FC_UNSET' is not set"
contains "check does not check the broken part" "$OUT" "neo4j       FAIL lazy.ini:6:"
expect_exit "backup --only neo4j raises it: exit 2" 2 "$FERRY" -c lazy.ini backup --only neo4j
same "backup names file:line" "$ERR" "ferry: lazy.ini:6: password in [neo4j]: variable 'FERRY_FC_UNSET' is not set"
cat >lazy2.ini <<INI
[server]
host = local
[backup]
dir = $SCRATCH/archives
compression_level = \${FERRY_FC_UNSET}
INI
expect_exit "a broken [backup] value stops list: exit 2" 2 "$FERRY" -c lazy2.ini list
same "list names file:line" "$ERR" "ferry: lazy2.ini:5: compression_level in [backup]: variable 'FERRY_FC_UNSET' is not set"
expect_exit "verify of a path needs no config" 6 "$FERRY" -c lazy2.ini verify lazy.ini

# ---- lines, bytes, sections, keys -----------------------------------------
{
	printf '[server]\nhost = local\n[deploy]\nexclude = '
	for i in $(seq 1 20); do printf 'generated-%02d/, ' "$i"; done
	printf 'last/\n'
} >long.ini
[ "$(sed -n 4p long.ini | wc -c)" -gt 212 ] && ok "the exclude line is over 212 bytes" || notok "exclude line too short"
expect_exit "a 300-byte exclude line loads" 0 "$FERRY" -c long.ini config
contains "every item of it is read" "$OUT" "last/"
{ printf '[server]\nhost = local\nuser = '; head -c 70000 /dev/zero | tr '\0' u; printf '\n'; } >toolong.ini
expect_exit "a line past 64 KiB: exit 2" 2 "$FERRY" -c toolong.ini config
same "it is named" "$ERR" "ferry: toolong.ini:3: line longer than 65536 bytes"
cp "$FERRY" binary.ini
expect_exit "a binary file as the config: exit 2" 2 "$FERRY" -c binary.ini config
contains "binary file has its own message" "$ERR" "NUL byte: this is not a text file"
printf '[server]\nhost =\n' >empty.ini
expect_exit "host = (empty): config exits 2" 2 "$FERRY" -c empty.ini config
same "empty host named with its line" "$ERR" "ferry: empty.ini:2: empty value for host in [server] (to use the default, remove the line)"
expect_exit "host = (empty): check exits 2, not 3" 2 "$FERRY" -c empty.ini check
expect_exit "host = (empty): deploy exits 2, not 3" 2 "$FERRY" -c empty.ini deploy --dry-run
printf '[server]\nhost = dev.example.invalid\nidentity = ~/.ssh/no-such-key-%s\n' "$$" >ident.ini
expect_exit "missing identity file: check exits 2" 2 "$FERRY" -c ident.ini check
contains "missing identity named with its line" "$OUT" "ident.ini:3: identity in [server]:"
lacks "no 'no keys found'" "$OUT$ERR" "no keys found"
expect_exit "missing identity file: deploy exits 2" 2 "$FERRY" -c ident.ini deploy --dry-run
contains "deploy names the key" "$ERR" "ident.ini:3: identity in [server]"
printf '[server]\nhost = local\n[project]\nlocal_dir = no-such-dir\nremote_dir = /tmp/x\n' >ldir.ini
expect_exit "missing local_dir: deploy exits 2" 2 "$FERRY" -c ldir.ini deploy --dry-run
same "missing local_dir named with its line" "$ERR" "ferry: ldir.ini:4: local_dir in [project]: no-such-dir: No such file or directory"
printf '[server]\nhost = local\n\n[backup]\n[server]\nport = 2222\n' >rep.ini
expect_exit "a repeated [server]: exit 2" 2 "$FERRY" -c rep.ini config
same "repeated section message" "$ERR" "ferry: rep.ini:5: section [server] repeated (first on line 1); put its keys in one place"
printf '[server]\nhost = local\np\xe4ss\x1b[2J = x\n' >utf.ini
expect_exit "a key with invalid UTF-8: exit 2" 2 "$FERRY" -c utf.ini config
same "the key is shown escaped" "$ERR" "ferry: utf.ini:3: unknown key 'p\\344ss\\033[2J' in [server]"

# ---- quotes: dropped, the same for every key --------------------------------
cat >quotes.ini <<'INI'
[server]
host = "local"
[project]
remote_dir = "/srv/x"
name = 'shop'
[deploy]
exclude = "uploads/", 'data/'
INI
expect_exit "quoted values load" 0 "$FERRY" -c quotes.ini config --json
if printf '%s' "$OUT" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["project"]["remote_dir"]["value"] == "/srv/x", d["project"]
assert d["project"]["name"]["value"] == "shop"
assert d["server"]["host"]["value"] == "local"
assert d["deploy"]["exclude"]["value"] == "uploads/\ndata/", d["deploy"]'; then
	ok "matching quotes are dropped"
else
	notok "matching quotes are dropped: $OUT"
fi

# ---- deploy (host = local): escaped names, progress, -q ---------------------
mkdir -p proj/src proj/dst
printf 'x' >proj/src/plain.txt
printf 'y' >"proj/src/new
line.txt"
printf 'z' >"proj/src/esc$(printf '\033')[31mred"
head -c 3000000 /dev/urandom >proj/src/big.bin
cat >proj/d.ini <<INI
[server]
host = local
[project]
local_dir = src
remote_dir = $SCRATCH/proj/dst
INI
expect_exit "deploy --dry-run (local)" 0 "$FERRY" -c proj/d.ini deploy --dry-run --no-up
contains "a newline in a name is escaped" "$OUT" '>f+++++++++ new\nline.txt'
contains "an escape byte in a name is escaped" "$OUT" '>f+++++++++ esc\033[31mred'
lacks "no raw escape byte in the output" "$OUT" "$(printf '\033')"
same "one line per entry, plus the summary" "$(printf '%s\n' "$OUT" | wc -l)" 5
expect_exit "deploy piped: no progress" 0 "$FERRY" -c proj/d.ini deploy --no-up
lacks "no progress line when stderr is not a terminal" "$ERR" "entries"
contains "the summary line" "$OUT" "4 entries to send"
rm -rf proj/dst/* proj/dst/.ferry
# a pty: script(1) gives ferry a terminal for stdout and stderr.
TTY_OUT=$(script -qec "'$FERRY' -c proj/d.ini deploy --no-up" /dev/null | tr -d '\r')
contains "progress on a terminal" "$TTY_OUT" "deploy  4/4 entries  2.9 MiB / 2.9 MiB  100%"
rm -rf proj/dst/* proj/dst/.ferry
TTY_OUT=$(script -qec "'$FERRY' -c proj/d.ini deploy --no-up -q" /dev/null | tr -d '\r')
same "-q: nothing at all on a terminal" "$TTY_OUT" ""
[ -f proj/dst/big.bin ] && ok "-q still deploys" || notok "-q still deploys"
rm -rf proj/dst/* proj/dst/.ferry
TTY_OUT=$(script -qec "'$FERRY' -c proj/d.ini deploy --no-up --quiet --dry-run" /dev/null | tr -d '\r')
contains "-q keeps a dry run's plan" "$TTY_OUT" "dry run: 4 entries"

# ---- require: how to make a missing file depends on whether it is sent ------
mkdir -p rq/src/config rq/dst
echo 'A=change-me' >rq/src/config/app.env.example
cat >rq/r.ini <<INI
[server]
host = local
[project]
local_dir = src
remote_dir = $SCRATCH/rq/dst
[deploy]
require = config/app.env
INI
expect_exit "a required file that is not excluded: exit 1" 1 "$FERRY" -c rq/r.ini deploy
contains "it is to be made locally" "$ERR" "required file config/app.env is missing in $SCRATCH/rq/dst on local: create it in rq/src (cp config/app.env.example config/app.env, then fill it in) and deploy again"
lacks "it is not said to stay on the server" "$ERR" "ferry does not send it"
sed -i 's/^require = .*/&\ndelete = no/' rq/r.ini
expect_exit "the same without deletions" 1 "$FERRY" -c rq/r.ini deploy
contains "then it may be made there too" "$ERR" "create it there or in rq/src (cp config/app.env.example config/app.env, then fill it in); it is not excluded"
sed -i 's|^require = .*|require = config/.env, secrets/key.pem|; s|^delete = no|exclude = secrets/|' rq/r.ini
mkdir -p rq/src/secrets && echo k >rq/src/secrets/key.pem.example
expect_exit "a required .env file: exit 1" 1 "$FERRY" -c rq/r.ini deploy
contains "an excluded one stays on the server" "$ERR" "required file config/.env is missing in $SCRATCH/rq/dst on local: create it there; ferry does not send it"
sed -i 's|^require = .*|require = secrets/key.pem|' rq/r.ini
expect_exit "a required file under [deploy] exclude: exit 1" 1 "$FERRY" -c rq/r.ini deploy
contains "[deploy] exclude keeps it on the server" "$ERR" "create it there; ferry does not send it"
cp rq/src/config/app.env.example rq/src/config/app.env
expect_exit "made locally, it is sent" 0 "$FERRY" -c rq/r.ini deploy --dry-run --no-up
contains "the plan sends it" "$OUT" ">f+++++++++ config/app.env"
contains "one entry, said so" "$OUT" "dry run: 1 entry to send"

# ---- what init leaves: the config at the root, remote_dir unset ------------
mkdir -p rootcfg/app
echo a >rootcfg/app/a.txt; echo other >rootcfg/other.ini
printf '[server]\nhost = local\n[project]\nlocal_dir = .\n' >rootcfg/ferry.ini
chmod 600 rootcfg/ferry.ini
expect_exit "missing remote_dir: deploy exits 2" 2 "$FERRY" -c rootcfg/ferry.ini deploy --dry-run
same "missing remote_dir named like the other required keys" "$ERR" "ferry: rootcfg/ferry.ini: missing required key 'remote_dir' in [project] (the project's directory on the server, which deploy syncs into)"
expect_exit "missing remote_dir: check fails" 2 "$FERRY" -c rootcfg/ferry.ini check
contains "check has a row for it" "$OUT" "remote dir  FAIL rootcfg/ferry.ini: missing required key 'remote_dir' in [project]"
printf 'remote_dir = %s/rootdst\n' "$SCRATCH" >>rootcfg/ferry.ini
expect_exit "config at the root of local_dir: dry run" 0 "$FERRY" -c rootcfg/ferry.ini deploy --dry-run --no-up
lacks "the config in use is never sent" "$OUT" "ferry.ini"
contains "other .ini files are" "$OUT" ">f+++++++++ other.ini"
expect_exit "config at the root: deploy --no-up" 0 "$FERRY" -c rootcfg/ferry.ini deploy --no-up
[ -e rootdst/ferry.ini ] && notok "ferry.ini reached the server" || ok "ferry.ini stays local"
[ -f rootdst/app/a.txt ] && ok "the project arrived" || notok "the project did not arrive"
(cd rootcfg && expect_exit "config named relatively from inside" 0 "$FERRY" -c ./ferry.ini deploy --dry-run --no-up)
lacks "./ferry.ini is the same file" "$OUT" "ferry.ini"
# history: --no-up started no service; durations as written
expect_exit "history after --no-up" 0 "$FERRY" -c rootcfg/ferry.ini history
contains "--no-up recorded with no services" "$(tail -n 1 <<<"$OUT")" " none"
expect_exit "history --json" 0 "$FERRY" -c rootcfg/ferry.ini history --json
contains "--no-up: services null" "$OUT" '"services": null'
if grep -Eq '"duration": [0-9]+(\.[0-9])?,?$' <<<"$OUT" && ! grep -q '"duration": [0-9.]\{6,\}' <<<"$OUT"; then
	ok "history --json: durations rounded"; else notok "history --json durations: $(grep duration <<<"$OUT")"; fi
# history names the commit deployed, and whether the work tree was dirty
if command -v git >/dev/null; then
	last_commit() { "$FERRY" -c rootcfg/ferry.ini history --json -n 1 |
		python3 -c 'import json,sys; r=json.load(sys.stdin)[0]; print(r.get("commit", "-"), r.get("dirty", "-"))'; }
	(cd rootcfg && git init -q && git add -A && git -c user.name=t -c user.email=t@t.invalid commit -qm one)
	expect_exit "deploy from a git work tree" 0 "$FERRY" -c rootcfg/ferry.ini deploy --no-up
	same "history: the commit, clean" "$(last_commit)" "$(git -C rootcfg rev-parse HEAD) False"
	echo change >>rootcfg/app/a.txt
	expect_exit "deploy from a dirty work tree" 0 "$FERRY" -c rootcfg/ferry.ini deploy --no-up
	same "history: the commit, dirty" "$(last_commit)" "$(git -C rootcfg rev-parse HEAD) True"
	rm -rf rootcfg/.git
else
	skip "history: commit and dirty: git is not installed"
fi

# ---- list: sizes, -q --------------------------------------------------------
mkdir -p ar
head -c 1500000 /dev/zero >ar/fc-20240101T000000Z.tar.zst
printf '[server]\nhost = local\n[backup]\ndir = %s/ar\nname = fc\n' "$SCRATCH" >l.ini
expect_exit "list" 0 "$FERRY" -c l.ini list
contains "list: sizes are human-readable" "$OUT" " 1.4 MiB  "
expect_exit "list --bytes" 0 "$FERRY" -c l.ini list --bytes
contains "list --bytes: exact" "$OUT" " 1500000  "
expect_exit "list --json" 0 "$FERRY" -c l.ini list --json
contains "list --json: bytes" "$OUT" '"size": 1500000'
expect_exit "list -q after the command" 0 "$FERRY" -c lazy.ini list -q
same "list -q: no 'no archives' line" "$OUT" ""
expect_exit "list: 'no archives' without -q" 0 "$FERRY" -c lazy.ini list
contains "list says so without -q" "$OUT" "no archives in"
expect_exit "verify -q: errors still print" 6 "$FERRY" -c l.ini verify --latest -q
contains "verify -q: the error" "$ERR" "no manifest.json"
expect_exit "check -q with everything ok" 0 "$FERRY" -c l.ini check -q
same "check -q: no ok rows" "$OUT" ""

# ---- option errors start "ferry COMMAND:" ------------------------------------
for c in deploy backup restore list verify prune check config; do
	expect_exit "$c --bogus: exit 2" 2 "$FERRY" -c l.ini "$c" --bogus
	contains "$c: the option error names the command" "$ERR" "ferry $c: unknown option '--bogus'"
done
expect_exit "verify --offsite without [offsite]: exit 2" 2 "$FERRY" -c l.ini verify --latest --offsite
contains "verify --offsite: an option error" "$ERR" "ferry verify: --offsite needs an [offsite] section"
expect_exit "backup --only bogus: exit 2" 2 "$FERRY" -c l.ini backup --only bogus
contains "backup --only: an option error" "$ERR" "ferry backup: --only: unknown component 'bogus'"
for n in deploy-to-dev remote-logs backup-dev-data; do ln -sf "$FERRY" "$n"; done
expect_exit "backup-dev-data --bogus: exit 2" 2 ./backup-dev-data --bogus
contains "legacy option errors name the command" "$ERR" "ferry backup-dev-data: unknown option '--bogus'"
expect_exit "deploy-to-dev -q is ferry's -q" 0 ./deploy-to-dev -c proj/d.ini -q --help

# ---- ferry init on an infinite-scribe-like tree -----------------------------
# PostgreSQL 16, Neo4j 5, MinIO, Redis 7, Kafka, Milvus, Prefect; compose
# files under deploy/ (docker-compose.yml + docker-compose.backend.yml),
# env files deploy/environments/.env.*.
IS="$SCRATCH/infinite-scribe"
mkdir -p "$IS/deploy/environments" "$IS/deploy/init/postgres" "$IS/apps/backend/src"
cat >"$IS/deploy/docker-compose.yml" <<'YAML'
name: infinite-scribe

x-common: &common
  restart: unless-stopped
  networks:
    - infinite-scribe-network

networks:
  infinite-scribe-network:
    driver: bridge

volumes:
  postgres-data:
  redis-data:
  neo4j-data:
  minio-data:

services:
  # PostgreSQL Database
  postgres:
    <<: *common
    image: postgres:16
    environment:
      POSTGRES_DB: ${POSTGRES_DB:-infinite_scribe}
      POSTGRES_USER: ${POSTGRES_USER:-postgres}
      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD}
    ports:
      - '${POSTGRES_PORT:-5432}:5432'
    volumes:
      - postgres-data:/var/lib/postgresql/data
      - ./init/postgres:/docker-entrypoint-initdb.d
    healthcheck:
      test: ['CMD-SHELL', 'pg_isready -U ${POSTGRES_USER:-postgres}']
  redis:
    <<: *common
    image: redis:7.2-alpine
    command: redis-server --requirepass ${REDIS_PASSWORD} --maxmemory 512mb --maxmemory-policy allkeys-lru
    ports:
      - '${REDIS_PORT:-6379}:6379'
  neo4j:
    image: neo4j:5
    environment:
      NEO4J_AUTH: ${NEO4J_USER:-neo4j}/${NEO4J_PASSWORD}
      NEO4J_PLUGINS: '["apoc", "graph-data-science"]'
    ports:
      - '7474:7474' # HTTP
      - '7687:7687' # Bolt
  milvus:
    image: milvusdb/milvus:v2.6.0-rc1
    command: ['milvus', 'run', 'standalone']
    environment:
      ETCD_ENDPOINTS: etcd:2379
      MINIO_ADDRESS: minio:9000
      MINIO_ACCESS_KEY_ID: ${MINIO_ACCESS_KEY:-minioadmin}
      MINIO_SECRET_ACCESS_KEY: ${MINIO_SECRET_KEY}
    depends_on:
      - etcd
      - minio
  etcd:
    image: quay.io/coreos/etcd:v3.5.18
    command: etcd -advertise-client-urls=http://etcd:2379 -listen-client-urls http://0.0.0.0:2379
  minio:
    image: minio/minio:RELEASE.2023-03-20T20-16-18Z
    environment:
      MINIO_ACCESS_KEY: ${MINIO_ACCESS_KEY:-minioadmin}
      MINIO_SECRET_KEY: ${MINIO_SECRET_KEY}
    ports:
      - target: 9000
        published: "9000"
      - '9001:9001'
    command: minio server /minio_data --console-address ":9001"
  minio-init:
    image: minio/mc:latest
    environment:
      - MINIO_ROOT_USER=${MINIO_ACCESS_KEY:-minioadmin}
      - MINIO_ROOT_PASSWORD=${MINIO_SECRET_KEY}
  kafka:
    image: confluentinc/cp-kafka:8.0.0
    ports:
      - '${KAFKA_PORT:-9092}:9092'
    environment:
      KAFKA_NODE_ID: 1
      KAFKA_PROCESS_ROLES: 'broker,controller'
    command:
      - bash
      - -lc
      - |
        exec /etc/confluent/docker/run
  prefect-api:
    image: prefecthq/prefect:3-latest
    environment:
      PREFECT_API_DATABASE_CONNECTION_URL: 'postgresql+asyncpg://${POSTGRES_USER:-postgres}:${POSTGRES_PASSWORD}@postgres:5432/prefect'
    ports:
      - '4200:4200'
YAML
cat >"$IS/deploy/docker-compose.backend.yml" <<'YAML'
services:
  api-gateway:
    build:
      context: ../apps/backend
    env_file:
      - ./environments/.env.dev
    ports:
      - '8000:8000'
  agent-worldsmith:
    build: ../apps/backend
    env_file: ./environments/.env.dev
YAML
printf 'POSTGRES_PASSWORD=dev-pg-secret\nREDIS_PASSWORD=dev-redis-secret\nNEO4J_PASSWORD=dev-neo-secret\nMINIO_SECRET_KEY=dev-minio-secret\n' >"$IS/deploy/environments/.env.dev"
printf 'POSTGRES_PASSWORD=change-me\n' >"$IS/deploy/environments/.env.example"
printf 'POSTGRES_PASSWORD=test-pg\n' >"$IS/deploy/environments/.env.test"
printf 'print("hi")\n' >"$IS/apps/backend/src/main.py"

expect_exit "init --dir PROJECT --host" 0 "$FERRY" init --dir "$IS" --host dev.example.invalid
INI="$IS/ferry.ini"
contains "init says what it wrote" "$OUT" "wrote $IS/ferry.ini (mode 0600)"
same "the file is 0600" "$(stat -c %a "$INI")" 600
expect_exit "the generated file loads: config exits 0" 0 "$FERRY" -c "$INI" config
same "config has nothing to report" "$ERR" ""
expect_exit "config --json of it" 0 "$FERRY" -c "$INI" config --json
if printf '%s' "$OUT" | python3 -c '
import json, sys
d = json.load(sys.stdin)
def val(s, k): return d[s][k]["value"]
def origin(s, k): return d[s][k]["origin"]
for s in ("server", "project", "deploy", "backup", "postgres", "redis", "neo4j", "minio"):
    assert s in d, "no [%s]" % s
assert val("deploy", "compose_dir") == "deploy"
assert val("deploy", "compose_files") == "docker-compose.yml\ndocker-compose.backend.yml", val("deploy", "compose_files")
assert val("project", "name") == "infinite-scribe"
assert val("project", "env_file").endswith("deploy/environments/.env.dev")
assert val("postgres", "port") == "5432" and val("redis", "port") == "6379"
assert val("minio", "endpoint") == "http://127.0.0.1:9000"
assert val("neo4j", "url") == "http://127.0.0.1:7474" and val("neo4j", "service") == "neo4j"
for s, k in (("postgres", "password"), ("redis", "password"), ("neo4j", "password"), ("minio", "secret_key")):
    assert val(s, k) == "********", (s, k)
    assert "via env_file" in origin(s, k), (s, k, origin(s, k))
'; then ok "the generated file has the sections, values and secrets expected"; else notok "generated file: $OUT"; fi
grep -qx 'password = ${POSTGRES_PASSWORD}' "$INI" && ok "postgres password names compose's variable" || notok "postgres password: $(grep -n password "$INI")"
grep -qx 'password = ${REDIS_PASSWORD}' "$INI" && ok "redis password from --requirepass" || notok "redis password"
grep -qx 'password = ${NEO4J_PASSWORD}' "$INI" && ok "neo4j password from NEO4J_AUTH" || notok "neo4j password"
grep -qx 'secret_key = ${MINIO_SECRET_KEY}' "$INI" && ok "minio secret key" || notok "minio secret key"
grep -qx 'port = ${POSTGRES_PORT:-5432}' "$INI" && ok "the published port as compose writes it" || notok "postgres port"
lacks "no secret value copied into the file" "$(cat "$INI")" "dev-pg-secret"
grep -q '^; remote_dir = ' "$INI" && ok "remote_dir is left for the user" || notok "remote_dir"
grep -q '^\[offsite\]' "$INI" && notok "[offsite] must be left to the user" || ok "[offsite] is left to the user"
contains "other services are named" "$(cat "$INI")" "; milvus, etcd, minio-init, kafka, prefect-api, api-gateway, agent-worldsmith"
# every active key has a comment line above it
if awk '/^[a-z_]+ = / && prev !~ /^;/ { bad = bad $0 "; " } { prev = $0 } END { if (bad) { print bad; exit 1 } }' "$INI"; then
	ok "a comment above every generated key"
else
	notok "a comment above every generated key"
fi
expect_exit "init refuses to overwrite" 1 "$FERRY" init --dir "$IS"
contains "and says how" "$ERR" "already exists; --force replaces it"
grep -q '^host = dev.example.invalid' "$INI" && ok "the file is untouched" || notok "the file was changed"
expect_exit "init --force replaces it" 0 "$FERRY" init --dir "$IS" --force
grep -q '^; host = ' "$INI" && ok "without --host, host is left commented" || notok "host line"
contains "init says what is left to do" "$OUT" "next: set host in [server] (line"
expect_exit "without a host, config says so" 2 "$FERRY" -c "$INI" config
contains "naming the [server] line" "$ERR" "ferry.ini:4: missing required key 'host' in [server]"
expect_exit "init -c FILE writes there" 0 "$FERRY" -c "$SCRATCH/elsewhere.ini" init --dir "$IS" --host local
expect_exit "and it loads" 0 "$FERRY" -c "$SCRATCH/elsewhere.ini" config
contains "with absolute paths" "$OUT" "$IS/deploy/environments/.env.dev"
mkdir -p empty-project
expect_exit "init without compose files" 0 "$FERRY" init --dir empty-project --host local
contains "says none were found" "$OUT" "no compose files found"
expect_exit "that file loads too" 0 "$FERRY" -c empty-project/ferry.ini config
printf 'services:\n  db:\n    image: [unclosed\n' >"$IS/deploy/docker-compose.yml"
expect_exit "a broken compose file: exit 2" 2 "$FERRY" init --dir "$IS" --force
contains "named with its line, under --dir" "$ERR" "ferry: $IS/deploy/docker-compose.yml:4: not valid YAML"
expect_exit "--dir the compose folder itself" 2 "$FERRY" init --dir "$IS/deploy/" --force
contains "named as the user sees it" "$ERR" "ferry: $IS/deploy/docker-compose.yml:4: not valid YAML"
(cd "$IS" && expect_exit "from inside the project" 2 "$FERRY" init --force &&
	contains "named from there" "$ERR" "ferry: deploy/docker-compose.yml:4: not valid YAML")
# exit codes: PROJECT that is not a directory is a usage error, a file
# that cannot be written a failed action
expect_exit "init --dir of a missing directory: exit 2" 2 "$FERRY" init --dir no-such-project
same "says so" "$ERR" "ferry: init: no-such-project: No such file or directory"
expect_exit "init --dir of a file: exit 2" 2 "$FERRY" init --dir l.ini
same "says it is not a directory" "$ERR" "ferry: init: l.ini: Not a directory"
expect_exit "init -c into a missing directory: exit 1" 1 "$FERRY" -c no-such-dir/f.ini init --dir empty-project
same "says it cannot write it" "$ERR" "ferry: init: cannot write no-such-dir/f.ini: No such file or directory"

# ---- against the sandbox ------------------------------------------------------
needs_sandbox "first contact with a server"
PSQL() { ip netns exec "$SBX_NS" env PGPASSWORD="$SBX_PG_PASSWORD" psql -qAtX -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 "$@"; }
PSQL -c "DROP DATABASE IF EXISTS fc_shop" -c "DROP DATABASE IF EXISTS fc_copy" -c "CREATE DATABASE fc_shop" >/dev/null
PSQL -d fc_shop >/dev/null <<'SQL'
CREATE TABLE item (id int PRIMARY KEY, name text);
INSERT INTO item SELECT i, 'item ' || i FROM generate_series(1, 20000) i;
SQL
backup_conf fc.ini fc "databases = fc_shop"
# [neo4j]'s password broken: only a run that uses [neo4j] may stop on it.
cp fc.ini fcbroken.ini
printf '\n[neo4j]\npassword = ${FERRY_FC_UNSET}\n' >>fcbroken.ini
expect_exit "backup --only postgres with a broken [neo4j]" 0 "$FERRY" -c fcbroken.ini backup --only postgres
expect_exit "check reports the broken [neo4j]: exit 2" 2 "$FERRY" -c fcbroken.ini check
contains "check: the config row" "$OUT" "config      FAIL fcbroken.ini:"
contains "check: the rest is still checked" "$OUT" "postgres    ok"
new_second

# progress on a terminal; nothing when piped or with -q
TTY_OUT=$(script -qec "'$FERRY' -c fc.ini backup --only postgres" /dev/null | tr -d '\r')
contains "backup: progress on a terminal" "$TTY_OUT" "backup  "
contains "backup: the result line" "$TTY_OUT" "archives/fc-"
new_second
expect_exit "backup piped" 0 "$FERRY" -c fc.ini backup --only postgres
lacks "backup: no progress when piped" "$ERR" "backup  "
contains "backup: the result line when piped" "$OUT" " bytes, "
new_second
expect_exit "backup -q" 0 "$FERRY" -c fc.ini backup --only postgres -q
same "backup -q: no result line" "$OUT" ""
same "backup -q: nothing on stderr" "$ERR" ""
TTY_OUT=$(script -qec "'$FERRY' -c fc.ini verify --latest" /dev/null | tr -d '\r')
contains "verify: progress on a terminal" "$TTY_OUT" "verify  "
contains "verify: with the file's size" "$TTY_OUT" "100%"
expect_exit "verify -q" 0 "$FERRY" -c fc.ini -q verify --all
same "verify -q: no ok lines" "$OUT" ""
expect_exit "verify piped" 0 "$FERRY" -c fc.ini verify --latest
contains "verify: the ok line" "$OUT" "ok $SCRATCH/archives/fc-"
lacks "verify: no progress when piped" "$ERR" "verify  "
TTY_OUT=$(script -qec "'$FERRY' -c fc.ini restore --latest --db fc_shop=fc_copy" /dev/null | tr -d '\r')
contains "restore: progress on a terminal" "$TTY_OUT" "restore  "
contains "restore: its report" "$TTY_OUT" "postgres fc_shop -> fc_copy: 1 table, 20000 rows"
same "restore: the rows are there" "$(PSQL -d fc_copy -c 'SELECT count(*) FROM item')" 20000
PSQL -c "DROP DATABASE fc_copy" >/dev/null
expect_exit "restore -q" 0 "$FERRY" -c fc.ini restore --latest --db fc_shop=fc_copy -q
same "restore -q: no report" "$OUT" ""
lacks "restore: no progress when piped" "$ERR" "restore  "
expect_exit "list" 0 "$FERRY" -c fc.ini list
contains "list: sizes human-readable" "$OUT" " KiB  "
PSQL -c "DROP DATABASE fc_copy" -c "DROP DATABASE fc_shop" >/dev/null

# ps, logs and the other compose commands before the first deploy: one line
never="~/fc-never-$$/sub"
sed "s|^remote_dir = .*|remote_dir = $never|" "$SBX_DIR/ferry.ini" >never.ini
printf '[deploy]\ncompose_dir = deploy\ncompose = docker-compose\n' >>never.ini
chmod 600 never.ini
for c in ps "ps --json" "ps web" logs "logs -f" "logs --since 10m web" restart down up; do
	expect_exit "$c before the first deploy: exit 4" 4 "$FERRY" -c never.ini $c
	same "$c: one line, no shell error" "$ERR" "ferry: ${c%% *}: $never/deploy does not exist on $SBX_USER@$SBX_IP:22 yet (not deployed)"
done
expect_exit "exec before the first deploy: exit 4" 4 "$FERRY" -c never.ini exec web -- true
same "exec: one line, no shell error" "$ERR" "ferry: $never/deploy does not exist on $SBX_USER@$SBX_IP:22 yet (not deployed)"

# a passphrase-protected key without FERRY_SSH_PASSPHRASE
cat >pp.ini <<INI
[server]
host = $SBX_IP
user = $SBX_USER
known_hosts = $SBX_KNOWN_HOSTS
identity = $SBX_KEY_PP
connect_timeout = 5s
INI
(
	unset FERRY_SSH_PASSPHRASE SSH_AUTH_SOCK
	expect_exit "passphrase-protected key, no passphrase: exit 3" 3 "$FERRY" -c pp.ini check
	contains "it says to set FERRY_SSH_PASSPHRASE" "$OUT" "$SBX_KEY_PP (passphrase-protected: set FERRY_SSH_PASSPHRASE or add the key to ssh-agent)"
	FERRY_SSH_PASSPHRASE=wrong expect_exit "wrong passphrase: exit 3" 3 "$FERRY" -c pp.ini check
	contains "a wrong passphrase is named" "$OUT" "is FERRY_SSH_PASSPHRASE right?"
	FERRY_SSH_PASSPHRASE="$SBX_KEY_PASSPHRASE" expect_exit "the right passphrase" 0 "$FERRY" -c pp.ini check
)
