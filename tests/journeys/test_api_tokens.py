"""A rep makes an API token for a script on the "API tokens" page, copies the key shown once, the script calls the
API with it; the rep then revokes it after a confirm, and the script is refused."""

import pytest
import requests

from core.models import ApiToken

from .steps import SHOTS, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_rep_makes_uses_and_revokes_an_api_token(page, live_server, world):
    SHOTS.mkdir(parents=True, exist_ok=True)
    log_in(page, live_server, "north_rep")
    page.click("#user-menu")  # the menu under the user's name
    page.click("nav >> text=API tokens")
    page.wait_for_url(f"{live_server.url}/settings/api-tokens/")
    assert "You have no API tokens yet" in page.inner_text("main")

    # A blank name is refused, and the chosen expiry is kept.
    page.select_option("#id_expires", "30")
    page.click("button:has-text('Make token')")
    assert "Name: Give the token a name." in page.inner_text(".alert-danger")
    assert page.input_value("#id_expires") == "30"

    page.fill("#id_name", "Pipeline report")
    page.click("button:has-text('Make token')")
    key = page.input_value("#new-token-key")
    assert key.startswith("rvo_")
    assert "it will not be shown again" in page.inner_text("#new-token")
    row = page.locator("#token-table tbody tr").first
    assert "Pipeline report" in row.inner_text() and "Active" in row.inner_text() and "never" in row.inner_text()
    page.screenshot(path=str(SHOTS / "api-token-made.png"), full_page=True)

    api = f"{live_server.url}/api/v1/accounts/"
    called = requests.get(api, headers={"Authorization": f"Token {key}"}, timeout=10)
    assert called.status_code == 200
    assert {a["id"] for a in called.json()["results"]} == world.accounts_visible_to("north_rep")

    page.reload()
    assert key not in page.content()  # shown once
    assert ApiToken.objects.filter(user=world.north_rep).count() == 1  # a reload makes no second token
    assert "just now" in row.inner_text()  # the script's call
    page.click("text=Revoke…")
    assert "Revoke “Pipeline report”?" in page.inner_text("h1")
    page.screenshot(path=str(SHOTS / "api-token-revoke-confirm.png"), full_page=True)
    page.click("button:has-text('Yes, revoke it')")
    page.wait_for_url(f"{live_server.url}/settings/api-tokens/")
    assert "Revoked “Pipeline report”" in page.inner_text(".alert-success")
    assert "Revoked" in page.locator("#token-table tbody tr").first.inner_text()
    page.screenshot(path=str(SHOTS / "api-token-revoked.png"), full_page=True)

    refused = requests.get(api, headers={"Authorization": f"Token {key}"}, timeout=10)
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"]
    assert ApiToken.objects.get(user=world.north_rep).revoked_at is not None
