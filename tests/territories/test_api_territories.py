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


def test_territories_are_read_only_here_and_outsiders_refused(world):
    api = APIClient()
    api.force_authenticate(world.admin)
    assert api.post("/api/v1/territories/", {"name": "New"}, format="json").status_code == 405
    api.force_authenticate(world.outsider)
    assert api.get("/api/v1/territories/").status_code == 403
