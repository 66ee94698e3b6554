"""The CRM pages' forms: a connection (credentials never shown back) and an object's field mapping."""

from __future__ import annotations

from django import forms

from accounts.forms import IGNORE, ImportMappingForm

from ..models import CrmConnection
from ..models.crm import DEFAULT_PUSH_FIELD_NAMES, OBJECT_CHOICES, VENDOR_CHOICES, default_push_field_names
from . import mapping as m
from .demo import DEMO_URL

PUSH_FIELD_LABELS = {
    "score": "CRM property for the score",
    "tier": "CRM property for the tier",
    "owner": "CRM property for the owner's e-mail",
    "handoff_status": "CRM property for the handoff status",
}
HUBSPOT_URL = "https://api.hubapi.com"
# Settings only Salesforce reads (the adapter's, integrations/crm/salesforce.py).
SALESFORCE_SETTINGS = ("token_url", "api_version", "ca_bundle")
CREDENTIAL_HELP = "Stored encrypted; never shown again. Leave blank to keep the one saved."


class ConnectionForm(forms.Form):
    vendor = forms.ChoiceField(choices=VENDOR_CHOICES, label="CRM")
    name = forms.CharField(max_length=120, help_text="How the pages name this connection, e.g. “HubSpot production”.")
    base_url = forms.CharField(
        label="API base URL",
        max_length=300,
        initial="https://api.hubapi.com",
        help_text=f"HubSpot: {HUBSPOT_URL}. Salesforce: your org's instance URL, "
        f"https://<my-domain>.my.salesforce.com. “{DEMO_URL}” syncs with the demo CRM built into this app (HubSpot).",
    )
    client_id = forms.CharField(label="OAuth client ID", max_length=200, required=False)
    client_secret = forms.CharField(label="OAuth client secret", required=False, widget=forms.PasswordInput,
                                    help_text=CREDENTIAL_HELP)  # fmt: skip
    access_token = forms.CharField(label="Access token", required=False, widget=forms.PasswordInput,
                                   help_text=CREDENTIAL_HELP)  # fmt: skip
    refresh_token = forms.CharField(
        label="Refresh token",
        required=False,
        widget=forms.PasswordInput,
        help_text="Used to get a new access token when it expires. " + CREDENTIAL_HELP,
    )
    token_url = forms.CharField(
        label="Salesforce OAuth token URL",
        max_length=300,
        required=False,
        help_text="Salesforce only. Blank: production (https://login.salesforce.com/services/oauth2/token); a "
        "sandbox: https://test.salesforce.com/services/oauth2/token.",
    )
    api_version = forms.RegexField(
        label="Salesforce API version",
        regex=r"^\d{2,3}\.0$",
        max_length=10,
        required=False,
        help_text="Salesforce only. Blank: 62.0.",
        error_messages={"invalid": "Give a version such as 62.0."},
    )
    ca_bundle = forms.CharField(
        label="CA certificates file",
        max_length=300,
        required=False,
        help_text="Salesforce only, optional: the path, on the server, of the certificates to trust when the org is "
        "reached through a corporate TLS proxy.",
    )
    enabled = forms.BooleanField(label="Sync every 15 minutes", required=False, initial=True)
    objects_enabled = forms.MultipleChoiceField(
        label="What to pull", choices=OBJECT_CHOICES, widget=forms.CheckboxSelectMultiple, required=True,
        initial=[k for k, _ in OBJECT_CHOICES],
    )  # fmt: skip
    push_enabled = forms.BooleanField(
        label="Write scores, tiers, owners and handoff statuses back to the CRM",
        required=False,
        help_text="The first push shows every change it would make and waits for your confirmation.",
    )
    push_score = forms.CharField(label=PUSH_FIELD_LABELS["score"], max_length=100, required=False,
                                 initial=DEFAULT_PUSH_FIELD_NAMES["score"])  # fmt: skip
    push_tier = forms.CharField(label=PUSH_FIELD_LABELS["tier"], max_length=100, required=False,
                                initial=DEFAULT_PUSH_FIELD_NAMES["tier"])  # fmt: skip
    push_owner = forms.CharField(label=PUSH_FIELD_LABELS["owner"], max_length=100, required=False,
                                 initial=DEFAULT_PUSH_FIELD_NAMES["owner"])  # fmt: skip
    push_handoff_status = forms.CharField(label=PUSH_FIELD_LABELS["handoff_status"], max_length=100, required=False,
                                          initial=DEFAULT_PUSH_FIELD_NAMES["handoff_status"])  # fmt: skip

    def __init__(self, *args, connection: CrmConnection | None = None, **kwargs):
        self.connection = connection
        if connection is not None and "initial" not in kwargs:
            names = connection.push_field_names()
            kwargs["initial"] = {
                "vendor": connection.vendor,
                "name": connection.name,
                "base_url": connection.settings.get("base_url", ""),
                "client_id": connection.settings.get("client_id", ""),
                **{k: connection.settings.get(k, "") for k in SALESFORCE_SETTINGS},
                "enabled": connection.enabled,
                "objects_enabled": connection.enabled_objects(),
                "push_enabled": connection.push_enabled,
                **{f"push_{k}": names.get(k, "") for k in PUSH_FIELD_LABELS},
            }
        super().__init__(*args, **kwargs)
        if connection is not None:
            self.fields["vendor"].disabled = True

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        taken = CrmConnection.objects.filter(name__iexact=name)
        if self.connection is not None:
            taken = taken.exclude(pk=self.connection.pk)
        if taken.exists():
            raise forms.ValidationError("Another connection has this name.")
        return name

    def clean_base_url(self):
        url = self.cleaned_data["base_url"].strip().rstrip("/")
        if url != DEMO_URL and not url.startswith(("https://", "http://")):
            raise forms.ValidationError(f"Give the URL starting with https:// (or “{DEMO_URL}” for the demo CRM).")
        return url

    def clean(self):
        cleaned = super().clean()
        has_token = bool(cleaned.get("access_token")) or (
            self.connection is not None and bool(self.connection.credentials_encrypted)
        )
        if cleaned.get("base_url") and cleaned["base_url"] != DEMO_URL and not has_token:
            self.add_error("access_token", "An access token is needed to reach the CRM.")
        vendor = self.connection.vendor if self.connection is not None else cleaned.get("vendor")
        if vendor == "salesforce":
            if cleaned.get("base_url") in (DEMO_URL, HUBSPOT_URL):
                self.add_error(
                    "base_url", "Give your Salesforce org's instance URL, e.g. https://acme.my.salesforce.com."
                )
            token_url = (cleaned.get("token_url") or "").strip()
            if token_url and not token_url.startswith(("https://", "http://")):
                self.add_error("token_url", "Give the URL starting with https://.")
            if self.connection is None:
                # The page proposes HubSpot's property names; a new Salesforce connection writes to its own
                # custom fields unless other names were typed.
                for key, name in default_push_field_names("salesforce").items():
                    if cleaned.get(f"push_{key}") == DEFAULT_PUSH_FIELD_NAMES[key]:
                        cleaned[f"push_{key}"] = name
        return cleaned

    def values(self) -> dict:
        """The vendor's settings and credentials (secret ones split off by services.split_values)."""
        data = self.cleaned_data
        values = {
            k: data.get(k) or "" for k in ("base_url", "client_id", "client_secret", "access_token", "refresh_token")
        }
        values.update({k: (data.get(k) or "").strip() for k in SALESFORCE_SETTINGS})
        return values

    def model_fields(self) -> dict:
        data = self.cleaned_data
        return {
            "enabled": data["enabled"],
            "objects_enabled": data["objects_enabled"],
            "push_enabled": data["push_enabled"],
            "push_fields": {k: (data.get(f"push_{k}") or "").strip() for k in PUSH_FIELD_LABELS},
        }


class CrmMappingForm(ImportMappingForm):
    """The CSV import's mapping form, over the CRM's fields: each product field filled from a CRM field (shown
    with values of the first records), or not; for companies, CRM fields to keep as attributes."""

    def __init__(self, *args, obj: str, crm_fields: list[tuple[str, str]], guessed: dict, samples: dict,
                 attributes: list[str], **kwargs):  # fmt: skip
        self.obj = obj
        self.labels = dict(crm_fields)
        header = [name for name, _ in crm_fields]
        super().__init__(*args, kind=m.IMPORT_KIND[obj], header=header, guessed=guessed, samples=samples, **kwargs)
        for name in list(self.fields):
            if name.removeprefix("field__") not in m.product_fields(obj):
                del self.fields[name]
        if obj == "contact":
            for name, spec in reversed(list(m.EXTRA_FIELDS["contact"].items())):
                field = forms.ChoiceField(
                    label=spec.title,
                    choices=[(IGNORE, "—")] + [(c, c) for c in header],
                    required=False,
                    initial=guessed.get(name, IGNORE),
                    help_text=spec.help,
                )
                field.field_name, field.required_field = name, False
                self.fields = {f"field__{name}": field, **self.fields}
        if "field__name" in self.fields and obj == "contact":
            self.fields["field__name"].required_field = False
            self.fields["field__name"].help_text = "full name; or a first and a last name; or else the e-mail"
        if obj == "account":
            self.fields["attributes"] = forms.MultipleChoiceField(
                label="Keep as attributes",
                choices=[(c, f"{self.labels.get(c, c)} ({c})") for c in header],
                required=False,
                initial=attributes,
                widget=forms.CheckboxSelectMultiple,
                help_text="Kept with each account under the CRM field's name; criteria and filters can use them.",
            )

    def __iter__(self):
        for name in self.fields:
            if name.startswith("field__"):
                yield self[name]

    def clean(self):
        cleaned = forms.Form.clean(self)
        fields = {key.removeprefix("field__"): column for key, column in cleaned.items()
                  if key.startswith("field__") and column}  # fmt: skip
        for problem in m.problems(self.obj, fields):
            self.add_error(None, problem)
        cleaned["mapping"] = {"fields": fields, "attributes": cleaned.get("attributes") or []}
        return cleaned
