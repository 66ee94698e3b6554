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


def test_the_list_says_each_territorys_members_in_a_line_per_role(client, world):
    import datetime as dt

    from django.utils import timezone

    from territories.models import Membership

    from ..factories import MembershipFactory, UserFactory

    today = timezone.localdate()
    away = UserFactory(username="away_rep", role="rep", first_name="Avery", last_name="Away")
    MembershipFactory(user=away, territory=world.north, away_from=today - dt.timedelta(days=1),
                      away_until=today + dt.timedelta(days=3))  # fmt: skip
    back = UserFactory(username="back_rep", role="rep", first_name="Blake", last_name="Back")
    MembershipFactory(user=back, territory=world.north, away_until=today - dt.timedelta(days=1))
    gone = UserFactory(username="gone_rep", role="rep", first_name="Gale", last_name="Gone")
    MembershipFactory(user=gone, territory=world.north, is_active=False)
    client.force_login(world.manager)
    response = client.get(reverse("territory-list"))
    north = next(t for t in response.context["territories"] if t.pk == world.north.pk)
    names = {line["role"]: line["names"] for line in north.member_lines}
    reps = sorted([world.north_rep.get_full_name(), "Avery Away (away)", "Blake Back", "Gale Gone (inactive)"],
                  key=str.casefold)  # fmt: skip
    assert names == {"Manager": [world.manager.get_full_name()], "Rep": reps}
    html = response.content.decode()
    assert f"<strong>Reps (4):</strong> {', '.join(reps)}" in html
    assert reverse("territory-detail", args=[world.north.pk]) in html
    assert Membership.objects.filter(territory=world.north).count() == 5


def test_the_list_pages_its_territories_and_names_a_parent_on_another_page(client, world):
    from territories.views import TERRITORIES_PER_PAGE

    from ..factories import TerritoryFactory

    for i in range(TERRITORIES_PER_PAGE + 2):
        TerritoryFactory(name=f"Zone {i:02d}", parent=world.north, priority=100 + i)
    client.force_login(world.admin)
    first = client.get(reverse("territory-list"))
    second = client.get(reverse("territory-list"), {"page": 2})
    shown = [t.name for t in first.context["territories"]] + [t.name for t in second.context["territories"]]
    assert len(first.context["territories"]) == TERRITORIES_PER_PAGE
    assert sorted(shown) == sorted(["North", "North-East", "South", *(f"Zone {i:02d}" for i in range(27))])
    zone = next(t for t in second.context["territories"] if t.name.startswith("Zone"))
    assert zone.visible_parent == world.north  # North is on the first page
    assert f"Page 2 of 2 ({TERRITORIES_PER_PAGE + 5} territories)" in second.content.decode()
    assert client.get(reverse("territory-list"), {"page": "nonsense"}).context["page"].number == 1
    assert client.get(reverse("territory-list"), {"page": 99}).context["page"].number == 2
