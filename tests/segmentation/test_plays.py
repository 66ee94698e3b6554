"""The plays editor: one play per tier, listed best tier first, edited by RevOps admins only."""

import pytest
from django.test import Client
from django.urls import reverse

from segmentation.models import MQA, Play, TierChange
from tests.factories import AccountFactory, MQAFactory, TierChangeFactory, UserFactory

pytestmark = pytest.mark.django_db


def play_post(play: Play, **changes) -> dict:
    data = {
        "name": play.name,
        "motion": play.motion,
        "owner_role": play.owner_role,
        "primary_kpi": play.primary_kpi,
        "description": play.description,
    }
    data.update(changes)
    return data


def test_the_plays_are_listed_best_tier_first(client, world):
    # Tier 1's play written last, so the page has to sort by tier, not by when a play was made.
    first = Play.objects.get(tier="tier_1")
    Play.objects.filter(tier="tier_1").delete()
    Play.objects.create(**{f: getattr(first, f) for f in ("tier", "name", "motion", "owner_role", "primary_kpi")})
    client.force_login(world.admin)
    response = client.get(reverse("play-list"))
    assert response.status_code == 200
    page = response.content.decode()
    names = [Play.objects.get(tier=t).name for t in ("tier_1", "tier_2", "tier_3", "recycle")]
    positions = [page.index(name) for name in names]
    assert positions == sorted(positions)
    for text in ("Tier 1", "Tier 2", "Tier 3", "Recycle", "1:1 ABM", "Sales + ABM", "Pipeline created, win rate, ACV"):
        assert text in page
    for tier in ("tier_1", "tier_2", "tier_3", "recycle"):
        assert reverse("play-edit", args=[tier]) in page
    assert reverse("play-list") in client.get(reverse("scoring-index")).content.decode()


def test_an_admin_edits_a_play_and_it_records_who(client, world):
    play = Play.objects.get(tier="tier_2")
    client.force_login(world.admin)
    form = client.get(reverse("play-edit", args=["tier_2"]))
    assert form.status_code == 200 and "Play for Tier 2" in form.content.decode()
    response = client.post(
        reverse("play-edit", args=["tier_2"]),
        play_post(play, name="Growth accounts", motion="one_to_many", owner_role="SDR team", primary_kpi="Meetings"),
    )
    assert response.status_code == 302 and response["Location"] == reverse("play-list")
    play.refresh_from_db()
    assert (play.name, play.motion, play.owner_role, play.primary_kpi) == (
        "Growth accounts",
        "one_to_many",
        "SDR team",
        "Meetings",
    )
    assert play.updated_by == world.admin
    page = client.get(response["Location"]).content.decode()
    assert "Saved the Tier 2 play (Growth accounts)" in page
    assert "1:many programmatic" in page and world.admin.get_full_name() in page
    # Other tiers' plays are untouched.
    assert Play.objects.get(tier="tier_1").updated_by is None


@pytest.mark.parametrize(
    ("field", "blank", "message"),
    [
        ("name", "", "Give the play a name."),
        ("name", "   ", "Give the play a name."),
        ("owner_role", "", "Say who runs the play, e.g. Sales + ABM."),
        ("owner_role", "  ", "Say who runs the play, e.g. Sales + ABM."),
        ("primary_kpi", "", "Name the primary KPI that tells whether the play works."),
        ("primary_kpi", "\t", "Name the primary KPI that tells whether the play works."),
        ("motion", "", "Choose the motion the play runs."),
    ],
)
def test_a_required_field_left_empty_is_refused_with_a_message(client, world, field, message, blank):
    play = Play.objects.get(tier="tier_1")
    before = play_post(play)
    client.force_login(world.admin)
    response = client.post(reverse("play-edit", args=["tier_1"]), play_post(play, **{field: blank}))
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page and "The play was not saved" in page
    play.refresh_from_db()
    assert play_post(play) == before and play.updated_by is None


def test_an_unknown_motion_is_refused(client, world):
    play = Play.objects.get(tier="tier_1")
    client.force_login(world.admin)
    response = client.post(reverse("play-edit", args=["tier_1"]), play_post(play, motion="carrier_pigeon"))
    assert response.status_code == 200 and "Choose a motion from the list." in response.content.decode()
    assert Play.objects.get(tier="tier_1").motion == play.motion


@pytest.mark.parametrize("tier", ["suppress", "tier_9"])
def test_only_the_tiers_with_a_play_have_an_editor(client, world, tier):
    client.force_login(world.admin)
    assert client.get(reverse("play-edit", args=[tier])).status_code == 404
    assert client.post(reverse("play-edit", args=[tier]), {"name": "x"}).status_code == 404
    assert not Play.objects.filter(tier=tier).exists()


def test_a_tier_without_a_play_gets_one_written(client, world):
    Play.objects.filter(tier="tier_3").delete()
    client.force_login(world.admin)
    assert "No play for this tier yet" in client.get(reverse("play-list")).content.decode()
    assert client.get(reverse("play-edit", args=["tier_3"])).status_code == 200
    assert not Play.objects.filter(tier="tier_3").exists()  # a GET changes nothing
    response = client.post(
        reverse("play-edit", args=["tier_3"]),
        {"name": "Scaled", "motion": "scaled_nurture", "owner_role": "Marketing Ops", "primary_kpi": "MQL to SAL"},
    )
    assert response.status_code == 302
    play = Play.objects.get(tier="tier_3")
    assert (play.name, play.updated_by) == ("Scaled", world.admin)


@pytest.mark.parametrize("name", ["north_rep", "manager", "outsider"])
def test_reps_managers_and_users_without_a_role_are_refused(client, world, name):
    play = Play.objects.get(tier="tier_1")
    before = play_post(play)
    client.force_login(getattr(world, name))
    assert client.get(reverse("play-list")).status_code == 403
    assert client.get(reverse("play-edit", args=["tier_1"])).status_code == 403
    response = client.post(reverse("play-edit", args=["tier_1"]), play_post(play, name="Hijacked"))
    assert response.status_code == 403
    play.refresh_from_db()
    assert play_post(play) == before


def test_anonymous_users_are_sent_to_the_login_page(client, world):
    play = Play.objects.get(tier="tier_1")
    for response in (
        client.get(reverse("play-list")),
        client.get(reverse("play-edit", args=["tier_1"])),
        client.post(reverse("play-edit", args=["tier_1"]), play_post(play, name="Hijacked")),
    ):
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert Play.objects.get(tier="tier_1").name == play.name


def test_a_superuser_may_edit_plays(client, world):
    boss = UserFactory(username="boss", is_superuser=True, is_staff=True)
    play = Play.objects.get(tier="recycle")
    client.force_login(boss)
    assert client.get(reverse("play-list")).status_code == 200
    client.post(reverse("play-edit", args=["recycle"]), play_post(play, name="Back to marketing"))
    play.refresh_from_db()
    assert (play.name, play.updated_by) == ("Back to marketing", boss)


def test_a_post_without_the_csrf_token_is_refused(world):
    play = Play.objects.get(tier="tier_1")
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.admin)
    response = client.post(reverse("play-edit", args=["tier_1"]), play_post(play, name="Forged"))
    assert response.status_code == 403
    assert Play.objects.get(tier="tier_1").name == play.name


def test_the_django_admin_lists_plays_tier_moves_and_mqas(client, world):
    account = AccountFactory(name="Globex")
    move = TierChangeFactory(account=account, from_tier="tier_3", to_tier="tier_1")
    TierChangeFactory(from_tier="tier_2", to_tier="recycle")
    MQAFactory(account=account, tier="tier_1", status="accepted")
    MQAFactory(tier="tier_2", status="open")
    client.force_login(world.admin)
    assert client.get("/admin/segmentation/play/").status_code == 200
    page = client.get("/admin/segmentation/play/").content.decode()
    assert "Focus: 1:1 ABM" in page
    response = client.get("/admin/segmentation/tierchange/", {"to_tier__exact": "tier_1", "q": "Globex"})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [move]
    response = client.get("/admin/segmentation/tierchange/", {"from_tier__exact": "tier_2"})
    assert [c.to_tier for c in response.context["cl"].result_list] == ["recycle"]
    # Tier moves and MQAs are history: readable, never edited or added here.
    assert client.get(f"/admin/segmentation/tierchange/{move.pk}/change/").status_code == 200
    assert client.get("/admin/segmentation/tierchange/add/").status_code == 403
    assert client.post(f"/admin/segmentation/tierchange/{move.pk}/delete/", {"post": "yes"}).status_code == 403
    response = client.get("/admin/segmentation/mqa/", {"status__exact": "accepted", "tier__exact": "tier_1"})
    assert response.status_code == 200
    assert [m.account for m in response.context["cl"].result_list] == [account]
    assert client.get("/admin/segmentation/mqa/add/").status_code == 403
    assert TierChange.objects.count() == 2 and MQA.objects.count() == 2
    client.force_login(world.manager)
    assert client.get("/admin/segmentation/play/").status_code in (302, 403)


def test_the_django_admin_records_who_changed_a_play(client, world):
    play = Play.objects.get(tier="tier_2")
    client.force_login(world.admin)
    response = client.post(
        f"/admin/segmentation/play/{play.pk}/change/",
        {**play_post(play, name="Growth (admin)"), "tier": "tier_1"},  # the tier is not editable
    )
    assert response.status_code == 302
    play.refresh_from_db()
    assert (play.tier, play.name, play.updated_by) == ("tier_2", "Growth (admin)", world.admin)
