"""The KPIs (SPEC section 6, seed 000): one definition each, computed in the database with aggregates.

Every KPI is one of three shapes, each with a sample size, a 95% interval and, across segments, a test of whether the
segments differ at all (segmentation/stats.py):
- a proportion (successes of n): Wilson interval, χ² test of homogeneity;
- a mean (n, Σx, Σx²): t interval, one-way ANOVA;
- a correlation (the six sums of Pearson's r): Fisher-z interval, significant when it leaves out 0.
Each is computed with one aggregate query for its segment rows and one for the total. Scope (SPEC section 1, KPIs
row): an admin counts every account, a manager the accounts of the territories they manage (and below), a rep the
accounts they own.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.db import connection
from django.db.models import (
    BigIntegerField,
    Case,
    CharField,
    Count,
    F,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce

from accounts.models import Account, Opportunity
from core.roles import is_admin, is_manager, is_rep
from territories.models import Handoff, Membership, Quota, Territory
from territories.selectors import sla_compliance, territory_ids_managed_by

from .models import MQA, AccountScore, ScoringModel, TierChange
from .stats import (
    CorrelationSums,
    Moments,
    Test,
    mean_interval,
    means_test,
    pearson,
    proportions_test,
    wilson_interval,
)
from .tiers import LABELS, ORDER, SUPPRESS

PERCENT, SCORE, USD, R, COUNT, RATIO = "percent", "score", "usd", "r", "count", "ratio"
SEGMENTS = {"tier": "Tier", "industry": "Industry", "territory": "Territory", "owner": "Owner", "country": "Country"}
BANDS = [(0, 20), (20, 40), (40, 60), (60, 80), (80, 100)]
NONE_LABEL = "(none)"


@dataclass(frozen=True)
class Kpi:
    key: str
    name: str
    unit: str
    definition: str
    # Which segments make sense: the five of SEGMENTS, or a fixed breakdown the KPI always shows (bands, tiers...).
    segments: tuple[str, ...] = tuple(SEGMENTS)
    breakdown: str = ""  # the fixed breakdown's name when it has one
    uses_period: bool = True


DEAL_TERRITORY = (
    "By territory a deal counts for the team of the rep who owns it (their territory), or for its account's territory "
    "when its owner is no territory's rep; by owner, for the deal's owner."
)

KPIS: dict[str, Kpi] = {
    k.key: k
    for k in [
        Kpi(
            "engagement",
            "Account engagement index",
            SCORE,
            "The mean signal score (0-100) of the scored accounts: each account's engagement and intent signals "
            "(visits, downloads, clicks, events, meetings, third-party intent...), decayed by age and capped per kind "
            "by the active scoring model. It describes the accounts as they are now; the trend comes from the daily "
            "snapshots.",
            uses_period=False,
        ),
        Kpi(
            "accuracy",
            "Scoring accuracy",
            R,
            "Whether scores track revenue: Pearson's correlation between each account's unified score and the amount "
            "it won in the period, over the accounts with a deal closed in the period (won or lost). +1: revenue rises "
            "with the score; 0: no relation. It uses each account's current score.",
        ),
        Kpi(
            "conversion",
            "Conversion rate by score band",
            PERCENT,
            "Of the scored accounts in each band of unified score, the share that won at least one deal closed in the "
            "period. If the top bands do not convert better than the bottom ones, the thresholds mean little.",
            segments=(),
            breakdown="Score band",
        ),
        Kpi(
            "icp_match",
            "ICP match %",
            PERCENT,
            "The share of scored accounts whose fit score reaches the active model's Tier 2 minimum fit and that no "
            "exclusion suppresses: the accounts the ICP says are worth working.",
            uses_period=False,
        ),
        Kpi(
            "clv",
            "Customer lifetime value",
            USD,
            "The mean of what each customer has won with us: the amounts of all its won deals closed up to the end "
            "of the period, added up. Customers are the accounts with at least one such deal.",
        ),
        Kpi(
            "pipeline",
            "Pipeline coverage",
            USD,
            "Open pipeline, the amounts of the deals not closed yet, against quota: coverage = pipeline / the quotas "
            "whose period overlaps the chosen one (quotas are set per territory; 3x is a common target). Open deals "
            "without an amount are counted but add nothing. " + DEAL_TERRITORY,
        ),
        Kpi(
            "mqa_rate",
            "MQA %",
            PERCENT,
            "The share of scored accounts that became marketing-qualified accounts (an MQA raised) in the period.",
        ),
        Kpi(
            "saa_rate",
            "SAA %",
            PERCENT,
            "Of the MQAs raised in the period that sales has decided, the share accepted: accepted / (accepted + "
            "rejected). MQAs still open, or closed without a decision, are left out. By tier, the tier at "
            "qualification.",
        ),
        Kpi(
            "score_to_win",
            "Score-to-win correlation",
            R,
            "How well the score predicts wins: the (point-biserial) correlation between the account's unified score "
            "and the outcome of each deal closed in the period (won = 1, lost = 0). It uses each account's current "
            "score. " + DEAL_TERRITORY,
        ),
        Kpi(
            "win_rate",
            "Win rate",
            PERCENT,
            "Won deals / closed deals (won + lost), over the deals closed in the period. " + DEAL_TERRITORY,
        ),
        Kpi(
            "tier_distribution",
            "Tier distribution",
            COUNT,
            "How many scored accounts sit in each tier now, and their share.",
            segments=(),
            breakdown="Tier",
            uses_period=False,
        ),
        Kpi(
            "tier_movement",
            "Tier movement",
            COUNT,
            "How many accounts moved from one tier to another in the period, by move.",
            segments=(),
            breakdown="Move",
        ),
        Kpi(
            "sla_compliance",
            "SLA compliance",
            PERCENT,
            "Of the handoffs assigned in the period whose SLA outcome is settled (decided, breached or past due), "
            "the share decided by their deadline.",
            segments=("tier", "owner"),
        ),
        Kpi(
            "rejection_reasons",
            "Rejection reasons",
            COUNT,
            "Why sales rejected the handoffs assigned in the period: rejections by reason, and each reason's share.",
            segments=(),
            breakdown="Reason",
        ),
        Kpi(
            "spend_potential",
            "Spend potential",
            USD,
            "What the accounts are expected to be worth: the sum of each account's win probability x expected deal "
            "size (see an account's page for how its number is made). It describes the accounts as they are now.",
            segments=("territory", "tier", "industry", "owner", "country"),
            uses_period=False,
        ),
    ]
}


# --- scope and period -----------------------------------------------------------------------------------------------


def kpi_scope_q(*, user, prefix: str = "") -> Q | None:
    """The accounts whose KPIs `user` sees (None: all). `prefix` leads from another model to its account."""
    if is_admin(user):
        return None
    q = Q(pk__in=[])
    if is_manager(user):
        q |= Q(**{f"{prefix}territory_id__in": sorted(territory_ids_managed_by(user=user))})
    if is_rep(user):
        q |= Q(**{f"{prefix}owner_id": user.pk})
    return q


def _scoped(qs: QuerySet, *, user, prefix: str) -> QuerySet:
    q = kpi_scope_q(user=user, prefix=prefix)
    return (qs if q is None else qs.filter(q)).order_by()


@dataclass(frozen=True)
class Period:
    """Whole days, both included; an open end reaches as far as the data goes."""

    start: dt.date | None = None
    end: dt.date | None = None

    def words(self) -> str:
        if self.start and self.end:
            return f"{self.start:%Y-%m-%d} to {self.end:%Y-%m-%d}"
        if self.start:
            return f"since {self.start:%Y-%m-%d}"
        if self.end:
            return f"up to {self.end:%Y-%m-%d}"
        return "all time"

    def dates_q(self, name: str) -> Q:
        """Days `name` (a date field) within the period."""
        q = Q()
        if self.start:
            q &= Q(**{f"{name}__gte": self.start})
        if self.end:
            q &= Q(**{f"{name}__lte": self.end})
        return q

    def moments_q(self, name: str) -> Q:
        """Moments `name` (a datetime field) within the period: from midnight (UTC) of the first day to midnight
        after the last."""
        q = Q()
        if self.start:
            q &= Q(**{f"{name}__gte": dt.datetime.combine(self.start, dt.time.min, tzinfo=dt.UTC)})
        if self.end:
            after = dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
            q &= Q(**{f"{name}__lt": after})
        return q


# --- results --------------------------------------------------------------------------------------------------------


@dataclass
class Row:
    key: str
    label: str
    n: int  # the sample the value stands on
    value: float | None
    interval: tuple[float, float] | None = None
    extra: dict = field(default_factory=dict)

    @property
    def significant(self) -> bool | None:
        """For a correlation: whether its interval leaves out 0."""
        return self.extra.get("significant")


@dataclass
class KpiResult:
    kpi: Kpi
    segment: str  # "" for the total only, or the fixed breakdown
    period: Period
    total: Row
    rows: list[Row] = field(default_factory=list)
    test: Test | None = None
    columns: list[tuple[str, str]] = field(default_factory=list)  # extra columns: (key in Row.extra, header)
    note: str = ""


# --- segment expressions --------------------------------------------------------------------------------------------


def deal_territory() -> Coalesce:
    """The territory a deal counts for: its owner's rep territory (the lowest id if several), else its account's."""
    team = Membership.objects.filter(user_id=OuterRef("owner_id"), role=Membership.Role.REP, is_active=True)
    return Coalesce(
        Subquery(team.order_by("territory_id").values("territory_id")[:1]),
        F("account__territory_id"),
        output_field=BigIntegerField(),
    )


def _segment_expr(segment: str, base: str):
    """The value a row of `base` is grouped by for `segment`. Bases: "score" (an account's current score, the
    account-level KPIs), "account", "deal" or "mqa"."""
    to_account = "" if base == "account" else "account__"
    if segment == "tier":
        if base in ("mqa", "score"):
            return F("tier")
        return F(f"{to_account}score__tier")
    if segment == "territory":
        return deal_territory() if base == "deal" else F(f"{to_account}territory_id")
    if segment == "owner":
        return F("owner_id") if base == "deal" else F(f"{to_account}owner_id")
    if segment in ("industry", "country"):
        return F(f"{to_account}{segment}")
    raise ValueError(f"Unknown segment {segment!r}; choose one of {', '.join(SEGMENTS)}.")


def _labels(segment: str, keys) -> dict:
    keys = [k for k in keys if k not in (None, "")]
    if segment == "territory":
        return dict(Territory.objects.filter(pk__in=keys).values_list("pk", "name"))
    if segment == "owner":
        users = User.objects.filter(pk__in=keys).only("username", "first_name", "last_name")
        return {u.pk: u.get_full_name() or u.username for u in users}
    if segment == "tier":
        return {k: LABELS.get(k, k) for k in keys}
    return {k: str(k) for k in keys}


def _order(segment: str, rows: list[Row]) -> list[Row]:
    if segment == "tier":
        return sorted(rows, key=lambda r: (ORDER.get(r.key, len(ORDER)), r.key))
    return sorted(rows, key=lambda r: (-r.n, r.label.lower()))


def _grouped(qs: QuerySet, segment: str, base: str, aggregates: dict) -> list[tuple[str, str, dict]]:
    """(key, label, aggregates) per segment value, in one query."""
    found = list(qs.annotate(segment_key=_segment_expr(segment, base)).values("segment_key").annotate(**aggregates))
    labels = _labels(segment, [row["segment_key"] for row in found])
    out = []
    for row in found:
        key = row.pop("segment_key")
        out.append(("" if key is None else str(key), labels.get(key, NONE_LABEL), row))
    return out


def _proportion_row(key: str, label: str, successes: int, n: int, **extra) -> Row:
    return Row(
        key=key,
        label=label,
        n=n,
        value=100 * successes / n if n else None,
        interval=wilson_interval(successes, n),
        extra={"successes": successes, **extra},
    )


def _proportion(kpi: Kpi, qs, base: str, segment: str, period: Period, successes, n, what: str) -> KpiResult:
    """A proportion KPI: `successes` and `n` are aggregates over `qs`."""
    total = qs.aggregate(s=successes, n=n)
    result = KpiResult(
        kpi=kpi,
        segment=segment,
        period=period,
        total=_proportion_row("", "All", total["s"] or 0, total["n"] or 0),
        columns=[("successes", _SUCCESS_HEADER.get(kpi.key, "Successes"))],
    )
    if segment:
        rows = [
            _proportion_row(key, label, agg["s"] or 0, agg["n"] or 0)
            for key, label, agg in _grouped(qs, segment, base, {"s": successes, "n": n})
        ]
        result.rows = _order(segment, rows)
        result.test = proportions_test([(r.extra["successes"], r.n) for r in result.rows], what=what)
    return result


_SUCCESS_HEADER = {
    "conversion": "Converted",
    "icp_match": "Matching",
    "mqa_rate": "MQAs",
    "saa_rate": "Accepted",
    "win_rate": "Won",
    "sla_compliance": "On time",
}


def _moments_aggregates(value) -> dict:
    return {"n": Count(value), "total": Sum(value), "squares": Sum(value * value)}


def _moments(agg: dict) -> Moments:
    return Moments(n=agg["n"] or 0, total=float(agg["total"] or 0), squares=float(agg["squares"] or 0))


def _mean_row(key: str, label: str, m: Moments) -> Row:
    return Row(key=key, label=label, n=m.n, value=m.mean, interval=mean_interval(m), extra={"sum": m.total})


def _mean(kpi: Kpi, qs, base: str, segment: str, period: Period, value, what: str) -> KpiResult:
    aggregates = _moments_aggregates(value)
    result = KpiResult(
        kpi=kpi, segment=segment, period=period, total=_mean_row("", "All", _moments(qs.aggregate(**aggregates)))
    )
    if segment:
        grouped = _grouped(qs, segment, base, aggregates)
        result.rows = _order(segment, [_mean_row(key, label, _moments(agg)) for key, label, agg in grouped])
        result.test = means_test([_moments(agg) for _, _, agg in grouped], what=what)
    return result


def _correlation_aggregates(x, y) -> dict:
    return {
        "n": Count("pk"),
        "sx": Sum(x),
        "sy": Sum(y),
        "sxx": Sum(x * x),
        "syy": Sum(y * y),
        "sxy": Sum(x * y),
    }


def _correlation_row(key: str, label: str, agg: dict) -> Row:
    sums = CorrelationSums(**{name: (agg[name] or 0) if name == "n" else float(agg[name] or 0) for name in agg})
    c = pearson(sums)
    return Row(key=key, label=label, n=c.n, value=c.r, interval=c.interval, extra={"significant": c.significant})


def _correlation(kpi: Kpi, qs, base: str, segment: str, period: Period, x, y) -> KpiResult:
    aggregates = _correlation_aggregates(x, y)
    total = _correlation_row("", "All", qs.aggregate(**aggregates))
    result = KpiResult(kpi=kpi, segment=segment, period=period, total=total)
    if segment:
        rows = [_correlation_row(key, label, agg) for key, label, agg in _grouped(qs, segment, base, aggregates)]
        result.rows = _order(segment, rows)
    result.note = _correlation_note(total)
    return result


def _correlation_note(total: Row) -> str:
    if total.value is None:
        return "Too few cases, or no variation in score or outcome, to measure a correlation."
    return "A correlation is significant when its 95% interval leaves out 0; " + (
        "this one is." if total.significant else "this one is not: read it as no relation."
    )


# --- the KPIs -------------------------------------------------------------------------------------------------------


def _scores(user) -> QuerySet[AccountScore]:
    """The scored accounts in the user's scope, as their score rows: the account-level KPIs read these, so an
    admin's totals scan the scores alone and join the accounts only to scope or split them."""
    return _scoped(AccountScore.objects.all(), user=user, prefix="account__")


def _deals(user, period: Period, **filters) -> QuerySet[Opportunity]:
    return _scoped(Opportunity.objects.filter(**filters), user=user, prefix="account__").filter(
        period.dates_q("closed_on") if filters.get("is_closed") else Q()
    )


def _float(expr) -> Cast:
    return Cast(expr, FloatField())


def _engagement(kpi, *, user, segment, period):
    return _mean(kpi, _scores(user), "score", segment, period, _float(F("signal")), "engagement")


SUMS = ("n", "sx", "sy", "sxx", "syy", "sxy")


def _per_account(accounts: QuerySet, base: str, x, deals: QuerySet, y, segment: str) -> list[tuple[str, str, dict]]:
    """The six correlation sums of (x, y) over the accounts that have `deals`, by segment: x an expression on the
    (scoped) `accounts`, y one summed over each account's `deals`.

    Set-based: the deals are first added up per account, then joined to the accounts (a hash join), where a
    subquery per account would look up a million accounts one by one.
    """
    with_key = accounts.annotate(
        segment_key=_segment_expr(segment, base) if segment else Value("", output_field=CharField()),
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
    labels = _labels(segment, [row[0] for row in found]) if segment else {}
    return [
        ("" if key is None else str(key), labels.get(key, NONE_LABEL), dict(zip(SUMS, values, strict=True)))
        for key, *values in found
    ]


def _summed(grouped: list[tuple[str, str, dict]]) -> dict:
    return {name: sum(agg[name] or 0 for _, _, agg in grouped) for name in SUMS}


def _accuracy(kpi, *, user, segment, period):
    # The deals scoped too, so a rep's figure adds up their accounts' deals only, not everyone's.
    closed = _scoped(
        Opportunity.objects.filter(period.dates_q("closed_on"), is_closed=True), user=user, prefix="account__"
    )
    amount = Coalesce(_float(F("amount")), Value(0.0))
    won_amount = Case(When(is_won=True, then=amount), default=Value(0.0), output_field=FloatField())
    grouped = _per_account(_scores(user), "score", F("unified"), closed, won_amount, segment)
    result = KpiResult(kpi=kpi, segment=segment, period=period, total=_correlation_row("", "All", _summed(grouped)))
    if segment:
        result.rows = _order(segment, [_correlation_row(key, label, agg) for key, label, agg in grouped])
    result.note = _correlation_note(result.total)
    return result


def band_expr(field_name: str = "score__unified") -> Case:
    """The unified score's band as its label ("0-20" ... "80-100"; 100 falls in the top band)."""
    whens = [When(**{f"{field_name}__lt": high}, then=Value(f"{low}-{high}")) for low, high in BANDS[:-1]]
    low, high = BANDS[-1]
    return Case(*whens, default=Value(f"{low}-{high}"), output_field=CharField())


def _conversion(kpi, *, user, segment, period):
    # `pk IN (won accounts)`: PostgreSQL hashes the won accounts once rather than probing per account.
    won = Opportunity.objects.filter(period.dates_q("closed_on"), is_won=True).values("account_id")
    accounts = _scores(user).annotate(band=band_expr("unified"))
    grouped = {
        row["band"]: row for row in accounts.values("band").annotate(s=Count("pk", filter=Q(pk__in=won)), n=Count("pk"))
    }
    rows = [
        _proportion_row(label, label, grouped.get(label, {}).get("s", 0), grouped.get(label, {}).get("n", 0))
        for label in (f"{low}-{high}" for low, high in BANDS)
    ]
    total = _proportion_row("", "All", sum(r.extra["successes"] for r in rows), sum(r.n for r in rows))
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
    result = _proportion(
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
    won = _scoped(
        Opportunity.objects.filter(Period(end=period.end).dates_q("closed_on"), is_won=True),
        user=user,
        prefix="account__",
    )
    accounts = _scoped(Account.objects.all(), user=user, prefix="")
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
    result = KpiResult(kpi=kpi, segment=segment, period=period, total=_mean_row("", "All", total))
    if segment:
        result.rows = _order(segment, [_mean_row(key, label, m) for key, label, m in grouped])
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
    open_deals = _scoped(Opportunity.objects.filter(is_closed=False), user=user, prefix="account__")
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
        grouped = _grouped(open_deals, segment, "deal", aggregates)
        result.rows = _order(segment, [row(k, label, agg, by_territory.get(k)) for k, label, agg in grouped])
    if quota_total is None:
        result.note = (
            "No quota overlaps this period"
            + ("" if is_admin(user) or is_manager(user) else " for you: quotas are set per territory")
            + ", so coverage cannot be measured."
        )
    return result


def _mqa_rate(kpi, *, user, segment, period):
    raised = MQA.objects.filter(period.moments_q("qualified_at")).values("account_id")
    return _proportion(
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
    decided = _scoped(
        MQA.objects.filter(period.moments_q("qualified_at"), status__in=[MQA.Status.ACCEPTED, MQA.Status.REJECTED]),
        user=user,
        prefix="account__",
    )
    return _proportion(
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
    return _correlation(kpi, closed, "deal", segment, period, _float(F("account__score__unified")), won)


def _win_rate(kpi, *, user, segment, period):
    closed = _deals(user, period, is_closed=True)
    return _proportion(
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
    moves = _scoped(TierChange.objects.filter(period.moments_q("at")), user=user, prefix="account__")
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
    return _scoped(Handoff.objects.filter(period.moments_q("assigned_at")), user=user, prefix="account__")


def _sla_compliance(kpi, *, user, segment, period):
    compliance = sla_compliance(handoffs=_handoffs(user, period))

    def row(r) -> Row:
        return _proportion_row(r.key, r.label, r.on_time, r.measured, breached=r.breached, handoffs=r.handoffs)

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
    from .selectors import potential_grand_total, potential_totals

    accounts = _scoped(Account.objects.all(), user=user, prefix="")
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
        result.rows = _order(segment, [row(r) for r in grouped])
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
    return COMPUTE[key](kpi, user=user, segment=segment, period=period or Period())


def kpi_overview(*, user, period: Period | None = None) -> list[KpiResult]:
    """Every KPI's total (with its fixed breakdown where it has one) for the dashboard."""
    return [kpi_compute(key=key, user=user, period=period) for key in KPIS]
