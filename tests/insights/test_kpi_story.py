"""How the KPI pages read: conversion over the accounts that had a deal closed, shares that add up to 100%, coverage
as a multiple (or why there is none), and "too few to say" where a sample is too small for an interval."""

import datetime as dt

import pytest
from django.urls import reverse

from insights.kpi_format import MIN_INTERVAL_N, format_value, interval_words, pipeline_words
from insights.kpis import Period, Row, kpi_compute
from territories.models import Quota

from ..factories import (
    AccountFactory,
    AccountScoreFactory,
    OpportunityFactory,
    ScoringModelFactory,
    TerritoryFactory,
)
from .test_kpis import MARCH, deal, figures  # noqa: F401  (the fixture)


def card(client, key: str, **params) -> str:
    response = client.get(reverse("kpi-card", args=[key]), params)
    assert response.status_code == 200
    return response.content.decode()


def test_conversion_counts_the_accounts_with_a_deal_closed_in_the_period(figures):  # noqa: F811
    w = figures
    # A scored account in the top band that closed no deal: it had no chance to convert, so it is not counted.
    idle = AccountFactory(territory=w.north, owner=w.north_rep)
    AccountScoreFactory(account=idle, model=w.owned_by_rep.score.model, unified=95, tier="tier_1")
    OpportunityFactory(account=idle, is_closed=False, is_won=False, stage="Engaging", closed_on=None)
    conversion = kpi_compute(key="conversion", user=w.admin)
    assert {r.label: (r.extra["successes"], r.n) for r in conversion.rows} == {
        "0-20": (0, 0),
        "20-40": (0, 1),
        "40-60": (1, 1),
        "60-80": (1, 1),
        "80-100": (1, 1),
    }
    assert (conversion.total.extra["successes"], conversion.total.n) == (3, 4)
    # In 2025 only north_east closed a deal (and won it): one account, converted.
    in_2025 = kpi_compute(key="conversion", user=w.admin, period=Period(dt.date(2025, 1, 1), dt.date(2025, 12, 31)))
    assert (in_2025.total.extra["successes"], in_2025.total.n) == (1, 1)
    # An account that only lost in the period counts, unconverted.
    deal(idle, won=False, on=MARCH)
    top = {r.label: r for r in kpi_compute(key="conversion", user=w.admin).rows}["80-100"]
    assert (top.extra["successes"], top.n) == (1, 2)


def test_the_conversion_card_says_what_it_counts(client, figures):  # noqa: F811
    client.force_login(figures.admin)
    body = card(client, "conversion")
    assert "Overall 75.0% of 4 accounts with a deal closed" in body


def test_tier_distribution_reads_in_percent_and_all_is_100(client, figures):  # noqa: F811
    client.force_login(figures.admin)
    body = card(client, "tier_distribution")
    for label in ("Tier 1", "Tier 2", "Tier 3", "Suppress"):
        assert f"{label} <strong>25.0%</strong>" in body
    assert "Recycle <strong>0.0%</strong>" in body
    assert "All = <strong>100%</strong>" in body
    assert "n = 4 accounts" in body
    page = client.get(reverse("kpi-detail", args=["tier_distribution"])).content.decode()
    assert "data-kpi-all>100.0%</td>" in page
    assert "4 accounts" in page and '<th scope="col" class="text-end">Accounts</th>' in page
    # The chart draws percents.
    assert '"percentAxis": "y"' in body


def test_rejection_reasons_read_in_percent(client, figures):  # noqa: F811
    client.force_login(figures.admin)
    body = card(client, "rejection_reasons")
    assert "No budget <strong>100.0%</strong>" in body and "n = 1 rejections" in body


def test_pipeline_coverage_is_a_multiple_never_dollars(client, figures):  # noqa: F811
    client.force_login(figures.admin)
    year = {"period": "custom", "start": "2026-01-01", "end": "2026-12-31"}
    body = card(client, "pipeline", **year)
    assert 'data-kpi="pipeline">2.0×</p>' in body
    assert "Open pipeline $5K in 2 open deals (1 without an amount), against $2.5K of quota." in body
    # No quota over the period: the card says so instead of a figure.
    later = card(client, "pipeline", period="custom", start="2027-01-01", end="2027-03-31")
    assert "data-no-quota>No quota covers this period, so there is no coverage to show.</p>" in later
    assert "$0" not in later and "×" not in later
    detail = client.get(reverse("kpi-detail", args=["pipeline"]), {**year, "segment": "territory"}).content.decode()
    assert "data-kpi-total>2.0×</p>" in detail
    assert '<td class="text-end">$5K</td>' in detail  # the pipeline column of South


def test_pipeline_without_amounts_is_not_zero_dollars(db, admin_user, client):
    account = AccountFactory(territory=TerritoryFactory())
    for _ in range(3):
        OpportunityFactory(account=account, is_closed=False, is_won=False, stage="Prospecting", amount=None)
    Quota.objects.create(
        territory=account.territory, period_start=dt.date(2026, 1, 1), period_end=dt.date(2026, 12, 31), amount=1000
    )
    client.force_login(admin_user)
    body = card(client, "pipeline", period="custom", start="2026-01-01", end="2026-12-31")
    assert 'data-kpi="pipeline">0.0×</p>' in body
    assert "3 open deals, none with an amount yet, against $1K of quota." in body
    assert "$0" not in body
    no_quota = card(client, "pipeline", period="custom", start="2027-01-01", end="2027-12-31")
    assert "3 open deals, none with an amount yet." in no_quota and "$0" not in no_quota


def test_words_for_figures():
    assert format_value(1.83, "ratio") == "1.8×"
    assert format_value(1_500_000, "usd") == "$1.5M"
    assert pipeline_words(Row("", "All", 0, None, extra={"pipeline": 0.0, "unvalued": 0})) == "No open deal"
    one = Row("", "All", 1, None, extra={"pipeline": 2500.0, "unvalued": 0})
    assert pipeline_words(one) == "Open pipeline $2.5K in 1 open deal"


@pytest.mark.parametrize(
    "n, words",
    [
        (MIN_INTERVAL_N - 1, f"too few to say (n < {MIN_INTERVAL_N})"),
        (MIN_INTERVAL_N, "40.0% to 60.0%"),
    ],
)
def test_intervals_under_ten_cases_are_too_few_to_say(n, words):
    assert interval_words(Row("", "All", n, 50.0, interval=(40.0, 60.0)), "percent") == words
    assert interval_words(Row("", "All", 0, None), "percent") == ""


def test_cards_and_pages_say_too_few_to_say(client, figures):  # noqa: F811
    client.force_login(figures.admin)
    body = card(client, "win_rate")  # six deals
    assert "n = 6 · <span data-too-few>too few to say (n &lt; 10)</span>" in body
    assert "95% interval" not in body
    dashboard = client.get(reverse("kpi-dashboard")).content.decode()
    assert "with fewer than 10 cases (n &lt; 10)" in dashboard and "too few to say" in dashboard
    detail = client.get(reverse("kpi-detail", args=["win_rate"]), {"segment": "territory"}).content.decode()
    assert detail.count("too few to say (n &lt; 10)") >= 4  # each territory and All
    assert "with fewer than 10 cases the page says “too few to say”" in detail
    # Correlations too: no verdict of "significant" or "not" on four accounts.
    accuracy = card(client, "accuracy")
    assert "Too few cases to say whether there is a relation (n &lt; 10)." in accuracy


def test_a_large_enough_sample_shows_its_interval(client, db, admin_user):
    model = ScoringModelFactory(status="active")
    for n in range(12):
        account = AccountFactory()
        AccountScoreFactory(account=account, model=model, unified=50, tier="tier_2")
        deal(account, won=n % 2 == 0, on=MARCH)
    client.force_login(admin_user)
    body = card(client, "win_rate")
    assert "n = 12 · 95% interval" in body and "too few" not in body


def test_the_pipeline_column_of_unvalued_deals_is_a_dash_not_zero_dollars(client, db, admin_user):
    account = AccountFactory(territory=TerritoryFactory(name="Central"))
    OpportunityFactory(account=account, is_closed=False, is_won=False, stage="Prospecting", amount=None)
    client.force_login(admin_user)
    page = client.get(reverse("kpi-detail", args=["pipeline"]), {"segment": "territory"}).content.decode()
    assert "$0" not in page
    assert "1 open deal, none with an amount yet." in page
