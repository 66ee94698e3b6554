"""The benchmark's webhook receiver, in its own process: a plain http.server (threads, keep-alive) that checks each
request's signature and writes `<idempotency key> <ok|bad>` to a file, flushed, before it answers 200 (so a key in
the file is a request that reached it, answered or not).

    python bench/_webhook_receiver.py PORT FILE SECRET
"""

from __future__ import annotations

import hashlib
import hmac
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main() -> None:
    port, path, secret = int(sys.argv[1]), sys.argv[2], sys.argv[3].encode()
    out = open(path, "a", buffering=1)  # noqa: SIM115  # line-buffered for the process's life
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            stamp = self.headers.get("X-RevOps-Timestamp", "")
            expected = "v1=" + hmac.new(secret, stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
            good = hmac.compare_digest(expected, self.headers.get("X-RevOps-Signature", ""))
            with lock:
                out.write(f"{self.headers.get('X-RevOps-Delivery', '-')} {'ok' if good else 'bad'}\n")
                out.flush()
            self.send_response(200 if good else 401)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    ThreadingHTTPServer.allow_reuse_address = True
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
