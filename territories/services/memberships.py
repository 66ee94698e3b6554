"""Writes about territory members: joining, capacities, away dates, leaving.

Who works a territory, and how many Tier 1 accounts each may hold, is the territory's Tier 1 capacity (SPEC
section 4, rule 6). So every write here puts the territory on the capacity queue, which segmentation drains: the
accounts held at Tier 2 by capacity are released when places free up, and the overflow is held when they shrink.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import User
from django.db import transaction

from core.queues import queue_add, wake_after_commit
from core.services import row_update

from ..models import Membership, PendingCapacity, Territory

# The task that re-checks the queued territories' Tier 1: segmentation registers it under this name.
CAPACITY_TASK = "territories.capacity_queued"
EDITABLE_FIELDS = (
    "role", "max_accounts", "max_tier1_accounts", "weight", "away_from", "away_until", "is_active",
)  # fmt: skip


def capacity_changed(territory_ids: Iterable[int]) -> None:
    """Queue the territories for a Tier 1 capacity check once the caller's transaction commits."""
    if queue_add(PendingCapacity, territory_ids):
        wake_after_commit(CAPACITY_TASK)


@transaction.atomic
def membership_create(*, user: User, territory: Territory, **values) -> Membership:
    membership = Membership.objects.create(user=user, territory=territory, **values)
    capacity_changed([territory.pk])
    return membership


@transaction.atomic
def membership_update(*, membership: Membership, values: dict) -> Membership:
    """Change a member's role, capacities, away dates or activity (the caller checked it may); only what changed
    is written, on the row locked for the change."""
    locked, changed = row_update(membership, {name: values[name] for name in EDITABLE_FIELDS if name in values})
    if changed:
        capacity_changed([locked.territory_id])
    return locked


@transaction.atomic
def membership_delete(*, membership: Membership) -> None:
    territory_id = membership.territory_id
    membership.delete()
    capacity_changed([territory_id])


@transaction.atomic
def membership_ensure(*, user: User, territory: Territory, role: str) -> Membership:
    """Make `user` an active member of `territory` with `role` (rep or manager); idempotent."""
    membership, created = Membership.objects.get_or_create(user=user, territory=territory, defaults={"role": role})
    if created:
        capacity_changed([territory.pk])
        return membership
    return membership_update(membership=membership, values={"role": role, "is_active": True})
