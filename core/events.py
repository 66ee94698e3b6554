"""Domain events: what happened, written in the same transaction as the change it records.

Every app writes its events here (core is below them all): `record` for one, `record_many` for a batch. Readers (the
integrations app: change feed, webhooks, chat alerts) never see an event whose change rolled back, and see each
committed event once `sequence` has given it its place in commit order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import connection, transaction
from django.utils import timezone

from .models import Event
from .queues import wake

Kind = Event.Kind

# The readers' task (the integrations app registers one under this name): woken once per transaction that wrote
# events, after it commits. Celery beat runs the readers every minute too, so a lost wake-up only delays them.
EVENTS_RECORDED_TASK = "core.events.recorded"


def _wake_readers() -> None:
    wake(EVENTS_RECORDED_TASK)


def _wake_readers_after_commit() -> None:
    """Once per transaction, however many events it writes."""
    connection = transaction.get_connection()
    if connection.in_atomic_block and any(entry[1] is _wake_readers for entry in connection.run_on_commit):
        return
    transaction.on_commit(_wake_readers, robust=True)  # a broker down must not fail the committed change


def record(
    kind: str,
    *,
    account_id: int | None = None,
    actor_id: int | None = None,
    data: dict | None = None,
    at: dt.datetime | None = None,
) -> Event:
    """Write one event now, in the caller's transaction."""
    event = Event.objects.create(
        kind=kind, account_id=account_id, actor_id=actor_id, data=data or {}, occurred_at=at or timezone.now()
    )
    _wake_readers_after_commit()
    return event


def record_many(events: Iterable[Event]) -> int:
    """Write many unsaved Event objects at once, in the caller's transaction. Returns how many."""
    rows = list(events)
    for event in rows:
        if event.occurred_at is None:
            event.occurred_at = timezone.now()
    Event.objects.bulk_create(rows, batch_size=1000)
    if rows:
        _wake_readers_after_commit()
    return len(rows)


SEQUENCE_LOCK = 7_310_001  # the advisory lock that makes one sequencer at a time (PostgreSQL)


def sequence(limit: int = 50_000) -> int:
    """Give the committed events still without a place their `seq`, in id order, after every place already given.
    One sequencer at a time; an event that commits later than a higher id gets a later place, never an earlier one,
    so a reader paging by `seq` misses nothing. Returns how many were placed."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [SEQUENCE_LOCK])
                if not cursor.fetchone()[0]:
                    return 0
                cursor.execute(
                    f"""
                    WITH top AS (SELECT coalesce(max(seq), 0) AS s FROM {Event._meta.db_table}),
                    todo AS (
                        SELECT id, row_number() OVER (ORDER BY id) AS n FROM {Event._meta.db_table}
                        WHERE seq IS NULL ORDER BY id LIMIT %s
                    )
                    UPDATE {Event._meta.db_table} e SET seq = top.s + todo.n FROM todo, top WHERE e.id = todo.id
                    """,  # noqa: S608  # nosec B608  # the table is the model's
                    [limit],
                )
                return cursor.rowcount
        todo = list(Event.objects.select_for_update().filter(seq__isnull=True).order_by("id")[:limit])
        top = Event.objects.exclude(seq__isnull=True).order_by("-seq").values_list("seq", flat=True).first() or 0
        for n, event in enumerate(todo, start=1):
            event.seq = top + n
        Event.objects.bulk_update(todo, ["seq"], batch_size=1000)
        return len(todo)
