"""The KPIs: hand-computed figures on a small world, a planted effect found, scope, pages, CSV and API."""

import csv
import datetime as dt
import io
import random

import numpy as np
import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from rest_framework.test import APIClient

from accounts.models import Account, Opportunity
from insights import kpi_views
from insights.kpis import KPIS, Period, kpi_compute, kpi_overview
from segmentation.models import AccountScore
from territories.models import Quota

from ..factories import (
    AccountFactory,
    AccountScoreFactory,
    HandoffFactory,
    OpportunityFactory,
    ScoringModelFactory,
    TierChangeFactory,
)

MARCH = dt.date(2026, 3, 1)


def deal(account, *, won, on, amount=None, owner=None, closed=True):
    return OpportunityFactory(
        account=account,
        is_closed=closed,
        is_won=won,
        stage="Won" if won else ("Lost" if closed else "Engaging"),
        closed_on=on if closed else None,
        amount=amount,
        owner=owner if owner is not None else account.owner,
    )


@pytest.fixture
def figures(world):
    """Scores, deals, MQAs, handoffs and moves on the world's accounts; every KPI below is worked out by hand."""
    w = world
    model = ScoringModelFactory(status="active")
    scores = {
        w.owned_by_rep: (80, 60, 70, "tier_2"),
        w.north_account: (40, 20, 30, "tier_3"),
        w.north_east_account: (90, 90, 90, "tier_1"),
        w.south_account: (70, 10, 45, "suppress"),
    }
    for account, (fit, signal, unified, tier) in scores.items():
        AccountScoreFactory(account=account, model=model, fit=fit, signal=signal, unified=unified, tier=tier)
    deal(w.owned_by_rep, won=True, on=MARCH, amount=1000)
    deal(w.owned_by_rep, won=False, on=MARCH)
    deal(w.north_account, won=False, on=MARCH, amount=700)
    deal(w.north_east_account, won=True, on=MARCH, amount=3000, owner=w.sub_rep)
    deal(w.north_east_account, won=True, on=dt.date(2025, 1, 1), amount=500, owner=w.sub_rep)
    deal(w.south_account, won=True, on=MARCH, amount=2000)
    deal(w.south_account, won=False, on=None, amount=5000, closed=False)
    deal(w.owned_by_rep, won=False, on=None, amount=None, closed=False)
    now = timezone.now()
    accepted = HandoffFactory(account=w.north_east_account, tier="tier_1", owner=w.sub_rep, territory=w.north_east)
    accepted.status, accepted.decided_at = "accepted", accepted.assigned_at + dt.timedelta(hours=1)
    accepted.save()
    accepted.mqa.status = "accepted"
    accepted.mqa.save()
    rejected = HandoffFactory(account=w.owned_by_rep, tier="tier_2", owner=w.rep, territory=w.north)
    rejected.status, rejected.reason = "rejected", "no_budget"
    rejected.decided_at = rejected.assigned_at + dt.timedelta(hours=5)
    rejected.save()
    rejected.mqa.status = "rejected"
    rejected.mqa.save()
    TierChangeFactory(account=w.owned_by_rep, model=model, from_tier="tier_3", to_tier="tier_2", at=now)
    TierChangeFactory(account=w.north_account, model=model, from_tier="tier_2", to_tier="tier_3", at=now)
    Quota.objects.create(
        territory=w.south, period_start=dt.date(2026, 1, 1), period_end=dt.date(2026, 12, 31), amount=2500
    )
    return w


def total(key, user, **kwargs):
    return kpi_compute(key=key, user=user, **kwargs).total


def rows(key, user, segment, **kwargs):
    return {r.label: r for r in kpi_compute(key=key, user=user, segment=segment, **kwargs).rows}


def test_win_rate_by_hand(figures):
    w = figures
    t = total("win_rate", w.admin)
    assert (t.extra["successes"], t.n, t.value) == (4, 6, pytest.approx(400 / 6))
    in_2026 = total("win_rate", w.admin, period=Period(dt.date(2026, 1, 1), dt.date(2026, 12, 31)))
    assert (in_2026.extra["successes"], in_2026.n) == (3, 5)
    # A deal counts for its owner's team; `rep` is no territory's rep, so their deals count for the account's.
    by_territory = rows("win_rate", w.admin, "territory")
    assert {k: (r.extra["successes"], r.n) for k, r in by_territory.items()} == {
        "North": (1, 3),
        "North-East": (2, 2),
        "South": (1, 1),
    }
    by_owner = rows("win_rate", w.admin, "owner")
    name = {u: u.get_full_name() or u.username for u in (w.rep, w.north_rep, w.sub_rep, w.other_rep)}
    assert {k: r.n for k, r in by_owner.items()} == {
        name[w.rep]: 2,
        name[w.north_rep]: 1,
        name[w.sub_rep]: 2,
        name[w.other_rep]: 1,
    }


def test_account_kpis_by_hand(figures):
    w = figures
    assert total("engagement", w.admin).value == pytest.approx((60 + 20 + 90 + 10) / 4)
    assert total("engagement", w.admin).interval[0] < 45 < total("engagement", w.admin).interval[1]
    # Fit 50 or more (the default Tier 2 minimum fit) and not suppressed: owned_by_rep and north_east only.
    icp = total("icp_match", w.admin)
    assert (icp.extra["successes"], icp.n) == (2, 4)
    clv = total("clv", w.admin)
    assert (clv.n, clv.value) == (3, pytest.approx((1000 + 3500 + 2000) / 3))
    # Up to the end of 2025 only north_east had won (500).
    assert total("clv", w.admin, period=Period(end=dt.date(2025, 12, 31))).value == pytest.approx(500)
    mqa = total("mqa_rate", w.admin)
    assert (mqa.extra["successes"], mqa.n) == (2, 4)
    saa = total("saa_rate", w.admin)
    assert (saa.extra["successes"], saa.n) == (1, 2)
    conversion = kpi_compute(key="conversion", user=w.admin)
    assert {r.label: (r.extra["successes"], r.n) for r in conversion.rows} == {
        "0-20": (0, 0),
        "20-40": (0, 1),
        "40-60": (1, 1),
        "60-80": (1, 1),
        "80-100": (1, 1),
    }
    distribution = kpi_compute(key="tier_distribution", user=w.admin)
    assert {r.key: (r.extra["successes"], r.value) for r in distribution.rows} == {
        "tier_1": (1, 25.0),
        "tier_2": (1, 25.0),
        "tier_3": (1, 25.0),
        "recycle": (0, 0.0),
        "suppress": (1, 25.0),
    }
    assert (distribution.total.label, distribution.total.n, distribution.total.value) == ("All", 4, 100.0)
    movement = kpi_compute(key="tier_movement", user=w.admin)
    assert {r.key: (r.n, r.extra["direction"]) for r in movement.rows} == {
        "tier_3>tier_2": (1, "up"),
        "tier_2>tier_3": (1, "down"),
    }


def test_correlations_equal_numpy(figures):
    w = figures
    # Deals closed, with their account's unified score: owned_by_rep won and lost, north lost, north_east won twice,
    # south won.
    x, y = [70, 70, 30, 90, 90, 45], [1, 0, 0, 1, 1, 1]
    assert total("score_to_win", w.admin).value == pytest.approx(np.corrcoef(x, y)[0, 1])
    # Accounts with a closed deal: unified score against the amount won.
    x, y = [70, 30, 90, 45], [1000, 0, 3500, 2000]
    accuracy = total("accuracy", w.admin)
    assert accuracy.value == pytest.approx(np.corrcoef(x, y)[0, 1])
    assert accuracy.n == 4


def test_pipeline_coverage_against_the_quota(figures):
    w = figures
    year = Period(dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    t = total("pipeline", w.admin, period=year)
    # The figure is the coverage, a multiple of the quota; the pipeline itself is beside it.
    assert (t.n, t.value, t.extra["pipeline"], t.extra["unvalued"], t.extra["quota"]) == (2, 2.0, 5000, 1, 2500)
    south = rows("pipeline", w.admin, "territory", period=year)["South"]
    assert (south.value, south.extra["pipeline"], south.extra["quota"]) == (pytest.approx(2.0), 5000, 2500)
    # A quota of another year does not count: no quota, no figure, and the note says why.
    later = kpi_compute(key="pipeline", user=w.admin, period=Period(dt.date(2027, 1, 1), dt.date(2027, 3, 31)))
    assert (later.total.value, later.total.extra["quota"], later.total.extra["pipeline"]) == (None, None, 5000)
    assert later.note == "No quota covers this period, so there is no coverage to show."
    # A manager holds their pipeline against their own territories' quotas only.
    assert total("pipeline", w.manager, period=year).extra["quota"] is None
    assert total("pipeline", w.other_manager, period=year).extra["quota"] == 2500


def test_sla_and_rejections(figures):
    w = figures
    sla = total("sla_compliance", w.admin)
    assert (sla.extra["successes"], sla.n) == (1, 2)  # accepted in 1 h of 4; rejected after 5 h
    reasons = kpi_compute(key="rejection_reasons", user=w.admin)
    assert [(r.label, r.extra["successes"], r.value) for r in reasons.rows] == [("No budget", 1, 100.0)]
    assert (reasons.total.n, reasons.total.value) == (1, 100.0)


@pytest.mark.parametrize(
    "user, accounts",
    [
        ("rep", ["owned_by_rep"]),
        ("north_rep", ["north_account"]),
        ("manager", ["owned_by_rep", "north_account", "north_east_account"]),
        ("other_manager", ["south_account"]),
        ("admin", ["owned_by_rep", "north_account", "north_east_account", "south_account"]),
        ("outsider", []),
    ],
)
def test_scope_a_rep_counts_only_their_own_accounts(figures, user, accounts):
    """A rep's KPIs count the accounts they own, not their territory's; a manager's their territories'."""
    w = figures
    u = getattr(w, user)
    scored = {getattr(w, name).pk for name in accounts}
    assert total("engagement", u).n == len(scored)
    closed = Opportunity.objects.filter(account_id__in=scored, is_closed=True).count()
    assert total("win_rate", u).n == closed
    assert total("mqa_rate", u).n == len(scored)


def test_every_kpi_has_a_definition_and_computes_for_every_segment(figures):
    for key, kpi in KPIS.items():
        assert len(kpi.definition) > 40, key
        for segment in ("", *kpi.segments):
            result = kpi_compute(key=key, user=figures.admin, segment=segment)
            assert result.total.n >= 0
    with pytest.raises(ValueError, match="cannot be split by owner"):
        kpi_compute(key="conversion", user=figures.admin, segment="owner")
    assert [r.kpi.key for r in kpi_overview(user=figures.admin)] == list(KPIS)


def test_a_planted_effect_is_found_and_a_flat_one_is_not(db, admin_user):
    """One industry wins twice as often as the others: the win rate by industry says it differs, and ranks it
    first; the country, drawn independently of the outcome, does not."""
    rng = random.Random(5)
    industries = ["retail", "finance", "health", "energy", "media"]
    accounts = Account.objects.bulk_create(
        [Account(name=f"A{i}", industry=industries[i % 5], country=rng.choice(["France", "Spain"])) for i in range(200)]
    )
    deals = []
    for n in range(2000):
        account = accounts[n % 200]
        won = rng.random() < (0.6 if account.industry == "retail" else 0.3)
        deals.append(Opportunity(account=account, stage="x", is_closed=True, is_won=won, closed_on=MARCH))
    Opportunity.objects.bulk_create(deals)
    by_industry = kpi_compute(key="win_rate", user=admin_user, segment="industry")
    assert by_industry.test.significant is True
    assert "differ between groups more than chance" in by_industry.test.verdict
    ranked = sorted(by_industry.rows, key=lambda r: -r.value)
    assert ranked[0].label == "retail"
    assert ranked[0].interval[0] > max(r.interval[1] for r in ranked[1:])  # its interval clears every other
    assert 1.7 < ranked[0].value / np.mean([r.value for r in ranked[1:]]) < 2.3
    by_country = kpi_compute(key="win_rate", user=admin_user, segment="country")
    assert by_country.test.significant is False


# --- pages, CSV and API ---------------------------------------------------------------------------------------------


def card(client, key: str, **params) -> str:
    response = client.get(reverse("kpi-card", args=[key]), params)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    return response.content.decode()


def test_dashboard_paints_every_card_without_computing_any(client, figures, monkeypatch, django_assert_max_num_queries):
    """The dashboard computes no KPI: each card is fetched by the page from its own URL."""

    def refused(**kwargs):
        raise AssertionError("the dashboard computed a KPI")

    monkeypatch.setattr(kpi_views, "kpi_compute", refused)
    client.force_login(figures.admin)
    with django_assert_max_num_queries(12):  # session, user, role, snapshots: none of them counts deals or accounts
        response = client.get(reverse("kpi-dashboard"), {"period": "90"})
    assert response.status_code == 200
    body = response.content.decode()
    for kpi in KPIS.values():
        assert kpi.name in body
        assert f'data-kpi-card="{reverse("kpi-card", args=[kpi.key])}?period=90"' in body
    assert body.count("Computing…") == len(KPIS)
    assert "kpi_cards.js" in body and "chart.umd.min.js" in body


def test_each_card_shows_its_kpi_with_its_sample(client, figures):
    client.force_login(figures.admin)
    assert 'data-kpi="win_rate">66.7%' in card(client, "win_rate")
    assert "n = 6" in card(client, "win_rate")
    with_chart = next(kpi for kpi in KPIS.values() if kpi.breakdown)
    body = card(client, with_chart.key)
    assert f'id="chart-{with_chart.key}"' in body and "data-chart" in body


def test_rep_cards_count_only_their_accounts(client, figures):
    client.force_login(figures.rep)
    assert 'data-kpi="win_rate">50.0%' in card(client, "win_rate")  # their own account: one won, one lost
    assert "the accounts you own" in client.get(reverse("kpi-dashboard")).content.decode()


def test_card_refuses_bad_input_and_unknown_kpis(client, figures):
    client.force_login(figures.admin)
    url = reverse("kpi-card", args=["win_rate"])
    response = client.get(url, {"period": "custom", "start": "2026-05-01", "end": "2026-04-01"})
    assert response.status_code == 400
    assert "must be on or before the end date" in response.content.decode()
    assert client.get(reverse("kpi-card", args=["no_such_kpi"])).status_code == 404


def test_detail_page_definition_split_and_verdict(client, figures):
    client.force_login(figures.admin)
    response = client.get(reverse("kpi-detail", args=["win_rate"]), {"segment": "territory"})
    body = response.content.decode()
    assert response.status_code == 200
    assert escape(KPIS["win_rate"].definition) in body
    assert "North-East" in body and "data-verdict" in body
    assert "kpi-chart" in body


def test_detail_page_refuses_bad_input_with_messages(client, figures):
    client.force_login(figures.admin)
    url = reverse("kpi-detail", args=["win_rate"])
    response = client.get(url, {"period": "custom", "start": "2026-05-01", "end": "2026-04-01"})
    assert response.status_code == 400
    assert "must be on or before the end date" in response.content.decode()
    assert client.get(url, {"segment": "colour"}).status_code == 400
    assert client.get(url, {"start": "not a date"}).status_code == 400
    assert client.get(reverse("kpi-detail", args=["no_such_kpi"])).status_code == 404


def test_kpi_csv_export(client, figures):
    client.force_login(figures.admin)
    response = client.get(reverse("kpi-export", args=["win_rate"]), {"segment": "territory"})
    assert response.status_code == 200
    lines = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert lines[0] == ["territory", "n", "percent", "ci_low", "ci_high", "Won"]
    assert [line[:2] for line in lines[1:]] == [["North", "3"], ["North-East", "2"], ["South", "1"], ["All", "6"]]


def test_kpi_pages_refuse_users_without_a_role(client, figures):
    for name in ("kpi-dashboard",):
        assert client.get(reverse(name)).status_code == 302
        assert client.get(reverse("kpi-card", args=["win_rate"])).status_code == 302
        client.force_login(figures.outsider)
        assert client.get(reverse(name)).status_code == 403
        assert client.get(reverse("kpi-card", args=["win_rate"])).status_code == 403
        client.logout()
    client.force_login(figures.outsider)
    assert client.get(reverse("kpi-export", args=["win_rate"])).status_code == 403


def test_api_returns_the_same_numbers_as_the_pages(figures):
    api = APIClient()
    api.force_authenticate(figures.admin)
    listed = api.get("/api/v1/kpis/").json()["results"]
    win = next(r for r in listed if r["kpi"] == "win_rate")
    assert (win["total"]["n"], win["total"]["successes"]) == (6, 4)
    assert win["total"]["value"] == pytest.approx(400 / 6, abs=1e-4)
    detail = api.get("/api/v1/kpis/win_rate/", {"segment": "territory"}).json()
    assert {r["label"]: r["n"] for r in detail["rows"]} == {"North": 3, "North-East": 2, "South": 1}
    assert detail["test"]["significant"] in (True, False) and detail["test"]["verdict"]
    api.force_authenticate(figures.rep)
    mine = api.get("/api/v1/kpis/win_rate/").json()
    assert (mine["total"]["n"], mine["total"]["successes"]) == (2, 1)


def test_api_refuses_bad_input_and_strangers(figures):
    api = APIClient()
    assert api.get("/api/v1/kpis/").status_code == 401
    api.force_authenticate(figures.outsider)
    assert api.get("/api/v1/kpis/").status_code == 403
    api.force_authenticate(figures.admin)
    bad = api.get("/api/v1/kpis/win_rate/", {"segment": "colour"})
    assert bad.status_code == 400 and "segment" in bad.json()
    assert (
        api.get("/api/v1/kpis/win_rate/", {"period": "custom", "start": "2026-05-01", "end": "2026-01-01"}).status_code
        == 400
    )
    assert api.get("/api/v1/kpis/nope/").status_code == 404


def test_scores_missing_everywhere_give_empty_figures_not_errors(db, admin_user):
    AccountScore.objects.all().delete()
    for result in kpi_overview(user=admin_user):
        assert result.total.n == 0
    AccountFactory()
    assert kpi_compute(key="engagement", user=admin_user, segment="industry").rows == []


@pytest.mark.postgres
@pytest.mark.parametrize("key", ["conversion", "mqa_rate"])
def test_a_set_of_accounts_is_hashed_once_however_small_the_servers_memory(db, admin_user, key):
    """Counting the accounts found in a set (won deals, MQAs) must hash that set once. With the server's memory too
    small for the hash, PostgreSQL rescans the set for every account instead: at a million accounts an all-time
    dashboard would never finish. The server here is given the least memory it allows; the KPI still hashes."""
    from django.db import connection

    from segmentation.models import MQA
    from tests.conftest import require_postgres

    require_postgres()
    model = ScoringModelFactory(status="active")
    accounts = Account.objects.bulk_create(Account(name=f"H{n}") for n in range(6000))
    AccountScore.objects.bulk_create(
        AccountScore(
            account=a, model=model, fit=50, signal=50, coverage=0, unified=n % 100, tier="tier_3",
            tier_since=timezone.now(), as_of=timezone.now(), computed_at=timezone.now(),
        )
        for n, a in enumerate(accounts)
    )  # fmt: skip
    Opportunity.objects.bulk_create(
        Opportunity(account=a, stage="Won", is_closed=True, is_won=True, closed_on=MARCH) for a in accounts
    )
    MQA.objects.bulk_create(
        MQA(
            account=a,
            model=model,
            qualified_at=timezone.now(),
            tier="tier_3",
            fit=50,
            signal=50,
            coverage=0,
            unified=50,
        )
        for a in accounts
    )
    plans = []

    def explain(execute, sql, params, many, context):
        if " IN (SELECT DISTINCT " in sql and not sql.startswith("EXPLAIN"):
            with connection.cursor() as cursor:  # the same transaction, so the same settings
                cursor.execute("EXPLAIN VERBOSE " + sql, params)  # VERBOSE shows the aggregate's FILTER
                plans.append("\n".join(row[0] for row in cursor.fetchall()))
        return execute(sql, params, many, context)

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE accounts_opportunity, segmentation_mqa, segmentation_accountscore")
        cursor.execute("SET LOCAL work_mem = '64kB'")
    with connection.execute_wrapper(explain):
        result = kpi_compute(key=key, user=admin_user)

    assert result.total.n == 6000 and result.total.extra["successes"] == 6000
    assert plans and all("hashed SubPlan" in plan for plan in plans), plans


# --- p-values as people read them, and conversion over a period ----------------------------------------------------


def test_a_p_value_never_reads_as_zero():
    from core.stats import p_value_text

    assert p_value_text(0.0) == "< 1e-6"  # a test whose p underflowed
    assert p_value_text(1e-300) == "< 1e-6"
    assert p_value_text(9.9e-7) == "< 1e-6"
    assert p_value_text(3.2e-5) == "3.2e-5"
    assert p_value_text(0.000999) == "1.0e-3"
    assert p_value_text(0.001) == "0.001"
    assert p_value_text(0.0423) == "0.042"
    assert p_value_text(0.5) == "0.500"
    assert p_value_text(None) == "–"


def overwhelming(admin_user) -> None:
    """Retail accounts win every deal, the others none: a split by industry differs beyond any doubt."""
    industries = ["retail", "finance", "health", "energy", "media"]
    accounts = Account.objects.bulk_create(Account(name=f"O{i}", industry=industries[i % 5]) for i in range(100))
    Opportunity.objects.bulk_create(
        Opportunity(account=a, stage="x", is_closed=True, is_won=a.industry == "retail", closed_on=MARCH)
        for a in accounts
        for _ in range(20)
    )


def test_an_overwhelming_difference_reads_below_one_in_a_million_everywhere(db, admin_user, client):
    overwhelming(admin_user)
    result = kpi_compute(key="win_rate", user=admin_user, segment="industry")
    assert result.test.p_value < 1e-6 and result.test.significant
    assert "(χ² test, p < 1e-6)" in result.test.verdict
    assert "p = 0" not in result.test.verdict

    # The API keeps `p_value` a number (clients compare it with 0.05), never 0, and adds the words the pages use.
    api = APIClient()
    api.force_authenticate(admin_user)
    test = api.get("/api/v1/kpis/win_rate/", {"segment": "industry"}).json()["test"]
    assert 0 < test["p_value"] < 1e-6
    assert test["p_value_text"] == "< 1e-6"

    client.force_login(admin_user)
    page = client.get(reverse("kpi-detail", args=["win_rate"]), {"segment": "industry"}).content.decode()
    assert "p &lt; 1e-6" in page and "p = 0" not in page and "p = 0.0" not in page


def test_a_moderate_p_value_reads_in_three_decimals_in_the_verdict_and_the_api(db, admin_user):
    accounts = Account.objects.bulk_create(Account(name=f"M{i}", industry=("a", "b")[i % 2]) for i in range(2))
    # 30 of 100 against 45 of 100: χ² = 4.8, p = 0.028.
    Opportunity.objects.bulk_create(
        Opportunity(account=accounts[g], stage="x", is_closed=True, is_won=i < won, closed_on=MARCH)
        for g, won in ((0, 30), (1, 45))
        for i in range(100)
    )
    result = kpi_compute(key="win_rate", user=admin_user, segment="industry")
    assert "p = 0.028)" in result.test.verdict
    api = APIClient()
    api.force_authenticate(admin_user)
    test = api.get("/api/v1/kpis/win_rate/", {"segment": "industry"}).json()["test"]
    assert test["p_value"] == pytest.approx(0.0285, abs=5e-4) and test["p_value_text"] == "0.028"


def test_conversion_over_a_period_counts_only_the_accounts_with_a_deal_closed_in_it(figures):
    """In March 2026 four accounts closed a deal: owned_by_rep (won and lost), north (lost), north_east (won) and
    south (won). North-East's 2025 win is outside; an account scored 95 that closed its only deal in 2025, and one
    that closed none, are not counted however high they score; all time counts every closed deal, even one without a
    close date."""
    w = figures
    model = w.owned_by_rep.score.model
    last_year = AccountFactory(territory=w.north, owner=w.north_rep)
    AccountScoreFactory(account=last_year, model=model, unified=95, tier="tier_1")
    deal(last_year, won=True, on=dt.date(2025, 6, 1))
    idle = AccountFactory(territory=w.north, owner=w.north_rep)
    AccountScoreFactory(account=idle, model=model, unified=85, tier="tier_1")
    undated = AccountFactory(territory=w.north, owner=w.north_rep)
    AccountScoreFactory(account=undated, model=model, unified=10, tier="recycle")
    OpportunityFactory(account=undated, is_closed=True, is_won=True, stage="Won", closed_on=None)

    march = Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    in_march = kpi_compute(key="conversion", user=w.admin, period=march)
    closed_in_march = set(
        Opportunity.objects.filter(is_closed=True, closed_on__range=(march.start, march.end)).values_list(
            "account_id", flat=True
        )
    )
    assert in_march.total.n == len(closed_in_march) == 4
    assert {r.label: (r.extra["successes"], r.n) for r in in_march.rows} == {
        "0-20": (0, 0),
        "20-40": (0, 1),  # north: lost
        "40-60": (1, 1),  # south: won
        "60-80": (1, 1),  # owned_by_rep: won one, lost one
        "80-100": (1, 1),  # north_east: won; last_year (95) and idle (85) are not counted
    }
    in_2025 = kpi_compute(key="conversion", user=w.admin, period=Period(dt.date(2025, 1, 1), dt.date(2025, 12, 31)))
    assert (in_2025.total.extra["successes"], in_2025.total.n) == (2, 2)  # north_east and last_year, both won
    every = kpi_compute(key="conversion", user=w.admin)
    assert (every.total.extra["successes"], every.total.n) == (5, 6)  # the four, last_year, and undated's win
    assert {r.label: r.n for r in every.rows}["0-20"] == 1
    assert "Over all time every closed deal counts" in KPIS["conversion"].definition


def test_the_conversion_card_says_the_accounts_it_counts_closed_a_deal_in_the_period(client, figures):
    client.force_login(figures.admin)
    body = card(client, "conversion", period="custom", start="2025-01-01", end="2025-12-31")
    assert "Overall 100.0% of 1 account with a deal closed in the period" in body
    assert "with a deal closed in the period" not in card(client, "conversion")
