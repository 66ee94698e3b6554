"""Editors for ICPs and scoring model drafts: criteria and signal rules one row each, checked by `definition`."""

from __future__ import annotations

import json

from django import forms
from django.forms import formset_factory

from accounts.criteria import BOOLEAN, NUMBER, OPERATORS, attribute_type, criterion_errors
from accounts.models import Signal
from core.tiers import Tier

from .definition import PERSONAS, model_errors, signal_rule_errors, signal_rules_normal
from .models import ICP, Play, ScoringModel

OPERATOR_CHOICES = [(op, op) for op in OPERATORS]


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


def _number(text: str):
    value = float(text)
    return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value


def parse_value(text: str, operator: str, attribute: str):
    """A criterion's value from what a person types: `a, b` for lists, `low, high` for between, JSON also accepted."""
    text = (text or "").strip()
    if operator == "exists":
        return None
    if text.startswith("["):
        try:
            return json.loads(text)
        except ValueError:
            raise forms.ValidationError(
                "This list is not valid JSON; or write the values separated by commas."
            ) from None
    kind = attribute_type(attribute)
    if operator in ("in", "not_in", "between"):
        parts = [p.strip() for p in text.split(",") if p.strip()]
        if kind == NUMBER or operator == "between":
            try:
                return [_number(p) for p in parts]
            except ValueError:
                raise forms.ValidationError("Write numbers separated by commas.") from None
        return parts
    if operator in ("gte", "lte") or (kind == NUMBER and operator in ("eq", "neq")):
        try:
            return _number(text)
        except ValueError:
            raise forms.ValidationError("Write a number.") from None
    if kind == BOOLEAN and text.lower() in ("true", "false", "yes", "no"):
        return text.lower() in ("true", "yes")
    return text


def show_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class CriterionForm(forms.Form):
    group = forms.CharField(required=False, max_length=120)
    attribute = forms.CharField(max_length=80, widget=forms.TextInput(attrs={"list": "attributes"}))
    operator = forms.ChoiceField(choices=OPERATOR_CHOICES)
    value = forms.CharField(required=False, max_length=1000)
    points = forms.FloatField(required=False)

    with_points = True

    def __init__(self, *args, keys: set[str] | None = None, **kwargs):
        self.keys = keys or set()
        super().__init__(*args, **kwargs)
        style(self)

    def clean(self):
        data = super().clean()
        if self.errors or not data.get("attribute"):
            return data
        try:
            value = parse_value(data.get("value", ""), data["operator"], data["attribute"].strip())
        except forms.ValidationError as exc:
            self.add_error("value", exc)
            return data
        item = {"attribute": data["attribute"].strip(), "operator": data["operator"], "value": value}
        if self.with_points:
            item["group"] = (data.get("group") or "").strip()
            item["points"] = data.get("points")
        for field, message in criterion_errors(item, keys=self.keys, with_points=self.with_points).items():
            self.add_error(field if field in self.fields else None, message)
        data["item"] = item
        return data


class ExclusionForm(CriterionForm):
    with_points = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["group"]
        del self.fields["points"]


CriterionFormSet = formset_factory(CriterionForm, extra=3, can_delete=True)
ExclusionFormSet = formset_factory(ExclusionForm, extra=2, can_delete=True)


def criteria_initial(items: list[dict]) -> list[dict]:
    return [{**item, "value": show_value(item.get("value"))} for item in items]


def formset_items(formset) -> list[dict]:
    """The criteria a valid formset holds, blank and deleted rows left out, in order."""
    return [
        form.cleaned_data["item"]
        for form in formset.forms
        if form.cleaned_data and not form.cleaned_data.get("DELETE") and "item" in form.cleaned_data
    ]


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
        choices=[(p, p.replace("_", " ")) for p in PERSONAS], required=False, widget=forms.CheckboxSelectMultiple
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
            "rejection_cooldown_days",
        ]  # fmt: skip
        widgets = {"notes": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style(self)

    def clean(self):
        data = super().clean()
        for field, message in model_errors(dict(data)).items():
            if field in self.fields and field not in self.errors:
                self.add_error(field, message)
        return data


SIGNAL_KINDS = list(Signal.STANDARD_KINDS)


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
