"""Form helpers shared by the apps' pages."""

from django import forms
from django.core.exceptions import ValidationError


def form_add_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Show a service's refusal on the form: each message on its field, or above the form when the field is not
    one of the form's."""
    for field, problems in error.message_dict.items():
        form.add_error(field if field in form.fields else None, problems)
