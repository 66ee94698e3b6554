"""Several clients posting new signals at once, with a worker rescoring beside them (PostgreSQL and Redis): every
signal is kept, no batch is refused, and every account ends up scored with them."""

import datetime as dt
import threading
import uuid

import pytest
from django.db import connection
from django.test import Client

from accounts.models import PendingRescore, Signal
from config.celery_app import app
from segmentation import services
from segmentation.models import AccountScore
from tests.factories import AccountFactory, ScoringModelFactory

from ..conftest import require_postgres, require_redis
from ..workers import start_worker, wait_for

CLIENTS, BATCHES, PER_BATCH = 4, 10, 100


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_concurrent_clients_posting_new_signals_lose_nothing(world, monkeypatch):
    require_postgres()
    require_redis()
    accounts = [AccountFactory(industry="software", employee_count=100 + n) for n in range(30)]
    model = ScoringModelFactory()
    services.model_publish(model=model, user=None)  # scored here (eager), before the worker starts
    queue = f"test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setitem(app.conf, "task_always_eager", False)
    monkeypatch.setitem(app.conf, "task_default_queue", queue)
    worker = start_worker(queue)
    now = dt.datetime.now(dt.UTC)
    answers: list[int] = []
    start = threading.Barrier(CLIENTS)

    def client_posts(number: int) -> None:
        try:
            client = Client()
            client.force_login(world.admin)
            start.wait()
            for batch in range(BATCHES):
                body = [
                    {
                        # Every batch touches every account, in an order of its own: writers contend on them all.
                        "account": accounts[(item * (number + 1) + batch) % len(accounts)].pk,
                        "kind": "web_visit",
                        "occurred_at": (now - dt.timedelta(seconds=number * 10_000 + batch * 100 + item)).isoformat(),
                        "external_id": f"c{number}-b{batch}-i{item}",
                    }
                    for item in range(PER_BATCH)
                ]
                answers.append(client.post("/api/v1/signals/", body, content_type="application/json").status_code)
        finally:
            connection.close()

    try:
        threads = [threading.Thread(target=client_posts, args=(n,)) for n in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(set(answers)) == [201] and len(answers) == CLIENTS * BATCHES  # no batch refused
        assert Signal.objects.count() == CLIENTS * BATCHES * PER_BATCH  # none lost
        wait_for(lambda: not PendingRescore.objects.exists(), seconds=120)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    latest = max(Signal.objects.values_list("occurred_at", flat=True))
    assert AccountScore.objects.filter(model=model, as_of__gte=latest).count() == len(accounts)
