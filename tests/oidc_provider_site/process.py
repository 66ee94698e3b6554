"""Start the test identity provider: migrate its own SQLite file, make its RSA key and the product's client and
users, then serve it with `runserver` on a free port until the tests are done.

    python -m tests.oidc_provider_site.process seed <redirect_uri>   (what start_provider runs first)
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent
CLIENT_ID = "revops-test"
CLIENT_SECRET = "revops-test-secret-1234567890"
PASSWORD = "idp-password-2026"
# username -> (email, first name, last name, IdP groups)
USERS = {
    "alice": ("alice@example.com", "Alice", "East", ["sales-east"]),
    "bob": ("bob@example.com", "Bob", "Both", ["sales-east", "sales-managers"]),
    "carol": ("carol@example.com", "Carol", "Nowhere", ["marketing"]),
    "dave": ("dave@example.com", "Dave", "Journey", ["sales-east"]),
    "rep": ("sso-rep@example.com", "Another", "Rep", []),  # the product already has a user named "rep"
}


@dataclass
class Provider:
    url: str  # http://127.0.0.1:<port>

    @property
    def issuer(self) -> str:
        return f"{self.url}/openid"

    @property
    def settings(self) -> dict:
        """The product's settings for this provider, as OIDC_RP_CLIENT_ID, OIDC_RP_CLIENT_SECRET and OIDC_OP_ISSUER
        make them at start-up (the endpoints read from the provider's discovery document)."""
        from config.settings.sso import discover_endpoints

        authorization, token, userinfo, jwks = discover_endpoints(
            issuer=self.issuer,
            secret=CLIENT_SECRET,
            sign_algo="RS256",
            authorization=None,
            token=None,
            userinfo=None,
            jwks=None,
            timeout=5,
        )
        return {
            "SSO_ENABLED": True,
            "OIDC_RP_CLIENT_ID": CLIENT_ID,
            "OIDC_RP_CLIENT_SECRET": CLIENT_SECRET,
            "OIDC_OP_ISSUER": self.issuer,
            "OIDC_OP_AUTHORIZATION_ENDPOINT": authorization,
            "OIDC_OP_TOKEN_ENDPOINT": token,
            "OIDC_OP_USER_ENDPOINT": userinfo,
            "OIDC_OP_JWKS_ENDPOINT": jwks,
            "OIDC_RP_SIGN_ALGO": "RS256",
        }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def start_provider(redirect_uri: str):
    """A running provider that knows the product's client with `redirect_uri`; stopped on exit."""
    with tempfile.TemporaryDirectory(prefix="oidc-provider-") as tmp:
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "PYTEST_XDIST_WORKER"}
        }
        env.update(
            DJANGO_SETTINGS_MODULE="tests.oidc_provider_site.settings",
            OIDC_PROVIDER_DB=str(Path(tmp) / "provider.sqlite3"),
            PYTHONPATH=str(BASE_DIR),
        )
        seed = subprocess.run(
            [sys.executable, "-m", "tests.oidc_provider_site.process", "seed", redirect_uri],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if seed.returncode:
            raise RuntimeError(f"The test OpenID provider could not be set up:\n{seed.stdout}\n{seed.stderr}")
        port = free_port()
        log = open(Path(tmp) / "provider.log", "w")  # noqa: SIM115 (closed below)
        server = subprocess.Popen(
            [sys.executable, "-m", "django", "runserver", f"127.0.0.1:{port}", "--noreload", "--skip-checks"],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_until_up(url, server, Path(tmp) / "provider.log")
            yield Provider(url=url)
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            log.close()


def _wait_until_up(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"The test OpenID provider stopped:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/openid/.well-known/openid-configuration", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"The test OpenID provider did not answer within 30 s:\n{log.read_text()}")


def seed(redirect_uri: str) -> None:
    import django

    django.setup()
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from oidc_provider.models import Client, ResponseType

    call_command("migrate", verbosity=0)
    call_command("creatersakey")
    client = Client.objects.create(
        name="RevOps scoring",
        client_type="confidential",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        jwt_alg="RS256",
        require_consent=False,
        reuse_consent=True,
    )
    client.redirect_uris = [redirect_uri]
    client.save()
    client.response_types.add(ResponseType.objects.get(value="code"))
    for username, (email, first, last, groups) in USERS.items():
        user = User.objects.create_user(username, email, PASSWORD, first_name=first, last_name=last)
        user.groups.add(*(Group.objects.get_or_create(name=name)[0] for name in groups))


if __name__ == "__main__":
    if sys.argv[1:2] == ["seed"]:
        seed(sys.argv[2])
    else:
        sys.exit(__doc__)
