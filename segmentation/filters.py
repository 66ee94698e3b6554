"""What the tier lists and the tier movement are narrowed by; every choice offered comes from the user's scope."""

from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from django.utils import timezone
from django.utils.http import urlencode

from accounts.filters import AccountFilter
from core.filtersets import PartialFilterMixin
from core.tiers import Tier

from .selectors import capacity_held_q, surging_q

YES_NO = [("yes", "Yes"), ("no", "No")]
DEFAULT_PERIOD_DAYS = 30
# Dates outside these years are typing mistakes; they would also overflow the day after `end`.
FIRST_YEAR, LAST_YEAR = 1900, 2999


class HeldFilters:
    """The surging and capacity filters' work (the tiers' rules 5 and 6), whatever word the choices use for yes."""

    YES = "yes"

    def by_surging(self, queryset, name, value):
        q = surging_q(now=timezone.now())
        return queryset.filter(q) if value == self.YES else queryset.exclude(q)

    def by_capacity(self, queryset, name, value):
        q = capacity_held_q()
        return queryset.filter(q) if value == self.YES else queryset.exclude(q)


class TierListFilter(HeldFilters, PartialFilterMixin, AccountFilter):
    """The account list's filters (search, territory, owner, industry, country, tier), plus surging and capacity."""

    surging = django_filters.ChoiceFilter(choices=YES_NO, method="by_surging", empty_label="Surging or not")
    capacity = django_filters.ChoiceFilter(
        choices=YES_NO, method="by_capacity", label="Held by capacity", empty_label="Held by capacity or not"
    )

    class Meta(AccountFilter.Meta):
        fields = [*AccountFilter.Meta.fields, "surging", "capacity"]


class PeriodForm(forms.Form):
    """A period of whole days, both included; by default the last 30 days up to today."""

    start = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def _year_checked(self, name: str) -> dt.date | None:
        value = self.cleaned_data.get(name)
        if value and not FIRST_YEAR <= value.year <= LAST_YEAR:
            raise forms.ValidationError(f"Enter a date between {FIRST_YEAR} and {LAST_YEAR}.")
        return value

    def clean_start(self):
        return self._year_checked("start")

    def clean_end(self):
        return self._year_checked("end")

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        end = cleaned.get("end") or timezone.localdate()
        start = cleaned.get("start") or end - dt.timedelta(days=DEFAULT_PERIOD_DAYS - 1)
        if start > end:
            raise forms.ValidationError(
                f"The start date ({start:%Y-%m-%d}) must be on or before the end date ({end:%Y-%m-%d})."
            )
        cleaned["start"], cleaned["end"] = start, end
        return cleaned

    def period(self) -> tuple[dt.datetime, dt.datetime]:
        """The period as aware datetimes, start <= at < end: midnight of `start` to midnight after `end`."""
        zone = timezone.get_current_timezone()
        start, end = self.cleaned_data["start"], self.cleaned_data["end"]
        return (
            dt.datetime.combine(start, dt.time.min, tzinfo=zone),
            dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=zone),
        )

    def query(self, **changes: str) -> str:
        """The cleaned period and tiers as a query string, with `changes` applied (for links between the pages)."""
        params = {
            "start": f"{self.cleaned_data['start']:%Y-%m-%d}",
            "end": f"{self.cleaned_data['end']:%Y-%m-%d}",
            "from_tier": self.cleaned_data.get("from_tier") or "",
            "to_tier": self.cleaned_data.get("to_tier") or "",
            **changes,
        }
        return urlencode({k: v for k, v in params.items() if v})


class TierMoveForm(PeriodForm):
    """A period and, optionally, the tier the moves left and the tier they entered."""

    from_tier = forms.ChoiceField(label="From tier", choices=[("", "Any tier"), *Tier.choices], required=False)
    to_tier = forms.ChoiceField(label="To tier", choices=[("", "Any tier"), *Tier.choices], required=False)
