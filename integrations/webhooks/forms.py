from django import forms

from core.models import Event

from ..models import WebhookDelivery, WebhookEndpoint


class EndpointForm(forms.ModelForm):
    name = forms.CharField(
        label="Name",
        max_length=100,
        help_text="What receives them, e.g. “Data warehouse” or “Slack relay”.",
        error_messages={"required": "Give the endpoint a name."},
    )
    url = forms.URLField(
        label="URL",
        max_length=500,
        assume_scheme="https",
        help_text="The https:// address events are POSTed to. It must be reachable from the internet.",
        error_messages={
            "required": "Enter the URL events are sent to.",
            "invalid": "Enter a full URL, e.g. https://hooks.example.com/revops.",
        },
    )
    kinds = forms.MultipleChoiceField(
        label="Events",
        choices=Event.Kind.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one event to send."},
    )
    active = forms.BooleanField(
        label="Active", required=False, initial=True, help_text="Switched off, the endpoint is sent nothing."
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["name", "url", "kinds", "active"]


class DeliveryFilter(forms.Form):
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "Any status"), *WebhookDelivery.Status.choices]
    )
