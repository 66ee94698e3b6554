"""/healthz and /readyz: no login, no data, and /readyz says what is not ready."""

import os

import pytest
from django.db import OperationalError

from core import health

from ..conftest import require_redis

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh(monkeypatch):
    monkeypatch.setattr(health, "_migrated", False)


def test_healthz_answers_anyone_that_the_process_is_alive(client):
    response = client.get("/healthz", HTTP_HOST="10.0.0.7:8000")  # a probe calls the process by its address
    assert response.status_code == 200 and response.json() == {"status": "alive"}


def test_readyz_is_ready_when_the_database_and_redis_answer_and_every_migration_is_applied(client, settings):
    settings.REDIS_URL = None
    response = client.get("/readyz", HTTP_HOST="10.0.0.7:8000")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "migrations": "ok"}}


def test_readyz_names_redis_when_it_does_not_answer(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["redis"].startswith("down: ") and response.json()["checks"]["database"] == "ok"


def test_readyz_names_migrations_not_applied(client, settings, monkeypatch):
    settings.REDIS_URL = None
    monkeypatch.setattr(health.MigrationExecutor, "migration_plan", lambda self, targets: [("x", False)] * 2)
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json()["checks"]["migrations"] == "2 not applied"


def test_readyz_names_the_database_when_it_does_not_answer(client, settings, monkeypatch):
    settings.REDIS_URL = None

    def down():
        raise OperationalError("connection refused")

    monkeypatch.setattr(health.connection, "cursor", down)
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json()["checks"] == {"database": "down: connection refused"}


@pytest.mark.redis
def test_readyz_is_ready_with_the_real_redis(client, settings):
    require_redis()
    settings.REDIS_URL = os.environ["REDIS_URL"]
    assert client.get("/readyz").json()["checks"]["redis"] == "ok"
