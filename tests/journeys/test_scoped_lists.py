"""A manager starts from the home page (their territories' counts, dated), opens the tier lists, picks Tier 1 and sees
only their territory's accounts; on the account list they filter to Tier 1 and sort by score. A long list says
"N+" rather than counting every row. When an account moves to another territory, it leaves this manager's lists."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import Account
from core.pagination import CappedCountPaginator
from tests.factories import AccountFactory, AccountScoreFactory, ScoringModelFactory

from .steps import SHOTS, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_finds_their_tier_1_accounts_by_score(page, live_server, world, monkeypatch):
    SHOTS.mkdir(parents=True, exist_ok=True)
    model = ScoringModelFactory()
    for name, unified in (("Globex", 91.5), ("Initech", 84.0), ("Umbrella", 79.0)):
        AccountScoreFactory(account=AccountFactory(name=name, territory=world.north), model=model, tier="tier_1",
                            unified=unified)  # fmt: skip
    AccountScoreFactory(account=world.south_account, model=model, tier="tier_1", unified=95.0)
    AccountScoreFactory(account=world.north_account, model=model, tier="tier_3", unified=40.0)

    log_in(page, live_server, "manager")
    territories = page.locator("table", has_text="Active members")
    expect(territories.locator("tr", has_text="North-East")).to_contain_text("1")
    expect(page.locator("#counted-at")).to_contain_text(re.compile(r"counted at \d\d:\d\d"))
    north = territories.locator("tr").filter(has=page.get_by_role("link", name="North", exact=True))
    assert north.locator("td").nth(1).inner_text() == "5"  # three made here, two of the world
    page.screenshot(path=str(SHOTS / "scoped-lists-1-home.png"), full_page=True)

    page.click("nav >> text=Tiers")
    tier_1 = page.locator("a.card", has_text="Tier 1")
    expect(tier_1.locator(".stat")).to_have_text("3")  # the South's Tier 1 account is not theirs
    tier_1.click()
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(3)
    assert [rows.nth(i).locator("td").first.inner_text() for i in range(3)] == ["Globex", "Initech", "Umbrella"]
    expect(page.locator("#tier-list-count")).to_have_text("(3)")
    page.screenshot(path=str(SHOTS / "scoped-lists-2-tier-1.png"), full_page=True)

    page.click("nav >> text=Accounts")
    page.select_option("select[name=tier]", "tier_1")
    page.click("button:has-text('Filter')")
    page.click("thead >> text=Score")
    expect(page.locator("#score-sort-note")).to_be_visible()
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(3)
    assert [rows.nth(i).locator("td").first.inner_text() for i in range(3)] == ["Globex", "Initech", "Umbrella"]
    expect(page.locator("#account-count")).to_have_text("(3)")

    # A long list says "2+" past the cap, and offers its pages up to it.
    monkeypatch.setattr(CappedCountPaginator, "cap", 2)
    page.reload()
    expect(page.locator("#account-count")).to_have_text("(2+)")
    expect(page.locator("#capped-note")).to_have_text(
        "More than 2 match: the pages go up to the first 2. Narrow the filters to reach the rest."
    )
    page.screenshot(path=str(SHOTS / "scoped-lists-3-capped.png"), full_page=True)
    monkeypatch.setattr(CappedCountPaginator, "cap", 10_000)
    page.reload()
    expect(page.locator("#capped-note")).to_have_count(0)

    # Globex is moved to the South: it leaves this manager's lists and counts.
    Account.objects.filter(name="Globex").update(territory=world.south)
    page.reload()
    expect(page.locator("table tbody tr")).to_have_count(2)
    expect(page.locator("table tbody")).not_to_contain_text("Globex")
    page.click("nav >> text=Tiers")
    expect(page.locator("a.card", has_text="Tier 1").locator(".stat")).to_have_text("2")
    page.screenshot(path=str(SHOTS / "scoped-lists-4-moved.png"), full_page=True)
