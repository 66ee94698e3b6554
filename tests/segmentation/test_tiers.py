"""Tier rules (SPEC section 4) one by one with hand-made cases, then the 90-day oscillation simulation."""

import datetime as dt
import math

import pytest

from segmentation.tiers import (
    CAPACITY,
    HYSTERESIS,
    MIN_DAYS,
    SURGE,
    Standing,
    TierRules,
    TierThreshold,
    move_reason,
    place,
    tier_reason,
)

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
THRESHOLDS = {
    "tier_1": TierThreshold(enter=75, exit=70, min_fit=70),
    "tier_2": TierThreshold(enter=55, exit=50, min_fit=50),
    "tier_3": TierThreshold(enter=35, exit=30, min_fit=30),
}
RULES = TierRules(THRESHOLDS, min_days_in_tier=14, surge_window_days=7, surge_delta=20, surge_hold_days=14)


def days_ago(days: float) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


UNSCORED = Standing()


def placed(standing=UNSCORED, *, fit, unified, signal=0.0, signal_then=0.0, excluded=False, rules=RULES):
    scores = {"fit": fit, "unified": unified, "signal": signal, "signal_then": signal_then}
    return place(rules, standing, **scores, excluded=excluded, now=NOW)


def test_an_exclusion_suppresses_at_once_even_inside_the_minimum_time():
    result = placed(Standing("tier_1", days_ago(1)), fit=95, unified=95, excluded=True)
    assert (result.tier, result.since, result.flags) == ("suppress", NOW, ())


def test_when_the_exclusion_stops_matching_the_account_goes_to_its_candidate_at_once():
    result = placed(Standing("suppress", days_ago(1)), fit=60, unified=60)
    assert (result.tier, result.candidate) == ("tier_2", "tier_2")


def test_guardrail_signals_cannot_override_misfit():
    # Unified 90 clears every enter threshold, but fit 65 is under Tier 1's minimum fit.
    result = placed(fit=65, unified=90)
    assert result.tier == "tier_2"
    assert "Tier 1 needs unified ≥ 75 and fit ≥ 70; fit is 65" in tier_reason(
        THRESHOLDS, fit=65, unified=90, tier="tier_2"
    )
    assert placed(fit=20, unified=90).tier == "recycle"  # under every tier's minimum fit


def test_a_better_candidate_promotes_at_once_even_inside_the_minimum_time():
    result = placed(Standing("tier_3", days_ago(1)), fit=80, unified=80)
    assert (result.tier, result.since) == ("tier_1", NOW)


def test_hysteresis_holds_a_tier_while_unified_stays_at_or_above_its_exit():
    standing = Standing("tier_1", days_ago(30))
    held = placed(standing, fit=75, unified=70)  # exactly the exit
    assert (held.tier, held.candidate, held.flags, held.since) == ("tier_1", "tier_2", (HYSTERESIS,), days_ago(30))
    assert "kept while unified 70 ≥ exit 70" in tier_reason(
        THRESHOLDS, fit=75, unified=70, tier="tier_1", flags=held.flags
    )


def test_demotion_once_unified_falls_under_the_exit_after_the_minimum_time():
    standing = Standing("tier_1", days_ago(30))
    result = placed(standing, fit=75, unified=69.9)
    assert (result.tier, result.since, result.flags) == ("tier_2", NOW, ())
    reason = move_reason(RULES, standing, result, fit=75, signal=0, signal_then=0, unified=69.9)
    assert reason.startswith("Down to Tier 2: unified 69.9 < Tier 1 exit 70")


def test_the_guardrail_also_ends_hysteresis():
    # Unified above the exit, but fit fell under Tier 1's minimum: no hold.
    assert placed(Standing("tier_1", days_ago(30)), fit=60, unified=72).tier == "tier_2"


def test_minimum_days_in_tier_holds_a_demotion_until_it_has_passed():
    inside = placed(Standing("tier_1", days_ago(13.9)), fit=75, unified=40)
    assert (inside.tier, inside.flags) == ("tier_1", (MIN_DAYS,))
    exactly = placed(Standing("tier_1", days_ago(14)), fit=75, unified=40)
    assert (exactly.tier, exactly.flags) == ("tier_3", ())


def test_a_surge_starts_when_the_signal_rose_by_the_delta_and_lifts_one_tier():
    result = placed(fit=60, unified=40, signal=45.3, signal_then=25.3)  # +20.0 exactly (float noise included)
    assert result.candidate == "tier_3"
    assert (result.tier, result.surge_until, result.flags) == ("tier_2", NOW + dt.timedelta(days=14), (SURGE,))
    assert result.surge_started
    # Just under the delta: no surge.
    calm = placed(fit=60, unified=40, signal=45.2, signal_then=25.3)
    assert (calm.tier, calm.surge_until, calm.flags) == ("tier_3", None, ())


def test_a_first_placement_is_worded_as_a_placement_not_a_move_up():
    """An account without a tier is placed; the reason says where and why, with the numbers (not "Up to")."""
    tier_3 = placed(fit=60, unified=40)
    assert move_reason(RULES, UNSCORED, tier_3, fit=60, signal=0, signal_then=0, unified=40) == (
        "Placed in Tier 3. Tier 3: unified 40 ≥ 35 and fit 60 ≥ 30; Tier 2 needs unified ≥ 55 and fit ≥ 50; "
        "unified is 40."
    )
    recycle = placed(fit=20, unified=10)
    assert move_reason(RULES, UNSCORED, recycle, fit=20, signal=0, signal_then=0, unified=10).startswith(
        "Placed in Recycle. Recycle: unified 10 and fit 20 meet no tier's thresholds;"
    )
    suppressed = placed(fit=90, unified=90, excluded=True)
    assert move_reason(RULES, UNSCORED, suppressed, fit=90, signal=0, signal_then=0, unified=90) == (
        "Placed in Suppress: an exclusion criterion matches."
    )


def test_a_surge_lift_is_explained_by_the_surge_not_by_thresholds_it_misses():
    lifted = placed(fit=60, unified=40, signal=45.3, signal_then=25.3)
    reason = move_reason(RULES, Standing("tier_3", days_ago(30)), lifted, fit=60, signal=45.3, signal_then=25.3,
                         unified=40)  # fmt: skip
    assert reason == (
        "Up to Tier 2: surging: signal 45.3 is 20 above its 7-day-old 25.3 (≥ 20), so one tier above Tier 3 until "
        "2026-06-15. Tier 1 needs unified ≥ 75 and fit ≥ 70; unified is 40 and fit is 60."
    )
    assert "unified 40 ≥ 55" not in reason  # Tier 2's enter is not met: the surge is why it is there


def test_a_surge_respects_the_guardrail_of_the_tier_above():
    result = placed(fit=45, unified=40, signal=60, signal_then=10)  # Tier 2 needs fit >= 50
    assert (result.tier, result.flags) == ("tier_3", (SURGE,))


def test_a_surge_lasts_its_hold_then_expires_and_a_later_surge_extends_it():
    during = placed(Standing("tier_2", days_ago(5), surge_until=NOW + dt.timedelta(days=9)), fit=60, unified=40)
    assert (during.tier, during.flags, during.surge_until) == ("tier_2", (SURGE,), NOW + dt.timedelta(days=9))
    extended = placed(
        Standing("tier_2", days_ago(5), surge_until=NOW + dt.timedelta(days=9)),
        fit=60,
        unified=40,
        signal=50,
        signal_then=20,
    )
    assert extended.surge_until == NOW + dt.timedelta(days=14)
    # Expired (and the minimum time in tier has passed): back to the candidate.
    standing = Standing("tier_2", days_ago(20), surge_until=days_ago(1))
    after = placed(standing, fit=60, unified=40)
    assert (after.tier, after.surge_until, after.flags) == ("tier_3", None, ())
    assert "its surge ended" in move_reason(RULES, standing, after, fit=60, signal=0, signal_then=0, unified=40)


def test_an_account_held_by_capacity_stays_held_while_its_target_is_tier_1():
    held = placed(Standing("tier_2", days_ago(3), flags=(CAPACITY,)), fit=90, unified=90)
    assert (held.tier, held.flags, held.since) == ("tier_2", (CAPACITY,), days_ago(3))
    # Its target drops to Tier 2: no longer a capacity matter.
    plain = placed(Standing("tier_2", days_ago(3), flags=(CAPACITY,)), fit=60, unified=60)
    assert (plain.tier, plain.flags) == ("tier_2", ())


def test_a_new_model_version_places_at_the_target_without_holds():
    standing = Standing("tier_1", days_ago(2), same_model=False)
    assert placed(standing, fit=75, unified=40).tier == "tier_3"


def simulate(rules: TierRules, unified_by_day: list[float], fit: float = 80) -> list[str]:
    standing, tiers = Standing(), []
    for day, unified in enumerate(unified_by_day):
        now = NOW + dt.timedelta(days=day)
        result = place(rules, standing, fit=fit, unified=unified, signal=0, signal_then=0, excluded=False, now=now)
        standing = Standing(result.tier, result.since, result.surge_until, result.flags)
        tiers.append(result.tier)
    return tiers


def changes(tiers: list[str]) -> int:
    return sum(1 for a, b in zip(tiers, tiers[1:], strict=False) if a != b)


@pytest.mark.parametrize("amplitude", [3.0, 8.0, 12.0])
def test_ninety_days_of_a_score_oscillating_around_a_threshold_make_few_tier_changes(amplitude):
    """Unified oscillates around Tier 2's enter (55) for 90 days, crossing it every day or two.

    With hysteresis (exit 50) and 14 days minimum in tier, a demotion needs 14 days in the tier, and a promotion
    follows at most one demotion, so over D days there are at most 2 * ceil(D / 14) changes (14 for 90 days);
    when the swing stays above the exit there are none at all after the first placement. Without them (exit =
    enter, no minimum time) the tier follows every crossing.
    """
    days = 90
    scores = [round(55 + amplitude * math.sin(day * 2.0), 1) for day in range(days)]
    with_rules = simulate(RULES, scores)
    bound = 2 * math.ceil(days / RULES.min_days_in_tier)
    assert changes(with_rules) <= bound
    if 55 - amplitude >= 50:  # the swing never leaves Tier 2's hysteresis band once it entered Tier 2
        assert changes(with_rules[with_rules.index("tier_2") :]) == 0
    flat = {tier: TierThreshold(t.enter, t.enter, t.min_fit) for tier, t in THRESHOLDS.items()}
    without = simulate(TierRules(flat, min_days_in_tier=0), scores)
    crossings = changes(["tier_2" if s >= 55 else "tier_3" for s in scores])
    assert changes(without) == crossings
    assert crossings >= 40
    assert changes(with_rules) * 4 <= crossings
