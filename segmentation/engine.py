"""Scoring many accounts at once and storing the result.

Two implementations of the same rules (`scoring.py`, `tiers.py`):
- PostgreSQL: one SQL statement per slice of accounts aggregates their signals, computes fit, signal, coverage,
  unified, tier and the explanation, and writes AccountScore. Criteria are evaluated exactly as the pure module
  does by running it on the slice's distinct values of each attribute (in Python) and matching the values that
  pass (in SQL); numeric ranges on numeric columns are compared in SQL directly. Both steps read one snapshot
  (REPEATABLE READ).
- Elsewhere (SQLite: the demo, a newcomer's tests): the pure module account by account.

A row is only rewritten when its scores, tier or explanation change (a rescore that changes nothing writes
nothing, and the row keeps the `as_of` its numbers were computed at), and a slice never overwrites a newer score
of the same model with an older one.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import OperationalError, connection, transaction
from django.utils import timezone

from accounts.models import Account, Contact, Signal
from territories.services import VALUE_FIELDS, account_values

from .definition import FIELD_TYPES, NUMBER, scoring_params, tier_thresholds
from .models import AccountScore, ScoringModel
from .scoring import (
    NUMERIC_OPERATORS,
    Criterion,
    ScoringParams,
    SignalEvent,
    compact_explanation,
    criterion_matches,
    score_account,
)
from .tiers import TIERS, TierThreshold, candidate_tier

EXPLANATION_FIELDS = ("matched", "excluded", "personas")
SCORE_FIELDS = ("fit", "signal", "coverage", "unified", "tier", *EXPLANATION_FIELDS)


@dataclass(frozen=True)
class Selection:
    """Which accounts: lo <= id < hi (either end open when None), or exactly `ids`."""

    lo: int | None = None
    hi: int | None = None
    ids: tuple[int, ...] | None = None

    def q(self, column: str) -> tuple[str, list]:
        if self.ids is not None:
            return f"{column} = ANY(%s)", [list(self.ids)]
        parts, params = [], []
        if self.lo is not None:
            parts.append(f"{column} >= %s")
            params.append(self.lo)
        if self.hi is not None:
            parts.append(f"{column} < %s")
            params.append(self.hi)
        return (" AND ".join(parts) or "TRUE"), params

    def filter(self, queryset, field: str = "pk"):
        if self.ids is not None:
            return queryset.filter(**{f"{field}__in": list(self.ids)})
        if self.lo is not None:
            queryset = queryset.filter(**{f"{field}__gte": self.lo})
        if self.hi is not None:
            queryset = queryset.filter(**{f"{field}__lt": self.hi})
        return queryset


@dataclass
class Plan:
    """Everything a slice needs from the model, read once."""

    model: ScoringModel
    params: ScoringParams
    thresholds: dict[str, TierThreshold]

    @classmethod
    def of(cls, model: ScoringModel) -> Plan:
        return cls(model=model, params=scoring_params(model), thresholds=tier_thresholds(model))


@dataclass(frozen=True)
class Row:
    account_id: int
    fit: float
    signal: float
    coverage: float
    unified: float
    tier: str
    explanation: dict  # EXPLANATION_FIELDS

    def __getattr__(self, name):
        if name in EXPLANATION_FIELDS:
            return self.explanation[name]
        raise AttributeError(name)


def score_rows(plan: Plan, selection: Selection, as_of: dt.datetime) -> Iterator[Row]:
    """The scores of the selected accounts under the plan's model, computed, not stored."""
    if connection.vendor == "postgresql":
        yield from _sql_rows(plan, selection, as_of)
    else:
        yield from _python_rows(plan, selection, as_of)


def score_and_store(plan: Plan, selection: Selection, as_of: dt.datetime, *, attempts: int = 5) -> int:
    """Score the selected accounts and store what changed; returns the number of rows written.

    Retried when PostgreSQL reports a conflict with a concurrent writer of the same scores.
    """
    for attempt in range(attempts):
        try:
            with transaction.atomic():
                if connection.vendor == "postgresql":
                    return _sql_store(plan, selection, as_of)  # stores nothing unless the model is active
                if not ScoringModel.objects.filter(pk=plan.model.pk, status=ScoringModel.Status.ACTIVE).exists():
                    return 0
                return _python_store(plan, selection, as_of)
        except OperationalError as exc:
            code = getattr(getattr(exc, "__cause__", None), "sqlstate", None)
            if code not in ("40001", "40P01") or attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    return 0


# --- The pure module, account by account -----------------------------------------------------------------------


def _events(plan: Plan, selection: Selection, as_of: dt.datetime) -> dict[int, list[SignalEvent]]:
    days = max(plan.params.lookback_days, plan.params.engagement_window_days)
    signals = selection.filter(Signal.objects.all(), "account_id").filter(
        occurred_at__lte=as_of, occurred_at__gte=as_of - dt.timedelta(days=days)
    )
    events: dict[int, list[SignalEvent]] = {}
    # A fixed order: the same signals always sum to the same float, so a re-run writes nothing.
    for account_id, kind, occurred_at, persona in signals.order_by("account_id", "occurred_at", "id").values_list(
        "account_id", "kind", "occurred_at", "contact__persona"
    ):
        events.setdefault(account_id, []).append(SignalEvent(kind, occurred_at, persona))
    return events


def _python_rows(plan: Plan, selection: Selection, as_of: dt.datetime) -> Iterator[Row]:
    events = _events(plan, selection, as_of)
    accounts = selection.filter(Account.objects.all()).order_by("pk").values(*VALUE_FIELDS)
    for values in accounts.iterator(chunk_size=2000):
        score = score_account(plan.params, account_values(values), events.get(values["id"], ()), as_of)
        tier = candidate_tier(plan.thresholds, fit=score.fit, unified=score.unified, excluded=score.excluded)
        yield Row(
            values["id"],
            score.fit,
            score.signal,
            score.coverage,
            score.unified,
            tier,
            compact_explanation(score),
        )


def _python_store(plan: Plan, selection: Selection, as_of: dt.datetime) -> int:
    rows = list(_python_rows(plan, selection, as_of))
    existing = {s.account_id: s for s in AccountScore.objects.filter(account_id__in=[r.account_id for r in rows])}
    now = timezone.now()
    changed = []
    for row in rows:
        old = existing.get(row.account_id)
        if old is not None:
            if old.model_id == plan.model.pk and old.as_of > as_of:
                continue  # a newer score of the same model is already stored
            if old.model_id == plan.model.pk and all(getattr(old, f) == getattr(row, f) for f in SCORE_FIELDS):
                continue  # nothing changes: the row keeps the moment it was computed at
        changed.append(
            AccountScore(
                account_id=row.account_id,
                model_id=plan.model.pk,
                fit=row.fit,
                signal=row.signal,
                coverage=row.coverage,
                unified=row.unified,
                tier=row.tier,
                tier_since=old.tier_since if old is not None and old.tier == row.tier else as_of,
                **row.explanation,
                as_of=as_of,
                computed_at=now,
            )
        )
    AccountScore.objects.bulk_create(
        changed,
        update_conflicts=True,
        unique_fields=["account"],
        update_fields=["model", *SCORE_FIELDS, "tier_since", "as_of", "computed_at"],
        batch_size=500,
    )
    return len(changed)


# --- SQL (PostgreSQL) --------------------------------------------------------------------------------------------

ACCOUNT_TABLE = Account._meta.db_table
SIGNAL_TABLE = Signal._meta.db_table
CONTACT_TABLE = Contact._meta.db_table
SCORE_TABLE = AccountScore._meta.db_table
MODEL_TABLE = ScoringModel._meta.db_table
# scoring.round1 in SQL: the same float operations in the same order.
ROUND1 = "(sign({x}) * floor(abs({x}) * 10.0::float8 + 0.5::float8 + 0.000001::float8) / 10.0::float8)"
COLUMN_TYPES = {
    "employee_count": "bigint",
    "year_founded": "bigint",
    "annual_revenue": "numeric",
    "technologies": "jsonb",
    "is_customer": "boolean",
}


def _attribute_sql(attribute: str) -> tuple[str, list, str]:
    """(SQL expression, its parameters, its SQL type) for an attribute as criteria read it."""
    if attribute in FIELD_TYPES:
        return f"a.{attribute}", [], COLUMN_TYPES.get(attribute, "text")
    return "(a.attributes -> %s)", [attribute], "jsonb"


def _direct(criterion: Criterion) -> bool:
    """Numeric ranges on numeric columns compare in SQL; everything else goes through the distinct values."""
    return criterion.operator in NUMERIC_OPERATORS and FIELD_TYPES.get(criterion.attribute) == NUMBER


def _distinct_values(criteria: list[Criterion], where: str, where_params: list) -> dict[str, list]:
    """attribute -> the slice's distinct values (None left out), as Python sees them."""
    attributes = sorted({c.attribute for c in criteria if not _direct(c)})
    if not attributes:
        return {}
    columns, params = [], []
    for attribute in attributes:
        expr, expr_params, sql_type = _attribute_sql(attribute)
        columns.append(f"array_agg(DISTINCT {expr}{'::text' if sql_type == 'jsonb' else ''})")
        params += expr_params
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(columns)} FROM {ACCOUNT_TABLE} a WHERE {where}", params + where_params)  # noqa: S608
        found = cursor.fetchone()
    values = {}
    for attribute, raw in zip(attributes, found, strict=True):
        sql_type = _attribute_sql(attribute)[2]
        values[attribute] = [v for v in raw or [] if v is not None]
        if sql_type == "jsonb":
            values[attribute] = [(text, json.loads(text)) for text in values[attribute]]
        else:
            values[attribute] = [(v, v) for v in values[attribute]]
    return values


def _match_sql(criterion: Criterion, distinct: dict[str, list]) -> tuple[str, list]:
    expr, params, sql_type = _attribute_sql(criterion.attribute)
    if _direct(criterion):
        if criterion.operator == "between":
            low, high = (float(v) for v in criterion.value)
            return f"({expr}::float8 >= %s AND {expr}::float8 <= %s)", [low, high]
        sign = ">=" if criterion.operator == "gte" else "<="
        return f"({expr}::float8 {sign} %s)", [float(criterion.value)]
    matched = [
        raw
        for raw, value in distinct.get(criterion.attribute, [])
        if criterion_matches(criterion, {criterion.attribute: value})
    ]
    parts, out = [], []
    if matched:
        cast = "::text[]::jsonb[]" if sql_type == "jsonb" else f"::{sql_type}[]"
        parts.append(f"{expr} = ANY(%s{cast})")
        out += params + [matched]
    if criterion_matches(criterion, {}):  # a missing value matches (neq, not_in)
        parts.append(f"{expr} IS NULL")
        out += params
    return ("(" + " OR ".join(parts) + ")") if parts else "FALSE", out


def _aggregate_sql(plan: Plan, selection: Selection, as_of: dt.datetime) -> tuple[str, list]:
    """SELECT account_id, raw, pmask: per account, the signal points (each rule's decayed points, capped, summed)
    and a bit mask of the required personas (in alphabetical order) with a contact behind a signal in the
    engagement window.

    One pass over the signals and one aggregation level (a sum per rule, filtered by kind; a bitwise or for the
    personas), so the work is a single scan with one group per account.
    """
    p = plan.params
    where_s, where_s_params = selection.q("s.account_id")
    rules = p.signal_rules
    personas = sorted(set(p.required_personas))
    lookback, window = int(p.lookback_days), int(p.engagement_window_days)
    in_lookback = " AND s.age <= %s::float8" if window > lookback else ""
    columns, column_params, capped = [], [], []
    for rule in rules:
        capped.append(
            f"LEAST(COALESCE(sum(%s::float8 * power(0.5::float8, s.age / %s::float8)) "
            f"FILTER (WHERE s.kind = %s AND s.age / %s::float8 <= 1000.0::float8{in_lookback}), 0.0::float8), "
            "%s::float8)"
        )
        extra = [float(lookback)] if in_lookback else []
        column_params += [rule.points, rule.half_life_days, rule.kind, rule.half_life_days, *extra, rule.max_points]
    # The capped points of every rule, summed: all a slice needs of the signals (one narrow column).
    columns.append("(0.0::float8 + " + (" + ".join(capped) or "0.0::float8") + ") AS raw")
    if personas:
        bits = " ".join(f"WHEN %s THEN {1 << i}" for i in range(len(personas)))
        columns.append(f"COALESCE(bit_or(CASE c.persona {bits} END), 0) AS pmask")
        column_params += personas
        contact_join = (
            f"LEFT JOIN {CONTACT_TABLE} c "
            "ON c.id = s.contact_id AND s.age <= %s::float8 AND c.persona = ANY(%s::text[])"
        )
        join_params = [float(window), personas]
        wanted = "(s.kind = ANY(%s::text[]) OR s.contact_id IS NOT NULL)"
    else:
        columns.append("0 AS pmask")
        contact_join, join_params = "", []
        wanted = "s.kind = ANY(%s::text[])"
    sql = f"""
        SELECT s.account_id{"".join(", " + c for c in columns)}
        FROM (SELECT s.account_id, s.kind, s.contact_id,
                     date_part('epoch', %s::timestamptz - s.occurred_at) / 86400.0::float8 AS age
              FROM {SIGNAL_TABLE} s
              WHERE {where_s} AND s.occurred_at <= %s AND s.occurred_at >= %s::timestamptz - %s::interval
                AND {wanted}) s
        {contact_join}
        GROUP BY s.account_id
    """  # noqa: S608
    params = [
        *column_params, as_of, *where_s_params, as_of, as_of, f"{max(lookback, window)} days",
        [r.kind for r in rules], *join_params,
    ]  # fmt: skip
    return sql, params


def _array_of(items: list[str], sql_type: str) -> str:
    """SQL for the array of the non-NULL values of `items` (SQL expressions)."""
    if not items:
        return f"'{{}}'::{sql_type}[]"
    return f"array_remove(ARRAY[{', '.join(items)}]::{sql_type}[], NULL)"


def _select_sql(plan: Plan, selection: Selection, as_of: dt.datetime) -> tuple[str, list]:
    """SELECT account_id, fit, signal, coverage, unified, tier, explanation for the selected accounts."""
    p = plan.params
    where_a, where_a_params = selection.q("a.id")
    criteria, exclusions = list(p.criteria), list(p.exclusions)
    distinct = _distinct_values(criteria + exclusions, where_a, where_a_params)

    match_cols, params = [], []
    for number, criterion in enumerate(criteria):
        sql, sql_params = _match_sql(criterion, distinct)
        match_cols.append(f"COALESCE({sql}, FALSE) AS m{number}")
        params += sql_params
    for number, criterion in enumerate(exclusions):
        sql, sql_params = _match_sql(criterion, distinct)
        match_cols.append(f"COALESCE({sql}, FALSE) AS x{number}")
        params += sql_params
    acc_sql = f"SELECT a.id{''.join(', ' + c for c in match_cols)} FROM {ACCOUNT_TABLE} a WHERE {where_a}"  # noqa: S608
    params += where_a_params

    # Fit: each group scores its best matched criterion (the first of equal points), else 0.
    groups: dict[str, list[int]] = {}
    for number, criterion in enumerate(criteria):
        groups.setdefault(criterion.group_name, []).append(number)
    group_scores, group_indexes, fit_params = [], [], []
    fit_max = 0.0
    for members in groups.values():
        ordered = sorted(members, key=lambda n: (-criteria[n].points, n))
        group_scores.append("CASE " + " ".join(f"WHEN m{n} THEN %s::float8" for n in ordered) + " ELSE 0.0::float8 END")
        fit_params += [criteria[n].points for n in ordered]
        group_indexes.append("CASE " + " ".join(f"WHEN m{n} THEN {n}" for n in ordered) + " END")
        fit_max += max(0.0, max(criteria[n].points for n in members))
    raw_sql = "(0.0::float8" + "".join(f" + {g}" for g in group_scores) + ")"
    if fit_max > 0:
        fit_sql = f"LEAST(100.0::float8, GREATEST(0.0::float8, 100.0::float8 * {raw_sql} / %s::float8))"
        fit_params.append(fit_max)
    else:
        fit_sql, fit_params = "0.0::float8", []
    matched_sql = _array_of(group_indexes, "int")
    excluded_flag = " OR ".join(f"x{n}" for n in range(len(exclusions))) or "FALSE"
    excluded_sql = _array_of([f"CASE WHEN x{n} THEN {n} END" for n in range(len(exclusions))], "int")

    aggregate_sql, signal_params = _aggregate_sql(plan, selection, as_of)
    signal_raw_sql = "COALESCE(sa.raw, 0.0::float8)"
    personas = sorted(set(p.required_personas))
    mask = "COALESCE(sa.pmask, 0)"
    coverage_sql = (
        "("
        + " + ".join(f"(({mask} & {1 << i}) > 0)::int" for i in range(len(personas)))
        + f")::float8 / {len(personas)}.0::float8"
        if personas
        else "0.0::float8"
    )
    personas_sql = _array_of(
        [f"CASE WHEN ({mask} & {1 << i}) > 0 THEN %s::text END" for i in range(len(personas))], "text"
    )
    t = plan.thresholds
    tier_sql = (
        "CASE WHEN is_excluded THEN 'suppress' "
        + " ".join(f"WHEN unified_r >= %s AND fit_r >= %s THEN '{tier}'" for tier in TIERS)
        + " ELSE 'recycle' END"
    )
    tier_params = [v for tier in TIERS for v in (t[tier].enter, t[tier].min_fit)]
    # MATERIALIZED: each expression is computed once per account, not once per place that refers to it.
    sql = f"""
        WITH acc AS MATERIALIZED ({acc_sql}),
        sa AS ({aggregate_sql}),
        parts AS MATERIALIZED (
          SELECT acc.id,
                 {fit_sql} AS fit,
                 CASE WHEN %s::float8 > 0
                      THEN LEAST(100.0::float8, 100.0::float8 * {signal_raw_sql} / %s::float8)
                      ELSE 0.0::float8 END AS signal,
                 {coverage_sql} AS coverage,
                 ({excluded_flag}) AS is_excluded,
                 {matched_sql} AS matched,
                 {excluded_sql} AS excluded,
                 {personas_sql} AS personas
          FROM acc LEFT JOIN sa ON sa.account_id = acc.id
        ),
        rounded AS MATERIALIZED (
          SELECT w.*, {ROUND1.format(x="w.fit")} AS fit_r, {ROUND1.format(x="w.signal")} AS signal_r,
                 {ROUND1.format(x="w.unified")} AS unified_r
          FROM (
            SELECT parts.*, %s::float8 * fit + %s::float8 * signal + %s::float8 * 100.0::float8 * coverage AS unified
            FROM parts
          ) w
        )
        SELECT id AS account_id, fit_r AS fit, signal_r AS signal, coverage, unified_r AS unified,
               {tier_sql} AS tier, matched, excluded, personas
        FROM rounded
    """  # noqa: S608
    all_params = (
        params
        + signal_params
        + fit_params
        + [p.full_signal_points]
        + [p.full_signal_points]
        + personas
        + [p.w_fit, p.w_signal, p.w_coverage]
        + tier_params
    )
    return sql, all_params


def _statement_settings(cursor, selection: Selection) -> None:
    """Settings for one scoring statement, for its transaction only."""
    cursor.execute("SET LOCAL jit = off")  # compiling costs more than it saves here
    if selection.ids is not None:  # a few accounts (incremental): index look-ups, small memory
        cursor.execute("SET LOCAL work_mem = '64MB'")
        return
    # A slice of a full rescore reads every signal row once: hash joins and aggregates in memory, never a merge or
    # a loop over millions of rows, and one process per slice (the workers already run slices side by side).
    cursor.execute("SET LOCAL work_mem = '256MB'")
    cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
    cursor.execute("SET LOCAL enable_mergejoin = off")
    cursor.execute("SET LOCAL enable_nestloop = off")


def _sql_rows(plan: Plan, selection: Selection, as_of: dt.datetime) -> Iterator[Row]:
    sql, params = _select_sql(plan, selection, as_of)
    with transaction.atomic(), connection.cursor() as cursor:
        _statement_settings(cursor, selection)
        cursor.execute(sql + " ORDER BY account_id", params)
        for account_id, fit, signal, coverage, unified, tier, *explanation in cursor.fetchall():
            yield Row(
                account_id,
                fit,
                signal,
                coverage,
                unified,
                tier,
                dict(zip(EXPLANATION_FIELDS, explanation, strict=True)),
            )


def _store_sql(plan: Plan, selection: Selection, as_of: dt.datetime) -> tuple[str, list]:
    """The statement that scores the selected accounts and writes what changed; it returns the rows written."""
    select_sql, params = _select_sql(plan, selection, as_of)
    where_o, where_o_params = selection.q("o.account_id")  # keeps the look-up of existing rows to the slice
    # Changed rows are updated, missing rows inserted: one join, no per-row conflict handling. A row is left
    # alone when nothing in it changes, or when it holds a newer score of the same version.
    return (
        f"""
            WITH n AS MATERIALIZED (
              SELECT s.* FROM ({select_sql}) s
              WHERE EXISTS (SELECT 1 FROM {MODEL_TABLE} m WHERE m.id = %s AND m.status = 'active')
            ),
            changed AS (
              UPDATE {SCORE_TABLE} AS old SET
                model_id = %s, fit = n.fit, signal = n.signal, coverage = n.coverage, unified = n.unified,
                tier = n.tier, tier_since = CASE WHEN old.tier = n.tier THEN old.tier_since ELSE %s END,
                matched = n.matched, excluded = n.excluded, personas = n.personas, as_of = %s, computed_at = now()
              FROM n
              WHERE old.account_id = n.account_id
                AND (old.model_id <> %s OR old.as_of <= %s)
                AND (old.model_id, old.fit, old.signal, old.coverage, old.unified, old.tier, old.matched, old.excluded,
                     old.personas)
                    IS DISTINCT FROM (%s, n.fit, n.signal, n.coverage, n.unified, n.tier, n.matched, n.excluded,
                                      n.personas)
              RETURNING 1
            ),
            added AS (
              INSERT INTO {SCORE_TABLE}
                (account_id, model_id, fit, signal, coverage, unified, tier, tier_since, surge_until, flags,
                 matched, excluded, personas, as_of, computed_at)
              SELECT n.account_id, %s, n.fit, n.signal, n.coverage, n.unified, n.tier, %s, NULL, '[]'::jsonb,
                     n.matched, n.excluded, n.personas, %s, now()
              FROM n WHERE NOT EXISTS (
                SELECT 1 FROM {SCORE_TABLE} o WHERE o.account_id = n.account_id AND {where_o}
              )
              ON CONFLICT (account_id) DO NOTHING
              RETURNING 1
            )
            SELECT (SELECT count(*) FROM changed) + (SELECT count(*) FROM added)
            """,  # noqa: S608
        [
            *params,
            plan.model.pk,
            plan.model.pk,
            as_of,
            as_of,
            plan.model.pk,
            as_of,
            plan.model.pk,
            plan.model.pk,
            as_of,
            as_of,
            *where_o_params,
        ],  # fmt: skip
    )


def _sql_store(plan: Plan, selection: Selection, as_of: dt.datetime) -> int:
    with connection.cursor() as cursor:
        if len(connection.atomic_blocks) == 1 and not connection.savepoint_ids:
            # The distinct values and the scoring statement must read the same snapshot.
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        _statement_settings(cursor, selection)
        cursor.execute(*_store_sql(plan, selection, as_of))
        return cursor.fetchone()[0]
