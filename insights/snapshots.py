"""Daily KPI snapshots, so trends can be charted: a few headline KPIs for everyone, each territory and each owner.

Each snapshot keeps a numerator and a denominator, so a manager's trend over several territories is the sum of
theirs, exactly (an account lies in one territory and has one owner).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Exists, F, FloatField, OuterRef, Q, QuerySet, Sum, Value
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from accounts.models import Account, Opportunity
from core.roles import is_admin, is_manager
from segmentation.models import MQA
from territories.selectors import territory_ids_managed_by

from .kpis import COUNT, PERCENT, SCORE, USD, icp_match_min_fit, icp_match_q
from .models import KpiSnapshot


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


def _float(expr):
    return Cast(expr, FloatField())


def _measures(on: dt.date) -> list[tuple[str, QuerySet, str, dict]]:
    """(kpi, rows, path to the account, {"num": aggregate, "den": aggregate}) for every trend, as of `on`."""
    day_end = dt.datetime.combine(on + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
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
    open_deals = Opportunity.objects.filter(is_closed=False).order_by()
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
        ("pipeline", open_deals, "account__", {"num": Coalesce(Sum(_float(F("amount"))), Value(0.0)), "den": count}),
        ("accounts", scored, "", {"num": count, "den": count}),
    ]


def kpi_snapshot_take(*, on: dt.date | None = None) -> int:
    """Record the trends for `on` (today by default) for everyone, each territory and each owner. Taking the same
    day again replaces it, so the job is safe to re-run. Returns the number of snapshots written."""
    on = on or timezone.localdate()
    rows: list[KpiSnapshot] = []
    for kpi, qs, to_account, aggregates in _measures(on):
        total = qs.aggregate(**aggregates)
        rows.append(_snapshot(on, kpi, KpiSnapshot.Scope.ALL, 0, total))
        for scope, column in ((KpiSnapshot.Scope.TERRITORY, "territory_id"), (KpiSnapshot.Scope.OWNER, "owner_id")):
            path = f"{to_account}{column}"
            for group in qs.filter(**{f"{path}__isnull": False}).values(path).annotate(**aggregates):
                rows.append(_snapshot(on, kpi, scope, group[path], group))
    with transaction.atomic():
        KpiSnapshot.objects.filter(on=on).delete()
        KpiSnapshot.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


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
    if not trend.ratio:
        return num
    if not den:
        return None
    return (100 if trend.unit == PERCENT else 1) * num / den


def kpi_trends(*, user, days: int = 90, today: dt.date | None = None) -> dict[str, list[tuple[dt.date, float | None]]]:
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
