"""The KPIs of the scores themselves: engagement, accuracy, conversion by score band, ICP match."""

from __future__ import annotations

from django.db import connection
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

from accounts.models import Opportunity
from core.stats import (
    proportions_test,
)
from core.tiers import SUPPRESS
from segmentation.models import AccountScore, ScoringModel

from .definitions import BANDS, NONE_LABEL
from .shapes import (
    KpiResult,
    Period,
    correlation_note,
    correlation_row,
    mean_result,
    ordered_rows,
    proportion_result,
    proportion_row,
    scoped,
    segment_expr,
    segment_labels,
)


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
    # The accounts with a deal closed in the period, and those of them that won one. `IN (accounts)`: PostgreSQL
    # hashes each set of accounts once rather than probing per account (distinct, so a hash is never bigger than the
    # accounts; kpi_compute gives it the memory).
    closed = Opportunity.objects.filter(period.dates_q("closed_on"), is_closed=True)
    won = closed.filter(is_won=True).values("account_id").distinct()
    accounts = (
        _scores(user).filter(account_id__in=closed.values("account_id").distinct()).annotate(band=band_expr("unified"))
    )
    grouped = {
        row["band"]: row
        for row in accounts.values("band").annotate(s=Count("pk", filter=Q(account_id__in=won)), n=Count("pk"))
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


def icp_matches(fit: float, tier: str, min_fit: float | None) -> bool:
    """`icp_match_q` for one account's numbers."""
    return min_fit is not None and fit >= min_fit and tier != SUPPRESS


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
