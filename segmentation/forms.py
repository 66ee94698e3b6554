"""Editors for ICPs and scoring model drafts: signal rules one row each, checked by `definition`; criteria are
edited with the criterion builder (`accounts.criteria_forms`)."""

from __future__ import annotations

from django import forms
from django.forms import formset_factory

from accounts.models import Signal
from core.tiers import Tier

from .definition import (
    NUMBER_LABELS,
    PERSONA_LABELS,
    model_errors,
    signal_kind_label,
    signal_rule_errors,
    signal_rules_normal,
)
from .models import ICP, Play, ScoringModel


def style(form: forms.BaseForm) -> None:
    """Bootstrap classes on every widget."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxSelectMultiple):
            continue
        css = (
            "form-check-input"
            if isinstance(widget, forms.CheckboxInput)
            else ("form-select form-select-sm" if isinstance(widget, forms.Select) else "form-control form-control-sm")
        )
        widget.attrs.setdefault("class", css)


class ICPForm(forms.ModelForm):
    class Meta:
        model = ICP
        fields = ["name", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style(self)


class SignalRuleForm(forms.Form):
    kind = forms.CharField(max_length=60, widget=forms.TextInput(attrs={"list": "signal-kinds"}))
    points = forms.FloatField()
    half_life_days = forms.FloatField(label="Half-life (days)")
    max_points = forms.FloatField(label="Cap")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style(self)

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        errors = signal_rule_errors([data]).get(0, {})
        for field, message in errors.items():
            self.add_error(field, message)
        if not errors:
            data["kind"] = signal_rules_normal([data])[0]["kind"]
        return data


class BaseSignalRuleFormSet(forms.BaseFormSet):
    def clean(self):
        """Rules are checked together too: one rule per kind."""
        if any(self.errors):
            return
        kept = [f for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        problems = signal_rule_errors([{k: f.cleaned_data[k] for k in SignalRuleForm.base_fields} for f in kept])
        for index, errors in problems.items():
            for field, message in errors.items():
                kept[index].add_error(field, message)
        if problems:
            raise forms.ValidationError("Fix the signal rules marked below.")


SignalRuleFormSet = formset_factory(SignalRuleForm, formset=BaseSignalRuleFormSet, extra=2, can_delete=True)


def rules_from(formset) -> list[dict]:
    rules = [
        {k: form.cleaned_data[k] for k in ("kind", "points", "half_life_days", "max_points")}
        for form in formset.forms
        if form.cleaned_data and not form.cleaned_data.get("DELETE")
    ]
    return rules


class ScoringModelForm(forms.ModelForm):
    required_personas = forms.MultipleChoiceField(
        choices=list(PERSONA_LABELS.items()), required=False, widget=forms.CheckboxSelectMultiple
    )
    mqa_tiers = forms.MultipleChoiceField(
        label="MQA tiers",
        choices=[(t, Tier(t).label) for t in ("tier_1", "tier_2", "tier_3")],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = ScoringModel
        fields = [
            "name", "icp", "notes", "w_fit", "w_signal", "w_coverage", "full_signal_points", "lookback_days",
            "engagement_window_days", "required_personas", "tier1_enter", "tier1_exit", "tier1_min_fit",
            "tier2_enter", "tier2_exit", "tier2_min_fit", "tier3_enter", "tier3_exit", "tier3_min_fit",
            "min_days_in_tier", "surge_window_days", "surge_delta", "surge_hold_days", "mqa_tiers", "mqa_signal_min",
            "rejection_cooldown_days", "contact_cap", "group_rollup",
        ]  # fmt: skip
        widgets = {"notes": forms.Textarea(attrs={"rows": 2})}
        labels = {"icp": "ICP", **NUMBER_LABELS, "group_rollup": "Group score"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style(self)
        for name, value in self.initial.items():  # 70, not 70.0
            if isinstance(value, float) and value.is_integer():
                self.initial[name] = int(value)

    def clean(self):
        data = super().clean()
        for field, message in model_errors(dict(data)).items():
            if field in self.fields and field not in self.errors:
                self.add_error(field, message)
        return data


SIGNAL_KINDS = [(kind, signal_kind_label(kind)) for kind in Signal.STANDARD_KINDS]


class PlayForm(forms.ModelForm):
    """A tier's play; the tier itself is fixed by the page."""

    class Meta:
        model = Play
        fields = ["name", "motion", "owner_role", "primary_kpi", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}
        error_messages = {
            "name": {"required": "Give the play a name."},
            "motion": {
                "required": "Choose the motion the play runs.",
                "invalid_choice": "Choose a motion from the list.",
            },
            "owner_role": {"required": "Say who runs the play, e.g. Sales + ABM."},
            "primary_kpi": {"required": "Name the primary KPI that tells whether the play works."},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style(self)
