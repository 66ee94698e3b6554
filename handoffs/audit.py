"""What the audit page (core/audit.py) shows of SLA policies in words: working days by name. Installed by
HandoffsConfig.ready."""

from __future__ import annotations

import calendar

from core.audit import audit_field

from .models import SlaPolicy
from .sla_calendars import country_name


def day_lines(days) -> list[str]:
    """[0, 1] -> ["Monday", "Tuesday"] (Python's weekday numbers)."""
    return [calendar.day_name[d] if isinstance(d, int) and 0 <= d <= 6 else str(d) for d in days or []]


def audit_register() -> None:
    audit_field(SlaPolicy, "accept_within_hours", label="Accept within (hours)")
    audit_field(SlaPolicy, "working_days", describe=day_lines)
    audit_field(SlaPolicy, "start_hour", label="Working day starts (hour)")
    audit_field(SlaPolicy, "end_hour", label="Working day ends (hour)")
    audit_field(SlaPolicy, "holiday_country", label="Public holidays of", describe=country_name, empty="no country")
    audit_field(SlaPolicy, "holiday_subdivision", label="State or region", empty="the whole country")
    audit_field(SlaPolicy, "closed_dates", label="Closed dates", describe=lambda days: list(days or []))
