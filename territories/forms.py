from django import forms

from .models import Membership, Quota


class MembershipForm(forms.ModelForm):
    """What a manager may change about a member of their territory."""

    class Meta:
        model = Membership
        fields = ["max_accounts", "max_tier1_accounts", "away_from", "away_until", "is_active"]
        widgets = {
            "away_from": forms.DateInput(attrs={"type": "date"}),
            "away_until": forms.DateInput(attrs={"type": "date"}),
        }
        labels = {"max_accounts": "Capacity (owned accounts)", "max_tier1_accounts": "Tier 1 capacity"}

    def clean(self):
        cleaned = super().clean()
        starts, ends = cleaned.get("away_from"), cleaned.get("away_until")
        if starts and ends and ends < starts:
            self.add_error("away_until", "The return date is before the first day away.")
        return cleaned


class ReassignForm(forms.Form):
    account_ids = forms.TypedMultipleChoiceField(
        coerce=int, choices=[], error_messages={"required": "Select at least one account."}
    )
    owner = forms.TypedChoiceField(coerce=int, choices=[], empty_value=None, required=False)

    def __init__(self, *args, account_choices, owner_choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account_ids"].choices = account_choices
        self.fields["owner"].choices = [("", "— nobody (unassign) —"), *owner_choices]


class QuotaForm(forms.ModelForm):
    """A territory's quota for a period; the rules (order of days, amount, no duplicate) are the service's."""

    class Meta:
        model = Quota
        fields = ["territory", "period_start", "period_end", "amount"]
        widgets = {
            "period_start": forms.DateInput(attrs={"type": "date"}),
            "period_end": forms.DateInput(attrs={"type": "date"}),
        }

    def clean(self):
        from .quotas import quota_problems

        cleaned = super().clean()
        problems = quota_problems(
            territory=cleaned.get("territory"),
            period_start=cleaned.get("period_start"),
            period_end=cleaned.get("period_end"),
            amount=cleaned.get("amount"),
            exclude_pk=self.instance.pk,
        )
        for field, message in problems.items():
            self.add_error(field, message)
        return cleaned

    def validate_unique(self):
        # clean() has said it in words; the model's generic constraint messages would only repeat it.
        pass
