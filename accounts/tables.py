"""The account list's table. Its score and spend-potential columns read what segmentation and insights store about
each account through the account's relations (`score`, `potential`), so this app never imports them."""

import django_tables2 as tables
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import F
from django.urls import reverse
from django.utils.formats import localize

from core.tiers import LABELS as TIER_LABELS

from .models import Account


def _related(account, name: str):
    """The account's one-to-one `name` (its score, its spend potential), or None when it has none."""
    try:
        return getattr(account, name)
    except ObjectDoesNotExist:
        return None


def _whole(value) -> str | None:
    return None if value is None else f"{value:,.0f}"


class ExpectedValueColumn:
    """The spend-potential column of an account list: sorted with accounts without one last, shown in whole USD."""

    def order_expected_value(self, queryset, is_descending):
        # Accounts without a spend potential last, whichever way (PostgreSQL would put them first when descending).
        value = F("potential__expected_value")
        order = value.desc(nulls_last=True) if is_descending else value.asc(nulls_last=True)
        return queryset.order_by(order, "pk"), True

    def render_expected_value(self, value):
        return _whole(value)


class AccountTable(ExpectedValueColumn, tables.Table):
    name = tables.Column(linkify=("account-detail", {"account_id": tables.A("pk")}))
    employee_count = tables.Column(verbose_name="Employees", attrs={"td": {"class": "text-end"}})
    annual_revenue = tables.Column(verbose_name="Revenue (USD)", attrs={"td": {"class": "text-end"}})
    owner = tables.Column(order_by=("owner__username",))
    territory = tables.Column(order_by=("territory__name",))
    tier = tables.Column(accessor="score__tier", verbose_name="Tier", order_by=("score__tier",), default="—")
    unified = tables.Column(
        accessor="score__unified", verbose_name="Score", order_by=("-score__unified",), default="—",
        attrs={"td": {"class": "text-end"}},
    )  # fmt: skip
    expected_value = tables.Column(
        accessor="potential__expected_value", verbose_name="Expected value (USD)", default="—",
        attrs={"td": {"class": "text-end"}},
    )  # fmt: skip

    def order_unified(self, queryset, is_descending):
        # Highest first unless reversed. Only scored accounts: the inner join lets PostgreSQL walk the score index and
        # stop after a page, where a left join would sort every account on each request (seconds at a million).
        value = F("score__unified")
        order = value.asc() if is_descending else value.desc()
        return queryset.filter(score__isnull=False).order_by(order, "pk"), True

    class Meta:
        model = Account
        fields = [
            "name", "tier", "unified", "expected_value", "industry", "country", "employee_count", "annual_revenue",
            "owner", "territory",
        ]  # fmt: skip
        attrs = {"class": "table table-sm table-striped table-hover"}
        empty_text = "No accounts match. Clear the filters, or ask your manager which territory you belong to."
        template_name = "accounts/_account_table.html"

    # The page's cells, each shown as its column's render_* method (or django-tables2's default) shows it, made in one
    # pass: django-tables2's generic cell rendering cost a quarter of a second for a page of 50 accounts. CSV exports
    # still go through the columns.
    CELLS = {
        "name": lambda a: a.name,
        "tier": lambda a: (score := _related(a, "score")) and TIER_LABELS.get(score.tier, score.tier),
        "unified": lambda a: (score := _related(a, "score")) and localize(score.unified),
        "expected_value": lambda a: (potential := _related(a, "potential")) and _whole(potential.expected_value),
        "industry": lambda a: a.industry,
        "country": lambda a: a.country,
        "employee_count": lambda a: a.employee_count is not None and localize(a.employee_count),
        "annual_revenue": lambda a: _whole(a.annual_revenue),
        "owner": lambda a: a.owner and (a.owner.get_full_name() or a.owner.username),
        "territory": lambda a: a.territory and a.territory.name,
    }

    def page_cells(self) -> list[tuple[str, list[tuple[str | None, str]]]]:
        """[(the account's page, [(td class, text), ...] in the columns' order)] for the rows of the current page."""
        columns = [(c.name, c.attrs.get("td", {}).get("class")) for c in self.columns]
        detail = reverse("account-detail", args=[0]).removesuffix("0/")
        rows = []
        for row in self.paginated_rows:
            account = row.record
            cells = []
            for name, css in columns:
                text = self.CELLS[name](account)
                cells.append((css, "—" if text in (None, "", False) else text))
            rows.append((f"{detail}{account.pk}/", cells))
        return rows

    def render_annual_revenue(self, value):
        return _whole(value)

    def render_tier(self, value):
        return TIER_LABELS.get(value, value)

    def render_owner(self, value):
        return value.get_full_name() or value.username
