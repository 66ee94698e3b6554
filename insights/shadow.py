"""Champion and challenger: how the version running in shadow would have ranked the accounts whose deals closed,
beside the active version, on the same accounts.

For the accounts in the user's KPI scope with a deal closed in the period and both a live and a shadow score, each
side's unified score is read against the outcome (the account won at least one of those deals):
- conversion by score band (0-20 ... 80-100): the share of the band's accounts that won, with its Wilson interval;
- score-to-win: the AUC (the chance that a winning account scores above a losing one; 0.5 is a coin toss) with
  the Hanley-McNeil interval, and the point-biserial correlation of score and outcome with its Fisher interval.
Both sides read the same accounts, so their figures differ by the scores alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from django.db.models import Count, Exists, OuterRef
from scipy.stats import rankdata

from accounts.models import Opportunity
from core.stats import CorrelationSums, pearson, wilson_interval
from core.tiers import LABELS, ORDER
from insights.recalibration.maths import auc_interval
from segmentation.models import AccountScore, ScoringModel, ShadowScore
from segmentation.selectors import active_model

from .kpis.definitions import BANDS
from .kpis.shapes import Period, kpi_scope_q

# Below these, the comparison says there are too few closed deals rather than show figures that mean nothing.
MIN_ACCOUNTS = 30
MIN_OUTCOME = 5  # winning and losing accounts each


@dataclass
class Band:
    label: str
    wins: int
    n: int

    @property
    def rate(self) -> float | None:
        return 100.0 * self.wins / self.n if self.n else None

    @property
    def interval(self) -> tuple[float, float] | None:
        return wilson_interval(self.wins, self.n)


@dataclass
class Side:
    """One version's figures on the compared accounts."""

    name: str
    model: ScoringModel | None
    bands: list[Band] = field(default_factory=list)
    auc: float | None = None
    auc_interval: tuple[float, float] | None = None
    r: float | None = None
    r_interval: tuple[float, float] | None = None


@dataclass
class Comparison:
    period: Period
    shadow: ScoringModel | None
    active: ScoringModel | None
    n: int = 0
    wins: int = 0
    sides: list[Side] = field(default_factory=list)
    tiers: list[dict] = field(default_factory=list)  # live tier and shadow candidate tier counts, in the user's scope
    message: str = ""

    @property
    def too_few(self) -> bool:
        return self.n < MIN_ACCOUNTS or self.wins < MIN_OUTCOME or self.n - self.wins < MIN_OUTCOME

    @property
    def losses(self) -> int:
        return self.n - self.wins


def band_of(score: float) -> int:
    """The index of the score's band in BANDS (100 falls in the top band)."""
    for index, (_, high) in enumerate(BANDS[:-1]):
        if score < high:
            return index
    return len(BANDS) - 1


def auc_of(scores: np.ndarray, won: np.ndarray) -> float | None:
    """The AUC by the Mann-Whitney statistic (ties count a half): (rank sum of the winners - w(w+1)/2) / (w·l)."""
    wins = int(won.sum())
    losses = len(won) - wins
    if wins == 0 or losses == 0:
        return None
    ranks = rankdata(scores)
    return float((ranks[won].sum() - wins * (wins + 1) / 2) / (wins * losses))


def side_figures(name: str, model: ScoringModel | None, scores: np.ndarray, won: np.ndarray) -> Side:
    side = Side(name=name, model=model)
    counts = [[0, 0] for _ in BANDS]
    for score, outcome in zip(scores.tolist(), won.tolist(), strict=True):
        band = counts[band_of(score)]
        band[0] += int(outcome)
        band[1] += 1
    side.bands = [Band(f"{low}-{high}", wins, n) for (low, high), (wins, n) in zip(BANDS, counts, strict=True)]
    wins = int(won.sum())
    side.auc = auc_of(scores, won)
    if side.auc is not None and wins > 1 and len(won) - wins > 1:
        side.auc_interval = auc_interval(side.auc, wins, len(won) - wins)
    y = won.astype(float)
    correlation = pearson(
        CorrelationSums(
            n=len(scores),
            sx=float(scores.sum()),
            sy=float(y.sum()),
            sxx=float((scores * scores).sum()),
            syy=float((y * y).sum()),
            sxy=float((scores * y).sum()),
        )
    )
    side.r, side.r_interval = correlation.r, correlation.interval
    return side


def _scoped(queryset, user):
    q = kpi_scope_q(user=user, prefix="account__")
    return (queryset if q is None else queryset.filter(q)).order_by()


def shadow_comparison(*, user, period: Period) -> Comparison:
    """The active version and the one in shadow side by side on the accounts whose deals closed in the period."""
    shadow = ScoringModel.objects.select_related("icp").filter(in_shadow=True).first()
    active = active_model()
    comparison = Comparison(period=period, shadow=shadow, active=active)
    if shadow is None:
        comparison.message = "No version runs in shadow. Start one from a draft's page (Scoring models)."
        return comparison
    closed = Opportunity.objects.filter(period.dates_q("closed_on"), is_closed=True)
    won = closed.filter(is_won=True, account_id=OuterRef("account_id"))
    rows = list(
        _scoped(ShadowScore.objects.filter(model=shadow, account__score__isnull=False), user)
        .filter(account_id__in=closed.values("account_id"))
        .annotate(won=Exists(won))
        .values_list("account__score__unified", "unified", "won")
    )
    comparison.tiers = shadow_tier_counts(user, shadow)
    comparison.n = len(rows)
    if not rows:
        comparison.message = (
            f"No account in your scope with both scores had a deal closed {period_phrase(period)}: "
            "there is nothing to compare yet."
        )
        comparison.sides = [Side("Active", active), Side("In shadow", shadow)]
        return comparison
    values = np.array(rows, dtype=float)
    outcome = values[:, 2].astype(bool)
    comparison.wins = int(outcome.sum())
    comparison.sides = [
        side_figures("Active", active, values[:, 0], outcome),
        side_figures("In shadow", shadow, values[:, 1], outcome),
    ]
    if comparison.too_few:
        comparison.message = (
            f"Too few closed deals to compare: {comparison.n:,} accounts closed a deal {period_phrase(period)} "
            f"({comparison.wins:,} won, {comparison.losses:,} lost). The figures below mean little until at least "
            f"{MIN_ACCOUNTS} accounts, {MIN_OUTCOME} of them won and {MIN_OUTCOME} lost, have closed deals."
        )
    return comparison


def period_phrase(period: Period) -> str:
    """The period after "closed": "in all time", "from 2026-01-01 to 2026-03-31", "since 2026-01-01"."""
    words = period.words()
    return "in all time" if words == "all time" else ("from " + words if " to " in words else words)


def shadow_tier_counts(user, shadow: ScoringModel) -> list[dict]:
    """Per tier, the accounts in the user's scope it holds live and those the shadow version's scores alone would
    place in it (their candidate tier)."""
    live = dict(_scoped(AccountScore.objects.all(), user).values_list("tier").annotate(n=Count("pk")))
    candidate = dict(_scoped(shadow.shadow_scores.all(), user).values_list("tier").annotate(n=Count("pk")))
    return [
        {"tier": tier, "label": LABELS[tier], "live": live.get(tier, 0), "shadow": candidate.get(tier, 0)}
        for tier in sorted(ORDER, key=ORDER.get)
    ]
