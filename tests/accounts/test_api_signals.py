"""POST /api/v1/signals/: one object or up to 1,000, idempotent on external_id, all or nothing."""

import pytest
from rest_framework.test import APIClient

from accounts.models import Signal

from ..factories import ContactFactory, SignalFactory

URL = "/api/v1/signals/"


@pytest.fixture
def api(world):
    client = APIClient()
    client.force_authenticate(world.admin)
    return client


def test_post_one_signal(api, world):
    response = api.post(
        URL,
        {
            "account": world.north_account.pk,
            "kind": "web_visit",
            "occurred_at": "2026-01-01T10:00:00Z",
            "external_id": "E1",
        },
        format="json",
    )
    assert response.status_code == 201 and response.json() == {"created": 1, "updated": 0, "unchanged": 0}
    again = api.post(
        URL,
        {
            "account": world.north_account.pk,
            "kind": "web_visit",
            "occurred_at": "2026-01-01T10:00:00Z",
            "external_id": "E1",
        },
        format="json",
    )
    assert again.status_code == 200 and again.json()["unchanged"] == 1
    assert Signal.objects.filter(external_id="E1").count() == 1


def test_post_a_batch_is_idempotent(api, world):
    contact = ContactFactory(account=world.north_account)
    batch = [
        {
            "account": world.north_account.pk,
            "contact": contact.pk,
            "kind": "meeting",
            "occurred_at": f"2026-02-{d:02d}T09:00:00Z",
            "external_id": f"B{d}",
        }
        for d in range(1, 29)
    ]
    assert api.post(URL, batch, format="json").json() == {"created": 28, "updated": 0, "unchanged": 0}
    assert api.post(URL, batch, format="json").json() == {"created": 0, "updated": 0, "unchanged": 28}
    assert Signal.objects.filter(external_id__startswith="B").count() == 28
    assert Signal.objects.filter(contact=contact).count() == 28


def test_a_bad_item_saves_nothing(api, world):
    batch = [
        {
            "account": world.north_account.pk,
            "kind": "web_visit",
            "occurred_at": "2026-01-01T00:00:00Z",
            "external_id": "OK1",
        },
        {"account": world.north_account.pk, "kind": "Web Visit!", "occurred_at": "yesterday"},
    ]
    response = api.post(URL, batch, format="json")
    assert response.status_code == 400
    assert set(response.json()["1"]) == {"kind", "occurred_at"}
    unknown = api.post(
        URL, [batch[0], {"account": 987654, "kind": "meeting", "occurred_at": "2026-01-01T00:00:00Z"}], format="json"
    )
    assert unknown.status_code == 400
    assert unknown.json() == {
        "detail": "Nothing was saved.",
        "errors": [{"index": 1, "detail": "account: account 987654 does not exist"}],
    }
    other_contact = ContactFactory(account=world.south_account)
    wrong = api.post(
        URL,
        [
            {
                "account": world.north_account.pk,
                "contact": other_contact.pk,
                "kind": "meeting",
                "occurred_at": "2026-01-01T00:00:00Z",
            }
        ],
        format="json",
    )
    assert wrong.status_code == 400 and "not found on this account" in wrong.json()["errors"][0]["detail"]
    assert not Signal.objects.filter(external_id="OK1").exists()


def test_batch_limits(api, world):
    assert api.post(URL, [], format="json").status_code == 400
    over = [{"account": world.north_account.pk, "kind": "web_visit", "occurred_at": "2026-01-01T00:00:00Z"}] * 1001
    response = api.post(URL, over, format="json")
    assert (
        response.status_code == 400
        and response.json()["detail"] == "Send at most 1000 items per request; this one has 1001."
    )
    assert api.post(URL, [1, 2], format="json").status_code == 400


@pytest.mark.parametrize("name", ["manager", "rep", "north_rep"])
def test_only_admins_post_signals(world, name):
    client = APIClient()
    client.force_authenticate(getattr(world, name))
    response = client.post(
        URL,
        {"account": world.north_account.pk, "kind": "web_visit", "occurred_at": "2026-01-01T00:00:00Z"},
        format="json",
    )
    assert response.status_code == 403
    assert not Signal.objects.exists()


@pytest.mark.parametrize("name", ["admin", "manager", "other_manager", "rep", "north_rep", "sub_rep", "other_rep"])
def test_signal_list_is_scoped(world, name):
    made = {
        getattr(world, a).pk: SignalFactory(account=getattr(world, a)).pk
        for a in ("owned_by_rep", "north_account", "north_east_account", "south_account", "unrouted_account")
    }
    client = APIClient()
    client.force_authenticate(getattr(world, name))
    visible = world.accounts_visible_to(name)
    body = client.get(URL, {"page_size": 100}).json()
    assert {row["id"] for row in body["results"]} == {made[a] for a in visible}
    for account_id, signal_id in made.items():
        assert client.get(f"{URL}{signal_id}/").status_code == (200 if account_id in visible else 404)
        filtered = client.get(URL, {"account": account_id}).json()["results"]
        assert bool(filtered) == (account_id in visible)
