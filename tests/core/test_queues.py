"""The durable queues between the apps (core/queues.py): what beat and the wake-ups name is what the apps register,
and a queue keeps one row per thing to do."""

import pytest
from celery import current_app
from django.conf import settings

from accounts.changes import OWNERS_TASK, RESCORE_TASK, ROUTE_TASK
from accounts.models import PendingRescore
from core.events import EVENTS_RECORDED
from core.queues import queue_add, queue_claim, wake
from segmentation.services.qualify import MQAS_RAISED_TASK
from territories.services import CAPACITY_TASK


def test_every_task_that_beat_or_a_wake_up_names_is_registered():
    current_app.loader.import_default_modules()
    named = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    named |= {RESCORE_TASK, ROUTE_TASK, OWNERS_TASK, CAPACITY_TASK, MQAS_RAISED_TASK, EVENTS_RECORDED}
    assert named - set(current_app.tasks) == set()
    # Each queue is drained every minute, so a lost wake-up only delays its work.
    assert {RESCORE_TASK, ROUTE_TASK, CAPACITY_TASK, EVENTS_RECORDED} <= named


def test_waking_a_task_no_app_registers_is_a_no_op():
    assert wake("no.such.task") is False


@pytest.mark.django_db
def test_a_queue_keeps_one_row_per_id_and_hands_each_out_once():
    assert queue_add(PendingRescore, [5, 3, 5, 0, None]) == [3, 5]
    queue_add(PendingRescore, [3, 8])
    assert PendingRescore.objects.count() == 3
    first = queue_claim(PendingRescore, 2)
    second = queue_claim(PendingRescore, 2)
    assert len(first) == 2 and len(second) == 1 and set(first) | set(second) == {3, 5, 8}
    assert queue_claim(PendingRescore, 2) == []


@pytest.mark.redis
def test_a_burst_of_wake_ups_sends_one_task_until_it_starts(monkeypatch):
    """While a wake-up waits on the broker, another is not sent: the waiting one drains what was committed before it
    starts. Once it starts, the next change wakes it again."""
    import uuid

    from celery.signals import task_prerun

    from core import queues

    from ..conftest import require_redis

    require_redis()
    current_app.loader.import_default_modules()
    queue = f"test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setitem(current_app.conf, "task_always_eager", False)
    monkeypatch.setitem(current_app.conf, "task_default_queue", queue)
    task = current_app.tasks[RESCORE_TASK]
    sent = []
    monkeypatch.setattr(task, "delay", lambda *args: sent.append(args))
    try:
        assert all(wake(RESCORE_TASK) for _ in range(5))
        assert len(sent) == 1
        task.request.delivery_info = {"routing_key": queue}
        task_prerun.send(sender=task, task_id="t1", task=task)  # the worker starts it
        assert wake(RESCORE_TASK) and wake(RESCORE_TASK)
        assert len(sent) == 2
        other = f"{queue}-other"  # a wake-up waiting on another queue holds back none on this one
        monkeypatch.setitem(current_app.conf, "task_default_queue", other)
        assert wake(RESCORE_TASK) and len(sent) == 3
    finally:
        for name in (queue, f"{queue}-other"):
            queues._broker().delete(queues._waiting_key(name, RESCORE_TASK))
        task.request.delivery_info = None
