"""Handoffs: MQAs handed to sales under a tier's SLA (moved from territories with their tables kept)."""

from django.conf import settings
from django.db import models
from django.db.models import Q, Value
from simple_history.models import HistoricalRecords

from core.fields import ListField
from core.tiers import TIER_CHOICES


def default_working_days() -> list[int]:
    return [0, 1, 2, 3, 4]  # Monday to Friday (Python's weekday numbers)


class SlaPolicy(models.Model):
    """How fast a tier's MQAs must be accepted, on which clock, and what happens when they are not."""

    class Calendar(models.TextChoices):
        ALWAYS = "24x7", "24x7"
        BUSINESS_HOURS = "business_hours", "Business hours"

    class BreachAction(models.TextChoices):
        NOTIFY_MANAGER = "notify_manager", "Notify the manager"
        REASSIGN = "reassign", "Reassign to the next eligible member"
        RECYCLE = "recycle", "Recycle the account"

    tier = models.CharField(max_length=10, unique=True, choices=TIER_CHOICES)
    accept_within_hours = models.PositiveIntegerField(help_text="Hours (on the policy's clock) to accept or reject.")
    calendar = models.CharField(max_length=20, choices=Calendar.choices, default=Calendar.BUSINESS_HOURS)
    time_zone = models.CharField(max_length=64, default="UTC", help_text="An IANA time zone, e.g. Europe/Berlin.")
    working_days = ListField(base="int", default=default_working_days, help_text="0 = Monday ... 6 = Sunday.")
    start_hour = models.PositiveSmallIntegerField(default=9, help_text="The working day's first hour (0-23).")
    end_hour = models.PositiveSmallIntegerField(default=17, help_text="The working day's end (1-24), after the start.")
    # A business-hours clock does not run on the public holidays of this country (a two-letter ISO code) and
    # subdivision (the `holidays` package's code, e.g. BE for Berlin), nor on the policy's own closed dates.
    # Database defaults too, so a row written without these fields (an older release mid-deploy) is still valid.
    holiday_country = models.CharField(
        max_length=2,
        blank=True,
        db_default="",
        help_text="Public holidays of this country (ISO code, e.g. DE) do not count.",
    )
    holiday_subdivision = models.CharField(
        max_length=40,
        blank=True,
        db_default="",
        help_text="Optional: the state or region whose holidays apply, e.g. BE (Berlin).",
    )
    closed_dates = ListField(
        base="text",
        blank=True,
        db_default=Value([], output_field=ListField(base="text")),
        help_text="Dates (YYYY-MM-DD) the team is closed.",
    )
    breach_action = models.CharField(max_length=20, choices=BreachAction.choices, default=BreachAction.NOTIFY_MANAGER)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    # The audit trail: who changed what, when (its table kept from when policies lived in territories).
    history = HistoricalRecords(table_name="territories_historicalslapolicy")

    class Meta:
        db_table = "territories_slapolicy"
        ordering = ["tier"]
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"

    def __str__(self) -> str:
        return f"{self.get_tier_display()}: {self.accept_within_hours} h ({self.get_calendar_display()})"


class Handoff(models.Model):
    """An MQA handed to its owner, with the SLA clock that runs until the owner accepts or rejects it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"
        EXPIRED = "expired", "Expired"

    class Reason(models.TextChoices):
        NOT_ICP = "not_icp", "Not our ICP"
        NO_BUDGET = "no_budget", "No budget"
        EXISTING_CUSTOMER = "existing_customer", "Existing customer"
        DUPLICATE = "duplicate", "Duplicate"
        BAD_TIMING = "bad_timing", "Bad timing"
        COMPETITOR = "competitor", "Competitor"
        OTHER = "other", "Other"

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="handoffs")
    mqa = models.OneToOneField("segmentation.MQA", on_delete=models.CASCADE, related_name="handoff")
    territory = models.ForeignKey(
        "territories.Territory", null=True, blank=True, on_delete=models.SET_NULL, related_name="handoffs"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="handoffs"
    )
    tier = models.CharField(max_length=10, choices=TIER_CHOICES)
    assigned_at = models.DateTimeField(null=True, blank=True, help_text="When the owner got it: the clock's start.")
    accept_due_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=20, choices=Reason.choices, blank=True)
    note = models.TextField(blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    # Who held the handoff when the sweep marked it breached: the breach counts against them, whoever holds it later
    # (a breach action or a manager may reassign it). Not indexed: read only by the SLA compliance aggregates.
    breached_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        editable=False,
    )
    # Who was told of the breach by e-mail and who could not be (no address): {"told": [names], "not_told": [names],
    # "to": "managers" | "admins"}, written by the sweep; empty until the handoff is breached.
    breach_audience = models.JSONField(null=True, blank=True, editable=False)
    breach_notified_at = models.DateTimeField(null=True, blank=True, editable=False)
    owner_notified_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # Every write sets it (the services' conditional updates name it): what `updated_since` on the API reads.
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "territories_handoff"
        ordering = ["accept_due_at", "pk"]
        indexes = [
            models.Index(fields=["owner", "status", "accept_due_at"], name="handoff_owner_due_idx"),
            models.Index(
                fields=["accept_due_at"],
                name="handoff_overdue_idx",
                condition=Q(status="pending", breached_at__isnull=True),
            ),
            models.Index(fields=["territory", "status"], name="handoff_territory_idx"),
            models.Index(fields=["updated_at"], name="handoff_updated_idx"),  # the API's updated_since
        ]

    def __str__(self) -> str:
        return f"Handoff {self.pk}: account {self.account_id} to {self.owner_id} ({self.status})"
