"""The proposal: the regression turned into a complete scoring model in the product's own language.

**Points.** Every regression term becomes points on one scale S = 100 / the largest |coefficient| of a criterion
(log-odds per match), so the strongest criterion scores +100 or -100 and a penalty is a negative number of points:
- a criterion: round(S x its coefficient) points, in its attribute's group (a missing value scores 0: the reference
  the coefficients are measured from); a criterion worth less than a point is dropped, and said so;
- a signal kind: a signal rule with S x its coefficient points per signal (two decimals), the half-life chosen among
  the candidates, and a cap of points x the cap in signals, so the rule adds exactly what the term adds. A kind whose
  coefficient is not above 0 once everything else is known is dropped: signal rules only add points.
**Blend.** fit = 100 x fit_raw / fit_max and signal = 100 x signal_raw / full_signal_points with full_signal_points =
the sum of the caps (no account reaches the 100 clamp), so with w_fit = fit_max / (fit_max + full_signal_points),
w_signal = the rest and no coverage weight (coverage is not a candidate), unified = 100 x (fit_raw + signal_raw) /
(fit_max + full_signal_points): the regression's linear predictor, shifted and scaled, up to the rounding of points.
**Floor.** Fit is clamped at 0, so penalties that sum below 0 would flatten the accounts under it. When some account
would fall below 0, the points of one group that every account matches once (a complete group: bands of a number no
account lacks, or a text field whose every value is listed) all rise by the deficit: every account gains the same,
and nobody is clamped. With no complete group the clamp stays, and the report says how many accounts it flattens.
**Tiers.** Thresholds are cut so that the scored accounts fall into Tier 1, 2, 3 and Recycle in the target mix (per
cent; by default the mix the active model has now): Tier k's enter is the unified score of the account at that
cumulative share, its exit keeps the active model's distance below enter (hysteresis), and the minimum-fit guardrails
are 0, since fit is now the regression's share of the evidence rather than a yardstick of its own (an admin may set
them in the draft). MQA settings, surge settings, exclusions and the buying group are kept.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from segmentation.scoring import round1

from .features import Candidate
from .maths import TIERS_IN_MIX

DEFAULT_MIX = [10.0, 20.0, 30.0, 40.0]
DEFAULT_GAP = 5.0


@dataclass
class PointsModel:
    criteria: list[dict]  # {group, attribute, operator, value, points}
    signal_rules: list[dict]  # {kind, points, half_life_days, max_points}
    scale: float
    dropped: list[dict] = field(default_factory=list)  # {name, label, reason}
    floor: dict | None = None  # {group, points} when one group carries the floor
    clamped: int = 0  # accounts whose fit the clamp at 0 still flattens

    @property
    def fit_max(self) -> float:
        best: dict[str, float] = {}
        for criterion in self.criteria:
            best[criterion["group"]] = max(best.get(criterion["group"], -math.inf), criterion["points"])
        return float(sum(max(0.0, p) for p in best.values()))

    @property
    def full_signal_points(self) -> float:
        return float(sum(rule["max_points"] for rule in self.signal_rules))

    def weights(self) -> dict[str, float]:
        fit_max, full = self.fit_max, self.full_signal_points
        if fit_max + full <= 0:
            return {"w_fit": 1.0, "w_signal": 0.0, "w_coverage": 0.0}
        w_fit = round(fit_max / (fit_max + full), 6)
        return {"w_fit": w_fit, "w_signal": round(1.0 - w_fit, 6), "w_coverage": 0.0}


def points_from_fit(candidates: Sequence[Candidate], coefficients: np.ndarray) -> PointsModel:
    """Points for every candidate from its coefficient (per unit of its column). See the module docstring."""
    criteria = [(c, float(b)) for c, b in zip(candidates, coefficients, strict=True) if c.kind == "criterion"]
    signals = [(c, float(b)) for c, b in zip(candidates, coefficients, strict=True) if c.kind == "signal"]
    top = max((abs(b) for _c, b in criteria), default=0.0)
    if top <= 0:
        top = max((b * c.signal["cap"] for c, b in signals if b > 0), default=0.0)
    scale = 100.0 / top if top > 0 else 1.0
    model = PointsModel(criteria=[], signal_rules=[], scale=scale)
    for candidate, coefficient in criteria:
        points = round(scale * coefficient)
        if points == 0:
            model.dropped.append(_dropped(candidate, "worth less than a point once everything else is known"))
            continue
        model.criteria.append({**candidate.criterion, "points": points})
    for candidate, coefficient in signals:
        points = round(scale * coefficient, 2)
        if points < 0.01:
            model.dropped.append(
                _dropped(candidate, "adds nothing once everything else is known (signal rules only add points)")
            )
            continue
        rule = candidate.signal
        model.signal_rules.append(
            {
                "kind": rule["kind"],
                "points": points,
                "half_life_days": rule["half_life_days"],
                "max_points": round(points * rule["cap"], 2),
            }
        )
    return model


def _dropped(candidate: Candidate, reason: str) -> dict:
    return {"name": candidate.name, "label": candidate.label, "reason": reason}


def _group_scores(criteria: list[dict], columns: dict[str, np.ndarray], rows: int) -> dict[str, np.ndarray]:
    """Each group's score per row: the highest points among its matched criteria, 0 when none matched."""
    by_group: dict[str, list[tuple[np.ndarray, float]]] = {}
    for criterion in criteria:
        by_group.setdefault(criterion["group"], []).append((columns[_key(criterion)], float(criterion["points"])))
    scores = {}
    for group, members in by_group.items():
        best = np.full(rows, -np.inf)
        for column, points in members:
            best = np.where(column > 0, np.maximum(best, points), best)
        scores[group] = np.where(np.isfinite(best), best, 0.0)
    return scores


def _key(criterion: dict) -> str:
    return f"{criterion['attribute']}:{criterion['operator']}:{criterion['value']}"


def fit_raw(model: PointsModel, columns: dict[str, np.ndarray], rows: int) -> np.ndarray:
    scores = _group_scores(model.criteria, columns, rows)
    return np.sum(list(scores.values()), axis=0) if scores else np.zeros(rows)


def apply_floor(model: PointsModel, candidates: Sequence[Candidate], columns: dict[str, np.ndarray], rows: int) -> None:
    """Lift one complete group by the deficit when some account's fit_raw would fall below 0 (module docstring)."""
    lowest = float(fit_raw(model, columns, rows).min()) if rows else 0.0
    if lowest >= 0:
        return
    deficit = math.ceil(-lowest)
    groups: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        if candidate.kind == "criterion":
            groups.setdefault(candidate.criterion["group"], []).append(candidate)
    best = None
    for group, members in groups.items():
        matched = np.sum([columns[_key(m.criterion)] for m in members], axis=0)
        if rows and np.all(matched == 1):
            points = [c["points"] for c in model.criteria if c["group"] == group]
            strength = max(points, default=0) - min(points, default=0)
            if best is None or strength > best[0]:
                best = (strength, group, members)
    if best is None:
        model.clamped = int((fit_raw(model, columns, rows) < 0).sum())
        return
    _strength, group, members = best
    old = {_key(c): c["points"] for c in model.criteria if c["group"] == group}
    model.criteria = [c for c in model.criteria if c["group"] != group]
    for member in members:
        model.criteria.append({**member.criterion, "points": int(old.get(_key(member.criterion), 0) + deficit)})
    model.floor = {"group": group, "points": deficit}


def unified_scores(model: PointsModel, columns: dict[str, np.ndarray], signal_sums: dict[str, np.ndarray], rows: int):
    """(fit, signal, unified) per row, as the scoring computes them and stores them (rounded to 0.1)."""
    raw = fit_raw(model, columns, rows)
    fit_max = model.fit_max
    fit = np.clip(100.0 * raw / fit_max, 0, 100) if fit_max > 0 else np.zeros(rows)
    signal_raw = np.zeros(rows)
    for rule in model.signal_rules:
        signal_raw += np.minimum(rule["points"] * signal_sums[rule["kind"]], rule["max_points"])
    full = model.full_signal_points
    signal = np.minimum(100.0, 100.0 * signal_raw / full) if full > 0 else np.zeros(rows)
    w = model.weights()
    unified = w["w_fit"] * fit + w["w_signal"] * signal
    rounded = np.array([round1(float(u)) for u in unified]) if rows else unified
    return fit, signal, rounded


def thresholds_for_mix(unified: np.ndarray, mix: Sequence[float], gaps: Sequence[float]) -> tuple[dict, list[float]]:
    """Enter thresholds cutting the scores (one per scored account) at the target mix's cumulative shares, exits
    `gaps` below them, minimum fit 0; and the mix those thresholds give (per cent, Tier 1, 2, 3, Recycle)."""
    values = np.sort(np.asarray(unified, dtype=float))[::-1]
    n = len(values)
    settings: dict[str, float] = {}
    enters = []
    cumulative = 0.0
    for number in (1, 2, 3):
        cumulative += mix[number - 1]
        count = int(round(n * cumulative / 100.0))
        if n == 0:
            enter = 100.0
        elif count <= 0:
            enter = min(100.0, round1(float(values[0]) + 0.1))
        else:
            enter = round1(float(values[min(count, n) - 1]))
        if enters:
            enter = min(enter, enters[-1])
        enters.append(enter)
        settings[f"tier{number}_enter"] = enter
        settings[f"tier{number}_exit"] = max(0.0, round1(enter - gaps[number - 1]))
        settings[f"tier{number}_min_fit"] = 0.0
    achieved = mix_of(values, enters)
    return settings, achieved


def mix_of(unified: np.ndarray, enters: Sequence[float]) -> list[float]:
    """The share (per cent) of scores in each tier by the enter thresholds alone (no hysteresis, no guardrail)."""
    n = len(unified)
    if not n:
        return [0.0] * len(TIERS_IN_MIX)
    counts = []
    above = 0
    for enter in enters:
        at_least = int((unified >= enter).sum())
        counts.append(at_least - above)
        above = at_least
    counts.append(n - above)
    return [round(100.0 * c / n, 1) for c in counts]


def gaps_of(model) -> list[float]:
    """The active model's distance from enter down to exit per tier (DEFAULT_GAP without one)."""
    if model is None:
        return [DEFAULT_GAP] * 3
    return [max(0.0, getattr(model, f"tier{k}_enter") - getattr(model, f"tier{k}_exit")) for k in (1, 2, 3)]
