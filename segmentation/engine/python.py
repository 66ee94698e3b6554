"""The engine's Python half (SQLite: the demo, a newcomer's tests): the pure rule, account by account."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.utils import timezone

from accounts.criteria import (
    VALUE_COLUMNS,
    account_values,
)
from accounts.models import Account, Signal

from ..events import surges_started, tier_changes_recorded
from ..models import AccountScore, ScoringModel, TierChange
from ..scoring import SignalEvent, compact_explanation, score_and_place
from ..tiers import PLACED, Standing
from .plan import SCORE_FIELDS, Plan, Row, Selection


def _events(plan: Plan, selection: Selection, as_of: dt.datetime) -> dict[int, list[SignalEvent]]:
    days = max(plan.params.lookback_days + plan.rules.surge_window_days, plan.params.engagement_window_days)
    signals = selection.filter(Signal.objects.all(), "account_id").filter(
        occurred_at__lte=as_of, occurred_at__gte=as_of - dt.timedelta(days=days)
    )
    events: dict[int, list[SignalEvent]] = {}
    # A fixed order: the same signals always sum to the same float, so a re-run writes nothing.
    rows = signals.order_by("account_id", "occurred_at", "id").values_list(
        "account_id", "kind", "occurred_at", "contact__persona", "contact_id"
    )
    for account_id, kind, occurred_at, persona, contact in rows:
        events.setdefault(account_id, []).append(SignalEvent(kind, occurred_at, persona, contact))
    return events


def standing_of(score: AccountScore | None, model: ScoringModel) -> Standing:
    if score is None:
        return Standing()
    return Standing(
        tier=score.tier,
        since=score.tier_since,
        surge_until=score.surge_until,
        flags=tuple(score.flags or ()),
        same_model=score.model_id == model.pk,
    )


def python_rows(plan: Plan, selection: Selection, as_of: dt.datetime) -> Iterator[Row]:
    events = _events(plan, selection, as_of)
    accounts = selection.filter(Account.objects.all()).order_by("pk").values(*VALUE_COLUMNS)
    for batch in _batches(accounts.iterator(chunk_size=2000), 2000):
        stored = {s.account_id: s for s in AccountScore.objects.filter(account_id__in=[v["id"] for v in batch])}
        for values in batch:
            standing = standing_of(stored.get(values["id"]), plan.model)
            result = score_and_place(
                plan.params, plan.rules, account_values(values), events.get(values["id"], ()), standing, as_of
            )
            score = result.score
            yield Row(
                values["id"],
                score.fit,
                score.signal,
                score.coverage,
                score.unified,
                result.signal_then,
                score.excluded,
                standing,
                result.placement,
                compact_explanation(score),
            )


def _batches(items, size: int):
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def python_store(plan: Plan, selection: Selection, as_of: dt.datetime) -> int:
    rows = list(python_rows(plan, selection, as_of))
    existing = {s.account_id: s for s in AccountScore.objects.filter(account_id__in=[r.account_id for r in rows])}
    now = timezone.now()
    changed, moves, surges = [], [], []
    for row in rows:
        old = existing.get(row.account_id)
        placement = row.placement
        if old is not None:
            if old.model_id == plan.model.pk and old.as_of > as_of:
                continue  # a newer score of the same model is already stored
            new_values = {
                "fit": row.fit,
                "signal": row.signal,
                "coverage": row.coverage,
                "unified": row.unified,
                "tier": placement.tier,
                "surge_until": placement.surge_until,
                "flags": list(placement.flags),
                **row.explanation,
            }
            if old.model_id == plan.model.pk and all(getattr(old, f) == new_values[f] for f in SCORE_FIELDS):
                continue  # nothing changes: the row keeps the moment it was computed at
        if row.recorded:  # a move, or its first placement
            moves.append(row.tier_change(plan, as_of))
        if placement.surge_until is not None and not (
            row.standing.surge_until is not None and row.standing.surge_until > as_of
        ):  # its surge begins
            surges.append((row.account_id, placement.surge_until, row.signal, placement.tier))
        changed.append(
            AccountScore(
                account_id=row.account_id,
                model_id=plan.model.pk,
                fit=row.fit,
                signal=row.signal,
                coverage=row.coverage,
                unified=row.unified,
                tier=placement.tier,
                tier_since=placement.since,
                surge_until=placement.surge_until,
                flags=list(placement.flags),
                **row.explanation,
                as_of=as_of,
                computed_at=now,
            )
        )
    AccountScore.objects.bulk_create(
        changed,
        update_conflicts=True,
        unique_fields=["account"],
        update_fields=["model", *SCORE_FIELDS, "tier_since", "as_of", "computed_at"],
        batch_size=500,
    )
    TierChange.objects.bulk_create(moves, batch_size=500)
    tier_changes_recorded([move.pk for move in moves if move.from_tier != PLACED])
    surges_started(surges, model=plan.model, at=as_of)
    return len(changed)
