"""The demo's past: daily KPI snapshots back-filled from its dated history, so the dashboard's trends have points the
day the demo is loaded.

A day's snapshot reads the deals, MQAs and handoffs as they stood that day (insights/snapshots.py). The trends made
from scores need each account's score as it was that day: the active model scores the demo's accounts from the
signals known at the end of each day, as it scored them when the demo published it. Written for the demo's size (85
accounts): it scores in Python.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterator
from dataclasses import replace

from django.utils import timezone

from accounts.criteria import VALUE_COLUMNS, account_values
from accounts.models import Account, Signal
from core.tiers import TIERS
from insights.models import KpiSnapshot
from insights.snapshots import TREND_DAYS, ScoreThen, kpi_snapshots_take
from segmentation.engine import Plan
from segmentation.scoring import SignalEvent, score_and_place
from segmentation.selectors import active_model
from segmentation.services.qualify import tier1_capacities
from segmentation.tiers import Standing

TIER_1, TIER_2 = TIERS[0], TIERS[1]


def _end_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)


def scores_by_day(days: list[dt.date]) -> Iterator[tuple[dt.date, dict[int, ScoreThen]]]:
    """Each account's score at the end of each of `days` (oldest first) under the active model, from the signals
    known then, placed as the model places an account it scores for the first time (as it did every demo account
    when the demo published it today), Tier 1 held to each territory's capacity; nothing without an active model."""
    model = active_model()
    if model is None or not days:
        return
    plan = Plan.of(model)
    start = _end_of(days[0]) - dt.timedelta(
        days=max(plan.params.lookback_days + plan.rules.surge_window_days, plan.params.engagement_window_days)
    )
    events: dict[int, list[SignalEvent]] = {}
    signals = Signal.objects.filter(occurred_at__gte=start, occurred_at__lt=_end_of(days[-1]))
    rows = signals.order_by("account_id", "occurred_at", "id").values_list(
        "account_id", "kind", "occurred_at", "contact__persona", "contact_id"
    )
    for account_id, kind, occurred_at, persona, contact in rows:
        events.setdefault(account_id, []).append(SignalEvent(kind, occurred_at, persona, contact))
    moments = {pk: [e.occurred_at for e in found] for pk, found in events.items()}
    rows = list(Account.objects.order_by("pk").values(*VALUE_COLUMNS, "territory_id"))
    accounts = [(values["id"], account_values(values)) for values in rows]
    territory_of = {values["id"]: values["territory_id"] for values in rows}
    capacities = tier1_capacities()
    for day in days:
        as_of = _end_of(day)
        unified, scores = {}, {}
        for pk, values in accounts:
            known = events.get(pk, [])[: bisect.bisect_right(moments.get(pk, []), as_of)]
            result = score_and_place(plan.params, plan.rules, values, known, Standing(), as_of)
            unified[pk] = result.score.unified
            scores[pk] = ScoreThen(fit=result.score.fit, signal=result.score.signal, tier=result.placement.tier)
        _hold_to_capacity(capacities, territory_of, unified, scores)
        yield day, scores


def _hold_to_capacity(capacities, territory_of, unified, scores) -> None:
    """The tiers' rule 6 as segmentation's capacity pass applies it to first placements: in a territory with a Tier 1
    limit, the best-scoring Tier 1 accounts keep Tier 1 and the rest are held at Tier 2."""
    for territory_id, places in capacities.items():
        pool = [pk for pk, held_in in territory_of.items() if held_in == territory_id and scores[pk].tier == TIER_1]
        for pk in sorted(pool, key=lambda pk: (-unified[pk], pk))[places:]:
            scores[pk] = replace(scores[pk], tier=TIER_2)


def backfill_snapshots(*, days: int = TREND_DAYS, today: dt.date | None = None) -> int:
    """Snapshots for the past days of the trends' window that have none (a day the nightly job recorded is kept as
    it is); returns how many days were back-filled. Loading the demo again finds them there and writes nothing."""
    today = today or timezone.localdate()
    window = [today - dt.timedelta(days=n) for n in range(days - 1, 0, -1)]
    recorded = set(KpiSnapshot.objects.filter(on__in=window).values_list("on", flat=True).distinct())
    missing = [day for day in window if day not in recorded]
    if not missing:
        return 0
    # Replayed from the first missing day on, so each day's tiers follow from the days before it.
    replayed = [d for d in window if d >= missing[0]]
    days_filled = [(day, scores) for day, scores in scores_by_day(replayed) if day not in recorded]
    kpi_snapshots_take(days=days_filled)
    return len(days_filled)
