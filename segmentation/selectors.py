"""Reads of scores and tier history: the tier lists and movement (scoped exactly like the accounts,
accounts.selectors) and an account's own history for its page (callers pass an account the user may see)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q, QuerySet

from accounts.models import Account
from accounts.selectors import account_list, account_visibility_q
from accounts.selectors import scored_account_list as accounts_scored
from accounts.tables import loaded_or
from core.summaries import counted
from core.tiers import ORDER, tier_rank

from .models import MQA, AccountScore, Lookalike, ScoringModel, TierChange
from .tiers import CAPACITY, PLACED


def active_model() -> ScoringModel | None:
    """The version that scores accounts now (None before the first publish)."""
    return ScoringModel.objects.select_related("icp").filter(status=ScoringModel.Status.ACTIVE).first()


def surging_q(*, now: dt.datetime, prefix: str = "score__") -> Q:
    """Surging accounts: their surge hold (the tiers' rule 5) ends after `now`."""
    return Q(**{f"{prefix}surge_until__gt": now})


def capacity_held_q(*, prefix: str = "score__") -> Q:
    """Accounts held at Tier 2 by their territory's Tier 1 capacity (the tiers' rule 6)."""
    return Q(**{f"{prefix}flags__has": CAPACITY})


def scored_account_list(*, user) -> QuerySet[Account]:
    """Scored accounts the user may see, with score, owner and territory joined; best tier first, then by score (the
    order of the score_rank_unified_idx index: a page reads a page of it)."""
    return (
        accounts_scored(user=user)
        .select_related("score", "owner", "territory", "potential")
        .annotate(tier_rank=tier_rank())
        .order_by("tier_rank", "-score__unified", "name", "pk")
    )


def tier_counts(*, accounts: QuerySet[Account], now: dt.datetime) -> dict[str, int]:
    """{tier: n for every tier, "surging": n, "total": n} over scored `accounts`, in one query."""
    return _tier_aggregate(accounts, now=now, prefix="score__")


def scope_tier_counts(*, user, now: dt.datetime) -> tuple[dict[str, int], dt.datetime]:
    """(`tier_counts` of every scored account the user may see, when they were counted). Read from the scores alone:
    their copy of the account's territory and owner scopes them, so no account is joined (an index range per
    territory or owner; for an admin, one pass over the tier index instead of a join of a million accounts). Shared
    for COUNTS_CACHE_SECONDS by every reader of the same scope (core/summaries.py)."""
    q = account_visibility_q(user=user, prefix="account_")
    scores = AccountScore.objects.all() if q is None else AccountScore.objects.filter(q)
    return counted("tiers", q, lambda: _tier_aggregate(scores, now=now, prefix=""))


def _tier_aggregate(rows: QuerySet, *, now: dt.datetime, prefix: str) -> dict[str, int]:
    aggregates = {tier: Count("pk", filter=Q(**{f"{prefix}tier": tier})) for tier in ORDER}
    aggregates["surging"] = Count("pk", filter=surging_q(now=now, prefix=prefix))
    aggregates["total"] = Count("pk")
    return rows.order_by().aggregate(**aggregates)


def tier_change_list(*, user) -> QuerySet[TierChange]:
    """Tier moves of the accounts the user may see: from one tier to another, so not first placements (an account's
    first tier is its history's start, not a move up or down)."""
    q = account_visibility_q(user=user, prefix="account__")
    changes = TierChange.objects.exclude(from_tier=PLACED)
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
    """The account's latest `limit` tier moves, newest first, and whether there are older ones (one query). Its first
    placement (from_tier PLACED) is among them: the history starts there."""
    rows = list(TierChange.objects.filter(account=account).order_by("-at", "-pk")[: limit + 1])
    return rows[:limit], len(rows) > limit


def account_mqas(*, account: Account, limit: int) -> tuple[list[MQA], bool]:
    """The account's latest `limit` MQAs, newest first, and whether there are older ones (one query)."""
    rows = list(MQA.objects.filter(account=account).order_by("-qualified_at", "-pk")[: limit + 1])
    return rows[:limit], len(rows) > limit


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def account_lookalike(*, account: Account, user) -> dict | None:
    """An account's lookalike score and why (None before the first refresh), for a reader who may see the account:
    its nearest won accounts the reader may also see, by name and year won; the others only counted ("and 2 won
    accounts outside your territories"), never named; the traits it shares with them. Two queries."""
    reasons = loaded_or(account, "lookalike_reasons", lambda: Lookalike.objects.filter(account_id=account.pk).first())
    if reasons is None:
        if account.lookalike is None:
            return None
        return {"score": account.lookalike, "neighbours": [], "hidden": 0, "traits": [], "computed_at": None,
                "sentence": ""}  # fmt: skip
    ids = [int(n[0]) for n in reasons.neighbours]
    visible = set(account_list(user=user).filter(pk__in=ids).values_list("pk", flat=True)) if ids else set()
    shown = [{"id": int(n[0]), "name": n[1], "year_won": n[2]} for n in reasons.neighbours if int(n[0]) in visible]
    hidden = len(ids) - len(shown)
    return {
        "score": account.lookalike if account.lookalike is not None else reasons.score,
        "neighbours": shown,
        "hidden": hidden,
        "traits": list(reasons.traits),
        "computed_at": reasons.computed_at,
        "sentence": lookalike_sentence(shown, hidden, list(reasons.traits)),
    }


def lookalike_sentence(shown: list[dict], hidden: int, traits: list[str]) -> str:
    """ "like Acme, Globex (won 2026), sharing: Software, 1k–10k employees, uses Salesforce"; years by name when
    they differ; accounts the reader may not see only counted."""
    if not shown and not hidden:
        return "like no won account: it shares no trait with the accounts won in the period"
    years = {n["year_won"] for n in shown}
    if not shown:
        like = ""
    elif len(years) == 1:
        year = years.pop()
        like = _names([n["name"] for n in shown]) + (f" (won {year})" if year else "")
    else:
        like = _names([f"{n['name']} (won {n['year_won']})" if n["year_won"] else n["name"] for n in shown])
    if hidden:
        outside = f"{hidden} won account{'s' if hidden != 1 else ''} outside your territories"
        like = f"{like} and {outside}" if like else outside
    sentence = f"like {like}"
    if traits:
        sentence += f", sharing: {', '.join(traits)}"
    return sentence
