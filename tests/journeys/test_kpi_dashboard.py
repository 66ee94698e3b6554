"""The KPI dashboard draws its charts (vendored Chart.js, data from json_script) under the strict CSP."""

import datetime as dt

import pytest

from insights.snapshots import kpi_snapshot_take

from ..factories import AccountScoreFactory, OpportunityFactory, ScoringModelFactory
from .test_csp import log_in, watch_for_problems

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
