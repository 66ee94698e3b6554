"""`make demo` serves the site as its users see it (scripts/serve.sh): DEBUG off, so a missing page is the site's own
styled page under the Content-Security-Policy, while the static files and the icon are still served."""

import os
import signal
import socket
import subprocess  # nosec B404  # the test starts the demo's own script
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from core.csp import CONTENT_SECURITY_POLICY

BASE = Path(__file__).resolve().parent.parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def get(url: str):
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(url, timeout=10) as response:  # nosec B310  # a local test server
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def test_the_demo_server_shows_the_sites_own_error_pages(tmp_path):
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DEBUG", "ALLOWED_HOSTS")},
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DEMO_ADDR": f"127.0.0.1:{port}",
        "STATIC_ROOT": str(tmp_path / "static"),
    }
    python = str(BASE / ".venv" / "bin" / "python") if (BASE / ".venv").exists() else sys.executable
    subprocess.run([python, "manage.py", "migrate", "--no-input", "-v0"], cwd=BASE, env=env, check=True)  # nosec
    server = subprocess.Popen(  # nosec B603
        ["bash", "scripts/serve.sh"],
        cwd=BASE,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                status, _, _ = get(f"{url}/login/")
                break
            except OSError:
                time.sleep(0.5)
        assert status == 200
        status, headers, body = get(f"{url}/no-such-page/")
        assert status == 404
        assert "Page not found" in body and "RevOps scoring" in body
        assert "Traceback" not in body and "URLconf" not in body  # not Django's debug page
        assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        status, headers, _ = get(f"{url}/static/css/app.css")
        assert status == 200 and headers["Content-Type"].startswith("text/css")
        status, headers, _ = get(f"{url}/favicon.ico")
        assert status == 302 and headers["Location"].endswith("/static/img/favicon.svg")
        status, headers, _ = get(f"{url}/static/img/favicon.svg")
        assert status == 200 and headers["Content-Type"].startswith("image/svg+xml")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        output = server.communicate(timeout=30)[0].decode()
    assert "No directory at" not in output, output
