#!/usr/bin/env python3
"""A loopback HTTP server that records every request, for the notification
tests: one JSON line per request (method, path, content type, body) in LOG.
Paths under /flaky/ answer 500 to their first two requests, /gone/ always
404; everything else 200.  It writes its port to PORTFILE once listening
and stops by itself after 15 minutes.

usage: http_recorder.py PORTFILE LOG
"""
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port_file, log_file = sys.argv[1], sys.argv[2]
lock = threading.Lock()
seen = {}


class Handler(BaseHTTPRequestHandler):
    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode("utf-8", "replace") if n else ""
        with lock:
            seen[self.path] = seen.get(self.path, 0) + 1
            count = seen[self.path]
            with open(log_file, "a") as f:
                f.write(json.dumps({"method": self.command, "path": self.path,
                                    "ctype": self.headers.get("Content-Type"),
                                    "body": body}) + "\n")
        status = 200
        if self.path.startswith("/flaky/") and count <= 2:
            status = 500
        elif self.path.startswith("/gone/"):
            status = 404
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"OK")

    do_GET = do_POST = do_HEAD = handle_any

    def log_message(self, *args):
        pass


srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(port_file + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
import os
os.rename(port_file + ".tmp", port_file)
threading.Timer(900, srv.shutdown).start()
srv.serve_forever()
