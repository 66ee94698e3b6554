from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from .matching import account_keys


class Account(models.Model):
    """A company we know about: its firmographics, owner and territory."""

    name = models.CharField(max_length=255)
    domain = models.CharField(
        max_length=255, null=True, blank=True, help_text="Normalised: lower case, no scheme, no www."
    )
    external_id = models.CharField(max_length=255, null=True, blank=True, help_text="Key for idempotent upserts.")
    industry = models.CharField(max_length=120, blank=True)
    employee_count = models.PositiveIntegerField(null=True, blank=True)
    annual_revenue = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True, help_text="USD")
    country = models.CharField(max_length=120, blank=True)
    region = models.CharField(max_length=120, blank=True, help_text="Region or state")
    city = models.CharField(max_length=120, blank=True)
    year_founded = models.PositiveSmallIntegerField(null=True, blank=True)
    technologies = models.JSONField(default=list, blank=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="subsidiaries")
    is_customer = models.BooleanField(default=False)
    attributes = models.JSONField(default=dict, blank=True)
    # Computed by segmentation (how much the account resembles the accounts won lately, 0-100; see
    # segmentation/lookalike.py), never imported or written through the API; null until first computed.
    lookalike = models.FloatField(
        null=True, blank=True, editable=False, verbose_name="lookalike score",
        help_text="0-100: how much the account resembles the accounts won lately (computed).",
    )  # fmt: skip
    # Computed, never imported nor written through the API: the topics of its signals surging now (accounts/topics.py),
    # lower-case and trimmed, sorted. A database default too, so rows copied in without it hold an empty list.
    surging_topics = models.JSONField(
        default=list, db_default=models.Value([], models.JSONField()), blank=True, editable=False
    )
    # owner and territory are indexed by the composite indexes below (owner, name) and (territory, name).
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_accounts",
        db_index=False,
    )
    territory = models.ForeignKey(
        "territories.Territory",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="accounts",
        db_index=False,
    )
    # Matching keys (accounts/matching.py), kept by every writer that sets the name or the domain.
    name_key = models.CharField(
        max_length=255,
        null=True,
        blank=True,
        editable=False,
        help_text="The name without legal form, case or punctuation.",
    )
    domain_key = models.CharField(
        max_length=255, null=True, blank=True, editable=False, help_text="The registrable domain (public-suffix list)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["domain"], condition=Q(domain__isnull=False), name="account_domain_unique"),
            models.UniqueConstraint(
                fields=["external_id"], condition=Q(external_id__isnull=False), name="account_external_id_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "name"], name="account_owner_idx"),
            models.Index(fields=["territory", "name"], name="account_territory_idx"),
            models.Index(fields=["industry"], name="account_industry_idx"),
            models.Index(fields=["name"], name="account_name_idx"),
            models.Index(fields=["domain_key"], name="account_domain_key_idx"),
            # Prefix look-ups (LIKE 'acme%') for matching by name.
            models.Index(fields=["name_key"], name="account_name_key_idx", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["updated_at"], name="account_updated_idx"),  # the API's updated_since
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        changed = self.keys_refresh()
        if changed and kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], *changed}
        super().save(*args, **kwargs)

    def keys_refresh(self) -> list[str]:
        """Set the matching keys from the name and domain; returns the names of those that changed."""
        changed = []
        for name, value in account_keys(name=self.name, domain=self.domain).items():
            if getattr(self, name) != value:
                setattr(self, name, value)
                changed.append(name)
        return changed


def territory_model() -> type[models.Model]:
    """The model behind `Account.territory` (the territories app's), for the few look-ups by territory this app
    makes itself (a territory named in an import, the territory filter of the account list) without importing the
    app above it."""
    return Account._meta.get_field("territory").related_model


class Contact(models.Model):
    class Persona(models.TextChoices):
        ECONOMIC_BUYER = "economic_buyer", "Economic buyer"
        CHAMPION = "champion", "Champion"
        TECHNICAL_EVALUATOR = "technical_evaluator", "Technical evaluator"
        USER = "user", "User"
        OTHER = "other", "Other"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="contacts", db_index=False)
    external_id = models.CharField(max_length=255, null=True, blank=True)
    name = models.CharField(max_length=255)
    email = models.EmailField(max_length=254, null=True, blank=True)
    title = models.CharField(max_length=255, blank=True)
    persona = models.CharField(max_length=40, choices=Persona.choices, default=Persona.OTHER)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "email"], condition=Q(email__isnull=False), name="contact_email_per_account_unique"
            ),
            models.UniqueConstraint(
                fields=["external_id"], condition=Q(external_id__isnull=False), name="contact_external_id_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["account", "persona"], name="contact_account_persona_idx"),
            models.Index(fields=["updated_at"], name="contact_updated_idx"),  # the API's updated_since
        ]

    def __str__(self) -> str:
        return self.name


class Signal(models.Model):
    """An engagement or intent event on an account."""

    STANDARD_KINDS = (
        "web_visit",
        "content_download",
        "email_click",
        "event_attended",
        "meeting",
        "intent_surge",
        "job_posting",
        "funding_round",
        "tech_install",
        "leadership_change",
    )

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="signals", db_index=False)
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="signals")
    kind = models.CharField(max_length=60, help_text="A standard kind or an admin-defined one (lower_snake_case).")
    topic = models.CharField(max_length=120, blank=True)
    occurred_at = models.DateTimeField()
    source = models.CharField(max_length=120, blank=True)
    external_id = models.CharField(max_length=255, null=True, blank=True, help_text="Dedupe key.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"], condition=Q(external_id__isnull=False), name="signal_external_id_unique"
            ),
        ]
        # Scoring reads an account's signals by time window; the timeline lists them newest first. The full rescore
        # reads every signal in account order from this index alone (an index-only scan), hence kind and contact.
        indexes = [
            models.Index(
                fields=["account", "occurred_at"], include=["kind", "contact"], name="signal_account_time_cover_idx"
            ),
            models.Index(fields=["created_at"], name="signal_created_idx"),  # the API's updated_since
        ]

    def __str__(self) -> str:
        return f"{self.kind} @ {self.occurred_at:%Y-%m-%d}"


class TopicSurge(models.Model):
    """How much an account's signals on one topic surge: the recent window's count against the account's own
    baseline (the counts of the windows before it), as a z-score (accounts/topics.py). One row per account and topic
    with a signal in the recent window; refreshed nightly as a whole."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="topic_surges", db_index=False)
    topic = models.CharField(max_length=120, help_text="Normalised: lower case, trimmed.")
    label = models.CharField(max_length=120, help_text="The topic as the signals spell it.")
    recent_count = models.PositiveIntegerField()
    baseline_mean = models.FloatField()
    baseline_std = models.FloatField()
    z = models.FloatField()
    surging = models.BooleanField()
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["account", "-surging", "-z", "topic"]
        constraints = [models.UniqueConstraint(fields=["account", "topic"], name="topic_surge_account_topic_unique")]
        # The list's "surging topic" filter and its pick list read the surging rows by topic.
        indexes = [
            models.Index(fields=["topic", "account"], condition=Q(surging=True), name="topic_surge_surging_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.label} on account {self.account_id}"


class Opportunity(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="opportunities", db_index=False)
    external_id = models.CharField(max_length=255, null=True, blank=True)
    name = models.CharField(max_length=255, blank=True)
    product = models.CharField(max_length=255, blank=True)
    amount = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)
    stage = models.CharField(max_length=60)
    is_closed = models.BooleanField(default=False)
    is_won = models.BooleanField(default=False)
    engaged_on = models.DateField(null=True, blank=True)
    closed_on = models.DateField(null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="opportunities"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-closed_on", "-id"]
        verbose_name_plural = "opportunities"
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"], condition=Q(external_id__isnull=False), name="opportunity_external_id_unique"
            ),
            models.CheckConstraint(condition=Q(is_won=False) | Q(is_closed=True), name="opportunity_won_is_closed"),
        ]
        indexes = [
            models.Index(fields=["account", "is_closed"], name="opportunity_account_idx"),
            models.Index(fields=["owner"], name="opportunity_owner_idx"),
            models.Index(fields=["updated_at"], name="opportunity_updated_idx"),  # the API's updated_since
        ]

    def __str__(self) -> str:
        return self.name or self.external_id or f"Opportunity {self.pk}"


class PendingRescore(models.Model):
    """The rescore queue: accounts whose data changed since they were scored (filled by `changes.py`, drained by
    segmentation); a burst of changes to one account leaves one row."""

    # A plain id, not a foreign key: an entry for an account deleted meanwhile just scores nothing.
    account_id = models.BigIntegerField(primary_key=True)
    requested_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "segmentation_pendingrescore"  # its table from when segmentation kept it

    def __str__(self) -> str:
        return f"account {self.account_id}"


class PendingRoute(models.Model):
    """The routing queue: new or changed accounts that must be routed to a territory and an owner (filled by
    `changes.py`, drained by territories)."""

    account_id = models.BigIntegerField(primary_key=True)
    requested_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"account {self.account_id}"


class PendingOwnerChange(models.Model):
    """The owner-change queue: accounts whose owner changed, whose pending handoffs must follow them to the new owner
    (filled by `changes.py`, drained by handoffs)."""

    account_id = models.BigIntegerField(primary_key=True)
    requested_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"account {self.account_id}"


class PendingLookalike(models.Model):
    """The lookalike queue: accounts whose won opportunities changed (won, un-won, closed on another date), so the
    reference set of won accounts changed and lookalike scores must be refreshed (filled by `changes.py`, drained by
    segmentation with one refresh for the whole burst)."""

    account_id = models.BigIntegerField(primary_key=True)
    requested_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"account {self.account_id}"


class DuplicateCandidate(models.Model):
    """A pair of accounts that may be one company, as the last duplicates job found it (accounts/duplicates.py):
    `account_a` has the lower id."""

    account_a = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    account_b = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    score = models.FloatField()
    evidence = models.JSONField(default=dict)
    found_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-score", "id"]
        constraints = [models.UniqueConstraint(fields=["account_a", "account_b"], name="duplicate_pair_unique")]
        indexes = [models.Index(fields=["-score", "id"], name="duplicate_score_idx")]

    def __str__(self) -> str:
        return f"{self.account_a_id} ~ {self.account_b_id} ({self.score:.0f})"


class AccountMerge(models.Model):
    """One account merged into another: who did it, what the merged account was, and what moved (audited)."""

    survivor = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.SET_NULL, related_name="merges_absorbed"
    )
    survivor_name = models.CharField(max_length=255)
    merged_account_id = models.BigIntegerField()
    merged_name = models.CharField(max_length=255)
    merged_domain = models.CharField(max_length=255, blank=True)
    merged_external_id = models.CharField(max_length=255, blank=True)
    moved = models.JSONField(default=dict, blank=True, help_text="What moved to the survivor, by kind of record.")
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    merged_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()  # the audit trail: who merged what, when

    class Meta:
        ordering = ["-merged_at", "-id"]

    def __str__(self) -> str:
        return f"{self.merged_name} merged into {self.survivor_name}"
