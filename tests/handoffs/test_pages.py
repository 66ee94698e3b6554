"""Handoff pages: the rep's queue (accept / reject), the managers' handoff list with SLA compliance and reassignment,
and the admins' rejection feedback (SPEC sections 1 and 5)."""

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from core.stats import wilson_interval
from handoffs.models import Handoff, SlaPolicy
from handoffs.selectors import handoff_list, rejection_feedback, sla_compliance
from segmentation.models import MQA, Play, ScoringModel, TierChange

from ..factories import (
    AccountFactory,
    AccountScoreFactory,
    HandoffFactory,
    MembershipFactory,
    ScoringModelFactory,
    SignalFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
USERS = ["admin", "manager", "other_manager", "rep", "north_rep", "sub_rep", "other_rep", "outsider"]
INDUSTRY = "Industry is one of Software, Fintech"
SIZE = "Size: Employees between 200 and 2,000"
GEO = "Geo: Country is United States"


def fresh(user: User) -> User:
    """The same user without the roles cached by an earlier request, as a real request would load it."""
    return User.objects.get(pk=user.pk)


@dataclass
class Handoffs:
    soon: Handoff
    later: Handoff
    overdue: Handoff
    decided: Handoff
    sub: Handoff
    south: Handoff
    unassigned: Handoff
    reps_own: Handoff

    def visible_to(self, name: str) -> set[int]:
        h = self
        north_rep = {h.soon.pk, h.later.pk, h.overdue.pk, h.decided.pk}
        north = north_rep | {h.sub.pk, h.unassigned.pk, h.reps_own.pk}
        return {
            "admin": north | {h.south.pk},
            "manager": north,
            "other_manager": {h.south.pk},
            "rep": {h.reps_own.pk},
            "north_rep": north_rep,
            "sub_rep": {h.sub.pk},
            "other_rep": {h.south.pk},
            "outsider": set(),
        }[name]


@pytest.fixture
def model() -> ScoringModel:
    return ScoringModelFactory()  # a draft: it reads its ICP's criteria (industry, size x2, geo)


def handed(name, territory, owner, *, model=None, matched=(0, 1, 3), **kwargs) -> Handoff:
    account = AccountFactory(name=name, territory=territory, owner=owner)
    if model is not None:
        AccountScoreFactory(account=account, model=model, matched=list(matched), unified=71, fit=80, signal=55)
    return HandoffFactory(account=account, **kwargs)


@pytest.fixture
def handoffs(world, model) -> Handoffs:
    now = timezone.now()
    soon = handed(
        "Soon Co",
        world.north,
        world.north_rep,
        model=model,
        tier="tier_1",
        assigned_at=now - dt.timedelta(hours=2),
        accept_due_at=now + dt.timedelta(hours=2),
    )
    SignalFactory(account=soon.account, kind="meeting", occurred_at=now - dt.timedelta(days=2))
    later = handed(
        "Later Co",
        world.north,
        world.north_rep,
        model=model,
        matched=[0],
        tier="tier_2",
        accept_due_at=now + dt.timedelta(hours=30),
    )
    overdue = handed(
        "Late Co",
        world.north,
        world.north_rep,
        model=model,
        tier="tier_2",
        accept_due_at=now - dt.timedelta(hours=1),
        breached_at=now - dt.timedelta(minutes=30),
    )
    decided = handed(
        "Done Co",
        world.north,
        world.north_rep,
        status="accepted",
        decided_by=world.north_rep,
        decided_at=now - dt.timedelta(hours=1),
    )
    sub = handed("Sub Co", world.north_east, world.sub_rep)
    south = handed("South Co", world.south, world.other_rep)
    unassigned = handed("Queue Co", world.north, None, assigned_at=None)
    reps_own = HandoffFactory(account=world.owned_by_rep, tier="tier_1")
    return Handoffs(soon, later, overdue, decided, sub, south, unassigned, reps_own)  # fmt: skip


def status_of(handoff: Handoff) -> str:
    return Handoff.objects.get(pk=handoff.pk).status


def csv_rows(response) -> list[dict]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


# --- scope ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", USERS)
def test_each_role_sees_exactly_its_handoffs(world, handoffs, name):
    user = fresh(getattr(world, name))
    assert set(handoff_list(user=user).values_list("pk", flat=True)) == handoffs.visible_to(name)


@pytest.mark.parametrize("name", ["manager", "other_manager", "admin"])
def test_the_handoff_list_and_its_export_show_exactly_the_scope(client, world, handoffs, name):
    client.force_login(getattr(world, name))
    response = client.get(reverse("handoff-list"))
    assert response.status_code == 200
    expected = handoffs.visible_to(name)
    assert {row.record.pk for row in response.context["table"].paginated_rows} == expected
    assert {int(row["id"]) for row in csv_rows(client.get(reverse("handoff-export")))} == expected
    html = response.content.decode()
    assert '<a href="?sort=account">Account</a>' in html and '<a href="?sort=territory">Territory</a>' in html
    if handoffs.decided.pk in expected:
        assert '<span class="badge text-bg-success handoff-status">Accepted</span>' in html
    assert '<span class="badge text-bg-warning handoff-status">Pending</span>' in html
    for handoff in vars(handoffs).values():
        assert (f'data-handoff-id="{handoff.pk}"' in html) == (handoff.pk in expected)
        assert (handoff.account.name in html) == (handoff.pk in expected), handoff.account.name


@pytest.mark.parametrize("name", ["rep", "north_rep", "other_rep"])
def test_reps_are_refused_the_managers_pages(client, world, handoffs, name):
    client.force_login(getattr(world, name))
    for route in (
        "handoff-list",
        "handoff-export",
        "handoff-sla-export",
        "handoff-feedback",
        "handoff-feedback-export",
    ):
        assert client.get(reverse(route)).status_code == 403, route
    response = client.post(reverse("handoff-reassign", args=[handoffs.soon.pk]), {"owner": world.north_rep.pk})
    assert response.status_code == 403


def test_a_rep_never_reaches_another_reps_handoff(client, world, handoffs):
    client.force_login(world.north_rep)
    queue = client.get(reverse("handoff-queue")).content.decode()
    for other in (handoffs.sub, handoffs.south, handoffs.unassigned, handoffs.reps_own):
        assert other.account.name not in queue
        assert client.post(reverse("handoff-accept", args=[other.pk])).status_code == 404
        ok_reason = client.post(reverse("handoff-reject", args=[other.pk]), {"reason": "not_icp"})
        assert ok_reason.status_code == 404
        # Even a form the service would refuse says nothing but 404.
        assert client.post(reverse("handoff-reject", args=[other.pk]), {}).status_code == 404
        assert status_of(other) == "pending"
    assert client.post(reverse("handoff-accept", args=[999999])).status_code == 404


def test_a_manager_cannot_accept_or_reject_for_a_rep(client, world, handoffs):
    client.force_login(world.manager)
    assert client.get(reverse("handoff-queue")).status_code == 403
    assert client.post(reverse("handoff-accept", args=[handoffs.soon.pk])).status_code == 403
    assert client.post(reverse("handoff-reject", args=[handoffs.soon.pk]), {"reason": "not_icp"}).status_code == 403
    assert status_of(handoffs.soon) == "pending"
    # A superuser holds every role, yet only the owner decides.
    boss = UserFactory(is_superuser=True)
    client.force_login(boss)
    assert client.post(reverse("handoff-accept", args=[handoffs.soon.pk])).status_code == 403
    assert status_of(handoffs.soon) == "pending"


# --- the queue ------------------------------------------------------------------------------------------------------


def test_the_queue_lists_the_reps_pending_handoffs_soonest_due_first(client, world, handoffs):
    SlaPolicy.objects.filter(tier__in=["tier_1", "tier_2"]).update(calendar="24x7")  # plain hours: any time of day
    client.force_login(world.north_rep)
    response = client.get(reverse("handoff-queue"))
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [r["handoff"].pk for r in rows] == [handoffs.overdue.pk, handoffs.soon.pk, handoffs.later.pk]
    assert response.context["total"] == 3
    overdue, soon, later = rows
    assert overdue["overdue"] and not soon["overdue"] and not later["overdue"]
    assert overdue["countdown"].left == "overdue by 1 hour"
    assert soon["countdown"].left == "2 hours left" and soon["countdown"].due.startswith("due ")
    assert later["countdown"].left == "30 hours left"
    assert 0 < soon["countdown"].left_ms <= 2 * 3600 * 1000
    html = response.content.decode()
    assert html.count('class="card mb-3 handoff') == 3
    assert html.count("handoff-overdue") == 1 and "SLA breached" in html
    assert "Done Co" not in html  # decided
    assert 'data-left-ms="' in html and "js/handoffs.js" in html
    assert f'2 hours left</span> · <span class="countdown-due text-nowrap">{soon["countdown"].due}' in html
    assert "<script>" not in html and "onclick" not in html and "onsubmit" not in html  # CSP-friendly
    # Tier, score, the explanation's first sentences and the tier's play.
    assert soon["tier_label"] == "Tier 1" and "Tier 1" in html
    assert "Unified <strong>71</strong>" in html
    assert [s.split(":")[0] for s in soon["sentences"]] == ["Fit 80", "Signal 55"]
    assert "meeting" in soon["sentences"][1].lower()  # the signal kinds that scored
    assert "Industry is one of Software, Fintech (+30)" in html
    assert soon["play"].name == Play.objects.get(tier="tier_1").name and soon["play"].name in html
    # Reasons to pick from, the note for `other`.
    for value, label in Handoff.Reason.choices:
        assert f'<option value="{value}">{label}</option>' in html
    assert 'name="note"' in html


def test_the_queue_says_when_nothing_waits(client, world, handoffs):
    client.force_login(world.other_rep)
    Handoff.objects.filter(pk=handoffs.south.pk).update(status="rejected", reason="duplicate")
    response = client.get(reverse("handoff-queue"))
    assert response.context["rows"] == []
    html = response.content.decode()
    assert "Nothing waiting for you." in html and '(<span id="queue-count">0</span> pending)' in html


def test_accept_and_reject_through_the_queue(client, world, handoffs):
    client.force_login(world.north_rep)
    response = client.post(reverse("handoff-accept", args=[handoffs.soon.pk]), follow=True)
    assert response.redirect_chain == [(reverse("handoff-queue"), 302)]
    assert "Accepted Soon Co: it is now a Sales Accepted Account." in response.content.decode()
    accepted = Handoff.objects.get(pk=handoffs.soon.pk)
    assert (accepted.status, accepted.decided_by) == ("accepted", world.north_rep)
    assert MQA.objects.get(pk=accepted.mqa_id).status == "accepted"

    response = client.post(reverse("handoff-reject", args=[handoffs.later.pk]), {"reason": "no_budget"}, follow=True)
    assert (
        "Rejected Later Co (No budget): it goes back to marketing, in Recycle, and cannot qualify again before the "
        "rejection cooldown ends." in response.content.decode()
    )
    rejected = Handoff.objects.get(pk=handoffs.later.pk)
    assert (rejected.status, rejected.reason, rejected.decided_by) == ("rejected", "no_budget", world.north_rep)
    recycled = TierChange.objects.get(account=rejected.account_id)
    assert (recycled.from_tier, recycled.to_tier) == ("tier_2", "recycle")
    assert recycled.reason == f"Rejected by {world.north_rep.get_full_name()}: No budget"

    response = client.post(
        reverse("handoff-reject", args=[handoffs.overdue.pk]), {"reason": "other", "note": "Bought elsewhere"}
    )
    assert response.status_code == 302
    assert Handoff.objects.get(pk=handoffs.overdue.pk).note == "Bought elsewhere"
    assert client.get(reverse("handoff-queue")).context["rows"] == []


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({}, "reason", "Choose a reason"),
        ({"reason": "bored"}, "reason", "Choose a reason"),
        ({"reason": "other"}, "note", "Say why in a note when the reason is 'other'."),
        ({"reason": "other", "note": "   "}, "note", "Say why in a note when the reason is 'other'."),
    ],
)
def test_a_rejection_without_its_reason_or_note_shows_the_field_message_and_changes_nothing(
    client, world, handoffs, form, field, message
):
    client.force_login(world.north_rep)
    response = client.post(reverse("handoff-reject", args=[handoffs.soon.pk]), form)
    assert response.status_code == 400
    html = response.content.decode()
    assert escape(message) in html
    row = next(r for r in response.context["rows"] if r["handoff"].pk == handoffs.soon.pk)
    assert list(row["errors"]) == [field]
    assert re.search(rf'name="{field}"[^>]*class="[^"]*is-invalid', html) or re.search(
        rf'class="[^"]*is-invalid[^"]*"[^>]*name="{field}"', html
    )
    if form.get("reason") == "other":
        assert '<option value="other" selected>' in html  # what was typed stays
    assert status_of(handoffs.soon) == "pending"
    assert MQA.objects.get(pk=handoffs.soon.mqa_id).status == "open"


def test_a_decided_handoff_says_already_decided(client, world, handoffs):
    client.force_login(world.north_rep)
    response = client.post(reverse("handoff-accept", args=[handoffs.decided.pk]), follow=True)
    assert "Done Co was already decided (accepted): nothing changed." in response.content.decode()
    response = client.post(reverse("handoff-reject", args=[handoffs.decided.pk]), {"reason": "not_icp"})
    assert response.status_code == 302
    assert status_of(handoffs.decided) == "accepted"
    # The queue's script asks for JSON: 409 and the same words.
    response = client.post(reverse("handoff-accept", args=[handoffs.decided.pk]), HTTP_ACCEPT="application/json")
    assert response.status_code == 409
    assert "already decided" in response.json()["message"]


def test_the_queue_script_gets_json_answers(client, world, handoffs):
    client.force_login(world.north_rep)
    json = {"HTTP_ACCEPT": "application/json"}
    response = client.post(reverse("handoff-reject", args=[handoffs.soon.pk]), {"reason": "other"}, **json)
    assert response.status_code == 400
    assert response.json()["errors"] == {"note": ["Say why in a note when the reason is 'other'."]}
    response = client.post(reverse("handoff-accept", args=[handoffs.soon.pk]), **json)
    assert response.status_code == 200
    assert response.json() == {
        "message": "Accepted Soon Co: it is now a Sales Accepted Account.",
        "outcome": "accepted",
    }
    assert client.post(reverse("handoff-accept", args=[handoffs.south.pk]), **json).status_code == 404


# --- the managers' list -----------------------------------------------------------------------------------------------


def listed(client, **params) -> list[int]:
    response = client.get(reverse("handoff-list"), params)
    assert response.status_code == 200
    return [row.record.pk for row in response.context["table"].paginated_rows]


@pytest.mark.parametrize(
    ("params", "names"),
    [
        ({"status": "pending"}, {"soon", "later", "overdue", "sub", "unassigned", "reps_own"}),
        ({"status": "accepted"}, {"decided"}),
        ({"territory": "north_east"}, {"sub"}),
        ({"territory": "north"}, {"soon", "later", "overdue", "decided", "unassigned", "reps_own"}),
        ({"owner": "north_rep"}, {"soon", "later", "overdue", "decided"}),
        ({"owner": "rep"}, {"reps_own"}),  # an owner who is no member of the territory
        ({"owner": "none"}, {"unassigned"}),
        ({"tier": "tier_1"}, {"soon", "reps_own"}),
        ({"breached": "yes"}, {"overdue"}),
        ({"breached": "no"}, {"soon", "later", "decided", "sub", "unassigned", "reps_own"}),
        ({"status": "pending", "tier": "tier_2", "owner": "north_rep"}, {"later", "overdue"}),
        ({"territory": "south"}, set()),  # outside the scope: nothing, never everything
        ({"owner": "other_rep"}, set()),
    ],
)
def test_every_filter(client, world, handoffs, params, names):
    params = dict(params)
    if params.get("territory"):
        params["territory"] = getattr(world, params["territory"]).pk
    if params.get("owner") not in (None, "none"):
        params["owner"] = getattr(world, params["owner"]).pk
    client.force_login(world.manager)
    expected = {getattr(handoffs, name).pk for name in names}
    assert set(listed(client, **params)) == expected
    exported = [int(row["id"]) for row in csv_rows(client.get(reverse("handoff-export"), params))]
    assert exported == listed(client, **params)


def test_sorting_and_the_export_follow_the_page(client, world, handoffs):
    client.force_login(world.manager)
    due = listed(client, status="pending", sort="accept_due_at")
    dated = [pk for pk in due if Handoff.objects.get(pk=pk).accept_due_at]  # where nulls sort depends on the database
    h = handoffs
    assert dated == [h.overdue.pk, h.soon.pk, h.sub.pk, h.reps_own.pk, h.later.pk]
    assert (
        listed(client, status="pending", sort="-accept_due_at")[-5:] == dated[::-1]
        or listed(client, status="pending", sort="-accept_due_at")[:5] == dated[::-1]
    )
    by_account = listed(client, sort="-account")
    names = [Handoff.objects.get(pk=pk).account.name for pk in by_account]
    assert names == sorted(names, reverse=True)
    exported = csv_rows(client.get(reverse("handoff-export"), {"sort": "-account"}))
    assert [r["account"] for r in exported] == names
    assert set(exported[0]) >= {"id", "account", "owner", "tier", "status", "accept_due_at", "reason", "breached_at"}


def test_a_manager_reassigns_a_pending_handoff_within_the_territory(client, world, handoffs):
    colleague = UserFactory(username="colleague", role="rep")
    MembershipFactory(user=colleague, territory=world.north)
    client.force_login(world.manager)
    page = client.get(reverse("handoff-list"), {"status": "pending", "territory": world.north.pk})
    html = page.content.decode()
    assert html.count('class="d-flex gap-1 handoff-reassign"') == 5  # soon, later, overdue, reps_own, unassigned
    assert f'action="{reverse("handoff-reassign", args=[handoffs.soon.pk])}"' in html
    assert f'<option value="{colleague.pk}">' in html
    assert f'<option value="{world.other_rep.pk}">' not in html

    before = Handoff.objects.get(pk=handoffs.soon.pk)
    back = reverse("handoff-list") + "?status=pending"
    response = client.post(
        reverse("handoff-reassign", args=[handoffs.soon.pk]), {"owner": colleague.pk, "next": back}, follow=True
    )
    assert response.redirect_chain == [(back, 302)]
    moved = Handoff.objects.get(pk=handoffs.soon.pk)
    assert moved.owner == colleague and moved.assigned_at > before.assigned_at
    assert "Soon Co now goes to" in response.content.decode()

    # Not a member of the territory: the message, nothing changes.
    response = client.post(
        reverse("handoff-reassign", args=[handoffs.later.pk]), {"owner": world.other_rep.pk}, follow=True
    )
    assert "Later Co was not reassigned: Choose an active member of the handoff&#x27;s territory." in (
        response.content.decode()
    )
    assert Handoff.objects.get(pk=handoffs.later.pk).owner == world.north_rep
    # An unassigned handoff gets its first owner.
    client.post(reverse("handoff-reassign", args=[handoffs.unassigned.pk]), {"owner": colleague.pk})
    assert Handoff.objects.get(pk=handoffs.unassigned.pk).owner == colleague
    # Decided already.
    response = client.post(
        reverse("handoff-reassign", args=[handoffs.decided.pk]), {"owner": colleague.pk}, follow=True
    )
    assert "Done Co was already decided (accepted): nothing changed." in response.content.decode()
    # Another manager's territory: 404 and unchanged; a foreign `next` is ignored.
    client.force_login(world.other_manager)
    assert (
        client.post(reverse("handoff-reassign", args=[handoffs.later.pk]), {"owner": colleague.pk}).status_code == 404
    )
    response = client.post(
        reverse("handoff-reassign", args=[handoffs.south.pk]), {"owner": world.other_rep.pk, "next": "https://x.test/"}
    )
    assert response["Location"] == reverse("handoff-list")


# --- SLA compliance -------------------------------------------------------------------------------------------------


@pytest.fixture
def sla_set(world):
    """A hand-made set: what counts as decided on time, breached and measured."""
    now = timezone.now()
    due = now - dt.timedelta(hours=10)
    n, s = world.north_rep, world.sub_rep
    rows = [
        ("on time", world.north, n, "tier_1", dict(status="accepted", decided_at=due - dt.timedelta(hours=1))),
        ("late", world.north, n, "tier_1",
         dict(status="rejected", reason="not_icp", decided_at=due + dt.timedelta(hours=1), breached_at=due)),
        ("overdue", world.north, n, "tier_2", dict(breached_at=due)),
        ("in window", world.north, n, "tier_2", dict(accept_due_at=now + dt.timedelta(hours=3))),
        ("sub on time", world.north_east, s, "tier_2", dict(status="accepted", decided_at=due)),
        ("expired", world.north_east, s, "tier_1", dict(status="expired", breached_at=due, decided_at=due)),
        ("no deadline", world.north, None, "tier_1", dict(assigned_at=None, accept_due_at=None)),
    ]  # fmt: skip
    for name, territory, owner, tier, extra in rows:
        extra.setdefault("accept_due_at", due)
        handed(name, territory, owner, tier=tier, **extra)
    return now


def counts(row) -> tuple:
    return (row.handoffs, row.decided, row.on_time, row.breached, row.measured)


def test_sla_compliance_by_rep_and_by_tier(world, sla_set):
    report = sla_compliance(handoffs=handoff_list(user=fresh(world.manager)), now=sla_set)
    owners = {row.label: row for row in report.by_owner}
    north_rep = world.north_rep.get_full_name()
    sub_rep = world.sub_rep.get_full_name()
    assert [row.label for row in report.by_owner][-1] == "Unassigned"
    assert counts(owners[north_rep]) == (4, 2, 1, 2, 3)
    assert counts(owners[sub_rep]) == (2, 1, 1, 1, 2)
    assert counts(owners["Unassigned"]) == (1, 0, 0, 0, 0)
    assert owners[north_rep].compliance == pytest.approx(100 / 3)
    assert owners[sub_rep].compliance == 50
    assert owners["Unassigned"].compliance is None and owners["Unassigned"].interval is None
    tiers = {row.key: row for row in report.by_tier}
    assert [row.key for row in report.by_tier] == ["tier_1", "tier_2"]
    assert counts(tiers["tier_1"]) == (4, 2, 1, 2, 3)
    assert counts(tiers["tier_2"]) == (3, 1, 1, 1, 2)
    assert counts(report.total) == (7, 3, 2, 3, 5) and report.total.compliance == 40
    # Another manager's scope counts none of it.
    assert counts(sla_compliance(handoffs=handoff_list(user=fresh(world.other_manager))).total) == (0, 0, 0, 0, 0)


def test_wilson_interval():
    assert wilson_interval(0, 0) is None
    low, high = wilson_interval(5, 10)
    assert low == pytest.approx(23.66, abs=0.01) and high == pytest.approx(76.34, abs=0.01)
    low, high = wilson_interval(0, 4)
    assert low == 0 and high == pytest.approx(48.99, abs=0.01)


def test_the_sla_tables_on_the_page_and_in_csv(client, world, sla_set):
    client.force_login(world.manager)
    response = client.get(reverse("handoff-list"))
    assert counts(response.context["compliance"].total) == (7, 3, 2, 3, 5)
    html = response.content.decode()
    assert "SLA compliance" in html and "40.0%" in html and "33.3%" in html and "50.0%" in html
    # The status filter narrows the list, not the population the SLA is measured on.
    response = client.get(reverse("handoff-list"), {"status": "accepted"})
    assert len(response.context["table"].paginated_rows) == 2
    assert counts(response.context["compliance"].total) == (7, 3, 2, 3, 5)
    # The territory filter does narrow it.
    response = client.get(reverse("handoff-list"), {"territory": world.north_east.pk})
    assert counts(response.context["compliance"].total) == (2, 1, 1, 1, 2)
    rows = csv_rows(client.get(reverse("handoff-sla-export")))
    total = next(r for r in rows if r["by"] == "all")
    assert (total["measured"], total["decided_on_time"], total["compliance_pct"]) == ("5", "2", "40.0")
    assert {r["group"] for r in rows if r["by"] == "tier"} == {"Tier 1", "Tier 2"}


# --- rejection feedback -----------------------------------------------------------------------------------------------


@pytest.fixture
def rejections(world, model):
    decided = dict(decided_at=timezone.now())
    handed(
        "R1",
        world.north,
        world.north_rep,
        model=model,
        matched=[0, 1, 3],
        tier="tier_1",
        status="rejected",
        reason="not_icp",
        **decided,
    )
    handed(
        "R2",
        world.north,
        world.north_rep,
        model=model,
        matched=[0],
        tier="tier_1",
        status="rejected",
        reason="no_budget",
        **decided,
    )
    handed(
        "R3",
        world.south,
        world.other_rep,
        model=model,
        matched=[1],
        tier="tier_2",
        status="rejected",
        reason="not_icp",
        **decided,
    )
    handed("R4", world.south, world.other_rep, tier="tier_2", status="rejected", reason="other", note="?", **decided)
    handed("A1", world.north, world.north_rep, model=model, matched=[0], tier="tier_1", status="accepted", **decided)
    handed("P1", world.north, world.north_rep, model=model, matched=[0], tier="tier_1")  # pending: not counted
    # fmt: skip


def test_rejection_feedback_by_reason_and_by_criterion(world, rejections):
    report = rejection_feedback(handoffs=handoff_list(user=fresh(world.admin)))
    assert report.tiers == ["tier_1", "tier_2"]
    assert report.rejected == 4 and report.without_criterion == 1
    assert {(r.label, r.rejected): r.by_tier for r in report.by_reason} == {
        ("Not our ICP", 2): {"tier_1": 1, "tier_2": 1},
        ("No budget", 1): {"tier_1": 1},
        ("Other", 1): {"tier_2": 1},
    }
    assert [r.label for r in report.by_reason][0] == "Not our ICP"
    by_criterion = {r.label: (r.by_tier, r.rejected, r.decided) for r in report.by_criterion}
    assert by_criterion == {
        INDUSTRY: ({"tier_1": 2}, 2, 3),
        SIZE: ({"tier_1": 1, "tier_2": 1}, 2, 2),
        GEO: ({"tier_1": 1}, 1, 1),
    }
    assert next(r for r in report.by_criterion if r.label == INDUSTRY).rejection_rate == pytest.approx(200 / 3)


def test_the_feedback_page_and_its_export(client, world, rejections):
    client.force_login(world.admin)
    response = client.get(reverse("handoff-feedback"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Rejection feedback" in html and "(4 rejected)" in html
    assert INDUSTRY in html and "67%" in html
    rows = csv_rows(client.get(reverse("handoff-feedback-export")))
    assert {(r["by"], r["label"], r["tier"], r["rejected"]) for r in rows} == {
        ("reason", "Not our ICP", "tier_1", "1"),
        ("reason", "Not our ICP", "tier_2", "1"),
        ("reason", "No budget", "tier_1", "1"),
        ("reason", "Other", "tier_2", "1"),
        ("criterion", INDUSTRY, "tier_1", "2"),
        ("criterion", SIZE, "tier_1", "1"),
        ("criterion", SIZE, "tier_2", "1"),
        ("criterion", GEO, "tier_1", "1"),
    }
    client.force_login(world.manager)
    assert client.get(reverse("handoff-feedback")).status_code == 403


def test_feedback_with_nothing_rejected(client, world):
    client.force_login(world.admin)
    html = client.get(reverse("handoff-feedback")).content.decode()
    assert "No handoff has been rejected yet." in html


# --- query counts -----------------------------------------------------------------------------------------------------


def measure(client, url, **params) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(queries.captured_queries)


def more_handoffs(world, model, n: int) -> None:
    for i in range(n):
        handoff = handed(f"Bulk {i:02d}", world.north, world.north_rep, model=model, tier="tier_1")
        SignalFactory(account=handoff.account, kind="web_visit")
        if i % 2:
            Handoff.objects.filter(pk=handoff.pk).update(
                status="rejected", reason="duplicate", decided_at=timezone.now()
            )


def test_the_pages_cost_a_fixed_number_of_queries(client, world, model, handoffs):
    Handoff.objects.filter(pk=handoffs.later.pk).update(status="rejected", reason="not_icp", decided_at=timezone.now())
    client.force_login(world.north_rep)
    queue_few = measure(client, reverse("handoff-queue"))
    client.force_login(world.manager)
    list_few = measure(client, reverse("handoff-list"))
    filtered_few = measure(client, reverse("handoff-list"), status="pending", tier="tier_1", sort="-account")
    client.force_login(world.admin)
    feedback_few = measure(client, reverse("handoff-feedback"))
    more_handoffs(world, model, 12)
    client.force_login(world.north_rep)
    assert measure(client, reverse("handoff-queue")) == queue_few
    client.force_login(world.manager)
    assert measure(client, reverse("handoff-list")) == list_few
    assert measure(client, reverse("handoff-list"), status="pending", tier="tier_1", sort="-account") == filtered_few
    client.force_login(world.admin)
    assert measure(client, reverse("handoff-feedback")) == feedback_few
