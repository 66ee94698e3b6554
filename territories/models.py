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
    weight = models.DecimalField(
        max_digits=6,
        decimal_places=2,
        default=1,
        help_text="Share of round-robin rotation, relative to the other members' (1 by default; 2: twice as many).",
    )
    # Weighted rotation's running credit: how far the member is behind (positive) or ahead of its exact share.
    rotation_credit = models.FloatField(default=0.0, editable=False)
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
            models.CheckConstraint(condition=Q(weight__gt=0), name="membership_weight_positive"),
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


class RepQuota(models.Model):
    """A rep's share of a territory's target for a period (both days included)."""

    territory = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="rep_quotas")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="rep_quotas")
    period_start = models.DateField("from")
    period_end = models.DateField("to")
    amount = models.DecimalField(max_digits=18, decimal_places=2, help_text="USD")
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    history = HistoricalRecords()  # the audit trail: who changed what, when

    class Meta:
        ordering = ["-period_start", "territory__name", "user__last_name"]
        verbose_name = "rep quota"
        constraints = [
            models.UniqueConstraint(
                fields=["territory", "user", "period_start", "period_end"], name="rep_quota_period_unique"
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")), name="rep_quota_period_order"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="rep_quota_amount_positive"),
        ]

    def __str__(self) -> str:
        period = f"{self.period_start:%Y-%m-%d} to {self.period_end:%Y-%m-%d}"
        return f"{self.user} in {self.territory}: {self.amount} ({period})"


class PendingCapacity(models.Model):
    """The Tier 1 capacity queue: territories whose members or capacities changed, so which of their accounts hold
    Tier 1 places must be checked again (filled by the membership services, drained by segmentation)."""

    territory_id = models.BigIntegerField(primary_key=True)
    requested_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"territory {self.territory_id}"


class Scenario(models.Model):
    """A named copy of the live territory model (its territories, their rules and members) to plan in: edits and
    balancer runs change only the copy until it is applied."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        RUNNING = "running", "Balancer running"
        READY = "ready", "Proposal ready"
        APPLYING = "applying", "Applying"
        APPLIED = "applied", "Applied"

    name = models.CharField(max_length=120)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="territory_scenarios"
    )
    # An admin's scenario holds every territory; a manager's holds only the territories they manage.
    covers_all = models.BooleanField(default=False)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    weight_potential = models.DecimalField("weight of potential", max_digits=5, decimal_places=2, default=1)
    weight_count = models.DecimalField("weight of account count", max_digits=5, decimal_places=2, default=1)
    weight_tier1 = models.DecimalField("weight of Tier 1 accounts", max_digits=5, decimal_places=2, default=1)
    disruption = models.PositiveSmallIntegerField(
        "minimise disruption", default=0, help_text="0%: balance freely; 100%: move only what must move."
    )
    # What the live territories and members were when copied: a different fingerprint means the live base changed.
    base_fingerprint = models.CharField(max_length=64, blank=True)
    result = models.JSONField(default=dict, blank=True, help_text="The balancer's answer and the plans' figures.")
    run_job = models.ForeignKey("core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    apply_job = models.ForeignKey("core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    ran_at = models.DateTimeField(null=True, blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(disruption__lte=100), name="scenario_disruption_percent"),
            models.CheckConstraint(
                condition=Q(weight_potential__gte=0, weight_count__gte=0, weight_tier1__gte=0),
                name="scenario_weights_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ScenarioTerritory(models.Model):
    """A territory as the scenario plans it; `source` is the live territory it was copied from."""

    scenario = models.ForeignKey(Scenario, on_delete=models.CASCADE, related_name="territories")
    source = models.ForeignKey(Territory, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    name = models.CharField(max_length=120)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children")
    priority = models.PositiveIntegerField(default=100, help_text="Lower numbers are matched first.")
    criteria = models.JSONField(default=list, blank=True, help_text="Matching criteria, in the ICP criterion language.")
    named_account_ids = models.JSONField(default=list, blank=True)
    strategy = models.CharField(
        max_length=20, choices=Territory.Strategy.choices, default=Territory.Strategy.ROUND_ROBIN
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["priority", "name"]
        verbose_name_plural = "scenario territories"
        constraints = [
            models.UniqueConstraint(fields=["scenario", "source"], name="scenario_territory_source_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name} in {self.scenario}"


class ScenarioMember(models.Model):
    """A member of a scenario territory, with the capacities, away dates and weight the scenario gives them."""

    territory = models.ForeignKey(ScenarioTerritory, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    role = models.CharField(max_length=20, choices=Membership.Role.choices, default=Membership.Role.REP)
    max_accounts = models.PositiveIntegerField(null=True, blank=True, help_text="Owned accounts; empty = no limit.")
    max_tier1_accounts = models.PositiveIntegerField(
        null=True, blank=True, help_text="Tier 1 accounts; empty = no limit."
    )
    away_from = models.DateField(null=True, blank=True)
    away_until = models.DateField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    weight = models.DecimalField(
        max_digits=6, decimal_places=2, default=1, help_text="Share of the territory's load, relative to the others'."
    )

    class Meta:
        ordering = ["territory", "role", "user"]
        constraints = [
            models.UniqueConstraint(fields=["territory", "user"], name="scenario_member_unique"),
            models.CheckConstraint(condition=Q(weight__gt=0), name="scenario_member_weight_positive"),
            models.CheckConstraint(
                condition=Q(away_from__isnull=True)
                | Q(away_until__isnull=True)
                | Q(away_until__gte=models.F("away_from")),
                name="scenario_member_away_range_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.territory}"


class ScenarioAssignment(models.Model):
    """The balancer's proposal for one account: its live owner and territory, and those the scenario gives it."""

    scenario = models.ForeignKey(Scenario, on_delete=models.CASCADE, related_name="assignments")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    from_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_territory = models.ForeignKey(Territory, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    to_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_territory = models.ForeignKey(Territory, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scenario", "account"], name="scenario_assignment_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.from_owner_id} -> {self.to_owner_id}"


class AssignmentPreview(models.Model):
    """What an assignment run by a manager or admin would do, prepared as a job and kept for reading page by page:
    the totals and the owned accounts per rep and per territory before and after (aggregated as the plan streamed),
    and every move in `PlannedMove`. A user's new preview replaces their previous one."""

    class Status(models.TextChoices):
        PREPARING = "preparing", "Being prepared"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignment_previews"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PREPARING)
    job = models.ForeignKey("core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    account_ids = models.JSONField(
        null=True, blank=True, help_text="The accounts the preview covers; empty: every account in reach."
    )
    considered = models.PositiveIntegerField(default=0, help_text="Accounts considered.")
    move_count = models.PositiveIntegerField(default=0, help_text="Accounts that would change owner or territory.")
    unassigned = models.PositiveIntegerField(default=0, help_text="Accounts that would be left without an owner.")
    outside_scope = models.PositiveIntegerField(
        default=0, help_text="Accounts matching a territory outside the user's, left where they are."
    )
    rep_counts = models.JSONField(default=list, blank=True, help_text="Owned accounts per rep, before and after.")
    territory_counts = models.JSONField(default=list, blank=True, help_text="Accounts per territory, before and after.")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["created_by", "-created_at"], name="assignment_preview_user_idx")]

    def __str__(self) -> str:
        return f"Assignment preview {self.pk} ({self.get_status_display()}, {self.move_count} moves)"


class PlannedMove(models.Model):
    """One move of an assignment preview, in the order the run would make it (by account id). Plain ids, not foreign
    keys: written by COPY a chunk at a time without a check per row, and never in the way of deleting what they name
    (the preview is a snapshot; apply plans again)."""

    preview = models.ForeignKey(AssignmentPreview, on_delete=models.CASCADE, related_name="moves", db_index=False)
    position = models.PositiveIntegerField()
    account_id = models.BigIntegerField()
    account_name = models.CharField(max_length=255)
    from_owner_id = models.IntegerField(null=True, blank=True)
    to_owner_id = models.IntegerField(null=True, blank=True)
    from_territory_id = models.BigIntegerField(null=True, blank=True)
    to_territory_id = models.BigIntegerField(null=True, blank=True)
    rule = models.CharField(max_length=200)

    class Meta:
        ordering = ["preview", "position"]
        constraints = [models.UniqueConstraint(fields=["preview", "position"], name="planned_move_position_unique")]

    def __str__(self) -> str:
        return f"{self.account_name}: {self.from_owner_id} -> {self.to_owner_id} ({self.rule})"
