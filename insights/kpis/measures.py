"""The KPIs themselves: one function each, over the user's scope, a segment and a period."""

from __future__ import annotations

from contextlib import contextmanager

from django.db import connection, transaction
from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    FloatField,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce

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
from segmentation.models import MQA, AccountScore, ScoringModel, TierChange
from territories.models import Quota
from territories.selectors import territory_ids_managed_by

from .definitions import BANDS, KPIS, NONE_LABEL
from .shapes import (
    KpiResult,
    Period,
    Row,
    correlation_note,
    correlation_result,
    correlation_row,
    grouped_rows,
    mean_result,
    mean_row,
    ordered_rows,
    proportion_result,
    proportion_row,
    scoped,
    segment_expr,
    segment_labels,
)

# --- the KPIs -------------------------------------------------------------------------------------------------------


def _scores(user) -> QuerySet[AccountScore]:
    """The scored accounts in the user's scope, as their score rows: the account-level KPIs read these, so an
    admin's totals scan the scores alone and join the accounts only to scope or split them."""
    return scoped(AccountScore.objects.all(), user=user, prefix="account__")


def _deals(user, period: Period, **filters) -> QuerySet[Opportunity]:
    return scoped(Opportunity.objects.filter(**filters), user=user, prefix="account__").filter(
        period.dates_q("closed_on") if filters.get("is_closed") else Q()
    )


def _float(expr) -> Cast:
    return Cast(expr, FloatField())


def _engagement(kpi, *, user, segment, period):
    return mean_result(kpi, _scores(user), "score", segment, period, _float(F("signal")), "engagement")


SUMS = ("n", "sx", "sy", "sxx", "syy", "sxy")


def _per_account(accounts: QuerySet, base: str, x, deals: QuerySet, y, segment: str) -> list[tuple[str, str, dict]]:
    """The six correlation sums of (x, y) over the accounts that have `deals`, by segment: x an expression on the
    (scoped) `accounts`, y one summed over each account's `deals`.

    Set-based: the deals are first added up per account, then joined to the accounts (a hash join), where a
    subquery per account would look up a million accounts one by one.
    """
    with_key = accounts.annotate(
        segment_key=segment_expr(segment, base) if segment else Value("", output_field=CharField()),
        x=_float(x),
    ).values("segment_key", "x", account_key=F("pk"))
    per_account = deals.order_by().values(account_key=F("account_id")).annotate(y=Sum(_float(y)))
    accounts_sql, accounts_params = with_key.query.sql_with_params()
    deals_sql, deals_params = per_account.query.sql_with_params()
    # Both inner statements are compiled by the ORM with their values kept apart as parameters.
    select = "SELECT a.segment_key, COUNT(*), SUM(a.x), SUM(d.y), SUM(a.x * a.x), SUM(d.y * d.y), SUM(a.x * d.y)"
    joined = f"FROM ({accounts_sql}) a JOIN ({deals_sql}) d ON d.account_key = a.account_key GROUP BY a.segment_key"
    sql = f"{select} {joined}"  # noqa: S608  # nosec B608
    with connection.cursor() as cursor:
        cursor.execute(sql, [*accounts_params, *deals_params])
        found = cursor.fetchall()
    labels = segment_labels(segment, [row[0] for row in found]) if segment else {}
    return [
        ("" if key is None else str(key), labels.get(key, NONE_LABEL), dict(zip(SUMS, values, strict=True)))
        for key, *values in found
    ]


def _summed(grouped: list[tuple[str, str, dict]]) -> dict:
    return {name: sum(agg[name] or 0 for _, _, agg in grouped) for name in SUMS}


def _accuracy(kpi, *, user, segment, period):
    # The deals scoped too, so a rep's figure adds up their accounts' deals only, not everyone's.
    closed = scoped(
        Opportunity.objects.filter(period.dates_q("closed_on"), is_closed=True), user=user, prefix="account__"
    )
    amount = Coalesce(_float(F("amount")), Value(0.0))
    won_amount = Case(When(is_won=True, then=amount), default=Value(0.0), output_field=FloatField())
    grouped = _per_account(_scores(user), "score", F("unified"), closed, won_amount, segment)
    result = KpiResult(kpi=kpi, segment=segment, period=period, total=correlation_row("", "All", _summed(grouped)))
    if segment:
        result.rows = ordered_rows(segment, [correlation_row(key, label, agg) for key, label, agg in grouped])
    result.note = correlation_note(result.total)
    return result


def band_expr(field_name: str = "score__unified") -> Case:
    """The unified score's band as its label ("0-20" ... "80-100"; 100 falls in the top band)."""
    whens = [When(**{f"{field_name}__lt": high}, then=Value(f"{low}-{high}")) for low, high in BANDS[:-1]]
    low, high = BANDS[-1]
    return Case(*whens, default=Value(f"{low}-{high}"), output_field=CharField())


def _conversion(kpi, *, user, segment, period):
    # `pk IN (won accounts)`: PostgreSQL hashes the won accounts once rather than probing per account (distinct,
    # so the hash is never bigger than the accounts; kpi_compute gives it the memory).
    won = Opportunity.objects.filter(period.dates_q("closed_on"), is_won=True).values("account_id").distinct()
    accounts = _scores(user).annotate(band=band_expr("unified"))
    grouped = {
        row["band"]: row for row in accounts.values("band").annotate(s=Count("pk", filter=Q(pk__in=won)), n=Count("pk"))
    }
    rows = [
        proportion_row(label, label, grouped.get(label, {}).get("s", 0), grouped.get(label, {}).get("n", 0))
        for label in (f"{low}-{high}" for low, high in BANDS)
    ]
    total = proportion_row("", "All", sum(r.extra["successes"] for r in rows), sum(r.n for r in rows))
    return KpiResult(
        kpi=kpi,
        segment="band",
        period=period,
        total=total,
        rows=rows,
        test=proportions_test([(r.extra["successes"], r.n) for r in rows], what="conversion rates"),
        columns=[("successes", "Converted")],
    )


def icp_match_min_fit() -> float | None:
    model = ScoringModel.objects.filter(status=ScoringModel.Status.ACTIVE).only("tier2_min_fit").first()
    return model.tier2_min_fit if model else None


def icp_match_q(min_fit: float | None, prefix: str = "score__") -> Q:
    if min_fit is None:
        return Q(pk__in=[])
    return Q(**{f"{prefix}fit__gte": min_fit}) & ~Q(**{f"{prefix}tier": SUPPRESS})


def _icp_match(kpi, *, user, segment, period):
    min_fit = icp_match_min_fit()
    result = proportion_result(
        kpi,
        _scores(user),
        "score",
        segment,
        period,
        Count("pk", filter=icp_match_q(min_fit, prefix="")),
        Count("pk"),
        "match rates",
    )
    result.note = (
        f"Matching: fit of {min_fit:g} or more (the active model's Tier 2 minimum fit) and not suppressed."
        if min_fit is not None
        else "No scoring model is active, so no account matches yet."
    )
    return result


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


def _pipeline(kpi, *, user, segment, period):
    open_deals = scoped(Opportunity.objects.filter(is_closed=False), user=user, prefix="account__")
    aggregates = {
        "n": Count("pk"),
        "pipeline": Coalesce(Sum(_float(F("amount"))), 0.0),
        "unvalued": Count("pk", filter=Q(amount__isnull=True)),
    }
    quotas = _quotas(user, period)
    quota_total = float(quotas.aggregate(t=Sum("amount"))["t"] or 0) or None

    def row(key, label, agg, quota):
        return Row(
            key=key,
            label=label,
            n=agg["n"],
            value=agg["pipeline"],
            extra={"unvalued": agg["unvalued"], "quota": quota, "coverage": _coverage(agg["pipeline"], quota)},
        )

    result = KpiResult(
        kpi=kpi,
        segment=segment,
        period=period,
        total=row("", "All", open_deals.aggregate(**aggregates), quota_total),
        columns=[("unvalued", "Open deals without amount"), ("quota", "Quota"), ("coverage", "Coverage")],
    )
    if segment:
        by_territory = {}
        if segment == "territory":
            for territory_id, amount in quotas.values_list("territory_id").annotate(t=Sum("amount")):
                by_territory[str(territory_id)] = float(amount)
        grouped = grouped_rows(open_deals, segment, "deal", aggregates)
        result.rows = ordered_rows(segment, [row(k, label, agg, by_territory.get(k)) for k, label, agg in grouped])
    if quota_total is None:
        result.note = (
            "No quota overlaps this period"
            + ("" if is_admin(user) or is_manager(user) else " for you: quotas are set per territory")
            + ", so coverage cannot be measured."
        )
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


def _tier_distribution(kpi, *, user, segment, period):
    counts = dict(_scores(user).values_list("tier").annotate(n=Count("pk")))
    n = sum(counts.values())
    rows = [
        Row(key=tier, label=LABELS[tier], n=counts.get(tier, 0), value=100 * counts.get(tier, 0) / n if n else None)
        for tier in ORDER
    ]
    return KpiResult(kpi=kpi, segment="tier", period=period, total=Row("", "All", n, n), rows=rows)


def _tier_movement(kpi, *, user, segment, period):
    moves = scoped(TierChange.objects.filter(period.moments_q("at")), user=user, prefix="account__")
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
    counts = rejected.values_list("reason").annotate(n=Count("pk"))
    n = sum(count for _, count in counts)
    rows = [
        Row(key=reason, label=labels.get(reason, reason or "No reason"), n=count, value=100 * count / n)
        for reason, count in counts
    ]
    rows.sort(key=lambda r: (-r.n, r.label))
    return KpiResult(kpi=kpi, segment="reason", period=period, total=Row("", "All", n, n), rows=rows)


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


COMPUTE = {
    "engagement": _engagement,
    "accuracy": _accuracy,
    "conversion": _conversion,
    "icp_match": _icp_match,
    "clv": _clv,
    "pipeline": _pipeline,
    "mqa_rate": _mqa_rate,
    "saa_rate": _saa_rate,
    "score_to_win": _score_to_win,
    "win_rate": _win_rate,
    "tier_distribution": _tier_distribution,
    "tier_movement": _tier_movement,
    "sla_compliance": _sla_compliance,
    "rejection_reasons": _rejection_reasons,
    "spend_potential": _spend_potential,
}


def kpi_compute(*, key: str, user, segment: str = "", period: Period | None = None) -> KpiResult:
    """One KPI for what `user` may see, by `segment` (one of the KPI's segments; "" for its total, or its fixed
    breakdown if it has one)."""
    kpi = KPIS[key]
    if segment and segment not in kpi.segments:
        raise ValueError(f"{kpi.name} cannot be split by {segment}; choose one of: {', '.join(kpi.segments)}.")
    with kpi_memory():
        return COMPUTE[key](kpi, user=user, segment=segment, period=period or Period())


KPI_WORK_MEM = "64MB"


@contextmanager
def kpi_memory():
    """A transaction whose queries may hash every account at once (PostgreSQL's `work_mem`, for it only).

    A KPI that counts the accounts found in a set (won deals, MQAs) lets PostgreSQL hash that set once; with the
    server's default memory it falls back, past a few hundred thousand accounts, to scanning the set again for
    every account, and an all-time dashboard at a million accounts would take hours instead of seconds.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL work_mem = %s", [KPI_WORK_MEM])
        yield


def kpi_overview(*, user, period: Period | None = None) -> list[KpiResult]:
    """Every KPI's total (with its fixed breakdown where it has one) for the dashboard."""
    return [kpi_compute(key=key, user=user, period=period) for key in KPIS]
