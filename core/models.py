from django.conf import settings
from django.db import models


class Job(models.Model):
    """A long-running piece of work (import, rescore, assignment...) and its progress."""

    class Kind(models.TextChoices):
        IMPORT = "import", "Import"
        GENERATE = "generate", "Generate data"
        RESCORE = "rescore", "Rescore"
        PREVIEW = "preview", "Model preview"
        ASSIGN = "assign", "Assign owners"
        RECALIBRATE = "recalibrate", "Recalibration"
        POTENTIAL = "potential", "Spend potential"
        SNAPSHOT = "snapshot", "KPI snapshot"
        BACKTEST = "backtest", "Backtest"
        CRM_SYNC = "crm_sync", "CRM sync"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    title = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    done = models.PositiveBigIntegerField(default=0)
    total = models.PositiveBigIntegerField(null=True, blank=True)
    params = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    # The last sign of life of a queued or running job (started, a step done); the healer (core/jobs.py) takes a job
    # silent for too long as stopped.
    progressed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["created_by", "-created_at"], name="job_creator_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.status})"

    @property
    def percent(self) -> int:
        if self.status == self.Status.SUCCEEDED:
            return 100
        if not self.total:
            return 0
        return min(100, int(100 * self.done / self.total))

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)


class ApiToken(models.Model):
    """A key for the API. Only its SHA-256 digest is kept: the key itself is shown once, when it is made.

    A token stops working when it expires, when it is revoked, or when its user is deactivated.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    # The key's first characters, so a user can tell their tokens apart; too short to guess the rest from.
    prefix = models.CharField(max_length=12)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="apitoken_user_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class SsoGroupRole(models.Model):
    """Single sign-on: members of this identity-provider group (from the groups claim) get this role."""

    group = models.CharField(max_length=200, help_text="The group's name exactly as the identity provider sends it.")
    role = models.CharField(
        max_length=20, choices=[("rep", "Sales rep"), ("manager", "Sales manager"), ("admin", "RevOps admin")]
    )

    class Meta:
        ordering = ["group", "role"]
        constraints = [models.UniqueConstraint(fields=["group", "role"], name="sso_group_role_unique")]
        verbose_name = "single sign-on group mapping"

    def __str__(self) -> str:
        return f"{self.group} → {self.get_role_display()}"


class Event(models.Model):
    """A domain event: something that happened to an account (or to the product) that outside tools may want to
    know. Written by the app that makes the change, in the same transaction as the change (`core/events.py`), so an
    event exists exactly when its change committed. The integrations app reads them: the change feed, webhooks and
    chat alerts. `seq` is given once the event is seen committed (`core.events.sequence`), in commit order, so a
    reader paging by `seq` never skips an event that committed late."""

    class Kind(models.TextChoices):
        TIER_CHANGED = "tier.changed", "Tier changed"
        MQA_RAISED = "mqa.raised", "MQA raised"
        HANDOFF_ASSIGNED = "handoff.assigned", "Handoff assigned"
        HANDOFF_ACCEPTED = "handoff.accepted", "Handoff accepted"
        HANDOFF_REJECTED = "handoff.rejected", "Handoff rejected"
        HANDOFF_BREACHED = "handoff.breached", "SLA breached"
        OWNER_CHANGED = "owner.changed", "Owner changed"
        MODEL_PUBLISHED = "model.published", "Scoring model published"
        SURGE_STARTED = "surge.started", "Signal surge"

    kind = models.CharField(max_length=40, choices=Kind.choices)
    occurred_at = models.DateTimeField()
    # The account it happened to (none for product-wide events such as a publish). A plain id, not a foreign key:
    # the log outlives merges and deletions, and writing it never locks the account.
    account_id = models.BigIntegerField(null=True, blank=True)
    # The acting user, when a person did it (a rep accepting, an admin publishing); none for the product's own work.
    actor_id = models.BigIntegerField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)
    seq = models.BigIntegerField(null=True, blank=True, unique=True)

    class Meta:
        ordering = ["seq", "id"]
        indexes = [
            models.Index(fields=["account_id", "seq"], name="event_account_seq_idx"),
            models.Index(fields=["kind", "seq"], name="event_kind_seq_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"
