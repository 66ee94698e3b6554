"""Abuse: the API's throttles (per user, per client address) and login lockouts, behind the reverse proxy too.

Rates are lowered per test with override_settings (core/throttles.py reads them at request time) and each test
counts under its own cache key prefix, removed afterwards: in Redis (CI) the counts of other tests and other test
processes never mix with a test's own.
"""

import os
import uuid

import pytest
import redis
from django.conf import settings
from django.core.cache import cache, caches
from django.test import Client, RequestFactory, override_settings
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from config.settings import test as test_settings
from core.clientip import client_ip
from tests.conftest import require_redis
from tests.core.test_security import LOGIN, PASSWORD, TOKEN

ACCOUNTS = "/api/v1/accounts/"
PROXY = "10.0.0.1"  # the reverse proxy: every request behind it comes from here
CLIENT_A, CLIENT_B = "198.51.100.7", "203.0.113.9"


def rates(anon: str = "100000/minute", user: str = "100000/minute"):
    return override_settings(
        REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": anon, "user": user}}
    )


@pytest.fixture(autouse=True)
def own_cache():
    """A key prefix of this test's own, so counts start from zero; its keys are removed afterwards (in Redis, by
    prefix: clearing the whole database would clear other test processes' counts and Celery's queues too)."""
    prefix = f"{settings.CACHES['default'].get('KEY_PREFIX', '')}-{uuid.uuid4().hex[:12]}"
    with override_settings(CACHES={"default": {**settings.CACHES["default"], "KEY_PREFIX": prefix}}):
        yield prefix
        if os.environ.get("REDIS_URL"):
            connection = redis.Redis.from_url(os.environ["REDIS_URL"])
            for key in connection.scan_iter(f"{prefix}:*"):
                connection.delete(key)
        else:
            cache.clear()  # this process's LocMemCache


def anonymous_call(ip: str = "127.0.0.1", forwarded: str | None = None):
    """An anonymous API call that gets past authentication and permissions (the token login, with no
    credentials: 400, and no failed login for axes to count), so it is throttled or not."""
    headers = {"REMOTE_ADDR": ip}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return APIClient().post(TOKEN, {}, format="json", **headers)


def assert_throttled(response) -> None:
    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    assert "throttled" in response.json()["detail"]
    wait = response["Retry-After"]
    assert wait.isdigit() and 0 < int(wait) <= 60, wait
    assert f"{wait} second" in response.json()["detail"]  # the body and the header agree


# --- Per user --------------------------------------------------------------------------------------------------


def test_a_user_over_the_rate_gets_429_with_retry_after(world):
    api = APIClient()
    api.force_login(world.north_rep)
    with rates(user="3/minute"):
        for _ in range(3):
            assert api.get(ACCOUNTS).status_code == 200
        assert_throttled(api.get(ACCOUNTS))
        assert_throttled(api.get(f"{ACCOUNTS}{world.north_account.pk}/"))  # every operation, not one view

        # Another user, from the same address, is not affected.
        other = APIClient()
        other.force_authenticate(world.manager)
        assert other.get(ACCOUNTS).status_code == 200


def test_a_user_is_counted_as_themselves_from_any_address(world):
    with rates(user="2/minute"):
        for ip in ("10.1.1.1", "10.2.2.2"):
            api = APIClient(REMOTE_ADDR=ip)
            api.force_login(world.north_rep)
            assert api.get(ACCOUNTS).status_code == 200
        api = APIClient(REMOTE_ADDR="10.3.3.3")
        api.force_login(world.north_rep)
        assert_throttled(api.get(ACCOUNTS))


def test_rates_come_from_the_settings_at_request_time(world):
    """DRF binds THROTTLE_RATES when it is imported: the throttles read the settings as they are now."""
    api = APIClient()
    api.force_authenticate(world.north_rep)
    with rates(user="1/minute"):
        assert api.get(ACCOUNTS).status_code == 200
        assert_throttled(api.get(ACCOUNTS))
    with rates(user="1000/minute"):
        assert api.get(ACCOUNTS).status_code == 200


def test_a_lowered_rate_still_says_when_to_come_back(world):
    """More calls counted than the new rate allows (the rate was lowered, or processes raced): DRF's wait is None
    then, and the 429 would come with no Retry-After."""
    api = APIClient()
    api.force_authenticate(world.north_rep)
    with rates(user="4/minute"):
        for _ in range(4):
            assert api.get(ACCOUNTS).status_code == 200
    with rates(user="2/minute"):
        response = api.get(ACCOUNTS)
        assert_throttled(response)
        assert response["Retry-After"] == "60"


# --- Anonymous callers, per client address ------------------------------------------------------------------


@pytest.mark.django_db
def test_anonymous_callers_are_counted_per_address():
    with rates(anon="2/minute"):
        for _ in range(2):
            assert anonymous_call("10.0.0.5").status_code == 400
        assert_throttled(anonymous_call("10.0.0.5"))
        assert anonymous_call("10.0.0.6").status_code == 400


@pytest.mark.django_db
@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_the_proxy_each_client_is_counted_as_itself():
    with rates(anon="2/minute"):
        for _ in range(2):
            assert anonymous_call(PROXY, forwarded=CLIENT_A).status_code == 400
        assert_throttled(anonymous_call(PROXY, forwarded=CLIENT_A))
        # Another client behind the same proxy is not affected...
        assert anonymous_call(PROXY, forwarded=CLIENT_B).status_code == 400
        # ...and a client forging an address in front of its own is still counted as itself.
        assert_throttled(anonymous_call(PROXY, forwarded=f"{CLIENT_B}, {CLIENT_A}"))
        assert_throttled(anonymous_call(PROXY, forwarded=f"1.2.3.4,{CLIENT_A}"))


@pytest.mark.django_db
@override_settings(TRUSTED_PROXY_COUNT=0)
def test_without_a_trusted_proxy_the_header_is_ignored():
    """The difference: with no proxy trusted, every client behind it is the proxy's address, one count."""
    with rates(anon="2/minute"):
        assert anonymous_call(PROXY, forwarded=CLIENT_A).status_code == 400
        assert anonymous_call(PROXY, forwarded=CLIENT_A).status_code == 400
        assert_throttled(anonymous_call(PROXY, forwarded=CLIENT_B))


# --- Counted in Redis, shared by every process ------------------------------------------------------------------


@pytest.mark.redis
def test_counts_live_in_redis_shared_by_every_process(world, own_cache):
    require_redis()
    api = APIClient()
    api.force_login(world.north_rep)
    with rates(user="2/minute"):
        for _ in range(2):
            assert api.get(ACCOUNTS).status_code == 200

        # The count is a key in Redis, with the rate's duration as its expiry...
        connection = redis.Redis.from_url(os.environ["REDIS_URL"])
        key = f"{own_cache}:1:throttle_user_{world.north_rep.pk}"
        assert connection.exists(key)
        assert 0 < connection.ttl(key) <= 60

        # ...so another web process (its own cache connection, nothing of this one's memory) refuses the third call.
        other_process_cache = caches.create_connection("default")
        assert other_process_cache is not caches["default"]
        assert len(other_process_cache.get(f"throttle_user_{world.north_rep.pk}")) == 2
        original = SimpleRateThrottle.cache
        SimpleRateThrottle.cache = other_process_cache
        try:
            assert_throttled(api.get(ACCOUNTS))
        finally:
            SimpleRateThrottle.cache = original


# --- The client's address ----------------------------------------------------------------------------------------


def request(remote: str = PROXY, forwarded: str | None = None):
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **meta)


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        # No proxy trusted: the header is the client's to write, ignored.
        (0, None, PROXY),
        (0, CLIENT_A, PROXY),
        (0, f"{CLIENT_A}, {CLIENT_B}", PROXY),
        # One proxy: the entry it appended, the last; anything further left came from the client.
        (1, None, PROXY),
        (1, CLIENT_A, CLIENT_A),
        (1, f"{CLIENT_B}, {CLIENT_A}", CLIENT_A),
        (1, f"6.6.6.6, 7.7.7.7, {CLIENT_A}", CLIENT_A),
        # Two proxies: the outer one appended the client, the inner one the outer proxy.
        (2, f"{CLIENT_A}, 10.0.0.2", CLIENT_A),
        (2, f"6.6.6.6, {CLIENT_A}, 10.0.0.2", CLIENT_A),
        # Fewer entries than proxies (the request skipped an outer proxy): the left-most, which a proxy wrote.
        (2, CLIENT_A, CLIENT_A),
        (3, f"{CLIENT_A}, 10.0.0.2", CLIENT_A),
        # Garbage and spaces.
        (1, "", PROXY),
        (1, " , ,, ", PROXY),
        (1, f"  6.6.6.6 ,,  {CLIENT_A}  ", CLIENT_A),
        (2, f"{CLIENT_A} ,10.0.0.2,", CLIENT_A),
        (1, "not-an-address", PROXY),
        (1, f"{CLIENT_A}, unknown", PROXY),
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_client_ip(proxies, forwarded, expected):
    with override_settings(TRUSTED_PROXY_COUNT=proxies):
        assert client_ip(request(forwarded=forwarded)) == expected


def test_the_test_processes_count_apart_at_rates_the_suite_never_reaches():
    """config/settings/test.py: each test process (pytest-xdist, sharing CI's Redis) counts under a key prefix of
    its own, at rates no other test reaches."""
    prefix = test_settings.CACHES["default"]["KEY_PREFIX"]
    assert prefix == f"revops-test-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-{os.getpid()}"
    for rate in test_settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"].values():
        count, seconds = SimpleRateThrottle.parse_rate(None, rate)
        assert count / seconds >= 1000


def test_axes_and_the_throttles_count_the_same_address():
    assert settings.AXES_CLIENT_IP_CALLABLE == "core.clientip.client_ip"
    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] == [
        "core.throttles.AnonThrottle",
        "core.throttles.UserThrottle",
    ]


# --- Login lockouts behind the proxy -----------------------------------------------------------------------------


def login_behind_proxy(username: str, password: str, forwarded: str):
    return Client().post(
        LOGIN, {"username": username, "password": password}, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded
    )


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_one_client_behind_the_proxy_cannot_lock_out_the_others(world):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login_behind_proxy("north_rep", "wrong", forwarded=CLIENT_A)
    assert login_behind_proxy("north_rep", PASSWORD, forwarded=CLIENT_A).status_code == 429
    # Forging another address in front of its own does not get client A out of its lockout.
    assert login_behind_proxy("north_rep", PASSWORD, forwarded=f"{CLIENT_B}, {CLIENT_A}").status_code == 429
    assert login_behind_proxy("north_rep", PASSWORD, forwarded=CLIENT_B).status_code == 302

    # The token login counts the same address.
    response = APIClient().post(
        TOKEN,
        {"username": "north_rep", "password": PASSWORD},
        format="json",
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=CLIENT_A,
    )
    assert response.status_code == 429 and "Too many failed logins" in response.json()["detail"]


@override_settings(TRUSTED_PROXY_COUNT=0)
def test_without_a_trusted_proxy_everyone_behind_it_shares_one_lockout(world):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login_behind_proxy("north_rep", "wrong", forwarded=CLIENT_A)
    assert login_behind_proxy("north_rep", PASSWORD, forwarded=CLIENT_B).status_code == 429


@override_settings(TRUSTED_PROXY_COUNT=2)
def test_a_login_with_a_garbage_address_fails_cleanly(world):
    """More proxies trusted than there are: the client writes the entry read. Garbage there is not an address
    to store (PostgreSQL's inet refuses it), so the proxy's is counted and the login page answers as usual."""
    response = login_behind_proxy("north_rep", "wrong", forwarded="<script>, 10.0.0.2")
    assert response.status_code == 200 and "Please try again" in response.text


# --- Documented ----------------------------------------------------------------------------------------------------


def test_every_operation_documents_429_with_retry_after():
    from drf_spectacular.settings import spectacular_settings

    schema = spectacular_settings.DEFAULT_GENERATOR_CLASS().get_schema(request=None, public=True)
    operations = [op for methods in schema["paths"].values() for op in methods.values()]
    assert len(operations) > 20
    for operation in operations:
        answer = operation["responses"]["429"]
        assert answer["content"]["application/json"], operation["operationId"]
        header = answer["headers"]["Retry-After"]
        assert header["required"] and header["schema"] == {"type": "integer", "minimum": 1}
