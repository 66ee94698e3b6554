"""A rep's departure: their accounts go by the territory's weighted rotation within capacity, the preview is what
is applied, each move is logged under the departure's rule, and open handoffs follow keeping their due times."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Account
from handoffs.models import Handoff
from territories.models import Membership, OwnershipChange
from territories.services import departure_reason, membership_departure_plan, membership_update

from ..factories import AccountFactory, HandoffFactory, MembershipFactory, TerritoryFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    north = TerritoryFactory(name="North")
    manager = UserFactory(username="nmgr", role="manager")
    MembershipFactory(user=manager, territory=north, role="manager")
    leaver = UserFactory(username="leaver", first_name="Lee", last_name="Ver", role="rep")
    leaving = MembershipFactory(user=leaver, territory=north)
    heavy = MembershipFactory(user=UserFactory(username="heavy", role="rep"), territory=north, weight=3)
    full = MembershipFactory(user=UserFactory(username="full", role="rep"), territory=north, max_accounts=1)
    AccountFactory(territory=north, owner=full.user)  # full already
    accounts = [AccountFactory(territory=north, owner=leaver, name=f"Leaver {i}") for i in range(8)]
    due = timezone.now() + dt.timedelta(hours=3)
    handoff = HandoffFactory(account=accounts[0], accept_due_at=due, assigned_at=timezone.now() - dt.timedelta(hours=1))
    south = TerritoryFactory(name="South")
    other_manager = UserFactory(username="smgr", role="manager")
    MembershipFactory(user=other_manager, territory=south, role="manager")
    return {
        "north": north,
        "manager": manager,
        "leaving": leaving,
        "heavy": heavy,
        "full": full,
        "accounts": accounts,
        "handoff": handoff,
        "other_manager": other_manager,
    }


def test_a_present_rep_has_nothing_to_hand_over_and_short_absences_do_not_count(team):
    leaving, today = team["leaving"], timezone.localdate()
    assert departure_reason(membership=leaving) is None
    with pytest.raises(ValidationError):
        membership_departure_plan(user=team["manager"], membership=leaving)
    leaving.away_from, leaving.away_until = today, today + dt.timedelta(days=13)  # 14 days: not longer than 14
    assert departure_reason(membership=leaving) is None
    leaving.away_until = today + dt.timedelta(days=14)
    assert departure_reason(membership=leaving) == f"away {today:%Y-%m-%d}–{leaving.away_until:%Y-%m-%d}"
    with override_settings(DEPARTURE_ABSENCE_DAYS=20):
        assert departure_reason(membership=leaving) is None


def test_the_preview_is_what_the_handover_applies_and_handoffs_keep_their_due_time(
    team, django_capture_on_commit_callbacks
):
    leaving, handoff = team["leaving"], team["handoff"]
    membership_update(membership=leaving, values={"is_active": False})
    leaving.refresh_from_db()
    plan = membership_departure_plan(user=team["manager"], membership=leaving)
    assert plan.reason == "Lee Ver left North"
    planned = {m.account_id: m.to_owner_id for m in plan.moves}
    heavy, full = team["heavy"].user_id, team["full"].user_id
    assert set(planned.values()) == {heavy}  # the only member with room (the full one is at capacity)
    assert [h["id"] for h in plan.handoffs] == [handoff.pk]

    client = APIClient()
    client.force_login(team["manager"])
    url = reverse("api:membership-departure", args=[leaving.pk])
    preview = client.get(url).json()
    assert {m["account"]: m["to_owner"] for m in preview["moves"]} == planned
    assert preview["handoffs"][0]["to_owner"] == heavy
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    assert response.status_code == 202
    assert dict(Account.objects.filter(pk__in=planned).values_list("pk", "owner_id")) == planned
    logged = OwnershipChange.objects.filter(account_id__in=planned)
    assert logged.count() == 8 and set(logged.values_list("rule", flat=True)) == {"Lee Ver left North"}
    assert set(logged.values_list("changed_by", flat=True)) == {team["manager"].pk}
    moved = Handoff.objects.get(pk=handoff.pk)
    assert moved.owner_id == heavy and moved.status == "pending"
    assert (moved.accept_due_at, moved.assigned_at) == (handoff.accept_due_at, handoff.assigned_at)
    assert not Account.objects.filter(owner=leaving.user).exists()
    assert Account.objects.filter(owner_id=full).count() == 1
    assert client.get(url).json()["accounts"] == 0  # a second run finds nothing left


def test_the_rotation_shares_the_accounts_by_weight(team, django_capture_on_commit_callbacks):
    team["full"].max_accounts = None
    Membership.objects.filter(pk=team["full"].pk).update(max_accounts=None)
    leaving = team["leaving"]
    Membership.objects.filter(pk=leaving.pk).update(away_from=timezone.localdate(), away_until=None)
    leaving.refresh_from_db()
    plan = membership_departure_plan(user=team["manager"], membership=leaving)
    assert plan.reason.startswith("away ") and plan.reason.endswith("–…")
    counts = plan.counts
    assert counts[team["heavy"].user_id] == 6 and counts[team["full"].user_id] == 2  # weights 3 and 1 of 8


def test_a_manager_of_another_territory_and_a_rep_are_refused(team, client):
    leaving = team["leaving"]
    Membership.objects.filter(pk=leaving.pk).update(is_active=False)
    page = reverse("membership-departure", args=[leaving.pk])
    api = reverse("api:membership-departure", args=[leaving.pk])
    api_client = APIClient()
    for user, page_status, api_status in ((team["other_manager"], 404, 404), (leaving.user, 403, 403)):
        client.force_login(user)
        assert client.get(page).status_code == page_status
        assert client.post(page).status_code == page_status
        api_client.force_authenticate(user)
        assert api_client.get(api).status_code == api_status
        assert api_client.post(api).status_code == api_status
    assert Account.objects.filter(owner=leaving.user).count() == 8  # nothing moved
    client.force_login(team["manager"])
    page_text = client.get(page).content.decode()
    assert "Lee Ver left North" in page_text and "Hand over 8 accounts" in page_text
