"""Scoring in shadow: the accounts a rescore scores live are also scored with the version running in shadow, into
ShadowScore, and nothing else. The same two halves as the live scores (SQL on PostgreSQL, the pure module elsewhere),
tested equal: fit, signal, coverage and unified exactly as a live score, and the candidate tier those rounded scores
give (tiers.candidate_tier). Hysteresis, minimum days, surges and Tier 1 capacity depend on a tier history that only
the live version has, so a shadow score places by its scores alone.

As with live scores, a row is only rewritten when its numbers or its model change, and never by an older score of
the same model.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone

from accounts.criteria import VALUE_COLUMNS, account_values
from accounts.models import Account

from ..models import ScoringModel, ShadowScore
from ..scoring import score_account
from ..tiers import candidate_tier
from .plan import Plan, Selection
from .python import _batches, _events
from .sql import ACCOUNT_TABLE, CANDIDATE_SQL, MODEL_TABLE, _statement_settings, candidate_params, scores_ctes_sql

SHADOW_TABLE = ShadowScore._meta.db_table
SHADOW_FIELDS = ("fit", "signal", "coverage", "unified", "tier")


@dataclass(frozen=True)
class ShadowRow:
    account_id: int
    fit: float
    signal: float
    coverage: float
    unified: float
    tier: str  # the candidate tier


def shadow_plan() -> Plan | None:
    """The plan of the version running in shadow, or None when none runs."""
    model = ScoringModel.objects.select_related("icp").filter(in_shadow=True).first()
    return Plan.of(model) if model is not None else None


def shadow_rows(plan: Plan, selection: Selection, as_of: dt.datetime) -> Iterator[ShadowRow]:
    """The shadow scores of the selected accounts, computed, not stored (in account order)."""
    if connection.vendor == "postgresql":
        sql, params = _rows_sql(plan, selection, as_of)
        with connection.cursor() as cursor:
            _statement_settings(cursor, selection)
            cursor.execute(sql + " ORDER BY id", params)
            for values in cursor.fetchall():
                yield ShadowRow(*values)
        return
    events = _events(plan, selection, as_of)
    accounts = selection.filter(Account.objects.all()).order_by("pk").values(*VALUE_COLUMNS)
    for values in accounts.iterator(chunk_size=2000):
        score = score_account(plan.params, account_values(values), events.get(values["id"], ()), as_of)
        tier = candidate_tier(plan.thresholds, fit=score.fit, unified=score.unified, excluded=score.excluded)
        yield ShadowRow(values["id"], score.fit, score.signal, score.coverage, score.unified, tier)


def _rows_sql(plan: Plan, selection: Selection, as_of: dt.datetime) -> tuple[str, list]:
    scores_sql, params = scores_ctes_sql(plan, selection, as_of, surge=False)
    sql = f"""
        WITH {scores_sql}
        SELECT id, fit_r, signal_r, coverage, unified_r, {CANDIDATE_SQL} AS tier FROM rounded
    """  # noqa: S608  # nosec B608  # SQL from model tables and constants; values are parameters
    return sql, [*params, *candidate_params(plan)]


def shadow_store(plan: Plan, selection: Selection, as_of: dt.datetime) -> int:
    """Score the selected accounts with the shadow version and store what changed, while it is still in shadow;
    returns the number of rows written. Runs inside the caller's transaction (after the live scores, on the same
    snapshot)."""
    if connection.vendor == "postgresql":
        return _sql_store(plan, selection, as_of)
    if not ScoringModel.objects.filter(pk=plan.model.pk, in_shadow=True).exists():
        return 0
    written = 0
    for batch in _batches(shadow_rows(plan, selection, as_of), 2000):
        written += _python_write(plan, batch, as_of)
    return written


def _python_write(plan: Plan, rows: list[ShadowRow], as_of: dt.datetime) -> int:
    existing = {s.account_id: s for s in ShadowScore.objects.filter(account_id__in=[r.account_id for r in rows])}
    now, changed = timezone.now(), []
    for row in rows:
        old = existing.get(row.account_id)
        if old is not None and old.model_id == plan.model.pk:
            if old.as_of > as_of:
                continue  # a newer score of the same version is already stored
            if all(getattr(old, f) == getattr(row, f) for f in SHADOW_FIELDS):
                continue  # nothing changes: the row keeps the moment it was computed at
        changed.append(
            ShadowScore(
                account_id=row.account_id,
                model_id=plan.model.pk,
                **{f: getattr(row, f) for f in SHADOW_FIELDS},
                as_of=as_of,
                computed_at=now,
            )
        )
    ShadowScore.objects.bulk_create(
        changed,
        update_conflicts=True,
        unique_fields=["account"],
        update_fields=["model", *SHADOW_FIELDS, "as_of", "computed_at"],
        batch_size=500,
    )
    return len(changed)


def _sql_store(plan: Plan, selection: Selection, as_of: dt.datetime) -> int:
    with connection.cursor() as cursor:
        _statement_settings(cursor, selection)
        cursor.execute(*shadow_store_sql(plan, selection, as_of))
        return int(cursor.fetchone()[0])


def shadow_store_sql(plan: Plan, selection: Selection, as_of: dt.datetime) -> tuple[str, list]:
    """The statement that scores the selected accounts with the version in shadow and writes the shadow scores that
    changed; it returns the number of rows written."""
    scores_sql, params = scores_ctes_sql(plan, selection, as_of, surge=False)
    where_o, where_o_params = selection.q("o.account_id")
    where_old, where_old_params = selection.q("old.account_id")
    # The accounts the new rows are checked against: the slice's own (as in the live store statement, sql.py).
    where_a, where_a_params = selection.q("a.id")
    pk = plan.model.pk
    sql = f"""
        WITH {scores_sql},
        n AS MATERIALIZED (
          SELECT id AS account_id, fit_r AS fit, signal_r AS signal, coverage, unified_r AS unified,
                 {CANDIDATE_SQL} AS tier
          FROM rounded
          WHERE EXISTS (SELECT 1 FROM {MODEL_TABLE} m WHERE m.id = %s AND m.in_shadow)
        ),
        changed AS (
          UPDATE {SHADOW_TABLE} AS old SET
            model_id = %s, fit = n.fit, signal = n.signal, coverage = n.coverage, unified = n.unified, tier = n.tier,
            as_of = %s, computed_at = now()
          FROM n
          WHERE old.account_id = n.account_id AND {where_old}
            AND (old.model_id <> %s OR old.as_of <= %s)
            AND (old.model_id, old.fit, old.signal, old.coverage, old.unified, old.tier)
                IS DISTINCT FROM (%s, n.fit, n.signal, n.coverage, n.unified, n.tier)
          RETURNING 1
        ),
        added AS (
          INSERT INTO {SHADOW_TABLE} (account_id, model_id, fit, signal, coverage, unified, tier, as_of, computed_at)
          SELECT n.account_id, %s, n.fit, n.signal, n.coverage, n.unified, n.tier, %s, now()
          FROM n JOIN {ACCOUNT_TABLE} a ON a.id = n.account_id AND {where_a}
          WHERE NOT EXISTS (SELECT 1 FROM {SHADOW_TABLE} o WHERE o.account_id = n.account_id AND {where_o})
          ON CONFLICT (account_id) DO NOTHING
          RETURNING 1
        )
        SELECT (SELECT count(*) FROM changed) + (SELECT count(*) FROM added)
    """  # noqa: S608  # nosec B608  # SQL from model tables and constants; values are parameters
    return sql, [
        *params, *candidate_params(plan), pk,
        pk, as_of, *where_old_params, pk, as_of, pk,
        pk, as_of, *where_a_params, *where_o_params,
    ]  # fmt: skip
