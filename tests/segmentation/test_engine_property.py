"""Property: the SQL engine (PostgreSQL) scores random accounts and signals exactly as the pure module does."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Account, Contact, Signal
from segmentation.engine import Plan, Selection
from segmentation.engine.sql import sql_rows as _sql_rows
from segmentation.models import ICP, AccountScore, ScoringModel
from segmentation.scoring import SignalEvent, round1, signal_score_then
from segmentation.tiers import Standing
from tests.conftest import require_postgres

from .test_engine import AS_OF, assert_same, pure_scores

# The SQL engine is PostgreSQL's; on SQLite the pure module itself scores.
pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

WORDS = ["software", " Software ", "SOFTWARE", "fintech", "retail", "", "100", "1e2", "a b"]
TECH = ["Salesforce", "salesforce ", "AWS", "HubSpot"]
KINDS = ["web_visit", "meeting", "content_download", "other_kind"]
PERSONAS = ["economic_buyer", "champion", "technical_evaluator", "user"]

json_scalar = st.one_of(
    st.none(), st.sampled_from(WORDS), st.integers(-5, 300), st.booleans(), st.sampled_from([1.5, 99.5])
)
json_value = st.one_of(json_scalar, st.lists(st.sampled_from(WORDS + TECH), max_size=3))

accounts = st.lists(
    st.fixed_dictionaries(
        {
            "industry": st.sampled_from(WORDS),
            "country": st.sampled_from(["United States", "united states ", "Germany", ""]),
            "employee_count": st.one_of(st.none(), st.integers(0, 5000)),
            "annual_revenue": st.one_of(st.none(), st.decimals(0, 10**7, places=2, allow_nan=False)),
            "year_founded": st.one_of(st.none(), st.integers(1900, 2026)),
            "technologies": st.lists(st.sampled_from(TECH), max_size=3),
            "is_customer": st.booleans(),
            "attributes": st.dictionaries(st.sampled_from(["segment", "rank", "flag", "tags"]), json_value, max_size=3),
            "contacts": st.lists(st.sampled_from(PERSONAS), max_size=3),
            "signals": st.lists(st.tuples(st.sampled_from(KINDS), st.floats(-3, 420), st.integers(-1, 2)), max_size=8),
            # What is stored before the rescore: the tier it is placed from (hysteresis, time in tier, surge, capacity).
            "standing": st.one_of(
                st.none(),
                st.fixed_dictionaries(
                    {
                        "tier": st.sampled_from(["tier_1", "tier_2", "tier_3", "recycle", "suppress"]),
                        "since_days": st.floats(0, 30),
                        "surge_days": st.one_of(st.none(), st.floats(-5, 10)),
                        "capacity": st.booleans(),
                        "same_model": st.booleans(),
                    }
                ),
            ),
        }
    ),
    min_size=1,
    max_size=6,
)

TEXT_ATTRS = ["industry", "country"]
NUMBER_ATTRS = ["employee_count", "annual_revenue", "year_founded"]
ANY_ATTRS = ["segment", "rank", "flag", "tags"]


@st.composite
def criterion(draw, with_points=True):
    kind = draw(st.sampled_from(["text", "number", "list", "bool", "any"]))
    if kind == "text":
        attribute = draw(st.sampled_from(TEXT_ATTRS))
        operator = draw(st.sampled_from(["eq", "neq", "in", "not_in", "contains", "exists"]))
    elif kind == "number":
        attribute = draw(st.sampled_from(NUMBER_ATTRS))
        operator = draw(st.sampled_from(["eq", "neq", "in", "not_in", "gte", "lte", "between", "exists"]))
    elif kind == "list":
        attribute, operator = "technologies", draw(st.sampled_from(["eq", "neq", "in", "not_in", "contains", "exists"]))
    elif kind == "bool":
        attribute, operator = "is_customer", draw(st.sampled_from(["eq", "neq", "exists"]))
    else:
        attribute = draw(st.sampled_from(ANY_ATTRS))
        operator = draw(st.sampled_from(["eq", "neq", "in", "not_in", "contains", "exists", "gte", "lte", "between"]))
    number = st.integers(0, 3000)
    text = st.sampled_from(WORDS + TECH)
    if operator in ("gte", "lte"):
        value = draw(number)
    elif operator == "between":
        low = draw(number)
        value = [low, low + draw(st.integers(0, 3000))]
    elif operator in ("in", "not_in"):
        value = draw(st.lists(number if kind == "number" else text, min_size=1, max_size=3))
    elif operator == "exists":
        value = None
    elif kind == "bool":
        value = draw(st.booleans())
    elif kind == "number":
        value = draw(number)
    else:
        value = draw(text)
    data = {"attribute": attribute, "operator": operator, "value": value}
    if with_points:
        data["group"] = draw(st.sampled_from(["A", "B", "C", ""]))
        data["points"] = draw(st.sampled_from([-10, 0, 5, 12.5, 30]))
    return data


models = st.fixed_dictionaries(
    {
        "criteria": st.lists(criterion(), max_size=6),
        "exclusions": st.lists(criterion(with_points=False), max_size=2),
        "weights": st.sampled_from([(0.6, 0.3, 0.1), (1.0, 0.0, 0.0), (0.2, 0.5, 0.3), (0.35, 0.35, 0.3)]),
        "personas": st.lists(st.sampled_from(PERSONAS), unique=True, max_size=3),
        "half_life": st.sampled_from([0.5, 7.0, 30.0, 400.0]),  # 400: a year-old signal still counts
        "cap": st.sampled_from([5.0, 40.0]),
        "full": st.sampled_from([10.0, 100.0]),
        # The per-contact cap: none (every signal in full), below a kind's cap, above it.
        "contact_cap": st.sampled_from([None, 4.0, 25.0]),
        "thresholds": st.sampled_from(
            [
                {},  # the defaults
                {"tier1_enter": 20, "tier1_exit": 10, "tier1_min_fit": 0, "tier2_enter": 10, "tier2_exit": 5},
                {"tier1_enter": 60, "tier1_exit": 60, "tier2_enter": 40, "tier2_exit": 30, "tier3_enter": 5},
            ]
        ),
        "tiers": st.fixed_dictionaries(
            {
                "surge_delta": st.sampled_from([5.0, 20.0]),
                "surge_window_days": st.sampled_from([3, 7]),
                "min_days_in_tier": st.sampled_from([0, 14]),
            }
        ),
    }
)


def stored_standing(account: Account, standing: dict, model: ScoringModel) -> Standing:
    """An AccountScore row as a rescore finds it, and the same standing for the pure module."""
    since = AS_OF - dt.timedelta(days=standing["since_days"])
    surge_until = None if standing["surge_days"] is None else AS_OF + dt.timedelta(days=standing["surge_days"])
    flags = ["capacity"] if standing["capacity"] and standing["tier"] == "tier_2" else []
    AccountScore.objects.create(
        account=account, model=model, fit=0, signal=0, coverage=0, unified=0, tier=standing["tier"], tier_since=since,
        surge_until=surge_until, flags=flags, as_of=AS_OF - dt.timedelta(days=1), computed_at=AS_OF,
    )  # fmt: skip
    return Standing(standing["tier"], since, surge_until, tuple(flags), standing["same_model"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=accounts, definition=models)
def test_sql_engine_equals_the_pure_module(rows, definition):
    require_postgres()
    with transaction.atomic():
        icp = ICP.objects.create(name="p", criteria=definition["criteria"], exclusions=definition["exclusions"])
        w_fit, w_signal, w_coverage = definition["weights"]
        rules = [
            {"kind": kind, "points": points, "half_life_days": definition["half_life"], "max_points": definition["cap"]}
            for kind, points in (("web_visit", 3), ("meeting", 15), ("content_download", 6))
        ]
        model = ScoringModel.objects.create(
            name="p", version=1, icp=icp, signal_rules=rules, required_personas=definition["personas"],
            w_fit=w_fit, w_signal=w_signal, w_coverage=w_coverage, full_signal_points=definition["full"],
            contact_cap=definition["contact_cap"], **definition["thresholds"], **definition["tiers"],
        )  # fmt: skip
        other = ScoringModel.objects.create(name="o", version=2, icp=icp, status=ScoringModel.Status.ARCHIVED)
        standings = {}
        for number, row in enumerate(rows):
            account = Account.objects.create(
                name=f"A{number}",
                **{k: v for k, v in row.items() if k not in ("contacts", "signals", "standing")},
            )
            if row["standing"] is not None:
                standings[account.pk] = stored_standing(
                    account, row["standing"], model if row["standing"]["same_model"] else other
                )
            contacts = [
                Contact.objects.create(account=account, name=p, email=f"{n}@a{number}.example", persona=p)
                for n, p in enumerate(row["contacts"])
            ]
            for kind, age_days, contact_index in row["signals"]:
                contact = contacts[contact_index] if 0 <= contact_index < len(contacts) else None
                Signal.objects.create(
                    account=account, contact=contact, kind=kind, occurred_at=AS_OF - dt.timedelta(days=age_days)
                )
        placements = {}
        plan, expected = Plan.of(model), pure_scores(model, AS_OF, standings, placements)
        rows = list(_sql_rows(plan, Selection(), AS_OF))
        direct = {r.account_id: (r.fit, r.signal, r.coverage, r.unified, r.tier, r.explanation) for r in rows}
        assert_same(direct, expected)
        # The whole placement: tier, time in tier, surge, flags, candidate and target.
        assert {r.account_id: r.placement for r in rows} == placements
        # The bulk path: slices of accounts by id range.
        ids = sorted(expected)
        middle = ids[len(ids) // 2]
        sliced = {}
        for selection in (Selection(hi=middle), Selection(lo=middle)):
            for r in _sql_rows(plan, selection, AS_OF):
                sliced[r.account_id] = (r.fit, r.signal, r.coverage, r.unified, r.tier, r.explanation)
        assert_same(sliced, expected)
        transaction.set_rollback(True)


def test_decimal_revenue_ranges_compare_like_the_pure_module():
    require_postgres()
    icp = ICP.objects.create(
        name="r", criteria=[{"attribute": "annual_revenue", "operator": "gte", "value": 1000000.01, "points": 10}]
    )
    model = ScoringModel.objects.create(name="r", version=1, icp=icp)
    for revenue in (Decimal("1000000.00"), Decimal("1000000.01"), Decimal("1000000.02"), None):
        Account.objects.create(name=str(revenue), annual_revenue=revenue)
    found = {r.account_id: r.fit for r in _sql_rows(Plan.of(model), Selection(), AS_OF)}
    assert sorted(found.values()) == [0.0, 0.0, 100.0, 100.0]
    assert found == {k: v[0] for k, v in pure_scores(model, AS_OF).items()}


def test_signal_then_counts_a_signal_past_todays_lookback_but_within_thens():
    """signal(now - window) reads the lookback back from then, not from now: a signal 368 days old is past a 365-day
    lookback today but 361 days old as of a week ago, where it still counts (10 * 0.5 ** (361 / 400) = 5.35)."""
    require_postgres()
    icp = ICP.objects.create(name="p", criteria=[], exclusions=[])
    rule = {"kind": "meeting", "points": 10, "half_life_days": 400, "max_points": 100}
    model = ScoringModel.objects.create(
        name="p", version=1, icp=icp, signal_rules=[rule], full_signal_points=10, surge_window_days=7, surge_delta=5
    )
    account = Account.objects.create(name="A")
    for age in (368, 0):
        Signal.objects.create(account=account, kind="meeting", occurred_at=AS_OF - dt.timedelta(days=age))

    plan = Plan.of(model)
    (row,) = _sql_rows(plan, Selection(), AS_OF)
    expected = round1(100 * 10 * 0.5 ** (361 / 400) / 10)
    events = [SignalEvent("meeting", s.occurred_at) for s in Signal.objects.all()]
    pure = signal_score_then(plan.params.signal_rules, events, AS_OF, 7, 365, 10)
    assert expected == round1(pure) == 53.5
    assert (row.signal, row.signal_then) == (100.0, expected)
    assert row.placement.surge_started
