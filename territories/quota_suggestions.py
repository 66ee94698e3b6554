"""Quota planning: suggested territory and rep quotas for a period (the rules are in quota_plan.py), and saving the
amounts a manager or RevOps admin settles on. Managers plan the territories they manage (and those below); admins
plan every active territory."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Account, Opportunity
from core.roles import is_admin

from .models import Membership, Quota, RepQuota, Territory
from .quota_plan import DAYS_IN_YEAR, RepBasis, attainment_rate, rep_split, territory_quota
from .quotas import quota_territory_ids_kept_by
from .selectors import territory_ids_managed_by

AMOUNT_PROBLEM = "A quota is an amount above 0."


def next_quarter(*, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The calendar quarter after today's: (first day, last day)."""
    today = today or timezone.localdate()
    quarter_start_month = 3 * ((today.month - 1) // 3) + 1 + 3
    year = today.year + (quarter_start_month - 1) // 12
    month = (quarter_start_month - 1) % 12 + 1
    start = dt.date(year, month, 1)
    after = dt.date(year + (month + 2) // 12, (month + 2) % 12 + 1, 1)
    return start, after - dt.timedelta(days=1)


def quota_plan_territories(*, user):
    """The active territories a user may plan quotas for: all for admins, those they manage (and below) for
    managers, none for anyone else."""
    territories = Territory.objects.filter(is_active=True)
    if is_admin(user):
        return territories
    return territories.filter(id__in=territory_ids_managed_by(user=user))


def period_problems(*, period_start: dt.date | None, period_end: dt.date | None) -> dict[str, str]:
    problems: dict[str, str] = {}
    if not period_start:
        problems["period_start"] = "Give the first day of the period."
    if not period_end:
        problems["period_end"] = "Give the last day of the period."
    if period_start and period_end and period_end < period_start:
        problems["period_end"] = (
            f"The period must end on or after its first day ({period_start:%Y-%m-%d}); it ends {period_end:%Y-%m-%d}."
        )
    return problems


@dataclass
class RepLine:
    membership: Membership
    owned_potential: Decimal
    owned_accounts: int
    suggested: Decimal
    share: Decimal
    capped: bool
    saved: Decimal | None = None

    @property
    def user(self):
        return self.membership.user

    @property
    def share_percent(self) -> float:
        return round(float(self.share) * 100, 1)

    @property
    def name(self) -> str:
        return self.user.get_full_name() or self.user.username


@dataclass
class TerritoryLine:
    territory: Territory
    potential: Decimal
    account_count: int
    suggested: Decimal
    split_by: str  # "potential" or "weight"
    unallocated: Decimal
    saved: Decimal | None = None
    reps: list[RepLine] = field(default_factory=list)


@dataclass
class QuotaSuggestion:
    period_start: dt.date
    period_end: dt.date
    days: int
    rate: Decimal | None  # a share per year, None when there is nothing to measure it on
    rate_typed: bool
    history_start: dt.date
    history_end: dt.date
    won_amount: Decimal
    plan_potential: Decimal
    territories: list[TerritoryLine]

    @property
    def rate_percent(self) -> float | None:
        return None if self.rate is None else round(float(self.rate) * 100, 1)


def _money(value) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def quota_suggestion(
    *,
    user,
    period_start: dt.date,
    period_end: dt.date,
    territory_ids: list[int] | None = None,
    rate: Decimal | None = None,
) -> QuotaSuggestion:
    """The suggested quotas of the territories the user plans (only `territory_ids` among them when given) for the
    period, with the amounts already saved for exactly that period. `rate`: a typed attainment rate (a share per
    year, e.g. Decimal("0.25")); else the historical one, measured over every territory the user plans."""
    planned = list(quota_plan_territories(user=user))
    planned_ids = [t.pk for t in planned]
    shown = [t for t in planned if territory_ids is None or t.pk in territory_ids]
    shown_ids = [t.pk for t in shown]
    days = (period_end - period_start).days + 1
    history_end = period_start - dt.timedelta(days=1)
    history_start = period_start - dt.timedelta(days=DAYS_IN_YEAR)

    won = Opportunity.objects.filter(
        account__territory_id__in=planned_ids,
        is_won=True,
        closed_on__gte=history_start,
        closed_on__lte=history_end,
    ).aggregate(total=Coalesce(Sum("amount"), Decimal(0)))["total"]
    by_owner = list(
        Account.objects.filter(territory_id__in=planned_ids)
        .order_by()
        .values("territory_id", "owner_id")
        .annotate(potential=Coalesce(Sum("potential__expected_value"), 0.0), accounts=Count("id"))
    )
    plan_potential = _money(sum(row["potential"] for row in by_owner))
    historical = attainment_rate(won_amount=_money(won), potential=plan_potential)
    used_rate = rate if rate is not None else historical

    territory_potential: dict[int, Decimal] = {}
    territory_accounts: dict[int, int] = {}
    owned: dict[tuple[int, int], tuple[Decimal, int]] = {}
    for row in by_owner:
        tid = row["territory_id"]
        territory_potential[tid] = territory_potential.get(tid, Decimal(0)) + _money(row["potential"])
        territory_accounts[tid] = territory_accounts.get(tid, 0) + row["accounts"]
        if row["owner_id"] is not None:
            owned[(tid, row["owner_id"])] = (_money(row["potential"]), row["accounts"])

    memberships: dict[int, list[Membership]] = {}
    for membership in (
        Membership.objects.filter(
            territory_id__in=shown_ids, role=Membership.Role.REP, is_active=True, user__is_active=True
        )
        .select_related("user")
        .order_by("user__first_name", "user__last_name", "user__username")
    ):
        memberships.setdefault(membership.territory_id, []).append(membership)
    saved = dict(
        Quota.objects.filter(territory_id__in=shown_ids, period_start=period_start, period_end=period_end).values_list(
            "territory_id", "amount"
        )
    )
    saved_reps = {
        (tid, uid): amount
        for tid, uid, amount in RepQuota.objects.filter(
            territory_id__in=shown_ids, period_start=period_start, period_end=period_end
        ).values_list("territory_id", "user_id", "amount")
    }

    lines = []
    for territory in shown:
        potential = territory_potential.get(territory.pk, Decimal(0))
        accounts = territory_accounts.get(territory.pk, 0)
        suggested = (
            territory_quota(rate=used_rate, potential=potential, days=days) if used_rate is not None else Decimal(0)
        )
        members = memberships.get(territory.pk, [])
        split = rep_split(
            quota=suggested,
            reps=[
                RepBasis(
                    user_id=m.user_id,
                    owned_potential=owned.get((territory.pk, m.user_id), (Decimal(0), 0))[0],
                    weight=m.weight,
                    max_accounts=m.max_accounts,
                )
                for m in members
            ],
            account_count=accounts,
        )
        splits = {s.user_id: s for s in split.reps}
        reps = []
        for m in members:
            part = splits.get(m.user_id)
            owned_potential, owned_accounts = owned.get((territory.pk, m.user_id), (Decimal(0), 0))
            reps.append(
                RepLine(
                    membership=m,
                    owned_potential=owned_potential,
                    owned_accounts=owned_accounts,
                    suggested=part.amount if part else Decimal(0),
                    share=part.share if part else Decimal(0),
                    capped=part.capped if part else False,
                    saved=saved_reps.get((territory.pk, m.user_id)),
                )
            )
        lines.append(
            TerritoryLine(
                territory=territory,
                potential=potential,
                account_count=accounts,
                suggested=suggested,
                split_by=split.by,
                unallocated=split.unallocated,
                saved=saved.get(territory.pk),
                reps=reps,
            )
        )
    return QuotaSuggestion(
        period_start=period_start,
        period_end=period_end,
        days=days,
        rate=used_rate,
        rate_typed=rate is not None,
        history_start=history_start,
        history_end=history_end,
        won_amount=_money(won),
        plan_potential=plan_potential,
        territories=lines,
    )


def territory_field(territory_id: int) -> str:
    return f"territory-{territory_id}"


def rep_field(territory_id: int, user_id: int) -> str:
    return f"rep-{territory_id}-{user_id}"


def quota_plan_save(
    *,
    user,
    period_start: dt.date,
    period_end: dt.date,
    territory_amounts: dict[int, Decimal],
    rep_amounts: dict[tuple[int, int], Decimal],
) -> tuple[int, int]:
    """Save territory quotas (Quota) and rep quotas (RepQuota) for exactly this period: each one created, or
    changed when that territory (and rep) already has one for the period. All or nothing: a problem with any amount
    saves none, and the problems come back per field (`territory-<id>`, `rep-<territory id>-<user id>`). A territory
    the user does not plan, or a person who is not an active rep of the territory, is refused the same way.
    Returns (territory quotas saved, rep quotas saved)."""
    problems = period_problems(period_start=period_start, period_end=period_end)
    allowed = set(quota_plan_territories(user=user).values_list("id", flat=True))
    reps_of: dict[int, set[int]] = {}
    for tid, uid in Membership.objects.filter(
        territory_id__in=allowed, role=Membership.Role.REP, is_active=True, user__is_active=True
    ).values_list("territory_id", "user_id"):
        reps_of.setdefault(tid, set()).add(uid)
    for tid, amount in territory_amounts.items():
        if tid not in allowed:
            problems[territory_field(tid)] = "Not a territory you plan quotas for."
        elif amount is None or amount <= 0:
            problems[territory_field(tid)] = AMOUNT_PROBLEM
    for (tid, uid), amount in rep_amounts.items():
        if tid not in allowed:
            problems[rep_field(tid, uid)] = "Not a territory you plan quotas for."
        elif uid not in reps_of.get(tid, set()):
            problems[rep_field(tid, uid)] = "Not an active rep of this territory."
        elif amount is None or amount <= 0:
            problems[rep_field(tid, uid)] = AMOUNT_PROBLEM
    if problems:
        raise ValidationError(problems)
    territory_ids = sorted(set(territory_amounts) | {tid for tid, _ in rep_amounts})
    with transaction.atomic():
        # One planner at a time per territory: the second waits, then changes what the first created.
        list(Territory.objects.select_for_update().filter(id__in=territory_ids).order_by("id").values_list("id"))
        for tid, amount in sorted(territory_amounts.items()):
            quota = (
                Quota.objects.select_for_update()
                .filter(territory_id=tid, period_start=period_start, period_end=period_end)
                .first()
            )
            if quota is None:
                Quota.objects.create(
                    territory_id=tid, period_start=period_start, period_end=period_end, amount=amount, updated_by=user
                )
            elif quota.amount != amount:
                quota.amount, quota.updated_by = amount, user
                quota.save(update_fields=["amount", "updated_by", "updated_at"])
        for (tid, uid), amount in sorted(rep_amounts.items()):
            rep_quota = (
                RepQuota.objects.select_for_update()
                .filter(territory_id=tid, user_id=uid, period_start=period_start, period_end=period_end)
                .first()
            )
            if rep_quota is None:
                RepQuota.objects.create(
                    territory_id=tid,
                    user_id=uid,
                    period_start=period_start,
                    period_end=period_end,
                    amount=amount,
                    updated_by=user,
                )
            elif rep_quota.amount != amount:
                rep_quota.amount, rep_quota.updated_by = amount, user
                rep_quota.save(update_fields=["amount", "updated_by", "updated_at"])
    return len(territory_amounts), len(rep_amounts)


def rep_quota_list(*, user):
    """Rep quotas of the territories the user keeps quotas for, newest period first."""
    kept = quota_territory_ids_kept_by(user=user)
    rep_quotas = RepQuota.objects.all() if kept is None else RepQuota.objects.filter(territory_id__in=kept)
    return rep_quotas.select_related("territory", "user", "updated_by").order_by(
        "-period_start", "territory__name", "user__first_name", "user__last_name", "pk"
    )
