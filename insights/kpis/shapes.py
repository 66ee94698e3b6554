"""What every KPI is built from: the scope, the period, the result rows, the segment a row is grouped by, and
the three shapes of figure (a proportion, a mean, a correlation) with their intervals and tests."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.db.models import (
    BigIntegerField,
    Count,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce

from core.roles import is_admin, is_manager, is_rep
from core.stats import (
    CorrelationSums,
    Moments,
    Test,
    mean_interval,
    means_test,
    pearson,
    proportions_test,
    wilson_interval,
)
from core.tiers import LABELS, ORDER
from territories.models import Membership, Territory
from territories.selectors import territory_ids_managed_by

from .definitions import MIN_INTERVAL_N, NONE_LABEL, SEGMENTS, Kpi

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


def scoped(qs: QuerySet, *, user, prefix: str) -> QuerySet:
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


def segment_expr(segment: str, base: str):
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


def segment_labels(segment: str, keys) -> dict:
    keys = [k for k in keys if k not in (None, "")]
    if segment == "territory":
        return dict(Territory.objects.filter(pk__in=keys).values_list("pk", "name"))
    if segment == "owner":
        users = User.objects.filter(pk__in=keys).only("username", "first_name", "last_name")
        return {u.pk: u.get_full_name() or u.username for u in users}
    if segment == "tier":
        return {k: LABELS.get(k, k) for k in keys}
    return {k: str(k) for k in keys}


def ordered_rows(segment: str, rows: list[Row]) -> list[Row]:
    if segment == "tier":
        return sorted(rows, key=lambda r: (ORDER.get(r.key, len(ORDER)), r.key))
    return sorted(rows, key=lambda r: (-r.n, r.label.lower()))


def grouped_rows(qs: QuerySet, segment: str, base: str, aggregates: dict) -> list[tuple[str, str, dict]]:
    """(key, label, aggregates) per segment value, in one query."""
    found = list(qs.annotate(segment_key=segment_expr(segment, base)).values("segment_key").annotate(**aggregates))
    labels = segment_labels(segment, [row["segment_key"] for row in found])
    out = []
    for row in found:
        key = row.pop("segment_key")
        out.append(("" if key is None else str(key), labels.get(key, NONE_LABEL), row))
    return out


def proportion_row(key: str, label: str, successes: int, n: int, **extra) -> Row:
    return Row(
        key=key,
        label=label,
        n=n,
        value=100 * successes / n if n else None,
        interval=wilson_interval(successes, n),
        extra={"successes": successes, **extra},
    )


def proportion_result(kpi: Kpi, qs, base: str, segment: str, period: Period, successes, n, what: str) -> KpiResult:
    """A proportion KPI: `successes` and `n` are aggregates over `qs`."""
    total = qs.aggregate(s=successes, n=n)
    result = KpiResult(
        kpi=kpi,
        segment=segment,
        period=period,
        total=proportion_row("", "All", total["s"] or 0, total["n"] or 0),
        columns=[("successes", _SUCCESS_HEADER.get(kpi.key, "Successes"))],
    )
    if segment:
        rows = [
            proportion_row(key, label, agg["s"] or 0, agg["n"] or 0)
            for key, label, agg in grouped_rows(qs, segment, base, {"s": successes, "n": n})
        ]
        result.rows = ordered_rows(segment, rows)
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


def mean_row(key: str, label: str, m: Moments) -> Row:
    return Row(key=key, label=label, n=m.n, value=m.mean, interval=mean_interval(m), extra={"sum": m.total})


def mean_result(kpi: Kpi, qs, base: str, segment: str, period: Period, value, what: str) -> KpiResult:
    aggregates = _moments_aggregates(value)
    result = KpiResult(
        kpi=kpi, segment=segment, period=period, total=mean_row("", "All", _moments(qs.aggregate(**aggregates)))
    )
    if segment:
        grouped = grouped_rows(qs, segment, base, aggregates)
        result.rows = ordered_rows(segment, [mean_row(key, label, _moments(agg)) for key, label, agg in grouped])
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


def correlation_row(key: str, label: str, agg: dict) -> Row:
    sums = CorrelationSums(**{name: (agg[name] or 0) if name == "n" else float(agg[name] or 0) for name in agg})
    c = pearson(sums)
    return Row(key=key, label=label, n=c.n, value=c.r, interval=c.interval, extra={"significant": c.significant})


def correlation_result(kpi: Kpi, qs, base: str, segment: str, period: Period, x, y) -> KpiResult:
    aggregates = _correlation_aggregates(x, y)
    total = correlation_row("", "All", qs.aggregate(**aggregates))
    result = KpiResult(kpi=kpi, segment=segment, period=period, total=total)
    if segment:
        rows = [correlation_row(key, label, agg) for key, label, agg in grouped_rows(qs, segment, base, aggregates)]
        result.rows = ordered_rows(segment, rows)
    result.note = correlation_note(total)
    return result


def correlation_note(total: Row) -> str:
    if total.value is None:
        return "Too few cases, or no variation in score or outcome, to measure a correlation."
    if total.n < MIN_INTERVAL_N:
        return f"Too few cases to say whether there is a relation (n < {MIN_INTERVAL_N})."
    return "A correlation is significant when its 95% interval leaves out 0; " + (
        "this one is." if total.significant else "this one is not: read it as no relation."
    )
