"""Daily KPI snapshots, so trends can be charted: a few headline KPIs for everyone, each territory and each owner.

Each snapshot keeps a numerator and a denominator, so a manager's trend over several territories is the sum of
theirs, exactly (an account lies in one territory and has one owner).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Exists, F, FloatField, OuterRef, Q, QuerySet, Sum, Value
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from accounts.models import Account, Opportunity
from core.roles import is_admin, is_manager
from segmentation.models import MQA
from territories.selectors import territory_ids_managed_by

from .kpis import COUNT, PERCENT, SCORE, USD, icp_match_min_fit, icp_match_q, icp_matches
from .models import KpiSnapshot

TREND_DAYS = 90  # the days the dashboard charts


@dataclass(frozen=True)
class Trend:
    key: str
    name: str
    unit: str
    ratio: bool  # value = numerator / denominator (x100 for percents); else the numerator itself


TRENDS = {
    t.key: t
    for t in [
        Trend("engagement", "Account engagement index", SCORE, True),
        Trend("icp_match", "ICP match %", PERCENT, True),
        Trend("tier_1_share", "Tier 1 share", PERCENT, True),
        Trend("mqa_rate_30d", "MQA % (30 days)", PERCENT, True),
        Trend("saa_rate_30d", "SAA % (MQAs of the last 30 days)", PERCENT, True),
        Trend("win_rate_90d", "Win rate (deals closed in 90 days)", PERCENT, True),
        Trend("pipeline", "Open pipeline", USD, False),
        Trend("accounts", "Scored accounts", COUNT, False),
    ]
}


SCORE_TRENDS = ("engagement", "icp_match", "tier_1_share", "mqa_rate_30d", "accounts")  # read the accounts' scores


@dataclass(frozen=True)
class ScoreThen:
    """An account's score as it was on a past day (the stored scores are today's): what a back-fill of past days
    gives `kpi_snapshot_take` for the trends made from scores."""

    fit: float
    signal: float
    tier: str


def _float(expr):
    return Cast(expr, FloatField())


def _day_end(on: dt.date) -> dt.datetime:
    return dt.datetime.combine(on + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)


def _open_deals(on: dt.date, today: dt.date) -> QuerySet:
    """The deals open on `on`: today, those not closed; on a past day, those engaged by then (or, without an engage
    date, recorded by then) and not closed by then."""
    if on >= today:
        return Opportunity.objects.filter(is_closed=False).order_by()
    engaged = Q(engaged_on__lte=on) | Q(engaged_on__isnull=True, created_at__lt=_day_end(on))
    still_open = Q(is_closed=False) | Q(closed_on__gt=on)
    return Opportunity.objects.filter(engaged & still_open).order_by()


def _measures(on: dt.date, today: dt.date, *, from_scores: bool) -> list[tuple[str, QuerySet, str, dict]]:
    """(kpi, rows, path to the account, {"num": aggregate, "den": aggregate}) for every trend, as of `on`; without
    the trends made from scores when those come `from_scores` given by the caller."""
    if from_scores:
        return [m for m in _measures(on, today, from_scores=False) if m[0] not in SCORE_TRENDS]
    day_end = _day_end(on)
    scored = Account.objects.filter(score__isnull=False).order_by()
    recent = MQA.objects.filter(
        account_id=OuterRef("pk"), qualified_at__gte=day_end - dt.timedelta(days=30), qualified_at__lt=day_end
    )
    mqas = MQA.objects.filter(
        qualified_at__gte=day_end - dt.timedelta(days=30),
        qualified_at__lt=day_end,
        status__in=[MQA.Status.ACCEPTED, MQA.Status.REJECTED],
    ).order_by()
    closed = Opportunity.objects.filter(
        is_closed=True, closed_on__gt=on - dt.timedelta(days=90), closed_on__lte=on
    ).order_by()
    count = Count("pk")
    return [
        ("engagement", scored, "", {"num": Sum(_float(F("score__signal"))), "den": count}),
        ("icp_match", scored, "", {"num": Count("pk", filter=icp_match_q(icp_match_min_fit())), "den": count}),
        ("tier_1_share", scored, "", {"num": Count("pk", filter=Q(score__tier="tier_1")), "den": count}),
        (
            "mqa_rate_30d",
            scored.annotate(raised=Exists(recent)),
            "",
            {"num": Count("pk", filter=Q(raised=True)), "den": count},
        ),
        ("saa_rate_30d", mqas, "account__", {"num": Count("pk", filter=Q(status=MQA.Status.ACCEPTED)), "den": count}),
        ("win_rate_90d", closed, "account__", {"num": Count("pk", filter=Q(is_won=True)), "den": count}),
        # The open pipeline's amount over the deals that have one: with none (deals not valued yet), no figure.
        (
            "pipeline",
            _open_deals(on, today),
            "account__",
            {"num": Coalesce(Sum(_float(F("amount"))), Value(0.0)), "den": Count("amount")},
        ),
        ("accounts", scored, "", {"num": count, "den": count}),
    ]


def _score_groups(on: dt.date, scores: Mapping[int, ScoreThen]) -> dict[str, dict[tuple[str, int], list[float]]]:
    """The trends made from scores, from `scores` (each account's score on `on`): kpi -> (scope, id) -> [num, den]."""
    min_fit = icp_match_min_fit()
    day_end = _day_end(on)
    raised = set(
        MQA.objects.filter(
            account_id__in=list(scores),
            qualified_at__gte=day_end - dt.timedelta(days=30),
            qualified_at__lt=day_end,
        ).values_list("account_id", flat=True)
    )
    parts = {
        "engagement": lambda pk, s: s.signal,
        "icp_match": lambda pk, s: float(icp_matches(s.fit, s.tier, min_fit)),
        "tier_1_share": lambda pk, s: float(s.tier == "tier_1"),
        "mqa_rate_30d": lambda pk, s: float(pk in raised),
        "accounts": lambda pk, s: 1.0,
    }
    groups: dict[str, dict[tuple[str, int], list[float]]] = {kpi: defaultdict(lambda: [0.0, 0.0]) for kpi in parts}
    placed = Account.objects.filter(pk__in=list(scores)).values_list("pk", "territory_id", "owner_id")
    for pk, territory_id, owner_id in placed.iterator(chunk_size=2000):
        keys = [(KpiSnapshot.Scope.ALL, 0)]
        if territory_id:
            keys.append((KpiSnapshot.Scope.TERRITORY, territory_id))
        if owner_id:
            keys.append((KpiSnapshot.Scope.OWNER, owner_id))
        for kpi, part in parts.items():
            value = part(pk, scores[pk])
            for key in keys:
                groups[kpi][key][0] += value
                groups[kpi][key][1] += 1
    return groups


def kpi_snapshot_take(*, on: dt.date | None = None, scores: Mapping[int, ScoreThen] | None = None) -> int:
    """Record the trends for `on` (today by default) for everyone, each territory and each owner. Taking the same
    day again replaces it, so the job is safe to re-run. Returns the number of snapshots written.

    Deals, MQAs and handoffs are read as they stood on `on`. The trends made from scores read the stored scores,
    which are today's; for a past day, `scores` gives each account's score as it was then (see ScoreThen)."""
    on = on or timezone.localdate()
    return kpi_snapshots_take(days=[(on, scores)])


def kpi_snapshots_take(*, days: Iterable[tuple[dt.date, Mapping[int, ScoreThen] | None]]) -> int:
    """`kpi_snapshot_take` for several days at once (a back-fill of past days): each (day, its scores or None);
    the days are replaced together, in one transaction. Returns the number of snapshots written."""
    today = timezone.localdate()
    rows: list[KpiSnapshot] = []
    taken = []
    for on, scores in days:
        taken.append(on)
        rows.extend(_day_rows(on, today, scores))
    with transaction.atomic():
        KpiSnapshot.objects.filter(on__in=taken).delete()
        KpiSnapshot.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def _day_rows(on: dt.date, today: dt.date, scores: Mapping[int, ScoreThen] | None) -> list[KpiSnapshot]:
    rows: list[KpiSnapshot] = []
    for kpi, qs, to_account, aggregates in _measures(on, today, from_scores=scores is not None):
        total = qs.aggregate(**aggregates)
        rows.append(_snapshot(on, kpi, KpiSnapshot.Scope.ALL, 0, total))
        for scope, column in ((KpiSnapshot.Scope.TERRITORY, "territory_id"), (KpiSnapshot.Scope.OWNER, "owner_id")):
            path = f"{to_account}{column}"
            for group in qs.filter(**{f"{path}__isnull": False}).values(path).annotate(**aggregates):
                rows.append(_snapshot(on, kpi, scope, group[path], group))
    if scores is not None:
        for kpi, groups in _score_groups(on, scores).items():
            for (scope, scope_id), (num, den) in groups.items():
                rows.append(_snapshot(on, kpi, scope, scope_id, {"num": num, "den": den}))
    return rows


def _snapshot(on, kpi, scope, scope_id, agg) -> KpiSnapshot:
    return KpiSnapshot(
        on=on,
        kpi=kpi,
        scope=scope,
        scope_id=scope_id,
        numerator=float(agg["num"] or 0),
        denominator=float(agg["den"] or 0),
    )


def _scope_filter(user) -> Q | None:
    """The snapshots that make up `user`'s trend: everyone's for an admin, their territories' for a manager, their
    own accounts' for a rep (None: nothing)."""
    if is_admin(user):
        return Q(scope=KpiSnapshot.Scope.ALL)
    if is_manager(user):
        return Q(scope=KpiSnapshot.Scope.TERRITORY, scope_id__in=sorted(territory_ids_managed_by(user=user)))
    if user.is_authenticated:
        return Q(scope=KpiSnapshot.Scope.OWNER, scope_id=user.pk)
    return None


def _trend_value(trend: Trend, num: float, den: float) -> float | None:
    if not den:
        return None  # nothing to measure that day (no scored account, no closed deal, no valued open deal...)
    if not trend.ratio:
        return num
    return (100 if trend.unit == PERCENT else 1) * num / den


def kpi_trends(
    *, user, days: int = TREND_DAYS, today: dt.date | None = None
) -> dict[str, list[tuple[dt.date, float | None]]]:
    """Each trend's daily values over the last `days` days for what `user` may see, oldest first; days without a
    snapshot are left out."""
    today = today or timezone.localdate()
    q = _scope_filter(user)
    series: dict[str, dict[dt.date, list[float]]] = defaultdict(dict)
    if q is not None:
        snapshots = (
            KpiSnapshot.objects.filter(q, on__gt=today - dt.timedelta(days=days), on__lte=today)
            .values("kpi", "on")
            .annotate(num=Sum("numerator"), den=Sum("denominator"))
            .order_by("on")
        )
        for s in snapshots:
            series[s["kpi"]][s["on"]] = [s["num"], s["den"]]
    out = {}
    for key, trend in TRENDS.items():
        points = []
        for on, (num, den) in sorted(series.get(key, {}).items()):
            points.append((on, _trend_value(trend, num, den)))
        out[key] = points
    return out
