"""The CRM sync with Salesforce, as an admin sets it up: adds the Salesforce connection (a fake Salesforce org
started by the test, a real HTTPS server) with its instance URL, token URL and certificates, keeps the proposed
mapping, syncs and sees the accounts appear; the first push shows what it would write to the RevOps custom fields,
and once confirmed Salesforce holds the tiers and scores."""

import pytest
from playwright.sync_api import expect

from accounts.models import Account
from integrations.models import CrmConnection

from ..factories import AccountScoreFactory
from ..integrations.fakes import FAKES
from .steps import SHOTS, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"crm-sync-salesforce-{name}.png"), full_page=True)


@pytest.fixture
def org():
    fake = FAKES["salesforce"]()
    fake.start()
    for n in (1, 2, 3):
        fake.add("account", {**fake.sample("account", n), "Name": f"Contoso {n}"})
    yield fake
    fake.stop()


def test_an_admin_connects_salesforce_syncs_and_confirms_the_first_push(page, live_server, world, org):
    settings = org.settings()
    log_in(page, live_server, "admin")
    page.goto(f"{live_server.url}/integrations/crm/")
    page.click("#add-connection")
    page.select_option("#id_vendor", "salesforce")
    page.fill("#id_name", "Salesforce production")

    # HubSpot's URL, proposed by the page, is refused for Salesforce; what was typed stays.
    page.fill("#id_access_token", settings["access_token"])
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".invalid-feedback").first).to_contain_text("instance URL")
    expect(page.locator("#id_name")).to_have_value("Salesforce production")

    page.fill("#id_base_url", settings["instance_url"])
    page.fill("#id_client_id", settings["client_id"])
    page.fill("#id_client_secret", settings["client_secret"])
    page.fill("#id_access_token", settings["access_token"])
    page.fill("#id_refresh_token", settings["refresh_token"])
    page.fill("#id_token_url", settings["token_url"])
    page.fill("#id_ca_bundle", settings["ca_bundle"])
    page.check("#id_push_enabled")
    shot(page, "1-connection")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".alert-success")).to_contain_text("Connection “Salesforce production” saved.")
    connection = CrmConnection.objects.get(name="Salesforce production")
    assert connection.vendor == "salesforce"
    assert connection.push_field_names()["tier"] == "RevOps_Tier__c"

    page.click("#map-account")
    expect(page.locator("h1")).to_have_text("Map the Salesforce fields of companies / accounts")
    expect(page.locator("#id_field__employee_count")).to_have_value("NumberOfEmployees")
    expect(page.locator("#samples-id_field__name")).to_contain_text("Contoso 1")
    shot(page, "2-mapping")
    page.get_by_role("button", name="Save the mapping").click()
    expect(page.locator(".alert-success")).to_contain_text("Mapping of companies / accounts saved")

    page.click("#sync-now")
    expect(page.locator(".alert-success")).to_contain_text("Sync started.")
    expect(page.locator("#runs tbody tr").first).to_contain_text("Succeeded")
    expect(page.locator("#objects tr[data-object=account]")).to_contain_text("3")
    shot(page, "3-synced")
    page.locator("nav").get_by_role("link", name="Accounts", exact=True).click()
    expect(page.locator("body")).to_contain_text("Contoso 2")
    contoso = Account.objects.get(name="Contoso 1")
    assert contoso.employee_count == 51 and contoso.domain == "company1.example"

    for i, account in enumerate(Account.objects.filter(name__startswith="Contoso").order_by("name")):
        AccountScoreFactory(account=account, unified=90.0 - i, tier="tier_1" if i == 0 else "tier_3")
    page.goto(f"{live_server.url}/integrations/crm/{connection.pk}/")
    page.click("#review-push")
    expect(page.locator("h1")).to_have_text("What the push writes to Salesforce")
    expect(page.locator("#push-diff tr", has_text="RevOps_Tier__c").first).to_contain_text("Tier 1")
    assert not any(r.get("RevOps_Tier__c") for r in org.records("account").values())  # nothing written yet
    shot(page, "4-diff")
    page.click("#confirm-push")
    expect(page.locator(".alert-success")).to_contain_text("Push confirmed and started.")
    expect(page.locator("#runs tbody tr").first).to_contain_text("Succeeded")
    held = {r["Name"]: r for r in org.records("account").values()}
    assert held["Contoso 1"]["RevOps_Tier__c"] == "Tier 1" and held["Contoso 1"]["RevOps_Score__c"] == "90.0"
    assert held["Contoso 2"]["RevOps_Tier__c"] == "Tier 3"
    assert any(method == "PATCH" and "composite/sobjects" in path for method, path in org.requests)
    shot(page, "5-pushed")
