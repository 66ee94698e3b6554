"""On PostgreSQL with a real Celery worker on Redis (nothing eager): an event committed here wakes the worker by the
task's name, and the worker delivers it to the receiver, signed."""

import subprocess
import uuid

import pytest
from django.db import transaction

from config.celery_app import app
from core import events
from integrations.models import WebhookDelivery
from integrations.webhooks.signing import signature

from ..conftest import require_postgres, require_redis
from ..workers import start_worker, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(monkeypatch):
    """A worker on a queue of its own, reading the test database; every task this test sends goes there."""
    require_postgres()
    require_redis()
    queue = f"webhooks-{uuid.uuid4().hex[:8]}"
    process = start_worker(queue)
    monkeypatch.setitem(app.conf, "task_always_eager", False)
    monkeypatch.setitem(app.conf, "task_default_queue", queue)
    yield queue
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def test_a_committed_event_wakes_the_worker_which_delivers_it(worker, receiver, make_endpoint):
    endpoint = make_endpoint(receiver.url)
    with transaction.atomic():
        events.record("mqa.raised", account_id=5, data={"tier": "tier_1"})
    wait_for(lambda: WebhookDelivery.objects.filter(status="delivered").exists(), 60)
    [got] = receiver.received
    assert got.header("X-RevOps-Signature") == signature(
        endpoint.secret, int(got.header("X-RevOps-Timestamp")), got.body
    )
    assert WebhookDelivery.objects.get().attempts == 1
