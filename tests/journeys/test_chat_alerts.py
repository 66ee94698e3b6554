"""Chat alerts, as people set them up: an admin adds the North territory's Slack channel (a local stand-in for
Slack's incoming webhook) and sends a test message; a rep opts out of surges and gives their Slack member ID; then an
MQA is handed to the rep and surges happen: the channel gets the MQA mentioning the rep at once, a digest of the
surge on a colleague's account after the cooldown, and nothing of the rep's own surge. Every message links to the
account, and the admin reads on the channel page what was sent."""

import datetime as dt
import re

import pytest
from django.db import transaction
from django.utils import timezone
from playwright.sync_api import expect

from core.events import record
from integrations.alerts.services import alerts_drain
from integrations.models import AlertChannel, AlertPreference

from ..factories import AccountFactory, MembershipFactory, UserFactory
from ..integrations.chat_servers import chat_server
from .steps import SHOTS, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"chat-alerts-{name}.png"), full_page=True)


@pytest.fixture
def slack(settings, live_server):
    settings.ALERTS_ALLOW_HTTP = True  # the stand-in listens on http://127.0.0.1
    settings.ALERTS_ALLOW_PRIVATE_URLS = True
    settings.SITE_URL = live_server.url
    with chat_server("slack") as server:
        yield server


def test_an_admin_adds_a_territory_channel_a_rep_opts_out_of_surges_and_the_channel_hears_the_rest(
    page, live_server, world, slack
):
    world.north_rep.first_name, world.north_rep.last_name = "Dana", "Scully"
    world.north_rep.save()
    colleague = UserFactory(username="colleague", role="rep", first_name="Fox", last_name="Mulder")
    MembershipFactory(user=colleague, territory=world.north)
    colleagues_account = AccountFactory(name="Globex", territory=world.north, owner=colleague)
    danas_account = AccountFactory(name="Acme Rockets", territory=world.north, owner=world.north_rep)

    # The admin adds North's Slack channel from the Integrations page and checks it with a test message.
    log_in(page, live_server, "admin")
    page.locator("nav").get_by_role("link", name="Integrations", exact=True).click()
    page.get_by_role("link", name="Slack and Teams channels").click()
    expect(page.locator("#no-channels")).to_be_visible()
    page.click("#add-channel")
    page.select_option("#id_kind", label="Slack")
    page.fill("#id_name", "#sales-north")
    page.fill("#id_webhook_url", slack.hook("T0/B0/north"))
    page.select_option("#id_territory", label="North")
    shot(page, "1-add-channel")
    page.click("text=Add the channel")
    expect(page.locator(".alert-success")).to_contain_text("Added #sales-north")
    page.click("#send-test")
    expect(page.locator(".alert-success")).to_contain_text("Test message sent to #sales-north")
    expect(page.locator("#last-sent")).to_contain_text("(just now)")
    shot(page, "2-test-sent")
    assert slack.texts() == ["Test message from RevOps scoring: alerts for #sales-north will be posted here."]
    channel = AlertChannel.objects.get()
    assert (channel.territory, channel.webhook_url) == (world.north, slack.hook("T0/B0/north"))
    page.click("nav >> text=Log out")

    # The rep opts out of surges and gives their Slack member ID.
    log_in(page, live_server, "north_rep")
    page.click("#user-menu")
    page.get_by_role("link", name="Chat alerts", exact=True).click()
    expect(page.locator("h1")).to_have_text("Chat alerts")
    page.uncheck("#id_surge")
    page.fill("#id_slack_user_id", "U024BE7LH")
    page.click("text=Save")
    expect(page.locator(".alert-success")).to_have_text("Saved your chat alerts.")
    expect(page.locator("#id_surge")).not_to_be_checked()
    expect(page.locator("#id_mqa")).to_be_checked()
    shot(page, "3-rep-opted-out")
    preference = AlertPreference.objects.get(user=world.north_rep)
    assert (preference.mqa, preference.surge, preference.slack_user_id) == (True, False, "U024BE7LH")
    page.click("nav >> text=Log out")

    # An MQA is handed to the rep and two surges happen, one on the rep's account.
    with transaction.atomic():
        record("handoff.assigned", account_id=danas_account.pk, data={"owner_id": world.north_rep.pk})
        record("surge.started", account_id=danas_account.pk, data={"owner_id": world.north_rep.pk})
        record("surge.started", account_id=colleagues_account.pk, data={"owner_id": colleague.pk})
    # Woken by the commit: the MQA is posted at once, the colleague's surge waits for the cooldown's digest.
    danas_link = f"<{live_server.url}/accounts/{danas_account.pk}/|Acme Rockets>"
    assert slack.texts()[1:] == [f"New MQA for <@U024BE7LH>: {danas_link}"]
    alerts_drain(now=timezone.now() + dt.timedelta(minutes=6))  # the minute's drain after the cooldown
    globex_link = f"<{live_server.url}/accounts/{colleagues_account.pk}/|Globex>"
    # One alert held: posted as itself, not as a digest of one.
    assert slack.texts()[2:] == [f"Signal surge on {globex_link}, owned by Fox Mulder."]
    assert not any("Acme Rockets" in text for text in slack.texts()[2:])  # the rep's own surge: opted out
    assert all(r["path"] == "/services/T0/B0/north" for r in slack.received)

    # The admin reads what was sent on the channel page, and the message's link opens the account.
    log_in(page, live_server, "admin")
    page.goto(f"{live_server.url}/integrations/alerts/")
    row = page.locator("#channels tbody tr")
    expect(row).to_contain_text("#sales-north")
    expect(row).to_contain_text("North")
    page.get_by_role("link", name="#sales-north").click()
    alerts = page.locator("#alerts tbody tr")
    expect(alerts).to_have_count(2)
    expect(alerts.nth(0)).to_contain_text("Globex")
    expect(alerts.nth(0)).to_contain_text("Sent")
    expect(alerts.nth(1)).to_contain_text("Acme Rockets")
    expect(alerts.nth(1)).to_contain_text("Dana Scully")
    expect(page.locator("#last-error")).to_have_text("none")
    shot(page, "4-channel-page")
    link = re.search(r"<(http[^|]+)\|", slack.texts()[1]).group(1)
    page.goto(link)
    expect(page.locator("h1")).to_contain_text("Acme Rockets")
    shot(page, "5-linked-account")
