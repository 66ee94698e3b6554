"""The home page as each role opens it after logging in: the tiles say how many accounts the reader can see, owns
and has open deals on, with thousands separators and the time they were counted; an admin follows the count of
accounts in no territory to the list of them."""

import pytest
from playwright.sync_api import expect

from accounts.models import Account

from ..factories import OpportunityFactory
from .steps import SHOTS, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_reads_the_tiles_and_opens_the_accounts_in_no_territory(page, live_server, world):
    Account.objects.bulk_create(Account(name=f"Prospect {i:04d}") for i in range(1_200))
    OpportunityFactory(account=world.north_account, stage="Engaging", is_closed=False, is_won=False)
    total = Account.objects.count()
    unrouted = Account.objects.filter(territory__isnull=True).count()
    assert total > 1_000 and unrouted > 1_000

    log_in(page, live_server, "admin")
    expect(page.locator("#stat-accounts")).to_have_text(f"{total:,}")
    expect(page.locator("#stat-open-opportunities")).to_have_text("1")
    expect(page.locator("#stat-owned")).to_have_text("0")
    expect(page.locator("#stats-counted-at")).to_contain_text("Counted at ")
    expect(page.locator("#unrouted-link")).to_have_text(f"{unrouted:,}")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "home-admin-tiles.png"), full_page=True)
    page.click("#unrouted-link")
    expect(page.locator("h1")).to_contain_text("no territory")


def test_a_manager_sees_only_their_territories_in_the_tiles(page, live_server, world):
    log_in(page, live_server, "manager")
    visible = Account.objects.filter(territory__in=[world.north, world.north_east]).count()
    expect(page.locator("#stat-accounts")).to_have_text(f"{visible:,}")
    expect(page.locator("#stats-counted-at")).to_contain_text("Counted at ")
