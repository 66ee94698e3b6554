"""Signals in SQL: each account's signal points by rule (decayed, capped), its engaged personas, and its signal
points as of the surge window's start, aggregated one account at a time from the signals' covering index."""

from __future__ import annotations

import datetime as dt

from accounts.models import Contact, Signal

from ..scoring import then_factor
from .plan import Plan, Selection

SIGNAL_TABLE = Signal._meta.db_table
CONTACT_TABLE = Contact._meta.db_table


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


def signal_aggregate_sql(
    plan: Plan, selection: Selection, as_of: dt.datetime, *, surge: bool = True
) -> tuple[str, list]:
    """SELECT account_id, raw, recent, pmask, raw_then, in account order: per account, the signal points now (each
    rule's decayed points, capped, summed: scoring.signal_score), the decayed points of the signals newer than the
    surge window's start, a bit mask of the required personas (in alphabetical order) with a contact behind a
    signal in the engagement window, and the signal points as of the surge window's start (_then_sql).

    The signals stream in account order from the covering index (account, occurred_at; kind, contact): an
    index-only scan, one group at a time, no hash table over the slice's accounts. Each row's rule number and
    decayed points are computed once (the fenced subqueries keep PostgreSQL from repeating the expressions in every
    aggregate); each rule's sum then filters on the rule number. The personas are looked up afterwards, only for
    the contacts behind the window's signals, through the contacts' primary key. Without `surge`, raw_then is NULL
    (a shadow score places no surge).
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
    cap = p.contact_cap
    column_params = [r.max_points for r in rules] + [plan.surge_moment(as_of)] + ([float(window)] if personas else [])
    if cap is not None:
        # The bound on a surge's rise (see _then_sql) with a per-contact cap: the signals without a contact newer than
        # then, plus what the contacts add now (each at most the cap).
        columns[1] = (
            "COALESCE(sum(s.d) FILTER (WHERE s.contact_id IS NOT NULL), 0.0::float8)"
            " + COALESCE(sum(s.d0) FILTER (WHERE s.contact_id IS NULL AND s.occurred_at > %s), 0.0::float8) AS recent"
        )
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
    then_sql, then_params = _then_sql(plan, as_of) if surge else ("NULL::float8", [])
    signals_sql = f"""
            SELECT x.account_id, x.occurred_at, x.contact_id, x.k, x.age, {decayed} AS d
            FROM (
              SELECT s.account_id, s.occurred_at, s.contact_id, {rule_number} AS k, {AGE} AS age
              FROM {SIGNAL_TABLE} s
              WHERE {where_s} AND s.occurred_at <= %s AND s.occurred_at >= %s::timestamptz - %s::interval
              ORDER BY s.account_id OFFSET 0
            ) x
            WHERE {wanted}
            ORDER BY x.account_id"""  # noqa: S608  # nosec B608  # SQL from model tables and constants; values are parameters
    cap_params = []
    if cap is not None:
        # Each contact's points (its signals' decayed points, summed over the account's window of that contact) above
        # the cap count in proportion: d * cap / total (scoring.contact_factors). d0: before the cap.
        signals_sql = f"""
            SELECT t.account_id, t.occurred_at, t.contact_id, t.k, t.age, t.d AS d0,
                   CASE WHEN t.contact_id IS NOT NULL AND t.total > %s::float8
                        THEN t.d * (%s::float8 / t.total) ELSE t.d END AS d
            FROM (
              SELECT y.*, sum(y.d) OVER (PARTITION BY y.account_id, y.contact_id) AS total
              FROM ({signals_sql} OFFSET 0) y
              ORDER BY y.account_id OFFSET 0
            ) t
            ORDER BY t.account_id"""  # noqa: S608  # nosec B608  # SQL from constants; values are parameters
        cap_params = [cap, cap]
    sql = f"""
        SELECT g.account_id, g.raw, g.recent, {pmask} AS pmask, {then_sql} AS raw_then
        FROM (
          SELECT s.account_id, {", ".join(columns)}
          FROM ({signals_sql}
          ) s
          GROUP BY s.account_id
        ) g
    """  # noqa: S608  # nosec B608  # SQL from model tables, whitelisted field names and constants; values are parameters
    params = [
        *pmask_params, *then_params, *column_params, *cap_params, *decayed_params, *rule_params,
        as_of, *where_s_params, as_of, as_of, dt.timedelta(days=max(lookback, window)),
    ]  # fmt: skip
    return sql, params


def _then_sql(plan: Plan, as_of: dt.datetime) -> tuple[str, list]:
    """An expression on `g` (an account's row of the signal aggregate): its signal points as of then = now minus the
    surge window (scoring.signal_score_then), for the accounts that might surge only, else NULL.

    An account can only surge when its signals newer than `then` are worth at least the delta: the rest of its
    signal score can only have fallen since then (each signal's points decay, caps only cut). With a per-contact
    cap a contact's points can shift between its kinds as they decay at different rates, so the bound is what the
    contacts add now (each at most the cap) plus the signals without a contact newer than then, and never more than
    the whole signal now. So only accounts
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
    points_sql = f"""
            SELECT x.k, x.contact_id, {decayed} AS c
            FROM (SELECT {rule_number} AS k, s.contact_id, {AGE} AS age FROM {SIGNAL_TABLE} s
                  WHERE s.account_id = g.account_id AND s.occurred_at <= %s AND s.occurred_at >= %s OFFSET 0) x"""  # noqa: S608  # nosec B608  # SQL from model tables and constants; values are parameters
    points_params = [*decayed_params, *rule_params, as_of, then, then - dt.timedelta(days=p.lookback_days)]
    rise = "g.recent"
    if p.contact_cap is not None:
        # A contact's points as of then (each grown back by its kind's factor) above the cap count in proportion.
        rise = "LEAST(g.raw, g.recent)"
        factors = [then_factor(rule, plan.rules.surge_window_days) for rule in rules]
        points_sql = f"""
            SELECT z.k, CASE WHEN z.contact_id IS NOT NULL AND sum(z.tc) OVER w > %s::float8
                             THEN z.c * (%s::float8 / sum(z.tc) OVER w) ELSE z.c END AS c
            FROM (SELECT y.k, y.contact_id, y.c, COALESCE((%s::float8[])[y.k], 0.0::float8) * y.c AS tc
                  FROM ({points_sql} OFFSET 0) y OFFSET 0) z
            WINDOW w AS (PARTITION BY z.contact_id)"""  # noqa: S608  # nosec B608  # SQL from constants; values are parameters
        points_params = [p.contact_cap, p.contact_cap, factors, *points_params]
    sql = f"""CASE WHEN %s::float8 > 0 AND 100.0::float8 * {rise} / %s::float8 + 0.2::float8 >= %s::float8 THEN (
          SELECT (0.0::float8 + {" + ".join(capped) or "0.0::float8"})
          FROM ({points_sql}
          ) x
        ) END"""  # noqa: S608  # nosec B608  # SQL from model tables, whitelisted field names and constants; values are parameters
    params = [p.full_signal_points, p.full_signal_points, plan.rules.surge_delta, *params, *points_params]
    return sql, params
