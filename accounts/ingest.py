"""Signal ingestion: a batch posted to `POST /api/v1/signals/`, checked, written all or nothing.

On PostgreSQL a batch is written by one statement: it checks every account and contact reference, upserts the signals
(new ones inserted, a known external_id updated only when something in it changed, an event without an external_id
kept once) and puts the accounts whose signals were written on the rescore queue, all in the caller's transaction;
it answers with the references it could not find, or with the counts. No model instance is built per signal.

Elsewhere (SQLite), and for a batch the statement does not decide alone (a key repeated within the batch), the
importer writes it (`imports.import_records`): the same rules, the same counts, the same reasons word for word, which
the tests hold equal on both databases.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, NamedTuple

from django.db import DatabaseError, connection, transaction

from core.bulk import binding_cursor

from .changes import accounts_queued_by_statement
from .imports import ImportReport, RowError, import_records
from .imports.fields import is_blank
from .models import Contact, PendingRescore, Signal


class SignalItem(NamedTuple):
    """One signal as the API checked it: references as ids, text as the API cleaned it (blank or None when not
    given)."""

    account: int
    contact: int | None
    kind: str
    topic: str | None
    occurred_at: dt.datetime  # aware
    source: str | None
    external_id: str | None

    def record(self) -> dict[str, Any]:
        return self._asdict()


EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
# Moments go as whole microseconds since the epoch, added to it in SQL as whole seconds and the microseconds left:
# exact from year 1 to 9999 (each part stays within a double's whole numbers), and cheaper than text both ways.
MICROSECOND = dt.timedelta(microseconds=1)


def _upsert_sql() -> str:
    signal, account, contact = Signal._meta.db_table, "accounts_account", Contact._meta.db_table
    queue = PendingRescore._meta.db_table
    return f"""
        WITH item AS (
            SELECT line::int, (e->>0)::bigint AS account_id, (e->>1)::bigint AS contact_id, e->>2 AS kind,
                   e->>3 AS topic,
                   'epoch'::timestamptz + ((e->>4)::bigint / 1000000) * interval '1 second'
                       + mod((e->>4)::bigint, 1000000) * interval '1 microsecond' AS occurred_at,
                   e->>5 AS source, e->>6 AS external_id
            FROM json_array_elements(%s::json) WITH ORDINALITY AS t(e, line)
        ),
        missing AS (
            SELECT item.line, a.id IS NULL AS no_account, item.account_id, item.contact_id
            FROM item
            LEFT JOIN {account} a ON a.id = item.account_id
            LEFT JOIN {contact} c ON c.id = item.contact_id AND c.account_id = item.account_id
            WHERE a.id IS NULL OR (item.contact_id IS NOT NULL AND c.id IS NULL)
        ),
        written AS (
            INSERT INTO {signal} AS s (account_id, contact_id, kind, topic, occurred_at, source, external_id,
                                       created_at)
            SELECT account_id, contact_id, kind, topic, occurred_at, source, external_id, now()
            FROM item
            WHERE NOT EXISTS (SELECT FROM missing)
              AND (item.external_id IS NOT NULL OR NOT EXISTS (
                  SELECT FROM {signal} e
                  WHERE e.external_id IS NULL AND e.account_id = item.account_id
                    AND e.occurred_at = item.occurred_at AND e.kind = item.kind AND e.topic = item.topic
                    AND e.contact_id IS NOT DISTINCT FROM item.contact_id))
            ORDER BY item.external_id  -- rows locked in one order: concurrent re-posts never deadlock
            ON CONFLICT (external_id) WHERE external_id IS NOT NULL DO UPDATE SET
                account_id = EXCLUDED.account_id, contact_id = EXCLUDED.contact_id, kind = EXCLUDED.kind,
                topic = EXCLUDED.topic, occurred_at = EXCLUDED.occurred_at, source = EXCLUDED.source
            WHERE (s.account_id, s.contact_id, s.kind, s.topic, s.occurred_at, s.source) IS DISTINCT FROM
                  (EXCLUDED.account_id, EXCLUDED.contact_id, EXCLUDED.kind, EXCLUDED.topic, EXCLUDED.occurred_at,
                   EXCLUDED.source)
            RETURNING s.account_id, s.xmax = 0 AS created
        ),
        queued AS (
            INSERT INTO {queue} (account_id, requested_at)
            SELECT account_id, now() FROM (SELECT DISTINCT account_id FROM written) w
            ORDER BY account_id  -- the queue's rows locked in id order, as core.queues.queue_add does
            ON CONFLICT DO NOTHING
        )
        SELECT line, no_account, account_id, contact_id FROM missing
        UNION ALL
        SELECT NULL, NULL, count(*) FILTER (WHERE created), count(*) FILTER (WHERE NOT created) FROM written
    """  # noqa: S608  # nosec B608  # the tables are the models'; every value is a parameter


UPSERT_SQL = _upsert_sql()


def _repeated(items: list[SignalItem]) -> bool:
    """Whether a key (the external_id, or the event itself) comes twice in the batch: the importer words that."""
    seen: set = set()
    for item in items:
        key = item.external_id or ("event", item.account, item.kind, item.occurred_at, item.topic or None, item.contact)
        if key in seen:
            return True
        seen.add(key)
    return False


def _statement(items: list[SignalItem]) -> ImportReport:
    # One parameter, the batch as JSON: encoded in C here and parsed in C by PostgreSQL, where a list per column
    # would be quoted value by value.
    batch = json.dumps(
        [
            [
                item.account,
                item.contact,
                item.kind,
                item.topic or "",
                (item.occurred_at - EPOCH) // MICROSECOND,
                item.source or "",
                None if is_blank(item.external_id) else item.external_id,
            ]
            for item in items
        ]
    )
    report = ImportReport(kind="signals", rows=len(items))
    with binding_cursor() as cursor:
        cursor.execute(UPSERT_SQL, [batch])
        rows = cursor.fetchall()
    for n, no_account, account_id, contact_id in rows:
        if n is None:
            report.created, report.updated = account_id, contact_id
        elif no_account:
            report.errors.append(RowError(n, f"account: account {account_id} does not exist"))
        else:
            report.errors.append(RowError(n, f"contact: contact {contact_id!r} not found on this account"))
    if report.errors:
        report.created = report.updated = 0
        report.errors.sort(key=lambda e: e.line)
        return report
    report.unchanged = len(items) - report.created - report.updated
    if report.created or report.updated:
        accounts_queued_by_statement()
    return report


def signals_ingest(items: list[SignalItem]) -> ImportReport:
    """Write a checked batch, all or nothing, in a transaction of its own: created, updated and unchanged counted,
    or each item's reason as the importer words it (and nothing written)."""
    if connection.vendor == "postgresql" and not _repeated(items):
        try:
            with transaction.atomic():
                report = _statement(items)
                if report.errors:
                    transaction.set_rollback(True)
            return report
        except DatabaseError:
            # What the statement cannot take (a deadlock, an account deleted meanwhile): nothing was written; the
            # importer, which retries what is transient and finds the rows at fault, decides.
            pass
    with transaction.atomic():
        report = import_records(kind="signals", records=[item.record() for item in items])
        if report.errors:
            transaction.set_rollback(True)
    return report
