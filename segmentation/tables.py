"""Tables of the tier lists and of tier moves."""

from __future__ import annotations

import django_tables2 as tables
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from accounts.tables import ExpectedValueColumn
from core.tiers import LABELS as TIER_LABELS

FLAG_LABELS = {"surge": "Surge", "hysteresis": "Hysteresis", "min_days": "Min. days", "capacity": "Capacity held"}
FLAG_STYLES = {
    "surge": "text-bg-warning",
    "hysteresis": "text-bg-info",
    "min_days": "text-bg-secondary",
    "capacity": "text-bg-danger",
}
FLAG_TITLES = {
    "surge": "Placed one tier above its candidate while surging",
    "hysteresis": "Kept in its tier: still above the tier's exit threshold",
    "min_days": "Kept in its tier: not yet the minimum days in tier",
    "capacity": "Held at Tier 2: its territory's Tier 1 capacity is full",
}
NUMBER = {"td": {"class": "text-end"}, "th": {"class": "text-end"}}


def score_text(value: float) -> str:
    return f"{value:g}"


def flag_badges(flags: list[str]):
    return format_html_join(
        " ",
        '<span class="badge {}" title="{}">{}</span>',
        ((FLAG_STYLES.get(f, "text-bg-light"), FLAG_TITLES.get(f, ""), FLAG_LABELS.get(f, f)) for f in flags or []),
    )


class _Scores:
    """Rendering shared by tables that show scores and tiers."""

    def render_unified(self, value):
        return score_text(value)

    def render_fit(self, value):
        return score_text(value)

    def render_signal(self, value):
        return score_text(value)


class TierTable(ExpectedValueColumn, _Scores, tables.Table):
    """Scored accounts; the rows come sorted best tier first, then by unified score."""

    name = tables.Column(
        verbose_name="Account", linkify=("account-detail", {"account_id": tables.A("pk")}), order_by=("name", "pk")
    )
    tier = tables.Column(accessor="score__tier", order_by=("tier_rank", "-score__unified", "name", "pk"))
    unified = tables.Column(accessor="score__unified", order_by=("score__unified", "pk"), attrs=NUMBER)
    fit = tables.Column(accessor="score__fit", order_by=("score__fit", "pk"), attrs=NUMBER)
    signal = tables.Column(accessor="score__signal", order_by=("score__signal", "pk"), attrs=NUMBER)
    coverage = tables.Column(
        accessor="score__coverage", verbose_name="Buying group", order_by=("score__coverage", "pk"), attrs=NUMBER
    )
    expected_value = tables.Column(
        accessor="potential__expected_value", verbose_name="Expected value (USD)", default="—", attrs=NUMBER
    )
    tier_since = tables.DateColumn(accessor="score__tier_since", format="Y-m-d", order_by=("score__tier_since", "pk"))
    surge_until = tables.Column(accessor="score__surge_until", order_by=("score__surge_until", "pk"), default="—")
    flags = tables.Column(accessor="score__flags", orderable=False, default="")
    territory = tables.Column(order_by=("territory__name", "pk"), default="—")
    owner = tables.Column(order_by=("owner__username", "pk"), default="—")

    class Meta:
        attrs = {"class": "table table-sm table-striped table-hover"}
        empty_text = "No scored accounts match. Clear the filters; accounts appear here once they are scored."

    def render_tier(self, value):
        return TIER_LABELS.get(value, value)

    def render_coverage(self, value):
        # Stored as a share (0-1) of the required personas engaged.
        return f"{value * 100:.0f}%"

    def render_surge_until(self, value):
        day = f"{value:%Y-%m-%d}"
        if value > timezone.now():
            return format_html('<span class="badge text-bg-warning">Surging</span> until {}', day)
        return format_html('<span class="text-muted">ended {}</span>', day)

    def render_flags(self, value):
        return flag_badges(value)

    def render_owner(self, value):
        return value.get_full_name() or value.username


class TierMoveTable(_Scores, tables.Table):
    """Tier moves, latest first."""

    account = tables.Column(
        accessor="account__name",
        linkify=("account-detail", {"account_id": tables.A("account_id")}),
        order_by=("account__name", "-at", "-pk"),
    )
    at = tables.DateTimeColumn(verbose_name="At", format="Y-m-d H:i", order_by=("at", "pk"))
    from_tier = tables.Column(verbose_name="From", orderable=False)
    to_tier = tables.Column(verbose_name="To", orderable=False)
    reason = tables.Column(orderable=False)
    unified = tables.Column(attrs=NUMBER, order_by=("unified", "pk"))
    fit = tables.Column(attrs=NUMBER, order_by=("fit", "pk"))
    signal = tables.Column(attrs=NUMBER, order_by=("signal", "pk"))

    class Meta:
        attrs = {"class": "table table-sm table-striped table-hover"}
        empty_text = "No tier moves match in this period."

    def render_from_tier(self, value):
        return TIER_LABELS.get(value, value)

    def render_to_tier(self, value):
        return TIER_LABELS.get(value, value)
