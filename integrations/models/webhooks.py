"""Webhooks: the endpoints admins register, and one delivery per event and endpoint (the delivery log).

The events themselves are core's `Event` table, written with each change (the transactional outbox). A cursor keeps
the last event `seq` handed out, so every committed event is fanned out once to the endpoints that want its kind.
"""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import models

from core.models import Event

SECRET_PREFIX = "whsec_"  # nosec B105  # a label, not a secret


def new_secret() -> str:
    """A signing secret: 32 random bytes, URL-safe, with a prefix that says what it is."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


class WebhookEndpoint(models.Model):
    """Where events are POSTed: a URL, the event kinds it wants, the secret its requests are signed with."""

    name = models.CharField("Name", max_length=100)
    url = models.URLField("URL", max_length=500)
    kinds = models.JSONField("Events", default=list, help_text="The event kinds sent to this endpoint.")
    secret = models.CharField(max_length=80, default=new_secret)
    active = models.BooleanField("Active", default=True)
    # Failed attempts in a row (any delivery); a success sets it back to 0. At WEBHOOK_DISABLE_AFTER_FAILURES, once
    # they have gone on for WEBHOOK_DISABLE_AFTER_MINUTES, the endpoint is switched off and the admins are told.
    consecutive_failures = models.PositiveIntegerField(default=0)
    failing_since = models.DateTimeField(null=True, blank=True)  # the first of those failures
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    secret_rotated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = "webhook endpoint"

    def __str__(self) -> str:
        return self.name

    @property
    def secret_hint(self) -> str:
        """The start of the secret, enough to tell two apart; the whole secret is shown only when it is made."""
        return self.secret[: len(SECRET_PREFIX) + 4] + "…"

    def kind_labels(self) -> list[str]:
        labels = dict(Event.Kind.choices)
        return [labels.get(kind, kind) for kind in self.kinds]


class WebhookDelivery(models.Model):
    """One event for one endpoint: sent until the endpoint answers 2xx, retried with backoff up to a limit."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="+")
    # The idempotency key (X-RevOps-Delivery): the same on every attempt and redelivery of this event to this
    # endpoint, so the receiver can drop a second copy.
    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField("Attempts", default=0)  # in the current round (a redelivery starts one)
    redeliveries = models.PositiveIntegerField(default=0)
    # When it is next due. While a worker sends it, the time its claim lapses: a worker lost mid-send leaves the
    # delivery due again then (at least once).
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-pk"]
        verbose_name = "webhook delivery"
        verbose_name_plural = "webhook deliveries"
        constraints = [models.UniqueConstraint(fields=["endpoint", "event"], name="webhook_delivery_once")]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due_idx"),
            models.Index(fields=["endpoint", "status", "-id"], name="webhook_delivery_log_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event.kind} #{self.event_id} to {self.endpoint}"


class WebhookCursor(models.Model):
    """How far the events have been fanned out to the endpoints: the last `seq` handed out (one row)."""

    name = models.CharField(max_length=40, primary_key=True)
    seq = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "webhook cursor"

    def __str__(self) -> str:
        return f"{self.name}: up to event {self.seq}"
