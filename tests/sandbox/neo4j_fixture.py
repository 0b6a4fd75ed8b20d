#!/usr/bin/env python3
"""A stand-in for Neo4j 5's HTTP API, for tests only (no Neo4j can be
installed on the build machines).

It answers with the shapes Neo4j 5 documents for the discovery endpoint and
the transactional Cypher endpoint (POST /db/<name>/tx/commit, basic auth):
one result per statement with "columns" and "data" rows ({"row": [...],
"meta": [...]}, meta written the way Neo4j's JSON codec writes it), errors
as {"code": "Neo.ClientError...", "message"} (401 for bad credentials, 404
for a database that does not exist), values as the JSON codec writes them
(integers and floats as JSON numbers, NaN and the infinities as strings,
temporal values as ISO strings, points as {"type": "Point", "coordinates",
"crs"}, byte arrays as lists of signed integers).  Connections are kept
alive (HTTP/1.1).

Behind it is a small in-memory graph store per database: nodes with labels
and typed properties (integer, float, string, boolean, the six temporal
types, point, byte array, homogeneous lists of those), relationships,
uniqueness and existence constraints (enforced) and indexes.  A request is
one transaction: a failing statement undoes the request's earlier ones.

It is not a Cypher engine.  It understands exactly the statements ferry
sends (whitespace aside), each matched by a pattern below (STATEMENTS):
  CALL dbms.components() ...; RETURN 1
  MATCH (n) RETURN count(n) AS count, max(id(n)) AS maxid (and for ()-[r]->())
  MATCH (n) RETURN count(n) [AS n]; MATCH (n:`L`) RETURN count(n);
  MATCH ()-[r]->() RETURN count(r)
  SHOW CONSTRAINTS / SHOW INDEXES with ferry's YIELD/WHERE/RETURN
  CALL db.schema.nodeTypeProperties() / relTypeProperties() ... 'ByteArray'
  MATCH (n) WHERE id(n) IN range($lo, $hi) RETURN id, labels, [k, valueType(n[k]), n[k]]
  MATCH (a)-[r]->(b) WHERE id(r) IN range($lo, $hi) RETURN ...
  CREATE CONSTRAINT / CREATE [RANGE|TEXT|POINT|FULLTEXT] INDEX as SHOW gives
    them (UNIQUE and NOT NULL node constraints, enforced), also with
    IF NOT EXISTS; DROP CONSTRAINT / DROP INDEX [IF EXISTS]
  CALL db.awaitIndex('name', s); CALL db.awaitIndexes(s)
  UNWIND $rows AS row CREATE (n:`L`... {`k`: row.i}) SET n += row.p, n.`k` = f(row.t.`k`) ... RETURN count(n) AS created
  UNWIND $rows AS row MATCH (a:`L` {`k`: row.s}) MATCH (b:`L` {`k`: row.e}) CREATE (a)-[r:`T`]->(b) SET ... RETURN count(r) AS created
  CREATE (:`L` {n: $n}); MATCH (b:`L` {n: $n}) RETURN count(b)
  MATCH (n:`L`) WITH n LIMIT $limit REMOVE n:`L`, n.`k` / DETACH DELETE n / DELETE n RETURN count(...)
  MATCH (n) WITH n LIMIT $limit DETACH DELETE n RETURN count(*)
(f: date, localtime, time, localdatetime, datetime, duration, point, toFloat;
also [x IN row.t.`k` | f(x)]).  Anything else is a SyntaxError.

Test-only endpoints (not Neo4j's; no authentication):
  POST /fixture/<db>/create     a new, empty database (replacing one of
                                that name: each test starts afresh)
  POST /fixture/<db>/load       {"nodes": [{"key", "labels", "props"}],
                                 "rels": [{"start", "end", "type", "props"}],
                                 "schema": ["CREATE CONSTRAINT ...", ...]}
                                props in ferry's archive form ({"date": ..},
                                {"bytes": BASE64}, ...), the only way to put
                                byte arrays in (the HTTP API cannot)
  GET  /fixture/<db>/graph      every node, relationship, constraint and
                                index, each value as [valueType, value]
                                ("BYTES" for byte arrays)
  GET  /fixture/stats           statements run, by kind; requests
  POST /fixture/faults          {"drop": N, "status": N, "transient": N,
                                "lost": N, "skip": K}: after K more
                                transactional requests, the next N are cut
                                off unanswered (drop), answered 503
                                (status), fail with a Neo.TransientError
                                (transient), all without running; or run,
                                commit and lose their reply (lost)

usage: neo4j_fixture.py --port N --user U --password P [--database NAME]...
"""
import argparse
import base64
import json
import math
import re
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

VERSION = "5.13.0"
Q = r"`((?:[^`]|``)+)`"          # a quoted name


def unq(s):
    return s.replace("``", "`")


def quote(s):
    return "`" + s.replace("`", "``") + "`"


class CypherError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def syntax(msg):
    return CypherError("Neo.ClientError.Statement.SyntaxError", msg)


def type_error(msg):
    return CypherError("Neo.ClientError.Statement.TypeError", msg)


# ---- values -----------------------------------------------------------------

TEMPORAL = {
    "date": ("DATE", "Date", "date"),
    "localtime": ("LOCAL TIME", "LocalTime", "localtime"),
    "time": ("ZONED TIME", "Time", "time"),
    "localdatetime": ("LOCAL DATETIME", "LocalDateTime", "localdatetime"),
    "datetime": ("ZONED DATETIME", "DateTime", "datetime"),
    "duration": ("DURATION", "Duration", "duration"),
}
_D = r"[+-]?\d{4,9}-\d{2}-\d{2}"
_T = r"\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?"
_O = r"(?:Z|[+-]\d{2}:\d{2}(?::\d{2})?)"
FORMATS = {
    "date": re.compile(rf"^{_D}$"),
    "localtime": re.compile(rf"^{_T}$"),
    "time": re.compile(rf"^{_T}{_O}$"),
    "localdatetime": re.compile(rf"^{_D}T{_T}$"),
    "datetime": re.compile(rf"^{_D}T{_T}(?:{_O}(?:\[[A-Za-z0-9_/+-]+\])?|\[[A-Za-z0-9_/+-]+\])$"),
    "duration": re.compile(r"^-?P(?=\d|T\d)(?:\d+(?:\.\d+)?Y)?(?:\d+(?:\.\d+)?M)?"
                           r"(?:\d+(?:\.\d+)?W)?(?:\d+(?:\.\d+)?D)?"
                           r"(?:T(?=-?\d)(?:-?\d+(?:\.\d+)?H)?(?:-?\d+(?:\.\d+)?M)?"
                           r"(?:-?\d+(?:\.\d+)?S)?)?$"),
}
CRS = {4326: ("wgs-84", "epsg", 2), 4979: ("wgs-84-3d", "epsg", 3),
       7203: ("cartesian", "sr-org", 2), 9157: ("cartesian-3d", "sr-org", 3)}


class Temporal:
    def __init__(self, kind, text):
        if not isinstance(text, str) or not FORMATS[kind].match(text):
            raise CypherError("Neo.ClientError.Statement.ArgumentError",
                              f"Text cannot be parsed to a {TEMPORAL[kind][1]}: {text!r}")
        self.kind, self.text = kind, text

    def __eq__(self, o):
        return isinstance(o, Temporal) and (o.kind, o.text) == (self.kind, self.text)

    def __hash__(self):
        return hash((self.kind, self.text))


class Point:
    def __init__(self, m):
        if not isinstance(m, dict):
            raise type_error("point() takes a map")
        srid = m.get("srid", 7203)
        if srid not in CRS:
            raise CypherError("Neo.ClientError.Statement.ArgumentError", f"Unknown srid {srid}")
        axes = ["x", "y", "z"][:CRS[srid][2]]
        if any(not isinstance(m.get(a), (int, float)) or isinstance(m.get(a), bool) for a in axes):
            raise CypherError("Neo.ClientError.Statement.ArgumentError", "A point needs x, y (and z)")
        self.srid, self.coords = srid, tuple(float(m[a]) for a in axes)

    def __eq__(self, o):
        return isinstance(o, Point) and (o.srid, o.coords) == (self.srid, self.coords)

    def __hash__(self):
        return hash((self.srid, self.coords))


class Arr(list):
    """A list stored as a property (a Java array in Neo4j)."""


def scalar_type(v):
    if isinstance(v, bool):
        return "BOOLEAN"
    if isinstance(v, int):
        return "INTEGER"
    if isinstance(v, float):
        return "FLOAT"
    if isinstance(v, str):
        return "STRING"
    if isinstance(v, Temporal):
        return TEMPORAL[v.kind][0]
    if isinstance(v, Point):
        return "POINT"
    return None


def value_type(v):
    """valueType() as Neo4j 5 names it (a byte array looks like a list)."""
    if v is None:
        return "NULL"
    if isinstance(v, bytes):
        return "LIST<INTEGER NOT NULL> NOT NULL"
    if isinstance(v, list):
        inner = sorted({value_type(x).replace(" NOT NULL", "") for x in v})
        if not inner:
            return "LIST<NOTHING> NOT NULL"
        return "LIST<" + " | ".join(t + " NOT NULL" for t in inner) + "> NOT NULL"
    if isinstance(v, dict):
        return "MAP NOT NULL"
    return scalar_type(v) + " NOT NULL"


def java_type(v):
    """db.schema.*TypeProperties()'s propertyTypes names."""
    if isinstance(v, bytes):
        return "ByteArray"
    if isinstance(v, list):
        names = {"BOOLEAN": "Boolean", "INTEGER": "Long", "FLOAT": "Double",
                 "STRING": "String", "POINT": "Point"}
        t = scalar_type(v[0]) if v else "STRING"
        base = names.get(t) or next(j for k, (c, j, _) in TEMPORAL.items() if c == t)
        return base + "Array"
    t = scalar_type(v)
    return {"BOOLEAN": "Boolean", "INTEGER": "Long", "FLOAT": "Double", "STRING": "String",
            "POINT": "Point"}.get(t) or next(j for k, (c, j, _) in TEMPORAL.items() if c == t)


def storable(v, what):
    """A parameter value as a property, or TypeError as Neo4j gives it."""
    if v is None or isinstance(v, (bool, int, float, str, Temporal, Point, bytes)):
        return v
    if isinstance(v, list):
        items = [storable(x, what) for x in v]
        if any(x is None or isinstance(x, (list, bytes)) for x in items):
            raise type_error(f"Neo4j only supports a subset of Cypher types for storage as "
                             f"singleton or array properties ({what})")
        kinds = {scalar_type(x) for x in items}
        if kinds == {"INTEGER", "FLOAT"}:
            items, kinds = [float(x) for x in items], {"FLOAT"}
        if len(kinds) > 1:
            raise CypherError("Neo.ClientError.Statement.TypeError",
                              f"Collections containing mixed types can not be stored in properties ({what})")
        return Arr(items)
    raise type_error(f"Property values can only be of primitive types or arrays thereof ({what})")


def to_json(v):
    """A value as Neo4j's JSON codec writes it in a row."""
    if isinstance(v, float) and not math.isfinite(v):
        return "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
    if isinstance(v, Temporal):
        return v.text
    if isinstance(v, Point):
        name, auth, _ = CRS[v.srid]
        return {"type": "Point", "coordinates": list(v.coords),
                "crs": {"srid": v.srid, "name": name, "type": "link",
                        "properties": {"href": f"http://spatialreference.org/ref/{auth}/{v.srid}/ogcwkt/",
                                       "type": "ogcwkt"}}}
    if isinstance(v, bytes):
        return [b - 256 if b > 127 else b for b in v]
    if isinstance(v, list):
        return [to_json(x) for x in v]
    if isinstance(v, dict):
        return {k: to_json(x) for k, x in v.items()}
    return v


def meta(v, out):
    """Neo4j's writeMeta: appended to out, lists and maps flattened."""
    if isinstance(v, Arr) or isinstance(v, bytes):
        out.append(None)            # a Java array is not Iterable
    elif isinstance(v, list):
        for x in v:
            meta(x, out)
    elif isinstance(v, dict):
        for x in v.values():
            meta(x, out)
    elif isinstance(v, Temporal):
        out.append({"type": TEMPORAL[v.kind][2]})
    elif isinstance(v, Point):
        out.append({"type": "point"})
    else:
        out.append(None)


def from_archive(v):
    """ferry's archive form (tests/… seeds) as a stored value."""
    if isinstance(v, dict) and len(v) == 1:
        (tag, inner), = v.items()
        if tag in TEMPORAL:
            return Temporal(tag, inner)
        if tag == "point":
            return Point(inner)
        if tag == "bytes":
            return base64.b64decode(inner)
        if tag == "float":
            return float(inner)
    if isinstance(v, list):
        return storable([from_archive(x) for x in v], "seed")
    return v


def view(v):
    """[valueType, value] for /fixture/<db>/graph."""
    if isinstance(v, bytes):
        return ["BYTES", base64.b64encode(v).decode()]
    return [value_type(v), to_json(v)]


# ---- the store --------------------------------------------------------------

class Graph:
    def __init__(self):
        self.nodes, self.rels = {}, {}      # id -> dict
        self.next_node = self.next_rel = 0
        self.constraints, self.indexes = {}, {}
        for name, ent in (("index_343aff4e", "NODE"), ("index_f7700477", "RELATIONSHIP")):
            self.indexes[name] = {"name": name, "type": "LOOKUP", "entity": ent,
                                  "owner": None, "statement":
                                  f"CREATE LOOKUP INDEX {quote(name)} FOR " +
                                  ("(n) ON EACH labels(n)" if ent == "NODE" else
                                   "()-[r]-() ON EACH type(r)")}


class Tx:
    """Undo log of one request."""
    def __init__(self, g):
        self.g, self.undo = g, []

    def rollback(self):
        for f in reversed(self.undo):
            f()

    def create_node(self, labels, props):
        g = self.g
        nid = g.next_node
        g.next_node += 1
        g.nodes[nid] = {"labels": list(dict.fromkeys(labels)), "props": {}}
        self.undo.append(lambda: g.nodes.pop(nid, None))
        for k, v in props.items():
            self.set_prop(g.nodes[nid], k, v)
        return nid

    def create_rel(self, start, end, typ):
        g = self.g
        rid = g.next_rel
        g.next_rel += 1
        g.rels[rid] = {"type": typ, "start": start, "end": end, "props": {}}
        self.undo.append(lambda: g.rels.pop(rid, None))
        return rid

    def set_prop(self, ent, k, v):
        v = storable(v, k)
        props = ent["props"]
        old = props.get(k, None)
        had = k in props
        if v is None:
            props.pop(k, None)
        else:
            props[k] = v
        self.undo.append(lambda: props.__setitem__(k, old) if had else props.pop(k, None))

    def remove_label(self, node, label):
        if label in node["labels"]:
            i = node["labels"].index(label)
            node["labels"].remove(label)
            self.undo.append(lambda: node["labels"].insert(i, label))

    def delete_node(self, nid, detach):
        g = self.g
        rels = [r for r, x in g.rels.items() if nid in (x["start"], x["end"])]
        if rels and not detach:
            raise CypherError("Neo.ClientError.Schema.ConstraintValidationFailed",
                              f"Cannot delete node<{nid}>, because it still has relationships.")
        for r in rels:
            x = g.rels.pop(r)
            self.undo.append(lambda r=r, x=x: g.rels.__setitem__(r, x))
        n = g.nodes.pop(nid)
        self.undo.append(lambda: g.nodes.__setitem__(nid, n))

    def schema(self, table, name, entry):
        g = self.g
        old = getattr(g, table).get(name)
        if entry is None:
            getattr(g, table).pop(name, None)
        else:
            getattr(g, table)[name] = entry
        self.undo.append(lambda: getattr(g, table).__setitem__(name, old) if old
                         else getattr(g, table).pop(name, None))

    def check_constraints(self):
        g = self.g
        for c in g.constraints.values():
            seen = {}
            for nid, n in g.nodes.items():
                if c["label"] not in n["labels"]:
                    continue
                vals = tuple(n["props"].get(p) for p in c["props"])
                if c["kind"] == "NOT NULL":
                    if any(v is None for v in vals):
                        raise CypherError("Neo.ClientError.Schema.ConstraintValidationFailed",
                                          f"Node({nid}) with label `{c['label']}` must have the "
                                          f"property `{c['props'][0]}`")
                    continue
                if any(v is None for v in vals):
                    continue
                key = tuple(json.dumps(to_json(v), sort_keys=True) for v in vals)
                if key in seen:
                    raise CypherError("Neo.ClientError.Schema.ConstraintValidationFailed",
                                      f"Node({nid}) already exists with label `{c['label']}` and "
                                      f"property `{c['props'][0]}` = {to_json(vals[0])!r}")
                seen[key] = nid


# ---- statements -------------------------------------------------------------

def S(pattern):
    return re.compile("^" + pattern + "$")


MAKERS = {"date": lambda v: Temporal("date", v), "localtime": lambda v: Temporal("localtime", v),
          "time": lambda v: Temporal("time", v), "localdatetime": lambda v: Temporal("localdatetime", v),
          "datetime": lambda v: Temporal("datetime", v), "duration": lambda v: Temporal("duration", v),
          "point": Point, "toFloat": lambda v: float(v) if not isinstance(v, bool) else None}
SET_ITEM = re.compile(rf", ([nr])\.{Q} = (?:(\w+)\(row\.t\.{Q}\)|\[x IN row\.t\.{Q} \| (\w+)\(x\)\])")


def parse_sets(var, rest):
    """', n.`k` = f(row.t.`k`)...' -> [(key, fn, is_list)]."""
    items, pos = [], 0
    while pos < len(rest):
        m = SET_ITEM.match(rest, pos)
        if not m or m.group(1) != var:
            raise syntax(f"Invalid input: {rest[pos:pos + 40]}")
        key = unq(m.group(2))
        fn, src, lst = (m.group(3), m.group(4), False) if m.group(3) else (m.group(6), m.group(5), True)
        if fn not in MAKERS or unq(src) != key:
            raise syntax(f"Unknown function '{fn}'")
        items.append((key, MAKERS[fn], lst))
        pos = m.end()
    return items


def apply_row(tx, ent, row, sets):
    p = row.get("p") or {}
    if not isinstance(p, dict):
        raise type_error("Expected a map for SET +=")
    for k, v in p.items():
        tx.set_prop(ent, k, v)
    t = row.get("t") or {}
    for key, fn, lst in sets:
        v = t.get(key)
        if v is None:
            tx.set_prop(ent, key, None)
        elif lst:
            if not isinstance(v, list):
                raise type_error(f"Expected a list for {key}")
            tx.set_prop(ent, key, [fn(x) for x in v])
        else:
            tx.set_prop(ent, key, fn(v))


class Engine:
    def __init__(self, names):
        self.dbs = {n: Graph() for n in set(names) | {"system"}}
        self.lock = threading.Lock()
        self.stats = Counter()
        self.faults = Counter()

    def run(self, g, text, params):
        """(kind, columns, rows) for one statement, or CypherError."""
        t = " ".join(text.split())
        for kind, rx, fn in STATEMENTS:
            m = rx.match(t)
            if m:
                self.stats[kind] += 1
                cols, rows = fn(self, g, m, params)
                return cols, rows
        raise syntax(f"Invalid input: {t[:80]}")


def need(params, name):
    if name not in params:
        raise CypherError("Neo.ClientError.Statement.ParameterMissing",
                          f"Expected parameter(s): {name}")
    return params[name]


def st_components(eng, g, m, p):
    return ["name", "versions[0]", "edition"], [["Neo4j Kernel", VERSION, "community"]]


def st_count_max(eng, g, m, p):
    ents = g.nodes if m.group(1) == "n" else g.rels
    return ["count", "maxid"], [[len(ents), max(ents) if ents else None]]


def st_count_nodes(eng, g, m, p):
    label = unq(m.group(1)) if m.group(1) else None
    n = sum(1 for x in g.nodes.values() if label is None or label in x["labels"])
    return [m.group(2) or "count(n)"], [[n]]


def st_count_rels(eng, g, m, p):
    return ["count(r)"], [[len(g.rels)]]


def constraint_rows(g):
    return sorted(g.constraints.values(), key=lambda c: c["name"])


def st_show_constraints(eng, g, m, p):
    rows = constraint_rows(g)
    if m.group(1):
        return ["name", "type", "createStatement"], [[c["name"], c["type"], c["statement"]] for c in rows]
    return ["name"], [[c["name"]] for c in rows]


def st_show_indexes(eng, g, m, p):
    idx = sorted((i for i in g.indexes.values() if i["type"] != "LOOKUP" and i["owner"] is None),
                 key=lambda i: i["name"])
    if m.group(1):
        return ["name", "type", "createStatement"], [[i["name"], i["type"], i["statement"]] for i in idx]
    return ["name"], [[i["name"]] for i in idx]


def st_type_props(eng, g, m, p):
    rels = m.group(1) == "rel"
    seen = {}
    for x in (g.rels if rels else g.nodes).values():
        key = (x["type"],) if rels else tuple(sorted(x["labels"]))
        for k, v in x["props"].items():
            seen.setdefault((key, k), set()).add(java_type(v))
    rows = []
    for (key, k), types in sorted(seen.items()):
        if "ByteArray" not in types:
            continue
        if rels:
            rows.append([":" + quote(key[0]), k, sorted(types)])
        else:
            rows.append([list(key), k, sorted(types)])
    return (["relType" if rels else "nodeLabels", "propertyName", "propertyTypes"], rows)


def prop_rows(props):
    return [[k, value_type(v), v] for k, v in props.items()]


def st_nodes_page(eng, g, m, p):
    lo, hi = need(p, "lo"), need(p, "hi")
    # an id seek: the page's ids, not a scan
    rows = [[nid, list(g.nodes[nid]["labels"]), prop_rows(g.nodes[nid]["props"])]
            for nid in range(max(lo, 0), min(hi, g.next_node - 1) + 1) if nid in g.nodes]
    return ["id", "labels", "props"], rows


def st_rels_page(eng, g, m, p):
    lo, hi = need(p, "lo"), need(p, "hi")
    rows = [[rid, g.rels[rid]["type"], g.rels[rid]["start"], g.rels[rid]["end"],
             prop_rows(g.rels[rid]["props"])]
            for rid in range(max(lo, 0), min(hi, g.next_rel - 1) + 1) if rid in g.rels]
    return ["id", "type", "start", "end", "props"], rows


CONSTRAINT = S(rf"CREATE CONSTRAINT (?:{Q}|(\w+))( IF NOT EXISTS)? FOR \((\w+):{Q}\) REQUIRE "
               rf"\(?((?:\4\.(?:{Q}|\w+)(?:, )?)+)\)? IS (UNIQUE|NOT NULL)")
INDEX = S(rf"CREATE (?:(RANGE|TEXT|POINT|FULLTEXT) )?INDEX (?:{Q}|(\w+))( IF NOT EXISTS)? FOR (.+)")
LIMIT_NODES = S(rf"MATCH \((?P<v>[nb])(?::{Q})?\) WITH (?P=v) LIMIT \$limit "
                rf"(?P<act>(?:DETACH )?DELETE (?P=v)|REMOVE n:{Q}, n\.{Q}) RETURN (?P<ret>count\((?:\*|n)\))")


def st_create_constraint(eng, g, m, p):
    tx = eng.tx
    name, label, kind = unq(m.group(1) or m.group(2)), unq(m.group(5)), m.group(8)
    props = [unq(x.split(".", 1)[1].strip("`")) for x in m.group(6).split(", ")]
    if name in g.constraints or name in g.indexes:
        if m.group(3):
            return [], []
        raise CypherError("Neo.ClientError.Schema.EquivalentSchemaRuleAlreadyExists",
                          f"An equivalent constraint already exists, '{name}'")
    ctype = "UNIQUENESS" if kind == "UNIQUE" else "NODE_PROPERTY_EXISTENCE"
    stmt = (f"CREATE CONSTRAINT {quote(name)} FOR (n:{quote(label)}) REQUIRE (" +
            ", ".join("n." + quote(x) for x in props) + f") IS {kind}")
    tx.schema("constraints", name, {"name": name, "type": ctype, "label": label, "props": props,
                                    "kind": kind, "statement": stmt})
    if kind == "UNIQUE":
        tx.schema("indexes", name, {"name": name, "type": "RANGE", "owner": name,
                                    "statement": f"CREATE RANGE INDEX {quote(name)} FOR (n:{quote(label)}) ON (n.{quote(props[0])})"})
    return [], []


def st_create_index(eng, g, m, p):
    tx = eng.tx
    typ, name, ine = m.group(1) or "RANGE", unq(m.group(2) or m.group(3)), m.group(4)
    if name in g.indexes or name in g.constraints:
        if ine:
            return [], []
        raise CypherError("Neo.ClientError.Schema.EquivalentSchemaRuleAlreadyExists",
                          f"An equivalent index already exists, '{name}'")
    stmt = f"CREATE {typ} INDEX {quote(name)} FOR {m.group(5)}"
    tx.schema("indexes", name, {"name": name, "type": typ, "owner": None, "statement": stmt})
    return [], []


def st_drop(eng, g, m, p):
    what, name, ie = m.group(1), unq(m.group(2) or m.group(3)), m.group(4)
    table = "constraints" if what == "CONSTRAINT" else "indexes"
    if name not in getattr(g, table) or (table == "indexes" and g.indexes[name]["owner"]):
        if ie:
            return [], []
        raise CypherError("Neo.ClientError.Schema.{}DropFailed".format(what.title()),
                          f"Unable to drop {what.lower()} `{name}`: No such {what.lower()}.")
    eng.tx.schema(table, name, None)
    if table == "constraints":
        eng.tx.schema("indexes", name, None)
    return [], []


def st_await(eng, g, m, p):
    if m.group(1) and m.group(1) not in g.indexes:
        raise CypherError("Neo.ClientError.Procedure.ProcedureCallFailed",
                          f"No such index '{m.group(1)}'")
    return [], []


NODE_BATCH = S(rf"UNWIND \$rows AS row CREATE \(n((?::{Q})+) \{{{Q}: row\.i\}}\) SET n \+= row\.p(.*) "
               r"RETURN count\(n\) AS created")
REL_BATCH = S(rf"UNWIND \$rows AS row MATCH \(a:{Q} \{{{Q}: row\.s\}}\) MATCH \(b:{Q} \{{{Q}: row\.e\}}\) "
              rf"CREATE \(a\)-\[r:{Q}\]->\(b\) SET r \+= row\.p(.*) RETURN count\(r\) AS created")


def rows_param(p):
    rows = need(p, "rows")
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise type_error("Expected $rows to be a list of maps")
    return rows


def st_node_batch(eng, g, m, p):
    labels = [unq(x) for x in re.findall(Q, m.group(1))]
    idkey, sets = unq(m.group(3)), parse_sets("n", m.group(4))
    n = 0
    for row in rows_param(p):
        nid = eng.tx.create_node(labels, {idkey: row.get("i")})
        apply_row(eng.tx, g.nodes[nid], row, sets)
        n += 1
    eng.tx.check_constraints()
    return ["created"], [[n]]


def find_node(g, label, key, value):
    for nid, x in g.nodes.items():
        if label in x["labels"] and x["props"].get(key) == value and not isinstance(value, bool):
            return nid
    return None


def st_rel_batch(eng, g, m, p):
    la, ka, lb, kb = unq(m.group(1)), unq(m.group(2)), unq(m.group(3)), unq(m.group(4))
    typ, sets = unq(m.group(5)), parse_sets("r", m.group(6))
    index = {}
    for nid, x in g.nodes.items():
        if la in x["labels"] and ka in x["props"]:
            index.setdefault(x["props"][ka], nid)
    n = 0
    for row in rows_param(p):
        a, b = index.get(row.get("s")), index.get(row.get("e"))
        if a is None or b is None:
            continue                    # MATCH finds nothing: no row
        rid = eng.tx.create_rel(a, b, typ)
        apply_row(eng.tx, g.rels[rid], row, sets)
        n += 1
    return ["created"], [[n]]


def st_marker(eng, g, m, p):
    eng.tx.create_node([unq(m.group(1))], {"n": need(p, "n")})
    eng.tx.check_constraints()
    return [], []


def st_marker_count(eng, g, m, p):
    label, want = unq(m.group(1)), need(p, "n")
    n = sum(1 for x in g.nodes.values() if label in x["labels"] and x["props"].get("n") == want)
    return ["count(b)"], [[n]]


def st_limit_nodes(eng, g, m, p):
    label = unq(m.group(2)) if m.group(2) else None
    limit = need(p, "limit")
    ids = [nid for nid, x in sorted(g.nodes.items()) if label is None or label in x["labels"]][:limit]
    action = m.group("act")
    for nid in ids:
        if action.startswith("REMOVE"):
            eng.tx.remove_label(g.nodes[nid], unq(m.group(4)))
            eng.tx.set_prop(g.nodes[nid], unq(m.group(5)), None)
        else:
            eng.tx.delete_node(nid, action.startswith("DETACH"))
    return [m.group("ret")], [[len(ids)]]


def st_return1(eng, g, m, p):
    return ["1"], [[1]]


STATEMENTS = [
    ("components", S(r"CALL dbms\.components\(\) YIELD name, versions, edition RETURN name, versions\[0\], edition"), st_components),
    ("return1", S(r"RETURN 1"), st_return1),
    ("count_max", S(r"MATCH (?:\(n\)|\(\)-\[r\]->\(\)) RETURN count\((n|r)\) AS count, max\(id\(\1\)\) AS maxid"), st_count_max),
    ("count_nodes", S(rf"MATCH \(n(?::{Q})?\) RETURN count\(n\)(?: AS (n))?"), st_count_nodes),
    ("count_rels", S(r"MATCH \(\)-\[r\]->\(\) RETURN count\(r\)"), st_count_rels),
    ("show_constraints", S(r"SHOW CONSTRAINTS YIELD name(, type, createStatement RETURN name, type, createStatement ORDER BY name| RETURN name)"), st_show_constraints),
    ("show_indexes", S(r"SHOW INDEXES YIELD name, type, owningConstraint(?:, createStatement WHERE owningConstraint IS NULL AND type <> 'LOOKUP' RETURN name, type, (createStatement) ORDER BY name| WHERE type <> 'LOOKUP' AND owningConstraint IS NULL RETURN name)"), st_show_indexes),
    ("type_properties", S(r"CALL db\.schema\.(node|rel)TypeProperties\(\) YIELD (?:nodeLabels|relType), propertyName, propertyTypes WHERE 'ByteArray' IN propertyTypes RETURN (?:nodeLabels|relType), propertyName, propertyTypes"), st_type_props),
    ("nodes_page", S(r"MATCH \(n\) WHERE id\(n\) IN range\(\$lo, \$hi\) RETURN id\(n\) AS id, labels\(n\) AS labels, \[k IN keys\(n\) \| \[k, valueType\(n\[k\]\), n\[k\]\]\] AS props ORDER BY id"), st_nodes_page),
    ("rels_page", S(r"MATCH \(a\)-\[r\]->\(b\) WHERE id\(r\) IN range\(\$lo, \$hi\) RETURN id\(r\) AS id, type\(r\) AS type, id\(a\) AS start, id\(b\) AS end, \[k IN keys\(r\) \| \[k, valueType\(r\[k\]\), r\[k\]\]\] AS props ORDER BY id"), st_rels_page),
    ("create_constraint", CONSTRAINT, st_create_constraint),
    ("create_index", INDEX, st_create_index),
    ("drop", S(rf"DROP (CONSTRAINT|INDEX) (?:{Q}|(\w+))( IF EXISTS)?"), st_drop),
    ("await", S(r"CALL db\.awaitIndex(?:es)?\((?:'([^']+)', )?\d+\)"), st_await),
    ("node_batch", NODE_BATCH, st_node_batch),
    ("rel_batch", REL_BATCH, st_rel_batch),
    ("marker", S(rf"CREATE \(:{Q} \{{n: \$n\}}\)"), st_marker),
    ("marker_count", S(rf"MATCH \(b:{Q} \{{n: \$n\}}\) RETURN count\(b\)"), st_marker_count),
    ("limit_nodes", LIMIT_NODES, st_limit_nodes),
]


# ---- HTTP ---------------------------------------------------------------------

def graph_view(g):
    return {
        "nodes": [{"id": nid, "labels": sorted(n["labels"]),
                   "props": {k: view(v) for k, v in sorted(n["props"].items())}}
                  for nid, n in sorted(g.nodes.items())],
        "rels": [{"id": rid, "type": r["type"], "start": r["start"], "end": r["end"],
                  "props": {k: view(v) for k, v in sorted(r["props"].items())}}
                 for rid, r in sorted(g.rels.items())],
        "constraints": [c["statement"] for c in constraint_rows(g)],
        "indexes": sorted([i["name"], i["type"], i["statement"]] for i in g.indexes.values()
                          if i["owner"] is None),
    }


def load_seed(eng, g, body):
    tx = eng.tx = Tx(g)
    try:
        for s in body.get("schema", []):
            eng.run(g, s, {})
        keys = {}
        for n in body.get("nodes", []):
            props = {k: from_archive(v) for k, v in n.get("props", {}).items()}
            keys[n.get("key")] = tx.create_node(n.get("labels", []), props)
        for r in body.get("rels", []):
            rid = tx.create_rel(keys[r["start"]], keys[r["end"]], r["type"])
            for k, v in r.get("props", {}).items():
                tx.set_prop(g.rels[rid], k, from_archive(v))
        tx.check_constraints()
    except Exception:
        tx.rollback()
        raise


def build_handler(args):
    eng = Engine(args.database or ["neo4j"])
    good = "Basic " + base64.b64encode(f"{args.user}:{args.password}".encode()).decode()

    class Handler(BaseHTTPRequestHandler):
        server_version = "Neo4jFixture/" + VERSION
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):
            pass

        def reply(self, status, body, extra=None):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def body(self):
            length = int(self.headers.get("Content-Length", "0"))
            return self.rfile.read(length)

        def do_GET(self):
            if self.path == "/":
                host = self.headers.get("Host", "localhost:7474")
                return self.reply(200, {
                    "bolt_routing": "neo4j://localhost:7687",
                    "transaction": f"http://{host}/db/{{databaseName}}/tx",
                    "bolt_direct": "bolt://localhost:7687",
                    "neo4j_version": VERSION,
                    "neo4j_edition": "community",
                })
            parts = self.path.strip("/").split("/")
            with eng.lock:
                if parts == ["fixture", "stats"]:
                    return self.reply(200, {"statements": dict(eng.stats),
                                            "requests": eng.faults["requests"]})
                if len(parts) == 3 and parts[0] == "fixture" and parts[2] == "graph" \
                        and parts[1] in eng.dbs:
                    return self.reply(200, graph_view(eng.dbs[parts[1]]))
            self.reply(404, {"errors": [{"code": "Neo.ClientError.Request.Invalid",
                                         "message": "Not Found"}]})

        def fixture_post(self, parts, raw):
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                return self.reply(400, {"error": "bad JSON"})
            with eng.lock:
                if parts == ["fixture", "faults"]:
                    for k in ("drop", "status", "transient", "lost", "skip"):
                        eng.faults[k] = int(body.get(k, eng.faults[k]))
                    return self.reply(200, dict(eng.faults))
                if len(parts) == 3 and parts[2] == "create":
                    eng.dbs[parts[1]] = Graph()
                    return self.reply(200, {"created": parts[1]})
                if len(parts) == 3 and parts[2] == "load" and parts[1] in eng.dbs:
                    try:
                        load_seed(eng, eng.dbs[parts[1]], body)
                    except CypherError as ex:
                        return self.reply(400, {"errors": [{"code": ex.code, "message": ex.message}]})
                    return self.reply(200, {"nodes": len(eng.dbs[parts[1]].nodes)})
            self.reply(404, {"error": "no such fixture endpoint"})

        def do_POST(self):
            raw = self.body()
            parts = self.path.strip("/").split("/")
            if parts and parts[0] == "fixture":
                return self.fixture_post(parts, raw)
            if self.headers.get("Authorization") != good:
                return self.reply(401, {"errors": [{
                    "code": "Neo.ClientError.Security.Unauthorized",
                    "message": "Invalid username or password."}]},
                    {"WWW-Authenticate": 'Basic realm="Neo4j", Bearer realm="Neo4j"'})
            if len(parts) != 4 or parts[0] != "db" or parts[2:] != ["tx", "commit"]:
                return self.reply(404, {"errors": [{
                    "code": "Neo.ClientError.Request.Invalid",
                    "message": "Not Found"}]})
            if parts[1] not in eng.dbs:
                return self.reply(404, {"results": [], "errors": [{
                    "code": "Neo.ClientError.Database.DatabaseNotFound",
                    "message": f"Database does not exist. Database name: '{parts[1]}'."}]})
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                return self.reply(400, {"errors": [{
                    "code": "Neo.ClientError.Request.InvalidFormat",
                    "message": "Unable to deserialize request"}]})
            with eng.lock:
                eng.faults["requests"] += 1
                skip = eng.faults["skip"] > 0
                if skip:
                    eng.faults["skip"] -= 1
                for k in () if skip else ("drop", "status", "transient"):
                    if eng.faults[k] > 0:
                        eng.faults[k] -= 1
                        break
                else:
                    k = None
                if k == "drop":
                    self.close_connection = True
                    return                          # no reply at all
                if k == "status":
                    return self.reply(503, {"errors": [{
                        "code": "Neo.TransientError.General.DatabaseUnavailable",
                        "message": "The database is not currently available to serve your request"}]})
                if k == "transient":
                    return self.reply(200, {"results": [], "errors": [{
                        "code": "Neo.TransientError.Transaction.DeadlockDetected",
                        "message": "ForsetiClient can't acquire ExclusiveLock"}]})
                lost = not skip and eng.faults["lost"] > 0
                if lost:
                    eng.faults["lost"] -= 1
                results, errors = self.transaction(eng.dbs[parts[1]], body)
                if lost:
                    self.close_connection = True
                    return                          # committed, reply lost
            self.reply(200, {"results": results, "errors": errors,
                             "lastBookmarks": ["FB:fixture"]})

        def transaction(self, g, body):
            results, errors = [], []
            tx = eng.tx = Tx(g)
            for st in body.get("statements", []):
                try:
                    cols, rows = eng.run(g, st.get("statement", ""), st.get("parameters") or {})
                except CypherError as ex:
                    errors.append({"code": ex.code, "message": ex.message})
                    tx.rollback()
                    break
                data = []
                for r in rows:
                    m = []
                    for v in r:
                        meta(v, m)
                    data.append({"row": [to_json(v) for v in r], "meta": m})
                results.append({"columns": cols, "data": data})
            return results, errors

    return Handler


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--address", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7474)
    p.add_argument("--user", default="neo4j")
    p.add_argument("--password", required=True)
    p.add_argument("--database", action="append")
    args = p.parse_args()
    ThreadingHTTPServer((args.address, args.port), build_handler(args)).serve_forever()


if __name__ == "__main__":
    main()
