"""What changed between two versions of the scoring model, in words (the version history shows it)."""

from __future__ import annotations

from accounts.criteria import criterion_sentence

from .models import ScoringModel

NUMBERS = [
    "w_fit", "w_signal", "w_coverage", "full_signal_points", "lookback_days", "engagement_window_days",
    "tier1_enter", "tier1_exit", "tier1_min_fit", "tier2_enter", "tier2_exit", "tier2_min_fit", "tier3_enter",
    "tier3_exit", "tier3_min_fit", "min_days_in_tier", "surge_window_days", "surge_delta", "surge_hold_days",
    "mqa_signal_min", "rejection_cooldown_days",
]  # fmt: skip


def _criterion(item: dict, with_points: bool) -> str:
    words = criterion_sentence(item.get("attribute"), item.get("operator"), item.get("value"))
    if with_points:
        group = item.get("group") or item.get("attribute")
        return f"{group}: {words} ({float(item.get('points') or 0):+g})"
    return words


def version_changes(old: ScoringModel | None, new: ScoringModel) -> list[str]:
    """Lines such as "Added criterion Size: employee_count >= 500 (+20)" or "Fit weight: 0.6 -> 0.5"."""
    if old is None:
        return ["First version."]
    lines = []
    if old.icp_id != new.icp_id:
        lines.append(f"ICP: {old.icp} -> {new.icp}")
    old_criteria, old_exclusions = old.current_criteria()
    new_criteria, new_exclusions = new.current_criteria()
    for label, before, after, points in (
        ("criterion", old_criteria, new_criteria, True),
        ("exclusion", old_exclusions, new_exclusions, False),
    ):
        was = [_criterion(c, points) for c in before]
        now = [_criterion(c, points) for c in after]
        lines += [f"Removed {label} {c}" for c in was if c not in now]
        lines += [f"Added {label} {c}" for c in now if c not in was]
    old_rules = {r["kind"]: r for r in old.signal_rules or []}
    new_rules = {r["kind"]: r for r in new.signal_rules or []}
    for kind in sorted(old_rules.keys() | new_rules.keys()):
        a, b = old_rules.get(kind), new_rules.get(kind)
        describe = lambda r: f"{r['points']:g} points, half-life {r['half_life_days']:g} d, cap {r['max_points']:g}"  # noqa: E731
        if a is None:
            lines.append(f"Added signal rule {kind}: {describe(b)}")
        elif b is None:
            lines.append(f"Removed signal rule {kind}")
        elif describe(a) != describe(b):
            lines.append(f"Signal rule {kind}: {describe(a)} -> {describe(b)}")
    if list(old.required_personas or []) != list(new.required_personas or []):
        lines.append(f"Required personas: {', '.join(old.required_personas) or 'none'} -> "
                     f"{', '.join(new.required_personas) or 'none'}")  # fmt: skip
    if list(old.mqa_tiers or []) != list(new.mqa_tiers or []):
        lines.append(f"MQA tiers: {', '.join(old.mqa_tiers)} -> {', '.join(new.mqa_tiers)}")
    for name in NUMBERS:
        a, b = getattr(old, name), getattr(new, name)
        if a != b:
            lines.append(f"{ScoringModel._meta.get_field(name).verbose_name.capitalize()}: {a:g} -> {b:g}")
    return lines or ["No change to the definition."]
