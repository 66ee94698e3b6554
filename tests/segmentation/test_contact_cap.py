"""The per-contact cap: one noisy contact cannot make an account surge; both engines cap alike; no cap, no change."""

import datetime as dt

import pytest

from accounts.criteria import VALUE_COLUMNS, account_values
from accounts.models import Account, Contact, Signal
from segmentation.engine import Plan, Selection
from segmentation.engine.python import python_rows
from segmentation.engine.sql import sql_rows
from segmentation.engine.sql_signals import signal_aggregate_sql
from segmentation.models import ICP, ScoringModel
from segmentation.scoring import SignalEvent, SignalRule, round1, score_and_place, signal_score, signal_score_then
from segmentation.tiers import Standing
from tests.conftest import require_postgres

from .test_engine import AS_OF, assert_same, pure_scores

pytestmark = pytest.mark.django_db


def account_row(account: Account) -> dict:
    return Account.objects.values(*VALUE_COLUMNS).get(pk=account.pk)


RULES = [
    {"kind": "web_visit", "points": 5, "half_life_days": 30, "max_points": 100},
    {"kind": "meeting", "points": 20, "half_life_days": 60, "max_points": 100},
]


def noisy_world(contact_cap=None, **model_values):
    """Acme: Jane Doe visited the site 17 times today (85 points), John Roe had one meeting (20), and one web visit
    has no contact (5). Globex: one meeting from its only contact (20), within any cap."""
    criteria = [{"group": "Industry", "attribute": "industry", "operator": "eq", "value": "Software", "points": 10}]
    icp = ICP.objects.create(name="icp", criteria=criteria)
    model = ScoringModel.objects.create(
        name="m", version=1, icp=icp, status=ScoringModel.Status.ACTIVE, criteria=criteria, signal_rules=RULES,
        full_signal_points=100, contact_cap=contact_cap, **model_values,
    )  # fmt: skip
    acme = Account.objects.create(name="Acme", industry="Software")
    jane = Contact.objects.create(account=acme, name="Jane Doe", email="jane@acme.example", persona="user")
    john = Contact.objects.create(account=acme, name="John Roe", email="john@acme.example", persona="champion")
    for _ in range(17):
        Signal.objects.create(account=acme, contact=jane, kind="web_visit", occurred_at=AS_OF)
    Signal.objects.create(account=acme, contact=john, kind="meeting", occurred_at=AS_OF)
    Signal.objects.create(account=acme, kind="web_visit", occurred_at=AS_OF)
    globex = Account.objects.create(name="Globex", industry="Software")
    ann = Contact.objects.create(account=globex, name="Ann Lee", email="ann@globex.example", persona="champion")
    Signal.objects.create(account=globex, contact=ann, kind="meeting", occurred_at=AS_OF - dt.timedelta(days=60))
    return model, acme, globex


def test_a_noisy_contact_adds_at_most_the_cap_by_hand():
    """Jane's 85 points count 30; John's 20 and the contactless 5 count in full: 30 + 20 + 5 = 55 of 100."""
    model, acme, globex = noisy_world(contact_cap=30)
    rows = {r.account_id: r for r in python_rows(Plan.of(model), Selection(), AS_OF)}
    assert rows[acme.pk].signal == 55.0
    assert rows[globex.pk].signal == 10.0  # 20 * 0.5 ** (60 / 60): within the cap
    # Unified = 0.6 * 100 + 0.3 * 55 + 0.1 * 0 = 76.5
    assert rows[acme.pk].unified == 76.5


def test_without_a_cap_the_noisy_contact_counts_in_full():
    model, acme, _ = noisy_world()
    rows = {r.account_id: r for r in python_rows(Plan.of(model), Selection(), AS_OF)}
    assert rows[acme.pk].signal == 100.0  # 85 + 20 + 5 = 110, a signal score of 100


def test_a_capped_contact_spreads_the_cap_over_its_kinds():
    rules = [SignalRule("web_visit", 5, 30, 100), SignalRule("meeting", 20, 60, 12)]
    events = [SignalEvent("web_visit", AS_OF, contact=1)] * 4 + [SignalEvent("meeting", AS_OF, contact=1)]
    # Contact 1: 20 + 20 = 40 points, capped at 10: each kind counts a quarter, 5 + 5; the meeting cap (12) is not hit.
    signal, detail = signal_score(rules, events, AS_OF, 365, 100, 10)
    assert signal == pytest.approx(10.0)
    assert detail["kinds"]["meeting"]["points"] == pytest.approx(5.0)
    assert detail["contacts"] == {1: {"decayed": 40.0, "points": 10}}
    # Without the cap: 20 web visit points + the meeting's 20 capped at 12.
    assert signal_score(rules, events, AS_OF, 365, 100)[0] == pytest.approx(32.0)


def test_a_noisy_contact_cannot_make_an_account_surge():
    """Before the week's burst Jane already gave 30 points; her burst adds nothing with a cap of 30."""
    rules = [SignalRule("web_visit", 5, 3000, 1000)]
    week_ago = AS_OF - dt.timedelta(days=10)
    events = [SignalEvent("web_visit", week_ago, contact=1)] * 6 + [SignalEvent("web_visit", AS_OF, contact=1)] * 20
    now_capped = signal_score(rules, events, AS_OF, 365, 100, 30)[0]
    then_capped = signal_score_then(rules, events, AS_OF, 7, 365, 100, 30)
    assert round1(now_capped - then_capped) == 0.0
    now, then = signal_score(rules, events, AS_OF, 365, 100)[0], signal_score_then(rules, events, AS_OF, 7, 365, 100)
    assert round1(now - then) == pytest.approx(70.0, abs=0.2)  # uncapped: from 30 to 100, a surge of 70 points


@pytest.mark.postgres
@pytest.mark.parametrize("contact_cap", [None, 30, 4])
def test_sql_and_python_engines_cap_alike(contact_cap):
    require_postgres()
    model, acme, globex = noisy_world(contact_cap=contact_cap, surge_delta=5, surge_window_days=7)
    # Older signals too, so the surge test (the signal score a week ago) reads capped contacts as well.
    jane = Contact.objects.get(name="Jane Doe")
    for days in (8, 9, 30):
        Signal.objects.create(account=acme, contact=jane, kind="meeting", occurred_at=AS_OF - dt.timedelta(days=days))
    plan = Plan.of(model)
    expected = pure_scores(model, AS_OF)
    sql = {r.account_id: r for r in sql_rows(plan, Selection(), AS_OF)}
    python = {r.account_id: r for r in python_rows(plan, Selection(), AS_OF)}
    as_tuple = {k: (r.fit, r.signal, r.coverage, r.unified, r.tier, r.explanation) for k, r in sql.items()}
    assert_same(as_tuple, expected)
    for account_id, row in python.items():
        assert sql[account_id].signal == row.signal
        assert sql[account_id].placement == row.placement  # the surge test (signal a week ago) included
    if contact_cap == 4:
        assert sql[acme.pk].signal == 13.0  # Jane 4, John 4, the contactless visit 5


@pytest.mark.postgres
def test_without_a_cap_both_engines_score_as_before():
    """A model without a cap (every model until now) runs the statement it always ran, and the contacts behind the
    signals change nothing: the scores equal the pure module's on the same signals stripped of their contacts."""
    require_postgres()
    model, acme, _ = noisy_world(contact_cap=None, surge_delta=5)
    plan = Plan.of(model)
    assert " OVER " not in signal_aggregate_sql(plan, Selection(), AS_OF)[0]
    sql = {r.account_id: r for r in sql_rows(plan, Selection(), AS_OF)}
    python = {r.account_id: r for r in python_rows(plan, Selection(), AS_OF)}
    for account in Account.objects.all():
        events = [SignalEvent(s.kind, s.occurred_at) for s in Signal.objects.filter(account=account)]
        pure = score_and_place(plan.params, plan.rules, account_values(account_row(account)), events, Standing(), AS_OF)
        for rows in (sql, python):
            row = rows[account.pk]
            assert (row.fit, row.signal, row.unified) == (pure.score.fit, pure.score.signal, pure.score.unified)
            assert row.placement == pure.placement
    assert sql[acme.pk].signal == 100.0


@pytest.mark.postgres
def test_a_surge_from_points_shifting_between_kinds_is_found_by_sql_too():
    """Jane's points, capped at 30, shift between her kinds as they decay at different rates: eight days ago a
    meeting (50 points, half-life 1,000 days) and a download (50, half-life 1 day, its kind capped at 0.1). A week
    ago her 75 points counted 30, 20 of them the meeting's; now the download is worth 0.2 and the meeting counts 29.9.
    The signal score rises by 9.9 with no new signal: a surge (delta 5), which the SQL engine must not skip."""
    require_postgres()
    rules = [
        {"kind": "meeting", "points": 50, "half_life_days": 1000, "max_points": 100},
        {"kind": "content_download", "points": 50, "half_life_days": 1, "max_points": 0.1},
    ]
    icp = ICP.objects.create(name="icp", criteria=[])
    model = ScoringModel.objects.create(
        name="m", version=1, icp=icp, status=ScoringModel.Status.ACTIVE, signal_rules=rules, full_signal_points=100,
        contact_cap=30, surge_delta=5, surge_window_days=7,
    )  # fmt: skip
    account = Account.objects.create(name="Acme")
    jane = Contact.objects.create(account=account, name="Jane Doe", email="jane@acme.example")
    for kind in ("meeting", "content_download"):
        Signal.objects.create(account=account, contact=jane, kind=kind, occurred_at=AS_OF - dt.timedelta(days=8))
    plan = Plan.of(model)
    (python,) = python_rows(plan, Selection(), AS_OF)
    (sql,) = sql_rows(plan, Selection(), AS_OF)
    assert (python.signal, python.signal_then) == (30.0, 20.1)
    assert python.placement.surge_started
    assert sql.placement == python.placement
