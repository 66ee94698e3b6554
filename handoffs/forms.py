from django import forms

from .models import SlaPolicy
from .sla import clock_problems
from .sla_policies import holiday_fields_check

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

    holiday_country = forms.CharField(
        label="Public holidays of",
        required=False,
        max_length=64,
        help_text="A country's ISO code or name (e.g. DE, GB, US): its public holidays are not working days on a "
        "business-hours clock. Blank: no public holidays. A 24x7 clock counts every day, holidays included.",
        widget=forms.TextInput(attrs={"list": "holiday-countries", "autocomplete": "off"}),
    )
    holiday_subdivision = forms.CharField(
        label="State or region",
        required=False,
        max_length=64,
        help_text="Optional: the state or region whose own holidays apply too, e.g. BE (Berlin), CA (California).",
        widget=forms.TextInput(attrs={"list": "holiday-subdivisions", "autocomplete": "off"}),
    )
    closed_dates = forms.CharField(
        label="Closed dates",
        required=False,
        help_text="Days the team is closed besides public holidays (e.g. a shutdown), one a line as YYYY-MM-DD: "
        "2026-12-24. They are not working days on a business-hours clock.",
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "2026-12-24\n2026-12-31"}),
    )

    class Meta:
        model = SlaPolicy
        fields = ["accept_within_hours", "calendar", "time_zone", "working_days", "start_hour", "end_hour",
                  "holiday_country", "holiday_subdivision", "closed_dates", "breach_action"]  # fmt: skip
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
        if self.instance.pk is not None:
            self.initial["closed_dates"] = "\n".join(self.instance.closed_dates or [])
        for field in self.fields.values():
            if not isinstance(field.widget, forms.CheckboxSelectMultiple):
                select = isinstance(field.widget, forms.Select)
                field.widget.attrs.setdefault("class", "form-select" if select else "form-control")

    def clean(self):
        data = super().clean()
        holiday_fields = ("holiday_country", "holiday_subdivision", "closed_dates")
        values = {field: data[field] for field in self.Meta.fields if field in data and field != "breach_action"}
        problems = clock_problems({k: v for k, v in values.items() if k not in holiday_fields})
        holiday_trouble, holiday_values = holiday_fields_check({k: data.get(k, "") for k in holiday_fields})
        for field, message in {**problems, **holiday_trouble}.items():
            if field not in self.errors:
                self.add_error(field, message)
        for field, value in holiday_values.items():
            if field not in self.errors:
                data[field] = value
        return data
