"""What admins do to webhooks: register, change, delete endpoints, rotate secrets, redeliver, send a test event."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.events import EVENTS_RECORDED
from core.queues import wake_after_commit

from ..models import WebhookDelivery, WebhookEndpoint
from ..models.webhooks import new_secret
from .addresses import UnsafeAddress, check_url
from .delivery import USER_AGENT, post
from .signing import signature

TEST_KIND = "webhook.test"


def _check(endpoint: WebhookEndpoint) -> None:
    try:
        check_url(endpoint.url)
    except UnsafeAddress as exc:
        raise ValidationError({"url": str(exc)}) from exc


def endpoint_create(*, endpoint: WebhookEndpoint, user) -> WebhookEndpoint:
    """Save a new endpoint with a fresh secret (the caller shows it once). Its events start with the next ones."""
    _check(endpoint)
    endpoint.secret = new_secret()
    endpoint.created_by = user
    endpoint.consecutive_failures = 0
    endpoint.save()
    return endpoint


def endpoint_update(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Save an edited endpoint. Switched back on, it starts counting failures afresh and its waiting deliveries are
    sent at once."""
    _check(endpoint)
    with transaction.atomic():
        before = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        fields = ["name", "url", "kinds", "active", "updated_at"]
        if endpoint.active and not before.active:
            endpoint.consecutive_failures, endpoint.failing_since = 0, None
            endpoint.disabled_at, endpoint.disabled_reason = None, ""
            fields += ["consecutive_failures", "failing_since", "disabled_at", "disabled_reason"]
            WebhookDelivery.objects.filter(endpoint=endpoint, status=WebhookDelivery.Status.PENDING).update(
                next_attempt_at=timezone.now()
            )
            wake_after_commit(EVENTS_RECORDED)
        endpoint.save(update_fields=fields)
    return endpoint


def endpoint_delete(*, endpoint: WebhookEndpoint) -> int:
    """Delete the endpoint and its delivery log. Returns how many deliveries went with it."""
    with transaction.atomic():
        count = endpoint.deliveries.count()
        endpoint.delete()
    return count


def secret_rotate(*, endpoint: WebhookEndpoint) -> str:
    """A new secret, used from the next attempt on (the old one stops working at once). Returns it to show once."""
    endpoint.secret = new_secret()
    endpoint.secret_rotated_at = timezone.now()
    endpoint.save(update_fields=["secret", "secret_rotated_at", "updated_at"])
    return endpoint.secret


def _redeliver(queryset) -> int:
    now = timezone.now()
    count = queryset.update(
        status=WebhookDelivery.Status.PENDING, attempts=0, redeliveries=F("redeliveries") + 1, next_attempt_at=now
    )
    if count:
        wake_after_commit(EVENTS_RECORDED)
    return count


def delivery_redeliver(*, delivery: WebhookDelivery) -> bool:
    """Send a delivery again, with a fresh round of retries and the same idempotency key. False while it is still
    pending (it is on its way already)."""
    with transaction.atomic():
        rows = WebhookDelivery.objects.filter(pk=delivery.pk).exclude(status=WebhookDelivery.Status.PENDING)
        return bool(_redeliver(rows))


def endpoint_redeliver_failed(*, endpoint: WebhookEndpoint) -> int:
    """Send every delivery this endpoint gave up on again. Returns how many."""
    with transaction.atomic():
        return _redeliver(WebhookDelivery.objects.filter(endpoint=endpoint, status=WebhookDelivery.Status.FAILED))


@dataclass
class PingResult:
    ok: bool
    code: int | None
    error: str
    duration_ms: int


def endpoint_send_test(*, endpoint: WebhookEndpoint) -> PingResult:
    """POST a signed test event ("webhook.test") to the endpoint now, and say how it answered. Nothing is stored."""
    try:
        check_url(endpoint.url)
    except UnsafeAddress as exc:
        return PingResult(False, None, f"Refused: {exc}", 0)
    now = timezone.now()
    body = json.dumps(
        {
            "id": None,
            "seq": None,
            "kind": TEST_KIND,
            "occurred_at": now.isoformat(),
            "account": None,
            "data": {
                "endpoint": endpoint.name,
                "message": "A test event: your endpoint receives and verifies webhooks.",
            },
        },
        separators=(",", ":"),
        sort_keys=True,
    ).encode()
    timestamp = int(time.time())
    key = str(uuid.uuid4())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-RevOps-Event": TEST_KIND,
        "X-RevOps-Delivery": key,
        "Idempotency-Key": key,
        "X-RevOps-Timestamp": str(timestamp),
        "X-RevOps-Signature": signature(endpoint.secret, timestamp, body),
    }
    begin = time.monotonic()
    ok, code, error = post(endpoint.url, body, headers)
    return PingResult(ok, code, error, int((time.monotonic() - begin) * 1000))
