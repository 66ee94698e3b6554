"""Scoring many accounts at once and storing the result.

Two implementations of the same rules (`scoring.py`, `tiers.py`):
- PostgreSQL: one SQL statement per slice of accounts aggregates their signals, computes fit, signal, coverage,
  unified, tier and the explanation, and writes AccountScore. It streams: the accounts in id order and their
  signals in account order (an index-only scan of the signals' covering index, aggregated one account at a time)
  are merge-joined, so no hash table or sort over the slice is built. Criteria are evaluated exactly as the pure
  module does by running it on the slice's distinct values of each attribute (in Python) and matching the values
  that pass (in SQL); numeric ranges on numeric columns are compared in SQL directly. Both steps read one
  snapshot (REPEATABLE READ).
- Elsewhere (SQLite: the demo, a newcomer's tests): the pure module account by account.

While a draft runs in shadow, every rescore also scores the same accounts with it, in the same transaction, into
ShadowScore (shadow.py), and changes nothing else.

A row is only rewritten when its scores, tier or explanation change (a rescore that changes nothing writes
nothing, and the row keeps the `as_of` its numbers were computed at), and a slice never overwrites a newer score
of the same model with an older one.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator

from django.db import OperationalError, connection, transaction

from ..models import ScoringModel
from .plan import EXPLANATION_FIELDS, SCORE_FIELDS, Plan, Row, Selection
from .python import python_rows, python_store, standing_of
from .shadow import ShadowRow, shadow_plan, shadow_rows, shadow_store
from .sql import sql_rows, sql_store

__all__ = [
    "EXPLANATION_FIELDS",
    "SCORE_FIELDS",
    "Plan",
    "Row",
    "Selection",
    "ShadowRow",
    "score_and_store",
    "score_rows",
    "shadow_plan",
    "shadow_rows",
    "shadow_score_and_store",
    "standing_of",
]


def score_rows(plan: Plan, selection: Selection, as_of: dt.datetime) -> Iterator[Row]:
    """The scores of the selected accounts under the plan's model, computed, not stored."""
    if connection.vendor == "postgresql":
        yield from sql_rows(plan, selection, as_of)
    else:
        yield from python_rows(plan, selection, as_of)


def score_and_store(
    plan: Plan,
    selection: Selection,
    as_of: dt.datetime,
    *,
    attempts: int = 5,
    then: Callable[[], object] | None = None,
) -> int:
    """Score the selected accounts and store what changed; returns the number of rows written. `then` runs in the
    same transaction after the scores are stored (the capacity and MQA passes of an incremental rescore). While a
    version runs in shadow, the same accounts are scored with it too, in the same transaction (ShadowScore only).

    Retried when PostgreSQL reports a conflict with a concurrent writer of the same scores.
    """
    shadow = shadow_plan()
    for attempt in range(attempts):
        try:
            with transaction.atomic():
                if connection.vendor == "postgresql":
                    written = sql_store(plan, selection, as_of)  # stores nothing unless the model is active
                elif ScoringModel.objects.filter(pk=plan.model.pk, status=ScoringModel.Status.ACTIVE).exists():
                    written = python_store(plan, selection, as_of)
                else:
                    return 0
                if shadow is not None:
                    shadow_store(shadow, selection, as_of)
                if then is not None:
                    then()
                return written
        except OperationalError as exc:
            code = getattr(getattr(exc, "__cause__", None), "sqlstate", None)
            if code not in ("40001", "40P01") or attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    return 0


def shadow_score_and_store(plan: Plan, selection: Selection, as_of: dt.datetime, *, attempts: int = 5) -> int:
    """Score the selected accounts with the version in shadow only (its first full pass); returns the rows written."""
    for attempt in range(attempts):
        try:
            with transaction.atomic():
                if connection.vendor == "postgresql" and len(connection.atomic_blocks) == 1:
                    with connection.cursor() as cursor:  # one snapshot for the distinct values and the statement
                        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                return shadow_store(plan, selection, as_of)
        except OperationalError as exc:
            code = getattr(getattr(exc, "__cause__", None), "sqlstate", None)
            if code not in ("40001", "40P01") or attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    return 0
