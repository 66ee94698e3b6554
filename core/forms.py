"""Form helpers shared by the apps' pages."""

from django import forms
from django.core.exceptions import ValidationError


def form_add_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Show a service's refusal on the form: each message on its field, or above the form when the field is not
    one of the form's."""
    for field, problems in error.message_dict.items():
        form.add_error(field if field in form.fields else None, problems)


class ApiTokenForm(forms.Form):
    EXPIRY_CHOICES = [("30", "30 days"), ("90", "90 days"), ("365", "1 year"), ("", "Never")]

    name = forms.CharField(
        label="Name",
        max_length=100,
        help_text="What the token is for, e.g. “CRM sync” or “Reporting script”.",
        error_messages={"required": "Give the token a name."},
    )
    expires = forms.ChoiceField(label="Expires after", choices=EXPIRY_CHOICES, required=False, initial="90")

    @property
    def days(self) -> int | None:
        value = self.cleaned_data.get("expires")
        return int(value) if value else None
