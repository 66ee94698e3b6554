"""GET /api/v1/events/: the change feed a poller reads with a cursor, scoped like the accounts, in commit order."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from core.events import Kind, record, sequence
from core.models import Event
from handoffs.services import handoff_accept
from integrations.feed import cursor_encode
from segmentation import services
from tests.conftest import require_postgres

from .conftest import set_fit

pytestmark = pytest.mark.django_db
URL = "/api/v1/events/"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def poll(client, cursor=None, **params):
    """Every page there is now, from `cursor`: (events, the cursor to go on from)."""
    seen = []
    params = {**params, **({"cursor": cursor} if cursor else {})}
    response = client.get(URL, params)
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        seen += body["results"]
        if body["next"] is None:
            return seen, body["cursor"]
        response = client.get(body["next"])


def test_a_poller_gets_each_event_once_in_order_including_one_committed_late(world, qualified):
    """A tier change, an MQA raised, the rep accepting: a poller with a cursor gets each once, in order; an event
    whose transaction committed after a later one (inserted unsequenced with a lower id) still comes, after it."""
    poller = client_for(world.admin)
    first, cursor = poll(poller, limit=2)
    assert [e["kind"] for e in first] == ["model.published", "mqa.raised", "handoff.assigned"]
    assert [e["seq"] for e in first] == [1, 2, 3]
    assert first[1]["account"] == world.north_account.pk and first[1]["data"]["account_name"] == "North account"
    again, same = poll(poller, cursor)
    assert again == [] and same == cursor  # nothing new: the same cursor to go on from

    account = world.north_account
    set_fit(account, 95)
    services.account_rescore(account)  # Tier 2 -> Tier 1
    handoff_accept(user=world.north_rep, handoff_id=qualified.pk)
    # The tier change took its id before the accept's, but its transaction commits only after the accept was read:
    # it is kept out of the table until then (no reader can see an uncommitted row), then inserted with its id.
    lower = Event.objects.get(kind="tier.changed")
    assert lower.seq is None and lower.pk < Event.objects.get(kind="handoff.accepted").pk
    second, cursor = _poll_accept_first(poller, cursor, late=lower)
    assert [e["kind"] for e in second] == ["handoff.accepted", "tier.changed"]
    assert second[1]["id"] < second[0]["id"] and second[1]["seq"] > second[0]["seq"]
    assert second[1]["data"]["from_tier"] == "tier_2" and second[1]["data"]["to_tier"] == "tier_1"
    assert second[0]["actor"] == world.north_rep.pk and second[0]["data"]["handoff_id"] == qualified.pk
    every = [e["id"] for e in first + second]
    assert len(every) == len(set(every)) == Event.objects.count()
    assert poll(poller, cursor) == ([], cursor)


def _poll_accept_first(poller, cursor, *, late):
    """Poll while `late` is still "uncommitted" (kept out of the table), then once it has committed."""
    row = Event.objects.get(pk=late.pk)
    Event.objects.filter(pk=late.pk).delete()
    seen, cursor = poll(poller, cursor)
    assert [e["kind"] for e in seen] == ["handoff.accepted"]
    row.seq = None
    row.save(force_insert=True)  # it commits now, with its lower id
    more, cursor = poll(poller, cursor)
    return seen + more, cursor


def test_each_user_sees_the_events_of_the_accounts_they_see(world):
    north = record(Kind.OWNER_CHANGED, account_id=world.north_account.pk)
    south = record(Kind.OWNER_CHANGED, account_id=world.south_account.pk)
    mine = record(Kind.OWNER_CHANGED, account_id=world.owned_by_rep.pk)
    product = record(Kind.MODEL_PUBLISHED)
    gone = record(Kind.OWNER_CHANGED, account_id=10**9)  # an account merged away
    seen = {
        name: {e["id"] for e in poll(client_for(getattr(world, name)))[0]}
        for name in ("admin", "manager", "other_manager", "north_rep", "other_rep", "rep")
    }
    assert seen["admin"] == {north.pk, south.pk, mine.pk, product.pk, gone.pk}
    assert seen["manager"] == {north.pk, mine.pk, product.pk}
    assert seen["other_manager"] == {south.pk, product.pk}
    assert seen["north_rep"] == {north.pk, mine.pk, product.pk}  # a member of North sees its accounts
    assert seen["other_rep"] == {south.pk, product.pk}
    assert seen["rep"] == {mine.pk, product.pk}  # in no territory: only what they own
    outsider = client_for(world.outsider).get(URL)
    assert outsider.status_code == 403
    assert APIClient().get(URL).status_code == 401


def test_filters_by_kind_account_after_and_since(world):
    at = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
    a = record(Kind.TIER_CHANGED, account_id=world.north_account.pk, at=at)
    b = record(Kind.MQA_RAISED, account_id=world.north_account.pk, at=at + dt.timedelta(hours=1))
    c = record(Kind.SURGE_STARTED, account_id=world.south_account.pk, at=at + dt.timedelta(hours=2))
    admin = client_for(world.admin)

    def ids(**params):
        return [e["id"] for e in poll(admin, **params)[0]]

    assert ids(kind="tier.changed") == [a.pk]
    assert ids(kind="tier.changed,surge.started") == [a.pk, c.pk]
    assert admin.get(URL, {"kind": ["mqa.raised", "surge.started"]}).json()["results"][0]["id"] == b.pk
    assert ids(account=world.south_account.pk) == [c.pk]
    assert ids(after=1) == [b.pk, c.pk]
    assert ids(since="2026-03-01T10:30:00+01:00") == [b.pk, c.pk]  # 09:30 UTC
    assert ids(since="2026-03-01T11:00:00Z", kind="mqa.raised") == []


@pytest.mark.parametrize(
    "params, field",
    [
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "eyJ2IjoyLCJzZXEiOjF9"}, "cursor"),  # {"v":2,"seq":1}: not one this feed gives
        ({"after": "-1"}, "after"),
        ({"after": "x"}, "after"),
        ({"since": "yesterday"}, "since"),
        ({"since": "0001-01-01T00:00:00+05:00"}, "since"),
        ({"kind": "tier.moved"}, "kind"),
        ({"account": "0"}, "account"),
        ({"limit": "1001"}, "limit"),
        ({"cursor": cursor_encode(3), "after": "2"}, "__all__"),
    ],
)
def test_a_bad_query_is_a_400_naming_its_parameter(world, params, field):
    response = client_for(world.admin).get(URL, params)
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]


def test_pages_follow_seq_with_a_next_link_and_a_fixed_number_of_queries(world):
    for _ in range(5):
        record(Kind.OWNER_CHANGED, account_id=world.north_account.pk)
    rep = client_for(world.north_rep)
    rep.get(URL)  # sequenced: later reads have nothing to place

    def queries(**params):
        with CaptureQueriesContext(connection) as captured:
            body = rep.get(URL, params).json()
        return len(captured), body

    few, small = queries(limit=2)
    for _ in range(60):
        record(Kind.OWNER_CHANGED, account_id=world.north_account.pk)
    rep.get(URL)
    many, large = queries(limit=50)
    assert few == many, "the page's queries do not depend on its size"
    assert [e["seq"] for e in small["results"]] == [1, 2] and small["next"] is not None
    assert len(large["results"]) == 50 and large["next"].startswith("http://testserver/api/v1/events/?")
    follow = rep.get(large["next"]).json()
    assert [e["seq"] for e in follow["results"]] == list(range(51, 66)) and follow["next"] is None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_an_event_committed_late_by_another_connection_is_not_skipped(django_user_model):
    """Two connections: the first takes an event id and commits after the second's event was read."""
    require_postgres()
    import psycopg

    from tests.factories import UserFactory
    from tests.workers import database_url

    admin = UserFactory(username="feed-admin", role="admin")
    poller = client_for(admin)
    table = Event._meta.db_table
    with psycopg.connect(database_url(), autocommit=False) as slow:
        (late_id,) = slow.execute(
            f"INSERT INTO {table} (kind, occurred_at, data) VALUES ('mqa.raised', now(), '{{}}') RETURNING id"  # noqa: S608
        ).fetchone()
        early = record(Kind.TIER_CHANGED)  # a higher id, committed at once
        assert early.pk > late_id
        seen, cursor = poll(poller)
        assert [e["id"] for e in seen] == [early.pk]
        slow.commit()
    more, cursor = poll(poller, cursor)
    assert [e["id"] for e in more] == [late_id] and more[0]["seq"] > seen[0]["seq"]
    assert poll(poller, cursor)[0] == []
    assert sequence() == 0
