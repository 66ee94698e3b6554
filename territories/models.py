from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from accounts.criteria import criterion_problem


class Territory(models.Model):
    class Strategy(models.TextChoices):
        ROUND_ROBIN = "round_robin", "Round robin"
        LOAD_BALANCED = "load_balanced", "Load balanced"

    name = models.CharField(max_length=120, unique=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    priority = models.PositiveIntegerField(default=100, help_text="Lower numbers are matched first.")
    criteria = models.JSONField(default=list, blank=True, help_text="Matching criteria, in the ICP criterion language.")
    named_accounts = models.ManyToManyField("accounts.Account", blank=True, related_name="named_in_territories")
    strategy = models.CharField(max_length=20, choices=Strategy.choices, default=Strategy.ROUND_ROBIN)
    # The round-robin rotation survives between runs: the next account goes to the member after this one.
    rotation_last_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()  # the audit trail: who changed what, when

    class Meta:
        ordering = ["priority", "name"]
        verbose_name_plural = "territories"

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """The same rules as the API's, for the admin forms."""

        if not isinstance(self.criteria, list):
            raise ValidationError({"criteria": "Criteria are a list of {group, attribute, operator, value}."})
        for number, criterion in enumerate(self.criteria, start=1):
            if not isinstance(criterion, dict) or not criterion.get("attribute") or not criterion.get("operator"):
                raise ValidationError({"criteria": f"Criterion {number} needs an attribute and an operator."})
            problem = criterion_problem(criterion["operator"], criterion.get("value"))
            if problem:
                raise ValidationError({"criteria": f"Criterion {number}: {problem}"})
        node = self.parent
        while node is not None:
            if self.pk and node.pk == self.pk:
                raise ValidationError({"parent": "A territory cannot sit below itself."})
            node = node.parent


class Membership(models.Model):
    class Role(models.TextChoices):
        REP = "rep", "Rep"
        MANAGER = "manager", "Manager"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    territory = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.REP)
    max_accounts = models.PositiveIntegerField(null=True, blank=True, help_text="Owned accounts; empty = no limit.")
    max_tier1_accounts = models.PositiveIntegerField(
        null=True, blank=True, help_text="Tier 1 accounts; empty = no limit."
    )
    away_from = models.DateField(null=True, blank=True)
    away_until = models.DateField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    last_assigned_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()  # the audit trail: who changed what, when

    class Meta:
        ordering = ["territory", "role", "user"]
        constraints = [
            models.UniqueConstraint(fields=["user", "territory"], name="membership_user_territory_unique"),
            models.CheckConstraint(
                condition=Q(away_from__isnull=True)
                | Q(away_until__isnull=True)
                | Q(away_until__gte=models.F("away_from")),
                name="membership_away_range_valid",
            ),
        ]
        indexes = [models.Index(fields=["user", "is_active"], name="membership_user_idx")]

    def __str__(self) -> str:
        return f"{self.user} in {self.territory} ({self.role})"


class OwnershipChange(models.Model):
    """Every change of an account's owner or territory, with who or which rule made it."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="ownership_changes")
    from_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_territory = models.ForeignKey(Territory, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    to_territory = models.ForeignKey(Territory, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="ownership_changes_made",
    )
    rule = models.CharField(max_length=200, help_text="The rule or action that made the change, in words.")
    job = models.ForeignKey("core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["account", "-at"], name="ownership_account_idx")]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.from_owner_id} -> {self.to_owner_id} ({self.rule})"


class Quota(models.Model):
    """A territory's sales target for a period (both days included): the denominator of pipeline coverage."""

    territory = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="quotas")
    period_start = models.DateField("from")
    period_end = models.DateField("to")
    amount = models.DecimalField(max_digits=18, decimal_places=2, help_text="USD")
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    history = HistoricalRecords()  # the audit trail: who changed what, when

    class Meta:
        ordering = ["-period_start", "territory__name"]
        constraints = [
            models.UniqueConstraint(fields=["territory", "period_start", "period_end"], name="quota_period_unique"),
            models.CheckConstraint(condition=Q(period_end__gte=models.F("period_start")), name="quota_period_order"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="quota_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.territory}: {self.amount} ({self.period_start:%Y-%m-%d} to {self.period_end:%Y-%m-%d})"


class PendingCapacity(models.Model):
    """The Tier 1 capacity queue: territories whose members or capacities changed, so which of their accounts hold
    Tier 1 places must be checked again (filled by the membership services, drained by segmentation)."""

    territory_id = models.BigIntegerField(primary_key=True)
    requested_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"territory {self.territory_id}"
