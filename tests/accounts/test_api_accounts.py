"""/api/v1/accounts/ and /api/v1/accounts/bulk/: scoped like the pages, admins write, bad input is 400."""

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Account
from accounts.selectors import account_list

from ..conftest import forget_shared_counts
from ..factories import (
    AccountFactory,
    AccountScoreFactory,
    ContactFactory,
    OpportunityFactory,
    ScoringModelFactory,
    SignalFactory,
    TierChangeFactory,
    ranked_accounts,
)

ROLE_USERS = ["admin", "manager", "other_manager", "rep", "north_rep", "sub_rep", "other_rep"]
NOT_ADMINS = ["manager", "other_manager", "rep", "north_rep", "sub_rep", "other_rep", "outsider"]
ACCOUNTS = ["owned_by_rep", "north_account", "north_east_account", "south_account", "unrouted_account"]
URL = "/api/v1/accounts/"


@pytest.fixture
def api():
    return APIClient()


def ids(api, url, **params) -> set[int]:
    """Every id of a list, following the pages; the count must agree with what is listed."""
    response = api.get(url, params)
    assert response.status_code == 200, response.content
    count = response.json()["count"]
    found = set()
    while True:
        found |= {row["id"] for row in response.json()["results"]}
        if not response.json()["next"]:
            assert count == len(found)
            return found
        response = api.get(response.json()["next"])


@pytest.mark.parametrize("name", [*ROLE_USERS, "outsider"])
def test_list_and_detail_show_exactly_what_the_user_may_see(api, world, name):
    api.force_authenticate(getattr(world, name))
    if name == "outsider":
        response = api.get(URL)
        assert response.status_code == 403 and "results" not in response.json()
        for attr in ACCOUNTS:
            detail = api.get(f"{URL}{getattr(world, attr).pk}/")
            assert detail.status_code == 403 and getattr(world, attr).name not in detail.content.decode()
        return
    visible = world.accounts_visible_to(name)
    assert ids(api, URL) == visible
    for attr in ACCOUNTS:
        account = getattr(world, attr)
        response = api.get(f"{URL}{account.pk}/")
        if account.pk in visible:
            assert response.status_code == 200 and response.json()["name"] == account.name
        else:
            assert response.status_code == 404 and response.json() == {"detail": "Not found."}
    assert api.get(f"{URL}999999/").json() == {"detail": "Not found."}


def searched(text: str):
    """What the search should find among all accounts: every word in the name or domain, or the exact external_id."""
    q = Q()
    for word in text.split():
        q &= Q(name__icontains=word) | Q(domain__icontains=word) | Q(external_id=word)
    return Account.objects.filter(q)


@pytest.mark.parametrize("name", ROLE_USERS)
def test_filters_search_and_ordering_never_reveal_other_accounts(api, world, name):
    nowhere = AccountFactory(name="Nowhere Ltd", domain="nowhere.example", external_id="NOWHERE-1", country="France")
    api.force_authenticate(getattr(world, name))
    visible = world.accounts_visible_to(name) | ({nowhere.pk} if name == "admin" else set())
    cases = [
        ({"territory": t.pk}, Account.objects.filter(territory=t)) for t in (world.north, world.north_east, world.south)
    ]
    cases += [({"owner": u.pk}, Account.objects.filter(owner=u)) for u in (world.rep, world.north_rep, world.other_rep)]
    for attr in ACCOUNTS:
        account = getattr(world, attr)
        for term in (account.name, account.domain, account.external_id):
            cases.append(({"search": term}, searched(term)))
    cases += [
        ({"search": "account"}, searched("account")),
        ({"search": "nowhere"}, searched("nowhere")),
        ({"country": "france"}, Account.objects.filter(country="France")),
        ({"country": "United States"}, Account.objects.filter(country="United States")),
        ({"industry": "SOFTWARE"}, Account.objects.filter(industry="software")),
    ]
    cases += [({"ordering": f"{sign}{field}"}, Account.objects.all()) for field in (
        "name", "created_at", "employee_count", "annual_revenue") for sign in ("", "-")]  # fmt: skip
    for params, matching in cases:
        expected = set(matching.values_list("pk", flat=True)) & visible
        assert ids(api, URL, **params) == expected, params


def test_an_invisible_id_and_a_missing_id_filter_alike(api, world):
    """A filter on another territory's id answers exactly as one on an id that does not exist."""
    api.force_authenticate(world.north_rep)
    empty = {"count": 0, "next": None, "previous": None, "results": []}
    for params in (
        {"territory": world.south.pk},
        {"territory": 987654},
        {"owner": world.other_rep.pk},
        {"owner": 987654},
    ):
        response = api.get(URL, params)
        assert response.status_code == 200 and response.json() == empty, params


def test_ordering_orders(api, world):
    sizes = {"owned_by_rep": 30, "north_account": 10, "north_east_account": 20, "south_account": 40}
    for attr, size in sizes.items():
        Account.objects.filter(pk=getattr(world, attr).pk).update(employee_count=size, annual_revenue=size * 1000)
    api.force_authenticate(world.manager)
    rows = api.get(URL, {"ordering": "employee_count"}).json()["results"]
    assert [r["employee_count"] for r in rows] == [10, 20, 30]
    rows = api.get(URL, {"ordering": "-annual_revenue"}).json()["results"]
    assert [r["annual_revenue"] for r in rows] == ["30000.00", "20000.00", "10000.00"]
    assert [r["name"] for r in api.get(URL).json()["results"]] == [
        "North account",
        "North-East account",
        "Owned by rep",
    ]
    # A field that may not be ordered by (e.g. through a relation) is ignored, not an error.
    assert api.get(URL, {"ordering": "owner__password"}).status_code == 200


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"territory": "north"}, "territory"),
        ({"owner": "1.5"}, "owner"),
        ({"owner": str(10**30)}, "owner"),
        ({"territory": "-3"}, "territory"),
        ({"tier": "tier_9"}, "tier"),
        ({"surging": "yes"}, "surging"),
        ({"surging": "TRUE"}, "surging"),
        ({"capacity": "maybe"}, "capacity"),
        ({"capacity": ""}, None),  # empty: not filtered
    ],
)
def test_bad_filters_are_400_with_field_messages(api, world, params, field):
    api.force_authenticate(world.manager)
    response = api.get(URL, params)
    if field is None:
        assert response.status_code == 200
        return
    assert response.status_code == 400 and list(response.json()) == [field]
    assert response.json()[field][0]  # a message saying what is wrong with the value
    if field in ("tier", "surging", "capacity"):
        assert response.json()[field] == [
            f"Select a valid choice. {params[field]} is not one of the available choices."
        ]


def test_detail_has_owner_territory_and_counts(api, world):
    account = world.north_account
    ContactFactory.create_batch(2, account=account)
    SignalFactory.create_batch(3, account=account)
    OpportunityFactory(account=account)
    OpportunityFactory(account=account, stage="Engaging", is_closed=False, is_won=False)
    SignalFactory(account=world.south_account)
    api.force_authenticate(world.north_rep)
    body = api.get(f"{URL}{account.pk}/").json()
    assert body["owner_detail"] == {"id": world.north_rep.pk, "username": "north_rep"}
    assert body["territory_detail"] == {"id": world.north.pk, "name": "North"}
    assert body["counts"] == {"contacts": 2, "signals": 3, "opportunities": 2, "open_opportunities": 1}
    unrouted = api.get(f"{URL}{world.owned_by_rep.pk}/").json()
    assert unrouted["owner_detail"]["username"] == "rep" and unrouted["counts"]["signals"] == 0
    # The list stays light: no counts per row.
    assert "counts" not in api.get(URL).json()["results"][0]


def test_a_parent_outside_the_scope_is_not_shown(api, world):
    Account.objects.filter(pk=world.north_account.pk).update(parent=world.south_account)
    Account.objects.filter(pk=world.owned_by_rep.pk).update(parent=world.north_account)
    api.force_authenticate(world.north_rep)
    assert api.get(f"{URL}{world.north_account.pk}/").json()["parent"] is None
    assert api.get(f"{URL}{world.owned_by_rep.pk}/").json()["parent"] == world.north_account.pk
    listed = {row["id"]: row["parent"] for row in api.get(URL).json()["results"]}
    assert listed == {world.north_account.pk: None, world.owned_by_rep.pk: world.north_account.pk}
    assert str(world.south_account.pk) not in str(listed.values())
    api.force_authenticate(world.admin)
    assert api.get(f"{URL}{world.north_account.pk}/").json()["parent"] == world.south_account.pk


def test_the_list_costs_the_same_number_of_queries_for_more_accounts(api, world):
    Account.objects.filter(pk=world.north_account.pk).update(parent=world.owned_by_rep)  # a parent the rep sees
    api.force_authenticate(User.objects.get(pk=world.north_rep.pk))
    with CaptureQueriesContext(connection) as few:
        assert api.get(URL).json()["count"] == 2
    AccountFactory.create_batch(20, territory=world.north, owner=world.north_rep, parent=world.south_account)
    api.force_authenticate(User.objects.get(pk=world.north_rep.pk))  # a fresh user: roles are cached per request
    with CaptureQueriesContext(connection) as many:
        listed = api.get(URL, {"page_size": 50}).json()
        assert listed["count"] == 22
    assert len(many.captured_queries) == len(few.captured_queries)
    # The page's parents were looked up at once: the one in the South is not named, the visible one is.
    parents = {row["name"]: row["parent"] for row in listed["results"]}
    assert parents["North account"] == world.owned_by_rep.pk
    assert {parents[name] for name in parents if name != "North account"} == {None}


def test_anonymous_gets_401_json(api, world):
    for method, url in (
        ("get", URL),
        ("get", f"{URL}{world.north_account.pk}/"),
        ("post", URL),
        ("patch", f"{URL}{world.north_account.pk}/"),
        ("delete", f"{URL}{world.north_account.pk}/"),
        ("post", f"{URL}bulk/"),
    ):
        response = getattr(api, method)(url, {}, format="json")
        assert response.status_code == 401, (method, url)
        assert response["Content-Type"] == "application/json" and response.json()["detail"]
    assert Account.objects.count() == 5


@pytest.mark.parametrize("name", NOT_ADMINS)
def test_only_admins_write(api, world, name):
    api.force_authenticate(getattr(world, name))
    own = world.north_account.pk
    assert api.post(URL, {"name": "New", "external_id": "N1"}, format="json").status_code == 403
    assert api.patch(f"{URL}{own}/", {"name": "Renamed"}, format="json").status_code == 403
    assert api.put(f"{URL}{own}/", {"name": "Renamed"}, format="json").status_code == 403
    assert api.delete(f"{URL}{own}/").status_code == 403
    assert api.post(f"{URL}bulk/", [{"name": "X", "external_id": "X"}], format="json").status_code == 403
    world.north_account.refresh_from_db()
    assert world.north_account.name == "North account"
    assert not Account.objects.filter(external_id__in=["N1", "X"]).exists() and Account.objects.count() == 5


def test_admin_creates_updates_and_deletes(api, world):
    world.south.criteria = [{"attribute": "technologies", "operator": "contains", "value": "Snowflake"}]
    world.south.save()  # South's rules take this account: routing keeps it there
    api.force_authenticate(world.admin)
    created = api.post(
        URL,
        {
            "name": "New Co",
            "external_id": " N1 ",
            "domain": "https://www.NewCo.example/",
            "technologies": ["Snowflake"],
            "territory": world.south.pk,
            "owner": world.other_rep.pk,
            "attributes": {"segment": "mid-market"},
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["domain"], body["external_id"]) == ("newco.example", "N1")
    assert body["territory_detail"] == {"id": world.south.pk, "name": "South"}
    account_id = body["id"]
    updated = api.patch(
        f"{URL}{account_id}/", {"employee_count": 1200, "parent": world.south_account.pk}, format="json"
    )
    assert updated.status_code == 200 and updated.json()["employee_count"] == 1200
    assert updated.json()["parent"] == world.south_account.pk
    # The new account is visible to the South, not to the North.
    api.force_authenticate(world.other_rep)
    assert api.get(f"{URL}{account_id}/").status_code == 200
    api.force_authenticate(world.north_rep)
    assert api.get(f"{URL}{account_id}/").status_code == 404
    api.force_authenticate(world.admin)
    assert api.delete(f"{URL}{account_id}/").status_code == 204
    assert not Account.objects.filter(pk=account_id).exists()


def test_bad_input_gets_field_messages(api, world):
    api.force_authenticate(world.admin)
    bad = api.post(
        URL,
        {
            "name": "",
            "external_id": world.north_account.external_id,
            "domain": "not a domain",
            "employee_count": "many",
            "annual_revenue": "x",
            "owner": 999999,
            "territory": "north",
            "technologies": "Snowflake",
            "attributes": [1, 2],
            "year_founded": 10**9,
        },
        format="json",
    )
    assert bad.status_code == 400
    assert set(bad.json()) == {
        "name", "external_id", "domain", "employee_count", "annual_revenue", "owner", "territory", "technologies",
        "attributes", "year_founded",
    }  # fmt: skip
    assert bad.json()["external_id"] == ["Another account has this external_id."]
    taken = api.post(URL, {"name": "Copy", "domain": f"WWW.{world.south_account.domain}"}, format="json")
    assert taken.status_code == 400 and taken.json() == {"domain": ["Another account has this domain."]}
    own_parent = api.patch(
        f"{URL}{world.north_account.pk}/", {"parent": world.north_account.pk}, format="json"
    )  # fmt: skip
    assert own_parent.status_code == 400 and own_parent.json() == {"parent": ["An account cannot be its own parent."]}
    assert api.post(URL, "not json", content_type="application/json").status_code == 400
    assert api.post(URL, [{"name": "A list"}], format="json").status_code == 400
    assert Account.objects.count() == 5


NO_MATCHES = {"matched": [], "possible_duplicates": []}  # no item matched an account we have by name or website


def test_bulk_upserts_by_external_id_or_domain(api, world):
    api.force_authenticate(world.admin)
    batch = [
        {"name": "Alpha", "external_id": "A1"},
        {"name": "Beta", "domain": "beta.example", "owner": world.north_rep.pk},
    ]
    first = api.post(f"{URL}bulk/", batch, format="json")
    assert first.status_code == 201 and first.json() == {"created": 2, "updated": 0, "unchanged": 0, **NO_MATCHES}
    assert Account.objects.get(domain="beta.example").owner == world.north_rep
    again = api.post(f"{URL}bulk/", batch, format="json")
    assert again.status_code == 200 and again.json() == {"created": 0, "updated": 0, "unchanged": 2, **NO_MATCHES}
    changed = api.post(
        f"{URL}bulk/",
        [
            {"name": "Alpha", "external_id": "A1", "employee_count": 99},
            {"name": "Beta Inc", "domain": "https://www.beta.example"},
            {"name": "Single", "external_id": "S1"},
        ],
        format="json",
    )
    assert changed.status_code == 201 and changed.json() == {"created": 1, "updated": 2, "unchanged": 0, **NO_MATCHES}
    assert Account.objects.get(external_id="A1").employee_count == 99
    assert Account.objects.get(domain="beta.example").name == "Beta Inc"
    one = api.post(f"{URL}bulk/", {"name": "Solo", "external_id": "SOLO"}, format="json")
    assert one.status_code == 201 and Account.objects.filter(external_id="SOLO").exists()


def test_bulk_is_all_or_nothing_with_clear_errors(api, world):
    api.force_authenticate(world.admin)
    bad = api.post(f"{URL}bulk/", [{"name": "Gamma", "external_id": "G1"}, {"name": "No key"}], format="json")
    assert bad.status_code == 400
    assert bad.json()["errors"] == [
        {"index": 1, "field": None, "detail": "Each account needs an external_id or a domain to be upserted."}
    ]
    dup = api.post(
        f"{URL}bulk/", [{"name": "G", "external_id": "G1"}, {"name": "G2", "external_id": "G1"}], format="json"
    )
    assert dup.status_code == 400 and dup.json()["detail"] == "Nothing was saved."
    assert dup.json()["errors"][0]["index"] == 1 and "duplicate" in dup.json()["errors"][0]["detail"]
    fields = api.post(
        f"{URL}bulk/", [{"name": "G", "external_id": "G1", "employee_count": -1, "owner": 999999}], format="json"
    )
    assert fields.status_code == 400
    assert {(e["index"], e["field"]) for e in fields.json()["errors"]} == {(0, "employee_count"), (0, "owner")}
    assert not Account.objects.filter(external_id="G1").exists()
    assert api.post(f"{URL}bulk/", [], format="json").status_code == 400
    assert api.post(f"{URL}bulk/", ["x"], format="json").status_code == 400
    too_many = api.post(f"{URL}bulk/", [{"name": "x", "external_id": str(i)} for i in range(1001)], format="json")
    assert too_many.status_code == 400
    assert too_many.json()["detail"] == "Send at most 1000 items per request; this one has 1001."
    assert Account.objects.count() == 5


@pytest.fixture
def scored(world):
    """Scores for four of the five accounts (`unrouted_account` has none): surging, held by capacity, or neither."""
    model = ScoringModelFactory()
    now = timezone.now()
    rows = {
        "owned_by_rep": dict(tier="tier_1", flags=["surge"], surge_until=now + dt.timedelta(days=5)),
        "north_account": dict(tier="tier_2", flags=["capacity"]),
        "north_east_account": dict(tier="tier_3", flags=["hysteresis"], surge_until=now - dt.timedelta(days=2)),
        "south_account": dict(tier="tier_2", flags=["surge", "capacity"], surge_until=now + dt.timedelta(days=1)),
    }
    return {name: AccountScoreFactory(account=getattr(world, name), model=model, **row) for name, row in rows.items()}


@pytest.mark.parametrize(
    ("params", "names"),
    [
        ({"surging": "true"}, {"owned_by_rep", "south_account"}),
        ({"surging": "false"}, {"north_account", "north_east_account", "unrouted_account"}),
        ({"capacity": "true"}, {"north_account", "south_account"}),
        ({"capacity": "false"}, {"owned_by_rep", "north_east_account", "unrouted_account"}),
        ({"tier": "tier_2", "capacity": "true", "surging": "false"}, {"north_account"}),
        ({"tier": "tier_2", "surging": "true"}, {"south_account"}),
    ],
)
@pytest.mark.parametrize("name", ["admin", "manager", "other_rep"])
def test_surging_and_capacity_filters(api, world, scored, params, names, name):
    api.force_authenticate(getattr(world, name))
    expected = {getattr(world, n).pk for n in names} & world.accounts_visible_to(name)
    assert ids(api, URL, **params) == expected


def test_list_rows_carry_flags_surge_and_tier_since(api, world, scored):
    api.force_authenticate(world.north_rep)
    rows = {row["id"]: row for row in api.get(URL).json()["results"]}
    owned = rows[world.owned_by_rep.pk]
    assert owned["flags"] == ["surge"] and owned["tier"] == "tier_1"
    assert dt.datetime.fromisoformat(owned["surge_until"]) == scored["owned_by_rep"].surge_until
    assert dt.datetime.fromisoformat(owned["tier_since"]) == scored["owned_by_rep"].tier_since
    assert rows[world.north_account.pk]["surge_until"] is None
    assert "tier_history" not in owned  # the list stays light


def test_detail_has_flags_surge_tier_since_and_the_latest_50_tier_moves(api, world, scored):
    model = scored["north_account"].model
    start = timezone.now() - dt.timedelta(days=100)
    for i in range(60):
        TierChangeFactory(
            account=world.north_account, model=model, at=start + dt.timedelta(days=i),
            from_tier="tier_3" if i % 2 else "tier_2", to_tier="tier_2" if i % 2 else "tier_3",
            reason=f"move {i}", fit=i, signal=i / 2, unified=i + 0.5,
        )  # fmt: skip
    TierChangeFactory(account=world.south_account, model=model, reason="a South move")
    api.force_authenticate(world.north_rep)
    body = api.get(f"{URL}{world.north_account.pk}/").json()
    assert body["flags"] == ["capacity"] and body["surge_until"] is None
    assert dt.datetime.fromisoformat(body["tier_since"]) == scored["north_account"].tier_since
    history = body["tier_history"]
    assert [h["reason"] for h in history] == [f"move {i}" for i in range(59, 9, -1)]
    assert history[0] == {
        "from_tier": "tier_3",
        "to_tier": "tier_2",
        "reason": "move 59",
        "at": history[0]["at"],
        "fit": 59.0,
        "signal": 29.5,
        "unified": 59.5,
    }
    assert dt.datetime.fromisoformat(history[0]["at"]) == start + dt.timedelta(days=59)
    surging = api.get(f"{URL}{world.owned_by_rep.pk}/").json()
    assert surging["flags"] == ["surge"] and surging["tier_history"] == []
    assert dt.datetime.fromisoformat(surging["surge_until"]) == scored["owned_by_rep"].surge_until
    api.force_authenticate(world.admin)
    unscored = api.get(f"{URL}{world.unrouted_account.pk}/").json()
    assert (unscored["tier"], unscored["flags"], unscored["surge_until"], unscored["tier_since"]) == (None,) * 4
    assert unscored["tier_history"] == []


def test_the_detail_costs_the_same_number_of_queries_for_a_long_history(api, world, scored):
    model = scored["north_account"].model
    url = f"{URL}{world.north_account.pk}/"

    def queries() -> int:
        api.force_authenticate(User.objects.get(pk=world.north_rep.pk))  # a fresh user: roles are cached per request
        with CaptureQueriesContext(connection) as captured:
            assert api.get(url).status_code == 200
        return len(captured.captured_queries)

    TierChangeFactory(account=world.north_account, model=model)
    few = queries()
    TierChangeFactory.create_batch(70, account=world.north_account, model=model)
    assert queries() == few


def test_the_schema_documents_the_new_filters_and_fields(api, world):
    api.force_authenticate(world.admin)
    text = api.get("/api/schema/").content.decode()
    for name in ("surging", "capacity", "tier_history", "surge_until", "tier_since", "TierHistory"):
        assert name in text, name


@pytest.fixture
def south_by_rule(world):
    """South takes the accounts whose country is Spain; the South account is one."""
    world.south.criteria = [{"attribute": "country", "operator": "eq", "value": "Spain"}]
    world.south.save()
    Account.objects.filter(pk=world.south_account.pk).update(country="Spain")
    return world.south


def test_an_owner_set_directly_must_work_the_accounts_territory(api, world, south_by_rule):
    """The rules of a reassignment: a rep of another territory is refused, with the reason; nothing changes."""
    api.force_authenticate(world.admin)
    url = f"{URL}{world.south_account.pk}/"
    refused = api.patch(url, {"territory": world.south.pk, "owner": world.north_rep.pk}, format="json")
    assert refused.status_code == 400
    assert "north_rep is not an active member of South" in refused.json()["owner"][0]
    refused = api.patch(url, {"owner": world.north_rep.pk}, format="json")
    assert refused.status_code == 400 and "not an active member of South" in refused.json()["owner"][0]
    world.south_account.refresh_from_db()
    assert world.south_account.owner == world.other_rep


def test_a_territory_routing_would_undo_is_refused_with_the_reason(api, world, south_by_rule):
    api.force_authenticate(world.admin)
    refused = api.patch(f"{URL}{world.south_account.pk}/", {"territory": world.north.pk, "owner": None}, format="json")
    assert refused.status_code == 400
    message = refused.json()["territory"][0]
    assert "Routing places this account in South" in message and "named accounts" in message
    world.south_account.refresh_from_db()
    assert world.south_account.territory == world.south
    # Named in North, it stays there: the edit stands.
    world.north.named_accounts.add(world.south_account)
    assert (
        api.patch(
            f"{URL}{world.south_account.pk}/", {"territory": world.north.pk, "owner": None}, format="json"
        ).status_code
        == 200
    )


def test_an_owner_changed_directly_stays_and_takes_the_pending_handoff(
    api, world, south_by_rule, django_capture_on_commit_callbacks
):
    from handoffs.models import Handoff
    from handoffs.services import handoffs_create
    from tests.factories import MembershipFactory, MQAFactory, UserFactory

    second = UserFactory(username="south_second", role="rep")
    MembershipFactory(user=second, territory=world.south)
    mqa = MQAFactory(account=world.south_account, tier="tier_1")
    handoffs_create([mqa.pk])
    assert Handoff.objects.get(mqa=mqa).owner == world.other_rep
    api.force_authenticate(world.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.patch(f"{URL}{world.south_account.pk}/", {"owner": second.pk}, format="json")
    assert response.status_code == 200 and response.json()["owner"] == second.pk
    world.south_account.refresh_from_db()
    assert world.south_account.owner == second  # routing after commit kept it
    assert Handoff.objects.get(mqa=mqa).owner == second  # the handoff followed


def test_bulk_keeps_attributes_and_refuses_unknown_keys_by_name(api, world):
    api.force_authenticate(world.admin)
    url = f"{URL}bulk/"
    body = [{"external_id": "AT1", "name": "Attr Co", "attributes": {"segment": "smb", "funding_stage": "seed"}}]
    assert api.post(url, body, format="json").status_code == 201
    assert Account.objects.get(external_id="AT1").attributes == {"segment": "smb", "funding_stage": "seed"}
    again = [{"external_id": "AT1", "name": "Attr Co", "attributes": {"segment": "mid-market"}}]
    assert api.post(url, again, format="json").status_code == 200
    assert Account.objects.get(external_id="AT1").attributes == {"segment": "mid-market", "funding_stage": "seed"}
    refused = api.post(url, [{"external_id": "AT2", "name": "Typo Co", "industy": "retail"}], format="json")
    assert refused.status_code == 400
    [error] = refused.json()["errors"]
    assert (error["index"], error["field"]) == (0, "industy") and "Unknown field 'industy'" in error["detail"]
    assert not Account.objects.filter(external_id="AT2").exists()


def test_contacts_arrive_in_bulk_upserted_by_external_id_or_email(api, world):
    from accounts.models import Contact

    api.force_authenticate(world.admin)
    url = "/api/v1/contacts/bulk/"
    account = world.north_account.pk
    body = [
        {"account": account, "external_id": "C1", "name": "Ada", "persona": "champion"},
        {"account": account, "email": " Bo@Example.com ", "name": "Bo", "persona": "economic_buyer"},
    ]
    first = api.post(url, body, format="json")
    assert first.status_code == 201 and first.json() == {"created": 2, "updated": 0, "unchanged": 0}
    changed = [{"account": account, "email": "bo@example.com", "name": "Bo Li", "persona": "economic_buyer"}]
    assert api.post(url, changed, format="json").json() == {"created": 0, "updated": 1, "unchanged": 0}
    assert sorted(Contact.objects.filter(account_id=account).values_list("name", flat=True)) == ["Ada", "Bo Li"]
    refused = api.post(url, [{"account": account, "name": "Nobody"}], format="json")
    assert refused.status_code == 400 and refused.json()["errors"] == [
        {"index": 0, "field": None, "detail": "Each contact needs an external_id or an email to be upserted."}
    ]
    unknown = api.post(url, [body[0], {"account": 999999, "external_id": "C9", "name": "Cy"}], format="json")
    assert unknown.status_code == 400
    assert unknown.json()["errors"] == [{"index": 1, "field": "account", "detail": "account 999999 does not exist"}]
    assert Contact.objects.filter(account_id=account).count() == 2


@pytest.mark.parametrize("name", ROLE_USERS)
def test_a_list_by_tier_is_counted_from_the_scores_alone_and_counts_what_it_lists(api, world, scored, name):
    """A million accounts: the list's own count joins every account of the tier; counted from the scores' copy of
    territory and owner, no account is read. The number must be the list's, for every scope."""
    api.force_authenticate(getattr(world, name))
    expected = {world.north_account.pk, world.south_account.pk} & world.accounts_visible_to(name)
    with CaptureQueriesContext(connection) as queries:
        response = api.get(URL, {"tier": "tier_2", "ordering": "-score__unified", "page_size": 1})
    counts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT COUNT(*)")]
    assert len(counts) == 1 and "segmentation_accountscore" in counts[0] and "accounts_account" not in counts[0]
    assert response.status_code == 200
    assert response.json()["count"] == len(expected)
    assert ids(api, URL, tier="tier_2", ordering="-score__unified", page_size=1) == expected  # pages follow the count


def test_a_list_by_tier_shares_its_count_for_a_minute_per_scope_like_the_tier_tiles(api, world, scored):
    """An admin's tier is a pass over a hundred thousand index entries at a million accounts: the count is shared for
    COUNTS_CACHE_SECONDS by the readers of the same scope, while the rows stay live."""
    from django.test.utils import override_settings

    from segmentation.models import AccountScore

    forget_shared_counts()
    with override_settings(COUNTS_CACHE_SECONDS=60):
        api.force_authenticate(world.admin)
        before = api.get(URL, {"tier": "tier_2"}).json()["count"]
        api.force_authenticate(world.other_manager)
        south = api.get(URL, {"tier": "tier_2"}).json()["count"]
        AccountScore.objects.filter(account=world.north_account).update(tier="tier_3")
        api.force_authenticate(world.admin)
        shared = api.get(URL, {"tier": "tier_2"}).json()
        assert shared["count"] == before
        assert world.north_account.pk not in {row["id"] for row in shared["results"]}  # the rows are read live
        api.force_authenticate(world.manager)  # another scope: counted for it, now
        assert api.get(URL, {"tier": "tier_2"}).json()["count"] == 0
        forget_shared_counts()
        api.force_authenticate(world.admin)
        assert api.get(URL, {"tier": "tier_2"}).json()["count"] == before - 1
        api.force_authenticate(world.other_manager)
        assert api.get(URL, {"tier": "tier_2"}).json()["count"] == south


def test_an_account_is_written_as_the_generic_serializer_writes_it(api, world):
    """AccountSerializer writes its fields itself, not through DRF's generic loop (bench/pages.py times both): what it
    writes must be what the generic loop writes, for accounts with and without each part."""
    from decimal import Decimal

    from rest_framework import serializers

    from accounts.apis.accounts import AccountSerializer
    from insights.models import AccountPotential

    full = AccountFactory(
        name="Ünïcode & <Co>", domain=None, external_id=None, industry="", employee_count=None,
        annual_revenue=Decimal("1234567.5"), region="Île-de-France", city="Paris", year_founded=1999,
        technologies=["Salesforce", "Snowflake"], attributes={"segment": "Enterprise", "seats": 12, "none": None},
        is_customer=True, lookalike=73.25, surging_topics=["pricing", "security"], parent=world.south_account,
        territory=world.north, owner=world.north_rep,
    )  # fmt: skip
    AccountScoreFactory(account=full, tier="tier_1", unified=81.5, flags=["surge", "hysteresis"],
                        surge_until=timezone.now() + dt.timedelta(days=3))  # fmt: skip
    AccountPotential.objects.create(
        account=full,
        win_probability=0.4,
        deal_size=50000.0,
        expected_value=20000.5,
        band="high",
        computed_at=timezone.now(),
    )
    bare = AccountFactory(name="Bare", technologies=[], attributes={}, territory=None, owner=None)
    scored_without_surge = AccountFactory(name="Scored")
    AccountScoreFactory(account=scored_without_surge, tier="recycle", unified=0.0, flags=[], surge_until=None)
    accounts = Account.objects.select_related("owner", "territory", "score", "potential").filter(
        pk__in=[full.pk, bare.pk, scored_without_surge.pk, world.north_account.pk]
    )
    for account in accounts:
        serializer = AccountSerializer(context={})
        written = serializer.to_representation(account)
        generic = serializers.ModelSerializer.to_representation(serializer, account)
        assert written == generic, account.name
        assert list(written) == list(generic)  # the same fields in the same order
    assert written["owner_detail"] is None or "username" in written["owner_detail"]


@pytest.mark.parametrize("name", ["admin", "manager", "north_rep", "rep", "other_manager"])
def test_one_tier_in_a_score_order_is_paged_from_the_scores_as_the_whole_list_would_be(api, world, name):
    from accounts.apis.accounts import OneTierPaginator

    ranked_accounts(world)  # ties on the score every few accounts: the account id breaks them
    user = getattr(world, name)
    api.force_authenticate(user)
    visible = Account.objects.filter(pk__in=account_list(user=user).values("pk"), score__tier="tier_2")
    rows = list(visible.values_list("score__unified", "pk"))
    expected = {
        "-score__unified": [pk for _, pk in sorted(rows, key=lambda r: (-r[0], r[1]))],
        "score__unified": [pk for _, pk in sorted(rows, key=lambda r: (r[0], r[1]))],
    }
    assert len(rows) > 50 or name in {"rep", "other_manager"}
    for ordering, order in expected.items():
        shown, number = [], 1
        while True:
            response = api.get(URL, {"tier": "tier_2", "ordering": ordering, "page": number})
            assert response.status_code == 200, response.content
            paginator = response.renderer_context["view"].paginator.page.paginator
            assert isinstance(paginator, OneTierPaginator)
            # A rep's territory and own accounts are two ranges of two indexes, merged, as are the two territories of
            # a manager of North (and North-East below it); one territory is one range.
            assert (paginator.ranges is not None) == (name in {"manager", "north_rep"}), name
            assert response.json()["count"] == len(order)
            shown += [account["id"] for account in response.json()["results"]]
            if not response.json()["next"]:
                break
            assert len(response.json()["results"]) == 50  # a full page (an account in two ranges is one row)
            number += 1
        assert shown == order, ordering
        # The same rows as the list narrowed by anything else that keeps them all, read the general way.
        response = api.get(URL, {"tier": "tier_2", "ordering": ordering, "search": "Ranked"})
        assert not isinstance(response.renderer_context["view"].paginator.page.paginator, OneTierPaginator)
        assert [account["id"] for account in response.json()["results"]] == order[:50]
