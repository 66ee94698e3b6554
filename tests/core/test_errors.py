"""Errors: with SENTRY_DSN set, a view's or a Celery task's exception reaches the Sentry server (here a local HTTP
server speaking the envelope endpoint), without cookies or the user's e-mail; without it, sentry-sdk is not even
imported.

Each case runs the product in a subprocess: sentry-sdk is set up once per process, by the settings.
"""

import gzip
import json
import os
import subprocess
import sys
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import brotli
import pytest
from django.conf import settings

# The product in a subprocess: a URLconf with a failing view (and the site's middleware), a failing task.
PROBE = r"""
import sys, types, wsgiref.util
import django
django.setup()
loaded_after_setup = "sentry_sdk" in sys.modules

from celery import shared_task
from django.http import HttpResponse
from django.core.wsgi import get_wsgi_application
from django.test import override_settings
from django.urls import path


class SomeUser:
    is_authenticated = True
    pk = id = 7
    email = "secret-user@example.com"
    username = "secret-user"

    def get_username(self):
        return self.username


def failing_view(request):
    request.user = SomeUser()
    raise ZeroDivisionError("view failed on purpose")


def fine_view(request):
    return HttpResponse("fine")


urls = types.ModuleType("probe_urls")
urls.urlpatterns = [path("fail/", failing_view), path("fine/", fine_view)]
sys.modules["probe_urls"] = urls


@shared_task(name="probe.failing_task")
def failing_task():
    raise LookupError("task failed on purpose")


def get(path):
    # A GET through the site's real WSGI application, as gunicorn calls it (Sentry hooks in there).
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "q=1", "HTTP_HOST": "localhost",
               "HTTP_COOKIE": "tracking=secret-cookie-value", "REMOTE_ADDR": "192.0.2.44"}
    wsgiref.util.setup_testing_defaults(environ)
    answer = []
    body = b"".join(application(environ, lambda status, headers, exc_info=None: answer.append(status)))
    return int(answer[0].split()[0]), body


with override_settings(ROOT_URLCONF="probe_urls"):
    application = get_wsgi_application()
    status, _ = get("/fine/")
    assert status == 200, status
    if sys.argv[1] == "fail":
        status, _ = get("/fail/")
        assert status == 500, status
        try:
            failing_task.delay()
        except LookupError:
            pass
        else:
            raise AssertionError("the task did not fail")

if "sentry_sdk" in sys.modules:
    import sentry_sdk
    sentry_sdk.flush(timeout=10)
print(loaded_after_setup, "sentry_sdk" in sys.modules)
"""


class SentryServer(ThreadingHTTPServer):
    """Accepts what the Sentry SDK sends to http://public@127.0.0.1:<port>/1: POST /api/1/envelope/."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), EnvelopeHandler)
        self.envelopes: list[tuple[str, bytes]] = []

    @property
    def dsn(self) -> str:
        return f"http://public@127.0.0.1:{self.server_address[1]}/1"

    def items(self) -> list[dict]:
        """Every item of every envelope received: an envelope is a header line, then per item a header line and
        its payload (`length` bytes when the header says, else up to the end of the line)."""
        items = []
        for _, body in self.envelopes:
            _, _, rest = body.partition(b"\n")
            while rest.strip():
                line, _, rest = rest.partition(b"\n")
                header = json.loads(line)
                if "length" in header:
                    payload, rest = rest[: header["length"]], rest[header["length"] :].removeprefix(b"\n")
                else:
                    payload, _, rest = rest.partition(b"\n")
                items.append({"type": header.get("type"), "payload": payload})
        return items

    def events(self) -> list[dict]:
        return [json.loads(item["payload"]) for item in self.items() if item["type"] == "event"]


class EnvelopeHandler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "br":
            body = brotli.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        self.server.envelopes.append((self.path, body))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format, *args):  # quiet
        pass


@pytest.fixture
def sentry_server():
    server = SentryServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def run_probe(mode: str, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith("SENTRY_") and k not in {"DATABASE_URL", "REDIS_URL"}
    }
    clean.update(DJANGO_SETTINGS_MODULE="config.settings.test", DATABASE_URL="sqlite:///:memory:", **env)
    done = subprocess.run(
        [sys.executable, "-c", PROBE, mode],
        cwd=settings.BASE_DIR,
        env=clean,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done


def test_a_failing_view_and_task_reach_sentry_without_personal_data(sentry_server):
    done = run_probe("fail", SENTRY_DSN=sentry_server.dsn, SENTRY_ENVIRONMENT="ci-probe", SENTRY_RELEASE="r-123")
    assert done.stdout.split() == ["True", "True"]
    assert sentry_server.envelopes, "nothing reached the server"
    assert all(path == "/api/1/envelope/" for path, _ in sentry_server.envelopes)

    events = sentry_server.events()
    by_type = {event["exception"]["values"][-1]["type"]: event for event in events if "exception" in event}
    assert set(by_type) == {"ZeroDivisionError", "LookupError"}, events

    view = by_type["ZeroDivisionError"]
    assert view["exception"]["values"][-1]["value"] == "view failed on purpose"
    assert view["exception"]["values"][-1]["mechanism"]["type"] == "django"
    assert view["request"]["url"] == "http://localhost/fail/" and view["request"]["query_string"] == "q=1"
    assert view["environment"] == "ci-probe" and view["release"] == "r-123"

    task = by_type["LookupError"]
    assert task["exception"]["values"][-1]["value"] == "task failed on purpose"
    assert task["exception"]["values"][-1]["mechanism"]["type"] == "celery"
    assert task["extra"]["celery-job"]["task_name"] == "probe.failing_task"

    # send_default_pii=False: no cookie, no user's e-mail or name, no client address leaves the site.
    everything = b"".join(body for _, body in sentry_server.envelopes)
    for secret in (b"secret-cookie-value", b"secret-user@example.com", b"secret-user", b"192.0.2.44"):
        assert secret not in everything
    assert "cookies" not in view["request"] and view["request"]["headers"].get("Cookie") == "[Filtered]"
    assert "REMOTE_ADDR" not in view["request"].get("env", {}) and not view.get("user")


def test_without_a_dsn_sentry_is_not_even_imported(sentry_server):
    done = run_probe("fail")
    assert done.stdout.split() == ["False", "False"]  # after django.setup(), and after requests and a task
    assert sentry_server.envelopes == []


def test_with_a_dsn_a_fine_request_sends_nothing(sentry_server):
    done = run_probe("fine", SENTRY_DSN=sentry_server.dsn)
    assert done.stdout.split() == ["True", "True"]
    assert sentry_server.events() == []
