"""The integrations' tables, one module per integration (each imported here so Django finds its models)."""

from .webhooks import WebhookCursor, WebhookDelivery, WebhookEndpoint

__all__ = ["WebhookCursor", "WebhookDelivery", "WebhookEndpoint"]
