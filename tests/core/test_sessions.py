"""Sessions as production keeps them where REDIS_URL is set (config/settings/base.py): read from the shared cache,
written through to the database. A page reads no session row; a logout or a deactivation ends the session in both,
so a stale cookie is refused whichever store it is looked up in."""

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

CACHED = "django.contrib.sessions.backends.cached_db"
KEY_PREFIX = "django.contrib.sessions.cached_db"
LOGIN = "/login/"


@pytest.fixture(autouse=True)
def cached_sessions():
    with override_settings(SESSION_ENGINE=CACHED):
        yield


def session_reads(client: Client) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/").status_code == 200
    return [q["sql"] for q in captured.captured_queries if "django_session" in q["sql"]]


def stale(session_key: str) -> Client:
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = session_key
    return client


def test_a_page_reads_the_session_from_the_cache_not_the_database(world):
    client = Client()
    client.force_login(world.north_rep)
    key = client.session.session_key
    assert cache.get(KEY_PREFIX + key) is not None  # written through to the cache
    assert Session.objects.filter(session_key=key).exists()  # and to the database
    assert session_reads(client) == []
    # With the cache emptied (Redis restarted), the database still holds the session: read once, then cached again.
    cache.delete(KEY_PREFIX + key)
    assert len(session_reads(client)) == 1
    assert session_reads(client) == []


def test_logout_ends_the_session_in_the_cache_and_the_database(world):
    client = Client()
    client.force_login(world.north_rep)
    key = client.session.session_key
    assert client.get("/").status_code == 200
    assert client.post(reverse("logout")).status_code == 302
    assert cache.get(KEY_PREFIX + key) is None
    assert not Session.objects.filter(session_key=key).exists()
    response = stale(key).get("/")
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)


def test_a_deactivated_user_is_logged_out_and_reactivation_does_not_bring_the_session_back(world):
    client = Client()
    client.force_login(world.north_rep)
    key = client.session.session_key
    assert client.get("/").status_code == 200
    User.objects.filter(pk=world.north_rep.pk).update(is_active=False)
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    assert cache.get(KEY_PREFIX + key) is None
    assert not Session.objects.filter(session_key=key).exists()
    User.objects.filter(pk=world.north_rep.pk).update(is_active=True)
    assert stale(key).get("/").status_code == 302
