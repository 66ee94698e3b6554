"""What insights keep of their own: each account's spend potential and the daily KPI snapshots (both moved from
segmentation with their tables kept)."""

from django.db import models


class AccountPotential(models.Model):
    """Spend potential: what an account is expected to be worth, win probability x expected deal size.

    The win probability is the smoothed win rate of closed deals of accounts in the same score band; the deal size is
    the mean won deal of accounts in the same industry (all won deals when the industry has too few). See
    `insights/potential.py`.
    """

    account = models.OneToOneField(
        "accounts.Account", primary_key=True, on_delete=models.CASCADE, related_name="potential"
    )
    win_probability = models.FloatField()
    deal_size = models.FloatField(help_text="USD")
    expected_value = models.FloatField(help_text="USD")
    band = models.CharField(max_length=20, help_text="The score band the win probability comes from.")
    computed_at = models.DateTimeField()

    class Meta:
        db_table = "segmentation_accountpotential"
        indexes = [models.Index(fields=["-expected_value"], name="potential_value_idx")]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.expected_value:.0f}"


class KpiSnapshot(models.Model):
    """One KPI on one day for one scope (everyone, a territory or an owner), kept so trends can be charted.

    Stored as numerator and denominator, so the snapshots of several territories add up exactly to theirs together.
    """

    class Scope(models.TextChoices):
        ALL = "all", "Everyone"
        TERRITORY = "territory", "Territory"
        OWNER = "owner", "Owner"

    on = models.DateField()
    kpi = models.CharField(max_length=40)
    scope = models.CharField(max_length=10, choices=Scope.choices)
    scope_id = models.BigIntegerField(default=0, help_text="The territory or owner id; 0 for everyone.")
    numerator = models.FloatField()
    denominator = models.FloatField()

    class Meta:
        db_table = "segmentation_kpisnapshot"
        ordering = ["on", "kpi"]
        constraints = [
            models.UniqueConstraint(fields=["on", "kpi", "scope", "scope_id"], name="kpi_snapshot_unique"),
        ]
        indexes = [models.Index(fields=["scope", "scope_id", "kpi", "on"], name="kpi_snapshot_scope_idx")]

    def __str__(self) -> str:
        return f"{self.on} {self.kpi} {self.scope}:{self.scope_id}"
