"""Domain events are written with the change they record, at every place the change happens, and go when it rolls
back. Runs on SQLite (the Python engine) and on PostgreSQL (the SQL engine: tier moves and surges set-based)."""

import datetime as dt

import pytest
from django.db import transaction
from django.test import Client

from core.events import Kind, sequence
from core.models import Event
from handoffs.models import SlaPolicy
from handoffs.services import handoff_accept, handoff_reassign, handoff_reject, sla_sweep
from segmentation import services
from segmentation.models import TierChange
from territories.models import Membership
from territories.services import account_reassign, assignment_apply
from tests.factories import SignalFactory

from .conftest import T0, fit_model, publish, score, set_fit

pytestmark = pytest.mark.django_db


class Boom(Exception):
    """Raised to roll a change's transaction back."""


def rolled_back(change):
    """Run `change` in a transaction that then rolls back."""
    with pytest.raises(Boom), transaction.atomic():
        change()
        raise Boom


def events(kind):
    return list(Event.objects.filter(kind=kind).order_by("id"))


def test_a_publish_writes_model_published_mqa_raised_and_handoff_assigned_but_no_tier_change_for_placements(
    world, qualified
):
    (published,) = events(Kind.MODEL_PUBLISHED)
    model = qualified.mqa.model
    assert published.account_id is None and published.actor_id == world.admin.pk
    assert published.data["model_version"] == model.version and published.data["restored"] is False
    assert published.data["published_by_name"] == world.admin.get_full_name()
    assert events(Kind.TIER_CHANGED) == []  # first placements are not moves
    (raised,) = events(Kind.MQA_RAISED)
    assert raised.account_id == world.north_account.pk
    assert raised.data["mqa_id"] == qualified.mqa_id and raised.data["tier"] == "tier_2"
    assert raised.data["account_name"] == "North account" and raised.data["owner_id"] == world.north_rep.pk
    assert raised.data["owner_name"] == world.north_rep.get_full_name()
    assert raised.data["model_version"] == model.version and raised.data["signal"] >= 25
    (assigned,) = events(Kind.HANDOFF_ASSIGNED)
    assert assigned.data["handoff_id"] == qualified.pk and assigned.data["handoff_owner_id"] == world.north_rep.pk
    assert assigned.data["accept_due_at"].endswith("Z") and assigned.data["why"] == "MQA raised"


def test_model_publish_rolled_back_leaves_no_event(world):
    model = fit_model()
    rolled_back(lambda: services.model_publish(model=model, user=world.admin, as_of=T0))
    assert events(Kind.MODEL_PUBLISHED) == []


def test_a_rescore_move_is_a_tier_changed_event_naming_its_tier_change(world, qualified):
    account = world.north_account
    set_fit(account, 95)
    rolled_back(lambda: services.account_rescore(account))
    assert events(Kind.TIER_CHANGED) == [] and score(account).tier == "tier_2"
    services.account_rescore(account)
    (event,) = events(Kind.TIER_CHANGED)
    move = TierChange.objects.exclude(from_tier="").get()
    assert event.account_id == account.pk and event.occurred_at == move.at
    assert (event.data["from_tier"], event.data["to_tier"], event.data["to_tier_label"]) == (
        "tier_2",
        "tier_1",
        "Tier 1",
    )
    assert event.data["tier_change_id"] == move.pk and event.data["reason"] == move.reason
    assert (event.data["fit"], event.data["unified"]) == (95.0, 95.0)
    assert (
        event.data["account_domain"] == account.domain and event.data["owner_name"] == world.north_rep.get_full_name()
    )


def test_a_full_rescore_job_writes_each_move_once(world, django_capture_on_commit_callbacks):
    accounts = [world.north_account, world.south_account, world.owned_by_rep]
    for account in accounts:
        set_fit(account, 40)
    publish(fit_model(), django_capture_on_commit_callbacks, as_of=T0)
    before = {a.pk: score(a).tier for a in accounts}
    for account in accounts[:2]:
        set_fit(account, 90)
    with django_capture_on_commit_callbacks(execute=True):
        job = services.rescore_job_start(as_of=T0 + dt.timedelta(days=40))
    job.refresh_from_db()
    assert job.status == job.Status.SUCCEEDED, job.error
    moved = {(e.account_id, e.data["from_tier"], e.data["to_tier"]) for e in events(Kind.TIER_CHANGED)}
    assert moved == {(a.pk, before[a.pk], "tier_1") for a in accounts[:2]}
    assert {before[a.pk] for a in accounts} != {"tier_1"}
    assert len(events(Kind.TIER_CHANGED)) == 2


def test_a_surge_starting_is_an_event_once_while_it_lasts(django_capture_on_commit_callbacks, world):
    account = world.north_account
    set_fit(account, 72)  # Tier 2, fit enough for Tier 1 (70)
    model = fit_model(surge_delta=20, surge_window_days=7, surge_hold_days=14, full_signal_points=100)
    publish(model, django_capture_on_commit_callbacks)
    for _ in range(2):
        SignalFactory(account=account, kind="meeting", occurred_at=T0 + dt.timedelta(days=19))
    rolled_back(lambda: services.account_rescore(account, as_of=T0 + dt.timedelta(days=20)))
    assert events(Kind.SURGE_STARTED) == []
    services.account_rescore(account, as_of=T0 + dt.timedelta(days=20))
    (surge,) = events(Kind.SURGE_STARTED)
    assert surge.account_id == account.pk and surge.data["signal"] == 29.3
    assert surge.data["surge_until"].startswith("2026-07-05T12:00:00") and surge.data["tier"] == "tier_1"
    assert surge.data["model_version"] == model.version
    # Still surging a day later (more signals renew it): no second event.
    SignalFactory(account=account, kind="meeting", occurred_at=T0 + dt.timedelta(days=20, hours=12))
    services.account_rescore(account, as_of=T0 + dt.timedelta(days=21))
    assert score(account).surge_until is not None and len(events(Kind.SURGE_STARTED)) == 1


def test_a_move_the_capacity_pass_takes_back_takes_its_unread_event_back(world, django_capture_on_commit_callbacks):
    Membership.objects.filter(user=world.north_rep).update(max_tier1_accounts=1)
    first, second = world.north_account, world.owned_by_rep
    set_fit(first, 95)
    set_fit(second, 60)
    publish(fit_model(), django_capture_on_commit_callbacks, as_of=T0)
    assert (score(first).tier, score(second).tier) == ("tier_1", "tier_2")
    set_fit(second, 90)  # Tier 1 by its numbers, but North's one place is taken
    services.account_rescore(second, as_of=T0 + dt.timedelta(days=40))
    assert score(second).tier == "tier_2"
    assert [e.account_id for e in events(Kind.TIER_CHANGED)] == []  # moved and held back at once: no move at all


def test_a_sequenced_move_the_capacity_pass_then_undoes_gets_an_event_back(world, django_capture_on_commit_callbacks):
    from segmentation.services.qualify import capacity_pass

    first, second = world.north_account, world.owned_by_rep
    set_fit(first, 95)
    set_fit(second, 60)
    model = fit_model()
    publish(model, django_capture_on_commit_callbacks, as_of=T0)
    set_fit(second, 90)
    at = T0 + dt.timedelta(days=40)
    services.account_rescore(second, as_of=at)
    assert score(second).tier == "tier_1"
    sequence()  # a reader may have seen the move to Tier 1
    Membership.objects.filter(user=world.north_rep).update(max_tier1_accounts=1)
    model.refresh_from_db()
    capacity_pass(model, at, territory_ids=[world.north.pk])
    assert score(second).tier == "tier_2"
    moves = [(e.account_id, e.data["from_tier"], e.data["to_tier"]) for e in events(Kind.TIER_CHANGED)]
    assert moves == [(second.pk, "tier_2", "tier_1"), (second.pk, "tier_1", "tier_2")]


def test_accepting_is_an_event_by_the_owner_and_rolls_back_with_the_decision(world, qualified):
    rolled_back(lambda: handoff_accept(user=world.north_rep, handoff_id=qualified.pk))
    assert events(Kind.HANDOFF_ACCEPTED) == []
    handoff_accept(user=world.north_rep, handoff_id=qualified.pk)
    (event,) = events(Kind.HANDOFF_ACCEPTED)
    assert event.actor_id == world.north_rep.pk and event.data["status"] == "accepted"
    assert event.data["decided_by_name"] == world.north_rep.get_full_name()


def test_rejecting_is_an_event_with_its_reason_and_the_recycle_a_tier_change(world, qualified):
    rolled_back(lambda: handoff_reject(user=world.north_rep, handoff_id=qualified.pk, reason="bad_timing"))
    assert events(Kind.HANDOFF_REJECTED) == [] and events(Kind.TIER_CHANGED) == []
    handoff_reject(user=world.north_rep, handoff_id=qualified.pk, reason="bad_timing")
    (rejected,) = events(Kind.HANDOFF_REJECTED)
    assert (rejected.data["reason"], rejected.data["reason_label"]) == ("bad_timing", "Bad timing")
    (recycled,) = events(Kind.TIER_CHANGED)
    assert (recycled.data["from_tier"], recycled.data["to_tier"]) == ("tier_2", "recycle")
    assert recycled.data["reason"].startswith("Rejected by ")


def test_a_breach_is_an_event_once_with_its_action(world, qualified):
    SlaPolicy.objects.filter(tier="tier_2").update(breach_action="notify_manager")
    later = qualified.accept_due_at + dt.timedelta(minutes=1)
    rolled_back(lambda: sla_sweep(now=later))
    assert events(Kind.HANDOFF_BREACHED) == []
    sla_sweep(now=later)
    sla_sweep(now=later + dt.timedelta(minutes=1))
    (breach,) = events(Kind.HANDOFF_BREACHED)
    assert breach.data["breached_by_id"] == world.north_rep.pk and breach.data["breach_action"] == "notify_manager"
    assert breach.occurred_at == later


def test_a_breach_reassigned_to_the_next_rep_is_an_assignment(world, qualified):
    from tests.factories import MembershipFactory, UserFactory

    other = UserFactory(username="zed", role="rep")
    MembershipFactory(user=other, territory=world.north)
    SlaPolicy.objects.filter(tier="tier_2").update(breach_action="reassign")
    sla_sweep(now=qualified.accept_due_at + dt.timedelta(minutes=1))
    last = events(Kind.HANDOFF_ASSIGNED)[-1]
    assert last.data["handoff_owner_id"] == other.pk and last.data["why"] == "reassigned after an SLA breach"


def test_a_managers_reassignment_is_an_owner_change_and_an_assignment(world, qualified):
    from tests.factories import MembershipFactory, UserFactory

    other = UserFactory(username="nora", role="rep", first_name="Nora", last_name="Vale")
    MembershipFactory(user=other, territory=world.north)
    rolled_back(lambda: handoff_reassign(user=world.manager, handoff_id=qualified.pk, owner_id=other.pk))
    assert events(Kind.OWNER_CHANGED) == [] and len(events(Kind.HANDOFF_ASSIGNED)) == 1
    handoff_reassign(user=world.manager, handoff_id=qualified.pk, owner_id=other.pk)
    (owner,) = events(Kind.OWNER_CHANGED)
    assert (owner.data["from_owner_id"], owner.data["to_owner_id"]) == (world.north_rep.pk, other.pk)
    assert owner.data["to_owner_name"] == "Nora Vale" and owner.data["reason"] == "manual reassignment"
    assert owner.actor_id == world.manager.pk and owner.data["territory_name"] == "North"
    assigned = events(Kind.HANDOFF_ASSIGNED)[-1]
    assert assigned.data["handoff_owner_id"] == other.pk and assigned.actor_id == world.manager.pk


def test_an_owner_edit_through_the_api_is_an_owner_change_by_its_editor(world):
    client = Client()
    client.force_login(world.admin)
    account = world.north_east_account  # no owner yet
    response = client.patch(
        f"/api/v1/accounts/{account.pk}/", {"owner": world.sub_rep.pk}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    (event,) = events(Kind.OWNER_CHANGED)
    assert (event.data["from_owner_id"], event.data["to_owner_id"], event.actor_id) == (
        None,
        world.sub_rep.pk,
        world.admin.pk,
    )
    assert event.data["reason"] == "edited"
    # The same owner again: no change, no event.
    client.patch(f"/api/v1/accounts/{account.pk}/", {"owner": world.sub_rep.pk}, content_type="application/json")
    assert len(events(Kind.OWNER_CHANGED)) == 1


def test_an_assignment_run_writes_an_owner_change_per_account_that_changes_owner(world):
    from territories.models import OwnershipChange
    from tests.factories import AccountFactory, MembershipFactory, TerritoryFactory, UserFactory

    france = TerritoryFactory(name="France", criteria=[{"attribute": "country", "operator": "eq", "value": "France"}])
    rep = UserFactory(username="fr0", role="rep")
    MembershipFactory(user=rep, territory=france)
    account = AccountFactory(country="France", name="Paris SA")
    rolled_back(lambda: assignment_apply(user=world.admin, account_ids=[account.pk]))
    assert events(Kind.OWNER_CHANGED) == []
    _plan, result = assignment_apply(user=world.admin, account_ids=[account.pk])
    account.refresh_from_db()
    assert result.moved == 1 and account.owner == rep
    (event,) = events(Kind.OWNER_CHANGED)
    assert (event.data["from_owner_id"], event.data["to_owner_id"]) == (None, rep.pk)
    assert event.data["territory_name"] == "France" and event.data["account_name"] == "Paris SA"
    (change,) = OwnershipChange.objects.filter(account=account)
    assert event.data["reason"] == change.rule and event.actor_id == world.admin.pk


def test_a_manual_reassignment_writes_one_event_per_account(world):
    ids = [world.north_account.pk, world.owned_by_rep.pk]
    account_reassign(user=world.manager, account_ids=ids, owner=world.north_rep)
    (event,) = events(Kind.OWNER_CHANGED)  # north_account was north_rep's already
    assert event.account_id == world.owned_by_rep.pk and event.data["from_owner_id"] == world.rep.pk


def test_events_are_sequenced_in_commit_order(world):
    from core.events import record

    first = record(Kind.OWNER_CHANGED, account_id=world.north_account.pk)
    second = record(Kind.OWNER_CHANGED, account_id=world.north_account.pk)
    assert (first.seq, second.seq) == (None, None)
    assert sequence() == 2 and sequence() == 0
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.seq, second.seq) == (1, 2)


def test_an_mqa_raised_by_a_rescore_is_an_event_that_goes_when_the_rescore_rolls_back(
    world, django_capture_on_commit_callbacks
):
    account = world.north_account
    set_fit(account, 40)  # Tier 3: no MQA
    start = T0
    for _ in range(3):
        SignalFactory(account=account, kind="meeting", occurred_at=start - dt.timedelta(hours=1))
    publish(fit_model(), django_capture_on_commit_callbacks, as_of=start)
    assert events(Kind.MQA_RAISED) == []
    set_fit(account, 60)  # Tier 2 with signal enough: an MQA
    rolled_back(lambda: services.account_rescore(account, as_of=start + dt.timedelta(hours=1)))
    assert events(Kind.MQA_RAISED) == [] and events(Kind.TIER_CHANGED) == []
    services.account_rescore(account, as_of=start + dt.timedelta(hours=1))
    (raised,) = events(Kind.MQA_RAISED)
    assert raised.account_id == account.pk and raised.data["tier"] == "tier_2"
    assert [e.data["to_tier"] for e in events(Kind.TIER_CHANGED)] == ["tier_2"]
