"""Writes about territories themselves: their rules, named accounts, place in the hierarchy and strategy.

Every change is audited (the territory's history): field changes by the history of the row, and a change of named
accounts, which the row's fields do not show, as a history entry whose reason names the accounts added and removed.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.criteria import criterion_sentence
from accounts.models import Account
from accounts.selectors import criteria_problems
from core.services import row_update

from ..models import Territory

EDITABLE_FIELDS = ("name", "parent", "priority", "criteria", "strategy", "is_active")
NAMES_IN_REASON = 3
REASON_LENGTH = 100  # the history's reason field


def territory_problems(*, territory: Territory | None, values: dict) -> dict[str, list[str]]:
    """Field -> why these values would not make a valid territory (the rules in the criterion language, a name of
    its own, no loop in the hierarchy); empty when they would."""
    problems: dict[str, list[str]] = {}
    name = values.get("name")
    if name is not None:
        same = Territory.objects.filter(name__iexact=str(name).strip())
        if territory is not None:
            same = same.exclude(pk=territory.pk)
        if same.exists():
            problems["name"] = [f"A territory named {name} already exists."]
    if "parent" in values and territory is not None and territory.pk:
        node = values["parent"]
        while node is not None:
            if node.pk == territory.pk:
                problems["parent"] = ["A territory cannot sit below itself or a territory below it."]
                break
            node = node.parent
    if "criteria" in values:
        criteria = values["criteria"]
        found = criteria_problems(criteria, with_points=False)
        messages = []
        for index, errors in sorted(found.items()):
            item = criteria[index] if 0 <= index < len(criteria) else {}
            about = (
                criterion_sentence(item.get("attribute"), item.get("operator"), item.get("value"))
                if isinstance(item, dict)
                else ""
            )
            prefix = f"Rule {index + 1}" + (f" ({about})" if about and index >= 0 else "")
            messages += [f"{prefix}: {message}" for message in errors.values()]
        if messages:
            problems["criteria"] = messages
    return problems


def _refuse(problems: dict[str, list[str]]) -> None:
    if problems:
        raise ValidationError(problems)


def _names(ids: Iterable[int]) -> str:
    ids = sorted(ids)
    names = list(Account.objects.filter(pk__in=ids).order_by("name").values_list("name", flat=True)[:NAMES_IN_REASON])
    more = len(ids) - len(names)
    return ", ".join(names) + (f" and {more:,} more" if more > 0 else "")


def _name_accounts(territory: Territory, account_ids: Iterable[int], *, replace: bool) -> tuple[set[int], set[int]]:
    """Set (replace) or add to the territory's named accounts, with a history entry naming what changed. Returns
    (added, removed) ids."""
    wanted = {int(pk) for pk in account_ids}
    before = set(territory.named_accounts.values_list("pk", flat=True))
    added = wanted - before
    removed = (before - wanted) if replace else set()
    if not added and not removed:
        return added, removed
    if added:
        territory.named_accounts.add(*added)
    if removed:
        territory.named_accounts.remove(*removed)
    parts = []
    if added:
        parts.append(f"named {_names(added)}")
    if removed:
        parts.append(f"no longer named {_names(removed)}")
    reason = "Named accounts: " + "; ".join(parts)
    territory._change_reason = reason if len(reason) <= REASON_LENGTH else reason[: REASON_LENGTH - 1] + "…"
    territory.save(update_fields=["updated_at"])  # the history entry that records the change of named accounts
    return added, removed


@transaction.atomic
def territory_create(*, user=None, values: dict) -> Territory:
    """A new territory (admins); `named_accounts` in `values` are the accounts (or ids) it names. Refused with the
    reasons (ValidationError) when its rules or place are not valid."""
    values = dict(values)
    named = values.pop("named_accounts", None)
    _refuse(territory_problems(territory=None, values=values))
    territory = Territory.objects.create(**values)
    if named:
        _name_accounts(territory, [getattr(a, "pk", a) for a in named], replace=True)
    return territory


@transaction.atomic
def territory_update(*, territory: Territory, user=None, values: dict) -> Territory:
    """Change a territory on its locked row, writing only what changes. Its accounts keep their territory until the
    next assignment run (its preview shows what the new rules would move)."""
    changes = {name: values[name] for name in EDITABLE_FIELDS if name in values}
    _refuse(territory_problems(territory=territory, values=changes))
    locked, _ = row_update(territory, changes)
    if "named_accounts" in values:
        _name_accounts(locked, [getattr(a, "pk", a) for a in values["named_accounts"]], replace=True)
    return locked


@transaction.atomic
def territory_name_accounts(*, territory: Territory, account_ids: Iterable[int]) -> set[int]:
    """Add accounts to a territory's named accounts (routing then places them there first); returns the ids added."""
    locked = Territory.objects.select_for_update().get(pk=territory.pk)
    return _name_accounts(locked, account_ids, replace=False)[0]
