import pytest
from rest_framework.test import APIClient


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("admin", {"North", "North-East", "South"}),
        ("manager", {"North", "North-East"}),
        ("other_manager", {"South"}),
        ("north_rep", {"North"}),
        ("sub_rep", {"North-East"}),
        ("rep", set()),
    ],
)
def test_territories_and_memberships_are_scoped(world, name, expected):
    api = APIClient()
    api.force_authenticate(getattr(world, name))
    names = {t["name"] for t in api.get("/api/v1/territories/").json()["results"]}
    assert names == expected
    memberships = api.get("/api/v1/memberships/").json()["results"]
    ids = {t.pk for t in (world.north, world.north_east, world.south) if t.name in expected}
    assert {m["territory"] for m in memberships} <= ids
    for territory in (world.north, world.north_east, world.south):
        assert api.get(f"/api/v1/territories/{territory.pk}/").status_code == (
            200 if territory.name in expected else 404
        )


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
    preview = api.post("/api/v1/assignments/preview/", {}, format="json").json()
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
