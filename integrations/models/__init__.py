"""The integrations' tables, one module per integration (each imported here so Django finds its models)."""

from .alerts import Alert, AlertChannel, AlertCursor, AlertKind, AlertPreference
from .crm import CrmConnection, CrmLink
from .webhooks import WebhookCursor, WebhookDelivery, WebhookEndpoint

__all__ = [
    "Alert",
    "AlertChannel",
    "AlertCursor",
    "AlertKind",
    "AlertPreference",
    "CrmConnection",
    "CrmLink",
    "WebhookCursor",
    "WebhookDelivery",
    "WebhookEndpoint",
]
