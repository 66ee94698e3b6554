"""The admins' webhook pages: add (with the private-address refusal), the secret shown once, edit, rotate, delete with
confirmation, a test event, the delivery log filtered and paged, redelivery; the index and the nav link."""

import json

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from core.events import record
from core.models import Event
from integrations.models import WebhookDelivery, WebhookEndpoint
from integrations.webhooks.delivery import deliver

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, world):
    client.force_login(world.admin)
    return client


def add(client, **fields):
    data = {"name": "Warehouse", "url": "", "kinds": ["tier.changed", "mqa.raised"], "active": "on", **fields}
    return client.post(reverse("integrations:webhook-add"), data)


@override_settings(WEBHOOKS_ALLOW_PRIVATE_URLS=False)
@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1:8080/hook", "is a loopback address (127.0.0.1)"),
        ("http://localhost/hook", "is a loopback address"),
        ("https://10.1.2.3/hook", "is a private address (10.1.2.3)"),
        ("https://192.168.0.10/hook", "is a private address"),
        ("http://169.254.169.254/latest/meta-data", "is a link-local address (169.254.169.254)"),
        ("http://[::1]:8000/hook", "is a loopback address (::1)"),
        ("http://224.0.0.1/hook", "is a multicast address"),
        ("http://240.0.0.1/hook", "is a reserved address"),
        ("http://0.0.0.0/hook", "is an unspecified address"),
        ("ftp://93.184.216.34/hook", "Only http:// and https:// URLs can receive webhooks."),
        ("https://user:pw@93.184.216.34/hook", "Put no user name or password in the URL"),
        ("https://no-such-host.invalid/hook", "could not be found"),
    ],
)
def test_an_endpoint_on_a_private_address_is_refused_at_save_keeping_what_was_typed(admin_client, url, message):
    response = add(admin_client, url=url, name="Internal thing")
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html.replace("&quot;", '"').replace("&#x27;", "'")
    assert 'value="Internal thing"' in html and "checked" in html
    assert not WebhookEndpoint.objects.exists()


@override_settings(WEBHOOKS_ALLOW_PRIVATE_URLS=False)
def test_a_public_address_is_accepted_and_its_secret_shown_once(admin_client, world):
    response = add(admin_client, url="https://93.184.216.34/revops")
    endpoint = WebhookEndpoint.objects.get()
    assert response.status_code == 302 and response.url == reverse("integrations:webhook-detail", args=[endpoint.pk])
    assert (endpoint.name, endpoint.kinds, endpoint.active, endpoint.created_by) == (
        "Warehouse",
        ["tier.changed", "mqa.raised"],
        True,
        world.admin,
    )
    assert endpoint.secret.startswith("whsec_") and len(endpoint.secret) > 40
    first = admin_client.get(response.url).content.decode()
    assert endpoint.secret in first and "it will not be shown again" in first
    again = admin_client.get(response.url).content.decode()
    assert endpoint.secret not in again and endpoint.secret_hint in again


def test_an_endpoint_needs_a_name_a_url_and_at_least_one_event(admin_client):
    html = add(admin_client, name="", url="", kinds=[]).content.decode()
    for message in ("Give the endpoint a name.", "Enter the URL events are sent to.", "Choose at least one event"):
        assert message in html
    assert not WebhookEndpoint.objects.exists()


def test_editing_refuses_a_private_url_and_switching_back_on_sends_what_waited(admin_client, receiver, make_endpoint):
    endpoint = make_endpoint(receiver.url)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        active=False, consecutive_failures=20, disabled_at=timezone.now(), disabled_reason="20 failed attempts in a row"
    )
    waiting = WebhookDelivery.objects.create(
        endpoint=endpoint, event=record("tier.changed", account_id=1), next_attempt_at=timezone.now()
    )
    page = admin_client.get(reverse("integrations:webhook-list")).content.decode()
    assert "“Warehouse” was switched off" in page and "20 failed attempts in a row" in page
    edit = reverse("integrations:webhook-edit", args=[endpoint.pk])
    with override_settings(WEBHOOKS_ALLOW_PRIVATE_URLS=False):
        refused = admin_client.post(
            edit, {"name": "Warehouse", "url": receiver.url, "kinds": ["tier.changed"], "active": "on"}
        )
    assert "is a loopback address" in refused.content.decode()
    assert not WebhookEndpoint.objects.get().active
    saved = admin_client.post(
        edit, {"name": "Warehouse 2", "url": receiver.url, "kinds": ["tier.changed"], "active": "on"}
    )
    assert saved.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.name, endpoint.active, endpoint.consecutive_failures, endpoint.disabled_at) == (
        "Warehouse 2",
        True,
        0,
        None,
    )
    deliver(seconds=5)
    waiting.refresh_from_db()
    assert waiting.status == "delivered" and len(receiver.received) == 1


def test_rotating_the_secret_asks_first_then_signs_with_the_new_one(admin_client, receiver, make_endpoint):
    endpoint = make_endpoint(receiver.url)
    old = endpoint.secret
    url = reverse("integrations:webhook-rotate-secret", args=[endpoint.pk])
    assert "stops working at once" in admin_client.get(url).content.decode()
    assert WebhookEndpoint.objects.get().secret == old  # asking changed nothing
    detail = admin_client.get(admin_client.post(url).url).content.decode()
    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.secret in detail and endpoint.secret_rotated_at


def test_deleting_asks_first_and_takes_the_log_with_it(admin_client, make_endpoint, receiver):
    endpoint = make_endpoint(receiver.url)
    WebhookDelivery.objects.create(endpoint=endpoint, event=record("tier.changed"), status="delivered")
    url = reverse("integrations:webhook-delete", args=[endpoint.pk])
    page = admin_client.get(url).content.decode()
    assert "Delete the endpoint “Warehouse”?" in page and "its log of 1 delivery is deleted" in page
    assert WebhookEndpoint.objects.exists()
    response = admin_client.post(url, follow=True)
    assert "Deleted the endpoint “Warehouse” and its log of 1 delivery." in response.content.decode()
    assert not WebhookEndpoint.objects.exists() and not WebhookDelivery.objects.exists()


def test_a_test_event_is_sent_signed_and_the_answer_shown(admin_client, receiver, make_endpoint):
    endpoint = make_endpoint(receiver.url)
    response = admin_client.post(reverse("integrations:webhook-test", args=[endpoint.pk]), follow=True)
    assert "Test event delivered: the endpoint answered 200" in response.content.decode()
    [got] = receiver.received
    assert got.header("X-RevOps-Event") == "webhook.test" and json.loads(got.body)["kind"] == "webhook.test"
    from integrations.webhooks.signing import signature

    assert got.header("X-RevOps-Signature") == signature(
        endpoint.secret, int(got.header("X-RevOps-Timestamp")), got.body
    )
    assert not WebhookDelivery.objects.exists()  # nothing stored

    receiver.answers = [502]
    response = admin_client.post(reverse("integrations:webhook-test", args=[endpoint.pk]), follow=True)
    assert "The test event was not delivered. Answered 502" in response.content.decode()


def test_the_delivery_log_filters_by_status_pages_and_redelivers(admin_client, receiver, make_endpoint):
    endpoint = make_endpoint(receiver.url)
    now = timezone.now()
    made = Event.objects.bulk_create([Event(kind="tier.changed", account_id=n, occurred_at=now) for n in range(53)])
    WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                endpoint=endpoint,
                event=event,
                status="failed" if n < 2 else "delivered",
                attempts=10 if n < 2 else 1,
                response_code=500 if n < 2 else 200,
                last_error="Answered 500 Internal Server Error" if n < 2 else "",
            )
            for n, event in enumerate(made)
        ]
    )
    detail = reverse("integrations:webhook-detail", args=[endpoint.pk])
    first = admin_client.get(detail).content.decode()
    assert "53 deliveries" in first and "Page 1 of 2" in first and first.count('data-delivery-id="') == 50
    failed = admin_client.get(detail, {"status": "failed"}).content.decode()
    assert (
        "2 deliveries" in failed
        and failed.count('data-status="failed"') == 2
        and 'data-status="delivered"' not in failed
    )
    assert "Answered 500 Internal Server Error" in failed and "Redeliver 2 failed…" in failed
    overall = admin_client.get(
        reverse("integrations:webhook-deliveries"), {"status": "delivered", "page": 2}
    ).content.decode()
    assert "51 deliveries" in overall and "Page 2 of 2" in overall and overall.count('data-delivery-id="') == 1
    assert "Warehouse" in overall
    none = admin_client.get(reverse("integrations:webhook-deliveries"), {"status": "pending"}).content.decode()
    assert "No pending delivery." in none

    one = WebhookDelivery.objects.filter(status="failed").first()
    response = admin_client.post(
        reverse("integrations:webhook-delivery-redeliver", args=[one.pk]), {"next": f"{detail}?status=failed"}
    )
    assert response.status_code == 302 and response.url == f"{detail}?status=failed"
    one.refresh_from_db()
    assert (one.status, one.attempts, one.redeliveries) == ("pending", 0, 1)
    # Every failed one, after a confirmation that says how many.
    confirm = reverse("integrations:webhook-redeliver-failed", args=[endpoint.pk])
    assert "Send 1 failed delivery again?" in admin_client.get(confirm).content.decode()
    assert "1 failed delivery will be sent again." in admin_client.post(confirm, follow=True).content.decode()
    assert not WebhookDelivery.objects.filter(status="failed").exists()


def test_a_redirect_after_redelivery_stays_on_the_site(admin_client, make_endpoint, receiver):
    endpoint = make_endpoint(receiver.url)
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, event=record("tier.changed"), status="failed")
    url = reverse("integrations:webhook-delivery-redeliver", args=[delivery.pk])
    response = admin_client.post(url, {"next": "//evil.example.com/integrations/"})
    assert response.url == reverse("integrations:webhook-detail", args=[endpoint.pk])


def test_admins_find_integrations_in_the_navigation_and_others_do_not(client, world, make_endpoint, receiver):
    make_endpoint(receiver.url)
    client.force_login(world.admin)
    home = client.get("/").content.decode()
    assert f'href="{reverse("integrations:index")}"' in home
    index = client.get(reverse("integrations:index")).content.decode()
    assert "Webhooks" in index and "1 active endpoint of 1" in index
    for user in (world.manager, world.north_rep):
        client.force_login(user)
        assert f'href="{reverse("integrations:index")}"' not in client.get("/").content.decode()
        assert client.get(reverse("integrations:webhook-list")).status_code == 403


def test_the_empty_pages_say_what_to_do(admin_client):
    assert "No endpoint yet" in admin_client.get(reverse("integrations:webhook-list")).content.decode()
    assert "No delivery yet" in admin_client.get(reverse("integrations:webhook-deliveries")).content.decode()
    assert "No endpoint yet." in admin_client.get(reverse("integrations:index")).content.decode()
