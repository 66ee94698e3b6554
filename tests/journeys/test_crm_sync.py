"""The CRM sync, as an admin sets it up: adds the HubSpot connection (a fake HubSpot started by the test, a real
HTTP server), checks the proposed field mapping and keeps a field as an attribute, syncs and sees the companies
appear among the accounts; the first push shows what it would write to HubSpot, and once confirmed HubSpot holds
the tiers and scores."""

import pytest
from django.db import connection as db
from playwright.sync_api import expect

from accounts.models import Account
from integrations.models import CrmConnection

from ..factories import AccountScoreFactory
from ..integrations.fakes import FAKES
from .steps import SHOTS, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"crm-sync-{name}.png"), full_page=True)


@pytest.fixture
def hubspot():
    fake = FAKES["hubspot"]()
    fake.start()
    for n, stage in ((1, "customer"), (2, "lead"), (3, "opportunity")):
        fake.add("account", {**fake.sample("account", n), "name": f"Fabrikam {n}", "lifecyclestage": stage})
    yield fake
    fake.stop()


def test_an_admin_connects_hubspot_maps_syncs_and_confirms_the_first_push(page, live_server, world, hubspot):
    settings = hubspot.settings()
    log_in(page, live_server, "admin")
    page.locator("nav").get_by_role("link", name="Integrations", exact=True).click()
    page.locator("#integration-crm").get_by_role("link", name="CRM connections").click()
    expect(page.locator("h1")).to_have_text("CRM connections")
    expect(page.locator("#no-connections")).to_be_visible()
    page.click("#add-connection")

    # A URL that is no URL is refused, and what was typed stays.
    page.fill("#id_name", "HubSpot production")
    page.fill("#id_base_url", "api.hubapi.com")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".invalid-feedback").first).to_contain_text("starting with https://")
    expect(page.locator("#id_name")).to_have_value("HubSpot production")

    page.fill("#id_base_url", settings["base_url"])
    page.fill("#id_client_id", settings["client_id"])
    page.fill("#id_client_secret", settings["client_secret"])
    page.fill("#id_access_token", settings["access_token"])
    page.fill("#id_refresh_token", settings["refresh_token"])
    page.check("#id_push_enabled")
    shot(page, "1-connection")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".alert-success")).to_contain_text("Connection “HubSpot production” saved.")
    expect(page.locator("#no-runs")).to_be_visible()
    connection = CrmConnection.objects.get(name="HubSpot production")
    with db.cursor() as cursor:
        cursor.execute("SELECT credentials_encrypted FROM integrations_crmconnection WHERE id = %s", [connection.pk])
        assert settings["access_token"] not in cursor.fetchone()[0]

    # The proposed mapping of companies, with HubSpot's values; one more field kept as an attribute.
    page.click("#map-account")
    expect(page.locator("h1")).to_have_text("Map the HubSpot fields of companies / accounts")
    expect(page.locator("#id_field__employee_count")).to_have_value("numberofemployees")
    expect(page.locator("#samples-id_field__name")).to_contain_text("Fabrikam 1")
    page.get_by_label("Lifecycle Stage (lifecyclestage)").check()
    shot(page, "2-mapping")
    page.get_by_role("button", name="Save the mapping").click()
    expect(page.locator(".alert-success")).to_contain_text("Mapping of companies / accounts saved")

    page.click("#sync-now")
    expect(page.locator(".alert-success")).to_contain_text("Sync started.")
    expect(page.locator("#runs tbody tr").first).to_contain_text("Succeeded")
    expect(page.locator("#objects tr[data-object=account]")).to_contain_text("3")
    expect(page.locator("#push-waiting")).to_be_visible()
    shot(page, "3-synced")
    page.locator("nav").get_by_role("link", name="Accounts", exact=True).click()
    expect(page.locator("body")).to_contain_text("Fabrikam 2")
    fabrikam = Account.objects.get(name="Fabrikam 1")
    assert fabrikam.attributes == {"lifecyclestage": "customer"}
    assert fabrikam.employee_count == 51

    # Scored since; the first push shows what it would write, then writes it once confirmed.
    for i, account in enumerate(Account.objects.filter(name__startswith="Fabrikam").order_by("name")):
        AccountScoreFactory(account=account, unified=90.0 - i, tier="tier_1" if i == 0 else "tier_3")
    page.goto(f"{live_server.url}/integrations/crm/{connection.pk}/")
    page.click("#review-push")
    expect(page.locator("h1")).to_have_text("What the push writes to HubSpot")
    row = page.locator("#push-diff tr", has_text="revops_tier").first
    expect(row).to_contain_text("Tier 1")
    expect(page.locator("#push-diff")).to_contain_text("90.0")
    assert not any(r.get("revops_tier") for r in hubspot.records("account").values())  # nothing written yet
    shot(page, "4-diff")
    page.click("#confirm-push")
    expect(page.locator(".alert-success")).to_contain_text("Push confirmed and started.")
    expect(page.locator("#runs tbody tr").first).to_contain_text("Succeeded")
    held = {r["name"]: r for r in hubspot.records("account").values()}
    assert held["Fabrikam 1"]["revops_tier"] == "Tier 1" and held["Fabrikam 1"]["revops_score"] == "90.0"
    assert held["Fabrikam 2"]["revops_tier"] == "Tier 3"
    assert ("POST", "/crm/v3/objects/companies/batch/update") in hubspot.requests
    assert CrmConnection.objects.get(pk=connection.pk).push_confirmed
    shot(page, "5-pushed")
