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

A row is only rewritten when its scores, tier or explanation change (a rescore that changes nothing writes
nothing, and the row keeps the `as_of` its numbers were computed at), and a slice never overwrites a newer score
of the same model with an older one.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.db import OperationalError, connection, transaction
from django.utils import timezone

from accounts.criteria import (
    ACCOUNT_FIELDS,
    NUMBER,
    NUMERIC_OPERATORS,
    VALUE_COLUMNS,
    Criterion,
    account_values,
    criterion_matches,
)
from accounts.models import Account, Contact, Signal
from core.tiers import RANKED, TIERS

from .definition import scoring_params, tier_rules
from .models import AccountScore, ScoringModel, TierChange
from .scoring import (
    ScoringParams,
    SignalEvent,
    compact_explanation,
    round1,
    score_account,
    signal_score_then,
    then_factor,
)
from .tiers import CAPACITY, HYSTERESIS, MIN_DAYS, SURGE, Placement, Standing, TierRules, move_reason, place

EXPLANATION_FIELDS = ("matched", "excluded", "personas")
SCORE_FIELDS = ("fit", "signal", "coverage", "unified", "tier", "surge_until", "flags", *EXPLANATION_FIELDS)


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
    rules: TierRules

    @classmethod
    def of(cls, model: ScoringModel) -> Plan:
        return cls(model=model, params=scoring_params(model), rules=tier_rules(model))

    @property
    def thresholds(self):
        return self.rules.thresholds

    def surge_moment(self, as_of: dt.datetime) -> dt.datetime:
        """The `now - surge_window_days` that a surge compares the signal score with."""
        return as_of - dt.timedelta(days=self.rules.surge_window_days)


@dataclass(frozen=True)
class Row:
    """An account's new score and placement, with the standing it was placed from."""

    account_id: int
    fit: float
    signal: float
    coverage: float
    unified: float
    signal_then: float  # the signal score as of now - surge_window_days
    excluded_now: bool
    standing: Standing
    placement: Placement
    explanation: dict  # EXPLANATION_FIELDS

    @property
    def tier(self) -> str:
        return self.placement.tier

    @property
    def moved(self) -> bool:
        return self.standing.tier is not None and self.standing.tier != self.placement.tier

    def __getattr__(self, name):
        if name in EXPLANATION_FIELDS:
            return self.explanation[name]
        raise AttributeError(name)

    def move_reason(self, rules: TierRules) -> str:
        return move_reason(
            rules,
            self.standing,
            self.placement,
            fit=self.fit,
            signal=self.signal,
            signal_then=self.signal_then,
            unified=self.unified,
        )

    def tier_change(self, plan: Plan, as_of: dt.datetime) -> TierChange:
        return TierChange(
            account_id=self.account_id,
            model_id=plan.model.pk,
            from_tier=self.standing.tier,
            to_tier=self.placement.tier,
            reason=self.move_reason(plan.rules),
            fit=self.fit,
            signal=self.signal,
            unified=self.unified,
            at=as_of,
        )


def score_rows(plan: Plan, selection: Selection, as_of: dt.datetime) -> Iterator[Row]:
    """The scores of the selected accounts under the plan's model, computed, not stored."""
    if connection.vendor == "postgresql":
        yield from _sql_rows(plan, selection, as_of)
    else:
        yield from _python_rows(plan, selection, as_of)


def score_and_store(
    plan: Plan,
    selection: Selection,
    as_of: dt.datetime,
    *,
    attempts: int = 5,
    then: Callable[[], object] | None = None,
) -> int:
    """Score the selected accounts and store what changed; returns the number of rows written. `then` runs in the
    same transaction after the scores are stored (the capacity and MQA passes of an incremental rescore).

    Retried when PostgreSQL reports a conflict with a concurrent writer of the same scores.
    """
    for attempt in range(attempts):
        try:
            with transaction.atomic():
                if connection.vendor == "postgresql":
                    written = _sql_store(plan, selection, as_of)  # stores nothing unless the model is active
                elif ScoringModel.objects.filter(pk=plan.model.pk, status=ScoringModel.Status.ACTIVE).exists():
                    written = _python_store(plan, selection, as_of)
                else:
                    return 0
                if then is not None:
                    then()
                return written
        except OperationalError as exc:
            code = getattr(getattr(exc, "__cause__", None), "sqlstate", None)
            if code not in ("40001", "40P01") or attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    return 0


# --- The pure module, account by account -----------------------------------------------------------------------


def _events(plan: Plan, selection: Selection, as_of: dt.datetime) -> dict[int, list[SignalEvent]]:
    days = max(plan.params.lookback_days + plan.rules.surge_window_days, plan.params.engagement_window_days)
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


def standing_of(score: AccountScore | None, model: ScoringModel) -> Standing:
    if score is None:
        return Standing()
    return Standing(
        tier=score.tier,
        since=score.tier_since,
        surge_until=score.surge_until,
        flags=tuple(score.flags or ()),
        same_model=score.model_id == model.pk,
    )


def _python_rows(plan: Plan, selection: Selection, as_of: dt.datetime) -> Iterator[Row]:
    events = _events(plan, selection, as_of)
    p = plan.params
    accounts = selection.filter(Account.objects.all()).order_by("pk").values(*VALUE_COLUMNS)
    for batch in _batches(accounts.iterator(chunk_size=2000), 2000):
        stored = {s.account_id: s for s in AccountScore.objects.filter(account_id__in=[v["id"] for v in batch])}
        for values in batch:
            account_events = events.get(values["id"], ())
            score = score_account(p, account_values(values), account_events, as_of)
            signal_then = round1(
                signal_score_then(
                    p.signal_rules,
                    account_events,
                    as_of,
                    plan.rules.surge_window_days,
                    p.lookback_days,
                    p.full_signal_points,
                )
            )
            standing = standing_of(stored.get(values["id"]), plan.model)
            placement = place(
                plan.rules,
                standing,
                fit=score.fit,
                signal=score.signal,
                signal_then=signal_then,
                unified=score.unified,
                excluded=score.excluded,
                now=as_of,
            )
            yield Row(
                values["id"],
                score.fit,
                score.signal,
                score.coverage,
                score.unified,
                signal_then,
                score.excluded,
                standing,
                placement,
                compact_explanation(score),
            )


def _batches(items, size: int):
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _python_store(plan: Plan, selection: Selection, as_of: dt.datetime) -> int:
    rows = list(_python_rows(plan, selection, as_of))
    existing = {s.account_id: s for s in AccountScore.objects.filter(account_id__in=[r.account_id for r in rows])}
    now = timezone.now()
    changed, moves = [], []
    for row in rows:
        old = existing.get(row.account_id)
        placement = row.placement
        if old is not None:
            if old.model_id == plan.model.pk and old.as_of > as_of:
                continue  # a newer score of the same model is already stored
            new_values = {
                "fit": row.fit,
                "signal": row.signal,
                "coverage": row.coverage,
                "unified": row.unified,
                "tier": placement.tier,
                "surge_until": placement.surge_until,
                "flags": list(placement.flags),
                **row.explanation,
            }
            if old.model_id == plan.model.pk and all(getattr(old, f) == new_values[f] for f in SCORE_FIELDS):
                continue  # nothing changes: the row keeps the moment it was computed at
        if row.moved:
            moves.append(row.tier_change(plan, as_of))
        changed.append(
            AccountScore(
                account_id=row.account_id,
                model_id=plan.model.pk,
                fit=row.fit,
                signal=row.signal,
                coverage=row.coverage,
                unified=row.unified,
                tier=placement.tier,
                tier_since=placement.since,
                surge_until=placement.surge_until,
                flags=list(placement.flags),
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
    TierChange.objects.bulk_create(moves, batch_size=500)
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
    if attribute in ACCOUNT_FIELDS:
        return f"a.{attribute}", [], COLUMN_TYPES.get(attribute, "text")
    return "(a.attributes -> %s)", [attribute], "jsonb"


def _direct(criterion: Criterion) -> bool:
    """Numeric ranges on numeric columns compare in SQL; everything else goes through the distinct values."""
    return criterion.operator in NUMERIC_OPERATORS and ACCOUNT_FIELDS.get(criterion.attribute) == NUMBER


def _distinct_values(criteria: list[Criterion], where: str, where_params: list) -> dict[str, list]:
    """attribute -> the slice's distinct values (None left out), as Python sees them.

    One scan with hashed grouping sets, one set per attribute (GROUPING() takes at most 31 of them).
    """
    attributes = sorted({c.attribute for c in criteria if not _direct(c)})
    if not attributes:
        return {}
    values: dict[str, list] = {}
    for start in range(0, len(attributes), GROUPING_MAX):
        values.update(_distinct_batch(attributes[start : start + GROUPING_MAX], where, where_params))
    return values


GROUPING_MAX = 31  # attributes per scan: GROUPING() returns an int bit mask


def _distinct_batch(attributes: list[str], where: str, where_params: list) -> dict[str, list]:
    exprs, params = [], []
    for attribute in attributes:
        expr, expr_params, _ = _attribute_sql(attribute)
        exprs.append(expr)
        params += expr_params
    jsonb = [_attribute_sql(attribute)[2] == "jsonb" for attribute in attributes]
    names = [f"v{n}" for n in range(len(attributes))]
    inner = ", ".join(f"{e} AS {v}" for e, v in zip(exprs, names, strict=True))
    outputs = ", ".join(f"{v}::text" if is_json else v for v, is_json in zip(names, jsonb, strict=True))
    sql = (
        f"SELECT GROUPING({', '.join(names)}), {outputs} FROM (SELECT {inner} FROM {ACCOUNT_TABLE} a WHERE {where}) a "  # noqa: S608  # nosec B608  # SQL from model tables, whitelisted field names and constants; values are parameters
        f"GROUP BY GROUPING SETS ({', '.join(f'({v})' for v in names)})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params + where_params)
        found = cursor.fetchall()
    values: dict[str, list] = {attribute: [] for attribute in attributes}
    last = len(attributes) - 1
    for grouping, *row in found:
        # GROUPING() sets the bit of each expression the row's set does not group by; the first is the highest bit.
        number = next(n for n in range(len(attributes)) if not grouping & (1 << (last - n)))
        value = row[number]
        if value is not None:
            values[attributes[number]].append((value, json.loads(value) if jsonb[number] else value))
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


def _rule_number_sql(rules) -> tuple[str, list]:
    """SQL for the number (from 1) of the rule of signal `s`'s kind; NULL when no rule counts that kind."""
    if not rules:
        return "NULL::int", []
    return "CASE s.kind " + " ".join(f"WHEN %s THEN {n}" for n in range(1, len(rules) + 1)) + " END", [
        r.kind for r in rules
    ]


def _decayed_sql(rules, lookback: float | None) -> tuple[str, list]:
    """SQL for a signal's decayed points now (scoring.decayed_points) from `x.k` (its rule number) and `x.age`:
    0 without a rule, past 1,000 half-lives, or (when `lookback` is given) older than the lookback."""
    half_lives = [float(r.half_life_days) for r in rules]
    too_old, params = ("OR x.age > %s::float8 ", [float(lookback)]) if lookback is not None else ("", [])
    sql = (
        f"CASE WHEN x.k IS NULL {too_old}OR x.age / (%s::float8[])[x.k] > 1000.0::float8 THEN 0.0::float8 "
        "ELSE (%s::float8[])[x.k] * power(0.5::float8, x.age / (%s::float8[])[x.k]) END"
    )
    return sql, [*params, half_lives, [float(r.points) for r in rules], half_lives]


AGE = "date_part('epoch', %s::timestamptz - s.occurred_at) / 86400.0::float8"


def _aggregate_sql(plan: Plan, selection: Selection, as_of: dt.datetime) -> tuple[str, list]:
    """SELECT account_id, raw, recent, pmask, raw_then, in account order: per account, the signal points now (each
    rule's decayed points, capped, summed: scoring.signal_score), the decayed points of the signals newer than the
    surge window's start, a bit mask of the required personas (in alphabetical order) with a contact behind a
    signal in the engagement window, and the signal points as of the surge window's start (_then_sql).

    The signals stream in account order from the covering index (account, occurred_at; kind, contact): an
    index-only scan, one group at a time, no hash table over the slice's accounts. Each row's rule number and
    decayed points are computed once (the fenced subqueries keep PostgreSQL from repeating the expressions in every
    aggregate); each rule's sum then filters on the rule number. The personas are looked up afterwards, only for
    the contacts behind the window's signals, through the contacts' primary key.
    """
    p = plan.params
    where_s, where_s_params = selection.q("s.account_id")
    rules = p.signal_rules
    personas = sorted(set(p.required_personas))
    lookback, window = p.lookback_days, p.engagement_window_days
    capped = [
        f"LEAST(COALESCE(sum(s.d) FILTER (WHERE s.k = {number}), 0.0::float8), %s::float8)"
        for number in range(1, len(rules) + 1)
    ]
    columns = [
        "(0.0::float8" + "".join(f" + {c}" for c in capped) + ") AS raw",
        "COALESCE(sum(s.d) FILTER (WHERE s.occurred_at > %s), 0.0::float8) AS recent",
        "array_agg(s.contact_id) FILTER (WHERE s.contact_id IS NOT NULL AND s.age <= %s::float8) AS contacts"
        if personas
        else "NULL::bigint[] AS contacts",
    ]
    column_params = [r.max_points for r in rules] + [plan.surge_moment(as_of)] + ([float(window)] if personas else [])
    if personas:
        bits = " ".join(f"WHEN %s THEN {1 << i}" for i in range(len(personas)))
        pmask = f"""CASE WHEN g.contacts IS NULL THEN 0 ELSE COALESCE((
              SELECT bit_or(CASE c.persona {bits} END) FROM {CONTACT_TABLE} c
              WHERE c.id = ANY(g.contacts) AND c.persona = ANY(%s::text[])), 0) END"""  # noqa: S608  # nosec B608  # SQL from model tables and constants; values are parameters
        pmask_params = [*personas, personas]
        wanted = "(x.k IS NOT NULL OR x.contact_id IS NOT NULL)"
    else:
        pmask, pmask_params = "0", []
        wanted = "x.k IS NOT NULL"
    rule_number, rule_params = _rule_number_sql(rules)
    decayed, decayed_params = _decayed_sql(rules, lookback)
    then_sql, then_params = _then_sql(plan, as_of)
    sql = f"""
        SELECT g.account_id, g.raw, g.recent, {pmask} AS pmask, {then_sql} AS raw_then
        FROM (
          SELECT s.account_id, {", ".join(columns)}
          FROM (
            SELECT x.account_id, x.occurred_at, x.contact_id, x.k, x.age, {decayed} AS d
            FROM (
              SELECT s.account_id, s.occurred_at, s.contact_id, {rule_number} AS k, {AGE} AS age
              FROM {SIGNAL_TABLE} s
              WHERE {where_s} AND s.occurred_at <= %s AND s.occurred_at >= %s::timestamptz - %s::interval
              ORDER BY s.account_id OFFSET 0
            ) x
            WHERE {wanted}
            ORDER BY x.account_id
          ) s
          GROUP BY s.account_id
        ) g
    """  # noqa: S608  # nosec B608  # SQL from model tables, whitelisted field names and constants; values are parameters
    params = [
        *pmask_params, *then_params, *column_params, *decayed_params, *rule_params,
        as_of, *where_s_params, as_of, as_of, dt.timedelta(days=max(lookback, window)),
    ]  # fmt: skip
    return sql, params


def _then_sql(plan: Plan, as_of: dt.datetime) -> tuple[str, list]:
    """An expression on `g` (an account's row of the signal aggregate): its signal points as of then = now minus the
    surge window (scoring.signal_score_then), for the accounts that might surge only, else NULL.

    An account can only surge when its signals newer than `then` are worth at least the delta: the rest of its
    signal score can only have fallen since then (each signal's points decay, caps only cut). So only accounts
    with 100 * recent / full_signal_points >= delta - 0.2 (room for the two roundings) read their older signals
    again, through the (account, occurred_at) index; the others cannot surge and get no signal(then).
    """
    p, rules = plan.params, plan.params.signal_rules
    then = plan.surge_moment(as_of)
    capped, params = [], []
    for number, rule in enumerate(rules, start=1):
        capped.append(f"LEAST(COALESCE(%s::float8 * sum(x.c) FILTER (WHERE x.k = {number}), 0.0::float8), %s::float8)")
        params += [then_factor(rule, plan.rules.surge_window_days), rule.max_points]
    rule_number, rule_params = _rule_number_sql(rules)
    decayed, decayed_params = _decayed_sql(rules, lookback=None)  # the dates below keep to the lookback before then
    sql = f"""CASE WHEN %s::float8 > 0 AND 100.0::float8 * g.recent / %s::float8 + 0.2::float8 >= %s::float8 THEN (
          SELECT (0.0::float8 + {" + ".join(capped) or "0.0::float8"})
          FROM (
            SELECT x.k, {decayed} AS c
            FROM (SELECT {rule_number} AS k, {AGE} AS age FROM {SIGNAL_TABLE} s
                  WHERE s.account_id = g.account_id AND s.occurred_at <= %s AND s.occurred_at >= %s OFFSET 0) x
          ) x
        ) END"""  # noqa: S608  # nosec B608  # SQL from model tables, whitelisted field names and constants; values are parameters
    params = [p.full_signal_points, p.full_signal_points, plan.rules.surge_delta, *params, *decayed_params]
    params += [*rule_params, as_of, then, then - dt.timedelta(days=p.lookback_days)]
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
    acc_sql = f"SELECT a.id{''.join(', ' + c for c in match_cols)} FROM {ACCOUNT_TABLE} a WHERE {where_a}"  # noqa: S608  # nosec B608  # SQL from model tables, whitelisted field names and constants; values are parameters
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
    where_o, where_o_params = selection.q("o.account_id")  # the stored scores of the slice only
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
    # The accounts (by id) and their signal aggregate (in account order) stream side by side: a merge join, no
    # hash table and no materialized intermediate over the slice. OFFSET 0 keeps each level's expressions from
    # being inlined (and so computed again) into the next.
    sql = f"""
        WITH parts AS (
          SELECT acc.id,
                 {fit_sql} AS fit,
                 CASE WHEN %s::float8 > 0
                      THEN LEAST(100.0::float8, 100.0::float8 * {signal_raw_sql} / %s::float8)
                      ELSE 0.0::float8 END AS signal,
                 CASE WHEN %s::float8 > 0 AND sa.raw_then IS NOT NULL
                      THEN LEAST(100.0::float8, 100.0::float8 * sa.raw_then / %s::float8) END AS signal_then,
                 {coverage_sql} AS coverage,
                 ({excluded_flag}) AS is_excluded,
                 {matched_sql} AS matched,
                 {excluded_sql} AS excluded,
                 {personas_sql} AS personas
          FROM ({acc_sql} ORDER BY a.id OFFSET 0) acc LEFT JOIN ({aggregate_sql}) sa ON sa.account_id = acc.id
          OFFSET 0
        ),
        rounded AS (
          SELECT w.*, {ROUND1.format(x="w.fit")} AS fit_r, {ROUND1.format(x="w.signal")} AS signal_r,
                 {ROUND1.format(x="w.signal_then")} AS then_r, {ROUND1.format(x="w.unified")} AS unified_r
          FROM (
            SELECT parts.*, %s::float8 * fit + %s::float8 * signal + %s::float8 * 100.0::float8 * coverage AS unified
            FROM parts
          ) w OFFSET 0
        ),
        {_placement_sql(where_o)}
        SELECT id AS account_id, fit_r AS fit, signal_r AS signal, coverage, unified_r AS unified, then_r,
               is_excluded, old_tier, old_since, old_surge, old_flags, same_model,
               tier, CASE WHEN tier = old_tier THEN old_since ELSE %s::timestamptz END AS tier_since,
               surge_until, flags, candidate, target, surge_started, matched, excluded, personas
        FROM placed
    """  # noqa: S608  # nosec B608  # SQL from model tables, whitelisted field names and constants; values are parameters
    all_params = (
        fit_params
        + [p.full_signal_points] * 4
        + personas
        + params
        + signal_params
        + [p.w_fit, p.w_signal, p.w_coverage]
        + _placement_params(plan, as_of, where_o_params)
        + [as_of]
    )
    return sql, all_params


def _placement_sql(where_o: str) -> str:
    """The CTEs `standing` and `placed`: tiers.place() in SQL, from `rounded` and the stored score."""
    rank = "array_position(ARRAY['tier_1', 'tier_2', 'tier_3', 'recycle', 'suppress']::text[], {x})"
    candidate = (
        "CASE WHEN is_excluded THEN 'suppress' "
        + " ".join(f"WHEN unified_r >= %s AND fit_r >= %s THEN '{tier}'" for tier in TIERS)
        + " ELSE 'recycle' END"
    )
    above = " ".join(
        f"WHEN '{RANKED[i]}' THEN CASE WHEN fit_r >= %s THEN '{RANKED[i - 1]}' ELSE '{RANKED[i]}' END"
        for i in range(1, len(RANKED))
    )
    exit_of = "CASE old_tier " + " ".join(f"WHEN '{t}' THEN %s::float8" for t in TIERS) + " END"
    min_fit_of = "CASE old_tier " + " ".join(f"WHEN '{t}' THEN %s::float8" for t in TIERS) + " END"
    return f"""
        standing AS (
          SELECT r.*, o.tier AS old_tier, o.tier_since AS old_since, o.surge_until AS old_surge,
                 o.flags AS old_flags, COALESCE(o.model_id = %s, TRUE) AS same_model,
                 COALESCE(r.signal_r - r.then_r + 1e-9::float8 >= %s::float8, FALSE) AS surge_started,
                 {candidate} AS candidate
          FROM rounded r LEFT JOIN {SCORE_TABLE} o ON o.account_id = r.id AND {where_o} OFFSET 0
        ),
        surged AS (
          SELECT st.*, CASE WHEN surge_started THEN %s::timestamptz
                            WHEN old_surge > %s::timestamptz THEN old_surge END AS surge_until
          FROM standing st OFFSET 0
        ),
        targeted AS (
          SELECT su.*, CASE WHEN surge_until IS NULL THEN candidate
                            ELSE CASE candidate {above} ELSE candidate END END AS target
          FROM surged su OFFSET 0
        ),
        held AS (
          SELECT tg.*, CASE
                 WHEN is_excluded OR old_tier IS NULL OR old_tier = 'suppress'
                      OR {rank.format(x="target")} <= {rank.format(x="old_tier")} OR NOT same_model THEN NULL
                 WHEN unified_r >= {exit_of} AND fit_r >= {min_fit_of} THEN '{HYSTERESIS}'
                 WHEN %s::timestamptz - old_since < %s::interval THEN '{MIN_DAYS}'
               END AS hold
          FROM targeted tg OFFSET 0
        ),
        capped AS (
          SELECT h.*, (COALESCE(hold IS NULL AND target = 'tier_1' AND old_tier = 'tier_2'
                                AND '{CAPACITY}' = ANY(old_flags), FALSE)) AS capacity_held
          FROM held h OFFSET 0
        ),
        placed AS (
          SELECT c.*,
                 CASE WHEN capacity_held THEN 'tier_2' WHEN hold IS NOT NULL THEN old_tier ELSE target END AS tier,
                 array_remove(ARRAY[CASE WHEN capacity_held THEN '{CAPACITY}' END, hold,
                                    CASE WHEN surge_until IS NOT NULL THEN '{SURGE}' END]::text[], NULL) AS flags
          FROM capped c OFFSET 0
        )
    """  # noqa: S608  # nosec B608  # SQL from model tables, whitelisted field names and constants; values are parameters


def _placement_params(plan: Plan, as_of: dt.datetime, where_o_params: list) -> list:
    t, rules = plan.thresholds, plan.rules
    return [
        plan.model.pk,
        rules.surge_delta,
        *[v for tier in TIERS for v in (t[tier].enter, t[tier].min_fit)],
        *where_o_params,
        as_of + dt.timedelta(days=rules.surge_hold_days),
        as_of,
        *[t[RANKED[i - 1]].min_fit for i in range(1, len(RANKED))],
        *[t[tier].exit for tier in TIERS],
        *[t[tier].min_fit for tier in TIERS],
        as_of,
        dt.timedelta(days=rules.min_days_in_tier),
    ]


def _statement_settings(cursor, selection: Selection) -> None:
    """Settings for one scoring statement, for its transaction only."""
    # Compiling the expressions (JIT) costs more than it saves on a slice with the workers side by side (measured
    # at a million accounts), and far more on a few accounts.
    cursor.execute("SET LOCAL jit = off")
    if selection.ids is not None:  # a few accounts (incremental): index look-ups, small memory
        cursor.execute("SET LOCAL work_mem = '64MB'")
        return
    # Joins in memory, never a loop over millions of rows, and one process per slice (the workers already run
    # slices side by side).
    cursor.execute("SET LOCAL work_mem = '256MB'")
    cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
    cursor.execute("SET LOCAL enable_nestloop = off")


STREAM_CHUNK = 1000
RETURNED = (
    "account_id, fit, signal, coverage, unified, then_r, is_excluded, old_tier, old_since, old_surge, old_flags, "
    "same_model, tier, tier_since, surge_until, flags, candidate, target, surge_started, matched, excluded, personas"
)
# The same columns for a move: only what its reason reads (tiers.move_reason); the rest NULL, not sent or parsed.
MOVED = (
    "account_id, fit, signal, coverage, unified, then_r, is_excluded, old_tier, NULL::timestamptz, old_surge, "
    "old_flags, same_model, tier, NULL::timestamptz, surge_until, flags, candidate, target, surge_started, "
    "NULL::int[], NULL::int[], NULL::text[]"
)


def _row(values) -> Row:
    scores, old, new, explanation = values[:7], values[7:12], values[12:19], values[19:]
    old_tier, old_since, old_surge, old_flags, same_model = old
    tier, tier_since, surge_until, flags, candidate, target, surge_started = new
    return Row(
        *scores,
        Standing(old_tier, old_since, old_surge, tuple(old_flags or ()), same_model),
        Placement(tier, tier_since, surge_until, tuple(flags), candidate, target, surge_started),
        dict(zip(EXPLANATION_FIELDS, explanation, strict=True)),
    )


def _sql_rows(plan: Plan, selection: Selection, as_of: dt.datetime) -> Iterator[Row]:
    sql, params = _select_sql(plan, selection, as_of)
    with transaction.atomic(), connection.cursor() as cursor:
        _statement_settings(cursor, selection)
        cursor.execute(sql + " ORDER BY account_id", params)
        for values in cursor.fetchall():
            yield _row(values)


def _store_sql(plan: Plan, selection: Selection, as_of: dt.datetime) -> tuple[str, list]:
    """The statement that scores the selected accounts and writes what changed. It returns one row with the
    number of rows written (account_id NULL), then the accounts that moved to another tier."""
    select_sql, params = _select_sql(plan, selection, as_of)
    # Both keep the look-up of existing rows to the slice (else each slice would read every stored score).
    where_o, where_o_params = selection.q("o.account_id")
    where_old, where_old_params = selection.q("old.account_id")
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
                tier = n.tier, tier_since = n.tier_since, surge_until = n.surge_until, flags = n.flags,
                matched = n.matched, excluded = n.excluded, personas = n.personas, as_of = %s, computed_at = now()
              FROM n
              WHERE old.account_id = n.account_id AND {where_old}
                AND (old.model_id <> %s OR old.as_of <= %s)
                AND (old.model_id, old.fit, old.signal, old.coverage, old.unified, old.tier, old.surge_until,
                     old.flags, old.matched, old.excluded, old.personas)
                    IS DISTINCT FROM (%s, n.fit, n.signal, n.coverage, n.unified, n.tier, n.surge_until, n.flags,
                                      n.matched, n.excluded, n.personas)
              RETURNING n.*
            ),
            added AS (
              INSERT INTO {SCORE_TABLE}
                (account_id, model_id, fit, signal, coverage, unified, tier, tier_since, surge_until, flags,
                 matched, excluded, personas, as_of, computed_at)
              SELECT n.account_id, %s, n.fit, n.signal, n.coverage, n.unified, n.tier, n.tier_since, n.surge_until,
                     n.flags, n.matched, n.excluded, n.personas, %s, now()
              FROM n WHERE NOT EXISTS (
                SELECT 1 FROM {SCORE_TABLE} o WHERE o.account_id = n.account_id AND {where_o}
              )
              ON CONFLICT (account_id) DO NOTHING
              RETURNING 1
            )
            SELECT NULL, (SELECT count(*) FROM changed) + (SELECT count(*) FROM added)
                   {", NULL" * (len(RETURNED.split(",")) - 2)}
            UNION ALL
            SELECT {MOVED} FROM changed WHERE old_tier IS NOT NULL AND old_tier <> tier
            """,  # noqa: S608  # nosec B608  # SQL from model tables, whitelisted field names and constants; values are parameters
        [
            *params,
            plan.model.pk,
            plan.model.pk,
            as_of,
            *where_old_params,
            plan.model.pk,
            as_of,
            plan.model.pk,
            plan.model.pk,
            as_of,
            *where_o_params,
        ],  # fmt: skip
    )


def _sql_store(plan: Plan, selection: Selection, as_of: dt.datetime) -> int:
    """Run the store statement and record its tier moves; returns the number of score rows written.

    The moves stream from the statement (a new version can move hundreds of thousands of accounts): each gets its
    reason in words (tiers.move_reason) and goes to a spool file, copied into TierChange at the end, so memory
    stays flat whatever the number of moves.
    """
    written = 0
    columns = "account_id, model_id, from_tier, to_tier, reason, fit, signal, unified, at"
    with connection.cursor() as cursor, tempfile.TemporaryFile("w+", newline="") as spool:
        if len(connection.atomic_blocks) == 1 and not connection.savepoint_ids:
            # The distinct values and the scoring statement must read the same snapshot.
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        _statement_settings(cursor, selection)
        out, moves, at = csv.writer(spool), 0, as_of.isoformat()
        # Rows arrive in chunks (libpq's chunked mode): one round of Python per thousand moves, not per move.
        for values in cursor.cursor.stream(*_store_sql(plan, selection, as_of), size=STREAM_CHUNK):
            if values[0] is None:
                written = int(values[1])
                continue
            row = _row(values)
            out.writerow(
                [row.account_id, plan.model.pk, row.standing.tier, row.tier, row.move_reason(plan.rules)]
                + [repr(row.fit), repr(row.signal), repr(row.unified), at]
            )
            moves += 1
        if moves:
            spool.seek(0)
            copy_sql = f"COPY {TierChange._meta.db_table} ({columns}) FROM STDIN WITH (FORMAT csv)"
            with cursor.cursor.copy(copy_sql) as copy:
                while data := spool.read(1 << 20):
                    copy.write(data)
    return written
