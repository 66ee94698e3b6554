"""A scoring model's definition: which attributes criteria may read, what makes a definition valid, and the plain
values (`ScoringParams`, tier thresholds) the scoring and tier modules take. Forms and the API validate through here.
"""

from __future__ import annotations

import math
from typing import Any

from accounts.criteria import as_number, criterion_from_dict
from accounts.imports.fields import FieldError, signal_kind
from accounts.models import Contact
from core.tiers import Tier

from .models import GroupRollup, ScoringModel
from .scoring import ScoringParams, SignalRule
from .tiers import TierRules, TierThreshold

PERSONAS = [choice.value for choice in Contact.Persona]
PERSONA_LABELS = {choice.value: choice.label for choice in Contact.Persona}
WEIGHT_TOLERANCE = 1e-6
# The model's numbers as pages name them (the editor's labels, the version history, the problems before publishing).
NUMBER_LABELS = {
    "w_fit": "Fit weight",
    "w_signal": "Signal weight",
    "w_coverage": "Coverage weight",
    "full_signal_points": "Signal points for a score of 100",
    "lookback_days": "Signal lookback (days)",
    "engagement_window_days": "Buying-group engagement window (days)",
    **{
        f"tier{n}_{part}": f"Tier {n} {words}"
        for n in (1, 2, 3)
        for part, words in (("enter", "entry threshold"), ("exit", "exit threshold"), ("min_fit", "minimum fit"))
    },
    "min_days_in_tier": "Minimum days in a tier",
    "surge_window_days": "Surge window (days)",
    "surge_delta": "Surge rise (signal points)",
    "surge_hold_days": "Surge hold (days)",
    "mqa_signal_min": "MQA minimum signal",
    "rejection_cooldown_days": "Cooldown after a rejection (days)",
    "contact_cap": "Signal points per contact",
}
# The model's other settings as pages name them.
SETTING_LABELS = {
    **NUMBER_LABELS,
    "icp": "ICP",
    "signal_rules": "Signal rules",
    "required_personas": "Required personas",
    "mqa_tiers": "MQA tiers",
    "group_rollup": "Group score",
}


def persona_label(persona: str) -> str:
    """ "Economic buyer" for economic_buyer."""
    return PERSONA_LABELS.get(persona) or str(persona).replace("_", " ").capitalize()


def signal_kind_label(kind: str) -> str:
    """ "Web visit" for web_visit; an admin-defined kind likewise."""
    return str(kind or "").replace("_", " ").strip().capitalize()


def signal_rules_normal(rules: list[dict]) -> list[dict]:
    """Valid rules with their kinds written as signals store them ("Web Visit " -> web_visit), so a rule can
    match."""
    return [{**rule, "kind": signal_kind(rule.get("kind"))} for rule in rules]


def signal_rule_errors(rules: Any) -> dict[int, dict]:
    """Index -> {field: message} for signal rules. A kind is read as the importer reads a signal's kind: case,
    spaces and dashes normalised to lower_snake_case; two rules for one kind once normalised are refused."""
    if not isinstance(rules, list):
        return {-1: {"signal_rules": "Signal rules are a list."}}
    found: dict[int, dict] = {}
    seen = set()
    for index, rule in enumerate(rules):
        errors = {}
        if not isinstance(rule, dict):
            found[index] = {"kind": "A signal rule is an object with kind, points, half_life_days and max_points."}
            continue
        try:
            kind = signal_kind(rule.get("kind"))
        except FieldError as exc:
            kind, errors["kind"] = None, f"{exc}."
        if kind is None:
            errors.setdefault("kind", "Name the signal kind.")
        elif kind in seen:
            errors["kind"] = f"{kind} has two rules; keep one."
        seen.add(kind)
        for name, low, message in (
            ("points", 0, "Points must be a number above 0."),
            ("half_life_days", 0, "The half-life must be more than 0 days."),
            ("max_points", 0, "The cap must be a number above 0."),
        ):
            number = as_number(rule.get(name))
            if number is None or not math.isfinite(number) or number <= low:
                errors[name] = message
        if errors:
            found[index] = errors
    return found


def model_errors(values: dict) -> dict[str, str]:
    """Field -> message for a model's numbers (weights, thresholds, windows); empty when they are valid."""
    errors: dict[str, str] = {}
    weights = [values.get(w) for w in ("w_fit", "w_signal", "w_coverage")]
    if all(isinstance(w, int | float) for w in weights):
        if any(w < 0 for w in weights):
            errors["w_fit"] = "Weights cannot be negative."
        elif abs(sum(weights) - 1) > WEIGHT_TOLERANCE:
            errors["w_fit"] = f"The weights must sum to 1; they sum to {sum(weights):g}."
    for number in (1, 2, 3):
        enter, exit_, min_fit = (values.get(f"tier{number}_{k}") for k in ("enter", "exit", "min_fit"))
        for name, value in (
            (f"tier{number}_enter", enter),
            (f"tier{number}_exit", exit_),
            (f"tier{number}_min_fit", min_fit),
        ):
            if isinstance(value, int | float) and not 0 <= value <= 100:
                errors[name] = "Thresholds lie between 0 and 100."
        if isinstance(enter, int | float) and isinstance(exit_, int | float) and exit_ > enter:
            errors[f"tier{number}_exit"] = f"Tier {number} exit ({exit_:g}) must not be above its enter ({enter:g})."
    enters = [values.get(f"tier{n}_enter") for n in (1, 2, 3)]
    if all(isinstance(e, int | float) for e in enters) and not enters[0] >= enters[1] >= enters[2]:
        errors.setdefault("tier2_enter", "Enter thresholds must not rise from Tier 1 to Tier 3.")
    full = values.get("full_signal_points")
    if isinstance(full, int | float) and full <= 0:
        errors["full_signal_points"] = "Full signal points must be above 0."
    for name in ("lookback_days", "engagement_window_days", "surge_window_days", "surge_hold_days"):
        value = values.get(name)
        if isinstance(value, int) and not 1 <= value <= 3650:
            errors[name] = "Between 1 and 3,650 days."
    delta = values.get("surge_delta")
    if isinstance(delta, int | float) and not 0 < delta <= 100:
        errors["surge_delta"] = "A surge is a rise of the signal score: above 0 and at most 100 points."
    mqa_min = values.get("mqa_signal_min")
    if isinstance(mqa_min, int | float) and not 0 <= mqa_min <= 100:
        errors["mqa_signal_min"] = "Between 0 and 100 (a signal score)."
    for name in ("min_days_in_tier", "rejection_cooldown_days"):
        value = values.get(name)
        if isinstance(value, int) and not 0 <= value <= 3650:
            errors[name] = "Between 0 and 3,650 days."
    cap = values.get("contact_cap")
    if cap is not None and (not isinstance(cap, int | float) or not math.isfinite(cap) or cap <= 0):
        errors["contact_cap"] = "A contact's cap is a number of signal points above 0; leave it blank for no cap."
    rollup = values.get("group_rollup")
    if rollup is not None and rollup not in GroupRollup.values:
        errors["group_rollup"] = (
            "Choose how a group is scored: "
            + " or ".join(f"{label.lower()} ({value})" for value, label in GroupRollup.choices)
            + "."
        )
    personas = values.get("required_personas")
    if personas is not None:
        if not isinstance(personas, list) or any(p not in PERSONAS for p in personas):
            errors["required_personas"] = f"Personas are among: {', '.join(PERSONAS)}."
        elif len(set(personas)) != len(personas):
            errors["required_personas"] = "Each persona once."
    tiers = values.get("mqa_tiers")
    if tiers is not None and (not isinstance(tiers, list) or any(t not in Tier.values for t in tiers)):
        errors["mqa_tiers"] = "MQA tiers are among tier_1, tier_2, tier_3."
    return errors


def scoring_params(model: ScoringModel) -> ScoringParams:
    criteria, exclusions = model.current_criteria()
    return ScoringParams(
        criteria=tuple(criterion_from_dict(c) for c in criteria),
        exclusions=tuple(criterion_from_dict(c) for c in exclusions),
        signal_rules=tuple(
            SignalRule(
                kind=str(r["kind"]).strip(),
                points=float(r["points"]),
                half_life_days=float(r["half_life_days"]),
                max_points=float(r["max_points"]),
            )
            for r in model.signal_rules or []
        ),
        required_personas=tuple(model.required_personas or ()),
        w_fit=model.w_fit,
        w_signal=model.w_signal,
        w_coverage=model.w_coverage,
        full_signal_points=model.full_signal_points,
        lookback_days=float(model.lookback_days),
        engagement_window_days=float(model.engagement_window_days),
        contact_cap=None if model.contact_cap is None else float(model.contact_cap),
    )


def tier_thresholds(model: ScoringModel) -> dict[str, TierThreshold]:
    return {tier: TierThreshold(*values) for tier, values in model.tier_thresholds().items()}


def tier_rules(model: ScoringModel) -> TierRules:
    return TierRules(
        thresholds=tier_thresholds(model),
        min_days_in_tier=float(model.min_days_in_tier),
        surge_window_days=float(model.surge_window_days),
        surge_delta=float(model.surge_delta),
        surge_hold_days=float(model.surge_hold_days),
    )
