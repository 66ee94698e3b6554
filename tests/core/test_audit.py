"""The audit trail: who changed which ICP, scoring model, play, territory, membership or SLA policy, and what."""

import pytest
from django.urls import reverse

from handoffs.models import SlaPolicy
from segmentation import services
from segmentation.models import ICP, Play
from territories.models import Membership
from tests.factories import ScoringModelFactory

pytestmark = pytest.mark.django_db


def test_changes_made_through_the_pages_record_who_and_what(client, world):
    client.force_login(world.admin)
    play = Play.objects.get(tier="tier_1")
    response = client.post(
        reverse("play-edit", args=["tier_1"]),
        {"name": "Focus accounts", "motion": play.motion, "owner_role": play.owner_role, "primary_kpi": "Pipeline"},
    )
    assert response.status_code == 302
    record = Play.history.filter(tier="tier_1").first()
    assert (record.history_type, record.history_user) == ("~", world.admin)
    page = client.get(reverse("audit-trail"), {"kind": "Play"}).content.decode()
    assert "Play: Tier 1: Focus accounts" in page
    assert "name: Focus: 1:1 ABM -&gt; Focus accounts" in page and "admin" in page


def test_every_audited_model_keeps_its_history_and_a_publish_records_the_archived_version(world):
    icp = ICP.objects.create(name="Audited ICP")
    icp.description = "Now with a description"
    icp.save()
    assert [h.history_type for h in icp.history.all()] == ["~", "+"]
    membership = Membership.objects.get(user=world.north_rep)
    membership.max_tier1_accounts = 3
    membership.save()
    assert membership.history.first().max_tier1_accounts == 3
    SlaPolicy.objects.filter(tier="tier_1").delete()
    assert SlaPolicy.history.filter(tier="tier_1").first().history_type == "-"

    first, second = ScoringModelFactory(), ScoringModelFactory()
    services.model_publish(model=first, user=world.admin)
    services.model_publish(model=second, user=world.admin)
    statuses = list(first.history.values_list("status", flat=True))
    assert statuses[:2] == ["archived", "active"]  # the archiving of the old version is in its history


def test_the_audit_page_is_for_admins_pages_and_filters(client, world):
    for n in range(60):
        ICP.objects.create(name=f"ICP {n:02}")
    client.force_login(world.admin)
    first = client.get(reverse("audit-trail"))
    assert first.status_code == 200 and len(first.context["entries"]) == 50 and first.context["next_page"] == 2
    newest = [e.name for e in first.context["entries"]]
    assert newest[0] == "ICP 59"
    second = client.get(reverse("audit-trail"), {"page": 2})
    older = [e.name for e in second.context["entries"]]
    assert newest[:50] == [f"ICP {n:02}" for n in range(59, 9, -1)]
    assert older[:10] == [f"ICP {n:02}" for n in range(9, -1, -1)]  # the next ten, then what came before them
    assert second.context["previous_page"] == 1
    only = client.get(reverse("audit-trail"), {"kind": "Territory"})
    assert {e.label for e in only.context["entries"]} == {"Territory"}
    assert client.get(reverse("audit-trail"), {"kind": "nonsense", "page": "x"}).status_code == 200
    for user in (world.manager, world.north_rep):
        client.force_login(user)
        assert client.get(reverse("audit-trail")).status_code == 403
