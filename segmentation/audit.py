"""What the audit page (core/audit.py) shows of the ICPs and scoring models in words: criteria as sentences with
their points, signal rules, personas and tiers by their labels. Installed by SegmentationConfig.ready."""

from __future__ import annotations

from accounts.criteria import attribute_label, criteria_sentences, criterion_sentence
from accounts.models import Contact
from core.audit import audit_field
from core.tiers import LABELS

from .models import ICP, ScoringModel

PERSONAS = dict(Contact.Persona.choices)


def _g(value, sign: str = "") -> str:
    try:
        return format(float(value or 0), f"{sign},g")
    except (TypeError, ValueError):
        return str(value)


def _points(value) -> str:
    return f"{_g(value, '+')} points"


def fit_criteria_lines(items) -> list[str]:
    """One line per criterion, e.g. "Size: Employees between 200 and 5,000 (+30 points)"."""
    lines = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            lines.append(str(item))
            continue
        sentence = criterion_sentence(item.get("attribute", ""), item.get("operator", ""), item.get("value"))
        group = str(item.get("group") or "").strip() or attribute_label(item.get("attribute", ""))
        lines.append(f"{group}: {sentence} ({_points(item.get('points'))})")
    return lines


def exclusion_lines(items) -> list[str]:
    return criteria_sentences(i for i in (items if isinstance(items, list) else []) if isinstance(i, dict))


def signal_rule_lines(rules) -> list[str]:
    """One line per signal kind, e.g. "Meeting: 15 points, half-life 30 days, at most 30 points"."""
    lines = []
    for rule in rules if isinstance(rules, list) else []:
        if not isinstance(rule, dict):
            lines.append(str(rule))
            continue
        kind = str(rule.get("kind") or "").replace("_", " ").strip().capitalize()
        lines.append(
            f"{kind}: {_g(rule.get('points'))} points, half-life {_g(rule.get('half_life_days'))} days, "
            f"at most {_g(rule.get('max_points'))} points"
        )
    return lines


def persona_lines(personas) -> list[str]:
    return [PERSONAS.get(p, str(p).replace("_", " ").capitalize()) for p in personas or []]


def tier_lines(tiers) -> list[str]:
    return [LABELS.get(t, str(t)) for t in tiers or []]


def audit_register() -> None:
    audit_field(ICP, "criteria", label="Fit criteria", describe=fit_criteria_lines)
    audit_field(ICP, "exclusions", label="Exclusions", describe=exclusion_lines)
    audit_field(ScoringModel, "signal_rules", label="Signal rules", describe=signal_rule_lines)
    audit_field(ScoringModel, "required_personas", label="Buying group personas", describe=persona_lines)
    audit_field(ScoringModel, "mqa_tiers", label="MQA tiers", describe=tier_lines)
