"""The account's part of every domain event (core/events.py): who the account is and who owns it, so an outside tool
needs no second call; and the owner.changed event, written by every writer of an account's owner (the account API
and pages, merges, imports, territories' assignment and reassignment), in the writer's transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.utils import timezone

from core.events import CHUNK, Kind, Lit, name_sql, record_select, values_sql

from .models import Account

ACCOUNT_TABLE = Account._meta.db_table
USER_TABLE = get_user_model()._meta.db_table
TERRITORY_TABLE = Account._meta.get_field("territory").related_model._meta.db_table


def account_joins(column: str) -> str:
    """The joins that `account_data` reads: the account whose id is `column` (as `a`) and its owner (as `ow`)."""
    return f"JOIN {ACCOUNT_TABLE} a ON a.id = {column} LEFT JOIN {USER_TABLE} ow ON ow.id = a.owner_id"


def account_data() -> dict[str, str]:
    """What every account's event carries about the account (after `account_joins`)."""
    return {
        "account_name": "a.name",
        "account_domain": "a.domain",
        "owner_id": "a.owner_id",
        "owner_name": name_sql("ow"),
    }


def owner_changes_record(
    rows: Iterable[tuple[int, int | None, str]], *, actor_id: int | None = None, at: dt.datetime | None = None
) -> int:
    """An owner.changed event for each (account id, its owner before, why) whose owner is now another: the new owner
    is read from the account, already written. Set-based (one statement per few thousand accounts). Returns how many
    were written."""
    rows = [(int(a), None if o is None else int(o), str(r)[:200]) for a, o, r in rows]
    at = at or timezone.now()
    written = 0
    for start in range(0, len(rows), CHUNK):
        table, params = values_sql(
            [("account_id", "bigint"), ("from_owner", "bigint"), ("reason", "text")], rows[start : start + CHUNK]
        )
        written += record_select(
            Kind.OWNER_CHANGED,
            at=at,
            account="a.id",
            actor=Lit(actor_id, "bigint") if actor_id is not None else None,
            data={
                **account_data(),
                "from_owner_id": "v.from_owner",
                "from_owner_name": name_sql("fo"),
                "to_owner_id": "a.owner_id",
                "to_owner_name": name_sql("ow"),
                "territory_id": "a.territory_id",
                "territory_name": "t.name",
                "reason": "v.reason",
            },
            source=(
                f"FROM {table} {account_joins('v.account_id')} "
                f"LEFT JOIN {USER_TABLE} fo ON fo.id = v.from_owner "
                f"LEFT JOIN {TERRITORY_TABLE} t ON t.id = a.territory_id "
                "WHERE COALESCE(a.owner_id, 0) <> COALESCE(v.from_owner, 0)"
            ),
            params=params,
        )
    return written
