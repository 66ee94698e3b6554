"""The account list's table. Its score and spend-potential columns read what segmentation and insights store about
each account through the account's relations (`score`, `potential`), so this app never imports them."""

import django_tables2 as tables
from django.db.models import F

from core.tiers import LABELS as TIER_LABELS

from .models import Account


class ExpectedValueColumn:
    """The spend-potential column of an account list: sorted with accounts without one last, shown in whole USD."""

    def order_expected_value(self, queryset, is_descending):
        # Accounts without a spend potential last, whichever way (PostgreSQL would put them first when descending).
        value = F("potential__expected_value")
        order = value.desc(nulls_last=True) if is_descending else value.asc(nulls_last=True)
        return queryset.order_by(order, "pk"), True

    def render_expected_value(self, value):
        return f"{value:,.0f}"


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

    class Meta:
        model = Account
        fields = [
            "name", "tier", "unified", "expected_value", "industry", "country", "employee_count", "annual_revenue",
            "owner", "territory",
        ]  # fmt: skip
        attrs = {"class": "table table-sm table-striped table-hover"}
        empty_text = "No accounts match. Clear the filters, or ask your manager which territory you belong to."

    def render_annual_revenue(self, value):
        return f"{value:,.0f}"

    def render_tier(self, value):
        return TIER_LABELS.get(value, value)

    def render_owner(self, value):
        return value.get_full_name() or value.username
