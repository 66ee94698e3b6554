"""Nobody sees what they shouldn't: login rate limiting, sessions that end, safe cookies, GET never writes.

Failed logins are rows of axes' AccessAttempt, rolled back with each test like any other row: tests that log in
many times need no reset (`axes.utils.reset()` clears them where a test needs it). The axes backend refuses an
`authenticate` without a request: tests use `force_login`, or `client.login(request=HttpRequest(), ...)`.
"""

import hashlib
import json
import os
import subprocess
import sys
from datetime import timedelta

from axes.models import AccessAttempt
from axes.utils import reset
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from core.models import ApiToken
from core.tokens import token_create
from tests.test_permission_matrix import MATRIX, objects, url_for  # noqa: F401 (objects is a fixture)

PASSWORD = "pw-for-tests"  # UserFactory's
LOGIN = "/login/"
TOKEN = "/api/v1/auth/token/"


def login_page(client: Client, username: str, password: str, ip: str = "127.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def token_login(client: APIClient, username: str, password: str, ip: str = "127.0.0.1"):
    return client.post(TOKEN, {"username": username, "password": password}, format="json", REMOTE_ADDR=ip)


# --- Login rate limiting ------------------------------------------------------------------------------


def test_login_page_locks_after_five_failures_with_a_clear_page(world):
    client = Client()
    for _ in range(4):
        response = login_page(client, "north_rep", "wrong")
        assert response.status_code == 200 and "Please try again" in response.text
    response = login_page(client, "north_rep", "wrong")
    assert response.status_code == 429
    assert "registration/locked_out.html" in [t.name for t in response.templates]
    assert "Too many failed logins" in response.text and "15 minutes" in response.text

    # Even the right password is refused while locked, and no session is started.
    response = login_page(client, "north_rep", PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_lockout_is_per_username_and_address(world):
    client = Client()
    for _ in range(5):
        login_page(client, "north_rep", "wrong")
    assert login_page(Client(), "north_rep", PASSWORD).status_code == 429
    # Another user from the same address, and the same user from elsewhere, still log in.
    assert login_page(Client(), "manager", PASSWORD).status_code == 302
    assert login_page(Client(), "north_rep", PASSWORD, ip="10.0.0.9").status_code == 302


def test_lockout_ends_after_the_cool_off_and_can_be_reset(world):
    for _ in range(5):
        login_page(Client(), "north_rep", "wrong")
    assert login_page(Client(), "north_rep", PASSWORD).status_code == 429

    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=16))
    assert login_page(Client(), "north_rep", PASSWORD).status_code == 302

    for _ in range(5):
        login_page(Client(), "north_rep", "wrong")
    assert login_page(Client(), "north_rep", PASSWORD).status_code == 429
    reset(username="north_rep")  # what an admin does (or `manage.py axes_reset_username north_rep`)
    assert login_page(Client(), "north_rep", PASSWORD).status_code == 302


def test_a_successful_login_clears_earlier_failures(world):
    for _ in range(4):
        login_page(Client(), "north_rep", "wrong")
    assert login_page(Client(), "north_rep", PASSWORD).status_code == 302
    for _ in range(4):
        login_page(Client(), "north_rep", "wrong")
    assert login_page(Client(), "north_rep", PASSWORD).status_code == 302


def test_token_endpoint_counts_failures_and_answers_a_lockout_in_json(world):
    api = APIClient()
    for _ in range(4):
        response = token_login(api, "north_rep", "wrong")
        assert response.status_code == 400
    response = token_login(api, "north_rep", "wrong")
    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    assert "Too many failed logins" in response.json()["detail"]
    assert int(response["Retry-After"]) == 15 * 60

    response = token_login(api, "north_rep", PASSWORD)
    assert response.status_code == 429 and "token" not in response.json()
    assert not ApiToken.objects.filter(user=world.north_rep).exists()
    assert token_login(APIClient(), "manager", PASSWORD).status_code == 200


def test_page_and_token_failures_add_up(world):
    for _ in range(3):
        login_page(Client(), "north_rep", "wrong")
    for _ in range(2):
        token_login(APIClient(), "north_rep", "wrong")
    assert token_login(APIClient(), "north_rep", PASSWORD).status_code == 429
    assert login_page(Client(), "north_rep", PASSWORD).status_code == 429


def test_lockout_settings_come_from_the_environment():
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.test", AXES_FAILURE_LIMIT="8", AXES_COOLOFF_MINUTES="30")
    code = "import django; django.setup(); from django.conf import settings as s; print(s.AXES_FAILURE_LIMIT, s.AXES_COOLOFF_TIME)"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["8", "0:30:00"]
    assert settings.AXES_FAILURE_LIMIT == 5 and settings.AXES_COOLOFF_TIME.total_seconds() == 15 * 60
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]


# --- Sessions and tokens end ------------------------------------------------------------------------


def deactivate(user: User) -> None:
    User.objects.filter(pk=user.pk).update(is_active=False)


def test_a_deactivated_user_is_logged_out_on_the_next_request(world):
    client = Client()
    client.force_login(world.north_rep)
    session_key = client.session.session_key
    assert client.get("/").status_code == 200

    deactivate(world.north_rep)
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    assert not Session.objects.filter(session_key=session_key).exists()

    # Reactivating the user does not bring the old session back.
    User.objects.filter(pk=world.north_rep.pk).update(is_active=True)
    stale = Client()
    stale.cookies[settings.SESSION_COOKIE_NAME] = session_key
    assert stale.get("/").status_code == 302


def test_a_deactivated_user_loses_the_api_with_a_session(world):
    api = APIClient()
    api.force_login(world.north_rep)
    assert api.get("/api/v1/accounts/").status_code == 200
    deactivate(world.north_rep)
    assert api.get("/api/v1/accounts/").status_code == 401


def test_a_deactivated_users_token_stops_working(world):
    _, key = token_create(world.north_rep, name="tests")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/accounts/").status_code == 200
    deactivate(world.north_rep)
    response = api.get("/api/v1/accounts/")
    assert response.status_code == 401 and response.json()["detail"] == "User inactive or deleted."


def test_a_deactivated_user_cannot_log_in(world):
    deactivate(world.north_rep)
    assert login_page(Client(), "north_rep", PASSWORD).status_code == 200
    assert token_login(APIClient(), "north_rep", PASSWORD).status_code == 400


def test_logout_ends_the_session_for_good(world):
    client = Client()
    client.force_login(world.north_rep)
    session_key = client.session.session_key
    assert client.get("/").status_code == 200

    assert client.post(reverse("logout")).status_code == 302
    assert not Session.objects.filter(session_key=session_key).exists()
    stale = Client()
    stale.cookies[settings.SESSION_COOKIE_NAME] = session_key
    response = stale.get("/")
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)


def test_logout_by_get_is_refused(world):
    client = Client()
    client.force_login(world.north_rep)
    assert client.get(reverse("logout")).status_code == 405
    assert client.get("/").status_code == 200


# --- Cookies ------------------------------------------------------------------------------------------


PRODUCTION_NAMES = [
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE",
    "CSRF_COOKIE_SECURE",
    "CSRF_COOKIE_SAMESITE",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "INSTALLED_APPS",
    "MIDDLEWARE",
    "AUTHENTICATION_BACKENDS",
]


def production_settings() -> dict:
    """The production settings module as a deployment loads it (its own process: settings read the environment)."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG"}}
    env.update(SECRET_KEY="k8#Tq" * 12, ALLOWED_HOSTS="scoring.example.com")
    code = (
        "import json, config.settings.production as p; "
        f"print(json.dumps({{name: getattr(p, name) for name in {PRODUCTION_NAMES!r}}}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_production_cookies_are_secure_httponly_and_samesite():
    production = production_settings()
    assert production["SESSION_COOKIE_SECURE"] is True
    assert production["SESSION_COOKIE_HTTPONLY"] is True
    assert production["SESSION_COOKIE_SAMESITE"] in {"Lax", "Strict"}
    assert production["CSRF_COOKIE_SECURE"] is True
    assert production["CSRF_COOKIE_SAMESITE"] in {"Lax", "Strict"}
    assert production["SECURE_SSL_REDIRECT"] is True and production["SECURE_HSTS_SECONDS"] > 0
    # Login rate limiting and the end of deactivated users' sessions are on in production too.
    assert "axes" in production["INSTALLED_APPS"]
    assert production["AUTHENTICATION_BACKENDS"][0] == "axes.backends.AxesStandaloneBackend"
    assert production["MIDDLEWARE"][-1] == "axes.middleware.AxesMiddleware"
    assert "core.middleware.EndInactiveSessionMiddleware" in production["MIDDLEWARE"]


# --- No state change on GET ---------------------------------------------------------------------------


def database_state() -> dict[str, tuple[int, str]]:
    """Per model: its row count and a hash of its `updated_at` values (where it has one)."""
    state = {}
    for model in apps.get_models():
        rows = model._default_manager.all()
        digest = ""
        if any(field.name == "updated_at" for field in model._meta.concrete_fields):
            values = rows.order_by("pk").values_list("pk", "updated_at")
            digest = hashlib.sha256(repr(list(values)).encode()).hexdigest()
        state[model._meta.label] = (rows.count(), digest)
    return state


def test_no_page_or_endpoint_changes_anything_on_get(world, objects):  # noqa: F811
    client = Client()
    client.force_login(world.admin)
    before = database_state()
    changed = {}
    for name in sorted(MATRIX):
        client.get(url_for(name, objects))
        after = database_state()
        if after != before:
            changed[name] = sorted(label for label in after if after[label] != before[label])
            before = after
    assert not changed, f"These routes wrote to the database on GET: {changed}"
