"""A real HTTP receiver for webhook tests: http.server on 127.0.0.1 in a thread, answering what the test says and
keeping every request it got (headers, raw body)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


@dataclass
class Receiver:
    """`answers`: the status of each request in turn (the last repeats), or a function of the request."""

    answers: list[int] | Callable[[Received], int] = field(default_factory=lambda: [200])
    received: list[Received] = field(default_factory=list)

    def __post_init__(self):
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                got = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body, 0)
                with receiver.lock:
                    got.status = receiver.status_for(got)
                    receiver.received.append(got)
                payload = b"ok" if got.status < 300 else b"receiver says no"
                self.send_response(got.status)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def status_for(self, got: Received) -> int:
        if callable(self.answers):
            return self.answers(got)
        index = min(len(self.received), len(self.answers) - 1)
        return self.answers[index]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/revops"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
