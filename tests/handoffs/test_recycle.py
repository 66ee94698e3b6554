"""A rejected MQA recycles its account (SPEC section 5): it goes to Recycle with a tier change naming the rejection,
shows the Recycle play, keeps its owner, and stays in Recycle (no new MQA) until the rejection cooldown ends, whatever
the incremental or daily rescores say of its scores; then it qualifies again as any account. A handoff recycled after
an SLA breach goes the same way."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account
from handoffs.models import Handoff, SlaPolicy
from handoffs.services import handoff_accept, handoff_reject, sla_sweep
from segmentation import services
from segmentation.explain import explain
from segmentation.models import MQA, AccountScore, TierChange
from segmentation.plays import play_for_tier
from tests.factories import ICPFactory, ScoringModelFactory, SignalFactory

pytestmark = pytest.mark.django_db
HELD = "Recycle: sales sent it back; it stays in Recycle until the rejection cooldown ends"


def fit_model(**kwargs):
    """A model whose fit (and unified) is the account's employee count, 0-100: easy to place by hand."""
    icp = ICPFactory(
        criteria=[
            {"group": "Size", "attribute": "employee_count", "operator": "gte", "value": n, "points": n}
            for n in range(0, 101)
        ],
        exclusions=[{"attribute": "is_customer", "operator": "eq", "value": True}],
    )
    values = {"w_fit": 1.0, "w_signal": 0.0, "w_coverage": 0.0, "surge_delta": 100, "mqa_signal_min": 25, **kwargs}
    return ScoringModelFactory(icp=icp, **values)


def meetings(account, at, n=3):
    for _ in range(n):
        SignalFactory(account=account, kind="meeting", occurred_at=at)


def score(account) -> AccountScore:
    return AccountScore.objects.select_related("model").get(account=account)


@pytest.fixture
def qualified(world, django_capture_on_commit_callbacks):
    """North account (north_rep's) in Tier 2 with signal enough: an MQA handed to north_rep, published a day ago."""
    start = timezone.now() - dt.timedelta(days=1)
    account = world.north_account
    Account.objects.filter(pk=account.pk).update(employee_count=60)  # unified 60: Tier 2 (enter 55)
    meetings(account, start - dt.timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        services.model_publish(model=fit_model(), user=None, as_of=start)
    handoff = Handoff.objects.get(account=account)
    assert (score(account).tier, handoff.owner, handoff.status) == ("tier_2", world.north_rep, "pending")
    return handoff


def test_a_rejection_recycles_the_account_with_the_reason_the_recycle_play_and_the_same_owner(world, qualified):
    world.north_rep.first_name, world.north_rep.last_name = "Dana", "Reyes"
    world.north_rep.save()
    rejected = handoff_reject(user=world.north_rep, handoff_id=qualified.pk, reason="bad_timing")

    stored = score(qualified.account)
    assert (stored.tier, stored.flags, stored.tier_since) == ("recycle", ["recycled"], rejected.decided_at)
    move = TierChange.objects.filter(account=qualified.account).first()  # the latest
    assert (move.from_tier, move.to_tier, move.at) == ("tier_2", "recycle", rejected.decided_at)
    assert move.reason == "Rejected by Dana Reyes: Bad timing"
    assert (move.unified, move.fit) == (60.0, 60.0)
    # Its owner stays (an account keeps its active owner in its territory); its play is the Recycle play.
    assert Account.objects.get(pk=qualified.account_id).owner == world.north_rep
    assert play_for_tier(tier=stored.tier).tier == "recycle"
    # The score explained says why it sits in Recycle with Tier 2 numbers.
    assert explain(stored)["sentences"][-1] == f"{HELD} (its scores alone would place it in Tier 2)."
    assert MQA.objects.get(pk=qualified.mqa_id).status == "rejected"


def test_the_account_page_shows_recycle_the_rejection_and_the_recycle_play(client, world, qualified):
    handoff_reject(user=world.north_rep, handoff_id=qualified.pk, reason="bad_timing")
    client.force_login(world.manager)
    html = client.get(reverse("account-detail", args=[qualified.account_id])).content.decode()
    assert f"Rejected by {world.north_rep.get_full_name()}: Bad timing" in html
    assert "Play for Recycle" in html and play_for_tier(tier="recycle").name in html
    assert play_for_tier(tier="tier_2").name not in html
    assert HELD in html


def test_an_accepted_handoff_leaves_the_tier_alone(world, qualified):
    handoff_accept(user=world.north_rep, handoff_id=qualified.pk)
    assert score(qualified.account).tier == "tier_2"
    assert not TierChange.objects.filter(account=qualified.account, to_tier="recycle").exists()


def test_rescores_within_the_cooldown_keep_it_in_recycle_and_raise_no_mqa_then_it_qualifies_again(
    world, qualified, django_capture_on_commit_callbacks
):
    rejected = handoff_reject(user=world.north_rep, handoff_id=qualified.pk, reason="bad_timing")
    account = qualified.account
    history = list(TierChange.objects.filter(account=account).values_list("pk", flat=True))
    now = rejected.decided_at

    # New signals: the incremental rescore finds Tier 2 numbers, but the account stays in Recycle.
    meetings(account, now + dt.timedelta(hours=20))
    with django_capture_on_commit_callbacks(execute=True):
        services.account_rescore(account, as_of=now + dt.timedelta(days=1))
    stored = score(account)
    assert (stored.tier, stored.flags, stored.tier_since) == ("recycle", ["recycled"], now)
    assert stored.unified == 60.0 and stored.signal >= 25
    assert list(TierChange.objects.filter(account=account).values_list("pk", flat=True)) == history  # no ping-pong
    assert MQA.objects.filter(account=account).count() == 1 and Handoff.objects.filter(account=account).count() == 1

    # The daily (full) rescore holds it too.
    with django_capture_on_commit_callbacks(execute=True):
        services.rescore_job_start(as_of=now + dt.timedelta(days=2))
    assert (score(account).tier, score(account).tier_since) == ("recycle", now)
    assert list(TierChange.objects.filter(account=account).values_list("pk", flat=True)) == history
    assert MQA.objects.filter(account=account).count() == 1

    # Past the cooldown (30 days) it is placed by its scores: back in Tier 2, an MQA again, handed to its owner.
    meetings(account, now + dt.timedelta(days=31))
    later = now + dt.timedelta(days=31, hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        services.account_rescore(account, as_of=later)
    stored = score(account)
    assert (stored.tier, stored.flags, stored.tier_since) == ("tier_2", [], later)
    assert TierChange.objects.filter(account=account).first().reason.startswith("Up to Tier 2")
    again = MQA.objects.get(account=account, status="open")
    assert again.qualified_at == later
    assert Handoff.objects.get(mqa=again).owner == world.north_rep


def test_a_breach_whose_action_is_recycle_recycles_the_account_and_holds_it(
    world, qualified, django_capture_on_commit_callbacks
):
    SlaPolicy.objects.filter(tier="tier_2").update(
        calendar="24x7", accept_within_hours=4, breach_action=SlaPolicy.BreachAction.RECYCLE
    )
    Handoff.objects.filter(pk=qualified.pk).update(accept_due_at=timezone.now() - dt.timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        result = sla_sweep()
    assert result.recycled == [qualified.pk]
    assert Handoff.objects.get(pk=qualified.pk).status == "expired"
    stored = score(qualified.account)
    assert (stored.tier, stored.flags) == ("recycle", ["recycled"])
    move = TierChange.objects.filter(account=qualified.account).first()
    assert move.reason == (
        f"Recycled after an SLA breach: {world.north_rep.get_full_name()} did not accept or reject it within "
        "4 hours, 24x7"
    )
    meetings(qualified.account, timezone.now())
    services.account_rescore(qualified.account, as_of=timezone.now() + dt.timedelta(days=1))
    assert score(qualified.account).tier == "recycle" and MQA.objects.filter(account=qualified.account).count() == 1


def test_recycling_a_tier_1_account_frees_its_place_for_the_capacity_check(world, django_capture_on_commit_callbacks):
    from territories.models import PendingCapacity

    start = timezone.now() - dt.timedelta(days=1)
    account = world.north_account
    Account.objects.filter(pk=account.pk).update(employee_count=90)  # Tier 1
    meetings(account, start - dt.timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        services.model_publish(model=fit_model(), user=None, as_of=start)
    handoff = Handoff.objects.get(account=account)
    assert score(account).tier == "tier_1"
    PendingCapacity.objects.all().delete()
    handoff_reject(user=world.north_rep, handoff_id=handoff.pk, reason="no_budget")
    assert score(account).tier == "recycle"
    assert list(PendingCapacity.objects.values_list("pk", flat=True)) == [world.north.pk]


def test_an_account_coming_back_from_suppress_within_the_cooldown_lands_in_recycle(world, qualified):
    rejected = handoff_reject(user=world.north_rep, handoff_id=qualified.pk, reason="competitor")
    account = qualified.account
    Account.objects.filter(pk=account.pk).update(is_customer=True)  # an exclusion: suppressed at once
    services.account_rescore(account, as_of=rejected.decided_at + dt.timedelta(days=1))
    assert score(account).tier == "suppress"
    Account.objects.filter(pk=account.pk).update(is_customer=False)  # no longer: back to its target, but held
    back = rejected.decided_at + dt.timedelta(days=2)
    services.account_rescore(account, as_of=back)
    assert (score(account).tier, score(account).tier_since) == ("recycle", back)
    move = TierChange.objects.filter(account=account).first()
    assert (move.from_tier, move.to_tier, move.at) == ("suppress", "recycle", back)
    assert move.reason == (
        "Held in Recycle: sales sent it back within the rejection cooldown (its scores alone would place it in Tier 2)."
    )
    assert MQA.objects.filter(account=account).count() == 1
