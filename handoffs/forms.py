from django import forms

from .models import SlaPolicy
from .sla import clock_problems

WEEKDAY_CHOICES = [
    (0, "Monday"), (1, "Tuesday"), (2, "Wednesday"), (3, "Thursday"), (4, "Friday"), (5, "Saturday"), (6, "Sunday"),
]  # fmt: skip


class SlaPolicyForm(forms.ModelForm):
    """A tier's SLA policy; the tier itself is fixed by the page. Range checks are `clock_problems`'s."""

    # Plain integers: the ranges and their messages come from clock_problems, the same as the API's.
    accept_within_hours = forms.IntegerField(
        label="Accept within (hours)",
        help_text="Hours on the policy's clock to accept or reject a handoff (1-720).",
        error_messages={"required": "Accept within 1 to 720 hours.", "invalid": "Enter a whole number of hours."},
        widget=forms.NumberInput(attrs={"min": 1, "max": 720}),
    )
    working_days = forms.TypedMultipleChoiceField(
        coerce=int,
        choices=WEEKDAY_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        error_messages={"invalid_choice": "Working days are numbers from 0 (Monday) to 6 (Sunday)."},
    )
    start_hour = forms.IntegerField(
        help_text="The working day's first hour (0-23), local time.",
        error_messages={
            "required": "The working day starts at an hour from 0 to 23.",
            "invalid": "The working day starts at an hour from 0 to 23.",
        },
        widget=forms.NumberInput(attrs={"min": 0, "max": 23}),
    )
    end_hour = forms.IntegerField(
        help_text="The working day's end (1-24, after the start), local time: 17 means until 17:00.",
        error_messages={
            "required": "The working day ends at an hour from 1 to 24.",
            "invalid": "The working day ends at an hour from 1 to 24.",
        },
        widget=forms.NumberInput(attrs={"min": 1, "max": 24}),
    )

    class Meta:
        model = SlaPolicy
        fields = ["accept_within_hours", "calendar", "time_zone", "working_days", "start_hour", "end_hour",
                  "breach_action"]  # fmt: skip
        widgets = {"time_zone": forms.TextInput(attrs={"list": "time-zones", "autocomplete": "off"})}
        error_messages = {
            "calendar": {
                "required": "Choose 24x7 or business hours.",
                "invalid_choice": "Choose 24x7 or business hours.",
            },
            "time_zone": {"required": "Give a time zone, e.g. Europe/Berlin."},
            "breach_action": {
                "required": "Choose what happens when the SLA is breached.",
                "invalid_choice": "Choose a breach action from the list.",
            },
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if not isinstance(field.widget, forms.CheckboxSelectMultiple):
                select = isinstance(field.widget, forms.Select)
                field.widget.attrs.setdefault("class", "form-select" if select else "form-control")

    def clean(self):
        data = super().clean()
        values = {field: data[field] for field in self.Meta.fields if field in data and field != "breach_action"}
        for field, message in clock_problems(values).items():
            if field not in self.errors:
                self.add_error(field, message)
        return data
