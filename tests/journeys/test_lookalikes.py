"""Lookalikes, as people use them: an admin refreshes the lookalike scores from the Lookalikes page and reads when
they ran and against how many won accounts; a rep opens one of their accounts and reads which won accounts it is
like and what it shares with them, never the name of a won account outside their territories."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Account

from ..factories import AccountFactory, OpportunityFactory
from .steps import SHOTS, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TRAITS = {"industry": "Software", "country": "Germany", "employee_count": 4200, "technologies": ["Salesforce"]}


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"lookalikes-{name}.png"), full_page=True)


def test_an_admin_refreshes_lookalikes_and_a_rep_reads_why_an_account_looks_like_won_ones(page, live_server, world):
    won_on = timezone.now().date() - dt.timedelta(days=30)
    for name, territory in (("Acme", world.north), ("Globex", world.north), ("Initech", world.south)):
        OpportunityFactory(account=AccountFactory(name=name, territory=territory, **TRAITS), closed_on=won_on)
    target = AccountFactory(name="Umbrella", territory=world.north, owner=world.north_rep, **TRAITS)

    log_in(page, live_server, "admin")
    page.locator("nav").get_by_role("link", name="Scoring", exact=True).click()
    page.get_by_role("link", name="Lookalikes", exact=True).click()
    expect(page.locator("h1")).to_have_text("Lookalikes")
    expect(page.locator("#never")).to_be_visible()
    page.click("#refresh")
    expect(page.locator(".alert-success")).to_contain_text("Lookalike scores are being refreshed")
    expect(page.locator("#latest")).to_contain_text("Last refreshed")
    expect(page.locator("#won-accounts")).to_have_text("3")
    expect(page.locator("#runs tbody tr").first).to_contain_text("run by admin")
    shot(page, "1-refreshed")
    assert Account.objects.get(pk=target.pk).lookalike is not None
    page.click("text=Log out")

    log_in(page, live_server, "north_rep")
    page.click("nav >> text=Accounts")
    page.get_by_role("link", name="Umbrella", exact=True).click()
    sentence = page.locator("#lookalike-sentence")
    expect(sentence).to_contain_text(f"(won {won_on.year})")
    expect(sentence).to_contain_text("Acme")
    expect(sentence).to_contain_text("Globex")
    expect(sentence).to_contain_text("and 1 won account outside your territories")
    expect(sentence).to_contain_text("sharing: Software, 1k–10k employees, Germany, uses Salesforce")
    expect(page.locator("#lookalike")).to_contain_text("Lookalike score 60.0 / 100")  # 3 won twins of 5 neighbours
    expect(page.locator("body")).not_to_contain_text("Initech")
    shot(page, "2-rep-reads-why")
