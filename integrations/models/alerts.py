"""Chat alerts: Slack and Microsoft Teams channels told of new MQAs, SLA breaches and surges (integrations/alerts/)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.db import models


class AlertKind(models.TextChoices):
    """What a channel may carry, and what a person may opt out of."""

    MQA = "mqa", "New MQA for the rep"
    BREACH = "breach", "SLA breach for the manager"
    SURGE = "surge", "Surge for the account owner"


class AlertChannel(models.Model):
    """A chat channel reached through its incoming webhook. A channel with a territory hears of that territory's
    accounts (and of the territories below it that have no channel of their own); one without is the default, for
    accounts whose territory has no channel."""

    class Kind(models.TextChoices):
        SLACK = "slack", "Slack"
        TEAMS = "teams", "Microsoft Teams"

    kind = models.CharField("chat tool", max_length=10, choices=Kind.choices, default=Kind.SLACK)
    name = models.CharField(max_length=100, help_text="What you call the channel, e.g. #sales-north.")
    webhook_url = models.URLField(
        "incoming-webhook URL", max_length=1000, help_text="The address the chat tool gave for the channel's webhook."
    )
    territory = models.ForeignKey(
        "territories.Territory",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="alert_channels",
        help_text="Leave blank for the default channel of territories without one.",
    )
    carries_mqa = models.BooleanField("new MQA for the rep", default=True)
    carries_breach = models.BooleanField("SLA breach for the manager", default=True)
    carries_surge = models.BooleanField("surge for the account owner", default=True)
    # The cooldown: alerts arriving before this time are held for one digest sent when it passes.
    quiet_until = models.DateTimeField(null=True, blank=True, editable=False)
    last_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.TextField(blank=True, editable=False)
    last_error_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["territory__name", "name", "pk"]
        verbose_name = "chat alert channel"

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    def carries(self, kind: str) -> bool:
        return bool(getattr(self, f"carries_{kind}"))

    @property
    def failing(self) -> bool:
        """Its last post failed (no post went through since)."""
        return bool(self.last_error_at) and (self.last_sent_at is None or self.last_error_at > self.last_sent_at)

    def webhook_shown(self) -> str:
        """The webhook's host only: the rest of the address is the secret that lets anyone post to the channel."""
        parts = urlsplit(self.webhook_url)
        return f"{parts.scheme}://{parts.netloc}/…"

    def carried_labels(self) -> list[str]:
        return [label for value, label in AlertKind.choices if self.carries(value)]


class AlertPreference(models.Model):
    """A person's chat alerts: which kinds they want posted about them, and their Slack member ID for mentions."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_preference")
    slack_user_id = models.CharField(
        "Slack member ID",
        max_length=30,
        blank=True,
        help_text="Optional, e.g. U024BE7LH (Slack: your profile → ⋮ → Copy member ID). Slack messages then mention "
        "you; without it they name you.",
    )
    mqa = models.BooleanField("new MQAs handed to me", default=True)
    breach = models.BooleanField("SLA breaches in my territories (managers)", default=True)
    surge = models.BooleanField("surges on my accounts", default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "chat alert preference"

    def __str__(self) -> str:
        return f"Chat alerts of {self.user}"

    def wants(self, kind: str) -> bool:
        return bool(getattr(self, kind))


class AlertCursor(models.Model):
    """How far the alerts have read the event log (by `seq`): one row, locked while events are turned into alerts,
    so each event is read once."""

    name = models.CharField(max_length=40, unique=True)
    last_seq = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.name} at event {self.last_seq}"


class Alert(models.Model):
    """One alert for one channel: held until the channel may post (at once, or in the digest after its cooldown),
    then sent, or failed with the chat tool's answer."""

    class Status(models.TextChoices):
        HELD = "held", "Waiting"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    channel = models.ForeignKey(AlertChannel, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=10, choices=AlertKind.choices)
    event_id = models.BigIntegerField(help_text="The domain event it tells of.")
    account_id = models.BigIntegerField(null=True, blank=True)
    account_name = models.CharField(max_length=255)
    # Who is told, as mentioned: [{"user_id": 3, "name": "Dana Scully", "slack_user_id": "U123"}].
    people = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.HELD)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    in_digest = models.BooleanField(default=False, help_text="Sent in a digest with others.")
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "event_id", "kind"], name="alert_once_per_event_channel")
        ]
        indexes = [models.Index(fields=["channel", "status", "created_at"], name="alert_channel_status_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.account_name} → {self.channel.name}"
