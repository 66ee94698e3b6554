"""A scoring model's definition: which attributes criteria may read, what makes a definition valid, and the plain
values (`ScoringParams`, tier thresholds) the scoring and tier modules take. Forms and the API validate through here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from django.db import connection

from accounts.models import Account, Contact

from .models import ScoringModel, Tier
from .scoring import OPERATORS, Criterion, ScoringParams, SignalRule, _number, criterion_problem
from .tiers import TierRules, TierThreshold

TEXT, NUMBER, LIST, BOOLEAN, ANY = "text", "number", "list", "boolean", "any"
# Account fields criteria may read, with their type; any other name is a key of the account's `attributes`.
FIELD_TYPES = {
    "name": TEXT,
    "domain": TEXT,
    "external_id": TEXT,
    "industry": TEXT,
    "country": TEXT,
    "region": TEXT,
    "city": TEXT,
    "employee_count": NUMBER,
    "annual_revenue": NUMBER,
    "year_founded": NUMBER,
    "technologies": LIST,
    "is_customer": BOOLEAN,
}
OPERATORS_BY_TYPE = {
    TEXT: ("eq", "neq", "in", "not_in", "contains", "exists"),
    NUMBER: ("eq", "neq", "in", "not_in", "gte", "lte", "between", "exists"),
    LIST: ("eq", "neq", "in", "not_in", "contains", "exists"),
    BOOLEAN: ("eq", "neq", "exists"),
    ANY: OPERATORS,
}
PERSONAS = [choice.value for choice in Contact.Persona]
WEIGHT_TOLERANCE = 1e-6


def attribute_keys(names: Iterable[str] | None = None) -> set[str]:
    """The keys found in accounts' `attributes`: names criteria may use besides the account's fields. With `names`,
    only which of those are found (one look-up each, which stops at the first account that has it, rather than a
    scan of every account's keys)."""
    table = Account._meta.db_table
    with connection.cursor() as cursor:
        if names is not None and connection.vendor == "postgresql":
            found = set()
            for name in sorted(set(names)):
                cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {table} WHERE attributes ? %s)", [name])  # noqa: S608  # nosec B608  # the table name is the model's; the key is a parameter
                if cursor.fetchone()[0]:
                    found.add(name)
            return found
        if connection.vendor == "postgresql":
            cursor.execute(f"SELECT DISTINCT jsonb_object_keys(attributes) FROM {table} WHERE attributes <> '{{}}'")  # noqa: S608  # nosec B608  # the table name is the model's; no input in the SQL
        else:
            cursor.execute(f"SELECT DISTINCT j.key FROM {table}, json_each({table}.attributes) j")  # noqa: S608  # nosec B608  # the table name is the model's; no input in the SQL
        keys = {row[0] for row in cursor.fetchall()}
    return keys if names is None else keys & set(names)


def attribute_type(name: str) -> str:
    return FIELD_TYPES.get(name, ANY)


def known_attributes() -> list[str]:
    return sorted(set(FIELD_TYPES) | attribute_keys())


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool) or (isinstance(value, str) and value.strip().lower() in ("true", "false"))


def criterion_errors(data: Any, *, keys: set[str], with_points: bool) -> dict[str, str]:
    """Field -> message for one criterion given as a dict; empty when it is valid."""
    if not isinstance(data, dict):
        return {"attribute": "A criterion is an object with attribute, operator and value."}
    errors: dict[str, str] = {}
    attribute = str(data.get("attribute") or "").strip()
    operator = data.get("operator")
    value = data.get("value")
    if not attribute:
        errors["attribute"] = "Choose an attribute."
    elif attribute not in FIELD_TYPES and attribute not in keys:
        errors["attribute"] = (
            f"Unknown attribute {attribute!r}: use an account field ({', '.join(FIELD_TYPES)}) "
            "or a key found in accounts' attributes."
        )
    if operator not in OPERATORS:
        errors["operator"] = f"Unknown operator {operator!r}: use one of {', '.join(OPERATORS)}."
    elif "attribute" not in errors:
        kind = attribute_type(attribute)
        if operator not in OPERATORS_BY_TYPE[kind]:
            errors["operator"] = (
                f"`{operator}` does not apply to {attribute} ({kind}); use one of {', '.join(OPERATORS_BY_TYPE[kind])}."
            )
        else:
            problem = criterion_problem(operator, value)
            values = value if isinstance(value, list) else [value]
            if problem:
                errors["value"] = problem
            elif (
                kind == NUMBER and operator in ("eq", "neq", "in", "not_in") and any(_number(v) is None for v in values)
            ):
                errors["value"] = f"{attribute} is a number: compare it with numbers."
            elif kind == BOOLEAN and operator in ("eq", "neq") and not _is_bool(value):
                errors["value"] = f"{attribute} is true or false."
            elif operator == "between" and float(value[0]) > float(value[1]):
                errors["value"] = "`between` needs the low value first."
    if with_points:
        points = data.get("points")
        number = _number(points)
        if number is None or not math.isfinite(number):
            errors["points"] = "Points must be a number (negative for a penalty)."
        elif abs(number) > 10_000:
            errors["points"] = "Points must lie between -10,000 and 10,000."
    group = data.get("group")
    if group is not None and not isinstance(group, str):
        errors["group"] = "A group is a name."
    elif group and len(group) > 120:
        errors["group"] = "A group name has at most 120 characters."
    return errors


def criteria_errors(items: Any, *, keys: set[str] | None = None, with_points: bool = True) -> dict[int, dict]:
    """Index -> {field: message} for a list of criteria; {-1: {...}} when it is not a list at all."""
    if not isinstance(items, list):
        return {-1: {"criteria": "Criteria are a list."}}
    if keys is None:
        names = {str(item.get("attribute") or "").strip() for item in items if isinstance(item, dict)}
        keys = attribute_keys(name for name in names if name and name not in FIELD_TYPES)
    found = {}
    for index, item in enumerate(items):
        errors = criterion_errors(item, keys=keys, with_points=with_points)
        if errors:
            found[index] = errors
    return found


def signal_rule_errors(rules: Any) -> dict[int, dict]:
    if not isinstance(rules, list):
        return {-1: {"signal_rules": "Signal rules are a list."}}
    found: dict[int, dict] = {}
    seen = set()
    for index, rule in enumerate(rules):
        errors = {}
        if not isinstance(rule, dict):
            found[index] = {"kind": "A signal rule is an object with kind, points, half_life_days and max_points."}
            continue
        kind = str(rule.get("kind") or "").strip()
        if not kind:
            errors["kind"] = "Name the signal kind."
        elif kind in seen:
            errors["kind"] = f"{kind} has two rules; keep one."
        seen.add(kind)
        for name, low, message in (
            ("points", 0, "Points must be a number above 0."),
            ("half_life_days", 0, "The half-life must be more than 0 days."),
            ("max_points", 0, "The cap must be a number above 0."),
        ):
            number = _number(rule.get(name))
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


def criterion_from_dict(data: dict) -> Criterion:
    return Criterion(
        attribute=str(data["attribute"]).strip(),
        operator=data["operator"],
        value=data.get("value"),
        points=float(data.get("points") or 0),
        group=(data.get("group") or "").strip(),
    )


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
