"""A manager reads a split whose segments differ beyond doubt as "p < 1e-6", never "p = 0", and the conversion by
score band over a period counts exactly the accounts that closed a deal in that period."""

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from accounts.models import Opportunity
from insights.kpis import kpi_scope_q

from ..factories import AccountFactory, AccountScoreFactory, OpportunityFactory, ScoringModelFactory
from .steps import SHOTS, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MARCH = dt.date(2026, 3, 10)


@pytest.fixture
def north_deals(world):
    """In North: 20 retail accounts that won all of their ten March deals and 20 finance accounts that lost all of
    theirs; an account scored 95 whose only deal closed in 2025; one scored 88 that never closed a deal. The South has
    its own March deals, outside the manager's scope."""
    model = ScoringModelFactory(status="active")
    for i in range(40):
        industry = "retail" if i % 2 == 0 else "finance"
        account = AccountFactory(territory=world.north, owner=world.north_rep, industry=industry)
        AccountScoreFactory(account=account, model=model, unified=10 + 2 * i, tier="tier_2")
        for _ in range(10):
            OpportunityFactory(
                account=account, owner=world.north_rep, is_won=industry == "retail", stage="x", closed_on=MARCH
            )
    last_year = AccountFactory(territory=world.north, owner=world.north_rep, industry="retail")
    AccountScoreFactory(account=last_year, model=model, unified=95, tier="tier_1")
    OpportunityFactory(account=last_year, owner=world.north_rep, is_won=True, stage="x", closed_on=dt.date(2025, 6, 1))
    idle = AccountFactory(territory=world.north, owner=world.north_rep)
    AccountScoreFactory(account=idle, model=model, unified=88, tier="tier_1")
    AccountScoreFactory(account=world.south_account, model=model, unified=60, tier="tier_2")
    OpportunityFactory(account=world.south_account, owner=world.other_rep, is_won=True, stage="x", closed_on=MARCH)
    return world


def test_a_manager_reads_an_overwhelming_split_and_the_conversion_of_a_period(page, live_server, north_deals):
    SHOTS.mkdir(parents=True, exist_ok=True)
    log_in(page, live_server, "manager")
    page.goto(f"{live_server.url}/kpis/win_rate/")
    page.select_option("#id_segment", "industry")
    page.click("button:has-text('Show')")
    page.wait_for_url("**/kpis/win_rate/**segment=industry**")
    verdict = page.locator("[data-verdict]")
    expect(verdict).to_contain_text("more than chance would explain (χ² test, p < 1e-6).")
    assert "p = 0" not in verdict.inner_text()
    assert "p = 0" not in page.locator("main").inner_text()
    page.screenshot(path=str(SHOTS / "kpi-split-p-below-one-in-a-million.png"), full_page=True)

    # Conversion by score band in March 2026: the accounts of the manager's territories with a deal closed then.
    page.goto(f"{live_server.url}/kpis/conversion/")
    page.select_option("#id_period", "custom")
    page.fill("#id_start", "2026-03-01")
    page.fill("#id_end", "2026-03-31")
    page.click("button:has-text('Show')")
    page.wait_for_url("**/kpis/conversion/**start=2026-03-01**")
    closed_in_march = (
        Opportunity.objects.filter(
            kpi_scope_q(user=north_deals.manager, prefix="account__"),
            is_closed=True,
            closed_on__range=("2026-03-01", "2026-03-31"),
        )
        .values("account_id")
        .distinct()
        .count()
    )
    assert closed_in_march == 40  # not the 95 of last year, the idle 88, nor the South's
    footer = page.locator("table tfoot tr")
    expect(footer.locator("td").first).to_have_text(f"{closed_in_march:,}")
    expect(footer.locator("[data-kpi-all]")).to_have_text("50.0%")  # the retail half converted
    band_ns = [int(n.replace(",", "")) for n in page.locator("table tbody tr td:nth-child(2)").all_inner_texts()]
    assert sum(band_ns) == closed_in_march
    # Retail and finance accounts share every band, so the bands do not differ: a plain p in three decimals.
    expect(page.locator("[data-verdict]")).to_contain_text(re.compile(r"not significant \(χ² test, p = 0\.\d{3}\)"))
    page.screenshot(path=str(SHOTS / "kpi-conversion-in-a-period.png"), full_page=True)

    # The dashboard's card says so in words.
    page.goto(f"{live_server.url}/kpis/?period=custom&start=2026-03-01&end=2026-03-31")
    card = page.locator("[data-kpi-card]", has_text="Conversion rate by score band")
    expect(card).to_contain_text(f"Overall 50.0% of {closed_in_march} accounts with a deal closed in the period.")
