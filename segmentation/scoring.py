"""Scoring, exactly as an admin can reproduce it by hand. Plain values in, scores and explanation out; no ORM.

Times are UTC; `now` is the moment of scoring; age_days = (now - occurred_at) in days, fractional.

Criteria are matched by the criterion language (accounts/criteria.py).

Fit (0-100): a group scores the highest points among its matched criteria (0 if none matched);
    fit_raw = sum of group scores
    fit_max = sum over groups of max(0, highest points in the group)
    fit     = clamp(100 * fit_raw / fit_max, 0, 100)          (0 when fit_max is 0)
An exclusion criterion that matches makes the account `suppress`, whatever its scores.

Signal (0-100): each rule {kind, points, half_life_days, max_points}; a signal of that kind contributes
    points * 0.5 ** (age_days / half_life_days)
and counts 0 when it is in the future or older than the lookback; each kind's total is capped at
max_points;
    signal_raw = sum over kinds;  signal = min(100, 100 * signal_raw / full_signal_points)

Per-contact cap (contact_cap, optional): a contact's total T = the decayed points (as above, before the kinds'
caps) of all its signals; when T > contact_cap each of its signals counts points * contact_cap / T, so the contact
adds contact_cap in all, spread over its kinds in proportion; the kinds' caps then apply to what counts. Signals
without a contact are not capped per contact. Without a cap (blank) every signal counts in full.

Buying-group coverage (0-1) = share of the required personas with at least one contact that has a
signal in the last engagement_window_days (0 when no persona is required).

Unified = w_fit * fit + w_signal * signal + w_coverage * 100 * coverage (weights >= 0, summing to 1).
Fit, signal and unified are stored rounded half away from zero to 1 decimal, unified from the
unrounded parts; a value within 1e-7 below a half counts as the half, so float noise (63.449999999999996 for
63.45) rounds the way the same sum does by hand.

A signal more than 1,000 half-lives old counts 0 (its points would be below 1e-300).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from accounts.criteria import Criterion, criterion_matches

from .tiers import Placement, Standing, TierRules, place

SECONDS_PER_DAY = 86400.0


@dataclass(frozen=True)
class SignalRule:
    kind: str
    points: float
    half_life_days: float
    max_points: float


@dataclass(frozen=True)
class ScoringParams:
    criteria: tuple[Criterion, ...] = ()
    exclusions: tuple[Criterion, ...] = ()
    signal_rules: tuple[SignalRule, ...] = ()
    required_personas: tuple[str, ...] = ()
    w_fit: float = 0.6
    w_signal: float = 0.3
    w_coverage: float = 0.1
    full_signal_points: float = 100.0
    lookback_days: float = 365.0
    engagement_window_days: float = 90.0
    contact_cap: float | None = None  # the most signal points one contact can add; None: no cap


@dataclass(frozen=True)
class SignalEvent:
    kind: str
    occurred_at: dt.datetime
    persona: str | None = None  # the persona of the contact behind the signal, if any
    contact: int | None = None  # the contact behind the signal (its id), if any: the per-contact cap counts by it


@dataclass
class Score:
    fit: float
    signal: float
    coverage: float
    unified: float
    excluded: bool
    fit_exact: float
    signal_exact: float
    unified_exact: float
    explanation: dict = field(default_factory=dict)


MAX_HALF_LIVES = 1000.0
HALF_TOLERANCE = 1e-6  # in tenths: a value within 1e-7 below a half rounds as the half (float noise)


def round1(value: float) -> float:
    """Round half away from zero to one decimal: sign(x) * floor(|x| * 10 + 0.5 + 1e-6) / 10.

    The tolerance makes float noise round the way the same sum does by hand (63.449999999999996 is 63.45, so
    63.5). The SQL engine computes the same float operations in the same order, so both give the same number.
    """
    tenths = math.floor(abs(value) * 10.0 + 0.5 + HALF_TOLERANCE)
    return math.copysign(tenths / 10.0, value) if tenths else 0.0


def fit_score(criteria: Iterable[Criterion], values: Mapping[str, Any]) -> tuple[float, dict]:
    """The exact fit (0-100) and how it was reached; `matched` names each scoring criterion by its index."""
    criteria = list(criteria)
    groups: dict[str, list[Criterion]] = {}
    for criterion in criteria:
        groups.setdefault(criterion.group_name, []).append(criterion)
    raw = 0.0
    maximum = 0.0
    matched = []
    by_group = {}
    index = {id(c): number for number, c in enumerate(criteria)}
    for name, members in groups.items():
        hits = [c for c in members if criterion_matches(c, values)]
        score = max((c.points for c in hits), default=0.0)
        best = max(hits, key=lambda c: c.points) if hits else None
        raw += score
        maximum += max(0.0, max(c.points for c in members))
        by_group[name] = score
        if best is not None:
            matched.append(
                {
                    "index": index[id(best)],
                    "group": name,
                    "attribute": best.attribute,
                    "operator": best.operator,
                    "value": best.value,
                    "points": best.points,
                }
            )
    fit = 0.0 if maximum <= 0 else min(100.0, max(0.0, 100.0 * raw / maximum))
    return fit, {"raw": raw, "max": maximum, "groups": by_group, "matched": matched}


def decayed_points(rule: SignalRule, occurred_at: dt.datetime, now: dt.datetime, lookback_days: float) -> float:
    age_days = (now - occurred_at).total_seconds() / SECONDS_PER_DAY
    if age_days < 0 or age_days > lookback_days:
        return 0.0
    return _decayed_unbounded(rule, occurred_at, now)


def contact_factors(points: Iterable[tuple[int | None, float]], cap: float | None) -> tuple[dict, dict]:
    """({contact: factor}, {contact: total}) for the contacts whose points (pairs of contact and points, before the
    kinds' caps) add up to more than `cap`: each of their signals counts points * factor = points * cap / total.
    Signals without a contact (None) and contacts within the cap are not in them (factor 1)."""
    if cap is None:
        return {}, {}
    totals: dict[int, float] = {}
    for contact, value in points:
        if contact is not None:
            totals[contact] = totals.get(contact, 0.0) + value
    over = {contact: total for contact, total in totals.items() if total > cap}
    return {contact: cap / total for contact, total in over.items()}, over


def signal_score(
    rules: Iterable[SignalRule],
    signals: Iterable[SignalEvent],
    now: dt.datetime,
    lookback_days: float,
    full_points: float,
    contact_cap: float | None = None,
) -> tuple[float, dict]:
    """The exact signal score (0-100), each kind's decayed total (after the per-contact cap), capped, and the
    contacts whose points were capped ({contact: {"decayed", "points"}})."""
    by_kind = {rule.kind: rule for rule in rules}
    counted = []
    for event in signals:
        rule = by_kind.get(event.kind)
        if rule is None:
            continue
        points = decayed_points(rule, event.occurred_at, now, lookback_days)
        if points > 0:
            counted.append((event, points))
    factors, over = contact_factors(((event.contact, points) for event, points in counted), contact_cap)
    totals: dict[str, float] = {}
    counts: dict[str, int] = {}
    for event, points in counted:
        factor = factors.get(event.contact)
        totals[event.kind] = totals.get(event.kind, 0.0) + (points if factor is None else points * factor)
        counts[event.kind] = counts.get(event.kind, 0) + 1
    kinds = {
        kind: {"count": counts[kind], "decayed": total, "points": min(total, by_kind[kind].max_points)}
        for kind, total in totals.items()
    }
    raw = sum(k["points"] for k in kinds.values())
    signal = 0.0 if full_points <= 0 else min(100.0, 100.0 * raw / full_points)
    contacts = {contact: {"decayed": total, "points": contact_cap} for contact, total in over.items()}
    return signal, {"raw": raw, "full_points": full_points, "kinds": kinds, "contacts": contacts}


def signal_score_then(
    rules: Iterable[SignalRule],
    signals: Iterable[SignalEvent],
    now: dt.datetime,
    window_days: float,
    lookback_days: float,
    full_points: float,
    contact_cap: float | None = None,
) -> float:
    """The exact signal score (0-100) as of then = now - window_days, from the signals known then (the surge test).

    A signal counts when then - lookback <= occurred_at <= then, for its points as of then:
        points * 0.5 ** (age_days / half_life_days) * 2 ** (window_days / half_life_days)
    (its decayed points now, grown back by the window: the same number as decaying from then, computed from the
    one decay the scoring already needs). Each kind's total is capped at max_points, the rest as signal_score.
    With a per-contact cap, a contact's points as of then are capped at it first, as signal_score caps them now.
    """
    by_kind = {rule.kind: rule for rule in rules}
    then = now - dt.timedelta(days=window_days)
    since = then - dt.timedelta(days=lookback_days)
    totals: dict[str, float] = {}
    if contact_cap is not None:
        # A contact's points as of then (each grown back by its kind's factor) are capped as signal_score caps them.
        counted = [
            (event, _decayed_unbounded(by_kind[event.kind], event.occurred_at, now))
            for event in signals
            if event.kind in by_kind and since <= event.occurred_at <= then
        ]
        factors, _ = contact_factors(
            ((e.contact, then_factor(by_kind[e.kind], window_days) * points) for e, points in counted), contact_cap
        )
        for event, points in counted:
            factor = factors.get(event.contact)
            totals[event.kind] = totals.get(event.kind, 0.0) + (points if factor is None else points * factor)
        signals = ()
    for event in signals:
        rule = by_kind.get(event.kind)
        if rule is None or not since <= event.occurred_at <= then:
            continue
        totals[event.kind] = totals.get(event.kind, 0.0) + _decayed_unbounded(rule, event.occurred_at, now)
    raw = sum(
        min(then_factor(by_kind[kind], window_days) * total, by_kind[kind].max_points) for kind, total in totals.items()
    )
    return 0.0 if full_points <= 0 else min(100.0, 100.0 * raw / full_points)


def then_factor(rule: SignalRule, window_days: float) -> float:
    return 2.0 ** (window_days / rule.half_life_days)


def _decayed_unbounded(rule: SignalRule, occurred_at: dt.datetime, now: dt.datetime) -> float:
    """points * 0.5 ** (age_days / half_life_days), whatever the lookback (0 beyond 1,000 half-lives)."""
    half_lives = (now - occurred_at).total_seconds() / SECONDS_PER_DAY / rule.half_life_days
    return 0.0 if half_lives > MAX_HALF_LIVES else rule.points * 0.5**half_lives


def coverage_score(
    required_personas: Iterable[str], signals: Iterable[SignalEvent], now: dt.datetime, window_days: float
) -> tuple[float, dict]:
    required = list(dict.fromkeys(required_personas))
    engaged = set()
    for event in signals:
        if event.persona is None:
            continue
        age_days = (now - event.occurred_at).total_seconds() / SECONDS_PER_DAY
        if 0 <= age_days <= window_days:
            engaged.add(event.persona)
    covered = [p for p in required if p in engaged]
    coverage = len(covered) / len(required) if required else 0.0
    return coverage, {"required": required, "engaged": covered, "missing": [p for p in required if p not in engaged]}


def score_account(
    params: ScoringParams, values: Mapping[str, Any], signals: Iterable[SignalEvent], now: dt.datetime
) -> Score:
    """Fit, signal, coverage and unified score of one account, with the explanation of each."""
    signals = list(signals)
    excluded_by = [(i, c) for i, c in enumerate(params.exclusions) if criterion_matches(c, values)]
    fit, fit_detail = fit_score(params.criteria, values)
    signal, signal_detail = signal_score(
        params.signal_rules, signals, now, params.lookback_days, params.full_signal_points, params.contact_cap
    )
    coverage, coverage_detail = coverage_score(params.required_personas, signals, now, params.engagement_window_days)
    unified = params.w_fit * fit + params.w_signal * signal + params.w_coverage * 100.0 * coverage
    explanation = {
        "fit": fit_detail,
        "signal": signal_detail,
        "coverage": coverage_detail,
        "weights": {"fit": params.w_fit, "signal": params.w_signal, "coverage": params.w_coverage},
        "excluded_by": [
            {"index": i, "attribute": c.attribute, "operator": c.operator, "value": c.value} for i, c in excluded_by
        ],
    }
    return Score(
        fit=round1(fit),
        signal=round1(signal),
        coverage=coverage,
        unified=round1(unified),
        excluded=bool(excluded_by),
        fit_exact=fit,
        signal_exact=signal,
        unified_exact=unified,
        explanation=explanation,
    )


def compact_explanation(score: Score) -> dict:
    """What a stored score keeps of its explanation: the index of each group's scoring criterion, the indexes of
    the matching exclusions and the required personas engaged (sorted). The signal part is recomputed for one
    account when shown, from its signals as of the score's moment (see explain.py)."""
    detail = score.explanation
    return {
        "matched": [m["index"] for m in detail["fit"]["matched"]],
        "excluded": [e["index"] for e in detail["excluded_by"]],
        "personas": sorted(detail["coverage"]["engaged"]),
    }


@dataclass(frozen=True)
class ScoredPlacement:
    score: Score
    signal_then: float  # the signal score as of now - surge_window_days, rounded as stored scores are
    placement: Placement


def score_and_place(
    params: ScoringParams,
    rules: TierRules,
    values: Mapping[str, Any],
    signals: Iterable[SignalEvent],
    standing: Standing,
    now: dt.datetime,
) -> ScoredPlacement:
    """One account, the whole rule (SPEC sections 3 and 4): its fit, signal, coverage and unified scores from its
    values and signals; its signal score as of now - surge_window_days (for surges); and its tier, placed from those
    rounded numbers and what is stored for it now (`standing`), before the Tier 1 capacity pass that looks across a
    territory. The Python engine runs this account by account, the tests use it as the reference, and the SQL
    engine computes the same (tested equal field for field)."""
    signals = list(signals)
    score = score_account(params, values, signals, now)
    signal_then = round1(
        signal_score_then(
            params.signal_rules,
            signals,
            now,
            rules.surge_window_days,
            params.lookback_days,
            params.full_signal_points,
            params.contact_cap,
        )
    )
    placement = place(
        rules,
        standing,
        fit=score.fit,
        signal=score.signal,
        signal_then=signal_then,
        unified=score.unified,
        excluded=score.excluded,
        now=now,
    )
    return ScoredPlacement(score=score, signal_then=signal_then, placement=placement)
