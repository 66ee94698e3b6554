"""The vendors the sync knows: vendor -> its adapter factory (adapter.AdapterFactory)."""

from __future__ import annotations

from .adapter import AdapterFactory
from .hubspot import hubspot_adapter
from .salesforce import build as salesforce_adapter

VENDORS: dict[str, AdapterFactory] = {"hubspot": hubspot_adapter, "salesforce": salesforce_adapter}
VENDOR_LABELS = {"hubspot": "HubSpot", "salesforce": "Salesforce"}
# What a vendor's settings hold that is secret: kept encrypted (CrmConnection.credentials), never shown back.
SECRET_KEYS = {
    "access_token",
    "refresh_token",
    "client_secret",
    "password",
    "security_token",
    "consumer_secret",
    "private_key",
    "session_id",
}
# What a vendor calls the objects, where it differs from the product ("HubSpot company 1234").
VENDOR_NOUNS = {
    "hubspot": {"account": "company", "opportunity": "deal"},
    "salesforce": {"account": "account", "opportunity": "opportunity", "activity": "task or event"},
}
