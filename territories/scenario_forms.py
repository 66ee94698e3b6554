"""Forms of the planning scenarios: name, balancer settings, a territory's rules, members."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.db.models import Q

from accounts.criteria_forms import CriteriaFormSet

from .forms import MEMBERSHIP_HELP, MEMBERSHIP_LABELS, WEIGHT_ERRORS, MembershipAddForm, _away_order
from .models import Scenario, ScenarioMember, ScenarioTerritory, Territory

SCENARIO_WEIGHT_HELP = "How much the balancer cares about this spread; 0 ignores it."
PERCENT_ERROR = "Choose a value from 0 to 100 percent."
MEMBER_WEIGHT_HELP = "The rep's share of the territory's load, relative to the others': 2 carries twice as much as 1."


def _styled(form: forms.Form) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            widget.attrs.setdefault("class", "form-check-input")
        elif widget.attrs.get("type") == "range":
            widget.attrs.setdefault("class", "form-range")
        else:
            widget.attrs.setdefault("class", "form-select" if isinstance(widget, forms.Select) else "form-control")


def _weight(label: str, help_text: str) -> forms.DecimalField:
    return forms.DecimalField(
        max_digits=5, decimal_places=2, min_value=Decimal(0), max_value=Decimal("100"), label=label,
        help_text=help_text,
        error_messages={**WEIGHT_ERRORS, "min_value": "A weight is 0 or more.", "max_value": "Enter at most 100.",
                        "required": "Enter a weight (1 by default)."},
    )  # fmt: skip


class ScenarioNewForm(forms.Form):
    name = forms.CharField(
        max_length=120, label="Scenario name", error_messages={"required": "Give the scenario a name."}
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _styled(self)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the scenario a name.")
        return name


class ScenarioSettingsForm(forms.Form):
    """The balancer's settings: what to balance and how much to avoid moving accounts."""

    name = forms.CharField(max_length=120, label="Name", error_messages={"required": "Give the scenario a name."})
    weight_potential = _weight("Balance spend potential", SCENARIO_WEIGHT_HELP)
    weight_count = _weight("Balance account count", SCENARIO_WEIGHT_HELP)
    weight_tier1 = _weight("Balance Tier 1 accounts", SCENARIO_WEIGHT_HELP)
    disruption = forms.IntegerField(
        min_value=0,
        max_value=100,
        label="Minimise disruption",
        help_text="0%: balance freely; 100%: move only the accounts that must move (away, inactive or over capacity).",
        widget=forms.NumberInput(attrs={"type": "range", "step": 5, "min": 0, "max": 100}),
        error_messages=dict.fromkeys(("required", "min_value", "max_value", "invalid"), PERCENT_ERROR),
    )  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _styled(self)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the scenario a name.")
        return name


def scenario_settings_initial(scenario: Scenario) -> dict:
    return {name: getattr(scenario, name) for name in ScenarioSettingsForm.base_fields}


class ScenarioRulesForm(forms.Form):
    priority = forms.IntegerField(
        min_value=0, max_value=2_147_483_647, label="Priority",
        help_text="Among territories at the same depth, lower numbers are matched first.",
        error_messages={"required": "Give a priority (100 if unsure)."},
    )  # fmt: skip
    strategy = forms.ChoiceField(choices=Territory.Strategy.choices, label="Owner assignment")
    is_active = forms.BooleanField(required=False, label="Active (routing places accounts here)")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _styled(self)


class ScenarioRulesEditor:
    """A scenario territory's priority, strategy and activity, with its rules in the criterion builder."""

    def __init__(self, data=None, *, territory: ScenarioTerritory):
        initial = {"priority": territory.priority, "strategy": territory.strategy, "is_active": territory.is_active}
        self.form = ScenarioRulesForm(data, initial=initial)
        self.rules = CriteriaFormSet(
            data, prefix="rules", items=territory.criteria or [], with_points=False, with_group=True,
            add_label="Add rule",
        )  # fmt: skip
        self.rule_errors: list[str] = []

    def is_valid(self) -> bool:
        form_valid = self.form.is_valid()
        return self.rules.is_valid() and form_valid

    def values(self) -> dict:
        return {**self.form.cleaned_data, "criteria": self.rules.items()}

    def add_errors(self, error) -> None:
        for field, problems in error.message_dict.items():
            if field == "criteria":
                self.rule_errors += problems
            else:
                self.form.add_error(field if field in self.form.fields else None, problems)


class ScenarioMemberForm(forms.ModelForm):
    class Meta:
        model = ScenarioMember
        fields = ["role", "max_accounts", "max_tier1_accounts", "weight", "away_from", "away_until", "is_active"]
        widgets = {
            "away_from": forms.DateInput(attrs={"type": "date"}),
            "away_until": forms.DateInput(attrs={"type": "date"}),
        }
        labels = {**MEMBERSHIP_LABELS, "weight": "Weight"}
        help_texts = {**MEMBERSHIP_HELP, "weight": MEMBER_WEIGHT_HELP}

    weight = forms.DecimalField(
        max_digits=6, decimal_places=2, min_value=Decimal("0.01"), label="Weight", help_text=MEMBER_WEIGHT_HELP,
        error_messages=WEIGHT_ERRORS,
    )  # fmt: skip

    def __init__(self, *args, may_set_role: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not may_set_role:
            del self.fields["role"]  # only RevOps admins appoint managers
        _styled(self)

    def clean(self):
        cleaned = super().clean()
        _away_order(self, cleaned)
        return cleaned


class ScenarioMemberAddForm(MembershipAddForm):
    """A person joins a scenario territory: the live territory's form, offering the people not already in it."""

    @staticmethod
    def already_in(territory: ScenarioTerritory) -> Q:
        return Q(pk__in=territory.members.values("user_id"))

    def __init__(self, *args, territory: ScenarioTerritory, may_set_role: bool, **kwargs):
        super().__init__(*args, territory=territory, may_set_role=may_set_role, **kwargs)
        _styled(self)


class ApplyConfirmForm(forms.Form):
    accept_base_change = forms.BooleanField(
        required=False,
        label="Apply anyway: replace the live changes made since this scenario was copied",
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
