"""Durable queues: how one app asks another to do work without importing it.

A queue is a table with one row per thing to do (an account to rescore, an account to route, a territory whose
Tier 1 capacity changed), keyed so a burst of requests for the same thing leaves one row. The asking app writes the
row in its own transaction, so a change and its queue entry commit together or not at all. The app that does the
work drains the queue with a task:
- woken by name once the transaction commits (`wake_after_commit`): the asking app names the task, the working
  app registers a task under that name, so neither imports the other;
- and drained every minute by Celery beat, so a wake-up lost with a worker or a broker only delays the work.

A burst of changes wakes a task once: while a wake-up of a task waits on the broker (sent, not yet started), another
is not sent, since the waiting one, once it starts, drains whatever was committed before (a key in the broker's Redis
says one waits; the task removes it as it starts, before it drains, and it expires after `WAKE_SECONDS` whatever
happens). Signal ingestion commits a batch twenty times a second: the worker spends its time rescoring, not starting
tasks that find the queue empty.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from functools import cache

from celery import current_app
from celery.signals import task_prerun
from django.db import connection, models, transaction

log = logging.getLogger(__name__)
WAKE_SECONDS = 30  # the longest a wake-up can be held back by one that was lost (beat drains every minute anyway)


def queue_add(model: type[models.Model], ids: Iterable[int]) -> list[int]:
    """Put ids on a queue whose primary key is the id (once each: an id already waiting stays as it is). Returns the
    sorted ids. Rows are inserted in id order, so concurrent writers take their locks in one order and never
    deadlock each other."""
    ids = sorted({int(i) for i in ids if i})
    if not ids:
        return ids
    table, key = model._meta.db_table, model._meta.pk.column
    if connection.vendor == "postgresql":  # one statement for a whole batch (signal ingestion queues thousands)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({key}, requested_at) "  # noqa: S608  # nosec B608  # table and column are the model's; the ids are a parameter
                "SELECT unnest(%s::bigint[]), now() ON CONFLICT DO NOTHING",
                [ids],
            )
    else:
        model.objects.bulk_create([model(pk=i) for i in ids], ignore_conflicts=True, batch_size=1000)
    return ids


def queue_claim(model: type[models.Model], limit: int) -> list[int]:
    """Take up to `limit` of the oldest ids off a queue (they are removed as they are taken). Concurrent drainers
    take different ids: each skips the rows another has locked."""
    table, key = model._meta.db_table, model._meta.pk.column
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    f"DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM {table} "  # noqa: S608  # nosec B608  # table and column are the model's; the limit is a parameter
                    "ORDER BY requested_at LIMIT %s FOR UPDATE SKIP LOCKED) RETURNING " + key,
                    [limit],
                )
                return sorted(row[0] for row in cursor.fetchall())
        ids = list(model.objects.order_by("requested_at", "pk").values_list("pk", flat=True)[:limit])
        model.objects.filter(pk__in=ids).delete()
        return sorted(ids)


@cache
def _broker():
    """The broker's Redis (None when the broker is not Redis, or tasks run in-process)."""
    url = current_app.conf.broker_url or ""
    if not url.startswith(("redis://", "rediss://")):
        return None
    import redis

    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


def _waiting_key(queue: str, task_name: str) -> str:
    return f"revops:wake:{queue}:{task_name}"


def wake(task_name: str, *args) -> bool:
    """Queue the task registered under `task_name` (run at once where tasks run eagerly), unless a wake-up of it is
    already waiting to start. False when no installed app registers one: the work then waits for the minute's
    drain."""
    task = current_app.tasks.get(task_name)
    if task is None:
        # A web process imports the apps' task modules only when asked: autodiscover them, then look again.
        current_app.loader.import_default_modules()
        task = current_app.tasks.get(task_name)
    if task is None:
        return False
    broker = None if args or current_app.conf.task_always_eager else _broker()
    key = _waiting_key(current_app.conf.task_default_queue, task_name)
    if broker is not None:
        try:
            if not broker.set(key, 1, nx=True, ex=WAKE_SECONDS):
                return True  # one waits to start: it will drain what this caller committed
        except Exception as exc:  # noqa: BLE001  (the broker unreachable here: the delay below reports it)
            log.warning("cannot check for a waiting %s (%s): waking it", task_name, exc)
            broker = None
    try:
        task.delay(*args)
    except Exception:
        if broker is not None:
            broker.delete(key)  # none waits after all
        raise
    return True


@task_prerun.connect(weak=False)
def _started(sender=None, task=None, **kwargs) -> None:
    """A task starts: a wake-up of it no longer waits (the next change sends another)."""
    broker = None if current_app.conf.task_always_eager else _broker()
    if broker is None or task is None:
        return
    queue = (getattr(task.request, "delivery_info", None) or {}).get(
        "routing_key"
    ) or current_app.conf.task_default_queue
    try:
        broker.delete(_waiting_key(queue, task.name))
    except Exception as exc:  # noqa: BLE001  (the key expires by itself)
        log.warning("cannot clear the waiting wake-up of %s (%s)", task.name, exc)


def wake_after_commit(task_name: str, *args) -> None:
    """Wake the task once the current transaction commits (at once outside a transaction)."""
    transaction.on_commit(lambda: wake(task_name, *args))
