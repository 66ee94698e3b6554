"""Shared fixtures: one small world with every kind of user, including an outsider.

Territory "North" has a manager, two reps and a sub-territory "North-East";
territory "South" has its own manager and rep. `outsider` has no role at all.
"""

import os
import threading
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIServer
from django.db import connection
from django.test.testcases import LiveServerThread

from accounts.models import Account
from territories.models import Membership, Territory

from .factories import AccountFactory, MembershipFactory, TerritoryFactory, UserFactory


class _Requests:
    """Counts the requests the live server is still answering. A browser closed at the end of a journey leaves the
    ones it had in flight running; the database is emptied after the test only once they have finished, or their
    transactions and the flush's TRUNCATE would deadlock."""

    def __init__(self):
        self.busy = 0
        self.changed = threading.Condition()

    def started(self):
        with self.changed:
            self.busy += 1

    def finished(self):
        with self.changed:
            self.busy -= 1
            self.changed.notify_all()

    def wait_until_idle(self, timeout=30.0):
        with self.changed:
            return self.changed.wait_for(lambda: self.busy == 0, timeout=timeout)


LIVE_REQUESTS = _Requests()


class _Answer:
    """A response's body, counted as in flight until the server closes it (which ends the request's transaction)."""

    def __init__(self, body):
        self.body = body

    def __iter__(self):
        return iter(self.body)

    def close(self):
        try:
            if hasattr(self.body, "close"):
                self.body.close()
        finally:
            LIVE_REQUESTS.finished()


class _CountsRequests:
    """Counts each request from the moment the application is called until its response is closed; a connection the
    browser merely keeps open between requests is not counted."""

    def set_app(self, application):
        def counted(environ, start_response):
            LIVE_REQUESTS.started()
            try:
                return _Answer(application(environ, start_response))
            except BaseException:
                LIVE_REQUESTS.finished()
                raise

        super().set_app(counted)


class _OneRequestAtATime(_CountsRequests, WSGIServer):
    def __init__(self, *args, connections_override=None, **kwargs):
        super().__init__(*args, **kwargs)  # serves in the live server's thread, which already holds the override


class _OneThreadPerRequest(_CountsRequests, ThreadedWSGIServer):
    pass


def _live_server(*args, connections_override=None, **kwargs):
    """The live server (browser journeys, the SSO provider's callbacks). The test database on SQLite lives in memory,
    and the live server's threads would share its one connection: two requests at once (a page fetching several parts
    together) would interleave their transactions. On SQLite it answers one request at a time, closing each
    connection; on PostgreSQL (CI) each request has its own thread and connection."""
    if connection.vendor == "sqlite":
        return _OneRequestAtATime(*args, **kwargs)
    return _OneThreadPerRequest(*args, connections_override=connections_override, **kwargs)


LiveServerThread.server_class = staticmethod(_live_server)

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


# Tests that start real processes (Celery workers, the benchmarks' workers) or a browser run one group at a time, on
# one test process, while the rest of the suite runs beside them (`make test` uses pytest-xdist --dist loadgroup):
# two workers' benchmarks at once would only measure each other.
SERIAL_GROUPS = {"worker": "processes", "browser": "browser"}


@pytest.fixture(autouse=True)
def _live_server_idle_before_the_flush():
    """Set up after the test database and torn down before it: the requests a journey's browser left in flight finish
    before the tables are emptied."""
    yield
    if not LIVE_REQUESTS.wait_until_idle(timeout=60.0):
        pytest.fail(f"the live server was still answering {LIVE_REQUESTS.busy} request(s) a minute after the test")


def pytest_collection_modifyitems(config, items):
    for item in items:
        for marker, group in SERIAL_GROUPS.items():
            if item.get_closest_marker(marker):
                item.add_marker(pytest.mark.xdist_group(name=group))
                break


def pytest_sessionfinish(session, exitstatus):
    """In CI every test runs: a skip, whatever its reason, fails the run."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if IN_CI and reporter is not None and reporter.stats.get("skipped") and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Name every test that was skipped for want of a service (PostgreSQL, Redis, Chromium): on a newcomer's
    machine these promises were not checked here (CI checks them all, and fails on any skip)."""
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if getattr(r, "when", "") in ("setup", "call")]
    if not skipped:
        return
    terminalreporter.section(f"{len(skipped)} promise tests skipped: their service is missing here")
    for report in sorted(skipped, key=lambda r: r.nodeid):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        terminalreporter.write_line(f"{report.nodeid}: {reason.removeprefix('Skipped: ')}")


def require(condition: bool, reason: str) -> None:
    """Skip a test whose service is missing on a newcomer's machine; in CI a missing service is a failure."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI must provide this: {reason}")
    pytest.skip(reason)


def require_postgres() -> None:
    require(connection.vendor == "postgresql", "needs PostgreSQL: set DATABASE_URL=postgres://...")


def require_redis() -> None:
    require(bool(os.environ.get("REDIS_URL")), "needs Redis: set REDIS_URL=redis://...")


@dataclass
class World:
    north: Territory
    north_east: Territory
    south: Territory
    manager: User
    other_manager: User
    rep: User
    north_rep: User
    sub_rep: User
    other_rep: User
    admin: User
    outsider: User
    owned_by_rep: Account
    north_account: Account
    north_east_account: Account
    south_account: Account
    unrouted_account: Account

    def accounts_visible_to(self, name: str) -> set[int]:
        a = self
        every = {
            a.owned_by_rep.pk,
            a.north_account.pk,
            a.north_east_account.pk,
            a.south_account.pk,
            a.unrouted_account.pk,
        }
        return {
            "admin": every,
            "manager": {a.owned_by_rep.pk, a.north_account.pk, a.north_east_account.pk},
            "other_manager": {a.south_account.pk},
            "rep": {a.owned_by_rep.pk},
            "north_rep": {a.owned_by_rep.pk, a.north_account.pk},
            "sub_rep": {a.north_east_account.pk},
            "other_rep": {a.south_account.pk},
            "outsider": set(),
        }[name]


@pytest.fixture
def world(db) -> World:
    north = TerritoryFactory(name="North")
    north_east = TerritoryFactory(name="North-East", parent=north)
    south = TerritoryFactory(name="South")
    manager = UserFactory(username="manager", role="manager")
    other_manager = UserFactory(username="other_manager", role="manager")
    rep = UserFactory(username="rep", role="rep")
    north_rep = UserFactory(username="north_rep", role="rep")
    sub_rep = UserFactory(username="sub_rep", role="rep")
    other_rep = UserFactory(username="other_rep", role="rep")
    admin = UserFactory(username="admin", role="admin")
    outsider = UserFactory(username="outsider")
    MembershipFactory(user=manager, territory=north, role=Membership.Role.MANAGER)
    MembershipFactory(user=other_manager, territory=south, role=Membership.Role.MANAGER)
    MembershipFactory(user=north_rep, territory=north)
    MembershipFactory(user=sub_rep, territory=north_east)
    MembershipFactory(user=other_rep, territory=south)
    # `rep` is a member of no territory: they see only what they own.
    return World(
        north=north,
        north_east=north_east,
        south=south,
        manager=manager,
        other_manager=other_manager,
        rep=rep,
        north_rep=north_rep,
        sub_rep=sub_rep,
        other_rep=other_rep,
        admin=admin,
        outsider=outsider,
        owned_by_rep=AccountFactory(name="Owned by rep", territory=north, owner=rep),
        north_account=AccountFactory(name="North account", territory=north, owner=north_rep),
        north_east_account=AccountFactory(name="North-East account", territory=north_east),
        south_account=AccountFactory(name="South account", territory=south, owner=other_rep),
        unrouted_account=AccountFactory(name="Unrouted account"),
    )


@pytest.fixture(scope="session")
def oidc_provider(live_server):
    """A real OpenID provider (django-oidc-provider, tests/oidc_provider_site/) in its own process, knowing the
    product's client with its redirect URI on the live server. Installed by requirements-dev.txt: never skipped."""
    from .oidc_provider_site.process import start_provider

    with start_provider(f"{live_server.url}/oidc/callback/") as provider:
        yield provider


def forget_shared_counts() -> None:
    """Forget the counts shared through the cache (core/summaries.py) by this test process only, as when
    COUNTS_CACHE_SECONDS have passed. cache.clear() would empty the whole Redis database, which every test process
    shares (their throttle counts too, under their own key prefixes)."""
    from django.core.cache import cache

    client = getattr(getattr(cache, "_cache", None), "get_client", None)
    if client is None:
        cache.clear()  # this process's own LocMemCache
        return
    redis = client(write=True)
    for key in list(redis.scan_iter(match=cache.make_key("counts:*"))):
        redis.delete(key)
