"""Forms of quota planning: the period (and rate) to suggest quotas for, and the amounts to save."""

from __future__ import annotations

from decimal import Decimal

from django import forms

from .quota_suggestions import AMOUNT_PROBLEM, QuotaSuggestion, period_problems, rep_field, territory_field

MAX_RATE = Decimal(1000)
TOO_BIG = "That is more than any quota can be."


class QuotaPeriodForm(forms.Form):
    """Read from the query string: what to suggest quotas for."""

    period_start = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    period_end = forms.DateField(
        label="To", help_text="Both days included.", widget=forms.DateInput(attrs={"type": "date"})
    )
    attainment_rate = forms.DecimalField(
        label="Attainment rate (% of spend potential a year)",
        required=False,
        max_digits=7,
        decimal_places=2,
        help_text="Empty: the historical rate, what was won in the year before the period against spend potential.",
    )
    territory = forms.TypedChoiceField(label="Territory", required=False, coerce=int, empty_value=None)

    def __init__(self, *args, territories, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["territory"].choices = [("", "All my territories")] + [(t.pk, t.name) for t in territories]

    def clean_attainment_rate(self):
        rate = self.cleaned_data.get("attainment_rate")
        if rate is not None and not (0 < rate <= MAX_RATE):
            raise forms.ValidationError(
                f"A rate above 0 and at most {MAX_RATE:,.0f}%, or empty for the historical one."
            )
        return rate

    def clean(self):
        cleaned = super().clean()
        problems = period_problems(period_start=cleaned.get("period_start"), period_end=cleaned.get("period_end"))
        for name, message in problems.items():
            if name not in self.errors:
                self.add_error(name, message)
        return cleaned


def _amount_field(label: str) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=False,
        max_digits=18,
        decimal_places=2,
        error_messages={
            "max_digits": "That is more than any quota.",
            "max_whole_digits": "That is more than any quota.",
        },
    )


class QuotaPlanForm(forms.Form):
    """One amount per territory and per rep shown, pre-filled with what is saved for the period, else the
    suggestion. An empty amount saves nothing for that row."""

    def __init__(self, *args, suggestion: QuotaSuggestion, lines, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = lines
        for line in lines:
            name = territory_field(line.territory.pk)
            self.fields[name] = _amount_field(f"Quota of {line.territory.name}")
            self.initial[name] = _initial(line.saved, line.suggested)
            for rep in line.reps:
                name = rep_field(line.territory.pk, rep.user.pk)
                self.fields[name] = _amount_field(f"Quota of {rep.name} in {line.territory.name}")
                self.initial[name] = _initial(rep.saved, rep.suggested)

    def clean(self):
        cleaned = super().clean()
        for name, amount in list(cleaned.items()):
            if amount is not None and amount <= 0:
                self.add_error(name, AMOUNT_PROBLEM)
        if not self.errors and all(cleaned.get(name) is None for name in self.fields):
            raise forms.ValidationError("Type at least one amount to save.")
        return cleaned

    def amounts(self) -> tuple[dict[int, Decimal], dict[tuple[int, int], Decimal]]:
        """(territory id -> amount, (territory id, user id) -> amount) of the amounts typed."""
        territories, reps = {}, {}
        for line in self.lines:
            amount = self.cleaned_data.get(territory_field(line.territory.pk))
            if amount is not None:
                territories[line.territory.pk] = amount
            for rep in line.reps:
                amount = self.cleaned_data.get(rep_field(line.territory.pk, rep.user.pk))
                if amount is not None:
                    reps[(line.territory.pk, rep.user.pk)] = amount
        return territories, reps


def _initial(saved: Decimal | None, suggested: Decimal) -> Decimal | None:
    if saved is not None:
        return saved.quantize(Decimal(1)) if saved == saved.to_integral() else saved
    return suggested if suggested > 0 else None
