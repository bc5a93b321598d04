"""A webhook receiver for tests, run as its own process (inside a network namespace):

    python webhook_receiver.py PORT LOG READY

Paths: /ok answers 200; /hang reads the request and never answers; /trickle answers a status
line and then one header byte every 0.2 s, for ever. Each request is appended to LOG as a JSON
line (path, headers in lower case, body, and the local address it reached); READY is created once listening."""

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        with LOCK, open(sys.argv[2], "a") as log:
            log.write(json.dumps({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                                  "body": body.decode("utf-8", "replace"),
                                  "local": self.connection.getsockname()[0]}) + "\n")
        if self.path.startswith("/hang"):
            time.sleep(3600)
        elif self.path.startswith("/trickle"):
            self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            while True:
                self.wfile.write(b"a")
                self.wfile.flush()
                time.sleep(0.2)
        else:
            self.send_response(200)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")


if __name__ == "__main__":
    server = ThreadingHTTPServer(("0.0.0.0", int(sys.argv[1])), Handler)
    server.daemon_threads = True
    Path(sys.argv[3]).touch()
    server.serve_forever()
