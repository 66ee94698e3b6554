"""Webhook delivery against a real HTTP receiver on 127.0.0.1: signing, retries with backoff, giving up, switching an
endpoint off, redelivery, the private-address refusal at send time, and the SKIP LOCKED claim on PostgreSQL."""

import datetime as dt
import json
import re
import threading
import time
from pathlib import Path

import pytest
from django.core import mail
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone

from core import events
from integrations.models import WebhookDelivery, WebhookEndpoint
from integrations.webhooks import delivery as webhooks
from integrations.webhooks.services import delivery_redeliver, endpoint_redeliver_failed

from ..conftest import require_postgres
from .receiver import Receiver

README = Path(__file__).resolve().parents[2] / "README.md"
pytestmark = pytest.mark.django_db


def readme_verify():
    """The verification snippet of the README, run as written."""
    text = README.read_text()
    snippet = re.search(r"<!-- webhook-verify-snippet -->\n```python\n(.*?)```", text, re.S)
    assert snippet, "the README's Webhooks section has no verification snippet"
    namespace: dict = {}
    exec(compile(snippet.group(1), "README.md", "exec"), namespace)  # noqa: S102  # the README's own snippet
    return namespace["verify_webhook"]


def make_due(**filters) -> None:
    """Time passes: the deliveries waiting for their next try are due now."""
    WebhookDelivery.objects.filter(status="pending", **filters).update(next_attempt_at=timezone.now())


def test_an_event_is_posted_signed_and_the_readme_snippet_verifies_it(receiver, make_endpoint, world):
    endpoint = make_endpoint(receiver.url)
    event = events.record("tier.changed", account_id=world.north_account.pk, data={"from": "tier_2", "to": "tier_1"})
    events.record("owner.changed", account_id=world.north_account.pk)  # a kind the endpoint did not ask for

    result = webhooks.deliver(seconds=5)

    assert (result.events, result.attempts, result.delivered) == (2, 1, 1)
    [got] = receiver.received
    event.refresh_from_db()
    assert json.loads(got.body) == {
        "id": event.pk,
        "seq": event.seq,
        "kind": "tier.changed",
        "occurred_at": event.occurred_at.isoformat(),
        "account": world.north_account.pk,
        "data": {"from": "tier_2", "to": "tier_1"},
    }
    assert got.header("X-RevOps-Event") == "tier.changed"
    delivery = WebhookDelivery.objects.get()
    assert got.header("X-RevOps-Delivery") == str(delivery.key) == got.header("Idempotency-Key")
    assert abs(int(got.header("X-RevOps-Timestamp")) - time.time()) < 60
    verify = readme_verify()
    headers = {name: got.header(name) for name in ("X-RevOps-Timestamp", "X-RevOps-Signature")}
    assert verify(endpoint.secret, headers, got.body)
    assert not verify(endpoint.secret, headers, got.body.replace(b"tier_1", b"tier_3"))  # tampered body
    assert not verify("whsec_another", headers, got.body)  # another secret
    assert not verify(endpoint.secret, headers, got.body, now=time.time() + 301)  # replayed after the window
    assert verify(endpoint.secret, headers, got.body, now=time.time() + 200)
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("delivered", 1, 200)

    assert webhooks.deliver(seconds=5).attempts == 0  # nothing sent twice
    assert len(receiver.received) == 1


@override_settings(WEBHOOK_RETRY_BASE_SECONDS=10, WEBHOOK_RETRY_FACTOR=3, WEBHOOK_MAX_ATTEMPTS=5)
def test_a_500_is_retried_with_exponential_backoff_then_delivered_with_the_same_key(receiver, make_endpoint):
    receiver.answers = [500, 503, 200]
    make_endpoint(receiver.url)
    events.record("mqa.raised", account_id=7)

    waits = []
    for attempt in (1, 2):
        before = timezone.now()
        webhooks.deliver(seconds=5)
        delivery = WebhookDelivery.objects.get()
        assert (delivery.status, delivery.attempts) == ("pending", attempt)
        waits.append((delivery.next_attempt_at - before).total_seconds())
        assert webhooks.deliver(seconds=5).attempts == 0  # not due yet: nothing is sent early
        make_due()
    assert 10 <= waits[0] <= 11.5  # 10 s, plus up to 10% jitter
    assert 30 <= waits[1] <= 33.5  # 10 s x 3

    webhooks.deliver(seconds=5)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_code, delivery.last_error) == (
        "delivered",
        3,
        200,
        "",
    )
    assert [r.status for r in receiver.received] == [500, 503, 200]
    assert {r.header("X-RevOps-Delivery") for r in receiver.received} == {str(delivery.key)}
    assert WebhookEndpoint.objects.get().consecutive_failures == 0


@override_settings(WEBHOOK_MAX_ATTEMPTS=3, WEBHOOK_DISABLE_AFTER_FAILURES=100)
def test_a_delivery_is_given_up_after_the_limit_and_redelivered_on_demand(receiver, make_endpoint):
    receiver.answers = [500]
    endpoint = make_endpoint(receiver.url)
    events.record("tier.changed", account_id=1)
    for _ in range(5):
        webhooks.deliver(seconds=5)
        make_due()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 3, None)
    assert "Answered 500" in delivery.last_error and "receiver says no" in delivery.last_error
    assert len(receiver.received) == 3

    receiver.answers = [200]
    receiver.received.clear()
    assert delivery_redeliver(delivery=delivery)
    assert not delivery_redeliver(delivery=delivery)  # already on its way
    webhooks.deliver(seconds=5)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.redeliveries) == ("delivered", 1, 1)
    assert [r.header("X-RevOps-Delivery") for r in receiver.received] == [str(delivery.key)]
    assert endpoint_redeliver_failed(endpoint=endpoint) == 0


@override_settings(WEBHOOK_MAX_ATTEMPTS=2, WEBHOOK_DISABLE_AFTER_FAILURES=100)
def test_redeliver_failed_sends_every_failed_delivery_of_the_endpoint_again(receiver, make_endpoint):
    receiver.answers = [500, 500, 500, 500, 200]
    endpoint = make_endpoint(receiver.url)
    events.record("tier.changed", account_id=1)
    events.record("mqa.raised", account_id=1)
    for _ in range(3):
        webhooks.deliver(seconds=5)
        make_due()
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"failed"}
    assert endpoint_redeliver_failed(endpoint=endpoint) == 2
    webhooks.deliver(seconds=5)
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}
    keys = [r.header("X-RevOps-Delivery") for r in receiver.received]
    assert len(keys) == 6 and len(set(keys)) == 2  # each event under one key, however many times it was sent


@override_settings(WEBHOOK_DISABLE_AFTER_FAILURES=3, WEBHOOK_DISABLE_AFTER_MINUTES=10, WEBHOOK_MAX_ATTEMPTS=10)
def test_an_endpoint_failing_n_attempts_in_a_row_is_switched_off_and_the_admins_told(receiver, make_endpoint, world):
    receiver.answers = [500]
    endpoint = make_endpoint(receiver.url)
    healthy = Receiver()
    try:
        other = make_endpoint(healthy.url, name="Healthy")
        for n in range(3):
            events.record("tier.changed", account_id=n + 1)
        webhooks.deliver(seconds=5)
        endpoint.refresh_from_db()
        # Three failures in a second (a receiver restarting with a backlog): not yet switched off.
        assert endpoint.active and endpoint.consecutive_failures == 3 and not mail.outbox
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=timezone.now() - dt.timedelta(minutes=11))
        make_due()
        webhooks.deliver(seconds=5)
        endpoint.refresh_from_db()
        assert not endpoint.active and endpoint.disabled_at is not None
        assert endpoint.consecutive_failures == 6
        assert (
            "3 failed attempts in a row or more" in endpoint.disabled_reason
            and "Answered 500" in endpoint.disabled_reason
        )
        [message] = mail.outbox
        assert message.subject == "Webhook endpoint switched off: Warehouse"
        assert message.to == ["admin@example.com"]  # the active admins (the managers and reps are not told)
        assert receiver.url in message.body

        # Switched off: its deliveries wait and new events are not sent to it; the healthy endpoint goes on.
        make_due()
        events.record("tier.changed", account_id=9)
        webhooks.deliver(seconds=5)
        assert len(receiver.received) == 6
        assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 3
        assert WebhookDelivery.objects.filter(endpoint=other, status="delivered").count() == 4
        assert len(mail.outbox) == 1  # told once
    finally:
        healthy.stop()


@override_settings(
    WEBHOOK_DISABLE_AFTER_FAILURES=3, WEBHOOK_DISABLE_AFTER_MINUTES=0, WEBHOOK_CONCURRENCY=1
)  # one at a time: answers come in order
def test_a_success_between_failures_starts_the_count_again(receiver, make_endpoint):
    receiver.answers = [500, 500, 200, 500, 500]
    endpoint = make_endpoint(receiver.url)
    for batch, (events_now, failures_after) in enumerate([(3, 0), (2, 2)]):
        for n in range(events_now):
            events.record("tier.changed", account_id=batch * 10 + n)
        webhooks.deliver(seconds=5, batch=events_now)
        endpoint.refresh_from_db()
        assert endpoint.active and endpoint.consecutive_failures == failures_after
        assert (endpoint.failing_since is not None) is bool(failures_after)
    assert [r.status for r in receiver.received] == [500, 500, 200, 500, 500]


@override_settings(WEBHOOKS_ALLOW_PRIVATE_URLS=False)
def test_a_private_address_is_refused_at_send_time_too(receiver, make_endpoint):
    """Saved while allowed (or resolving elsewhere then): the connection itself refuses the loopback address."""
    with override_settings(WEBHOOKS_ALLOW_PRIVATE_URLS=True):
        make_endpoint(receiver.url)
    events.record("tier.changed", account_id=1)
    webhooks.deliver(seconds=5)
    delivery = WebhookDelivery.objects.get()
    assert receiver.received == []
    assert delivery.status == "pending" and delivery.attempts == 1
    assert delivery.last_error.startswith("Refused: “127.0.0.1” is a loopback address")


@override_settings(WEBHOOKS_ALLOW_PRIVATE_URLS=False)
def test_a_name_that_rebinds_to_a_private_address_is_refused_when_sending(receiver, make_endpoint, monkeypatch):
    """DNS rebinding: public when saved, loopback when the request is sent."""
    import socket

    from integrations.webhooks import addresses

    port = receiver.server.server_address[1]
    answers = iter(["93.184.216.34", "127.0.0.1"])
    real = socket.getaddrinfo

    def rebinding(host, *args, **kwargs):
        if host == "hooks.example.com":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(addresses.socket, "getaddrinfo", rebinding)
    make_endpoint(f"http://hooks.example.com:{port}/hooks")  # public at save
    events.record("tier.changed", account_id=1)
    webhooks.deliver(seconds=5)
    assert receiver.received == []
    assert "is a loopback address (127.0.0.1)" in WebhookDelivery.objects.get().last_error


def test_events_of_kinds_not_asked_for_and_inactive_endpoints_get_no_delivery(receiver, make_endpoint):
    wants_tiers = make_endpoint(receiver.url, kinds=["tier.changed"])
    off = make_endpoint(receiver.url, kinds=["tier.changed"], name="Off")
    WebhookEndpoint.objects.filter(pk=off.pk).update(active=False)
    events.record("tier.changed", account_id=1)
    events.record("handoff.accepted", account_id=1)
    assert webhooks.fan_out() == 2
    assert webhooks.fan_out() == 0  # the cursor moved past them
    assert list(WebhookDelivery.objects.values_list("endpoint", flat=True)) == [wants_tiers.pk]


def test_a_redelivered_event_is_fanned_out_once_per_endpoint(make_endpoint, receiver):
    from integrations.models import WebhookCursor

    make_endpoint(receiver.url)
    events.record("tier.changed", account_id=1)
    webhooks.fan_out()
    WebhookCursor.objects.update(seq=0)  # as if a second worker fanned out the same events
    webhooks.fan_out()
    assert WebhookDelivery.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_events_are_sent_once_their_transaction_commits_and_never_when_it_rolls_back(receiver, make_endpoint):
    make_endpoint(receiver.url)
    with pytest.raises(RuntimeError), transaction.atomic():
        events.record("tier.changed", account_id=1, data={"n": "rolled back"})
        raise RuntimeError
    with transaction.atomic():
        events.record("tier.changed", account_id=2, data={"n": "committed"})
        events.record("mqa.raised", account_id=2)
        assert receiver.received == []  # not before the commit
    # Woken on commit (tasks run eagerly here; a worker in production): both sent, the rolled-back one never.
    assert sorted(json.loads(r.body)["kind"] for r in receiver.received) == ["mqa.raised", "tier.changed"]
    assert "rolled back" not in b"".join(r.body for r in receiver.received).decode()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_workers_claim_different_deliveries_skipping_those_another_has_locked(make_endpoint, receiver):
    require_postgres()
    endpoint = make_endpoint(receiver.url)
    # Four deliveries due (made here: events recorded outside a transaction would be sent at once, tasks being eager).
    due = [events.Event(kind="tier.changed", account_id=n, occurred_at=timezone.now()) for n in range(4)]
    events.Event.objects.bulk_create(due)
    WebhookDelivery.objects.bulk_create(
        [WebhookDelivery(endpoint=endpoint, event=event, next_attempt_at=timezone.now()) for event in due]
    )
    first, *others = WebhookDelivery.objects.order_by("pk").values_list("pk", flat=True)

    locked, release = threading.Event(), threading.Event()

    def other_worker():
        from django.db import connections

        with transaction.atomic():
            list(WebhookDelivery.objects.select_for_update().filter(pk=first))
            locked.set()
            release.wait(10)
        connections.close_all()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert locked.wait(10)
        begin = time.monotonic()
        claimed = webhooks.claim(limit=10)
        assert time.monotonic() - begin < 2  # did not wait for the other worker's lock
        assert [d.pk for d in claimed] == others
        assert webhooks.claim(limit=10) == []  # the claimed ones are leased: not due again
    finally:
        release.set()
        thread.join()
    claimed = webhooks.claim(limit=10)
    assert [d.pk for d in claimed] == [first]
    assert connection.vendor == "postgresql"


def test_the_claim_lease_lapses_for_a_worker_lost_mid_send(make_endpoint, receiver):
    """At least once: deliveries claimed by a worker that never reports are due again once the lease lapses."""
    make_endpoint(receiver.url)
    events.record("tier.changed", account_id=1)
    webhooks.fan_out()
    [claimed] = webhooks.claim(limit=10)
    assert webhooks.claim(limit=10) == []
    later = timezone.now() + dt.timedelta(seconds=webhooks.lease_seconds() + 1)
    assert [d.pk for d in webhooks.claim(limit=10, now=later)] == [claimed.pk]


def test_backoff_follows_the_settings_with_at_most_ten_percent_jitter():
    import random

    rng = random.Random(1)
    with override_settings(WEBHOOK_RETRY_BASE_SECONDS=30, WEBHOOK_RETRY_FACTOR=2, WEBHOOK_RETRY_MAX_SECONDS=600):
        for attempts, base in [(1, 30), (2, 60), (3, 120), (5, 480), (6, 600), (20, 600)]:
            wait = webhooks.backoff_seconds(attempts, rng=rng)
            assert base <= wait <= base * 1.1
