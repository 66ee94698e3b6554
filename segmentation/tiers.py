"""Tier placement from an account's stored (rounded) scores. Plain values in, a tier and its reason out; no ORM.

Tiers, best first: tier_1, tier_2, tier_3, recycle; `suppress` stands apart.
1. An exclusion match -> suppress.
2. candidate = the best tier k with unified >= enter_k and fit >= min_fit_k (the guardrail: signals cannot
   override misfit), else recycle.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

TIERS = ("tier_1", "tier_2", "tier_3")
RECYCLE, SUPPRESS = "recycle", "suppress"
LABELS = {"tier_1": "Tier 1", "tier_2": "Tier 2", "tier_3": "Tier 3", RECYCLE: "Recycle", SUPPRESS: "Suppress"}
ORDER = {tier: rank for rank, tier in enumerate((*TIERS, RECYCLE, SUPPRESS))}


@dataclass(frozen=True)
class TierThreshold:
    enter: float
    exit: float
    min_fit: float


def candidate_tier(thresholds: Mapping[str, TierThreshold], *, fit: float, unified: float, excluded: bool) -> str:
    if excluded:
        return SUPPRESS
    for tier in TIERS:
        rule = thresholds[tier]
        if unified >= rule.enter and fit >= rule.min_fit:
            return tier
    return RECYCLE


def _n(value: float) -> str:
    return f"{value:g}"


def tier_reason(thresholds: Mapping[str, TierThreshold], *, fit: float, unified: float, tier: str) -> str:
    """Why the account sits in `tier`, in words: the rule it met, and what the tier above would need."""
    if tier == SUPPRESS:
        return "Suppress: an exclusion criterion matches."
    parts = []
    if tier in TIERS:
        rule = thresholds[tier]
        parts.append(
            f"{LABELS[tier]}: unified {_n(unified)} >= {_n(rule.enter)} and fit {_n(fit)} >= {_n(rule.min_fit)}"
        )
        above = TIERS[: TIERS.index(tier)]
    else:
        parts.append(f"Recycle: unified {_n(unified)} and fit {_n(fit)} meet no tier's thresholds")
        above = TIERS
    if above:
        better = thresholds[above[-1]]
        missing = []
        if unified < better.enter:
            missing.append(f"unified is {_n(unified)}")
        if fit < better.min_fit:
            missing.append(f"fit is {_n(fit)}")
        parts.append(
            f"{LABELS[above[-1]]} needs unified >= {_n(better.enter)} and fit >= {_n(better.min_fit)}"
            + (f"; {' and '.join(missing)}" if missing else "")
        )
    return "; ".join(parts) + "."
