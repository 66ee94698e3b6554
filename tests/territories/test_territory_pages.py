import pytest
from django.urls import reverse


def test_reps_and_outsiders_are_refused(client, world):
    for name in ("rep", "north_rep", "outsider"):
        client.force_login(getattr(world, name))
        assert client.get(reverse("territory-list")).status_code == 403
        assert client.get(reverse("territory-detail", args=[world.north.pk])).status_code == 403
    client.logout()
    assert client.get(reverse("territory-list")).status_code == 302


@pytest.mark.parametrize(
    ("name", "expected"),
    [("manager", {"North", "North-East"}), ("other_manager", {"South"}), ("admin", {"North", "North-East", "South"})],
)
def test_managers_see_their_territories_and_below(client, world, name, expected):
    client.force_login(getattr(world, name))
    response = client.get(reverse("territory-list"))
    assert {t.name for t in response.context["territories"]} == expected
    for territory in (world.north, world.north_east, world.south):
        detail = client.get(reverse("territory-detail", args=[territory.pk]))
        assert detail.status_code == (200 if territory.name in expected else 404)


def test_detail_lists_members_with_load(client, world):
    client.force_login(world.manager)
    page = client.get(reverse("territory-detail", args=[world.north.pk])).content.decode()
    assert world.north_rep.get_full_name() in page and world.manager.get_full_name() in page
    assert world.other_rep.get_full_name() not in page
    response = client.get(reverse("territory-detail", args=[world.north.pk]))
    owned = {m.user.username: m.owned for m in response.context["members"]}
    assert owned == {"manager": 0, "north_rep": 1}
