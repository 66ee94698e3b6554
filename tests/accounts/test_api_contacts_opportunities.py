"""/api/v1/contacts/ and /api/v1/opportunities/: seen through their account's scope; admins write."""

import pytest
from rest_framework.test import APIClient

from accounts.models import Contact, Opportunity

from ..factories import ContactFactory, OpportunityFactory

ROLE_USERS = ["admin", "manager", "other_manager", "rep", "north_rep", "sub_rep", "other_rep"]
NOT_ADMINS = ["manager", "other_manager", "rep", "north_rep", "sub_rep", "other_rep", "outsider"]
ACCOUNTS = ["owned_by_rep", "north_account", "north_east_account", "south_account", "unrouted_account"]
KINDS = ["contacts", "opportunities"]


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def made(world) -> dict[str, dict[int, int]]:
    """kind -> {account id: id of the one contact / opportunity on it}."""
    out = {"contacts": {}, "opportunities": {}}
    for attr in ACCOUNTS:
        account = getattr(world, attr)
        out["contacts"][account.pk] = ContactFactory(account=account, name=f"{attr}-person").pk
        out["opportunities"][account.pk] = OpportunityFactory(account=account, name=f"{attr}-deal").pk
    return out


def ids(api, url, **params) -> set[int]:
    response = api.get(url, params)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == len(body["results"]) and body["next"] is None
    return {row["id"] for row in body["results"]}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", [*ROLE_USERS, "outsider"])
def test_list_and_detail_are_scoped_by_account(api, world, made, name, kind):
    url = f"/api/v1/{kind}/"
    api.force_authenticate(getattr(world, name))
    if name == "outsider":
        assert api.get(url).status_code == 403
        for pk in made[kind].values():
            response = api.get(f"{url}{pk}/")
            body = response.content.decode()
            assert response.status_code == 403 and "-person" not in body and "-deal" not in body
        return
    visible = world.accounts_visible_to(name)
    assert ids(api, url) == {made[kind][a] for a in visible}
    for account_id, pk in made[kind].items():
        response = api.get(f"{url}{pk}/")
        if account_id in visible:
            assert response.status_code == 200 and response.json()["account"] == account_id
        else:
            assert response.status_code == 404 and response.json() == {"detail": "Not found."}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", ROLE_USERS)
def test_filters_and_search_never_reveal_other_accounts(api, world, made, name, kind):
    url = f"/api/v1/{kind}/"
    api.force_authenticate(getattr(world, name))
    visible = world.accounts_visible_to(name)
    for attr in ACCOUNTS:
        account = getattr(world, attr)
        expected = {made[kind][account.pk]} if account.pk in visible else set()
        assert ids(api, url, account=account.pk) == expected
        assert ids(api, url, search=attr.split("_")[0]) <= {made[kind][a] for a in visible}
        word = "person" if kind == "contacts" else "deal"
        assert ids(api, url, search=f"{attr}-{word}") == expected
    # An id that does not exist answers like one outside the scope: an empty page, not an error.
    assert ids(api, url, account=987654) == set()


@pytest.mark.parametrize("kind", KINDS)
def test_bad_filters_are_400_not_500(api, world, kind):
    api.force_authenticate(world.north_rep)
    for params in ({"account": "abc"}, {"account": str(10**30)}, {"account": "0"}):
        response = api.get(f"/api/v1/{kind}/", params)
        assert response.status_code == 400 and list(response.json()) == ["account"]


def test_opportunity_filters(api, world, made):
    OpportunityFactory(account=world.north_account, stage="Engaging", is_closed=False, is_won=False)
    OpportunityFactory(account=world.south_account, stage="Engaging", is_closed=False, is_won=False)
    api.force_authenticate(world.north_rep)
    open_deals = ids(api, "/api/v1/opportunities/", is_closed="false")
    assert open_deals == set(
        Opportunity.objects.filter(account=world.north_account, is_closed=False).values_list("pk", flat=True)
    )
    assert ids(api, "/api/v1/opportunities/", stage="Engaging") == open_deals
    assert ids(api, "/api/v1/opportunities/", owner=world.other_rep.pk) == set()


@pytest.mark.parametrize("name", NOT_ADMINS)
def test_only_admins_write(api, world, made, name):
    api.force_authenticate(getattr(world, name))
    account = world.north_account.pk
    contact, opportunity = made["contacts"][account], made["opportunities"][account]
    assert api.post("/api/v1/contacts/", {"account": account, "name": "Ann"}, format="json").status_code == 403
    assert api.patch(f"/api/v1/contacts/{contact}/", {"name": "Renamed"}, format="json").status_code == 403
    assert api.delete(f"/api/v1/contacts/{contact}/").status_code == 403
    assert (
        api.post("/api/v1/opportunities/", {"account": account, "stage": "Prospecting"}, format="json").status_code
        == 403
    )
    assert api.patch(f"/api/v1/opportunities/{opportunity}/", {"stage": "Lost"}, format="json").status_code == 403
    assert api.delete(f"/api/v1/opportunities/{opportunity}/").status_code == 403
    assert Contact.objects.count() == 5 and Opportunity.objects.count() == 5
    assert Contact.objects.get(pk=contact).name == "north_account-person"
    assert Opportunity.objects.get(pk=opportunity).stage == "Won"


def test_anonymous_gets_401(api, world, made):
    for kind in KINDS:
        pk = made[kind][world.north_account.pk]
        for method, url in (
            ("get", f"/api/v1/{kind}/"),
            ("get", f"/api/v1/{kind}/{pk}/"),
            ("post", f"/api/v1/{kind}/"),
        ):
            response = getattr(api, method)(url, {}, format="json")
            assert response.status_code == 401 and response.json()["detail"]


def test_admin_creates_changes_and_deletes_contacts(api, world, made):
    api.force_authenticate(world.admin)
    created = api.post(
        "/api/v1/contacts/",
        {"account": world.south_account.pk, "name": "Ann", "email": " Ann@Example.COM ", "persona": "champion"},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["email"] == "ann@example.com"
    pk = created.json()["id"]
    # The South sees the new contact; the North does not.
    api.force_authenticate(world.other_rep)
    assert api.get(f"/api/v1/contacts/{pk}/").json()["name"] == "Ann"
    api.force_authenticate(world.north_rep)
    assert api.get(f"/api/v1/contacts/{pk}/").status_code == 404
    api.force_authenticate(world.admin)
    changed = api.patch(f"/api/v1/contacts/{pk}/", {"title": "CFO", "persona": "economic_buyer"}, format="json")
    assert changed.status_code == 200 and changed.json()["persona"] == "economic_buyer"
    assert api.delete(f"/api/v1/contacts/{pk}/").status_code == 204
    assert not Contact.objects.filter(pk=pk).exists()


def test_contact_bad_input_gets_field_messages(api, world, made):
    api.force_authenticate(world.admin)
    bad = api.post(
        "/api/v1/contacts/",
        {"account": 99999, "name": "", "persona": "wizard", "email": "not-an-email"},
        format="json",
    )
    assert bad.status_code == 400 and set(bad.json()) == {"account", "name", "persona", "email"}
    first = api.post(
        "/api/v1/contacts/", {"account": world.north_account.pk, "name": "A", "email": "a@x.example"}, format="json"
    )
    assert first.status_code == 201
    same_email = api.post(
        "/api/v1/contacts/", {"account": world.north_account.pk, "name": "B", "email": "A@X.example"}, format="json"
    )
    assert same_email.status_code == 400
    assert same_email.json() == {"email": ["This account already has a contact with this email."]}
    # The same email on another account is another person.
    elsewhere = api.post(
        "/api/v1/contacts/", {"account": world.south_account.pk, "name": "B", "email": "a@x.example"}, format="json"
    )
    assert elsewhere.status_code == 201
    # No email at all, twice on one account, is fine (no key to clash on).
    for person in ("C", "D"):
        no_email = api.post(
            "/api/v1/contacts/", {"account": world.north_account.pk, "name": person, "email": ""}, format="json"
        )
        assert no_email.status_code == 201 and no_email.json()["email"] is None
    assert api.post("/api/v1/contacts/", [{"name": "a list"}], format="json").status_code == 400
    assert api.post("/api/v1/contacts/", {"account": "x" * 10, "name": "A"}, format="json").status_code == 400


def test_admin_creates_and_validates_opportunities(api, world, made):
    api.force_authenticate(world.admin)
    created = api.post(
        "/api/v1/opportunities/",
        {
            "account": world.north_account.pk,
            "external_id": "OPP-NEW",
            "name": "Renewal",
            "stage": "Won",
            "is_closed": True,
            "is_won": True,
            "amount": "12500.50",
            "engaged_on": "2025-01-10",
            "closed_on": "2025-03-01",
            "owner": world.north_rep.pk,
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    api.force_authenticate(world.manager)
    assert api.get(f"/api/v1/opportunities/{created.json()['id']}/").json()["amount"] == "12500.50"
    api.force_authenticate(world.admin)
    won_open = api.post(
        "/api/v1/opportunities/",
        {"account": world.north_account.pk, "stage": "Won", "is_won": True, "is_closed": False},
        format="json",
    )
    assert won_open.status_code == 400 and won_open.json() == {"is_won": ["A won opportunity must be closed."]}
    backwards = api.post(
        "/api/v1/opportunities/",
        {"account": world.north_account.pk, "stage": "Lost", "engaged_on": "2025-05-01", "closed_on": "2025-04-01"},
        format="json",
    )
    assert backwards.json() == {"closed_on": ["The close date is before the engage date."]}
    bad = api.post(
        "/api/v1/opportunities/",
        {"account": 99999, "amount": "1e30", "engaged_on": "yesterday", "owner": 99999, "external_id": "OPP-NEW"},
        format="json",
    )
    assert bad.status_code == 400
    assert set(bad.json()) == {"account", "stage", "amount", "engaged_on", "owner", "external_id"}
    assert Opportunity.objects.count() == 6
