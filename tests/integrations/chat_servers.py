"""Local stand-ins for Slack's and Microsoft Teams' incoming webhooks: real HTTP servers on 127.0.0.1 that answer as
the documented services do and keep every message posted to them.

Slack (https://api.slack.com/messaging/webhooks): POST JSON to /services/T…/B…/…; 200 "ok"; 429 "rate_limited" with
Retry-After when posting too fast; 404 "no_service" for a webhook that was removed; 400 "invalid_payload" for a body
that is not JSON or has no text/blocks. Teams (incoming webhook connector): 200 "1"; 400 for a body without text or
attachments.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class ChatServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, tool: str):
        super().__init__(("127.0.0.1", 0), Handler)
        self.tool = tool
        self.received: list[dict] = []  # {"path":, "body":, "status":}
        self.scripted: deque[tuple[int, str, dict]] = deque()  # answers to give before the normal ones
        self.removed: set[str] = set()  # Slack paths answering 404 no_service
        self.lock = threading.Lock()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def hook(self, name: str = "T000/B000/XXXX") -> str:
        return f"{self.base}/services/{name}" if self.tool == "slack" else f"{self.base}/webhookb2/{name}"

    def answer_next(self, status: int, body: str, headers: dict | None = None) -> None:
        self.scripted.append((status, body, headers or {}))

    def delivered(self) -> list[dict]:
        """The bodies of the messages the tool accepted (posted into the channel)."""
        with self.lock:
            return [r["body"] for r in self.received if r["status"] == 200]

    def texts(self) -> list[str]:
        """Each accepted message's words (Slack: `text`; Teams: the card's text blocks, joined)."""
        if self.tool == "slack":
            return [body["text"] for body in self.delivered()]
        return [
            "\n".join(block["text"] for block in body["attachments"][0]["content"]["body"]) for body in self.delivered()
        ]


class Handler(BaseHTTPRequestHandler):
    server: ChatServer

    def log_message(self, *args):  # quiet
        pass

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        status, text, headers = self._answer(raw)
        with self.server.lock:
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode(errors="replace")
            self.server.received.append({"path": self.path, "body": body, "status": status})
        payload = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _answer(self, raw: bytes) -> tuple[int, str, dict]:
        server = self.server
        if server.scripted:
            return server.scripted.popleft()
        if self.headers.get("Content-Type", "").split(";")[0] != "application/json":
            return 400, "invalid_payload", {}
        try:
            body = json.loads(raw)
        except ValueError:
            return 400, "invalid_payload", {}
        if server.tool == "slack":
            if not self.path.startswith("/services/") or self.path in server.removed:
                return 404, "no_service", {}
            if not isinstance(body, dict) or not (body.get("text") or body.get("blocks")):
                return 400, "no_text", {}
            return 200, "ok", {}
        if not isinstance(body, dict) or not (body.get("text") or body.get("attachments")):
            return 400, "Summary or Text is required.", {}
        return 200, "1", {}


@contextlib.contextmanager
def chat_server(tool: str):
    server = ChatServer(tool)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
