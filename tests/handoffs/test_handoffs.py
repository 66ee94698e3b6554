"""Handoffs: created from MQAs under the tier's SLA, one decision each, and the breach sweep (SPEC section 5)."""

import datetime as dt
import threading

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404
from django.test import Client
from django.urls import reverse

from handoffs import services as handoffs
from handoffs.models import Handoff, SlaPolicy
from handoffs.services import AlreadyDecided, handoff_accept, handoff_reassign, handoff_reject, sla_sweep
from segmentation.models import MQA
from tests.conftest import require_postgres
from tests.factories import (
    ICPFactory,
    MembershipFactory,
    MQAFactory,
    ScoringModelFactory,
    SignalFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
MONDAY_10 = dt.datetime(2026, 11, 16, 10, 0, tzinfo=dt.UTC)


def policy(tier="tier_1", hours=4, calendar="business_hours", action="notify_manager"):
    SlaPolicy.objects.update_or_create(
        tier=tier,
        defaults={"accept_within_hours": hours, "calendar": calendar, "breach_action": action, "time_zone": "UTC"},
    )


def handed(account, tier="tier_1", now=MONDAY_10) -> Handoff:
    mqa = MQAFactory(account=account, tier=tier)
    handoffs.handoffs_create([mqa.pk], now=now)
    return Handoff.objects.get(mqa=mqa)


def test_an_mqa_is_handed_to_the_owner_due_on_the_tiers_clock_and_the_owner_is_emailed(
    world, django_capture_on_commit_callbacks
):
    policy(hours=4)
    world.north_rep.email = "north_rep@example.com"
    world.north_rep.save()
    with django_capture_on_commit_callbacks(execute=True):
        handoff = handed(world.north_account)
    assert (handoff.owner, handoff.territory, handoff.status) == (world.north_rep, world.north, "pending")
    assert handoff.assigned_at == MONDAY_10 and handoff.accept_due_at == MONDAY_10 + dt.timedelta(hours=4)
    assert [m.to for m in mail.outbox] == [["north_rep@example.com"]]
    assert "North account" in mail.outbox[0].subject
    # Created again from the same MQA: nothing new, no second email.
    with django_capture_on_commit_callbacks(execute=True):
        handoffs.handoffs_create([handoff.mqa_id])
        handoffs.handoffs_notify_owners([handoff.pk])
    assert Handoff.objects.count() == 1 and len(mail.outbox) == 1


def test_without_an_owner_it_waits_unassigned_and_its_clock_starts_at_assignment(
    world, django_capture_on_commit_callbacks
):
    from territories.services import account_reassign

    policy(hours=4, calendar="24x7")
    handoff = handed(world.north_east_account)
    assert (handoff.owner, handoff.assigned_at, handoff.accept_due_at) == (None, None, None)
    assert handoff.territory == world.north_east
    with django_capture_on_commit_callbacks(execute=True):
        account_reassign(user=world.manager, account_ids=[world.north_east_account.pk], owner=world.sub_rep)
    handoff.refresh_from_db()
    assert handoff.owner == world.sub_rep and handoff.assigned_at is not None
    assert handoff.accept_due_at == handoff.assigned_at + dt.timedelta(hours=4)


def test_the_owner_accepts_or_rejects_once_and_the_mqa_follows(world):
    policy()
    first, second = handed(world.north_account), handed(world.owned_by_rep)
    accepted = handoff_accept(user=world.north_rep, handoff_id=first.pk)
    assert (accepted.status, accepted.decided_by) == ("accepted", world.north_rep)
    assert MQA.objects.get(pk=first.mqa_id).status == "accepted"
    with pytest.raises(AlreadyDecided):
        handoff_reject(user=world.north_rep, handoff_id=first.pk, reason="no_budget")
    assert Handoff.objects.get(pk=first.pk).status == "accepted"

    with pytest.raises(ValidationError) as missing:
        handoff_reject(user=world.rep, handoff_id=second.pk, reason="")
    assert "reason" in missing.value.message_dict
    with pytest.raises(ValidationError) as no_note:
        handoff_reject(user=world.rep, handoff_id=second.pk, reason="other", note="  ")
    assert "note" in no_note.value.message_dict
    assert Handoff.objects.get(pk=second.pk).status == "pending"  # nothing changed
    rejected = handoff_reject(user=world.rep, handoff_id=second.pk, reason="other", note="Wrong division")
    assert (rejected.status, rejected.reason, rejected.note) == ("rejected", "other", "Wrong division")
    mqa = MQA.objects.get(pk=second.mqa_id)
    assert mqa.status == "rejected" and mqa.decided_at == rejected.decided_at  # the MQA cooldown starts


def test_a_rep_cannot_see_or_decide_another_reps_handoff_and_a_manager_cannot_decide(world):
    handoff = handed(world.north_account)
    for intruder in (world.rep, world.other_rep, world.other_manager, world.outsider):
        with pytest.raises(Http404):
            handoff_accept(user=intruder, handoff_id=handoff.pk)
    with pytest.raises(PermissionDenied):
        handoff_accept(user=world.manager, handoff_id=handoff.pk)
    with pytest.raises(PermissionDenied):
        handoff_reject(user=world.admin, handoff_id=handoff.pk, reason="not_icp")
    assert Handoff.objects.get(pk=handoff.pk).status == "pending"


def test_the_api_decides_once_and_answers_409_after(client, world):
    handoff = handed(world.north_account)
    client.force_login(world.north_rep)
    url = reverse("api:handoff-reject", args=[handoff.pk])
    assert client.post(url, {"reason": "other"}, content_type="application/json").status_code == 400
    assert client.post(url, {"reason": "not_icp"}, content_type="application/json").status_code == 200
    again = client.post(reverse("api:handoff-accept", args=[handoff.pk]))
    assert again.status_code == 409 and again.json()["detail"] == "This handoff has already been decided."
    client.force_login(world.other_rep)
    assert client.post(reverse("api:handoff-accept", args=[handoff.pk])).status_code == 404
    assert client.get(reverse("api:handoff-list")).json()["count"] == 0
    client.force_login(world.manager)
    assert client.get(reverse("api:handoff-list")).json()["count"] == 1
    assert client.post(reverse("api:handoff-accept", args=[handoff.pk])).status_code == 403


def test_a_manager_reassigns_a_pending_handoff_within_the_territory(world, django_capture_on_commit_callbacks):
    policy(hours=8, calendar="24x7")
    handoff = handed(world.north_account)
    helper = UserFactory(username="north_helper", role="rep")
    MembershipFactory(user=helper, territory=world.north)
    with pytest.raises(ValidationError):
        handoff_reassign(user=world.manager, handoff_id=handoff.pk, owner_id=world.other_rep.pk)  # not a member
    with pytest.raises(PermissionDenied):
        handoff_reassign(user=world.north_rep, handoff_id=handoff.pk, owner_id=helper.pk)
    with pytest.raises(Http404):
        handoff_reassign(user=world.other_manager, handoff_id=handoff.pk, owner_id=helper.pk)
    moved = handoff_reassign(user=world.manager, handoff_id=handoff.pk, owner_id=helper.pk)
    assert moved.owner == helper and moved.accept_due_at == moved.assigned_at + dt.timedelta(hours=8)
    handoff_accept(user=helper, handoff_id=handoff.pk)
    with pytest.raises(AlreadyDecided):
        handoff_reassign(user=world.manager, handoff_id=handoff.pk, owner_id=world.north_rep.pk)


@pytest.mark.parametrize("action", ["notify_manager", "reassign", "recycle"])
def test_the_sweep_marks_each_breach_once_emails_once_and_runs_its_action(
    world, action, django_capture_on_commit_callbacks
):
    policy(hours=4, calendar="24x7", action=action)
    world.manager.email = "manager@example.com"
    world.manager.save()
    helper = UserFactory(username="north_zed", role="rep")
    MembershipFactory(user=helper, territory=world.north)
    late = handed(world.north_account)
    on_time = handed(world.owned_by_rep, now=MONDAY_10 + dt.timedelta(hours=3))
    mail.outbox.clear()
    later = MONDAY_10 + dt.timedelta(hours=5)
    with django_capture_on_commit_callbacks(execute=True):
        first = sla_sweep(now=later)
    assert first.breached == 1
    with django_capture_on_commit_callbacks(execute=True):
        again = sla_sweep(now=later + dt.timedelta(minutes=1))
        sla_sweep(now=later + dt.timedelta(minutes=2))
    assert again.breached == 0
    late.refresh_from_db()
    on_time.refresh_from_db()
    assert late.breached_at == later and on_time.breached_at is None
    breach_mails = [m for m in mail.outbox if m.subject.startswith("SLA breached")]
    assert [m.to for m in breach_mails] == [["manager@example.com"]]  # one email for the one breach
    if action == "notify_manager":
        assert (late.status, late.owner) == ("pending", world.north_rep)
    elif action == "reassign":
        # The next eligible rep of North after north_rep (by username, wrapping): north_zed.
        assert (late.status, late.owner) == ("pending", helper)
        assert late.accept_due_at == later + dt.timedelta(hours=4)
        assert first.reassigned == [late.pk]
    else:
        assert late.status == "expired" and MQA.objects.get(pk=late.mqa_id).status == "closed"


@pytest.mark.postgres
def test_twenty_concurrent_decisions_on_one_handoff_make_exactly_one(transactional_db, world, monkeypatch):
    """20 accept/reject requests at once through the API (PostgreSQL): one 200, nineteen 409, one decision.

    Every request reads the handoff as pending before any of them decides (a barrier after the read), so a decision
    that checks the status and then acts would let all twenty through, every time."""
    require_postgres()
    handoff = handed(world.north_account)
    codes, barrier, read = [], threading.Barrier(20), threading.Barrier(20, timeout=30)
    get = handoffs._get

    def get_then_wait(**kwargs):
        found = get(**kwargs)
        read.wait()  # all twenty have seen it pending
        return found

    monkeypatch.setattr(handoffs, "_get", get_then_wait)

    def decide(n):
        try:
            client = Client()
            client.force_login(world.north_rep)
            barrier.wait()
            if n % 2:
                response = client.post(reverse("api:handoff-accept", args=[handoff.pk]))
            else:
                response = client.post(
                    reverse("api:handoff-reject", args=[handoff.pk]), {"reason": "bad_timing"}, "application/json"
                )
            codes.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=decide, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [200] + [409] * 19
    handoff.refresh_from_db()
    assert handoff.status in ("accepted", "rejected") and handoff.decided_at is not None
    assert MQA.objects.get(pk=handoff.mqa_id).status == handoff.status


def test_the_sweep_command_reports(world, capsys):
    from django.core.management import call_command

    policy(hours=1, calendar="24x7")
    late = handed(world.north_account, now=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    on_time = handed(world.owned_by_rep, now=dt.datetime.now(dt.UTC))
    call_command("sla_sweep")
    assert "1 handoffs breached now" in capsys.readouterr().out
    late.refresh_from_db()
    on_time.refresh_from_db()
    assert late.breached_at is not None and on_time.breached_at is None
    call_command("sla_sweep")
    assert "0 handoffs breached now" in capsys.readouterr().out


def _raise_mqa_losing_its_wake_up(account, monkeypatch, django_capture_on_commit_callbacks) -> MQA:
    """An account enters Tier 1 with signal and becomes an MQA, but the message that hands MQAs over is lost (the
    broker or a worker died between the commit and the task)."""
    from core import queues
    from segmentation import services as scoring

    lost = []
    monkeypatch.setattr(queues, "wake", lambda name, *args: lost.append(name))
    icp = ICPFactory(criteria=[{"group": "all", "attribute": "name", "operator": "exists", "points": 10}])
    model = ScoringModelFactory(icp=icp, mqa_signal_min=10)
    for _ in range(3):
        SignalFactory(account=account, kind="meeting", occurred_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        scoring.model_publish(model=model, user=None)
    assert "segmentation.mqas_raised" in lost
    monkeypatch.undo()
    return MQA.objects.get(account=account, status="open")


def test_an_mqa_whose_handoff_message_was_lost_is_handed_over_by_the_sweep(
    world, monkeypatch, django_capture_on_commit_callbacks
):
    policy(hours=4, calendar="24x7")
    mqa = _raise_mqa_losing_its_wake_up(world.north_account, monkeypatch, django_capture_on_commit_callbacks)
    assert not Handoff.objects.filter(mqa=mqa).exists()  # open, without a handoff: lost until the sweep
    with django_capture_on_commit_callbacks(execute=True):
        result = sla_sweep()
    handoff = Handoff.objects.get(mqa=mqa)
    assert result.handed_over == 1
    assert (handoff.owner, handoff.status, handoff.territory) == (world.north_rep, "pending", world.north)
    assert sla_sweep().handed_over == 0  # once


def test_an_owner_change_whose_message_was_lost_is_followed_by_the_sweep(
    world, monkeypatch, django_capture_on_commit_callbacks
):
    from core import queues
    from territories.services import account_reassign

    policy(hours=4, calendar="24x7")
    handoff = handed(world.north_account)
    assert handoff.owner == world.north_rep
    MembershipFactory(user=world.sub_rep, territory=world.north)
    monkeypatch.setattr(queues, "wake", lambda name, *args: None)  # the owner-change message is lost
    with django_capture_on_commit_callbacks(execute=True):
        account_reassign(user=world.manager, account_ids=[world.north_account.pk], owner=world.sub_rep)
    monkeypatch.undo()
    handoff.refresh_from_db()
    assert handoff.owner == world.north_rep  # still with the old owner until the sweep
    result = sla_sweep()
    handoff.refresh_from_db()
    assert result.followed == 1 and handoff.owner == world.sub_rep
