"""Recycling: sales send an MQA's account back to marketing, and it stays in Recycle for the cooldown.

- `accounts_recycle`: the account of a rejected handoff (or of one recycled unworked after an SLA breach) goes to
  Recycle at once, with a TierChange whose reason names the decision ("Rejected by Dana Reyes: Bad timing"). Its
  score is flagged RECYCLED, so the explanation says why it sits in Recycle whatever its numbers. Its owner stays:
  an account keeps its active owner in its territory (SPEC section 5); the Recycle play says what happens to it
  now (marketing programmes, no sales motion), and when it qualifies again its handoff goes to the same rep.
- `recycle_hold`: the tier rules lift an account out of Recycle as soon as its scores qualify it for a tier (a
  better tier is entered at once). While the decision that recycled it is within the model's
  rejection_cooldown_days, a rescore that lifted it is undone, as the capacity pass undoes a move into a full
  Tier 1: the move written at that moment is taken back and the account stays in Recycle, so no MQA is raised and
  it does not ping-pong between Tier 2 and Recycle. Once the cooldown is over, the next rescore (daily at the
  latest) places it by its scores, and entering an MQA tier then raises an MQA as usual.

Both are set-based: a sweep may recycle thousands of accounts at once, and the hold runs after every rescore.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from django.db.models import Exists, Max, OuterRef

from core.tiers import RECYCLE, SUPPRESS, TIERS
from territories.services import capacity_changed

from ..events import tier_change_corrected, tier_changes_recorded
from ..models import MQA, AccountScore, ScoringModel, TierChange
from ..tiers import RECYCLED, SURGE, recycle_hold_reason

# MQAs that send their account to Recycle: rejected by sales, or closed unworked after an SLA breach.
RECYCLING_STATUSES = (MQA.Status.REJECTED, MQA.Status.CLOSED)


def _recycled_flags(flags: Iterable[str]) -> list[str]:
    # A surge stays true of the signals; the holds of a tier the account has left do not.
    return sorted({flag for flag in flags or () if flag == SURGE} | {RECYCLED})


def accounts_recycle(*, reasons: Mapping[int, str], at: dt.datetime) -> list[int]:
    """Move the accounts' scores to Recycle at `at`, each with a TierChange giving its reason ({account id: reason});
    returns the ids moved. An account in Recycle already is only flagged; a suppressed or unscored one is left as it
    is. Queues a Tier 1 capacity check of the territories whose Tier 1 lost an account (a place freed up)."""
    if not reasons:
        return []
    scores = list(
        AccountScore.objects.select_for_update()
        .filter(account_id__in=sorted(reasons))
        .exclude(tier=SUPPRESS)
        .order_by("account_id")
    )
    moves, changed, freed = [], [], set()
    for score in scores:
        if score.tier != RECYCLE:
            moves.append(
                TierChange(
                    account_id=score.account_id,
                    model_id=score.model_id,
                    from_tier=score.tier,
                    to_tier=RECYCLE,
                    reason=reasons[score.account_id],
                    fit=score.fit,
                    signal=score.signal,
                    unified=score.unified,
                    at=at,
                )
            )
            score.tier_since = at
            if score.tier == TIERS[0] and score.account_territory_id is not None:
                freed.add(score.account_territory_id)
        score.tier = RECYCLE
        score.flags = _recycled_flags(score.flags)
        changed.append(score)
    AccountScore.objects.bulk_update(changed, ["tier", "tier_since", "flags"], batch_size=500)
    TierChange.objects.bulk_create(moves, batch_size=500)
    tier_changes_recorded([move.pk for move in moves])
    if freed:
        capacity_changed(sorted(freed))
    return [move.account_id for move in moves]


def recycled_account_ids(*, since: dt.datetime):
    """The accounts sales sent back to Recycle at or after `since`: their MQA was rejected (or closed after a breach)
    and the decision moved them to Recycle at that moment (`accounts_recycle`). A queryset of ids, for a subquery."""
    moved_then = TierChange.objects.filter(
        account_id=OuterRef("account_id"), to_tier=RECYCLE, at=OuterRef("decided_at")
    )
    return (
        MQA.objects.filter(status__in=RECYCLING_STATUSES, decided_at__gte=since)
        .filter(Exists(moved_then))
        .values("account_id")
    )


def recycle_hold(model: ScoringModel, as_of: dt.datetime, account_ids: Iterable[int] | None = None) -> list[int]:
    """Put back in Recycle the accounts a rescore at `as_of` lifted out of it while their cooldown runs; returns
    their ids. Runs after the scores of `as_of` are stored (all of them, or those of `account_ids`), before the
    capacity and MQA passes."""
    since = as_of - dt.timedelta(days=model.rejection_cooldown_days)
    lifted = AccountScore.objects.filter(
        tier__in=TIERS, tier_since=as_of, account_id__in=recycled_account_ids(since=since)
    )
    if account_ids is not None:
        lifted = lifted.filter(account_id__in=list(account_ids))
    scores = list(lifted.order_by("account_id"))
    if not scores:
        return []
    ids = [score.account_id for score in scores]
    moments = {c.account_id: c for c in TierChange.objects.filter(account_id__in=ids, at=as_of).order_by("pk")}
    stints = dict(
        TierChange.objects.filter(account_id__in=ids, to_tier=RECYCLE, at__lt=as_of)
        .values("account_id")
        .annotate(at=Max("at"))
        .values_list("account_id", "at")
    )
    undone, rewritten, corrections = [], [], []
    for score in scores:
        moment = moments.get(score.account_id)
        if moment is not None:
            corrections.append(
                {"change": moment, "shown_tier": score.tier, "final_tier": RECYCLE, "reason": moment.reason,
                 "scores": (score.fit, score.signal, score.unified), "rewritten": moment.from_tier != RECYCLE}
            )  # fmt: skip
        if moment is not None and moment.from_tier == RECYCLE:
            undone.append(moment.pk)  # the lift is taken back: it stays where it was, since it got there
            score.tier_since = stints.get(score.account_id, as_of)
        elif moment is not None:  # it came from elsewhere (out of Suppress, a first placement): it lands in Recycle
            moment.to_tier = RECYCLE
            moment.reason = recycle_hold_reason(lifted_to=score.tier)
            rewritten.append(moment)
        score.tier = RECYCLE
        score.flags = _recycled_flags(score.flags)
    for correction in corrections:  # their events follow (the undone ones before their rows go)
        if not correction["rewritten"]:
            correction["reason"] = recycle_hold_reason(lifted_to=correction["shown_tier"])
            tier_change_corrected(**correction)
    TierChange.objects.filter(pk__in=undone).delete()
    TierChange.objects.bulk_update(rewritten, ["to_tier", "reason"], batch_size=500)
    for correction in corrections:
        if correction["rewritten"]:
            correction["reason"] = correction["change"].reason
            tier_change_corrected(**correction)
    AccountScore.objects.bulk_update(scores, ["tier", "tier_since", "flags"], batch_size=500)
    return ids
