"""Writes about territories themselves: their rules, named accounts, place in the hierarchy and strategy."""

from __future__ import annotations

from django.db import transaction

from core.services import row_update

from ..models import Territory

EDITABLE_FIELDS = ("name", "parent", "priority", "criteria", "strategy", "is_active")


@transaction.atomic
def territory_create(*, user=None, values: dict) -> Territory:
    """A new territory (admins); `named_accounts` in `values` are the accounts it names."""
    values = dict(values)
    named = values.pop("named_accounts", None)
    territory = Territory.objects.create(**values)
    if named is not None:
        territory.named_accounts.set(named)
    return territory


@transaction.atomic
def territory_update(*, territory: Territory, user=None, values: dict) -> Territory:
    """Change a territory on its locked row, writing only what changes. Its accounts keep their territory until the
    next assignment run (its preview shows what the new rules would move)."""
    locked, _ = row_update(territory, {name: values[name] for name in EDITABLE_FIELDS if name in values})
    if "named_accounts" in values:
        locked.named_accounts.set(values["named_accounts"])
    return locked
