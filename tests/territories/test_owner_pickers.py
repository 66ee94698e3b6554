"""Owner pickers list only the territory's eligible reps, by full name, marking who is away or at capacity; handing
accounts to someone away (or at capacity) asks for confirmation first. Members are added and edited by the
territory's managers (reps only) and admins (managers too); the assignment preview names people in full."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account
from territories.models import Membership
from territories.selectors import (
    day_text,
    owner_options,
    territory_member_choices,
    territory_member_choices_by_territory,
)
from tests.factories import AccountFactory, MembershipFactory, UserFactory


@pytest.fixture
def team(world):
    """North: north_rep (no limit), Ada away this week, Ben at capacity (1 of 1), Cy inactive, Dee inactive user."""
    today = timezone.localdate()
    world.north_rep.first_name, world.north_rep.last_name = "Nora", "North"
    world.north_rep.save()
    ada = UserFactory(username="ada", first_name="Ada", last_name="Away", role="rep")
    ben = UserFactory(username="ben", first_name="Ben", last_name="Busy", role="rep")
    cy = UserFactory(username="cy", first_name="Cy", last_name="Gone", role="rep")
    dee = UserFactory(username="dee", first_name="Dee", last_name="Left", role="rep", is_active=False)
    MembershipFactory(user=ada, territory=world.north, away_from=today - dt.timedelta(days=1),
                      away_until=today + dt.timedelta(days=5))  # fmt: skip
    MembershipFactory(user=ben, territory=world.north, max_accounts=1)
    MembershipFactory(user=cy, territory=world.north, is_active=False)
    MembershipFactory(user=dee, territory=world.north)
    AccountFactory(name="Ben's account", territory=world.north, owner=ben)
    world.ada, world.ben = ada, ben
    return world


def test_the_picker_lists_eligible_reps_by_full_name_with_marks(team):
    world = team
    back = day_text(timezone.localdate() + dt.timedelta(days=5))
    labels = [label for _, label in territory_member_choices(territory_id=world.north.pk)]
    assert labels == [
        f"Ada Away (away until {back})",
        "Ben Busy (at capacity: 1 of 1)",
        "Nora North",
    ]  # no manager, no inactive member, no inactive user
    options = {o.name: o for o in owner_options(territory_ids=[world.north.pk])[world.north.pk]}
    assert options["Ada Away"].is_away and not options["Ada Away"].at_capacity
    assert options["Ben Busy"].at_capacity and options["Ben Busy"].owned == 1
    by_territory = territory_member_choices_by_territory(territory_ids=[world.north.pk, world.south.pk, None])
    assert [label for _, label in by_territory[world.south.pk]] == [world.other_rep.get_full_name()]
    assert [label for _, label in by_territory[world.north.pk]] == labels


def test_the_account_page_and_the_board_offer_only_those(client, team):
    world = team
    Account.objects.filter(pk=world.north_account.pk).update(owner=None)
    client.force_login(world.manager)
    for url in (reverse("account-detail", args=[world.north_account.pk]),
                reverse("territory-detail", args=[world.north.pk])):  # fmt: skip
        html = client.get(url).content.decode()
        picker = re.search(r'<select name="owner".*?</select>', html, re.S).group(0)
        options = re.findall(r'<option value="(\d*)"[^>]*>([^<]*)</option>', picker)
        assert [label for value, label in options if value] == [
            f"Ada Away (away until {day_text(world.ada.memberships.get().away_until)})",
            "Ben Busy (at capacity: 1 of 1)",
            "Nora North",
        ]  # not the manager, nor the inactive member (Cy), nor the inactive user (Dee)


def test_handing_an_account_to_someone_away_asks_first(client, team):
    world = team
    client.force_login(world.manager)
    back = reverse("account-detail", args=[world.north_account.pk])
    post = {"account_ids": [world.north_account.pk], "owner": world.ada.pk, "next": back}
    asked = client.post(reverse("account-reassign"), post)
    assert asked.status_code == 200
    html = asked.content.decode()
    assert "Ada Away is away until" in html and "Give to Ada Away anyway" in html
    assert f'href="{back}"' in html  # "Choose someone else" goes back
    assert Account.objects.get(pk=world.north_account.pk).owner == world.north_rep  # nothing changed yet
    done = client.post(reverse("account-reassign"), {**post, "confirmed": "on"})
    assert done.status_code == 302 and done["Location"] == back
    assert Account.objects.get(pk=world.north_account.pk).owner == world.ada
    assert [str(m) for m in client.get(back).context["messages"]] == ["Gave 1 account to Ada Away."]


def test_handing_an_account_to_someone_at_capacity_asks_first(client, team):
    world = team
    client.force_login(world.manager)
    post = {"account_ids": [world.north_account.pk], "owner": world.ben.pk}
    asked = client.post(reverse("account-reassign"), post)
    assert asked.status_code == 200 and "Ben Busy is at capacity:" in asked.content.decode()
    assert Account.objects.get(pk=world.north_account.pk).owner == world.north_rep
    client.post(reverse("account-reassign"), {**post, "confirmed": "on"})
    assert Account.objects.get(pk=world.north_account.pk).owner == world.ben


def test_someone_free_needs_no_confirmation_and_a_manager_is_not_an_owner_choice(client, team):
    world = team
    Account.objects.filter(pk=world.north_account.pk).update(owner=None)
    client.force_login(world.manager)
    ok = client.post(
        reverse("account-reassign"), {"account_ids": [world.north_account.pk], "owner": world.north_rep.pk}
    )
    assert ok.status_code == 302 and Account.objects.get(pk=world.north_account.pk).owner == world.north_rep
    client.post(reverse("account-reassign"), {"account_ids": [world.north_account.pk], "owner": world.manager.pk})
    assert Account.objects.get(pk=world.north_account.pk).owner == world.north_rep
    messages = [str(m) for m in client.get(reverse("territory-list")).context["messages"]]
    assert messages[-1] == "Choose one of the territory's active reps, or nobody."


def test_the_assignment_preview_names_people_in_full(client, team, django_capture_on_commit_callbacks):
    world = team
    world.north.criteria = [{"attribute": "country", "operator": "eq", "value": "United States"}]
    world.north.save()
    Account.objects.filter(pk=world.north_account.pk).update(owner=None)
    client.force_login(world.manager)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("assignment-preview"))
    response = client.get(reverse("assignment-preview"))
    html = response.content.decode()
    assert "Nora North" in html and ">north_rep<" not in html
    rep_names = [r["name"] for r in response.context["rep_counts"]]
    assert "Nora North" in rep_names and "north_rep" not in rep_names
    assert any(m["to_owner"] == "Nora North" for m in response.context["moves"])


def test_a_manager_edits_a_member_of_their_territory_but_not_their_role(client, team):
    world = team
    membership = world.ada.memberships.get()
    client.force_login(world.manager)
    url = reverse("membership-edit", args=[membership.pk])
    page = client.get(url)
    assert page.status_code == 200 and "role" not in page.context["form"].fields
    assert "Ada Away in North" in page.content.decode()
    response = client.post(url, {"max_accounts": "25", "max_tier1_accounts": "5", "away_from": "", "away_until": "",
                                 "is_active": "on", "role": "manager"})  # fmt: skip
    assert response.status_code == 302
    membership.refresh_from_db()
    assert (membership.max_accounts, membership.max_tier1_accounts, membership.away_until, membership.role) == (
        25, 5, None, "rep"
    )  # fmt: skip
    assert membership.history.first().history_user == world.manager
    # Another manager's member: not found; a rep: refused.
    assert client.get(reverse("membership-edit", args=[world.other_rep.memberships.get().pk])).status_code == 404
    client.force_login(world.north_rep)
    assert client.get(url).status_code == 403


def test_an_admin_may_change_a_members_role(client, team):
    world = team
    membership = world.north_rep.memberships.get()
    client.force_login(world.admin)
    url = reverse("membership-edit", args=[membership.pk])
    assert "role" in client.get(url).context["form"].fields
    client.post(url, {"role": "manager", "is_active": "on"})
    assert Membership.objects.get(pk=membership.pk).role == "manager"


def test_a_manager_adds_a_rep_to_their_territory(client, team):
    world = team
    newcomer = UserFactory(username="newcomer", first_name="New", last_name="Comer", role="rep")
    client.force_login(world.manager)
    url = reverse("membership-new", args=[world.north.pk])
    page = client.get(url)
    people = dict(page.context["form"].fields["user"].choices)
    assert people.get(newcomer.pk) == "New Comer" and world.north_rep.pk not in people  # already a member
    assert [value for value, _ in page.context["form"].fields["role"].choices] == ["rep"]
    missing = client.post(url, {"role": "rep"})
    assert missing.status_code == 200 and "Choose a person." in missing.content.decode()
    response = client.post(url, {"user": newcomer.pk, "role": "rep", "max_accounts": "30"})
    assert response.status_code == 302
    joined = Membership.objects.get(user=newcomer)
    assert (joined.territory, joined.role, joined.max_accounts) == (world.north, "rep", 30)
    # A manager appoints no manager, and adds nobody to another manager's territory.
    other = UserFactory(username="boss", role="manager")
    assert client.post(url, {"user": other.pk, "role": "manager"}).status_code == 200
    assert not Membership.objects.filter(user=other).exists()
    assert client.get(reverse("membership-new", args=[world.south.pk])).status_code == 404
    client.force_login(world.north_rep)
    assert client.get(url).status_code == 403


def test_an_admin_appoints_a_manager_with_that_role_only(client, team):
    world = team
    boss = UserFactory(username="boss", first_name="Big", last_name="Boss", role="manager")
    client.force_login(world.admin)
    url = reverse("membership-new", args=[world.south.pk])
    refused = client.post(url, {"user": world.ada.pk, "role": "manager"})
    assert refused.status_code == 200 and "Ada Away does not have the manager role." in refused.content.decode()
    assert client.post(url, {"user": boss.pk, "role": "manager"}).status_code == 302
    assert Membership.objects.get(user=boss).role == "manager"


def test_day_text_names_the_year_only_when_it_is_not_this_one():
    today = dt.date(2026, 3, 1)
    assert day_text(dt.date(2026, 8, 10), today=today) == "10 Aug"
    assert day_text(dt.date(2027, 1, 2), today=today) == "2 Jan 2027"


def test_the_picker_counts_accounts_only_for_reps_with_a_capacity(team):
    """The count of a rep's accounts only says "at capacity": where no rep has a limit, it is not read at all (a
    territory of tens of thousands of accounts)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from territories.models import Membership

    world = team
    with CaptureQueriesContext(connection) as queries:
        territory_member_choices(territory_id=world.north.pk)
    assert sum("COUNT(" in q["sql"] for q in queries.captured_queries) == 1  # Ben Busy has a limit
    Membership.objects.filter(territory=world.north).update(max_accounts=None)
    with CaptureQueriesContext(connection) as queries:
        labels = [label for _, label in territory_member_choices(territory_id=world.north.pk)]
    assert not any("COUNT(" in q["sql"] for q in queries.captured_queries)
    assert "Ben Busy" in labels
