import re

from django import forms

from territories.models import Territory

from ..models import AlertChannel, AlertPreference
from .addresses import AddressRefused, check_webhook_url

SLACK_MEMBER_ID = re.compile(r"^[UW][A-Z0-9]{2,29}$")


class AlertChannelForm(forms.ModelForm):
    webhook_url = forms.URLField(
        label="Incoming-webhook URL",
        max_length=1000,
        assume_scheme="https",
        help_text="Slack: Apps → Incoming Webhooks → Add New Webhook (https://hooks.slack.com/services/…). Teams: the "
        "channel's Workflows → “Post to a channel when a webhook request is received”, or an Incoming Webhook "
        "connector.",
    )

    class Meta:
        model = AlertChannel
        fields = ["kind", "name", "webhook_url", "territory", "carries_mqa", "carries_breach", "carries_surge"]
        labels = {"kind": "Chat tool"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        territory = self.fields["territory"]
        territory.queryset = Territory.objects.filter(is_active=True).order_by("name")
        territory.empty_label = "None: the default channel, for territories without their own"
        territory.required = False

    def clean_webhook_url(self) -> str:
        url = self.cleaned_data["webhook_url"].strip()
        try:
            check_webhook_url(url)
        except AddressRefused as refused:
            raise forms.ValidationError(str(refused)) from None
        return url

    def clean(self):
        data = super().clean()
        if not any(data.get(f) for f in ("carries_mqa", "carries_breach", "carries_surge")):
            raise forms.ValidationError("Choose at least one alert for the channel to carry.")
        return data


class AlertPreferenceForm(forms.Form):
    mqa = forms.BooleanField(label="New MQAs handed to me", required=False)
    breach = forms.BooleanField(label="SLA breaches in my territories (managers)", required=False)
    surge = forms.BooleanField(label="Surges on accounts I own", required=False)
    slack_user_id = forms.CharField(
        label="Slack member ID",
        required=False,
        max_length=30,
        help_text="Optional, e.g. U024BE7LH (in Slack: your profile → ⋮ → Copy member ID). With it, Slack messages "
        "mention you (you get a notification); without it they name you.",
    )

    def clean_slack_user_id(self) -> str:
        return slack_member_id(self.cleaned_data["slack_user_id"])


def slack_member_id(value: str) -> str:
    """A Slack member ID as typed, normalised (trimmed, upper case); refused unless it looks like one. The Chat alerts
    page and the Django admin both apply it."""
    value = (value or "").strip().upper()
    if value and not SLACK_MEMBER_ID.match(value):
        raise forms.ValidationError("A Slack member ID starts with U or W followed by letters and digits.")
    return value


class AlertPreferenceAdminForm(forms.ModelForm):
    class Meta:
        model = AlertPreference
        fields = ["user", "slack_user_id", "mqa", "breach", "surge"]

    def clean_slack_user_id(self) -> str:
        return slack_member_id(self.cleaned_data.get("slack_user_id", ""))
