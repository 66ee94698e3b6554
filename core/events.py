"""Domain events: what happened, written in the same transaction as the change it records.

Every app writes its events here (core is below them all): `record` for one, `record_many` for a batch. Readers (the
integrations app: change feed, webhooks, chat alerts) never see an event whose change rolled back, and see each
committed event once `sequence` has given it its place in commit order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from .bulk import binding_cursor
from .models import Event
from .queues import wake

Kind = Event.Kind

# The readers' task (the integrations app registers one under this name): woken once per transaction that wrote
# events, after it commits. Celery beat runs the readers every minute too, so a lost wake-up only delays them.
EVENTS_RECORDED = "core.events.recorded"


def _wake_readers() -> None:
    wake(EVENTS_RECORDED)


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


# --- Writing events set-based, in SQL ---------------------------------------------------------------------------
# A job that changes thousands of rows records their events with one INSERT ... SELECT from the rows it just wrote,
# never one event at a time. The helpers below build that statement for PostgreSQL and SQLite alike: `data` is a
# JSON object of SQL expressions (jsonb_build_object / json_object), times are written in ISO 8601 UTC.


@dataclass(frozen=True)
class Lit:
    """A value sent as a parameter where `record_select` expects SQL: `Lit("Rejected", "text")`."""

    value: object
    type: str = "text"  # text, bigint, float


def _is_pg() -> bool:
    return connection.vendor == "postgresql"


def iso_sql(expr: str) -> str:
    """SQL giving the timestamp `expr` as ISO 8601 text in UTC ("2026-03-01T09:30:00.000Z"), NULL stays NULL; the
    same text as `iso` gives in Python."""
    if _is_pg():
        return f"""to_char({expr} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')"""
    return f"strftime('%%Y-%%m-%%dT%%H:%%M:%%fZ', {expr})"  # %% : the statement always has parameters


def iso(value: dt.datetime | None) -> str | None:
    """A time as events carry it in their data: ISO 8601, UTC, milliseconds."""
    if value is None:
        return None
    utc = value.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def name_sql(alias: str) -> str:
    """SQL naming the user row `alias` as pages do: the full name, else the username (NULL without a user)."""
    full = f"TRIM(COALESCE({alias}.first_name, '') || ' ' || COALESCE({alias}.last_name, ''))"
    return f"COALESCE(NULLIF({full}, ''), {alias}.username)"


def person_name(user) -> str | None:
    """A user as events name them (see `name_sql`)."""
    if user is None:
        return None
    return (user.get_full_name() or user.username).strip() or user.username


def _param(lit: Lit) -> tuple[str, object]:
    sql_type = {"text": "TEXT", "bigint": "BIGINT", "float": "DOUBLE PRECISION" if _is_pg() else "REAL"}[lit.type]
    return f"CAST(%s AS {sql_type})", lit.value


def _json_sql(data: dict[str, str | Lit]) -> tuple[str, list]:
    parts, params = [], []
    for key, value in data.items():
        if isinstance(value, Lit):
            sql, param = _param(value)
            params.append(param)
        else:
            sql = value
        parts.append(f"'{key}', {sql}")
    function = "jsonb_build_object" if _is_pg() else "json_object"
    return f"{function}({', '.join(parts)})", params


def timestamp_param(value: dt.datetime) -> tuple[str, object]:
    """SQL and parameter for a time given from Python."""
    if _is_pg():
        return "CAST(%s AS TIMESTAMP WITH TIME ZONE)", value
    return "%s", connection.ops.adapt_datetimefield_value(value)


def ids_sql(column: str, ids: list[int]) -> tuple[str, list]:
    """`column` is one of `ids`."""
    if not ids:
        return "1 = 0", []
    if _is_pg():
        return f"{column} = ANY(%s)", [list(ids)]
    return f"{column} IN ({', '.join('%s' for _ in ids)})", list(ids)


def values_sql(columns: list[tuple[str, str]], rows: list[tuple]) -> tuple[str, list]:
    """A table of literal rows to join with, `columns` as (name, type: bigint or text). Use as `FROM <sql> v`."""
    if _is_pg():
        arrays = ", ".join(f"CAST(%s AS {'BIGINT' if t == 'bigint' else 'TEXT'}[])" for _, t in columns)
        names = ", ".join(name for name, _ in columns)
        return f"unnest({arrays}) AS v({names})", [[row[i] for row in rows] for i in range(len(columns))]
    one = "(" + ", ".join("%s" for _ in columns) + ")"
    names = ", ".join(f"column{i + 1} AS {name}" for i, (name, _) in enumerate(columns))
    sql = f"(SELECT {names} FROM (VALUES {', '.join(one for _ in rows)})) v"  # noqa: S608  # nosec B608  # placeholders only
    return sql, [v for row in rows for v in row]


CHUNK = 2000  # rows given from Python per statement (SQLite counts its parameters)


def record_select(
    kind: str,
    *,
    at: dt.datetime | str,
    account: str | None,
    actor: str | Lit | None = None,
    data: dict[str, str | Lit],
    source: str,
    params: list | None = None,
) -> int:
    """INSERT one event per row of `source` (the FROM clause onwards, with its `params`), in the caller's
    transaction. `at` is a time or an SQL expression; `account` the SQL of the account id; `data` SQL expressions
    (or Lit values) by key. Returns how many were written."""
    sql, sql_params = insert_sql(kind, at=at, account=account, actor=actor, data=data, source=source, params=params)
    with binding_cursor() as cursor:  # the callers' id arrays are sent as they are, not quoted into the text
        cursor.execute(sql, sql_params)
        return cursor.rowcount


def insert_sql(
    kind: str,
    *,
    at: dt.datetime | str,
    account: str | None,
    actor: str | Lit | None = None,
    data: dict[str, str | Lit],
    source: str,
    params: list | None = None,
) -> tuple[str, list]:
    """The statement `record_select` runs, and its parameters: for a caller that writes its events inside a larger
    statement (a data-modifying CTE on PostgreSQL)."""
    head_params: list = [kind]
    if isinstance(at, dt.datetime):
        at_sql, at_param = timestamp_param(at)
        head_params.append(at_param)
    else:
        at_sql = at
    if isinstance(actor, Lit):
        actor_sql, actor_param = _param(actor)
        head_params.append(actor_param)
    else:
        actor_sql = actor or "NULL"
    json_sql, json_params = _json_sql(data)
    table = Event._meta.db_table
    sql = (
        f"INSERT INTO {table} (kind, occurred_at, account_id, actor_id, data) "  # noqa: S608  # nosec B608  # SQL from model tables and the callers' constants; values are parameters
        f"SELECT CAST(%s AS TEXT), {at_sql}, {account or 'NULL'}, {actor_sql}, {json_sql} {source}"
    )
    return sql, head_params + json_params + list(params or [])


def record_for_ids(kind: str, *, ids: list[int], column: str, **kwargs) -> int:
    """`record_select` for the rows whose `column` is one of `ids` (chunked): `source` ends with a WHERE clause (or
    "WHERE TRUE") to which the id condition is added."""
    written = 0
    ids = sorted(set(ids))
    source, params = kwargs.pop("source"), list(kwargs.pop("params", None) or [])
    for start in range(0, len(ids), CHUNK):
        where, where_params = ids_sql(column, ids[start : start + CHUNK])
        written += record_select(kind, source=f"{source} AND {where}", params=params + where_params, **kwargs)
    return written


def case_sql(expr: str, mapping: dict) -> str:
    """SQL giving the text `mapping` has for the value of `expr` (a label for a code), NULL for any other."""
    whens = " ".join(
        "WHEN '{}' THEN '{}'".format(str(value).replace("'", "''"), str(label).replace("'", "''"))
        for value, label in mapping.items()
    )
    return f"CASE {expr} {whens} END"
