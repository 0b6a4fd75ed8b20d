#!/usr/bin/env python3
"""A stand-in for Neo4j 5's HTTP API, for tests only (no Neo4j can be
installed on the build machines).  It answers with the shapes Neo4j 5
documents for the discovery endpoint and the transactional Cypher endpoint
(/db/<name>/tx/commit): results with columns, data rows and meta, errors
with Neo.* status codes, and 401 for bad credentials.

usage: neo4j_fixture.py --port N --user U --password P [--database NAME]...
"""
import argparse
import base64
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

VERSION = "5.13.0"


def build_handler(args):
    databases = set(args.database or ["neo4j"]) | {"system"}
    good = "Basic " + base64.b64encode(
        f"{args.user}:{args.password}".encode()).decode()

    def run_statement(text):
        """Returns (columns, rows) or raises KeyError for unknown Cypher."""
        t = " ".join(text.split())
        if t.startswith("CALL dbms.components()"):
            return (["name", "versions[0]", "edition"],
                    [["Neo4j Kernel", VERSION, "community"]])
        if t.upper().startswith("RETURN 1"):
            return (["1"], [[1]])
        raise KeyError(t)

    class Handler(BaseHTTPRequestHandler):
        server_version = "Neo4jFixture/" + VERSION

        def log_message(self, fmt, *a):
            pass

        def reply(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

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
            self.reply(404, {"errors": [{
                "code": "Neo.ClientError.Request.Invalid",
                "message": "Not Found"}]})

        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            if self.headers.get("Authorization") != good:
                return self.reply(401, {"errors": [{
                    "code": "Neo.ClientError.Security.Unauthorized",
                    "message": "Invalid username or password."}]})
            parts = self.path.strip("/").split("/")
            if len(parts) != 4 or parts[0] != "db" or parts[2:] != ["tx", "commit"]:
                return self.reply(404, {"errors": [{
                    "code": "Neo.ClientError.Request.Invalid",
                    "message": "Not Found"}]})
            if parts[1] not in databases:
                return self.reply(404, {"results": [], "errors": [{
                    "code": "Neo.ClientError.Database.DatabaseNotFound",
                    "message": f"Database does not exist. Database name: '{parts[1]}'."}]})
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                return self.reply(400, {"errors": [{
                    "code": "Neo.ClientError.Request.InvalidFormat",
                    "message": "Unable to deserialize request"}]})
            results, errors = [], []
            for st in body.get("statements", []):
                try:
                    cols, rows = run_statement(st.get("statement", ""))
                except KeyError as k:
                    errors.append({
                        "code": "Neo.ClientError.Statement.SyntaxError",
                        "message": f"Invalid input: {k}"})
                    break
                results.append({"columns": cols, "data": [
                    {"row": r, "meta": [None] * len(r)} for r in rows]})
            self.reply(200, {"results": results, "errors": errors,
                             "lastBookmarks": ["FB:fixture"]})

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
