"""The integrations' tables, one module per integration (each imported here so Django finds its models)."""

from .crm import CrmConnection, CrmLink
from .webhooks import WebhookCursor, WebhookDelivery, WebhookEndpoint

__all__ = ["CrmConnection", "CrmLink", "WebhookCursor", "WebhookDelivery", "WebhookEndpoint"]
