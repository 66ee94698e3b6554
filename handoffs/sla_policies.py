"""SLA policies, one per tier: read and written here, so the editor, the API and the handoffs agree.

The clock rules themselves live in `handoffs.sla` (pure); this module only loads and saves policies.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from .models import SlaPolicy
from .sla import clock_problems
from .sla_calendars import holiday_problems, parse_closed_dates

TIER_LABELS: dict[str, str] = dict(SlaPolicy._meta.get_field("tier").choices)
CLOCK_FIELDS = ["accept_within_hours", "calendar", "time_zone", "working_days", "start_hour", "end_hour"]
HOLIDAY_FIELDS = ["holiday_country", "holiday_subdivision", "closed_dates"]
EDITABLE_FIELDS = [*CLOCK_FIELDS, *HOLIDAY_FIELDS, "breach_action"]


def holiday_fields_check(values: dict) -> tuple[dict[str, str], dict]:
    """What is wrong with a policy's holiday region and closed dates, by field, and the values to store: the region
    as codes, the closed dates (a list of dates or ISO strings, or text one a line) sorted ISO strings.

    One rule for the page, the API and the save, so each refuses the same input with the same words."""
    problems, clean = holiday_problems(values)
    closed = values.get("closed_dates") or []
    if isinstance(closed, str):
        dates, errors = parse_closed_dates(closed)
    else:  # a list (the API's, a saved policy's): its entries are counted, not lines
        dates, errors = parse_closed_dates("\n".join(str(day) for day in closed), label="Date")
    if errors:
        problems["closed_dates"] = " ".join(errors)
    clean["closed_dates"] = dates
    return problems, clean


def sla_policy_list() -> list[SlaPolicy]:
    """Every policy, Tier 1 first."""
    return list(SlaPolicy.objects.select_related("updated_by").order_by("tier"))


def sla_policy_for_tier(*, tier: str) -> SlaPolicy | None:
    return SlaPolicy.objects.select_related("updated_by").filter(tier=tier).first()


def sla_policy_save(*, policy: SlaPolicy, user) -> SlaPolicy:
    """Save an edited policy (or a tier's first one), recording who changed it.

    Refuses a clock that `clock_problems` finds wrong, an unknown holiday region or a bad closed date, and a
    second policy for a tier, even when two admins create it at the same moment (the unique tier decides).
    """
    if policy.tier not in TIER_LABELS:
        raise ValidationError({"tier": "Choose Tier 1, Tier 2 or Tier 3."})
    problems = clock_problems({field: getattr(policy, field) for field in CLOCK_FIELDS})
    holiday_trouble, holiday_values = holiday_fields_check({field: getattr(policy, field) for field in HOLIDAY_FIELDS})
    problems.update(holiday_trouble)
    if problems:
        raise ValidationError(problems)
    for field, value in holiday_values.items():
        setattr(policy, field, value)
    policy.working_days = sorted(set(policy.working_days))
    policy.updated_by = user
    if policy.pk is not None:
        policy.save(update_fields=[*EDITABLE_FIELDS, "updated_by", "updated_at"])
        return policy
    try:
        with transaction.atomic():
            policy.save()
    except IntegrityError:
        policy.pk = None
        raise ValidationError(
            {"tier": f"{TIER_LABELS[policy.tier]} already has an SLA policy; change that one."}
        ) from None
    return policy
