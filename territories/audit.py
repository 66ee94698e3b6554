"""What the audit page (core/audit.py) shows of territories, memberships, quotas and rep quotas in words: matching
criteria as sentences, a membership or rep quota by its person and territory, amounts in dollars. Installed by
TerritoriesConfig.ready."""

from __future__ import annotations

from accounts.criteria import criteria_sentences, money
from core.audit import audit_field, audit_name

from .models import Membership, Quota, RepQuota, Territory


def criteria_lines(items) -> list[str]:
    return criteria_sentences(i for i in (items if isinstance(items, list) else []) if isinstance(i, dict))


def membership_name(record, names) -> str:
    """ "Dana Smith in North (Rep)"."""
    return f"{names.of('user', record)} in {names.of('territory', record)} ({record.get_role_display()})"


def quota_name(record, names) -> str:
    return f"{names.of('territory', record)}, {record.period_start:%Y-%m-%d} to {record.period_end:%Y-%m-%d}"


def rep_quota_name(record, names) -> str:
    """ "Dana Smith in North, 2027-01-01 to 2027-03-31"."""
    period = f"{record.period_start:%Y-%m-%d} to {record.period_end:%Y-%m-%d}"
    return f"{names.of('user', record)} in {names.of('territory', record)}, {period}"


def audit_register() -> None:
    audit_field(Territory, "criteria", label="Matching criteria", describe=criteria_lines)
    audit_field(Territory, "is_active", label="Active")
    audit_field(Membership, "user", label="Person")
    audit_field(Membership, "max_accounts", label="Capacity (owned accounts)", empty="no limit")
    audit_field(Membership, "max_tier1_accounts", label="Tier 1 capacity", empty="no limit")
    audit_field(Membership, "is_active", label="Active")
    audit_field(Quota, "amount", describe=lambda amount: money(float(amount)))
    audit_name(Membership, membership_name)
    audit_field(RepQuota, "user", label="Rep")
    audit_field(RepQuota, "amount", describe=lambda amount: money(float(amount)))
    audit_name(Quota, quota_name)
    audit_name(RepQuota, rep_quota_name)
