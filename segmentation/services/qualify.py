"""After scores are stored: Tier 1 capacity per territory (tiers rule 6), then MQAs (the MQA rule).

Both passes read and write the stored scores only, so they run after a whole rescore job (every slice done) or
after an incremental batch, and are idempotent: run twice at the same moment, the second changes nothing.

- Capacity: a territory's Tier 1 holds at most the sum of its active reps' Tier 1 capacity (a rep without one
  sets no limit). Among its accounts placed in Tier 1, or held at Tier 2 by capacity, the best by unified score
  (then the oldest account) keep or get the places; the rest are held at Tier 2, flagged "capacity".
- MQA: an account becomes an MQA when it has just entered one of the model's MQA tiers (its tier changed at this
  moment into one of them, from another MQA tier too: Tier 2 -> Tier 1 with signal enough now, after entering Tier 2
  with too little; or it was placed in one for the first time) with signal >= mqa_signal_min, and is not an MQA
  already: no open MQA, none rejected within rejection_cooldown_days. The open-MQA unique constraint makes it once.
  Once committed, the handoffs app is woken to hand each new MQA to its account's owner (MQAS_RAISED_TASK); its
  minute sweep hands over any open MQA still without a handoff, so a lost wake-up only delays the handoff.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import CharField, DateTimeField, Exists, OuterRef, Q, Sum, Value

from accounts.models import Account
from core.queues import wake_after_commit
from core.tiers import TIERS
from territories.models import Membership, Territory

from ..events import mqas_raised, tier_change_corrected, tier_changes_recorded
from ..models import MQA, AccountScore, ScoringModel, TierChange
from ..tiers import CAPACITY, PLACED, capacity_reason
from .recycle import recycle_hold

# The task that hands new MQAs to their owners: the handoffs app registers it under this name.
MQAS_RAISED_TASK = "segmentation.mqas_raised"
TIER_1, TIER_2 = TIERS[0], TIERS[1]


def after_scoring(
    model: ScoringModel,
    as_of: dt.datetime,
    account_ids: Iterable[int] | None = None,
    *,
    territory_ids: Iterable[int] | None = None,
) -> list[int]:
    """The capacity pass, then the MQA pass, for every account (account_ids None), for those accounts, or for the
    territories `territory_ids` alone (their memberships changed); returns the new MQAs' ids."""
    ids = None if account_ids is None else sorted(set(account_ids))
    with transaction.atomic():
        if territory_ids is not None:
            ids = capacity_pass(model, as_of, territory_ids=territory_ids)
        else:
            recycle_hold(model, as_of, ids)  # sent back by sales within the cooldown: kept in Recycle (recycle.py)
            if ids is not None:
                territory_ids = set(
                    Account.objects.filter(pk__in=ids, territory__isnull=False).values_list("territory_id", flat=True)
                )
            capacity_pass(model, as_of, territory_ids=territory_ids)
        raised = mqa_pass(model, as_of, account_ids=ids) if ids is None or ids else []
        if raised:
            wake_after_commit(MQAS_RAISED_TASK, raised)
    return raised


def tier1_capacities(territory_ids: Iterable[int] | None = None) -> dict[int, int]:
    """{territory id: Tier 1 places} for the territories with a limit (every active rep has a Tier 1 capacity)."""
    reps = Membership.objects.filter(is_active=True, role=Membership.Role.REP, territory__is_active=True)
    if territory_ids is not None:
        reps = reps.filter(territory_id__in=list(territory_ids))
    unlimited = set(reps.filter(max_tier1_accounts__isnull=True).values_list("territory_id", flat=True))
    totals = reps.values("territory_id").annotate(places=Sum("max_tier1_accounts")).order_by()
    return {row["territory_id"]: row["places"] or 0 for row in totals if row["territory_id"] not in unlimited}


def capacity_pass(model: ScoringModel, as_of: dt.datetime, *, territory_ids: Iterable[int] | None = None) -> list[int]:
    """Hold the overflow of each limited territory's Tier 1 at Tier 2 and release held accounts when places free
    up; returns the accounts moved."""
    capacities = tier1_capacities(territory_ids)
    if not capacities:
        return []
    names = dict(Territory.objects.filter(pk__in=capacities).values_list("pk", "name"))
    # One capacity pass per territory at a time: a full rescore's and an incremental one's never interleave.
    list(Territory.objects.select_for_update().filter(pk__in=capacities).order_by("pk").values_list("pk"))
    moved = []
    for territory_id, places in sorted(capacities.items()):
        pool = list(
            AccountScore.objects.filter(model=model, account__territory_id=territory_id)
            .filter(Q(tier=TIER_1) | Q(tier=TIER_2, flags__has=CAPACITY))
            .order_by("-unified", "account_id")
        )
        for position, score in enumerate(pool):
            held = position >= places
            if held and score.tier == TIER_1:
                _move(score, TIER_2, [*score.flags, CAPACITY], names[territory_id], places, as_of, held=True)
                moved.append(score.account_id)
            elif not held and score.tier == TIER_2:
                _move(score, TIER_1, [f for f in score.flags if f != CAPACITY], names[territory_id], places, as_of)
                moved.append(score.account_id)
    return moved


def _move(score: AccountScore, tier: str, flags: list[str], territory: str, places: int, as_of, held=False) -> None:
    reason = capacity_reason(territory, places, unified=score.unified, held=held)
    # A move into Tier 1 made by this same rescore is corrected rather than followed by a second move back; a first
    # placement in Tier 1 at this moment becomes a placement in its final tier.
    same_moment = TierChange.objects.filter(account_id=score.account_id, at=as_of, to_tier=score.tier).first()
    scores = (score.fit, score.signal, score.unified)
    correction = {"shown_tier": score.tier, "final_tier": tier, "reason": reason, "scores": scores}
    if same_moment is not None and same_moment.from_tier == tier:
        tier_change_corrected(change=same_moment, rewritten=False, **correction)
        same_moment.delete()
    elif same_moment is not None:
        placed = same_moment.from_tier == PLACED
        same_moment.to_tier = tier
        same_moment.reason = capacity_reason(territory, places, unified=score.unified, held=held, placed=placed)
        same_moment.save(update_fields=["to_tier", "reason"])
        tier_change_corrected(change=same_moment, rewritten=True, **correction)
    else:
        change = TierChange.objects.create(
            account_id=score.account_id,
            model_id=score.model_id,
            from_tier=score.tier,
            to_tier=tier,
            reason=reason,
            fit=score.fit,
            signal=score.signal,
            unified=score.unified,
            at=as_of,
        )
        tier_changes_recorded([change.pk])
    AccountScore.objects.filter(pk=score.pk).update(tier=tier, flags=sorted(set(flags)), tier_since=as_of)


def mqa_pass(model: ScoringModel, as_of: dt.datetime, *, account_ids: list[int] | None = None) -> list[int]:
    """Raise the MQAs the rule asks for at this moment; returns their ids."""
    tiers = [t for t in (model.mqa_tiers or []) if t in TIERS]
    if not tiers:
        return []
    scores = AccountScore.objects.filter(
        model=model, tier__in=tiers, tier_since=as_of, signal__gte=model.mqa_signal_min
    )
    if account_ids is not None:
        scores = scores.filter(account_id__in=account_ids)
    cooldown = as_of - dt.timedelta(days=model.rejection_cooldown_days)
    scores = scores.exclude(
        Exists(MQA.objects.filter(account_id=OuterRef("account_id"), status=MQA.Status.OPEN))
    ).exclude(
        Exists(
            MQA.objects.filter(account_id=OuterRef("account_id"), status=MQA.Status.REJECTED, decided_at__gte=cooldown)
        )
    )
    select = scores.order_by().values_list(
        "account_id",
        "model_id",
        Value(as_of, output_field=DateTimeField()),
        "tier",
        "fit",
        "signal",
        "coverage",
        "unified",
        Value(MQA.Status.OPEN.value, output_field=CharField()),
    )
    sql, params = select.query.sql_with_params()
    columns = "account_id, model_id, qualified_at, tier, fit, signal, coverage, unified, status"
    table = MQA._meta.db_table
    if connection.vendor == "postgresql":
        statement = f"INSERT INTO {table} ({columns}) {sql} ON CONFLICT DO NOTHING RETURNING id"  # noqa: S608
    else:
        statement = f"INSERT OR IGNORE INTO {table} ({columns}) {sql} RETURNING id"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        raised = sorted(row[0] for row in cursor.fetchall())
    mqas_raised(raised)
    return raised


def mqas_decide(*, mqa_ids: Iterable[int], status: str, at: dt.datetime) -> int:
    """Record what sales did with MQAs: accepted, rejected (the MQA rule's cooldown starts `at`), or closed (recycled
    unworked after a breach). Returns how many changed."""
    if status not in (MQA.Status.ACCEPTED, MQA.Status.REJECTED, MQA.Status.CLOSED):
        raise ValueError(f"An MQA is decided as accepted, rejected or closed, not {status!r}.")
    return MQA.objects.filter(pk__in=list(mqa_ids)).update(status=status, decided_at=at)
