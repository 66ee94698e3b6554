"""Hand-computed cases for the pure scoring module: every number here can be checked with a calculator."""

import datetime as dt

import pytest

from segmentation.scoring import (
    Criterion,
    ScoringParams,
    SignalEvent,
    SignalRule,
    coverage_score,
    criterion_matches,
    fit_score,
    round1,
    score_account,
    signal_score,
)

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
ACCOUNT = {
    "industry": "  Software ",
    "employee_count": 500,
    "annual_revenue": 12_000_000,
    "country": "United States",
    "technologies": ["Salesforce", "Snowflake"],
    "region": "",
    "segment": "mid-market",
}


@pytest.mark.parametrize(
    ("operator", "attribute", "value", "expected"),
    [
        ("eq", "industry", "software", True),
        ("eq", "industry", "SOFTWARE", True),
        ("eq", "industry", "retail", False),
        ("eq", "employee_count", 500, True),
        ("eq", "employee_count", "500", True),
        ("neq", "industry", "retail", True),
        ("neq", "industry", "Software", False),
        ("in", "country", ["united states", "canada"], True),
        ("in", "country", ["France"], False),
        ("not_in", "country", ["France"], True),
        ("not_in", "country", ["UNITED STATES"], False),
        ("gte", "employee_count", 500, True),
        ("gte", "employee_count", 501, False),
        ("lte", "employee_count", 500, True),
        ("lte", "employee_count", 499, False),
        ("between", "employee_count", [200, 500], True),
        ("between", "employee_count", [500, 1000], True),
        ("between", "employee_count", [501, 1000], False),
        ("contains", "technologies", "salesforce", True),
        ("contains", "technologies", "HubSpot", False),
        ("exists", "segment", None, True),
        ("exists", "region", None, False),
        ("gte", "industry", 5, False),  # text is never >= a number
    ],
)
def test_operators(operator, attribute, value, expected):
    assert criterion_matches(Criterion(attribute, operator, value), ACCOUNT) is expected


@pytest.mark.parametrize("operator", ["eq", "in", "gte", "lte", "between", "contains", "exists"])
def test_missing_values_match_nothing(operator):
    value = [1, 2] if operator in ("in", "between") else 1
    for missing in ({}, {"x": None}, {"x": "  "}, {"x": []}):
        assert criterion_matches(Criterion("x", operator, value), missing) is False


@pytest.mark.parametrize("operator", ["neq", "not_in"])
def test_missing_values_match_neq_and_not_in(operator):
    assert criterion_matches(Criterion("x", operator, ["a"] if operator == "not_in" else "a"), {}) is True


def test_fit_takes_the_best_match_per_group_and_normalises():
    criteria = [
        Criterion("employee_count", "between", [1, 99], 5, group="size"),
        Criterion("employee_count", "between", [100, 999], 20, group="size"),
        Criterion("employee_count", "gte", 400, 15, group="size"),  # also matches: the group keeps its best, 20
        Criterion("industry", "eq", "software", 30, group="industry"),
        Criterion("industry", "eq", "fintech", 40, group="industry"),
        Criterion("country", "eq", "Germany", 10, group="geo"),
    ]
    fit, detail = fit_score(criteria, ACCOUNT)
    # raw = 20 + 30 + 0 = 50; max = 20 + 40 + 10 = 70; fit = 100 * 50 / 70 = 71.428...
    assert detail["raw"] == 50 and detail["max"] == 70
    assert fit == pytest.approx(71.4285714)
    assert round1(fit) == 71.4
    assert {(m["group"], m["points"]) for m in detail["matched"]} == {("size", 20), ("industry", 30)}


def test_penalties_lower_fit_and_clamp_at_zero():
    criteria = [
        Criterion("industry", "eq", "software", 30, group="industry"),
        Criterion("country", "eq", "United States", -10, group="risk"),
    ]
    fit, detail = fit_score(criteria, ACCOUNT)
    # raw = 30 - 10 = 20; max = 30 + max(0, -10) = 30 -> 66.67
    assert (detail["raw"], detail["max"]) == (20, 30)
    assert round1(fit) == 66.7
    fit, _ = fit_score(
        [Criterion("industry", "eq", "retail", 30), Criterion("country", "eq", "United States", -10, "r")], ACCOUNT
    )
    assert fit == 0.0
    assert fit_score([], ACCOUNT)[0] == 0.0


def test_exclusion_suppresses_whatever_the_scores():
    params = ScoringParams(
        criteria=(Criterion("industry", "eq", "software", 10),),
        exclusions=(Criterion("country", "in", ["United States"]),),
    )
    score = score_account(params, ACCOUNT, [], NOW)
    assert score.excluded is True and score.fit == 100.0
    assert score.explanation["excluded_by"] == [
        {"index": 0, "attribute": "country", "operator": "in", "value": ["United States"]}
    ]


def test_decay_one_half_life_counts_half():
    rule = SignalRule("web_visit", points=10, half_life_days=30, max_points=100)
    events = [SignalEvent("web_visit", NOW - dt.timedelta(days=30))]
    signal, detail = signal_score([rule], events, NOW, 365, 100)
    assert detail["kinds"]["web_visit"]["points"] == pytest.approx(5.0)
    assert signal == pytest.approx(5.0)
    two = [SignalEvent("web_visit", NOW - dt.timedelta(days=60)), SignalEvent("web_visit", NOW)]
    assert signal_score([rule], two, NOW, 365, 100)[1]["raw"] == pytest.approx(12.5)  # 2.5 + 10


def test_caps_lookback_future_and_unknown_kinds():
    rules = [SignalRule("meeting", 30, 60, max_points=40), SignalRule("web_visit", 5, 10, max_points=50)]
    events = [
        SignalEvent("meeting", NOW),
        SignalEvent("meeting", NOW),  # 60 points, capped at 40
        SignalEvent("web_visit", NOW - dt.timedelta(days=366)),  # beyond the lookback
        SignalEvent("web_visit", NOW + dt.timedelta(hours=1)),  # in the future
        SignalEvent("tech_install", NOW),  # no rule
    ]
    signal, detail = signal_score(rules, events, NOW, 365, full_points=80)
    assert detail["kinds"] == {"meeting": {"count": 2, "decayed": 60.0, "points": 40.0}}
    assert signal == 50.0  # 100 * 40 / 80
    assert signal_score(rules, [SignalEvent("meeting", NOW)] * 5, NOW, 365, full_points=20)[0] == 100.0


def test_coverage_counts_personas_engaged_in_the_window():
    events = [
        SignalEvent("email_click", NOW - dt.timedelta(days=10), persona="champion"),
        SignalEvent("meeting", NOW - dt.timedelta(days=91), persona="economic_buyer"),  # outside 90 days
        SignalEvent("web_visit", NOW - dt.timedelta(days=1)),  # no contact
        SignalEvent("meeting", NOW + dt.timedelta(hours=1), persona="technical_evaluator"),  # in the future
    ]
    coverage, detail = coverage_score(["economic_buyer", "champion", "technical_evaluator"], events, NOW, 90)
    assert coverage == pytest.approx(1 / 3)
    assert detail["engaged"] == ["champion"] and detail["missing"] == ["economic_buyer", "technical_evaluator"]
    assert coverage_score([], events, NOW, 90)[0] == 0.0


def test_unified_uses_weights_on_unrounded_parts():
    params = ScoringParams(
        criteria=(Criterion("industry", "eq", "software", 2, "i"), Criterion("country", "eq", "France", 1, "c")),
        signal_rules=(SignalRule("web_visit", 10, 30, 100),),
        required_personas=("champion", "economic_buyer", "user"),
        w_fit=0.5,
        w_signal=0.3,
        w_coverage=0.2,
        full_signal_points=30,
    )
    events = [SignalEvent("web_visit", NOW - dt.timedelta(days=30), persona="champion")]
    score = score_account(params, ACCOUNT, events, NOW)
    # fit = 100 * 2/3 = 66.666..; signal = 100 * 5 / 30 = 16.666..; coverage = 1/3
    # unified = 0.5 * 66.666.. + 0.3 * 16.666.. + 0.2 * 33.333.. = 33.333.. + 5 + 6.666.. = 45.0
    assert (score.fit, score.signal, score.unified) == (66.7, 16.7, 45.0)
    assert score.coverage == pytest.approx(1 / 3)


@pytest.mark.parametrize(
    ("value", "rounded"), [(0.05, 0.1), (0.15, 0.2), (2.25, 2.3), (-0.05, -0.1), (63.45, 63.5), (63.44, 63.4)]
)
def test_rounding_is_half_away_from_zero(value, rounded):
    assert round1(value) == rounded


def test_unified_is_weighed_from_the_unrounded_parts_not_the_rounded_ones():
    """Numbers that tell the two readings apart: fit 50 and signal 100/7 = 14.2857.. (shown as 14.3), half each.
    From the unrounded parts, unified = 25 + 7.142857.. = 32.142857.. -> 32.1; from the rounded ones it would be
    25 + 7.15 = 32.15 -> 32.2."""
    params = ScoringParams(
        criteria=(Criterion("industry", "eq", "software", 1, "i"), Criterion("country", "eq", "France", 1, "c")),
        signal_rules=(SignalRule("web_visit", 1, 10_000, 100),),
        w_fit=0.5,
        w_signal=0.5,
        w_coverage=0.0,
        full_signal_points=7,
    )
    score = score_account(params, ACCOUNT, [SignalEvent("web_visit", NOW)], NOW)
    assert (score.fit, score.signal, score.unified) == (50.0, 14.3, 32.1)
