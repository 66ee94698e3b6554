"""Reads of scores and tier history: the tier lists and movement (scoped exactly like the accounts,
accounts.selectors) and an account's own history for its page (callers pass an account the user may see)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When

from accounts.models import Account
from accounts.selectors import account_list, account_visibility_q
from core.tiers import ORDER

from .models import MQA, ScoringModel, TierChange
from .tiers import CAPACITY


def active_model() -> ScoringModel | None:
    """The version that scores accounts now (None before the first publish)."""
    return ScoringModel.objects.select_related("icp").filter(status=ScoringModel.Status.ACTIVE).first()


def tier_rank(field: str = "score__tier") -> Case:
    """The tier as its rank, best first (tier_1 = 0 ... suppress = 4), so lists sort by tier in SQL."""
    return Case(
        *[When(**{field: tier}, then=Value(rank)) for tier, rank in ORDER.items()],
        default=Value(len(ORDER)),
        output_field=IntegerField(),
    )


def surging_q(*, now: dt.datetime, prefix: str = "score__") -> Q:
    """Surging accounts: their surge hold (the tiers' rule 5) ends after `now`."""
    return Q(**{f"{prefix}surge_until__gt": now})


def capacity_held_q(*, prefix: str = "score__") -> Q:
    """Accounts held at Tier 2 by their territory's Tier 1 capacity (the tiers' rule 6)."""
    return Q(**{f"{prefix}flags__has": CAPACITY})


def scored_account_list(*, user) -> QuerySet[Account]:
    """Scored accounts the user may see, with score, owner and territory joined; best tier first, then by score."""
    return (
        account_list(user=user)
        .filter(score__isnull=False)
        .select_related("score", "owner", "territory", "potential")
        .annotate(tier_rank=tier_rank())
        .order_by("tier_rank", "-score__unified", "name", "pk")
    )


def tier_counts(*, accounts: QuerySet[Account], now: dt.datetime) -> dict[str, int]:
    """{tier: n for every tier, "surging": n, "total": n} over scored `accounts`, in one query."""
    aggregates = {tier: Count("pk", filter=Q(score__tier=tier)) for tier in ORDER}
    aggregates["surging"] = Count("pk", filter=surging_q(now=now))
    aggregates["total"] = Count("pk")
    return accounts.order_by().aggregate(**aggregates)


def tier_change_list(*, user) -> QuerySet[TierChange]:
    """Tier moves of the accounts the user may see."""
    q = account_visibility_q(user=user, prefix="account__")
    changes = TierChange.objects.all()
    return changes if q is None else changes.filter(q)


def tier_moves(
    *, user, start: dt.datetime, end: dt.datetime, from_tier: str = "", to_tier: str = ""
) -> QuerySet[TierChange]:
    """Moves with start <= at < end, optionally only from and/or to one tier; latest first, with their account."""
    moves = tier_change_list(user=user).filter(at__gte=start, at__lt=end)
    if from_tier:
        moves = moves.filter(from_tier=from_tier)
    if to_tier:
        moves = moves.filter(to_tier=to_tier)
    return moves.select_related("account").order_by("-at", "-pk")


def tier_movement_matrix(*, user, start: dt.datetime, end: dt.datetime) -> dict[tuple[str, str], int]:
    """{(from_tier, to_tier): moves with start <= at < end}; pairs without moves are left out. One query."""
    rows = (
        tier_change_list(user=user)
        .filter(at__gte=start, at__lt=end)
        .order_by()
        .values("from_tier", "to_tier")
        .annotate(moves=Count("pk"))
    )
    return {(row["from_tier"], row["to_tier"]): row["moves"] for row in rows}


def account_tier_changes(*, account: Account, limit: int) -> tuple[list[TierChange], bool]:
    """The account's latest `limit` tier moves, newest first, and whether there are older ones (one query)."""
    rows = list(TierChange.objects.filter(account=account).order_by("-at", "-pk")[: limit + 1])
    return rows[:limit], len(rows) > limit


def account_mqas(*, account: Account, limit: int) -> tuple[list[MQA], bool]:
    """The account's latest `limit` MQAs, newest first, and whether there are older ones (one query)."""
    rows = list(MQA.objects.filter(account=account).order_by("-qualified_at", "-pk")[: limit + 1])
    return rows[:limit], len(rows) > limit
