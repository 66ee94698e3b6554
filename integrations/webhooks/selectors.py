"""What the webhook pages read."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from ..models import WebhookDelivery, WebhookEndpoint


def endpoint_list() -> QuerySet[WebhookEndpoint]:
    """Every endpoint with its delivery counts by status."""
    s = WebhookDelivery.Status
    return WebhookEndpoint.objects.annotate(
        delivered=Count("deliveries", filter=Q(deliveries__status=s.DELIVERED)),
        pending=Count("deliveries", filter=Q(deliveries__status=s.PENDING)),
        failed=Count("deliveries", filter=Q(deliveries__status=s.FAILED)),
    ).order_by("name", "pk")


def delivery_log(*, endpoint: WebhookEndpoint | None = None, status: str = "") -> QuerySet[WebhookDelivery]:
    """Deliveries, newest first, of one endpoint (or all), of one status (or any)."""
    rows = WebhookDelivery.objects.select_related("endpoint", "event").order_by("-pk")
    if endpoint is not None:
        rows = rows.filter(endpoint=endpoint)
    if status:
        rows = rows.filter(status=status)
    return rows
