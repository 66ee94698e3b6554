"""What the account page shows of who works the account: who may reassign it to whom, and its ownership history."""

from __future__ import annotations

from django import template

from ..selectors import can_assign_in, territory_member_choices

register = template.Library()

HISTORY_ROWS = 20


@register.simple_tag
def account_ownership(user, account) -> dict:
    """{owner_choices: the members `user` may give the account to (None: they may not reassign it), changes: the
    latest ownership changes}."""
    may_assign = can_assign_in(user=user, territory_id=account.territory_id)
    return {
        "owner_choices": territory_member_choices(territory_id=account.territory_id) if may_assign else None,
        "changes": account.ownership_changes.select_related("from_owner", "to_owner", "changed_by")[:HISTORY_ROWS],
    }
