"""Accounts, contacts and opportunities through the API: scoped like the pages, admins write, bad input is 400."""

import pytest
from rest_framework.test import APIClient

from accounts.models import Account

from ..factories import ContactFactory, OpportunityFactory

USERS = ["admin", "manager", "other_manager", "rep", "north_rep", "sub_rep", "other_rep"]
ALL = ["owned_by_rep", "north_account", "north_east_account", "south_account", "unrouted_account"]


@pytest.fixture
def api():
    return APIClient()


def ids(api, url, **params) -> set[int]:
    response = api.get(url, params)
    assert response.status_code == 200, response.content
    found = set()
    while True:
        found |= {row["id"] for row in response.json()["results"]}
        if not response.json()["next"]:
            return found
        response = api.get(response.json()["next"])


@pytest.fixture
def children(world):
    made = {}
    for attr in ALL:
        account = getattr(world, attr)
        made[account.pk] = (ContactFactory(account=account).pk, OpportunityFactory(account=account).pk)
    return made


@pytest.mark.parametrize("name", USERS)
def test_lists_and_details_are_scoped(api, world, children, name):
    api.force_authenticate(getattr(world, name))
    visible = world.accounts_visible_to(name)
    assert ids(api, "/api/v1/accounts/") == visible
    assert ids(api, "/api/v1/contacts/") == {children[a][0] for a in visible}
    assert ids(api, "/api/v1/opportunities/") == {children[a][1] for a in visible}
    for account_id, (contact_id, opportunity_id) in children.items():
        expected = 200 if account_id in visible else 404
        assert api.get(f"/api/v1/accounts/{account_id}/").status_code == expected
        assert api.get(f"/api/v1/contacts/{contact_id}/").status_code == expected
        assert api.get(f"/api/v1/opportunities/{opportunity_id}/").status_code == expected


@pytest.mark.parametrize("name", USERS)
def test_filters_and_search_do_not_leak(api, world, children, name):
    api.force_authenticate(getattr(world, name))
    visible = world.accounts_visible_to(name)
    for params in (
        {"territory": world.south.pk},
        {"territory": world.north.pk},
        {"owner": world.other_rep.pk},
        {"search": "South"},
        {"search": world.south_account.external_id},
        {"industry": "software"},
        {"ordering": "-employee_count"},
    ):
        assert ids(api, "/api/v1/accounts/", **params) <= visible
    for account_id in children:
        assert ids(api, "/api/v1/contacts/", account=account_id) <= {children[a][0] for a in visible}


def test_account_detail_has_owner_and_territory(api, world):
    api.force_authenticate(world.north_rep)
    body = api.get(f"/api/v1/accounts/{world.north_account.pk}/").json()
    assert body["owner_detail"] == {"id": world.north_rep.pk, "username": "north_rep"}
    assert body["territory_detail"] == {"id": world.north.pk, "name": "North"}


def test_anonymous_gets_401_and_outsider_403_without_data(api, world):
    for url in (
        "/api/v1/accounts/",
        f"/api/v1/accounts/{world.north_account.pk}/",
        "/api/v1/contacts/",
        "/api/v1/signals/",
    ):
        response = api.get(url)
        assert response.status_code == 401 and response.json()["detail"]
    api.force_authenticate(world.outsider)
    for url in ("/api/v1/accounts/", f"/api/v1/accounts/{world.north_account.pk}/"):
        response = api.get(url)
        assert response.status_code == 403
        assert "North account" not in response.content.decode()


@pytest.mark.parametrize("name", ["manager", "rep", "north_rep"])
def test_only_admins_write(api, world, name):
    api.force_authenticate(getattr(world, name))
    assert api.post("/api/v1/accounts/", {"name": "New", "external_id": "N1"}, format="json").status_code == 403
    assert (
        api.patch(f"/api/v1/accounts/{world.north_account.pk}/", {"name": "Renamed"}, format="json").status_code == 403
    )
    assert api.delete(f"/api/v1/accounts/{world.north_account.pk}/").status_code == 403
    assert api.post("/api/v1/accounts/bulk/", [{"name": "X", "external_id": "X"}], format="json").status_code == 403
    world.north_account.refresh_from_db()
    assert (
        world.north_account.name == "North account" and not Account.objects.filter(external_id__in=["N1", "X"]).exists()
    )


def test_admin_creates_and_bad_input_gets_field_messages(api, world):
    api.force_authenticate(world.admin)
    created = api.post(
        "/api/v1/accounts/",
        {"name": "New Co", "external_id": "N1", "domain": "https://www.NewCo.example/", "technologies": ["Snowflake"]},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["domain"] == "newco.example"
    bad = api.post(
        "/api/v1/accounts/",
        {"name": "", "external_id": "N1", "domain": "not a domain", "employee_count": "many", "annual_revenue": "x"},
        format="json",
    )
    assert bad.status_code == 400
    assert set(bad.json()) == {"name", "external_id", "domain", "employee_count", "annual_revenue"}
    assert bad.json()["external_id"] == ["Another account has this external_id."]
    assert api.post("/api/v1/accounts/", "not json", content_type="application/json").status_code == 400


def test_bulk_upserts_all_or_nothing(api, world):
    api.force_authenticate(world.admin)
    batch = [
        {"name": "Alpha", "external_id": "A1"},
        {"name": "Beta", "domain": "beta.example", "owner": world.north_rep.pk},
    ]
    first = api.post("/api/v1/accounts/bulk/", batch, format="json")
    assert first.status_code == 201 and first.json() == {"created": 2, "updated": 0, "unchanged": 0}
    assert Account.objects.get(domain="beta.example").owner == world.north_rep
    again = api.post("/api/v1/accounts/bulk/", batch, format="json")
    assert again.status_code == 200 and again.json() == {"created": 0, "updated": 0, "unchanged": 2}
    bad = api.post(
        "/api/v1/accounts/bulk/", [{"name": "Gamma", "external_id": "G1"}, {"name": "No key"}], format="json"
    )
    assert bad.status_code == 400
    assert bad.json()["1"]["non_field_errors"] == ["Each account needs an external_id or a domain to be upserted."]
    dup = api.post(
        "/api/v1/accounts/bulk/",
        [{"name": "G", "external_id": "G1"}, {"name": "G2", "external_id": "G1"}],
        format="json",
    )
    assert dup.status_code == 400 and dup.json()["errors"][0]["index"] == 1
    assert not Account.objects.filter(external_id="G1").exists()
    too_many = api.post(
        "/api/v1/accounts/bulk/", [{"name": "x", "external_id": str(i)} for i in range(1001)], format="json"
    )
    assert too_many.status_code == 400 and "at most 1000" in too_many.json()["detail"]


def test_contact_and_opportunity_creation_checks_the_account(api, world):
    api.force_authenticate(world.admin)
    ok = api.post(
        "/api/v1/contacts/", {"account": world.north_account.pk, "name": "Ann", "persona": "champion"}, format="json"
    )
    assert ok.status_code == 201
    bad = api.post("/api/v1/contacts/", {"account": 99999, "name": "Ann", "persona": "wizard"}, format="json")
    assert bad.status_code == 400 and set(bad.json()) == {"account", "persona"}
    opp = api.post(
        "/api/v1/opportunities/",
        {"account": world.north_account.pk, "stage": "Won", "is_won": True, "is_closed": False},
        format="json",
    )
    assert opp.status_code == 400 and opp.json() == {"is_won": ["A won opportunity must be closed."]}
