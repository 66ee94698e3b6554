"""Quotas: a territory's target for a period, the denominator of pipeline coverage. RevOps admins keep them;
managers see those of their territories and set them through quota planning (quota_suggestions.py)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from core.roles import is_admin

from .models import Quota
from .selectors import territory_ids_managed_by


def quota_territory_ids_kept_by(*, user) -> set[int] | None:
    """Territories whose quotas a user sees on the quota pages: None means all (admins), else those they manage."""
    return None if is_admin(user) else territory_ids_managed_by(user=user)


def quota_list(*, user) -> QuerySet[Quota]:
    kept = quota_territory_ids_kept_by(user=user)
    quotas = Quota.objects.all() if kept is None else Quota.objects.filter(territory_id__in=kept)
    return quotas.select_related("territory", "updated_by").order_by("-period_start", "territory__name", "pk")


def quota_problems(*, territory, period_start, period_end, amount, exclude_pk: int | None = None) -> dict:
    """Field messages for a quota that cannot be saved; empty when it can."""
    problems: dict[str, str] = {}
    if period_start and period_end and period_end < period_start:
        problems["period_end"] = (
            f"The period must end on or after its first day ({period_start:%Y-%m-%d}); it ends {period_end:%Y-%m-%d}."
        )
    if amount is not None and amount <= 0:
        problems["amount"] = "A quota is an amount above 0."
    if territory and period_start and period_end:
        same = Quota.objects.filter(territory=territory, period_start=period_start, period_end=period_end)
        if exclude_pk:
            same = same.exclude(pk=exclude_pk)
        if same.exists():
            problems["period_start"] = (
                f"{territory} already has a quota for {period_start:%Y-%m-%d} to {period_end:%Y-%m-%d}: edit that one."
            )
    return problems


def quota_save(*, quota: Quota, user) -> Quota:
    """Create or change a quota after checking it; a clash with another one is refused with a field message."""
    problems = quota_problems(
        territory=quota.territory if quota.territory_id else None,
        period_start=quota.period_start,
        period_end=quota.period_end,
        amount=quota.amount,
        exclude_pk=quota.pk,
    )
    if problems:
        raise ValidationError(problems)
    quota.updated_by = user
    try:
        with transaction.atomic():
            if quota.pk:
                quota.save(
                    update_fields=["territory", "period_start", "period_end", "amount", "updated_by", "updated_at"]
                )
            else:
                quota.save()
    except IntegrityError:  # the same quota saved by someone else a moment ago
        raise ValidationError({"period_start": "This territory already has a quota for exactly this period."}) from None
    return quota


def quota_delete(*, quota: Quota) -> None:
    quota.delete()
