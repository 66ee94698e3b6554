"""The KPI pages' filter: a period and a segment."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.http import urlencode

from segmentation.filters import FIRST_YEAR, LAST_YEAR

from .kpis import SEGMENTS, Period


class KpiFilterForm(forms.Form):
    """The KPI pages' period (a preset or chosen days, both included) and segment."""

    PRESETS = [("all", "All time"), ("30", "Last 30 days"), ("90", "Last 90 days"), ("365", "Last 365 days")]

    period = forms.ChoiceField(choices=[*PRESETS, ("custom", "Chosen days")], required=False, initial="all")
    start = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    segment = forms.ChoiceField(label="By", required=False)

    def __init__(self, *args, segments: tuple[str, ...] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["segment"].choices = [("", "No split"), *[(s, SEGMENTS[s]) for s in segments]]

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        for name in ("start", "end"):
            value = cleaned.get(name)
            if value and not FIRST_YEAR <= value.year <= LAST_YEAR:
                self.add_error(name, f"Enter a date between {FIRST_YEAR} and {LAST_YEAR}.")
        start, end = cleaned.get("start"), cleaned.get("end")
        preset = cleaned.get("period") or ("custom" if start or end else "all")
        if preset == "custom" and start and end and start > end:
            raise forms.ValidationError(
                f"The start date ({start:%Y-%m-%d}) must be on or before the end date ({end:%Y-%m-%d})."
            )
        if preset not in ("custom", "all"):
            end = timezone.localdate()
            start = end - dt.timedelta(days=int(preset) - 1)
        elif preset == "all":
            start = end = None
        cleaned.update(period=preset, start=start, end=end)
        return cleaned

    def kpi_period(self):
        return Period(start=self.cleaned_data["start"], end=self.cleaned_data["end"])

    def query(self, **changes: str) -> str:
        params = {
            "period": self.cleaned_data.get("period") or "",
            "start": f"{self.cleaned_data['start']:%Y-%m-%d}" if self.cleaned_data.get("start") else "",
            "end": f"{self.cleaned_data['end']:%Y-%m-%d}" if self.cleaned_data.get("end") else "",
            "segment": self.cleaned_data.get("segment") or "",
            **changes,
        }
        if params["period"] not in ("custom", ""):
            params["start"] = params["end"] = ""
        return urlencode({k: v for k, v in params.items() if v})


class RecalibrationForm(forms.Form):
    """What a recalibration aims at: the tier mix its thresholds cut (per cent of scored accounts) and the date of
    each deal its features are read as of."""

    tier_1 = forms.FloatField(label="Tier 1 %", min_value=0, max_value=100)
    tier_2 = forms.FloatField(label="Tier 2 %", min_value=0, max_value=100)
    tier_3 = forms.FloatField(label="Tier 3 %", min_value=0, max_value=100)
    recycle = forms.FloatField(label="Recycle %", min_value=0, max_value=100)
    as_of = forms.ChoiceField(label="Read each deal as of", choices=[])

    def __init__(self, *args, **kwargs):
        from .recalibration import AS_OF_CHOICES

        super().__init__(*args, **kwargs)
        self.fields["as_of"].choices = list(AS_OF_CHOICES.items())
        for name in ("tier_1", "tier_2", "tier_3", "recycle"):
            self.fields[name].widget.attrs.update({"step": "0.1", "class": "form-control form-control-sm"})
        self.fields["as_of"].widget.attrs.update({"class": "form-select form-select-sm"})

    def clean(self):
        from .recalibration import parse_target_mix

        data = super().clean()
        shares = [data.get(name) for name in ("tier_1", "tier_2", "tier_3", "recycle")]
        if all(share is not None for share in shares):
            try:
                data["target_mix"] = parse_target_mix(shares)
            except ValueError as error:
                raise forms.ValidationError(str(error)) from None
        return data
