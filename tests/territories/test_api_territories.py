"""/api/v1/territories/ and /api/v1/memberships/: scoped by the territory selectors; admins and managers edit."""

import pytest
from rest_framework.test import APIClient

from territories.models import Membership, Territory

VISIBLE_TERRITORIES = {
    "admin": {"North", "North-East", "South"},
    "manager": {"North", "North-East"},
    "other_manager": {"South"},
    "north_rep": {"North"},
    "sub_rep": {"North-East"},
    "other_rep": {"South"},
    "rep": set(),  # owns an account in North but is a member of no territory
}


def ids(api, url, **params) -> set[int]:
    response = api.get(url, params)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == len(body["results"]) and body["next"] is None
    return {row["id"] for row in body["results"]}


@pytest.mark.parametrize("name", [*VISIBLE_TERRITORIES, "outsider"])
def test_territories_and_memberships_are_scoped(world, name):
    api = APIClient()
    api.force_authenticate(getattr(world, name))
    territories = (world.north, world.north_east, world.south)
    if name == "outsider":
        assert api.get("/api/v1/territories/").status_code == 403
        assert api.get("/api/v1/memberships/").status_code == 403
        for territory in territories:
            response = api.get(f"/api/v1/territories/{territory.pk}/")
            assert response.status_code == 403 and territory.name not in response.content.decode()
        for membership in Membership.objects.all():
            assert api.get(f"/api/v1/memberships/{membership.pk}/").status_code == 403
        return
    expected = VISIBLE_TERRITORIES[name]
    assert {t["name"] for t in api.get("/api/v1/territories/").json()["results"]} == expected
    for territory in territories:
        response = api.get(f"/api/v1/territories/{territory.pk}/")
        assert response.status_code == (200 if territory.name in expected else 404)
    memberships = Membership.objects.filter(territory__name__in=expected)
    assert ids(api, "/api/v1/memberships/") == set(memberships.values_list("pk", flat=True))
    for membership in Membership.objects.all():
        response = api.get(f"/api/v1/memberships/{membership.pk}/")
        assert response.status_code == (200 if membership.territory.name in expected else 404)


@pytest.mark.parametrize("name", list(VISIBLE_TERRITORIES))
def test_filters_and_search_never_reveal_other_territories(world, name):
    api = APIClient()
    api.force_authenticate(getattr(world, name))
    expected = VISIBLE_TERRITORIES[name]
    for territory in (world.north, world.north_east, world.south):
        seen = territory.name in expected
        assert ids(api, "/api/v1/territories/", search=territory.name) == (
            {t.pk for t in Territory.objects.filter(name__icontains=territory.name) if t.name in expected}
        )
        children = {t.pk for t in territory.children.all() if t.name in expected}
        assert ids(api, "/api/v1/territories/", parent=territory.pk) == children
        members = set(territory.memberships.values_list("pk", flat=True)) if seen else set()
        assert ids(api, "/api/v1/memberships/", territory=territory.pk) == members
    for user in (world.manager, world.north_rep, world.sub_rep, world.other_rep, world.other_manager):
        mine = Membership.objects.filter(user=user, territory__name__in=expected)
        assert ids(api, "/api/v1/memberships/", user=user.pk) == set(mine.values_list("pk", flat=True))
    # A missing id filters like an invisible one: an empty page.
    assert ids(api, "/api/v1/memberships/", territory=987654) == set()
    assert ids(api, "/api/v1/territories/", parent=987654) == set()


@pytest.mark.parametrize(
    ("url", "params", "field"),
    [
        ("/api/v1/territories/", {"parent": "north"}, "parent"),
        ("/api/v1/territories/", {"strategy": "random"}, "strategy"),
        ("/api/v1/memberships/", {"territory": str(10**30)}, "territory"),
        ("/api/v1/memberships/", {"user": "x"}, "user"),
        ("/api/v1/memberships/", {"role": "boss"}, "role"),
    ],
)
def test_bad_filters_are_400(world, url, params, field):
    api = APIClient()
    api.force_authenticate(world.manager)
    response = api.get(url, params)
    assert response.status_code == 400 and list(response.json()) == [field]


def test_anonymous_gets_401(world):
    api = APIClient()
    membership = Membership.objects.first()
    for url in (
        "/api/v1/territories/",
        f"/api/v1/territories/{world.north.pk}/",
        "/api/v1/memberships/",
        f"/api/v1/memberships/{membership.pk}/",
    ):
        response = api.get(url)
        assert response.status_code == 401 and response.json()["detail"]


def test_only_admins_edit_territories_and_outsiders_are_refused(world):
    api = APIClient()
    for name in ("manager", "north_rep"):
        api.force_authenticate(getattr(world, name))
        assert api.post("/api/v1/territories/", {"name": "New"}, format="json").status_code == 403
        assert api.patch(f"/api/v1/territories/{world.north.pk}/", {"priority": 1}, format="json").status_code == 403
    api.force_authenticate(world.admin)
    created = api.post(
        "/api/v1/territories/",
        {
            "name": "New",
            "parent": world.north.pk,
            "criteria": [{"attribute": "country", "operator": "in", "value": ["France"]}],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    bad = api.post(
        "/api/v1/territories/",
        {
            "name": "New",
            "criteria": [
                {"attribute": "country", "operator": "like", "value": "x"},
                {"attribute": "size", "operator": "between", "value": 5},
            ],
        },
        format="json",
    )
    assert bad.status_code == 400 and set(bad.json()) == {"name", "criteria"}
    cycle = api.patch(f"/api/v1/territories/{world.north.pk}/", {"parent": world.north_east.pk}, format="json")
    assert cycle.status_code == 400 and cycle.json() == {"parent": ["A territory cannot sit below itself."]}
    api.force_authenticate(world.outsider)
    assert api.get("/api/v1/territories/").status_code == 403


def test_managers_edit_members_of_their_territories_only(world):
    api = APIClient()
    membership = world.north_rep.memberships.get()
    api.force_authenticate(world.manager)
    ok = api.patch(
        f"/api/v1/memberships/{membership.pk}/",
        {"max_accounts": 40, "away_from": "2026-07-01", "away_until": "2026-07-14"},
        format="json",
    )
    assert ok.status_code == 200, ok.content
    bad = api.patch(
        f"/api/v1/memberships/{membership.pk}/", {"away_from": "2026-08-10", "away_until": "2026-08-01"}, format="json"
    )
    assert bad.status_code == 400 and "away_until" in bad.json()
    south = world.other_rep.memberships.get()
    assert api.patch(f"/api/v1/memberships/{south.pk}/", {"max_accounts": 1}, format="json").status_code == 404
    added = api.post("/api/v1/memberships/", {"user": world.rep.pk, "territory": world.north_east.pk}, format="json")
    assert added.status_code == 201
    into_south = api.post("/api/v1/memberships/", {"user": world.rep.pk, "territory": world.south.pk}, format="json")
    assert into_south.status_code == 403
    appoint = api.post(
        "/api/v1/memberships/",
        {"user": world.other_manager.pk, "territory": world.north.pk, "role": "manager"},
        format="json",
    )
    assert appoint.status_code == 403
    again = api.post("/api/v1/memberships/", {"user": world.rep.pk, "territory": world.north_east.pk}, format="json")
    assert again.status_code == 400 and "already a member" in again.json()["user"][0]
    api.force_authenticate(world.north_rep)
    assert api.patch(f"/api/v1/memberships/{membership.pk}/", {"max_accounts": 1}, format="json").status_code == 403
    membership.refresh_from_db()
    assert membership.max_accounts == 40


def test_assignment_preview_apply_and_reassign_through_the_api(world, django_capture_on_commit_callbacks):
    from accounts.models import Account
    from territories.models import OwnershipChange

    world.north.criteria = [{"attribute": "country", "operator": "eq", "value": "United States"}]
    world.north.save()
    world.north_account.owner = None
    world.north_account.save()
    api = APIClient()
    api.force_authenticate(world.manager)
    assert api.get("/api/v1/assignments/preview/").status_code == 404  # none prepared yet
    with django_capture_on_commit_callbacks(execute=True):
        started = api.post("/api/v1/assignments/preview/", {}, format="json")
    assert started.status_code == 202
    assert api.get(started.json()["status_url"]).json()["status"] == "succeeded"
    preview = api.get(started.json()["preview_url"]).json()
    assert preview["status"] == "ready" and preview["move_count"] == len(preview["moves"]) > 0
    assert preview["id"] == started.json()["preview"]
    applied_before = Account.objects.get(pk=world.north_account.pk).owner
    assert applied_before is None
    with django_capture_on_commit_callbacks(execute=True):
        started = api.post("/api/v1/assignments/apply/", {}, format="json")
    assert started.status_code == 202
    job = api.get(started.json()["status_url"]).json()
    assert job["status"] == "succeeded", job
    moved = {m["account_id"]: m["to_owner_id"] for m in preview["moves"]}
    for account_id, owner_id in moved.items():
        assert Account.objects.get(pk=account_id).owner_id == owner_id
    assert world.north_account.pk in moved
    # Reassign by hand within the territory; not into another manager's, and reps may not.
    reassign = api.post(
        "/api/v1/assignments/reassign/",
        {"account_ids": [world.north_account.pk], "owner": world.north_rep.pk},
        format="json",
    )
    assert reassign.status_code == 200
    assert OwnershipChange.objects.filter(account=world.north_account, changed_by=world.manager).exists()
    assert (
        api.post(
            "/api/v1/assignments/reassign/",
            {"account_ids": [world.south_account.pk], "owner": world.north_rep.pk},
            format="json",
        ).status_code
        == 400
    )
    assert (
        api.post(
            "/api/v1/assignments/reassign/",
            {"account_ids": [world.north_account.pk], "owner": world.other_rep.pk},
            format="json",
        ).status_code
        == 400
    )
    for name in ("north_rep", "rep", "outsider"):
        api.force_authenticate(getattr(world, name))
        assert api.post("/api/v1/assignments/preview/", {}, format="json").status_code == 403
        assert api.post("/api/v1/assignments/apply/", {}, format="json").status_code == 403
        assert (
            api.post(
                "/api/v1/assignments/reassign/", {"account_ids": [world.north_account.pk], "owner": None}, format="json"
            ).status_code
            == 403
        )
    assert Account.objects.get(pk=world.north_account.pk).owner == world.north_rep
