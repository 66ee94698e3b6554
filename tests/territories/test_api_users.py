"""/api/v1/users/: RevOps admins list, read and create users with a role and territories; nobody else may."""

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from territories.models import Membership

URL = "/api/v1/users/"
NOT_ADMINS = ["manager", "other_manager", "rep", "north_rep", "sub_rep", "other_rep", "outsider"]
STRONG = "a-Strong-passphrase-42"


@pytest.fixture
def api():
    return APIClient()


@pytest.mark.parametrize("name", NOT_ADMINS)
def test_only_admins_may_use_it(api, world, name):
    api.force_authenticate(getattr(world, name))
    listed = api.get(URL)
    assert listed.status_code == 403 and listed.json() == {"detail": "Only RevOps admins may do this."}
    for pk in (world.admin.pk, world.north_rep.pk, getattr(world, name).pk):
        assert api.get(f"{URL}{pk}/").status_code == 403
    created = api.post(URL, {"username": "sneaky", "role": "admin", "password": STRONG}, format="json")
    assert created.status_code == 403
    assert not User.objects.filter(username="sneaky").exists()


def test_anonymous_gets_401(api, world):
    for response in (
        api.get(URL),
        api.get(f"{URL}{world.admin.pk}/"),
        api.post(URL, {"username": "x", "role": "rep"}, format="json"),
    ):
        assert response.status_code == 401 and response.json()["detail"]
    assert not User.objects.filter(username="x").exists()


def test_admin_lists_and_reads_users_with_roles_and_memberships(api, world):
    api.force_authenticate(world.admin)
    body = api.get(URL).json()
    rows = {row["username"]: row for row in body["results"]}
    assert body["count"] == User.objects.count() == 8
    assert rows["manager"]["roles"] == ["manager"]
    assert rows["outsider"]["roles"] == [] and rows["outsider"]["memberships"] == []
    assert rows["north_rep"]["memberships"] == [{"territory": world.north.pk, "role": "rep", "is_active": True}]
    assert all("password" not in row for row in body["results"])
    detail = api.get(f"{URL}{world.manager.pk}/").json()
    assert detail["memberships"] == [{"territory": world.north.pk, "role": "manager", "is_active": True}]
    assert api.get(URL, {"search": "north_"}).json()["count"] == 1
    assert api.get(f"{URL}999999/").status_code == 404


def test_users_are_listed_in_a_fixed_number_of_queries(api, world, django_assert_max_num_queries):
    api.force_authenticate(world.admin)
    with django_assert_max_num_queries(6):
        assert api.get(URL).status_code == 200


def test_admin_creates_a_rep_in_territories(api, world):
    api.force_authenticate(world.admin)
    response = api.post(
        URL,
        {
            "username": "newrep",
            "password": STRONG,
            "email": "newrep@example.com",
            "first_name": "New",
            "last_name": "Rep",
            "role": "rep",
            "territories": [world.north.pk, world.south.pk],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["roles"] == ["rep"] and "password" not in body
    user = User.objects.get(username="newrep")
    assert user.check_password(STRONG) and user.email == "newrep@example.com"
    assert set(Membership.objects.filter(user=user).values_list("territory__name", "role")) == {
        ("North", "rep"),
        ("South", "rep"),
    }
    # The new rep sees exactly the two territories' accounts.
    api.force_authenticate(user)
    visible = {a["id"] for a in api.get("/api/v1/accounts/").json()["results"]}
    assert visible == {world.owned_by_rep.pk, world.north_account.pk, world.south_account.pk}


def test_admin_creates_a_manager_and_an_admin(api, world):
    api.force_authenticate(world.admin)
    manager = api.post(URL, {"username": "boss", "role": "manager", "territories": [world.south.pk]}, format="json")
    assert manager.status_code == 201, manager.content
    boss = User.objects.get(username="boss")
    assert Membership.objects.get(user=boss).role == "manager"
    assert not boss.has_usable_password()  # no password given: they cannot sign in until one is set
    api.force_authenticate(boss)
    assert {a["id"] for a in api.get("/api/v1/accounts/").json()["results"]} == {world.south_account.pk}
    assert api.get(URL).status_code == 403
    api.force_authenticate(world.admin)
    admin = api.post(URL, {"username": "ops", "role": "admin", "password": STRONG}, format="json")
    assert admin.status_code == 201 and admin.json()["roles"] == ["admin"]
    api.force_authenticate(User.objects.get(username="ops"))
    assert api.get(URL).status_code == 200


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"username": "n1", "role": "wizard"}, "role", '"wizard" is not a valid choice.'),
        ({"username": "n1", "role": "rep", "territories": [99999]}, "territories", 'Invalid pk "99999"'),
        ({"username": "n1", "role": "rep", "territories": "North"}, "territories", "Expected a list"),
        ({"username": "rep", "role": "rep"}, "username", "A user with that username already exists."),
        ({"username": "bad name!", "role": "rep"}, "username", "Enter a valid username."),
        ({"role": "rep"}, "username", "This field is required."),
        ({"username": "n1"}, "role", "This field is required."),
        ({"username": "n1", "role": "rep", "password": "123"}, "password", "too short"),
        ({"username": "n1", "role": "rep", "password": "password123"}, "password", "too common"),
        ({"username": "n1", "role": "rep", "password": "84736251940"}, "password", "entirely numeric"),
        ({"username": "jonathan.smithers", "role": "rep", "password": "jonathan.smithers1"}, "password", "similar"),
        ({"username": "n1", "role": "rep", "email": "not-an-email"}, "email", "valid email"),
        ({"username": "n1", "role": "admin", "territories": [1]}, "territories", "not members of one"),
    ],
)
def test_bad_input_gets_a_field_message_and_creates_nothing(api, world, body, field, message):
    api.force_authenticate(world.admin)
    if body.get("territories") == [1]:
        body = {**body, "territories": [world.north.pk]}
    before = User.objects.count()
    response = api.post(URL, body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert any(message in text for text in response.json()[field]), response.json()
    assert User.objects.count() == before


def test_several_problems_are_reported_together(api, world):
    api.force_authenticate(world.admin)
    response = api.post(
        URL, {"username": "rep", "password": "123", "role": "wizard", "territories": [99999]}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()) == {"username", "role", "territories"}
    assert api.post(URL, "not json", content_type="application/json").status_code == 400
    assert api.post(URL, [{"username": "a", "role": "rep"}], format="json").status_code == 400


def test_users_are_not_changed_or_deleted_through_this_endpoint(api, world):
    api.force_authenticate(world.admin)
    assert api.patch(f"{URL}{world.rep.pk}/", {"username": "renamed"}, format="json").status_code == 405
    assert api.delete(f"{URL}{world.rep.pk}/").status_code == 405
    assert User.objects.filter(username="rep").exists()
