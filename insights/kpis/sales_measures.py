"""The KPIs of what sales makes of the accounts: value, pipeline, MQAs and SAAs, wins, tiers, SLAs, rejections,
spend potential."""

from __future__ import annotations

from django.db.models import (
    Case,
    Count,
    F,
    FloatField,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from accounts.models import Account, Opportunity
from core.roles import is_admin, is_manager
from core.stats import (
    Moments,
    means_test,
    proportions_test,
)
from core.tiers import LABELS, ORDER, SUPPRESS
from handoffs.models import Handoff
from handoffs.selectors import sla_compliance
from segmentation.models import MQA, TierChange
from segmentation.tiers import PLACED
from territories.models import Quota
from territories.selectors import territory_ids_managed_by

from .score_measures import (
    _deals,
    _float,
    _per_account,
    _scores,
)
from .shapes import (
    KpiResult,
    Period,
    Row,
    correlation_result,
    grouped_rows,
    mean_row,
    ordered_rows,
    proportion_result,
    proportion_row,
    scoped,
)


def _clv(kpi, *, user, segment, period):
    won = scoped(
        Opportunity.objects.filter(Period(end=period.end).dates_q("closed_on"), is_won=True),
        user=user,
        prefix="account__",
    )
    accounts = scoped(Account.objects.all(), user=user, prefix="")
    grouped = [
        (key, label, Moments(n=agg["n"] or 0, total=agg["sy"] or 0.0, squares=agg["syy"] or 0.0))
        for key, label, agg in _per_account(
            accounts, "account", Value(0.0), won, Coalesce(_float(F("amount")), Value(0.0)), segment
        )
    ]
    total = Moments(
        n=sum(m.n for *_, m in grouped),
        total=sum(m.total for *_, m in grouped),
        squares=sum(m.squares for *_, m in grouped),
    )
    result = KpiResult(kpi=kpi, segment=segment, period=period, total=mean_row("", "All", total))
    if segment:
        result.rows = ordered_rows(segment, [mean_row(key, label, m) for key, label, m in grouped])
        result.test = means_test([m for *_, m in grouped], what="lifetime values")
    result.note = f"Customers with a won deal closed {Period(end=period.end).words()}."
    return result


def _quotas(user, period: Period) -> QuerySet[Quota]:
    quotas = Quota.objects.all()
    if period.start:
        quotas = quotas.filter(period_end__gte=period.start)
    if period.end:
        quotas = quotas.filter(period_start__lte=period.end)
    if is_admin(user):
        return quotas
    if is_manager(user):
        return quotas.filter(territory_id__in=sorted(territory_ids_managed_by(user=user)))
    return quotas.none()  # a rep's own pipeline is not a territory's: no quota to hold it against


def _coverage(pipeline: float, quota: float | None) -> float | None:
    return pipeline / quota if quota else None


NO_QUOTA = "No quota covers this period, so there is no coverage to show"


def _pipeline(kpi, *, user, segment, period):
    """Coverage (the figure, a multiple) = open pipeline / quota; the pipeline, its deals without an amount and the
    quota are the row's extras. No quota over the period: no figure, and the note says so."""
    open_deals = scoped(Opportunity.objects.filter(is_closed=False), user=user, prefix="account__")
    aggregates = {
        "n": Count("pk"),
        "pipeline": Coalesce(Sum(_float(F("amount"))), 0.0),
        "unvalued": Count("pk", filter=Q(amount__isnull=True)),
    }
    quotas = _quotas(user, period)
    quota_total = float(quotas.aggregate(t=Sum("amount"))["t"] or 0) or None

    def row(key, label, agg, quota):
        coverage = _coverage(agg["pipeline"], quota)
        return Row(
            key=key,
            label=label,
            n=agg["n"],
            value=coverage,
            extra={"pipeline": agg["pipeline"], "unvalued": agg["unvalued"], "quota": quota, "coverage": coverage},
        )

    result = KpiResult(
        kpi=kpi,
        segment=segment,
        period=period,
        total=row("", "All", open_deals.aggregate(**aggregates), quota_total),
        columns=[("pipeline", "Open pipeline"), ("unvalued", "Open deals without amount"), ("quota", "Quota")],
    )
    notes = []
    if quota_total is None:
        notes.append(
            NO_QUOTA
            + ("" if is_admin(user) or is_manager(user) else ": quotas are set per territory, not per rep")
            + "."
        )
    if segment:
        by_territory = {}
        if segment == "territory":
            for territory_id, amount in quotas.values_list("territory_id").annotate(t=Sum("amount")):
                by_territory[str(territory_id)] = float(amount)
        else:
            notes.append("Quotas are set per territory: split by territory for each one's coverage.")
        grouped = grouped_rows(open_deals, segment, "deal", aggregates)
        result.rows = ordered_rows(segment, [row(k, label, agg, by_territory.get(k)) for k, label, agg in grouped])
    result.note = " ".join(notes)
    return result


def _mqa_rate(kpi, *, user, segment, period):
    raised = MQA.objects.filter(period.moments_q("qualified_at")).values("account_id").distinct()
    return proportion_result(
        kpi,
        _scores(user),
        "score",
        segment,
        period,
        Count("pk", filter=Q(pk__in=raised)),
        Count("pk"),
        "MQA rates",
    )


def _saa_rate(kpi, *, user, segment, period):
    decided = scoped(
        MQA.objects.filter(period.moments_q("qualified_at"), status__in=[MQA.Status.ACCEPTED, MQA.Status.REJECTED]),
        user=user,
        prefix="account__",
    )
    return proportion_result(
        kpi,
        decided,
        "mqa",
        segment,
        period,
        Count("pk", filter=Q(status=MQA.Status.ACCEPTED)),
        Count("pk"),
        "acceptance rates",
    )


def _score_to_win(kpi, *, user, segment, period):
    closed = _deals(user, period, is_closed=True, account__score__isnull=False)
    won = Case(When(is_won=True, then=Value(1.0)), default=Value(0.0), output_field=FloatField())
    return correlation_result(kpi, closed, "deal", segment, period, _float(F("account__score__unified")), won)


def _win_rate(kpi, *, user, segment, period):
    closed = _deals(user, period, is_closed=True)
    return proportion_result(
        kpi, closed, "deal", segment, period, Count("pk", filter=Q(is_won=True)), Count("pk"), "win rates"
    )


def _shares(kpi, period, segment: str, counts: list[tuple[str, str, int]], header: str) -> KpiResult:
    """Each part's share of the whole, in percent with its interval (n is the whole); the whole, "All", is 100%."""
    n = sum(count for *_, count in counts)
    return KpiResult(
        kpi=kpi,
        segment=segment,
        period=period,
        total=Row("", "All", n, 100.0 if n else None, extra={"successes": n}),
        rows=[proportion_row(key, label, count, n) for key, label, count in counts],
        columns=[("successes", header)],
    )


def _tier_distribution(kpi, *, user, segment, period):
    counts = dict(_scores(user).values_list("tier").annotate(n=Count("pk")))
    return _shares(kpi, period, "tier", [(tier, LABELS[tier], counts.get(tier, 0)) for tier in ORDER], "Accounts")


def _tier_movement(kpi, *, user, segment, period):
    # Moves between tiers only: an account's first placement (from PLACED) is no move up or down.
    moves = scoped(
        TierChange.objects.filter(period.moments_q("at")).exclude(from_tier=PLACED), user=user, prefix="account__"
    )
    rows = []
    for source, target, n in moves.values_list("from_tier", "to_tier").annotate(n=Count("pk")):
        up = source != SUPPRESS and target != SUPPRESS and ORDER[target] < ORDER[source]
        rows.append(
            Row(
                key=f"{source}>{target}",
                label=f"{LABELS.get(source, source)} → {LABELS.get(target, target)}",
                n=n,
                value=n,
                extra={"direction": "up" if up else "down" if SUPPRESS not in (source, target) else ""},
            )
        )
    rows.sort(key=lambda r: (-r.n, r.label))
    total = sum(r.n for r in rows)
    return KpiResult(
        kpi=kpi,
        segment="move",
        period=period,
        total=Row("", "All", total, total),
        rows=rows,
        columns=[("direction", "Direction")],
    )


def _handoffs(user, period: Period) -> QuerySet[Handoff]:
    return scoped(Handoff.objects.filter(period.moments_q("assigned_at")), user=user, prefix="account__")


def _sla_compliance(kpi, *, user, segment, period):
    compliance = sla_compliance(handoffs=_handoffs(user, period))

    def row(r) -> Row:
        return proportion_row(r.key, r.label, r.on_time, r.measured, breached=r.breached, handoffs=r.handoffs)

    result = KpiResult(
        kpi=kpi,
        segment=segment,
        period=period,
        total=row(compliance.total),
        columns=[("successes", "On time"), ("breached", "Breached"), ("handoffs", "Handoffs")],
    )
    if segment:
        result.rows = [row(r) for r in (compliance.by_tier if segment == "tier" else compliance.by_owner)]
        result.test = proportions_test([(r.extra["successes"], r.n) for r in result.rows], what="compliance rates")
    return result


def _rejection_reasons(kpi, *, user, segment, period):
    rejected = _handoffs(user, period).filter(status=Handoff.Status.REJECTED)
    labels = dict(Handoff.Reason.choices)
    counts = [
        (reason, labels.get(reason, reason or "No reason"), count)
        for reason, count in rejected.values_list("reason").annotate(n=Count("pk"))
    ]
    counts.sort(key=lambda c: (-c[2], c[1]))
    return _shares(kpi, period, "reason", counts, "Rejections")


def _spend_potential(kpi, *, user, segment, period):
    from ..selectors import potential_grand_total, potential_totals

    accounts = scoped(Account.objects.all(), user=user, prefix="")
    grouped = potential_totals(accounts=accounts, group_by=segment or "territory")

    def row(r) -> Row:
        return Row(
            key=str(r["key"] if r["key"] is not None else ""),
            label=r["label"],
            n=r["accounts"],
            value=r["expected_value"],
            extra={"win_probability": None if r["win_probability"] is None else 100 * r["win_probability"]},
        )

    result = KpiResult(
        kpi=kpi,
        segment=segment,
        period=period,
        total=row(potential_grand_total(rows=grouped)),
        columns=[("win_probability", "Mean win probability %")],
    )
    if segment:
        result.rows = ordered_rows(segment, [row(r) for r in grouped])
    return result
