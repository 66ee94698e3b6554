"""What we think of accounts: the ICP, versioned scoring models and each account's current score."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from core.fields import ListField
from core.tiers import Tier, tier_rank


def default_mqa_tiers() -> list[str]:
    return [Tier.TIER_1.value, Tier.TIER_2.value]


class ICP(models.Model):
    """An Ideal Customer Profile: fit criteria (grouped, with points) and exclusion criteria."""

    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    criteria = models.JSONField(default=list, blank=True, help_text="[{group, attribute, operator, value, points}]")
    exclusions = models.JSONField(default=list, blank=True, help_text="[{attribute, operator, value}]")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    history = HistoricalRecords()  # the audit trail: who changed what, when

    class Meta:
        ordering = ["name"]
        verbose_name = "ICP"
        verbose_name_plural = "ICPs"

    def __str__(self) -> str:
        return self.name


class GroupRollup(models.TextChoices):
    """How the score of a parent's group (the parent and its subsidiaries) is computed."""

    HIGHEST = "max", "Highest score in the group"
    SUM_SIGNALS = "sum_signals", "Sum of the group's signals"


class ScoringModel(models.Model):
    """One version of the scoring model. Drafts are edited; exactly one version is active; the rest are archived.

    A draft reads its ICP's criteria as they are now; publishing freezes them into `criteria`/`exclusions`, so the
    scores of an active or archived version never change behind anyone's back.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        ARCHIVED = "archived", "Archived"

    name = models.CharField(max_length=120)
    version = models.PositiveIntegerField(unique=True, editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    icp = models.ForeignKey(ICP, on_delete=models.PROTECT, related_name="models", verbose_name="ICP")
    notes = models.TextField(blank=True, help_text="What this version changes and why.")
    based_on = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Frozen copy of the ICP at publish time.
    criteria = models.JSONField(default=list, blank=True, editable=False)
    exclusions = models.JSONField(default=list, blank=True, editable=False)

    signal_rules = models.JSONField(default=list, blank=True, help_text="[{kind, points, half_life_days, max_points}]")
    required_personas = models.JSONField(default=list, blank=True)
    w_fit = models.FloatField("fit weight", default=0.6)
    w_signal = models.FloatField("signal weight", default=0.3)
    w_coverage = models.FloatField("coverage weight", default=0.1)
    full_signal_points = models.FloatField(default=100.0, help_text="Signal points that make a signal score of 100.")
    lookback_days = models.PositiveIntegerField(default=365)
    engagement_window_days = models.PositiveIntegerField(default=90)

    tier1_enter = models.FloatField("Tier 1 enter", default=75)
    tier1_exit = models.FloatField("Tier 1 exit", default=70)
    tier1_min_fit = models.FloatField("Tier 1 minimum fit", default=70)
    tier2_enter = models.FloatField("Tier 2 enter", default=55)
    tier2_exit = models.FloatField("Tier 2 exit", default=50)
    tier2_min_fit = models.FloatField("Tier 2 minimum fit", default=50)
    tier3_enter = models.FloatField("Tier 3 enter", default=35)
    tier3_exit = models.FloatField("Tier 3 exit", default=30)
    tier3_min_fit = models.FloatField("Tier 3 minimum fit", default=30)
    min_days_in_tier = models.PositiveIntegerField(default=14)
    surge_window_days = models.PositiveIntegerField(default=7)
    surge_delta = models.FloatField(default=20)
    surge_hold_days = models.PositiveIntegerField(default=14)
    mqa_tiers = models.JSONField(default=default_mqa_tiers, blank=True, help_text="Tiers whose entry raises an MQA.")
    mqa_signal_min = models.FloatField("MQA minimum signal", default=30)
    rejection_cooldown_days = models.PositiveIntegerField(default=30)
    # Roll-ups: how much one contact's engagement may count, and how a parent's group of accounts is scored.
    contact_cap = models.FloatField(
        "signal points per contact",
        null=True,
        blank=True,
        help_text="The most signal points one contact's signals can add (before each kind's cap); blank: no cap. "
        "Signals without a contact are not capped per contact.",
    )
    group_rollup = models.CharField(
        "group score",
        max_length=12,
        choices=GroupRollup.choices,
        default=GroupRollup.HIGHEST,
        help_text="How a parent account's group (the parent and its subsidiaries) is scored on the parent's page.",
    )

    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    archived_at = models.DateTimeField(null=True, blank=True, editable=False)
    # A restore brings an archived version back without rewriting when and by whom it was first published.
    restored_at = models.DateTimeField(null=True, blank=True, editable=False)
    restored_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    # In shadow (a champion/challenger trial): every rescore also scores the rescored accounts with this draft into
    # ShadowScore, changing nothing live. At most one version at a time, and only a draft.
    in_shadow = models.BooleanField("in shadow", default=False, editable=False)
    shadow_since = models.DateTimeField("in shadow since", null=True, blank=True, editable=False)

    history = HistoricalRecords()  # the audit trail: who changed what, when

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(fields=["status"], condition=Q(status="active"), name="one_active_scoring_model"),
            models.UniqueConstraint(fields=["in_shadow"], condition=Q(in_shadow=True), name="one_shadow_scoring_model"),
            models.CheckConstraint(condition=Q(in_shadow=False) | Q(status="draft"), name="shadow_is_a_draft"),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version} ({self.get_status_display().lower()})"

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    def current_criteria(self) -> tuple[list, list]:
        """(criteria, exclusions) this version scores with: its ICP's live ones for a draft, else the frozen copy."""
        if self.is_draft:
            return list(self.icp.criteria or []), list(self.icp.exclusions or [])
        return list(self.criteria or []), list(self.exclusions or [])

    def tier_thresholds(self) -> dict[str, tuple[float, float, float]]:
        """{tier: (enter, exit, min_fit)}, best tier first."""
        return {
            Tier.TIER_1: (self.tier1_enter, self.tier1_exit, self.tier1_min_fit),
            Tier.TIER_2: (self.tier2_enter, self.tier2_exit, self.tier2_min_fit),
            Tier.TIER_3: (self.tier3_enter, self.tier3_exit, self.tier3_min_fit),
        }


class AccountScore(models.Model):
    """An account's current score under the model version that computed it, with the contributions behind it."""

    # Django enforces CASCADE and PROTECT; the database keeps no foreign keys here, whose checks would cost a full
    # rescore two look-ups per row at commit. No index on the model either: a million scores share a few versions.
    account = models.OneToOneField(
        "accounts.Account", primary_key=True, on_delete=models.CASCADE, related_name="score", db_constraint=False
    )
    model = models.ForeignKey(
        ScoringModel, on_delete=models.PROTECT, related_name="scores", db_index=False, db_constraint=False
    )
    fit = models.FloatField()
    signal = models.FloatField()
    coverage = models.FloatField()
    unified = models.FloatField()
    tier = models.CharField(max_length=10, choices=Tier.choices)
    tier_since = models.DateTimeField()
    surge_until = models.DateTimeField(null=True, blank=True, help_text="Surging until then (the tiers' rule 5).")
    # Which rule holds the tier where it is, beyond the thresholds: "surge" (one tier above the candidate),
    # "hysteresis" or "min_days" (kept above a worse candidate), "capacity" (held at Tier 2 by its territory's Tier 1
    # capacity). See tiers.py.
    flags = ListField(base="text")
    # The explanation: the criteria that scored (index of the best matched criterion of each group), the exclusions
    # that matched and the required personas engaged. Indexes refer to the model's own frozen definition, so a score
    # can always be explained from its version; the signal part is recomputed from the signals as of `as_of`.
    matched = ListField(base="int")
    excluded = ListField(base="int")
    personas = ListField(base="text")
    as_of = models.DateTimeField(help_text="The moment the score describes (signals decay up to it).")
    computed_at = models.DateTimeField()
    # The account's territory and owner, copied by database triggers whenever either changes or a score is written
    # (migration 0007), whatever writes them: so a list of one territory's or one rep's accounts filtered by tier and
    # sorted by score is one range of an index of this table, not a join of every account of the scope.
    account_territory_id = models.BigIntegerField(null=True, blank=True, editable=False)
    account_owner_id = models.IntegerField(null=True, blank=True, editable=False)

    class Meta:
        indexes = [
            # The account id ends each tier index: a page of one tier best first (score, then id: the account list's
            # order) is read from the index alone, in its order, without visiting the table or sorting the ties.
            models.Index(fields=["tier", "-unified", "account"], name="score_tier_unified_id_idx"),
            models.Index(fields=["-unified"], name="score_unified_idx"),
            models.Index(
                fields=["account_territory_id", "tier", "-unified", "account"], name="score_territory_tier_id_idx"
            ),
            models.Index(fields=["account_owner_id", "tier", "-unified", "account"], name="score_owner_tier_id_idx"),
            models.Index(tier_rank("tier"), models.F("unified").desc(), name="score_rank_unified_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.unified} ({self.tier})"


class RescoreChunk(models.Model):
    """One slice of a full rescore job: the accounts with lo <= id < hi (hi empty: no upper end)."""

    job = models.ForeignKey("core.Job", on_delete=models.CASCADE, related_name="rescore_chunks")
    number = models.PositiveIntegerField()
    lo = models.BigIntegerField()
    hi = models.BigIntegerField(null=True, blank=True)
    accounts = models.PositiveIntegerField(default=0)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["job", "number"]
        constraints = [models.UniqueConstraint(fields=["job", "number"], name="rescore_chunk_unique")]

    def __str__(self) -> str:
        return f"job {self.job_id} step {self.number}"


class TierChange(models.Model):
    """One move of an account from one tier to another, with its reason in words and the scores behind it."""

    # A first publish writes a placement per account (a million rows). So, as for the scores: no index of the account's
    # own (tierchange_account_at_idx begins with it), and no foreign keys in the database, whose deferred checks cost
    # two look-ups and a lock on the account's row per placement at commit (by hand, on one slice of 145,000
    # accounts: 1.4 s at commit after a 0.7 s insert; bench/rescore.py's full rescore went from 43.5 s to 33 s).
    # Django enforces CASCADE and PROTECT, as for the scores; the rescore writes placements only for accounts it has
    # just read, under an active model.
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="tier_changes", db_index=False, db_constraint=False
    )
    model = models.ForeignKey(ScoringModel, on_delete=models.PROTECT, related_name="tier_changes", db_constraint=False)
    from_tier = models.CharField(max_length=10, choices=Tier.choices)
    to_tier = models.CharField(max_length=10, choices=Tier.choices)
    reason = models.TextField()
    fit = models.FloatField()
    signal = models.FloatField()
    unified = models.FloatField()
    at = models.DateTimeField(help_text="The moment of the score that moved the account.")

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["account", "-at"], name="tierchange_account_at_idx"),
            models.Index(fields=["at"], name="tierchange_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.from_tier} -> {self.to_tier}"


class MQA(models.Model):
    """A marketing-qualified account: raised once when the account enters an MQA tier, with its scores then."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"  # waiting for sales: routed to a handoff, not decided yet
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"
        CLOSED = "closed", "Closed"

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="mqas")
    model = models.ForeignKey(ScoringModel, on_delete=models.PROTECT, related_name="mqas")
    qualified_at = models.DateTimeField()
    tier = models.CharField(max_length=10, choices=Tier.choices)
    fit = models.FloatField()
    signal = models.FloatField()
    coverage = models.FloatField()
    unified = models.FloatField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "MQA"
        verbose_name_plural = "MQAs"
        ordering = ["-qualified_at", "-pk"]
        constraints = [
            # At most one open MQA per account: the rule's "raised once", even when two rescores race.
            models.UniqueConstraint(fields=["account"], condition=Q(status="open"), name="mqa_one_open_per_account"),
        ]
        indexes = [
            models.Index(fields=["account", "status", "-decided_at"], name="mqa_account_status_idx"),
            models.Index(fields=["-qualified_at"], name="mqa_qualified_idx"),
        ]

    def __str__(self) -> str:
        return f"MQA {self.account_id} ({self.tier}, {self.qualified_at:%Y-%m-%d})"


class Play(models.Model):
    """What the team does with the accounts of a tier: the operating matrix's motion, owner and primary KPI."""

    class Motion(models.TextChoices):
        ONE_TO_ONE = "one_to_one", "1:1 ABM"
        ONE_TO_FEW = "one_to_few", "1:few ABM"
        ONE_TO_MANY = "one_to_many", "1:many programmatic"
        SCALED_NURTURE = "scaled_nurture", "Scaled nurture"
        NONE = "none", "No motion"

    tier = models.CharField(max_length=10, choices=Tier.choices, unique=True)
    name = models.CharField(max_length=120)
    motion = models.CharField(max_length=20, choices=Motion.choices)
    owner_role = models.CharField("owner", max_length=120, help_text="Who runs the play, e.g. Sales + ABM.")
    primary_kpi = models.CharField("primary KPI", max_length=200)
    description = models.TextField(blank=True, help_text="The play's steps, in a few lines.")
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    history = HistoricalRecords()  # the audit trail: who changed what, when

    class Meta:
        ordering = ["pk"]  # created best tier first

    def __str__(self) -> str:
        return f"{self.get_tier_display()}: {self.name}"


class ShadowScore(models.Model):
    """An account's score under the version running in shadow, beside its live score: the same fit, signal,
    coverage and unified, and the tier those scores alone would place it in (its candidate tier: no hysteresis,
    surge or capacity, which depend on a live history the shadow does not have). Nothing live reads it: no tier,
    tier change, MQA, route or handoff follows from it."""

    account = models.OneToOneField(
        "accounts.Account", primary_key=True, on_delete=models.CASCADE, related_name="shadow_score", db_constraint=False
    )
    model = models.ForeignKey(
        ScoringModel, on_delete=models.CASCADE, related_name="shadow_scores", db_index=False, db_constraint=False
    )
    fit = models.FloatField()
    signal = models.FloatField()
    coverage = models.FloatField()
    unified = models.FloatField()
    tier = models.CharField("candidate tier", max_length=10, choices=Tier.choices)
    as_of = models.DateTimeField(help_text="The moment the score describes (signals decay up to it).")
    computed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.account_id}: {self.unified} ({self.tier}, shadow)"


class Lookalike(models.Model):
    """Why an account has its lookalike score (Account.lookalike): its nearest won accounts and the traits it shares
    with them, as of the latest refresh (segmentation/lookalike.py)."""

    account = models.OneToOneField(
        "accounts.Account", on_delete=models.CASCADE, primary_key=True, related_name="lookalike_reasons",
        db_constraint=False,
    )  # fmt: skip
    score = models.FloatField(help_text="0-100, as stored on the account.")
    # [[account id, name, year won], ...], nearest first.
    neighbours = models.JSONField(default=list)
    # The traits shared with most of the neighbours, as readable words ("Software", "1k–10k employees").
    traits = models.JSONField(default=list)
    computed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"lookalike of account {self.account_id}"


class LookalikeRun(models.Model):
    """One refresh of the lookalike scores: when, over which period, against how many won accounts."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    period_days = models.PositiveIntegerField()
    won_accounts = models.PositiveIntegerField(default=0)
    accounts = models.PositiveIntegerField(default=0, help_text="Accounts scored.")
    changed = models.PositiveIntegerField(default=0, help_text="Accounts whose score changed (queued for rescoring).")
    trigger = models.CharField(max_length=40, help_text="nightly, won deals changed, or by whom")
    job = models.ForeignKey("core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"lookalike refresh {self.started_at:%Y-%m-%d %H:%M}"
