"""Suggested quotas (pure): a territory's target from its spend potential, and each rep's share of it.

    attainment rate  = amount won in the 365 days before the period / spend potential of the same territories
                       (or the rate the planner types), a rate per year
    territory quota  = attainment rate x the territory's summed spend potential x days in the period / 365
    rep quota        = territory quota x the rep's share, where the share is the part of the territory's spend
                       potential in the accounts the rep owns (by membership weight when no rep owns any);
                       capped by capacity: a rep who may own N of the territory's M accounts carries at most N / M of
                       the territory quota. What a cap holds back goes to the other reps by the same shares, then by
                       weight; what no rep can carry stays unallocated.

Amounts are whole dollars, rounded half up.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

DAYS_IN_YEAR = 365
DOLLAR = Decimal("1")


def dollars(amount: Decimal | float | int) -> Decimal:
    return Decimal(str(amount)).quantize(DOLLAR, rounding=ROUND_HALF_UP)


def attainment_rate(*, won_amount: Decimal, potential: Decimal) -> Decimal | None:
    """The share of spend potential won in a year; None when there is no potential to measure against."""
    if potential <= 0:
        return None
    return Decimal(won_amount) / Decimal(potential)


def territory_quota(*, rate: Decimal, potential: Decimal, days: int) -> Decimal:
    """rate x potential x days / 365, in whole dollars."""
    return dollars(Decimal(rate) * Decimal(potential) * days / DAYS_IN_YEAR)


@dataclass(frozen=True)
class RepBasis:
    """What a rep's quota is split by: the potential of the territory's accounts they own, their weight and their
    capacity (max_accounts, None: no limit)."""

    user_id: int
    owned_potential: Decimal
    weight: Decimal
    max_accounts: int | None


@dataclass(frozen=True)
class RepSplit:
    user_id: int
    amount: Decimal
    share: Decimal  # of the territory quota, 0 to 1
    capped: bool  # held to capacity


@dataclass(frozen=True)
class TerritorySplit:
    reps: list[RepSplit]
    by: str  # "potential" (reps own potential) or "weight" (none does)
    unallocated: Decimal


def _fill(amount: Decimal, bases: dict[int, Decimal], room: dict[int, Decimal | None]) -> tuple[dict, Decimal]:
    """Share `amount` in proportion to `bases`, no one past their `room` (None: no limit); what a full rep cannot
    take goes to the others by the same proportions. Returns (amounts, what no one could take)."""
    given = {user_id: Decimal(0) for user_id in bases}
    open_ids = [user_id for user_id, basis in bases.items() if basis > 0 and room[user_id] != 0]
    left = amount
    while open_ids and left > 0:
        total = sum(bases[user_id] for user_id in open_ids)
        tentative = {user_id: left * bases[user_id] / total for user_id in open_ids}
        full = [u for u in open_ids if room[u] is not None and tentative[u] >= room[u] - given[u]]
        if not full:
            for user_id in open_ids:
                given[user_id] += tentative[user_id]
            left = Decimal(0)
            break
        for user_id in full:
            left -= room[user_id] - given[user_id]
            given[user_id] = room[user_id]
        open_ids = [u for u in open_ids if u not in full]
    return given, max(left, Decimal(0))


def rep_split(*, quota: Decimal, reps: list[RepBasis], account_count: int) -> TerritorySplit:
    """Each rep's part of the territory quota (see the module's formula)."""
    if not reps or quota <= 0:
        return TerritorySplit(reps=[], by="potential", unallocated=Decimal(quota) if quota > 0 else Decimal(0))
    caps: dict[int, Decimal | None] = {}
    for rep in reps:
        if rep.max_accounts is None or account_count <= 0:
            caps[rep.user_id] = None
        else:
            caps[rep.user_id] = min(Decimal(quota), Decimal(quota) * rep.max_accounts / account_count)
    by = "potential" if any(rep.owned_potential > 0 for rep in reps) else "weight"
    given: dict[int, Decimal] = {rep.user_id: Decimal(0) for rep in reps}
    left = Decimal(quota)
    if by == "potential":
        given, left = _fill(left, {rep.user_id: Decimal(rep.owned_potential) for rep in reps}, caps)
    if left > 0:  # nobody owns potential, or the owners are at capacity: the rest goes by weight
        room = {u: (None if caps[u] is None else caps[u] - given[u]) for u in given}
        more, left = _fill(left, {rep.user_id: Decimal(rep.weight) for rep in reps}, room)
        given = {u: given[u] + more[u] for u in given}
    splits = []
    for rep in reps:
        amount = dollars(given[rep.user_id])
        cap = caps[rep.user_id]
        splits.append(
            RepSplit(
                user_id=rep.user_id,
                amount=amount,
                share=given[rep.user_id] / Decimal(quota),
                capped=cap is not None and given[rep.user_id] >= cap,
            )
        )
    unallocated = max(Decimal(quota) - sum((s.amount for s in splits), Decimal(0)), Decimal(0))
    return TerritorySplit(reps=splits, by=by, unallocated=dollars(unallocated) if left > 0 else Decimal(0))
