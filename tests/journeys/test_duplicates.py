"""An admin finds and merges a duplicate account: from the account list to the duplicates page, starts the search,
reads the planted pair with its evidence, chooses which account stays, reads what will move, confirms, and finds the
contacts and signals of both on the survivor's page."""

import pytest
from playwright.sync_api import expect

from accounts.models import Account, AccountMerge

from ..factories import AccountFactory, ContactFactory, SignalFactory
from .steps import SHOTS, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"duplicates-{name}.png"), full_page=True)


def test_an_admin_merges_a_planted_duplicate_after_a_confirmation(page, live_server, world):
    survivor = AccountFactory(name="Brightwave Analytics", domain="brightwave.io", country="Germany", external_id="B-1")
    loser = AccountFactory(name="BRIGHTWAVE ANALYTICS GMBH", domain="shop.brightwave.io", country="Germany",
                           external_id="B-2")  # fmt: skip
    ContactFactory(account=survivor, name="Ada Kept")
    ContactFactory(account=loser, name="Bo Moved")
    ContactFactory(account=loser, name="Cy Moved")
    SignalFactory(account=loser, kind="meeting", topic="pricing")
    AccountFactory(name="Brightwave Labs", domain="brightwave-labs.com", country="Germany")  # alike, not the same

    log_in(page, live_server, "admin")
    page.click("nav >> text=Accounts")
    page.click("#duplicates-link")
    expect(page.locator("#no-duplicates")).to_contain_text("Nobody has looked for duplicates yet")
    page.click("#find-duplicates")
    rows = page.locator("#duplicates tbody tr")
    expect(rows).to_have_count(1)
    row = rows.first
    expect(row).to_contain_text("Brightwave Analytics")
    expect(row).to_contain_text("BRIGHTWAVE ANALYTICS GMBH")
    expect(row.locator(".evidence")).to_contain_text("Same domain")
    expect(row.locator(".evidence")).to_contain_text("Names 100% alike")
    expect(row.locator(".evidence")).to_contain_text("Same country")
    expect(row.locator("td").first).to_have_text("100")
    shot(page, "1-pairs")

    row.locator("text=Merge…").click()
    page.check(f"#keep-{survivor.pk}")
    page.click("#show-moves")
    expect(page.locator("h2", has_text="Merging")).to_have_text(
        "Merging BRIGHTWAVE ANALYTICS GMBH into Brightwave Analytics"
    )
    moves = page.locator("#merge-moves tbody")
    expect(moves.locator("tr", has_text="Contacts")).to_contain_text("2")
    expect(moves.locator("tr", has_text="Signals")).to_contain_text("1")
    shot(page, "2-confirm")
    assert Account.objects.filter(pk=loser.pk).exists()  # nothing moved before the confirmation

    questions = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    page.click("#confirm-merge")
    page.wait_for_url(f"**/accounts/{survivor.pk}/")
    assert questions == ["Merge BRIGHTWAVE ANALYTICS GMBH into Brightwave Analytics? This cannot be undone."]
    expect(page.locator(".alert-success")).to_contain_text(
        "BRIGHTWAVE ANALYTICS GMBH was merged into Brightwave Analytics"
    )
    for name in ("Ada Kept", "Bo Moved", "Cy Moved"):
        expect(page.locator("body")).to_contain_text(name)
    expect(page.locator("#signals")).to_contain_text("pricing")
    shot(page, "3-survivor")
    assert not Account.objects.filter(pk=loser.pk).exists()
    assert AccountMerge.objects.get().merged_by == world.admin
