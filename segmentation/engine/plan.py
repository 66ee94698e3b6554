"""What a slice of scoring works on: which accounts (Selection), the model read once (Plan), and an account's new
score and placement (Row)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..definition import scoring_params, tier_rules
from ..models import ScoringModel, TierChange
from ..scoring import (
    ScoringParams,
)
from ..tiers import PLACED, Placement, Standing, TierRules, move_reason

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

    @property
    def placed(self) -> bool:
        """Its first placement: the account had no tier (no stored score) before."""
        return self.standing.tier is None

    @property
    def recorded(self) -> bool:
        """Whether its store writes a TierChange: a move, or a first placement."""
        return self.placed or self.moved

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
        """The TierChange of its move or first placement (from PLACED)."""
        return TierChange(
            account_id=self.account_id,
            model_id=plan.model.pk,
            from_tier=PLACED if self.placed else self.standing.tier,
            to_tier=self.placement.tier,
            reason=self.move_reason(plan.rules),
            fit=self.fit,
            signal=self.signal,
            unified=self.unified,
            at=as_of,
        )
