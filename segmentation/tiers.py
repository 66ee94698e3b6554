"""Tier placement from an account's stored (rounded) scores and its current standing. Plain values in, a tier,
its flags and the reason in words out; no ORM. The single-account update and the bulk rescore both follow it
(the bulk rescore in SQL, checked against this module by the tests).

Tiers, best first: tier_1, tier_2, tier_3, recycle; `suppress` stands apart. Each of tier 1-3 has `enter`,
`exit` (exit <= enter) and `min_fit`.

1. An exclusion match -> suppress, at once; when it no longer matches, the account goes to its target at once.
2. candidate = the best tier k with unified >= enter_k and fit >= min_fit_k (signals cannot override misfit),
   else recycle.
3. Surge: when signal(now) - signal(now - surge_window_days) >= surge_delta (both rounded to 1 decimal), the
   account surges until now + surge_hold_days (a later surge extends it). While it surges its target is the tier
   above the candidate if its fit meets that tier's min_fit (the guardrail still applies), else the candidate.
   Without a surge the target is the candidate.
4. A target better than the current tier -> move up at once.
5. A worse target -> stay while unified >= exit_current and fit >= min_fit_current ("hysteresis"), or while the
   time in the tier is under min_days_in_tier ("min_days"); otherwise move to the target.
   Holds apply within one model version: a newly published version places every account at its target at once.
6. Tier 1 capacity (per territory, see capacity.py): the lowest-scoring accounts beyond the territory's Tier 1
   capacity are held at Tier 2 and flagged "capacity". An account held so stays held while its target is Tier 1;
   the capacity pass releases it when a place frees up.

Flags on the placement: "surge" while surging; "hysteresis" or "min_days" while held above a worse target;
"capacity" while held at Tier 2 by capacity.

Every move writes a TierChange with its reason, and so does an account's first placement (its first score): a
TierChange from PLACED ("", no tier before) to the tier, "Placed in Tier 3. ...". A placement is not a move: the
movement matrix, the moves list and the tier movement KPI leave it out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from core.tiers import LABELS, ORDER, RANKED, RECYCLE, SUPPRESS, TIERS

SURGE, HYSTERESIS, MIN_DAYS, CAPACITY = "surge", "hysteresis", "min_days", "capacity"
# TierChange.from_tier of an account's first placement: it had no tier before.
PLACED = ""
FLAG_WORDS = {
    SURGE: "surging",
    HYSTERESIS: "held in tier (hysteresis)",
    MIN_DAYS: "held in tier (minimum time in tier)",
    CAPACITY: "held at Tier 2 (Tier 1 capacity)",
}
# Sales sent the account back to marketing (a rejected handoff, or one recycled after an SLA breach): it stays in
# Recycle while the model's rejection cooldown runs, whatever its scores (services/recycle.py keeps it there).
RECYCLED = "recycled"
FLAG_WORDS[RECYCLED] = "held in Recycle (sent back by sales)"


def recycle_hold_reason(*, lifted_to: str) -> str:
    """Why an account whose scores reach `lifted_to` stays in Recycle."""
    return (
        f"Held in Recycle: sales sent it back within the rejection cooldown (its scores alone would place it in "
        f"{LABELS.get(lifted_to, lifted_to)})."
    )


@dataclass(frozen=True)
class TierThreshold:
    enter: float
    exit: float
    min_fit: float


@dataclass(frozen=True)
class TierRules:
    thresholds: Mapping[str, TierThreshold]
    min_days_in_tier: float = 14
    surge_window_days: float = 7
    surge_delta: float = 20
    surge_hold_days: float = 14


@dataclass(frozen=True)
class Standing:
    """What is stored for the account now. `same_model`: the stored tier comes from the version placing it now."""

    tier: str | None = None
    since: dt.datetime | None = None
    surge_until: dt.datetime | None = None
    flags: tuple[str, ...] = ()
    same_model: bool = True


@dataclass(frozen=True)
class Placement:
    tier: str
    since: dt.datetime
    surge_until: dt.datetime | None
    flags: tuple[str, ...]
    candidate: str
    target: str
    surge_started: bool = False


def _n(value: float) -> str:
    return f"{value:g}"


def candidate_tier(thresholds: Mapping[str, TierThreshold], *, fit: float, unified: float, excluded: bool) -> str:
    if excluded:
        return SUPPRESS
    for tier in TIERS:
        rule = thresholds[tier]
        if unified >= rule.enter and fit >= rule.min_fit:
            return tier
    return RECYCLE


def surge_target(thresholds: Mapping[str, TierThreshold], candidate: str, *, fit: float) -> str:
    """The tier above the candidate when the fit meets its min_fit, else the candidate."""
    if candidate in (SUPPRESS, TIERS[0]):
        return candidate
    above = RANKED[RANKED.index(candidate) - 1]
    return above if fit >= thresholds[above].min_fit else candidate


def is_surging(rules: TierRules, *, signal: float, signal_then: float) -> bool:
    # Both scores are rounded to 1 decimal; the 1e-9 absorbs float noise (45.3 - 25.3 = 19.999999999999996).
    return signal - signal_then + 1e-9 >= rules.surge_delta


def place(
    rules: TierRules,
    standing: Standing,
    *,
    fit: float,
    signal: float,
    signal_then: float,
    unified: float,
    excluded: bool,
    now: dt.datetime,
) -> Placement:
    """Where the account goes now (before the capacity pass), from its rounded scores and its standing."""
    thresholds = rules.thresholds
    candidate = candidate_tier(thresholds, fit=fit, unified=unified, excluded=excluded)
    started = is_surging(rules, signal=signal, signal_then=signal_then)
    if started:
        surge_until = now + dt.timedelta(days=rules.surge_hold_days)
    elif standing.surge_until is not None and standing.surge_until > now:
        surge_until = standing.surge_until
    else:
        surge_until = None
    flags = [SURGE] if surge_until is not None else []
    target = surge_target(thresholds, candidate, fit=fit) if surge_until is not None else candidate
    current = standing.tier
    if excluded or current is None or current == SUPPRESS or not standing.same_model or ORDER[target] <= ORDER[current]:
        tier = target
    else:  # a worse target: hysteresis, then the minimum time in tier
        rule = thresholds.get(current)
        if rule is not None and unified >= rule.exit and fit >= rule.min_fit:
            tier = current
            flags.append(HYSTERESIS)
        elif standing.since is not None and now - standing.since < dt.timedelta(days=rules.min_days_in_tier):
            tier = current
            flags.append(MIN_DAYS)
        else:
            tier = target
    if tier == TIERS[0] and current == TIERS[1] and CAPACITY in standing.flags:
        tier = TIERS[1]  # still held by capacity: only the capacity pass releases it
        flags.append(CAPACITY)
    since = standing.since if tier == current and standing.since is not None else now
    return Placement(
        tier=tier,
        since=since,
        surge_until=surge_until,
        flags=tuple(sorted(flags)),
        candidate=candidate,
        target=target,
        surge_started=started,
    )


def tier_reason(
    thresholds: Mapping[str, TierThreshold],
    *,
    fit: float,
    unified: float,
    tier: str,
    flags: tuple[str, ...] | list[str] = (),
    surge_until: dt.datetime | None = None,
) -> str:
    """Why the account sits in `tier`, in words: the rule that put or keeps it there, and what the tier above needs."""
    if tier == SUPPRESS:
        return "Suppress: an exclusion criterion matches."
    flags = tuple(flags)
    parts = []
    candidate = candidate_tier(thresholds, fit=fit, unified=unified, excluded=False)
    if tier == RECYCLE and RECYCLED in flags:
        scores = f" (its scores alone would place it in {LABELS[candidate]})" if candidate != RECYCLE else ""
        return f"Recycle: sales sent it back; it stays in Recycle until the rejection cooldown ends{scores}."
    if CAPACITY in flags:
        parts.append(
            f"{LABELS[tier]}: held below Tier 1 because its territory's Tier 1 capacity is full and its unified "
            f"{_n(unified)} is among the lowest there"
        )
    elif tier != candidate and (HYSTERESIS in flags or MIN_DAYS in flags):
        rule = thresholds[tier]
        if HYSTERESIS in flags:
            parts.append(
                f"{LABELS[tier]}: kept while unified {_n(unified)} ≥ exit {_n(rule.exit)} and fit {_n(fit)} ≥ "
                f"{_n(rule.min_fit)} (its scores alone would place it in {LABELS[candidate]})"
            )
        else:
            parts.append(
                f"{LABELS[tier]}: kept for the minimum time in tier (its scores alone would place it in "
                f"{LABELS[candidate]})"
            )
    elif tier != candidate and SURGE in flags:
        until = f" until {surge_until:%Y-%m-%d}" if surge_until else ""
        parts.append(f"{LABELS[tier]}: one tier above {LABELS[candidate]} while it surges{until}")
    elif tier in TIERS:
        rule = thresholds[tier]
        parts.append(f"{LABELS[tier]}: unified {_n(unified)} ≥ {_n(rule.enter)} and fit {_n(fit)} ≥ {_n(rule.min_fit)}")
    else:
        parts.append(f"Recycle: unified {_n(unified)} and fit {_n(fit)} meet no tier's thresholds")
    needs = _above_needs(thresholds, fit=fit, unified=unified, tier=tier)
    if needs:
        parts.append(needs)
    return "; ".join(parts) + "."


def _above_needs(thresholds: Mapping[str, TierThreshold], *, fit: float, unified: float, tier: str) -> str:
    """What the tier above `tier` needs and which of the account's numbers fall short ("" at the top)."""
    above = RANKED[: RANKED.index(tier)] if tier in RANKED else ()
    if not above:
        return ""
    better = thresholds[above[-1]]
    missing = []
    if unified < better.enter:
        missing.append(f"unified is {_n(unified)}")
    if fit < better.min_fit:
        missing.append(f"fit is {_n(fit)}")
    return f"{LABELS[above[-1]]} needs unified ≥ {_n(better.enter)} and fit ≥ {_n(better.min_fit)}" + (
        f"; {' and '.join(missing)}" if missing else ""
    )


def move_reason(
    rules: TierRules,
    standing: Standing,
    placement: Placement,
    *,
    fit: float,
    signal: float,
    signal_then: float,
    unified: float,
) -> str:
    """Why the account moved from its standing's tier to the placement's, in words, with the numbers; for an
    account without a tier yet, why it is placed where it is ("Placed in Tier 3. Tier 3: unified 41 >= 35 ...")."""
    src, dst = standing.tier, placement.tier
    thresholds = rules.thresholds
    words = []
    if dst == SUPPRESS:
        return f"{'Placed in Suppress' if src is None else 'Suppressed'}: an exclusion criterion matches."
    if src == SUPPRESS:
        words.append("The exclusion no longer matches")
    elif src is not None and not standing.same_model:
        words.append("A new model version placed it")
    lifted = placement.surge_until is not None and placement.target != placement.candidate and dst == placement.target
    if lifted:
        words.append(
            f"surging: signal {_n(signal)} is {_n(round(signal - signal_then, 1))} above its "
            f"{_n(rules.surge_window_days)}-day-old {_n(signal_then)} (≥ {_n(rules.surge_delta)}), so one tier above "
            f"{LABELS[placement.candidate]} until {placement.surge_until:%Y-%m-%d}"
        )
    elif src is not None and src != SUPPRESS and ORDER[dst] > ORDER[src] and src in thresholds and standing.same_model:
        rule = thresholds[src]
        why = []
        if unified < rule.exit:
            why.append(f"unified {_n(unified)} < {LABELS[src]} exit {_n(rule.exit)}")
        if fit < rule.min_fit:
            why.append(f"fit {_n(fit)} < {LABELS[src]} minimum fit {_n(rule.min_fit)}")
        if standing.surge_until is not None and placement.surge_until is None:
            why.insert(0, "its surge ended")
        words.append(" and ".join(why) + f", after at least {_n(rules.min_days_in_tier)} days in tier")
    if lifted:  # the words say why it sits above its candidate; the thresholds of `dst` are not met
        needs = _above_needs(thresholds, fit=fit, unified=unified, tier=dst)
        body = needs + "." if needs else ""
    else:
        body = tier_reason(thresholds, fit=fit, unified=unified, tier=dst)
    if src is None:
        lead = f"Placed in {LABELS[dst]}"
    else:
        lead = f"{'Up' if src == SUPPRESS or ORDER[dst] < ORDER[src] else 'Down'} to {LABELS[dst]}"
    return (lead + (": " + "; ".join(w for w in words if w) if words else "") + ". " + body).strip()


def capacity_reason(territory: str, capacity: int, *, unified: float, held: bool, placed: bool = False) -> str:
    """Why the capacity pass held an account at Tier 2 or released it to Tier 1; `placed`: held on its first
    placement (it had no tier before)."""
    if held:
        lead = "Placed in Tier 2" if placed else "Held at Tier 2"
        return (
            f"{lead}: Tier 1 of {territory} is full ({capacity} places) and unified {_n(unified)} is among "
            "the lowest of its Tier 1 accounts."
        )
    return f"Up to Tier 1: a Tier 1 place freed up in {territory} ({capacity} places); unified {_n(unified)}."
