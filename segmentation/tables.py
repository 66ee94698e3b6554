"""Tables of the tier lists and of tier moves."""

from __future__ import annotations

import datetime as dt

import django_tables2 as tables
from django.template.defaultfilters import date as date_filter
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from accounts.tables import ExpectedValueColumn, related_or_none
from core.tablerows import tbody_html
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
        template_name = "segmentation/tiers/_tier_table.html"

    # Each cell's value (its column's accessor) and, where it has one, its render method: the page's rows are rendered
    # in one pass (`page_cells`), as the account list's are, instead of through django-tables2's per-cell machinery
    # (two thirds of the page's time at 50 rows). As there, an empty value (None, "") shows the column's default.
    CELLS = {
        "name": (lambda a: a.name, None),
        "tier": (lambda a: a.score.tier, "render_tier"),
        "unified": (lambda a: a.score.unified, "render_unified"),
        "fit": (lambda a: a.score.fit, "render_fit"),
        "signal": (lambda a: a.score.signal, "render_signal"),
        "coverage": (lambda a: a.score.coverage, "render_coverage"),
        "expected_value": (
            lambda a: (p := related_or_none(a, "potential")) and p.expected_value,
            "render_expected_value",
        ),
        "tier_since": (lambda a: a.score.tier_since, None),
        "surge_until": (lambda a: a.score.surge_until, "render_surge_until"),
        "flags": (lambda a: a.score.flags, "render_flags"),
        "territory": (lambda a: a.territory, None),
        "owner": (lambda a: a.owner, "render_owner"),
    }

    def tbody_html(self):
        """The <tbody> of the current page, from `page_cells` (core/tablerows.py)."""
        return tbody_html(self.page_cells(), columns=len(self.columns), empty_text=self.empty_text)

    def page_cells(self) -> list[tuple[str, list[tuple[str | None, str]]]]:
        """[(the account's page, [(td class, text), ...] in the columns' order)] for the rows of the current page."""
        columns = []
        for column in self.columns:
            value_of, render = self.CELLS[column.name]
            css = column.attrs.get("td", {}).get("class")
            columns.append((value_of, getattr(self, render) if render else None, css, column.column.default))
        detail = reverse("account-detail", args=[0]).removesuffix("0/")
        rows = []
        for row in self.paginated_rows:
            account = row.record
            cells = []
            for value_of, render, css, default in columns:
                value = value_of(account)
                if value is None or value == "":
                    text = default
                elif render is not None:
                    text = render(value)
                elif isinstance(value, dt.datetime):
                    text = date_filter(timezone.localtime(value), "Y-m-d")  # the tier_since DateColumn's format
                else:
                    text = value
                cells.append((css, "" if text is None else text))
            rows.append((f"{detail}{account.pk}/", cells))
        return rows

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
