"""/api/v1/signals/: scoped reads; admins POST one object or up to 1,000, idempotent on external_id, all or nothing."""

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Signal

from ..factories import ContactFactory, SignalFactory

URL = "/api/v1/signals/"
ROLE_USERS = ["admin", "manager", "other_manager", "rep", "north_rep", "sub_rep", "other_rep"]
NOT_ADMINS = ["manager", "other_manager", "rep", "north_rep", "sub_rep", "other_rep", "outsider"]
ACCOUNTS = ["owned_by_rep", "north_account", "north_east_account", "south_account", "unrouted_account"]


@pytest.fixture
def api(world):
    client = APIClient()
    client.force_authenticate(world.admin)
    return client


def one(world, **overrides) -> dict:
    return {
        "account": world.north_account.pk,
        "kind": "web_visit",
        "occurred_at": "2026-01-01T10:00:00Z",
        "external_id": "E1",
        **overrides,
    }


def ids(client, **params) -> set[int]:
    response = client.get(URL, params)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == len(body["results"]) and body["next"] is None
    return {row["id"] for row in body["results"]}


def test_post_one_signal_twice_creates_one(api, world):
    response = api.post(URL, one(world), format="json")
    assert response.status_code == 201 and response.json() == {"created": 1, "updated": 0, "unchanged": 0}
    again = api.post(URL, one(world), format="json")
    assert again.status_code == 200 and again.json() == {"created": 0, "updated": 0, "unchanged": 1}
    signal = Signal.objects.get(external_id="E1")
    assert signal.account == world.north_account and signal.occurred_at == dt.datetime(2026, 1, 1, 10, tzinfo=dt.UTC)


def test_post_a_batch_is_idempotent(api, world):
    contact = ContactFactory(account=world.north_account)
    batch = [
        one(world, contact=contact.pk, kind="meeting", occurred_at=f"2026-02-{d:02d}T09:00:00Z", external_id=f"B{d}")
        for d in range(1, 29)
    ]
    first = api.post(URL, batch, format="json")
    assert first.status_code == 201 and first.json() == {"created": 28, "updated": 0, "unchanged": 0}
    again = api.post(URL, batch, format="json")
    assert again.status_code == 200 and again.json() == {"created": 0, "updated": 0, "unchanged": 28}
    assert Signal.objects.filter(external_id__startswith="B").count() == 28
    assert Signal.objects.filter(contact=contact).count() == 28
    # A batch that overlaps the previous one only adds the new signals.
    overlap = api.post(URL, [*batch[:5], one(world, external_id="B-new")], format="json")
    assert overlap.status_code == 201 and overlap.json() == {"created": 1, "updated": 0, "unchanged": 5}


def test_a_full_batch_of_1000_goes_in(api, world):
    batch = [one(world, external_id=f"K{i}", occurred_at="2026-01-02T00:00:00Z") for i in range(1000)]
    response = api.post(URL, batch, format="json")
    assert response.status_code == 201 and response.json()["created"] == 1000
    assert Signal.objects.count() == 1000


def test_a_bad_item_gets_field_messages_and_saves_nothing(api, world):
    batch = [
        one(world, external_id="OK1"),
        {"account": world.north_account.pk, "kind": "Web Visit!", "occurred_at": "yesterday"},
        {"kind": "meeting"},
        {"account": "ACC-1", "contact": 10**30, "occurred_at": "2026-01-01T00:00:00Z", "kind": "meeting"},
    ]
    response = api.post(URL, batch, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "Nothing was saved."
    fields = {(e["index"], e["field"]) for e in body["errors"]}
    assert fields == {
        (1, "kind"),
        (1, "occurred_at"),
        (2, "account"),
        (2, "occurred_at"),
        (3, "account"),
        (3, "contact"),
    }
    kind = "'Web Visit!' is not a signal kind (lower_snake_case, e.g. web_visit)."
    assert {"index": 1, "field": "kind", "detail": kind} in body["errors"]
    single = api.post(URL, one(world, kind="", topic="t" * 500), format="json")
    assert single.status_code == 400
    assert {(e["index"], e["field"]) for e in single.json()["errors"]} == {(0, "kind"), (0, "topic")}
    assert not Signal.objects.exists()


def test_what_the_importer_refuses_saves_nothing(api, world):
    unknown = api.post(URL, [one(world), one(world, account=987654, external_id="E2")], format="json")
    assert unknown.status_code == 400
    assert unknown.json() == {
        "detail": "Nothing was saved.",
        "errors": [{"index": 1, "field": "account", "detail": "account 987654 does not exist"}],
    }
    other_contact = ContactFactory(account=world.south_account)
    wrong = api.post(URL, [one(world, contact=other_contact.pk)], format="json")
    assert wrong.status_code == 400 and "not found on this account" in wrong.json()["errors"][0]["detail"]
    twice = api.post(URL, [one(world), one(world, kind="meeting")], format="json")
    assert twice.status_code == 400 and twice.json()["errors"][0]["index"] == 1
    assert twice.json()["errors"][0]["detail"].endswith("in this batch (first at index 0)")
    assert not Signal.objects.exists()


def test_batch_limits(api, world):
    empty = api.post(URL, [], format="json")
    assert empty.status_code == 400 and empty.json() == {"detail": "Send one object or a non-empty list.", "errors": []}
    over = [one(world, external_id=None)] * 1001
    response = api.post(URL, over, format="json")
    assert response.status_code == 400
    assert response.json() == {"detail": "Send at most 1000 items per request; this one has 1001.", "errors": []}
    scalars = api.post(URL, [1, 2], format="json")
    assert scalars.status_code == 400 and scalars.json() == {"detail": "Each item must be a JSON object.", "errors": []}
    assert api.post(URL, "{not json", content_type="application/json").status_code == 400
    assert not Signal.objects.exists()


@pytest.mark.parametrize("name", NOT_ADMINS)
def test_only_admins_post_signals(world, name):
    client = APIClient()
    client.force_authenticate(getattr(world, name))
    for body in (one(world), [one(world, external_id="L1")]):
        assert client.post(URL, body, format="json").status_code == 403
    assert not Signal.objects.exists()


def test_anonymous_gets_401(world):
    signal = SignalFactory(account=world.north_account)
    client = APIClient()
    for response in (client.get(URL), client.get(f"{URL}{signal.pk}/"), client.post(URL, one(world), format="json")):
        assert response.status_code == 401 and response.json()["detail"]
    assert Signal.objects.count() == 1


@pytest.fixture
def made(world) -> dict[int, int]:
    """account id -> its one signal."""
    return {getattr(world, a).pk: SignalFactory(account=getattr(world, a)).pk for a in ACCOUNTS}


@pytest.mark.parametrize("name", [*ROLE_USERS, "outsider"])
def test_list_and_detail_are_scoped(world, made, name):
    client = APIClient()
    client.force_authenticate(getattr(world, name))
    if name == "outsider":
        assert client.get(URL).status_code == 403
        assert all(client.get(f"{URL}{pk}/").status_code == 403 for pk in made.values())
        return
    visible = world.accounts_visible_to(name)
    assert ids(client) == {made[a] for a in visible}
    for account_id, signal_id in made.items():
        response = client.get(f"{URL}{signal_id}/")
        assert response.status_code == (200 if account_id in visible else 404)
        assert ids(client, account=account_id) == ({signal_id} if account_id in visible else set())


@pytest.mark.parametrize("name", ROLE_USERS)
def test_filters_never_reveal_other_accounts(world, name):
    now = timezone.now()
    contacts = {}
    for attr in ACCOUNTS:
        account = getattr(world, attr)
        contacts[account.pk] = ContactFactory(account=account)
        SignalFactory(account=account, kind="meeting", occurred_at=now - dt.timedelta(days=3))
        SignalFactory(account=account, contact=contacts[account.pk], kind="web_visit", occurred_at=now)
    client = APIClient()
    client.force_authenticate(getattr(world, name))
    visible = world.accounts_visible_to(name)

    def expected(**lookups) -> set[int]:
        return set(Signal.objects.filter(account__in=visible, **lookups).values_list("pk", flat=True))

    assert ids(client, kind="meeting") == expected(kind="meeting")
    after = (now - dt.timedelta(days=1)).isoformat()
    assert ids(client, occurred_after=after) == expected(occurred_at__gte=now - dt.timedelta(days=1))
    assert ids(client, occurred_before=after) == expected(occurred_at__lt=now - dt.timedelta(days=1))
    for account_id, contact in contacts.items():
        assert ids(client, contact=contact.pk) == expected(contact=contact)
        assert ids(client, account=account_id, kind="web_visit") == expected(account_id=account_id, kind="web_visit")
    assert ids(client, account=987654) == set()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"occurred_after": "last tuesday"}, "occurred_after"),
        ({"occurred_before": "2026-13-45"}, "occurred_before"),
        ({"account": "abc"}, "account"),
        ({"account": str(10**30)}, "account"),
        ({"contact": "-1"}, "contact"),
    ],
)
def test_bad_filters_are_400(api, world, params, field):
    response = api.get(URL, params)
    assert response.status_code == 400 and list(response.json()) == [field]


def test_list_is_newest_first(api, world):
    now = timezone.now()
    old = SignalFactory(account=world.north_account, occurred_at=now - dt.timedelta(days=10))
    new = SignalFactory(account=world.north_account, occurred_at=now)
    mid = SignalFactory(account=world.north_account, occurred_at=now - dt.timedelta(days=5))
    assert [row["id"] for row in api.get(URL).json()["results"]] == [new.pk, mid.pk, old.pk]
    oldest_first = api.get(URL, {"ordering": "occurred_at"}).json()["results"]
    assert [row["id"] for row in oldest_first] == [old.pk, mid.pk, new.pk]
