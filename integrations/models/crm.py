"""CRM connections (HubSpot, Salesforce): settings, encrypted credentials, watermarks; and the links between CRM
records and the product's."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.utils.dateparse import parse_datetime

from ..crm.secrets import decrypt, encrypt

VENDOR_CHOICES = [("hubspot", "HubSpot"), ("salesforce", "Salesforce")]
OBJECT_CHOICES = [
    ("account", "Companies / accounts"),
    ("contact", "Contacts"),
    ("opportunity", "Deals / opportunities"),
    ("activity", "Activities"),
]
PUSH_FIELDS = ("score", "tier", "owner", "handoff_status")
DEFAULT_PUSH_FIELD_NAMES = {
    "score": "revops_score",
    "tier": "revops_tier",
    "owner": "revops_owner_email",
    "handoff_status": "revops_handoff_status",
}
# A vendor's own defaults, where they differ: Salesforce's custom fields on Account (docs in the README).
VENDOR_PUSH_FIELD_NAMES = {
    "salesforce": {
        "score": "RevOps_Score__c",
        "tier": "RevOps_Tier__c",
        "owner": "RevOps_Owner__c",
        "handoff_status": "RevOps_MQA_Status__c",
    },
}


def default_push_field_names(vendor: str) -> dict[str, str]:
    return VENDOR_PUSH_FIELD_NAMES.get(vendor, DEFAULT_PUSH_FIELD_NAMES)


class CrmConnection(models.Model):
    """One CRM account the product syncs with. `settings` holds what is not secret (base URL, mapping, batch
    sizes); `credentials_encrypted` the tokens and secrets, encrypted (integrations/crm/secrets.py)."""

    vendor = models.CharField(max_length=20, choices=VENDOR_CHOICES)
    name = models.CharField(max_length=120, unique=True)
    enabled = models.BooleanField(default=True, help_text="Synced every 15 minutes when on.")
    settings = models.JSONField(default=dict, blank=True)
    credentials_encrypted = models.TextField(blank=True, editable=False)
    # object -> {"modified_at": ISO time, "crm_id": the last record seen at that time}: where the next pull starts.
    watermarks = models.JSONField(default=dict, blank=True)
    objects_enabled = models.JSONField(default=list, blank=True)  # of OBJECT_CHOICES' keys
    push_enabled = models.BooleanField(default=False, help_text="Write scores, tiers, owners and handoffs back.")
    push_fields = models.JSONField(default=dict, blank=True)  # product field -> CRM property / field name
    push_confirmed = models.BooleanField(default=False, help_text="The first push's changes were seen and confirmed.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "CRM connection"

    def __str__(self) -> str:
        return f"{self.name} ({self.get_vendor_display()})"

    @property
    def credentials(self) -> dict:
        return decrypt(self.credentials_encrypted)

    def credentials_set(self, values: dict) -> None:
        self.credentials_encrypted = encrypt(values)

    def watermark(self, obj: str) -> tuple[dt.datetime | None, str | None]:
        mark = (self.watermarks or {}).get(obj) or {}
        when = parse_datetime(mark["modified_at"]) if mark.get("modified_at") else None
        return when, mark.get("crm_id")

    def push_field_names(self) -> dict[str, str]:
        """Product field -> the CRM property written; a name set blank is not written, one never set is the
        default's."""
        chosen = self.push_fields or {}
        defaults = default_push_field_names(self.vendor)
        names = {key: chosen.get(key, defaults[key]) for key in PUSH_FIELDS}
        return {key: name for key, name in names.items() if name}

    def enabled_objects(self) -> list[str]:
        chosen = self.objects_enabled or [key for key, _ in OBJECT_CHOICES]
        return [key for key, _ in OBJECT_CHOICES if key in chosen]


class CrmLink(models.Model):
    """A CRM record and the product's object it was upserted into (an account, contact, opportunity or signal)."""

    connection = models.ForeignKey(CrmConnection, on_delete=models.CASCADE, related_name="links")
    object_kind = models.CharField(max_length=20, choices=OBJECT_CHOICES)
    crm_id = models.CharField(max_length=64)
    object_id = models.BigIntegerField()
    crm_modified_at = models.DateTimeField(null=True, blank=True)
    # What the CRM holds in the push fields ({crm field: value}), as last pulled or pushed: a push sends only what
    # differs, and its diff shows these as the CRM's values now.
    crm_values = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = "CRM link"
        constraints = [
            models.UniqueConstraint(fields=["connection", "object_kind", "crm_id"], name="crm_link_unique"),
        ]
        indexes = [models.Index(fields=["connection", "object_kind", "object_id"], name="crm_link_object_idx")]

    def __str__(self) -> str:
        return f"{self.get_object_kind_display()} {self.crm_id} -> #{self.object_id}"
