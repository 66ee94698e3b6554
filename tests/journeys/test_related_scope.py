"""A rep opens an account whose parent company is another territory's: the page says nothing of the parent (no name,
no link), as the API does; a user who may see the parent finds it there."""

import pytest

from accounts.models import Account
from tests.factories import AccountFactory

from .steps import SHOTS, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_account_page_names_its_parent_only_to_those_who_see_it(page, live_server, world):
    parent = AccountFactory(name="Acme Corporation", territory=world.south)
    Account.objects.filter(pk=world.north_account.pk).update(parent=parent)
    SHOTS.mkdir(parents=True, exist_ok=True)

    log_in(page, live_server, "north_rep")
    page.goto(f"{live_server.url}/accounts/{world.north_account.pk}/")
    company = page.locator(".card", has_text="Company")
    assert "Acme Corporation" not in page.inner_text("body")
    assert company.locator("dt:has-text('Parent') + dd").inner_text() == "—"
    assert page.locator(f"a[href='/accounts/{parent.pk}/']").count() == 0
    page.screenshot(path=str(SHOTS / "parent-hidden-from-rep.png"), full_page=True)

    page.click("text=Log out")
    log_in(page, live_server, "admin")
    page.goto(f"{live_server.url}/accounts/{world.north_account.pk}/")
    page.click("a:has-text('Acme Corporation')")
    page.wait_for_url(f"{live_server.url}/accounts/{parent.pk}/")
    assert page.inner_text("h1").startswith("Acme Corporation")
