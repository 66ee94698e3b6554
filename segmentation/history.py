"""The scoring model in the trade's words: its definition as the model page and the publish page show it, what
changed between two versions and who published or restored each (the version history), and a preview's result."""

from __future__ import annotations

from typing import Any

from accounts.criteria import attribute_label, criterion_sentence, with_group
from core.tiers import LABELS as TIER_LABELS

from .definition import NUMBER_LABELS, persona_label, signal_kind_label
from .models import GroupRollup, ScoringModel

NUMBERS = list(NUMBER_LABELS)


def number_text(value: Any) -> str:
    """1,000 / 0.6 / 12.5: a model's number as a page shows it; "—" when there is none."""
    if value is None or value == "":
        return "—"
    number = float(value)
    if number.is_integer():
        return f"{int(number):,}"
    return f"{number:,.4f}".rstrip("0").rstrip(".")


def points_text(points: Any) -> str:
    """+10 / -5 / +7.5: a criterion's points, signed."""
    number = float(points or 0)
    return f"{'-' if number < 0 else '+'}{number_text(abs(number))}"


def change_text(value: Any) -> str:
    """+1.2 / -0.4 / 0: a change of a score, signed; "—" when there is none."""
    if value is None:
        return "—"
    return points_text(value) if float(value) else "0"


def tier_label(tier: str | None, *, none: str = "Not scored") -> str:
    return TIER_LABELS.get(tier, str(tier)) if tier else none


def person(user) -> str:
    """Who did something: their full name, else their user name; "system" for work nobody started."""
    if user is None:
        return "system"
    return user.get_full_name() or user.get_username()


def criterion_line(item: dict, *, with_points: bool) -> str:
    """ "Size: Employees between 1,000 and 10,000 (+40)"; an exclusion is its sentence alone."""
    sentence = criterion_sentence(item.get("attribute"), item.get("operator"), item.get("value"))
    if not with_points:
        return sentence
    return f"{with_group(item.get('group'), sentence)} ({points_text(item.get('points'))})"


def rule_text(rule: dict) -> str:
    return (
        f"{number_text(rule.get('points'))} points, half-life {number_text(rule.get('half_life_days'))} days, "
        f"cap {number_text(rule.get('max_points'))}"
    )


def group_rollup_label(rule: str) -> str:
    """ "Highest score in the group" for max."""
    return dict(GroupRollup.choices).get(rule, str(rule))


def group_rollup_text(rule: str) -> str:
    """What a parent's group score is, under `rule`, in words."""
    if rule == GroupRollup.SUM_SIGNALS:
        return (
            "sum of the group's signals: the signal points of the parent and its subsidiaries added up (signal capped "
            "at 100), blended with the parent's fit and buying group by the weights"
        )
    return "highest score in the group: the best unified score among the parent and its subsidiaries"


def _listed(values: list[str], label) -> str:
    return ", ".join(label(v) for v in values) if values else "none"


def model_in_words(model: ScoringModel) -> dict:
    """What a version scores with, as its page and its publish page show it."""
    criteria, exclusions = model.current_criteria()
    personas = list(model.required_personas or [])
    tiers = [
        (
            TIER_LABELS[tier],
            f"enters at a unified score of {number_text(enter)} with fit ≥ {number_text(min_fit)}; "
            f"stays while unified ≥ {number_text(exit_)}",
        )
        for tier, (enter, exit_, min_fit) in model.tier_thresholds().items()
    ]
    return {
        "criteria": [
            {
                "group": str(c.get("group") or "").strip() or attribute_label(c.get("attribute")),
                "sentence": criterion_sentence(c.get("attribute"), c.get("operator"), c.get("value")),
                "points": points_text(c.get("points")),
            }
            for c in criteria
        ],
        "exclusions": [criterion_line(c, with_points=False) for c in exclusions],
        "signal_rules": [
            {
                "kind": signal_kind_label(r.get("kind")),
                "points": number_text(r.get("points")),
                "half_life_days": number_text(r.get("half_life_days")),
                "max_points": number_text(r.get("max_points")),
            }
            for r in model.signal_rules or []
        ],
        "settings": [
            (
                "Weights",
                f"fit {number_text(model.w_fit)}, signal {number_text(model.w_signal)}, "
                f"coverage {number_text(model.w_coverage)}",
            ),
            (
                "Signal score",
                f"{number_text(model.full_signal_points)} points make a signal score of 100; signals of the last "
                f"{number_text(model.lookback_days)} days count",
            ),
            (
                "Buying group",
                f"{_listed(personas, persona_label)}, engaged within {number_text(model.engagement_window_days)} days"
                if personas
                else "no persona required",
            ),
            *tiers,
            ("Time in tier", f"at least {number_text(model.min_days_in_tier)} days before moving down"),
            (
                "Surge",
                f"a rise of {number_text(model.surge_delta)} signal points within "
                f"{number_text(model.surge_window_days)} days lifts an account one tier for "
                f"{number_text(model.surge_hold_days)} days",
            ),
            (
                "Signal points per contact",
                f"at most {number_text(model.contact_cap)} points from any one contact's signals; signals without a "
                "contact are not capped per contact"
                if model.contact_cap is not None
                else "no cap: every contact's signals count in full",
            ),
            ("Group score", group_rollup_text(model.group_rollup)),
            (
                "MQA",
                f"on entering {_listed(list(model.mqa_tiers or []), tier_label)} with a signal score ≥ "
                f"{number_text(model.mqa_signal_min)}; {number_text(model.rejection_cooldown_days)} days' cooldown "
                "after a rejection",
            ),
        ],
    }


def version_changes(old: ScoringModel | None, new: ScoringModel) -> list[str]:
    """Lines such as "Added criterion Size: Employees ≥ 500 (+20)" or "Fit weight: 0.6 → 0.5"."""
    if old is None:
        return ["First version."]
    lines = []
    if old.icp_id != new.icp_id:
        lines.append(f"ICP: {old.icp} → {new.icp}")
    old_criteria, old_exclusions = old.current_criteria()
    new_criteria, new_exclusions = new.current_criteria()
    for label, before, after, points in (
        ("criterion", old_criteria, new_criteria, True),
        ("exclusion", old_exclusions, new_exclusions, False),
    ):
        was = [criterion_line(c, with_points=points) for c in before]
        now = [criterion_line(c, with_points=points) for c in after]
        lines += [f"Removed {label} {c}" for c in was if c not in now]
        lines += [f"Added {label} {c}" for c in now if c not in was]
    old_rules = {r["kind"]: r for r in old.signal_rules or []}
    new_rules = {r["kind"]: r for r in new.signal_rules or []}
    for kind in sorted(old_rules.keys() | new_rules.keys()):
        a, b = old_rules.get(kind), new_rules.get(kind)
        name = signal_kind_label(kind)
        if a is None:
            lines.append(f"Added signal rule {name}: {rule_text(b)}")
        elif b is None:
            lines.append(f"Removed signal rule {name}")
        elif rule_text(a) != rule_text(b):
            lines.append(f"Signal rule {name}: {rule_text(a)} → {rule_text(b)}")
    if list(old.required_personas or []) != list(new.required_personas or []):
        lines.append(
            f"Required personas: {_listed(old.required_personas or [], persona_label)} → "
            f"{_listed(new.required_personas or [], persona_label)}"
        )
    if list(old.mqa_tiers or []) != list(new.mqa_tiers or []):
        lines.append(
            f"MQA tiers: {_listed(old.mqa_tiers or [], tier_label)} → {_listed(new.mqa_tiers or [], tier_label)}"
        )
    if old.group_rollup != new.group_rollup:
        lines.append(f"Group score: {group_rollup_label(old.group_rollup)} → {group_rollup_label(new.group_rollup)}")
    for name in NUMBERS:
        a, b = getattr(old, name), getattr(new, name)
        if a != b:
            before, after = (
                ("no cap" if v is None else number_text(v)) if name == "contact_cap" else number_text(v) for v in (a, b)
            )
            lines.append(f"{NUMBER_LABELS[name]}: {before} → {after}")
    return lines or ["No change to the definition."]


def version_events(model: ScoringModel) -> list[tuple]:
    """Who created, published, restored and archived a version, and when (the dates are the caller's to format):
    [(what, when, who)], in the order they happened."""
    events = [("Created", model.created_at, person(model.created_by))]
    if model.published_at:
        events.append(("Published", model.published_at, person(model.published_by)))
    if model.archived_at:
        events.append(("Archived", model.archived_at, None))
    if model.restored_at:
        events.append(("Restored", model.restored_at, person(model.restored_by)))
    return sorted(events, key=lambda event: event[1])


def preview_in_words(result: dict | None) -> dict | None:
    """A preview's result (`services.preview_compute`) with tiers by their labels and numbers formatted."""
    if not result or not result.get("after"):
        return None
    before = result.get("before") or {}
    tiers = [
        {"label": tier_label(tier), "now": number_text(before.get(tier, 0)), "after": number_text(count)}
        for tier, count in result["after"].items()
    ]
    if before.get("unscored"):
        tiers.append({"label": "Not scored yet", "now": number_text(before["unscored"]), "after": "0"})
    return {
        "accounts": number_text(result.get("accounts")),
        "as_of": str(result.get("as_of") or "")[:16].replace("T", " "),
        "moved": number_text(result.get("moved")),
        "moved_up": number_text(result.get("moved_up")),
        "moved_down": number_text(result.get("moved_down")),
        "unscored": number_text(before.get("unscored")) if before.get("unscored") else None,
        "mean_change": change_text(result.get("unified_mean_change")),
        "rose": number_text(result.get("unified_rose_5_or_more")),
        "fell": number_text(result.get("unified_fell_5_or_more")),
        "tiers": tiers,
        "moves": [
            {
                "account_id": m["account_id"],
                "name": m.get("name") or f"Account {m['account_id']}",
                "from": tier_label(m.get("from")),
                "to": tier_label(m.get("to")),
                "unified": f"{number_text(m.get('unified_before'))} → {number_text(m.get('unified_after'))}",
                "fit": f"{number_text(m.get('fit_before'))} → {number_text(m.get('fit_after'))}",
            }
            for m in result.get("moves") or []
        ],
        "moves_shown": number_text(result.get("moves_shown")),
        "more_moves": (result.get("moved") or 0) > (result.get("moves_shown") or 0),
    }
