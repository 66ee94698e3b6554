"""Webhooks, as an admin uses them: from Integrations, add an endpoint pointing at the team's receiver (a real HTTP
server here) and copy its secret; account events happen and are sent, signed; the delivery log shows one delivered
and one the receiver refused, and after the receiver is fixed, Redeliver sends that one again, under the same key."""

import json

import pytest
from django.test import override_settings
from playwright.sync_api import expect

from core import events
from integrations.models import WebhookDelivery, WebhookEndpoint
from integrations.webhooks.signing import signature

from ..integrations.receiver import Receiver
from .steps import SHOTS, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"webhooks-{name}.png"), full_page=True)


@override_settings(WEBHOOK_MAX_ATTEMPTS=1)  # one refusal fails the delivery at once, so the journey can redeliver it
def test_an_admin_adds_an_endpoint_sees_deliveries_and_redelivers_a_failed_one(page, live_server, world):
    broken = {"mqa.raised": True}
    receiver = Receiver(answers=lambda got: 500 if broken.get(got.header("X-RevOps-Event")) else 200)
    try:
        log_in(page, live_server, "admin")
        page.locator("nav").get_by_role("link", name="Integrations", exact=True).click()
        expect(page.locator("h1")).to_have_text("Integrations")
        page.locator("#integration-webhooks").get_by_role("link", name="Webhooks").click()
        expect(page.locator("#no-endpoints")).to_be_visible()
        page.click("#add-endpoint")
        page.get_by_label("Name").fill("Data warehouse")
        page.get_by_label("URL").fill(receiver.url)
        page.get_by_label("Tier changed").check()
        page.get_by_label("MQA raised").check()
        page.get_by_role("button", name="Add the endpoint").click()
        expect(page.locator(".alert-success").first).to_contain_text("Added the endpoint “Data warehouse”")
        secret = page.locator("#new-secret-value").input_value()
        endpoint = WebhookEndpoint.objects.get()
        assert secret == endpoint.secret and endpoint.kinds == ["tier.changed", "mqa.raised"]
        shot(page, "1-added")

        # Account events happen (committed: the delivery task is woken at once).
        events.record("tier.changed", account_id=world.north_account.pk, data={"from": "tier_2", "to": "tier_1"})
        events.record("mqa.raised", account_id=world.north_account.pk, data={"tier": "tier_1"})
        events.record("owner.changed", account_id=world.north_account.pk)  # not asked for
        assert [r.header("X-RevOps-Event") for r in receiver.received] == ["tier.changed", "mqa.raised"]
        first = receiver.received[0]
        stamp = int(first.header("X-RevOps-Timestamp"))
        assert first.header("X-RevOps-Signature") == signature(secret, stamp, first.body)
        assert json.loads(first.body)["data"] == {"from": "tier_2", "to": "tier_1"}

        page.reload()
        expect(page.locator("#new-secret")).to_have_count(0)  # shown once
        rows = page.locator("#deliveries tbody tr")
        expect(rows).to_have_count(2)
        delivered = page.locator("#deliveries tr[data-status=delivered]")
        expect(delivered).to_contain_text("Tier changed")
        expect(delivered.get_by_role("link", name="North account")).to_be_visible()
        expect(delivered.locator(".delivery-code")).to_have_text("200")
        failed = page.locator("#deliveries tr[data-status=failed]")
        expect(failed).to_contain_text("MQA raised")
        expect(failed.locator(".delivery-status")).to_have_text("Failed")
        expect(failed.locator(".delivery-code")).to_have_text("500")
        expect(failed.locator(".delivery-error")).to_contain_text("Answered 500")
        page.select_option("#id_status", "failed")
        page.get_by_role("button", name="Filter").click()
        expect(rows).to_have_count(1)
        shot(page, "2-one-failed")

        broken["mqa.raised"] = False  # the receiver is fixed
        failed.get_by_role("button", name="Redeliver").click()
        expect(page.locator(".alert-success").first).to_contain_text("will be sent to “Data warehouse” again")
        expect(page.locator("#no-deliveries")).to_contain_text("No failed delivery.")
        page.select_option("#id_status", "")
        page.get_by_role("button", name="Filter").click()
        expect(page.locator("#deliveries tr[data-status=delivered]")).to_have_count(2)
        expect(page.locator("#deliveries tr:has-text('MQA raised') .delivery-attempts")).to_contain_text(
            "redelivered 1×"
        )
        shot(page, "3-redelivered")

        mqa = WebhookDelivery.objects.get(event__kind="mqa.raised")
        assert (mqa.status, mqa.redeliveries, mqa.response_code) == ("delivered", 1, 200)
        keys = [r.header("X-RevOps-Delivery") for r in receiver.received if r.header("X-RevOps-Event") == "mqa.raised"]
        assert keys == [str(mqa.key), str(mqa.key)]  # the same idempotency key on the resend
    finally:
        receiver.stop()
