# Neo4j: the cypher-mode export and import against the sandbox's Neo4j
# fixture (tests/sandbox/neo4j_fixture.py: no real Neo4j can be installed
# here), every value type, paging, lost replies, damaged archives, and a
# failing neo4j next to a good postgres (exit 5).  Dump mode is
# tests/integration/neo4j_dump.sh.
# cost: 40 (seconds, roughly: tests/run starts the costliest first)
set -eu
. "$FERRY_SOURCE_ROOT/tests/lib.sh"
cd "$SCRATCH"
needs_sandbox "neo4j"

FX() { # METHOD PATH [BODY]: the fixture's test-only endpoints
	ip netns exec "$SBX_NS" curl -sS -X "$1" ${3:+--data-binary "$3"} "http://127.0.0.1:7474/fixture/$2"
}
GRAPH() { FX GET "$1/graph"; }
STAT() { FX GET stats | python3 -c "import json,sys; print(json.load(sys.stdin)['statements'].get('$1', 0))"; }
PSQL() { ip netns exec "$SBX_NS" env PGPASSWORD="$SBX_PG_PASSWORD" psql -qAtX -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 "$@"; }
# neo4j_conf FILE NAME [LINE...]: backup_conf's config (PostgreSQL, archives
# in $SCRATCH/archives under NAME) with the sandbox's Neo4j, LINEs in [neo4j].
neo4j_conf() {
	local f=$1 name=$2 line
	shift 2
	backup_conf "$f" "$name"
	printf '\n[neo4j]\npassword = ${SBX_NEO4J_PASSWORD}\n' >>"$f"
	for line in "$@"; do
		printf '%s\n' "$line" >>"$f"
	done
}
# same_graph NAME SRC DST: nodes (labels, typed properties), relationships
# (with both ends), constraints and indexes equal; byte arrays may have
# come back as the integer lists Neo4j shows for them.
same_graph() {
	local d
	GRAPH "$2" >graph.a
	GRAPH "$3" >graph.b
	if ! d=$(python3 - graph.a graph.b 2>&1 <<'PY'
import base64, json, sys
def norm(props):
    out = {}
    for k, (t, v) in props.items():
        if t == "BYTES":
            t, v = "LIST<INTEGER NOT NULL> NOT NULL", [b - 256 if b > 127 else b for b in base64.b64decode(v)]
        out[k] = [t, v]
    return out
def canon(g):
    key = {n["id"]: json.dumps([n["labels"], norm(n["props"])], sort_keys=True) for n in g["nodes"]}
    rels = sorted(json.dumps([key[r["start"]], r["type"], key[r["end"]], norm(r["props"])], sort_keys=True)
                  for r in g["rels"])
    return {"nodes": sorted(key.values()), "rels": rels, "constraints": g["constraints"],
            "indexes": g["indexes"]}
a, b = (canon(json.load(open(f))) for f in sys.argv[1:3])
assert a["nodes"], "no nodes at all"
for k in a:
    if a[k] != b[k]:
        extra = [x for x in b[k] if x not in a[k]][:2]
        missing = [x for x in a[k] if x not in b[k]][:2]
        print(f"{k}: {len(a[k])} vs {len(b[k])}; missing {missing} extra {extra}"[:600])
        sys.exit(1)
PY
); then notok "$1: $d"; else ok "$1"; fi
}

for db in n4src n4copy n4clean n4damaged n4lost; do FX POST "$db/create" >/dev/null; done

# ---- the source graph: every value type, and enough to page ------------------
python3 - >seed.json <<'PY'
import json
person = {"uid": "ann", "name": "Ann", "age": 42, "score": 1.0, "ratio": 0.1,
          "big": 9007199254740993, "neg": -7, "ok": True, "no": False, "text": "tab\there \"quoted\" ünïcødé",
          "born": {"date": "1990-01-31"}, "wake": {"localtime": "07:30:00.000000001"},
          "meet": {"time": "12:00:00+01:00"}, "seen": {"localdatetime": "2024-05-01T10:11:12.123456789"},
          "at": {"datetime": "2024-05-01T10:11:12+02:00[Europe/Berlin]"}, "utc": {"datetime": "2024-05-01T08:11:12Z"},
          "took": {"duration": "P1Y2M3DT4H5M6.007S"}, "home": {"point": {"srid": 4326, "x": 13.4, "y": 52.5}},
          "peak": {"point": {"srid": 4979, "x": 86.9, "y": 27.9, "z": 8848.86}},
          "spot": {"point": {"srid": 7203, "x": 1.5, "y": -2}}, "box": {"point": {"srid": 9157, "x": 1, "y": 2, "z": 3}},
          "nan": {"float": "NaN"}, "inf": {"float": "Infinity"}, "ninf": {"float": "-Infinity"},
          "tags": ["x", "y", ""], "nums": [1, -2, 3000000000], "reals": [1.5, 2.0, -0.0], "flags": [True, False],
          "days": [{"date": "2020-01-01"}, {"date": "2020-01-02"}], "spots": [{"point": {"srid": 7203, "x": 0, "y": 1}}],
          "blob": {"bytes": "AAH/gA=="}, "empty": []}
nodes = [{"key": "ann", "labels": ["Person"], "props": person},
         {"key": "bob", "labels": ["Person", "Admin"], "props": {"uid": "bob", "name": "Bob"}},
         {"key": "nolabel", "labels": [], "props": {"note": "no labels"}},
         {"key": "bare", "labels": ["Odd `Label`"], "props": {}}]
rels = [{"start": "ann", "end": "bob", "type": "KNOWS", "props": {"since": 1999, "when": {"date": "1999-09-09"}}},
        {"start": "bob", "end": "ann", "type": "KNOWS", "props": {}},
        {"start": "ann", "end": "ann", "type": "SELF", "props": {"blob": {"bytes": "AQI="}}},
        {"start": "nolabel", "end": "bare", "type": "ODD `TYPE`", "props": {"p": [1.5]}}]
for i in range(600):
    nodes.append({"key": f"i{i}", "labels": ["Item"], "props": {"i": i, "f": i / 7, "d": {"date": "2024-02-29"}}})
    if i:
        rels.append({"start": f"i{i - 1}", "end": f"i{i}", "type": "NEXT", "props": {"w": i}})
print(json.dumps({"schema": ["CREATE CONSTRAINT `person_uid` FOR (n:`Person`) REQUIRE (n.`uid`) IS UNIQUE",
                             "CREATE CONSTRAINT `item_i` FOR (n:`Item`) REQUIRE (n.`i`) IS NOT NULL",
                             "CREATE RANGE INDEX `person_name` FOR (n:`Person`) ON (n.`name`)",
                             "CREATE TEXT INDEX `item_text` FOR (n:`Item`) ON (n.`f`)"],
                  "nodes": nodes, "rels": rels}))
PY
same "the fixture takes the seed" "$(FX POST n4src/load "$(cat seed.json)")" '{"nodes": 604}'

neo4j_conf n4.ini n4 "databases = n4src" "page_size = 50" "batch_size = 40"
"$FERRY" -c n4.ini check >check.out 2>&1 || true
contains "check: a neo4j row from the server's answer" "$(cat check.out)" \
	"neo4j       ok   Neo4j Kernel 5."
contains "check: the row names the database and the mode" "$(grep '^neo4j ' check.out)" \
	"(community), database neo4j, mode cypher"
pages0=$(STAT nodes_page)
expect_exit "backup --only neo4j" 0 "$FERRY" -c n4.ini backup --only neo4j
contains "one line for the component" "$OUT" "neo4j     ok, 1 database, 604 nodes, 603 relationships (online, not a snapshot), "
A=$(ls -t archives/n4-*.tar.zst | head -n 1)
tar --zstd -tf "$A" >members.txt
same "members: schema, nodes, relationships, manifest" "$(tr '\n' ' ' <members.txt)" \
	"neo4j/n4src/schema.json neo4j/n4src/nodes.jsonl neo4j/n4src/relationships.jsonl manifest.json "
# 604 ids in pages of 50: more than one page, each an id seek
pages=$(( $(STAT nodes_page) - pages0 ))
if [ "$pages" -ge 12 ]; then ok "nodes read in $pages pages"; else notok "nodes read in $pages pages, want >= 12"; fi
expect_exit "verify --latest" 0 "$FERRY" -c n4.ini verify --latest
mkdir -p x && tar --zstd -xf "$A" -C x
if python3 - x <<'PY'
import json, sys
root = sys.argv[1]
m = json.load(open(f"{root}/manifest.json"))
c = m["components"]["neo4j"]
assert c["mode"] == "cypher" and c["point_in_time"] is False, c
assert "not a point-in-time snapshot" in c["consistency"], c
d = c["databases"]["n4src"]
assert (d["nodes"], d["relationships"], d["constraints"], d["indexes"], d["byte_arrays"]) == (604, 603, 2, 2, 2), d
raw = open(f"{root}/neo4j/n4src/nodes.jsonl").read()
lines = [json.loads(l) for l in raw.splitlines()]
ann = next(l for l in lines if l["props"].get("uid") == "ann")["props"]
# integers stay integers, floats stay floats, in the text itself
assert '"age":42,' in raw and '"score":1.0,' in raw and '"big":9007199254740993' in raw
assert ann["born"] == {"date": "1990-01-31"} and ann["wake"] == {"localtime": "07:30:00.000000001"}
assert ann["meet"] == {"time": "12:00:00+01:00"} and ann["seen"] == {"localdatetime": "2024-05-01T10:11:12.123456789"}
assert ann["at"] == {"datetime": "2024-05-01T10:11:12+02:00[Europe/Berlin]"} and ann["took"] == {"duration": "P1Y2M3DT4H5M6.007S"}
assert ann["home"] == {"point": {"srid": 4326, "x": 13.4, "y": 52.5}}, ann["home"]
assert ann["peak"] == {"point": {"srid": 4979, "x": 86.9, "y": 27.9, "z": 8848.86}}
assert ann["nan"] == {"float": "NaN"} and ann["ninf"] == {"float": "-Infinity"}
assert ann["days"] == [{"date": "2020-01-01"}, {"date": "2020-01-02"}] and ann["nums"] == [1, -2, 3000000000]
assert ann["blob"] == {"bytes": "AAH/gA=="} and ann["empty"] == [] and ann["flags"] == [True, False]
rels = [json.loads(l) for l in open(f"{root}/neo4j/n4src/relationships.jsonl")]
assert any(r["type"] == "SELF" and r["props"] == {"blob": {"bytes": "AQI="}} for r in rels)
assert any(r["type"] == "ODD `TYPE`" for r in rels) and len(rels) == 603
s = json.load(open(f"{root}/neo4j/n4src/schema.json"))
assert [x["name"] for x in s["constraints"]] == ["item_i", "person_uid"], s
assert [x["name"] for x in s["indexes"]] == ["item_text", "person_name"], s
PY
then ok "JSON Lines keep every type (integer vs float, temporal, spatial, lists, bytes)"; else notok "JSON Lines keep every type"; fi

# ---- restore ------------------------------------------------------------------
batches0=$(STAT node_batch)
expect_exit "restore --only neo4j --db n4src=n4copy" 0 "$FERRY" -c n4.ini restore --latest --only neo4j --db n4src=n4copy
contains "restore reports the counts" "$OUT" "neo4j n4src -> n4copy: 604 nodes, 603 relationships, 2 constraints, 2 indexes (as the manifest says)"
contains "byte arrays: said plainly" "$ERR" "2 byte-array properties restored as integer lists"
batches=$(( $(STAT node_batch) - batches0 ))
if [ "$batches" -ge 16 ]; then ok "nodes restored in $batches batched statements"; else notok "nodes restored in $batches batches, want >= 16"; fi
same_graph "restored graph equals the source (labels, typed properties, relationships, schema)" n4src n4copy
G=$(GRAPH n4copy)
lacks "no import label left" "$G" "__FerryImport"
lacks "no import id left" "$G" "__ferry_id"
lacks "no temporary index or constraint left" "$G" "ferry_import"
contains "a byte array comes back as Neo4j's integer list" "$G" '"blob": ["LIST<INTEGER NOT NULL> NOT NULL", [0, 1, -1, -128]]'

expect_exit "restore into a database with nodes exits 1" 1 "$FERRY" -c n4.ini restore --latest --only neo4j --db n4src=n4copy
contains "refusal says what to do" "$ERR" "--clean"
contains "refusal says nothing changed" "$ERR" "nothing was changed"
same_graph "refusal left the database alone" n4src n4copy
FX POST n4clean/load '{"nodes": [{"key": "z", "labels": ["Stale"], "props": {"x": 1}}], "schema": ["CREATE CONSTRAINT `stale` FOR (n:`Stale`) REQUIRE (n.`x`) IS UNIQUE"]}' >/dev/null
expect_exit "restore --clean empties the target first" 0 "$FERRY" -c n4.ini restore --latest --only neo4j --db n4src=n4clean --clean
same_graph "--clean: exactly the source" n4src n4clean
expect_exit "restore: --db for a database the archive lacks" 2 "$FERRY" -c n4.ini restore --latest --only neo4j --db nosuch=x
expect_exit "restore into a database Neo4j lacks" 1 "$FERRY" -c n4.ini restore --latest --only neo4j --db n4src=n4nosuch
contains "names the missing database" "$ERR" "DatabaseNotFound"

# replies lost after the server committed (and libcurl sending again on a
# fresh connection): each batch's unique marker says it ran, once
FX POST faults '{"lost": 3, "skip": 9}' >/dev/null
expect_exit "restore through lost replies" 0 "$FERRY" -c n4.ini restore --latest --only neo4j --db n4src=n4lost
same_graph "lost replies: nothing twice, nothing missing" n4src n4lost
FX POST faults '{"drop": 2, "status": 0, "lost": 0, "skip": 3}' >/dev/null
expect_exit "backup through dropped connections" 0 "$FERRY" -c n4.ini backup --only neo4j
FX POST faults '{"status": 2, "drop": 0, "skip": 0}' >/dev/null
new_second
expect_exit "backup through 503s (retried with backoff)" 0 "$FERRY" -c n4.ini backup --only neo4j
FX POST faults '{"status": 0, "drop": 0, "lost": 0, "transient": 0, "skip": 0}' >/dev/null

# a damaged member: exit 6, and what the restore had made is gone again
A=$(ls -t archives/n4-*.tar.zst | head -n 1)
rm -rf ex && mkdir ex && tar --zstd -xf "$A" -C ex
sed -i 's/"NEXT"/"NEXR"/' ex/neo4j/n4src/relationships.jsonl
(cd ex && tar --zstd -cf ../damaged.tar.zst -T ../members.txt)
cp "${A%.tar.zst}.manifest.json" damaged.manifest.json
expect_exit "restore of a damaged member exits 6" 6 "$FERRY" -c n4.ini restore damaged.tar.zst --only neo4j --db n4src=n4damaged
contains "the damage is named" "$ERR" "relationships.jsonl"
contains "the undo is reported" "$ERR" "removed again what this restore created in neo4j n4damaged"
same "the damaged restore left no node and no constraint" "$(GRAPH n4damaged | python3 -c 'import json,sys; g=json.load(sys.stdin); print(len(g["nodes"]), len(g["rels"]), len(g["constraints"]), len([i for i in g["indexes"] if i[1] != "LOOKUP"]))')" "0 0 0 0"

# ---- a database failing: the others land, exit 5 --------------------------------
neo4j_conf two.ini n4two "databases = n4nosuch, n4src"
expect_exit "a missing database fails alone: exit 5" 5 "$FERRY" -c two.ini backup --only neo4j
contains "names the missing database" "$ERR" "neo4j n4nosuch: Neo.ClientError.Database.DatabaseNotFound"
contains "the other database landed" "$OUT" "neo4j     FAILED after"
T=$(ls -t archives/n4two-*.tar.zst | head -n 1)
same "its members are in the archive" "$(tar --zstd -tf "$T" | grep -c '^neo4j/n4src/')" "3"
FX POST n4two/create >/dev/null
expect_exit "what landed restores" 0 "$FERRY" -c two.ini restore "$T" --only neo4j --db n4src=n4two
same_graph "the landed database is whole" n4src n4two
expect_exit "--db naming the failed database" 1 "$FERRY" -c two.ini restore "$T" --only neo4j --db n4nosuch=n4two
contains "says its backup failed" "$ERR" "is not in the archive: its backup failed"

# ---- one component failing: the others land, exit 5 --------------------------
PSQL -c "DROP DATABASE IF EXISTS n4_pg" -c "CREATE DATABASE n4_pg" >/dev/null
PSQL -d n4_pg -c "CREATE TABLE t (x int); INSERT INTO t SELECT generate_series(1, 100)" >/dev/null
neo4j_conf bad.ini n4bad "databases = n4src"
sed -i "s/^\[postgres\]/[postgres]\ndatabases = n4_pg/; s/^password = \${SBX_NEO4J_PASSWORD}/password = wrong-password/" bad.ini
"$FERRY" -c bad.ini check >check.out 2>&1 || true
contains "check: a wrong password is a FAIL row naming the refusal" "$(grep '^neo4j ' check.out)" \
	"neo4j       FAIL neo4j neo4j: authentication failed (Neo.ClientError.Security.Unauthorized)"
expect_exit "wrong neo4j password: exit 5" 5 "$FERRY" -c bad.ini backup --only postgres,neo4j
contains "one line says neo4j failed" "$OUT" "neo4j     FAILED after"
contains "the failure names the cause" "$ERR" "authentication failed (Neo.ClientError.Security.Unauthorized)"
lacks "the wrong password is not printed" "$OUT$ERR" "wrong-password"
B=$(ls -t archives/n4bad-*.tar.zst | head -n 1)
if python3 - "${B%.tar.zst}.manifest.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
assert m["status"] == "partial", m["status"]
assert m["components"]["postgres"]["status"] == "ok"
assert m["components"]["neo4j"]["status"] == "failed" and "Unauthorized" in m["components"]["neo4j"]["error"]
PY
then ok "manifest: postgres ok, neo4j failed"; else notok "manifest: postgres ok, neo4j failed"; fi
expect_exit "the partial archive verifies" 0 "$FERRY" -c bad.ini verify "$B"
same "postgres is intact in it" "$(tar --zstd -xOf "$B" postgres/n4_pg/data/public.t.copy | wc -l)" "100"
expect_exit "list" 0 "$FERRY" -c bad.ini list
contains "list shows neo4j failed" "$OUT" "neo4j:failed"
sed 's|^\[neo4j\]|[neo4j]\nurl = http://127.0.0.1:7475|; s/^password = wrong-password/password = ${SBX_NEO4J_PASSWORD}/' bad.ini >down.ini
chmod 600 down.ini
new_second
expect_exit "neo4j unreachable: exit 5" 5 "$FERRY" -c down.ini backup --only postgres,neo4j
contains "unreachable: names the configured URL" "$ERR" "http://127.0.0.1:7475"
n=$(ls archives/n4bad-*.tar.zst | wc -l)
new_second
expect_exit "--fail-fast: exit 3 on the neo4j failure" 3 "$FERRY" -c bad.ini backup --only neo4j,postgres --fail-fast
same "--fail-fast publishes nothing" "$(ls archives/n4bad-*.tar.zst | wc -l)" "$n"
PSQL -c "DROP DATABASE n4_pg" >/dev/null
