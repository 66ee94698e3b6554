"""Spend potential: the rules, the set-based refresh (equal to the rules), its job, the account page, the lists,
their exports, the API and the totals per territory and tier (scoped like the accounts)."""

import csv
import datetime as dt
import io
import random
from fractions import Fraction

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import Account, Opportunity
from accounts.selectors import account_list
from core.models import Job
from insights.models import AccountPotential
from insights.potential import (
    MIN_INDUSTRY_DEALS,
    NO_AMOUNTS,
    NO_DEALS,
    SMOOTHING_K,
    band_of,
    deal_size,
    expected_value,
    overall_win_rate,
    potential_refresh,
    win_probability,
)
from insights.selectors import potential_grand_total, potential_totals
from insights.tasks import potential_refresh_task
from segmentation.models import AccountScore

from ..factories import AccountScoreFactory, OpportunityFactory, ScoringModelFactory

NOW = dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.UTC)

# --- the rules ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("unified", "band"),
    [(0, "0-20"), (19.9, "0-20"), (20, "20-40"), (39.9, "20-40"), (40, "40-60"), (59.9, "40-60"), (60, "60-80"),
     (79.9, "60-80"), (80, "80-100"), (99.9, "80-100"), (100, "80-100"), (-1, "0-20")],
)  # fmt: skip
def test_band_of_includes_the_lower_bound_and_100_is_in_the_top_band(unified, band):
    assert band_of(unified) == band


def test_win_probability_is_smoothed_toward_the_overall_rate():
    assert win_probability(wins=6, closed=8, p_all=0.5, k=20) == pytest.approx((6 + 10) / 28)
    # A thin band claims neither 100% nor 0%.
    assert 0.5 < win_probability(wins=2, closed=2, p_all=0.5) < 0.6
    assert 0.4 < win_probability(wins=0, closed=2, p_all=0.5) < 0.5
    assert win_probability(wins=0, closed=0, p_all=0.37) == pytest.approx(0.37)
    assert win_probability(wins=9, closed=9, p_all=0.5, suppressed=True) == 0
    assert overall_win_rate(wins=3, closed=4) == 0.75 and overall_win_rate(wins=0, closed=0) is None


def test_deal_size_falls_back_to_the_overall_mean_below_five_won_deals():
    assert deal_size(industry_won=5, industry_mean=3000.0, overall_mean=100.0) == 3000.0
    assert deal_size(industry_won=4, industry_mean=3000.0, overall_mean=100.0) == 100.0
    assert deal_size(industry_won=0, industry_mean=None, overall_mean=100.0) == 100.0
    assert expected_value(win_probability=0.25, deal_size=4000.0) == 1000.0


# --- the golden case ----------------------------------------------------------------------------------------------


@pytest.fixture
def golden(world):
    """Two bands, two industries (retail has 5 won deals with an amount, software 2), one suppressed account and
    an unscored one whose won deal counts nowhere.

        account             industry  unified  tier      closed deals
        north_account       retail    65       tier_2    won 1000, 2000, 3000; lost 9999
        south_account       retail    72       tier_1    won 4000, 5000, won without amount; lost
        owned_by_rep        software  30       tier_3    won 10000; lost, lost; (open 50000)
        north_east_account  software  25       suppress  won 6000; lost
        unrouted_account    retail    -        -         won 100000 (not scored: not counted)
    """
    model = ScoringModelFactory()
    rows = {
        "north_account": ("retail", 65.0, "tier_2", [(True, 1000), (True, 2000), (True, 3000), (False, 9999)]),
        "south_account": ("retail", 72.0, "tier_1", [(True, 4000), (True, 5000), (True, None), (False, 500)]),
        "owned_by_rep": ("software", 30.0, "tier_3", [(True, 10000), (False, 700), (False, None)]),
        "north_east_account": ("software", 25.0, "suppress", [(True, 6000), (False, 800)]),
    }
    for name, (industry, unified, tier, deals) in rows.items():
        account = getattr(world, name)
        Account.objects.filter(pk=account.pk).update(industry=industry)
        AccountScoreFactory(account=account, model=model, unified=unified, tier=tier)
        for won, amount in deals:
            OpportunityFactory(account=account, is_closed=True, is_won=won, stage="Won" if won else "Lost",
                               amount=amount)  # fmt: skip
    OpportunityFactory(account=world.owned_by_rep, is_closed=False, is_won=False, stage="Engaging", amount=50000)
    Account.objects.filter(pk=world.unrouted_account.pk).update(industry="retail")
    OpportunityFactory(account=world.unrouted_account, amount=100000)
    return world


# By hand: 60-80 closed 8, won 6; 20-40 closed 5, won 2; p_all = 8/13. Retail: 5 won deals, mean 3000; software
# has 2 (< 5), so the mean of all 7 won deals with an amount: 31000 / 7.
P_ALL = Fraction(8, 13)
WP_60 = (6 + SMOOTHING_K * P_ALL) / (8 + SMOOTHING_K)  # 17/26
WP_20 = (2 + SMOOTHING_K * P_ALL) / (5 + SMOOTHING_K)  # 186/325
OVERALL_MEAN = Fraction(31000, 7)
EXPECTED = {
    "north_account": ("60-80", WP_60, Fraction(3000)),
    "south_account": ("60-80", WP_60, Fraction(3000)),
    "owned_by_rep": ("20-40", WP_20, OVERALL_MEAN),
    "north_east_account": ("20-40", Fraction(0), OVERALL_MEAN),
}


def rows() -> dict[int, tuple]:
    return {
        p.account_id: (p.band, p.win_probability, p.deal_size, p.expected_value, p.computed_at)
        for p in AccountPotential.objects.all()
    }


def test_the_golden_case_by_hand(golden):
    result = potential_refresh(now=NOW)
    stored = rows()
    assert set(stored) == {getattr(golden, name).pk for name in EXPECTED}  # the unscored account has no row
    for name, (band, wp, size) in EXPECTED.items():
        got_band, got_wp, got_size, got_value, computed_at = stored[getattr(golden, name).pk]
        assert got_band == band, name
        assert got_wp == pytest.approx(float(wp), rel=1e-12), name
        assert got_size == pytest.approx(float(size), rel=1e-12), name
        assert got_value == pytest.approx(float(wp * size), rel=1e-12), name
        assert computed_at == NOW
    assert stored[golden.north_account.pk][3] == pytest.approx(1961.5384615384614)
    assert stored[golden.owned_by_rep.pk][3] == pytest.approx(2534.5054945054944)
    assert stored[golden.north_east_account.pk][3] == 0
    assert (result["accounts"], result["closed"], result["won"]) == (4, 13, 8)
    assert result["p_all"] == pytest.approx(float(P_ALL))
    assert result["bands"]["60-80"] == {"accounts": 2, "closed": 8, "won": 6, "win_probability": pytest.approx(17 / 26)}
    assert result["bands"]["20-40"] == {
        "accounts": 2, "closed": 5, "won": 2, "win_probability": pytest.approx(186 / 325),
    }  # fmt: skip
    for empty in ("0-20", "40-60", "80-100"):
        assert result["bands"][empty] == {
            "accounts": 0,
            "closed": 0,
            "won": 0,
            "win_probability": pytest.approx(8 / 13),
        }
    assert result["deal_size"] == {"won": 7, "mean": pytest.approx(31000 / 7)}
    assert result["industries"] == {
        "retail": {"won": 5, "mean": pytest.approx(3000)},
        "software": {"won": 2, "mean": pytest.approx(8000)},
    }
    assert (result["written"], result["removed"], result["k"], result["min_industry_deals"]) == (4, 0, 20, 5)
    assert "4 accounts" in result["message"] and "13 closed deals" in result["message"]


def test_a_rerun_changes_nothing_and_a_changed_score_is_rewritten(golden):
    potential_refresh(now=NOW)
    before = rows()
    again = potential_refresh(now=NOW + dt.timedelta(days=1))
    assert rows() == before  # not even computed_at: unchanged rows are not written
    assert (again["written"], again["removed"]) == (0, 0)
    AccountScore.objects.filter(account=golden.owned_by_rep).update(unified=85.0)
    later = NOW + dt.timedelta(days=2)
    potential_refresh(now=later)
    after = rows()
    assert after[golden.owned_by_rep.pk][0] == "80-100" and after[golden.owned_by_rep.pk][4] == later


def test_accounts_that_lost_their_score_lose_their_row(golden):
    potential_refresh(now=NOW)
    AccountScore.objects.filter(account=golden.north_account).delete()
    result = potential_refresh(now=NOW)
    assert golden.north_account.pk not in rows() and len(rows()) == 3
    assert result["removed"] == 1 and result["accounts"] == 3


def test_no_closed_deals_means_no_rows_and_says_so(golden):
    potential_refresh(now=NOW)
    Opportunity.objects.update(is_closed=False, is_won=False)
    result = potential_refresh(now=NOW)
    assert AccountPotential.objects.count() == 0
    assert result["message"] == NO_DEALS and result["notes"] == [NO_DEALS]
    assert (result["accounts"], result["closed"], result["p_all"]) == (0, 0, None)


def test_closed_deals_without_any_won_amount_give_no_rows(golden):
    Opportunity.objects.update(amount=None)
    result = potential_refresh(now=NOW)
    assert AccountPotential.objects.count() == 0 and result["message"] == NO_AMOUNTS


def test_the_task_runs_as_a_job_and_is_idempotent(golden, client):
    potential_refresh_task()
    potential_refresh_task()
    jobs = Job.objects.filter(kind=Job.Kind.POTENTIAL).order_by("pk")
    assert [j.status for j in jobs] == [Job.Status.SUCCEEDED] * 2
    assert jobs[0].result["summary"]["accounts"] == 4 and jobs[1].result["written"] == 0
    assert AccountPotential.objects.count() == 4
    client.force_login(golden.admin)
    page = client.get(reverse("job-detail", args=[jobs[1].pk])).content.decode()
    assert "Spend potential" in page and "overall win rate" in page


# --- the SQL equals the rules on random data ------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_sql_equals_the_rules_on_random_data(db, seed):
    rng = random.Random(seed)
    model = ScoringModelFactory()
    industries = ["retail", "software", "finance", "", "medical"]
    accounts = Account.objects.bulk_create(
        Account(name=f"R{seed}-{i}", industry=rng.choice(industries)) for i in range(40)
    )
    scored = [a for a in accounts if rng.random() < 0.85]
    AccountScore.objects.bulk_create(
        AccountScore(
            account=a, model=model, fit=50, signal=50, coverage=0.5,
            unified=rng.choice([0.0, 19.9, 20.0, 45.5, 60.0, 79.9, 80.0, 100.0, rng.uniform(0, 100)]),
            tier=rng.choice(["tier_1", "tier_2", "tier_3", "recycle", "suppress"]),
            tier_since=NOW, as_of=NOW, computed_at=NOW,
        )
        for a in scored
    )  # fmt: skip
    deals = []
    for n in range(150):
        closed = rng.random() < 0.8
        won = closed and rng.random() < 0.45
        amount = None if rng.random() < 0.1 else round(rng.uniform(100, 90000), 2)
        deals.append(Opportunity(account=rng.choice(accounts), external_id=f"R{seed}-{n}", stage="x",
                                 is_closed=closed, is_won=won, amount=amount))  # fmt: skip
    Opportunity.objects.bulk_create(deals)
    potential_refresh(now=NOW)

    # The same numbers from the rules, over plain Python values.
    scores = {s.account_id: s for s in AccountScore.objects.all()}
    industry_of = {a.pk: a.industry for a in accounts}
    by_band: dict[str, list[int]] = {}
    won_amounts: dict[str, list[float]] = {}
    every_amount: list[float] = []
    for deal in Opportunity.objects.filter(account_id__in=scores):
        if deal.is_closed:
            counts = by_band.setdefault(band_of(scores[deal.account_id].unified), [0, 0])
            counts[0] += 1
            counts[1] += deal.is_won
        if deal.is_won and deal.amount is not None:
            every_amount.append(float(deal.amount))
            if industry_of[deal.account_id]:
                won_amounts.setdefault(industry_of[deal.account_id], []).append(float(deal.amount))
    p_all = overall_win_rate(wins=sum(w for _, w in by_band.values()), closed=sum(c for c, _ in by_band.values()))
    overall_mean = sum(every_amount) / len(every_amount)
    stored = {p.account_id: p for p in AccountPotential.objects.all()}
    assert set(stored) == set(scores)
    for account_id, score in scores.items():
        band = band_of(score.unified)
        closed, won = by_band.get(band, [0, 0])
        amounts = won_amounts.get(industry_of[account_id], [])
        wp = win_probability(wins=won, closed=closed, p_all=p_all, suppressed=score.tier == "suppress")
        size = deal_size(
            industry_won=len(amounts),
            industry_mean=sum(amounts) / len(amounts) if amounts else None,
            overall_mean=overall_mean,
            min_deals=MIN_INDUSTRY_DEALS,
        )
        row = stored[account_id]
        assert row.band == band
        assert row.win_probability == pytest.approx(wp, rel=1e-12)
        assert row.deal_size == pytest.approx(size, rel=1e-9)
        assert row.expected_value == pytest.approx(expected_value(win_probability=wp, deal_size=size), rel=1e-9)


# --- the account page -----------------------------------------------------------------------------------------------


def detail(client, account) -> str:
    response = client.get(reverse("account-detail", args=[account.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_account_page_explains_the_number(golden, client):
    client.force_login(golden.north_rep)
    assert "Not computed yet" in detail(client, golden.north_account)
    potential_refresh_task()
    page = detail(client, golden.north_account)
    assert "$1,962" in page and "65%" in page and "$3,000" in page
    assert (
        "Win probability 65%: accounts scoring 60–80 won 6 of 8 closed deals (smoothed toward the overall 62%)." in page
    )
    assert "Deal size $3,000: mean of 5 won deals in retail." in page
    page = detail(client, golden.owned_by_rep)
    assert "Win probability 57%: accounts scoring 20–40 won 2 of 5 closed deals" in page
    assert "Deal size $4,429: mean of all 7 won deals (software has 2 won deals with an amount, fewer than 5)." in page
    client.force_login(golden.manager)
    page = detail(client, golden.north_east_account)
    assert "Win probability 0%: the account is suppressed" in page and "$0" in page


def test_the_account_page_costs_at_most_one_query_more(golden, client):
    client.force_login(golden.north_rep)
    detail(client, golden.north_account)  # fills the per-process caches

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            detail(client, golden.north_account)
        return len(captured.captured_queries)

    without = queries()
    potential_refresh_task()
    potential_refresh_task()  # a second job: still one look-up
    assert queries() <= without + 1


# --- lists, exports, API ------------------------------------------------------------------------------------------


def csv_rows(response) -> list[dict]:
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_account_list_sorts_by_expected_value_with_the_empty_last(golden, client):
    potential_refresh(now=NOW)
    client.force_login(golden.admin)
    w = golden
    ties = sorted([w.north_account.pk, w.south_account.pk])  # equal values: by id
    descending = [w.owned_by_rep.pk, *ties, w.north_east_account.pk, w.unrouted_account.pk]
    ascending = [w.north_east_account.pk, *ties, w.owned_by_rep.pk, w.unrouted_account.pk]
    for sort, expected in (("-expected_value", descending), ("expected_value", ascending)):
        response = client.get(reverse("account-list"), {"sort": sort})
        assert [row.record.pk for row in response.context["table"].paginated_rows] == expected, sort
        exported = csv_rows(client.get(reverse("account-export"), {"sort": sort}))
        assert [int(r["ID"]) for r in exported] == expected, sort
    assert "Expected value" in response.content.decode()
    by_id = {int(r["ID"]): r for r in exported}
    assert by_id[w.owned_by_rep.pk]["Expected value (USD)"] == "2535"  # 2,534.51, in whole dollars
    assert by_id[w.north_east_account.pk]["Win probability"] == "0%"
    assert by_id[w.unrouted_account.pk]["Expected value (USD)"] == ""


def test_the_tier_list_sorts_by_expected_value_and_exports_it(golden, client):
    potential_refresh(now=NOW)
    client.force_login(golden.manager)  # North and North-East: owned_by_rep, north_account, north_east_account
    response = client.get(reverse("tier-list"), {"sort": "-expected_value"})
    expected = [golden.owned_by_rep.pk, golden.north_account.pk, golden.north_east_account.pk]
    assert [row.record.pk for row in response.context["table"].paginated_rows] == expected
    assert "2,535" in response.content.decode()
    exported = csv_rows(client.get(reverse("tier-export"), {"sort": "-expected_value"}))
    assert [int(r["id"]) for r in exported] == expected
    assert float(exported[0]["expected_value"]) == pytest.approx(2534.5054945054944)


def test_the_api_shows_and_orders_by_expected_value(golden):
    potential_refresh(now=NOW)
    api = APIClient()
    api.force_authenticate(User.objects.get(pk=golden.admin.pk))
    body = api.get("/api/v1/accounts/", {"ordering": "-expected_value"}).json()
    values = [(r["id"], r["expected_value"]) for r in body["results"]]
    assert values[0] == (golden.owned_by_rep.pk, pytest.approx(2534.5054945054944))
    assert values[-1] == (golden.unrouted_account.pk, None)
    ascending = api.get("/api/v1/accounts/", {"ordering": "expected_value"}).json()["results"]
    assert ascending[0]["id"] == golden.north_east_account.pk and ascending[-1]["expected_value"] is None
    detail = api.get(f"/api/v1/accounts/{golden.north_account.pk}/").json()
    assert detail["expected_value"] == pytest.approx(1961.5384615384614)


# --- totals per territory and tier ---------------------------------------------------------------------------------


def totals(user, group_by: str) -> dict:
    return {row["label"]: row for row in potential_totals(accounts=account_list(user=user), group_by=group_by)}


def test_totals_by_territory_and_tier(golden):
    potential_refresh(now=NOW)
    ev = {name: float(wp * size) for name, (_, wp, size) in EXPECTED.items()}
    by_territory = totals(golden.admin, "territory")
    assert set(by_territory) == {"North", "North-East", "South"}  # the unscored, unrouted account has no potential
    north = by_territory["North"]
    assert north["key"] == golden.north.pk and north["accounts"] == 2
    assert north["expected_value"] == pytest.approx(ev["north_account"] + ev["owned_by_rep"])
    assert north["win_probability"] == pytest.approx((17 / 26 + 186 / 325) / 2)
    assert by_territory["South"]["expected_value"] == pytest.approx(ev["south_account"])
    assert by_territory["North-East"]["expected_value"] == 0
    rows = potential_totals(accounts=account_list(user=golden.admin), group_by="territory")
    assert [r["label"] for r in rows] == ["North", "South", "North-East"]  # largest first
    total = potential_grand_total(rows=rows)
    assert total["accounts"] == 4 and total["expected_value"] == pytest.approx(sum(ev.values()))
    assert total["win_probability"] == pytest.approx((2 * 17 / 26 + 186 / 325) / 4)
    by_tier = totals(golden.admin, "tier")
    assert {label: row["accounts"] for label, row in by_tier.items()} == {
        "Tier 1": 1, "Tier 2": 1, "Tier 3": 1, "Suppress": 1,
    }  # fmt: skip
    assert by_tier["Tier 3"]["key"] == "tier_3"
    assert by_tier["Tier 3"]["expected_value"] == pytest.approx(ev["owned_by_rep"])
    assert totals(golden.admin, "industry")["retail"]["accounts"] == 2


def test_totals_respect_the_scope(golden):
    potential_refresh(now=NOW)
    ev_rep = float(WP_20 * OVERALL_MEAN)
    # `rep` owns one account in North and sees nothing else: the North sum is theirs alone.
    assert {label: row["expected_value"] for label, row in totals(golden.rep, "territory").items()} == {
        "North": pytest.approx(ev_rep)
    }
    assert set(totals(golden.rep, "tier")) == {"Tier 3"}
    assert set(totals(golden.other_manager, "territory")) == {"South"}
    assert totals(golden.outsider, "territory") == {}
    owners = totals(golden.north_rep, "owner")
    assert owners[golden.north_rep.get_full_name() or "north_rep"]["accounts"] == 1
    with pytest.raises(ValueError, match="Group by one of"):
        potential_totals(accounts=account_list(user=golden.admin), group_by="planet")


def test_totals_take_one_query(golden, django_assert_num_queries):
    potential_refresh(now=NOW)
    accounts = account_list(user=User.objects.get(pk=golden.admin.pk))
    for group_by in ("territory", "tier", "industry", "owner", "country"):
        with django_assert_num_queries(1):
            rows = potential_totals(accounts=accounts, group_by=group_by)
        assert potential_grand_total(rows=rows)["accounts"] == 4


def test_the_demo_scoring_refreshes_the_potential(db):
    from demo.scoring import demo_scoring

    messages = []
    demo_scoring(out=messages.append)
    assert any(m.startswith("Spend potential:") for m in messages)
    # Tasks are eager in tests: the job ran in this process.
    assert Job.objects.filter(kind=Job.Kind.POTENTIAL, status=Job.Status.SUCCEEDED).exists()
