"""The tiers' names, labels and order: words every app shares. The rules that place an account in a tier are
segmentation's (`segmentation/tiers.py`); territories (Tier 1 capacity), handoffs (an SLA per tier) and the KPIs
only name them."""

from django.db import models


class Tier(models.TextChoices):
    TIER_1 = "tier_1", "Tier 1"
    TIER_2 = "tier_2", "Tier 2"
    TIER_3 = "tier_3", "Tier 3"
    RECYCLE = "recycle", "Recycle"
    SUPPRESS = "suppress", "Suppress"


TIERS = (Tier.TIER_1.value, Tier.TIER_2.value, Tier.TIER_3.value)  # the tiers with thresholds, best first
RECYCLE, SUPPRESS = Tier.RECYCLE.value, Tier.SUPPRESS.value
RANKED = (*TIERS, RECYCLE)  # the tiers a score can reach; suppress stands apart
LABELS = {tier.value: tier.label for tier in Tier}
ORDER = {tier: rank for rank, tier in enumerate((*TIERS, RECYCLE, SUPPRESS))}  # best first, for sorting
TIER_CHOICES = [(tier, LABELS[tier]) for tier in TIERS]  # the tiers a handoff or an SLA policy can be for


def tier_rank(field: str = "score__tier") -> models.Case:
    """The tier as its rank, best first (tier_1 = 0 ... suppress = 4), so lists sort by tier in SQL. The scores carry
    an index on this expression (over their own `tier`) and the unified score, so a list in that order reads a page
    of the index instead of sorting every score."""
    return models.Case(
        *[models.When(**{field: tier}, then=models.Value(rank)) for tier, rank in ORDER.items()],
        default=models.Value(len(ORDER)),
        output_field=models.IntegerField(),
    )
