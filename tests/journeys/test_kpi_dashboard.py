"""The KPI dashboard paints at once and fills each card as it is computed; it draws its charts (vendored Chart.js,
data from json_script) under the strict CSP."""

import datetime as dt

import pytest
from playwright.sync_api import expect

from insights.kpis import KPIS
from insights.snapshots import kpi_snapshot_take

from ..factories import AccountScoreFactory, OpportunityFactory, ScoringModelFactory
from .steps import SHOTS, log_in
from .test_csp import watch_for_problems

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def scored(world):
    model = ScoringModelFactory(status="active")
    for account, unified, tier in (
        (world.owned_by_rep, 70, "tier_2"),
        (world.north_account, 30, "tier_3"),
        (world.north_east_account, 90, "tier_1"),
    ):
        AccountScoreFactory(account=account, model=model, unified=unified, tier=tier)
        OpportunityFactory(account=account, is_won=unified > 50, stage="x", closed_on=dt.date(2026, 3, 1))
    kpi_snapshot_take()
    return world


def drawn(page) -> list[bool]:
    return page.locator("canvas[data-chart]").evaluate_all("canvases => canvases.map(c => Boolean(c.chart))")


def test_dashboard_and_detail_draw_their_charts(page, live_server, scored):
    problems = watch_for_problems(page)
    log_in(page, live_server, "manager")
    response = page.goto(f"{live_server.url}/kpis/")
    assert response.status == 200
    page.wait_for_load_state("networkidle")
    assert page.locator("[data-kpi-card][aria-busy]").count() == 0
    assert page.locator("[data-kpi-state=done]").count() == len(KPIS)
    charts = drawn(page)
    assert len(charts) >= 4 and all(charts), charts  # the breakdowns and the trends
    assert page.locator("[data-kpi=win_rate]").inner_text() == "66.7%"

    page.select_option("#id_period", "all")
    page.click("a:has-text('Win rate')")
    page.select_option("#id_segment", "tier")
    page.click("button:has-text('Show')")
    page.wait_for_url("**/kpis/win_rate/**segment=tier**")
    assert drawn(page) == [True]
    assert page.locator("table tbody tr").count() == 3
    assert not problems, problems


def test_dashboard_paints_before_its_cards_are_computed(page, live_server, scored):
    """With the card answers held back (a slow KPI at a million accounts), the page is already there, each card
    saying it is computing; released, every card fills in, and one that fails says so."""
    problems = watch_for_problems(page)
    log_in(page, live_server, "admin")
    held, holding = [], [True]

    def answer(route):  # the pipeline card's computation fails; every other card is answered by the server
        if "/kpis/pipeline/card/" in route.request.url:
            route.fulfill(status=500, body="Server Error")
        else:
            route.continue_()

    page.route("**/kpis/*/card/**", lambda route: held.append(route) if holding[0] else answer(route))
    page.goto(f"{live_server.url}/kpis/")
    expect(page.locator("[data-kpi-card]")).to_have_count(len(KPIS))
    page.wait_for_timeout(300)
    assert page.locator("[data-kpi-pending]").count() == len(KPIS)
    assert page.locator("[data-kpi-card][aria-busy=true]").count() == len(KPIS)
    assert page.locator("h2:has-text('Win rate')").is_visible()
    assert len(held) == 3  # a few at a time, not every card at once
    holding[0] = False
    for route in held:
        answer(route)
    expect(page.locator("[data-kpi-card][aria-busy]")).to_have_count(0)
    assert page.locator("[data-kpi-state=done]").count() == len(KPIS) - 1
    failed = page.locator("[data-kpi-state=failed]")
    assert failed.count() == 1 and "Could not compute this figure" in failed.inner_text()
    assert failed.locator("a:has-text('Pipeline coverage')").count() == 1  # its link to the KPI's page stays
    assert page.locator("[data-kpi=win_rate]").inner_text() == "66.7%"  # two of the three deals won
    page.screenshot(path="/tmp/kpi-dashboard-filled.png", full_page=True)
    assert not [p for p in problems if "500" not in p], problems
    page.problems[:] = [p for p in page.problems if "500" not in p]  # the card's failure was made on purpose


def test_the_dashboard_reads_in_shares_multiples_and_honest_samples(page, live_server, scored):
    """Tier distribution in percent adding up to 100%; pipeline coverage as a multiple of the quota, or the sentence
    saying no quota covers the period; and a sample under ten cases says "too few to say" rather than an interval."""
    from territories.models import Quota

    SHOTS.mkdir(parents=True, exist_ok=True)
    OpportunityFactory(account=scored.north_account, is_closed=False, is_won=False, stage="Engaging", amount=9000)
    log_in(page, live_server, "admin")
    page.goto(f"{live_server.url}/kpis/")
    expect(page.locator("[data-kpi-card][aria-busy]")).to_have_count(0)
    shares = page.locator("[data-kpi-shares=tier_distribution]")
    for label in ("Tier 1 33.3%", "Tier 2 33.3%", "Tier 3 33.3%", "Recycle 0.0%", "All = 100%"):
        expect(shares).to_contain_text(label)
    assert page.locator("[data-kpi=pipeline][data-no-quota]").inner_text() == (
        "No quota covers this period, so there is no coverage to show."
    )
    expect(page.locator("[data-kpi-card]", has_text="Pipeline coverage")).not_to_contain_text("$0")
    assert page.locator("[data-kpi=win_rate]").inner_text() == "66.7%"
    expect(page.locator("[data-kpi-card]", has_text="Win rate")).to_contain_text("n = 3 · too few to say (n < 10)")
    expect(page.locator("main > p.text-muted").first).to_contain_text("with fewer than 10 cases (n < 10)")
    page.screenshot(path=str(SHOTS / "kpi-dashboard-no-quota.png"), full_page=True)

    # With a quota over the period, coverage is a multiple: $9K of open pipeline against $5K is 1.8×.
    year = dt.date.today().replace(month=1, day=1)
    Quota.objects.create(
        territory=scored.north, period_start=year, period_end=year.replace(month=12, day=31), amount=5000
    )
    page.goto(f"{live_server.url}/kpis/?period=30")
    expect(page.locator("[data-kpi-card][aria-busy]")).to_have_count(0)
    assert page.locator("[data-kpi=pipeline]").inner_text() == "1.8×"
    expect(page.locator("[data-kpi-card]", has_text="Pipeline coverage")).to_contain_text(
        "Open pipeline $9K in 1 open deal, against $5K of quota."
    )

    page.goto(f"{live_server.url}/kpis/tier_distribution/")
    assert page.locator("tfoot [data-kpi-all]").inner_text() == "100.0%"
    assert page.locator("[data-kpi-total]").inner_text() == "3 accounts"
    page.screenshot(path=str(SHOTS / "kpi-tier-distribution.png"), full_page=True)
